"""Digital (single-use) vouchers, SUV v1 (``/suv/v1``): lookup, redeem, confirm, reverse.

A voucher's balance is its demo value minus every approved redemption that was not reversed
(pending ones included), so a reversal gives the value back and a restart forgets nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from terminal_agent.protocol.operations import Op
from terminal_agent.sim import catalogue
from terminal_agent.sim.engine import (
    Approve,
    Call,
    Decision,
    Decline,
    Handler,
    Rejected,
    Reply,
    Switch,
    amount_of,
    echo_transaction,
    error,
    format_error,
    routed,
    validated_body,
    validated_query,
)


def balance(sw: Switch, voucher: dict[str, Any]) -> int:
    redemptions = sw.store.originals_by_ref(voucher["code"], str(Op.SUV_REDEEM))
    spent = sum(o.amount or 0 for o in redemptions
                if o.outcome == "approved" and o.state != "reversed")
    return max(0, int(voucher["balance"]) - spent)


def _expired(voucher: dict[str, Any]) -> bool:
    expiry = datetime.fromisoformat(voucher["expiryDate"].replace("Z", "+00:00"))
    return expiry < datetime.now(UTC)


def _unusable(sw: Switch, voucher: dict[str, Any]) -> tuple[str, str] | None:
    if _expired(voucher):
        return "VOUCHER_NOT_REDEEMABLE", "Voucher expired"
    if balance(sw, voucher) <= 0:
        return "VOUCHER_ALREADY_REDEEMED", "Voucher already redeemed"
    return None


def _public_voucher(voucher: dict[str, Any]) -> dict[str, Any]:
    return {"serialNumber": voucher["serialNumber"], "expiryDate": voucher["expiryDate"],
            "redeemInstructions": [f"{voucher['issuer']['name']} voucher accepted as tender"]}


def lookup(sw: Switch, call: Call) -> Reply:
    q = validated_query(call)
    if call.forced:
        return error(call, *call.forced, "Declined (simulated)")
    code = q.get("voucherCode")
    if not code and not q.get("voucherSerialNumber"):
        return error(call, 400, "FORMAT_ERROR", "Invalid voucherCode: is required",
                     detail={"formatErrors": [{"field": "voucherCode", "msg": "is required"}]})
    voucher = catalogue.suv_voucher(code) if code else None
    if voucher is None and not code:
        voucher = next((v for v in catalogue.data()["suv_vouchers"]
                        if v["serialNumber"] == q["voucherSerialNumber"]), None)
    if voucher is None:
        return error(call, 404, "UNABLE_TO_LOCATE_RECORD", "Unknown voucher")
    unusable = _unusable(sw, voucher)
    if unusable:
        return error(call, 400, *unusable)
    left = balance(sw, voucher)
    return Reply(call.spec.status, {
        "voucher": _public_voucher(voucher),
        "settlementEntity": catalogue.settlement_entity(),
        "receiver": voucher["issuer"],
        "amounts": {"approvedAmount": catalogue.money(left, indicator="CREDIT"),
                    "balanceAmount": catalogue.money(left, indicator="CREDIT")},
        "product": {"productId": "SUV" + voucher["issuer"]["id"],
                    "name": voucher["issuer"]["name"] + " voucher"},
    })


def require_code(call: Call) -> dict[str, Any]:
    """The Swagger's ``Voucher.code``: optional in the model, but "must be present in
    ProvisionResponse, RedemptionRequest and RefundRequest messages"."""
    body = validated_body(call)
    if not (body.get("voucher") or {}).get("code"):
        raise Rejected(format_error(call, "voucher.code", "is required"))
    return body


def redeem(sw: Switch, call: Call) -> Reply:
    require_code(call)

    def decide(body: dict[str, Any]) -> Decision:
        code = body["voucher"]["code"]
        asked = amount_of((body.get("amounts") or {}).get("requestAmount"))
        voucher = catalogue.suv_voucher(code)
        if voucher is None:
            return Decline(400, "INVALID_VOUCHER", "Unknown voucher", amount=asked)
        unusable = _unusable(sw, voucher)
        if unusable:
            return Decline(400, *unusable, amount=asked, ref=code)
        left = balance(sw, voucher)
        amount = left if asked is None else asked
        if amount <= 0:
            return Decline(400, "INVALID_AMOUNT", "Amount must be positive", amount=asked,
                           ref=code)
        if amount > left:
            return Decline(400, "INSUFFICIENT_AMOUNT", "Voucher balance too low", amount=asked,
                           ref=code, detail={"balance": left})
        if amount % 100 == 13:
            return Decline(400, "INSUFFICIENT_FUNDS", "Declined by the issuer", amount=asked,
                           ref=code)
        resp = echo_transaction(body)
        routed(resp, voucher["issuer"])
        resp["voucher"] = {"code": code, **_public_voucher(voucher)}
        amounts = dict(body.get("amounts") or {})
        amounts["approvedAmount"] = catalogue.money(amount)
        amounts["balanceAmount"] = catalogue.money(left - amount)
        resp["amounts"] = amounts
        resp["slipData"] = {"messageLines": [
            {"text": f"{voucher['issuer']['name']} voucher"},
            {"text": f"Redeemed R{amount / 100:.2f}"},
            {"text": f"Balance R{(left - amount) / 100:.2f}"},
        ], "slipWidth": 40}
        return Approve(resp, amount, code, headers={"Location": f"{call.path}/{body['id']}"})

    return sw.original(call, decide)


def advice(sw: Switch, call: Call) -> Reply:
    return sw.advice(call)


HANDLERS: dict[Op, Handler] = {
    Op.SUV_LOOKUP: lookup,
    Op.SUV_REDEEM: redeem,
    Op.SUV_REDEEM_CONFIRM: advice,
    Op.SUV_REDEEM_REVERSE: advice,
}
