"""Demo data of the simulator: South African operators, products, customers, orders, vouchers.

The raw data is ``demo_data.json`` beside this module; this module turns it into protocol-shaped
dicts (products with channels, MSISDN lookups, fee quotes, exchange rates).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

ZAR = "710"


@dataclass(frozen=True)
class Operator:
    code: str
    id: str
    name: str
    prefixes: tuple[str, ...]
    ussd: str
    help: str
    promotion: dict[str, Any] | None

    @property
    def institution(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


@cache
def data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("demo_data.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def money(amount: int, currency: str = ZAR, indicator: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"amount": amount, "currency": currency}
    if indicator:
        out["ledgerIndicator"] = indicator
    return out


def settlement_entity() -> dict[str, str]:
    return dict(data()["settlement_entity"])


@cache
def operators() -> tuple[Operator, ...]:
    return tuple(
        Operator(o["code"], o["id"], o["name"], tuple(o["prefixes"]), o["ussd"], o["help"],
                 o["promotion"]) for o in data()["operators"])


def operator_for_msisdn(msisdn: str) -> Operator | None:
    digits = msisdn.lstrip("+")
    if not (digits.startswith("27") and len(digits) == 11):
        return None
    for op in operators():
        if digits[2:4] in op.prefixes:
            return op
    return None


def operator_by(code_or_name: str) -> Operator | None:
    key = code_or_name.strip().lower()
    for op in operators():
        if key in (op.code.lower(), op.id.lower(), op.name.lower()):
            return op
    return None


@cache
def _products() -> tuple[tuple[Operator, dict[str, Any]], ...]:
    out = []
    for op in operators():
        for n, t in enumerate(data()["product_templates"], start=1):
            p: dict[str, Any] = {
                "productId": op.code + t["suffix"],
                "name": t["name"].format(op=op.name),
                "type": t["type"],
                "isDirectTopup": t["direct"],
                "operator": op.institution,
                "description": {"shortDescription": t["category"]},
            }
            if t["value"] is not None:
                p["productValues"] = [money(t["value"])]
                p["wholesalePrice"] = money(round(t["value"] * 0.95))
                p["recipientAmount"] = money(t["value"])
            if "validity" in t:
                p["validityPeriod"] = dict(t["validity"])
            if "contents" in t:
                p["productContents"] = [dict(c) for c in t["contents"]]
            p["_category"] = t["category"]
            p["_sort"] = n
            out.append((op, p))
    return tuple(out)


def _public(p: dict[str, Any], channel: str | None) -> dict[str, Any]:
    out = {k: v for k, v in p.items() if not k.startswith("_")}
    if channel:
        out["channels"] = [{
            "channelName": channel, "productDisplayName": p["name"][:50],
            "productDisplayCategory": p["_category"], "productDisplaySortOrder": float(p["_sort"]),
            "channelProductIdentifier": p["productId"],
        }]
    return json.loads(json.dumps(out))


def products(channel: str | None = None, operator: Operator | None = None,
             product_type: str | None = None, category: str | None = None) -> list[dict[str, Any]]:
    """The catalogue, each product listed under the asking channel."""
    return [
        _public(p, channel) for op, p in _products()
        if (operator is None or op == operator)
        and (product_type is None or p["type"] == product_type)
        and (category is None or p["_category"].lower() == category.lower())
    ]


def product(product_id: str) -> tuple[Operator, dict[str, Any]] | None:
    for op, p in _products():
        if p["productId"].lower() == product_id.lower():
            return op, _public(p, None)
    return None


def face_value(p: dict[str, Any]) -> int | None:
    values = p.get("productValues") or []
    return values[0]["amount"] if values else None


# -- money transfer ---------------------------------------------------------------------------
def mt_receiver(receiver_id: str | None) -> dict[str, str]:
    for r in data()["mt_receivers"]:
        if r["id"] == receiver_id:
            return dict(r)
    return dict(data()["mt_receivers"][0]) if receiver_id is None else {
        "id": receiver_id, "name": "Money Transfer Provider"}


def demo_customers() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = json.loads(json.dumps(data()["customers"]))
    return out


def demo_orders() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = json.loads(json.dumps(data()["orders"]))
    return out


def fee_for(transfer: int) -> int:
    for tier in data()["fee_tiers"]:
        if tier["up_to"] is None or transfer <= tier["up_to"]:
            if "fee" in tier:
                return int(tier["fee"])
            return math.ceil(transfer * tier["fee_percent"] / 100)
    raise AssertionError("the last fee tier is open-ended")


def fee_quote(amount: int, includes_fee: bool) -> dict[str, Any]:
    """``includes_fee``: ``amount`` is the sender's total; else what the recipient gets."""
    if includes_fee:
        lo, hi = 0, amount  # the largest transfer whose transfer + fee fits in amount
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if mid + fee_for(mid) <= amount:
                lo = mid
            else:
                hi = mid - 1
        transfer, total = lo, amount
        fee = total - transfer
    else:
        transfer, fee = amount, fee_for(amount)
        total = amount + fee
    return {"feeAmount": money(fee), "transferAmount": money(transfer),
            "totalAmount": money(total)}


def exchange_rate(from_currency: str, to_currency: str) -> float | None:
    rates = data()["exchange_rates"]
    if from_currency in rates and to_currency in rates[from_currency]:
        return float(rates[from_currency][to_currency])
    if to_currency in rates and from_currency in rates[to_currency]:
        return round(1 / float(rates[to_currency][from_currency]), 6)
    return None


# -- digital vouchers (SUV) -------------------------------------------------------------------
def suv_voucher(code: str) -> dict[str, Any] | None:
    """A demo voucher by code. Besides the fixed list, any code ``DV<cents>`` (e.g. ``DV5000``)
    is a fresh voucher worth that many cents, so tests can mint their own."""
    for v in data()["suv_vouchers"]:
        if v["code"] == code:
            return dict(v)
    if code.startswith("DV") and code[2:].isdigit() and 0 < len(code) <= 14:
        return {"code": code, "serialNumber": "SN" + code[2:].rjust(10, "0"),
                "balance": int(code[2:]), "issuer": suv_default_issuer(),
                "expiryDate": "2030-12-31T23:59:59.000Z"}
    return None


def suv_product(product_id: str) -> dict[str, Any] | None:
    """A digital voucher product the simulator provisions (``value`` None: any amount)."""
    for p in data()["suv_products"]:
        if p["productId"].lower() == product_id.lower():
            return dict(p)
    return None


def suv_default_issuer() -> dict[str, str]:
    return dict(data()["suv_default_issuer"])
