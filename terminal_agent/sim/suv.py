"""Digital (single-use) vouchers, SUV v1 (``/suv/v1``): the whole interface.

Provision (``POST /vouchers`` + confirmations, reversals), lookup (``GET /vouchers``), redemption
(``POST /redemptions`` + confirmations, reversals, and ``GET /redemptions/{requestId}``) and
refund (``POST /refunds`` + confirmations, reversals). The rules:

1. Vouchers are the demo ones (``catalogue``) and those provisioned here. A provisioned voucher
   can be redeemed once its provision is confirmed (before: ``VOUCHER_NOT_REDEEMABLE``); after a
   provision reversal it is void (``VOUCHER_ALREADY_REVERSED``). A client-chosen ``voucher.code``
   that already exists is ``VOUCHER_ALREADY_PROVISIONED``.
2. A voucher's balance is its value, minus every approved redemption not reversed (pending ones
   included), plus every refund once confirmed (Electrum's test server makes a refunded voucher
   usable again on the refund's confirmation). So a reversal gives the value back at once.
3. A refund names its redemption by ``redemptionId`` or ``receiverTransactionRef``, else it takes
   the voucher's latest redemption not yet refunded. It needs a confirmed redemption
   (pending: ``REDEMPTION_NOT_CONFIRMED``; none or reversed: ``VOUCHER_NOT_REDEEMED``), one refund
   per redemption (``VOUCHER_ALREADY_REFUNDED``), and at most the redeemed amount.
4. ``GET /redemptions/{requestId}`` answers the original answer again (its 2xx body, or its
   status and ErrorDetail), 404 for an id never received, 403 to another Basic-auth user.
5. Advices follow ``engine``: idempotent, 404 for an unknown original, and the SUV types for the
   other way round (``VOUCHER_ALREADY_CONFIRMED``/``_REVERSED``,
   ``REDEMPTION_ALREADY_CONFIRMED``/``_REVERSED``, ``REFUND_ALREADY_CONFIRMED``/``_REVERSED``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from terminal_agent.sim.store import Original

MAX_VALUE = 500_000  # R5000.00 per provisioned voucher


@dataclass
class Voucher:
    code: str
    serial: str
    value: int
    issuer: dict[str, Any]
    expiry: str
    provision: Original | None = None  # None for a demo voucher



def voucher_words(issuer: str) -> str:
    """ "Blu Voucher" stays "Blu Voucher" (never "Blu Voucher voucher"); "Stellr" is "Stellr
    voucher"."""
    return issuer if issuer.lower().endswith("voucher") else f"{issuer} voucher"

def _now_ms(delta: timedelta = timedelta()) -> str:
    t = datetime.now(UTC) + delta
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


# -- vouchers ---------------------------------------------------------------------------------
def _demo(v: dict[str, Any]) -> Voucher:
    return Voucher(v["code"], v["serialNumber"], int(v["balance"]), v["issuer"], v["expiryDate"])


def _provisioned(o: Original) -> Voucher:
    v = o.response["voucher"]
    return Voucher(v["code"], v["serialNumber"], o.amount or 0, o.aux["issuer"], v["expiryDate"],
                   o)


def find_voucher(sw: Switch, *, code: str | None = None, serial: str | None = None,
                 provision_id: str | None = None) -> Voucher | None:
    if code:
        demo = catalogue.suv_voucher(code)
        if demo is not None:
            return _demo(demo)
        issued = [o for o in sw.store.originals_by_ref(code, str(Op.SUV_PROVISION))
                  if o.outcome == "approved"]
        return _provisioned(issued[-1]) if issued else None
    if serial:
        for v in catalogue.data()["suv_vouchers"]:
            if v["serialNumber"] == serial:
                return _demo(v)
        return next((_provisioned(o) for o in sw.store.originals_of(str(Op.SUV_PROVISION))
                     if o.outcome == "approved" and o.aux.get("serial") == serial), None)
    if provision_id:
        o = sw.store.get_original(provision_id)
        if o is not None and o.operation == str(Op.SUV_PROVISION) and o.outcome == "approved":
            return _provisioned(o)
    return None


def _live(originals: list[Original]) -> list[Original]:
    return [o for o in originals if o.outcome == "approved" and o.state != "reversed"]


def balance(sw: Switch, voucher: Voucher) -> int:
    spent = sum(o.amount or 0 for o in _live(sw.store.originals_by_ref(voucher.code,
                                                                     str(Op.SUV_REDEEM))))
    back = sum(o.amount or 0 for o in sw.store.originals_by_ref(voucher.code, str(Op.SUV_REFUND))
               if o.outcome == "approved" and o.state == "confirmed")
    return max(0, voucher.value - spent + back)


def _unusable(sw: Switch, voucher: Voucher) -> tuple[str, str] | None:
    provision = voucher.provision
    if provision is not None and provision.state == "reversed":
        return "VOUCHER_ALREADY_REVERSED", "Voucher provision was reversed"
    if provision is not None and provision.state != "confirmed":
        return "VOUCHER_NOT_REDEEMABLE", "Voucher provision not confirmed yet"
    expiry = datetime.fromisoformat(voucher.expiry.replace("Z", "+00:00"))
    if expiry < datetime.now(UTC):
        return "VOUCHER_NOT_REDEEMABLE", "Voucher expired"
    if balance(sw, voucher) <= 0:
        return "VOUCHER_ALREADY_REDEEMED", "Voucher already redeemed"
    return None


def _public(voucher: Voucher) -> dict[str, Any]:
    return {"serialNumber": voucher.serial, "expiryDate": voucher.expiry,
            "redeemInstructions": [f"{voucher_words(voucher.issuer['name'])} accepted as tender"]}


def _slip(*lines: str) -> dict[str, Any]:
    return {"messageLines": [{"text": t[:40]} for t in lines], "slipWidth": 40}


def _tendered(sw: Switch, body: dict[str, Any]) -> tuple[str, int | None, Voucher | Decline]:
    """(code, requested amount, the voucher or INVALID_VOUCHER) of a redemption or refund."""
    code = body["voucher"]["code"]
    asked = amount_of((body.get("amounts") or {}).get("requestAmount"))
    voucher = find_voucher(sw, code=code)
    if voucher is None:
        return code, asked, Decline(400, "INVALID_VOUCHER", "Unknown voucher", amount=asked)
    return code, asked, voucher


def require_code(call: Call) -> dict[str, Any]:
    """The Swagger's ``Voucher.code``: optional in the model, but "must be present in
    ProvisionResponse, RedemptionRequest and RefundRequest messages"."""
    body = validated_body(call)
    if not (body.get("voucher") or {}).get("code"):
        raise Rejected(format_error(call, "voucher.code", "is required"))
    return body


# -- lookup -----------------------------------------------------------------------------------
def lookup(sw: Switch, call: Call) -> Reply:
    q = validated_query(call)
    if call.forced:
        return error(call, *call.forced, "Declined (simulated)")
    keys = ("voucherCode", "voucherSerialNumber", "provisionRequestId")
    if not any(q.get(k) for k in keys):
        return format_error(call, "voucherCode",
                            "one of voucherCode, voucherSerialNumber, provisionRequestId is "
                            "required")
    voucher = find_voucher(sw, code=q.get("voucherCode"), serial=q.get("voucherSerialNumber"),
                           provision_id=q.get("provisionRequestId"))
    if voucher is None:
        return error(call, 404, "UNABLE_TO_LOCATE_RECORD", "Unknown voucher")
    unusable = _unusable(sw, voucher)
    if unusable:
        return error(call, 400, *unusable)
    left = catalogue.money(balance(sw, voucher), indicator="CREDIT")
    return Reply(call.spec.status, {
        "voucher": _public(voucher),
        "settlementEntity": catalogue.settlement_entity(),
        "receiver": voucher.issuer,
        "amounts": {"approvedAmount": left, "balanceAmount": dict(left)},
        "product": {"productId": "SUV" + voucher.issuer["id"],
                    "name": voucher_words(voucher.issuer["name"])},
    })


# -- provision --------------------------------------------------------------------------------
def _value(body: dict[str, Any]) -> tuple[int | None, dict[str, Any] | None, str]:
    """(value, product, why not) of a provision request."""
    product_id = (body.get("product") or {}).get("productId")
    product = catalogue.suv_product(product_id) if product_id else None
    asked = amount_of((body.get("amounts") or {}).get("requestAmount"))
    fixed = (product or {}).get("value")
    if fixed is not None and asked is not None and asked != fixed:
        return None, product, f"{product_id} is worth {fixed} cents only"
    value = fixed if fixed is not None else asked
    if value is None:
        return None, product, "No value: send amounts.requestAmount"
    if not 0 < value <= MAX_VALUE:
        return None, product, "Amount outside 1 cent to R5000.00"
    return value, product, ""


def _new_code(sw: Switch) -> str:
    while True:
        code = "7" + "".join(str(secrets.randbelow(10)) for _ in range(15))
        if find_voucher(sw, code=code) is None:
            return code


def provision(sw: Switch, call: Call) -> Reply:
    def decide(body: dict[str, Any]) -> Decision:
        value, product, why = _value(body)
        if value is None:
            return Decline(400, "INVALID_AMOUNT", why)
        if value % 100 == 13:
            return Decline(400, "DO_NOT_HONOUR", "Declined by the vendor", amount=value)
        wanted = (body.get("voucher") or {}).get("code")
        if wanted and find_voucher(sw, code=wanted) is not None:
            return Decline(400, "VOUCHER_ALREADY_PROVISIONED", "Voucher code already issued",
                           amount=value)
        issuer = (product or {}).get("issuer") or catalogue.suv_default_issuer()
        code = wanted or _new_code(sw)
        serial = f"SV{sw.store.next_number('suv_serial'):010d}"
        resp = echo_transaction(body)
        routed(resp, issuer)
        voucher = {"code": code, "serialNumber": serial, "expiryDate": _now_ms(timedelta(days=365)),
                   "redeemInstructions": [f"Use as tender wherever {issuer['name']} is accepted"]}
        resp.update({"voucher": voucher, "amounts": {"approvedAmount": catalogue.money(value)}})
        if body.get("product"):
            resp["product"] = body["product"]  # "echoed back for convenience"
        resp["slipData"] = _slip(voucher_words(issuer['name']), f"Value R{value / 100:.2f}",
                                 f"Serial {serial}")
        return Approve(resp, value, code, {"issuer": issuer, "serial": serial},
                       headers={"Location": f"{call.path}/{body['id']}"})

    return sw.original(call, decide)


# -- redemption -------------------------------------------------------------------------------
def redeem(sw: Switch, call: Call) -> Reply:
    require_code(call)

    def decide(body: dict[str, Any]) -> Decision:
        code, asked, voucher = _tendered(sw, body)
        if isinstance(voucher, Decline):
            return voucher
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
        routed(resp, voucher.issuer)
        resp["voucher"] = {"code": code, **_public(voucher)}
        amounts = dict(body.get("amounts") or {})
        amounts["approvedAmount"] = catalogue.money(amount)
        amounts["balanceAmount"] = catalogue.money(left - amount)
        resp["amounts"] = amounts
        resp["slipData"] = _slip(voucher_words(voucher.issuer['name']),
                                 f"Redeemed R{amount / 100:.2f}",
                                 f"Balance R{(left - amount) / 100:.2f}")
        return Approve(resp, amount, code, headers={"Location": f"{call.path}/{body['id']}"})

    return sw.original(call, decide)


def redemption_status(sw: Switch, call: Call) -> Reply:
    request_id = call.params["requestId"]
    if call.forced:
        return error(call, *call.forced, "Declined (simulated)", original_id=request_id)
    original = sw.store.get_original(request_id)
    if original is None or original.operation != str(Op.SUV_REDEEM):
        return error(call, 404, "UNABLE_TO_LOCATE_RECORD", "Redemption never received",
                     original_id=request_id)
    if original.aux.get("user") not in (None, call.user):
        return error(call, 403, "AUTHENTICATION_ERROR", "Another client's redemption",
                     original_id=request_id)
    if original.outcome == "approved":
        return Reply(200, original.response)
    return Reply(original.status, original.response)


# -- refund -----------------------------------------------------------------------------------
def _refunded(sw: Switch, code: str, redemption_id: str) -> bool:
    return any(o.aux.get("redemption") == redemption_id
               for o in _live(sw.store.originals_by_ref(code, str(Op.SUV_REFUND))))


def _named_redemption(sw: Switch, body: dict[str, Any], code: str) -> Original | Decline | None:
    """The redemption a refund names (``redemptionId`` / ``receiverTransactionRef``), or None
    when it names none."""
    redemptions = [o for o in sw.store.originals_by_ref(code, str(Op.SUV_REDEEM))
                   if o.outcome == "approved"]
    if body.get("redemptionId"):
        found = [o for o in redemptions if o.id == body["redemptionId"]]
    elif body.get("receiverTransactionRef"):
        ref = body["receiverTransactionRef"]
        found = [o for o in redemptions
                 if any(isinstance(t, dict) and t.get("transactionIdentifier") == ref
                        for t in (o.response or {}).get("thirdPartyIdentifiers", []))]
    else:
        return None
    return found[0] if found else Decline(400, "UNABLE_TO_LOCATE_RECORD",
                                          "No such redemption of this voucher", ref=code)


def _redemption_to_refund(sw: Switch, body: dict[str, Any], code: str) -> Original | Decline:
    named = _named_redemption(sw, body, code)
    if named is None:
        live = _live(sw.store.originals_by_ref(code, str(Op.SUV_REDEEM)))
        if not live:
            return Decline(400, "VOUCHER_NOT_REDEEMED", "Voucher has no redemption", ref=code)
        open_ = [o for o in live if not _refunded(sw, code, o.id)]
        named = open_[-1] if open_ else live[-1]
    if isinstance(named, Decline):
        return named
    if named.state == "reversed":
        return Decline(400, "VOUCHER_NOT_REDEEMED", "That redemption was reversed", ref=code)
    if named.state != "confirmed":
        return Decline(400, "REDEMPTION_NOT_CONFIRMED", "Redemption not confirmed yet", ref=code)
    if _refunded(sw, code, named.id):
        return Decline(400, "VOUCHER_ALREADY_REFUNDED", "Redemption already refunded", ref=code)
    return named


def refund(sw: Switch, call: Call) -> Reply:
    require_code(call)

    def decide(body: dict[str, Any]) -> Decision:
        code, asked, voucher = _tendered(sw, body)
        if isinstance(voucher, Decline):
            return voucher
        redemption = _redemption_to_refund(sw, body, code)
        if isinstance(redemption, Decline):
            redemption.amount = asked
            return redemption
        amount = (redemption.amount or 0) if asked is None else asked
        if not 0 < amount <= (redemption.amount or 0):
            return Decline(400, "INVALID_AMOUNT", "Refund more than was redeemed", amount=asked,
                           ref=code)
        resp = echo_transaction(body)
        routed(resp, voucher.issuer)
        resp["voucher"] = {"code": code, **_public(voucher)}
        resp["amounts"] = {**(body.get("amounts") or {}),
                           "approvedAmount": catalogue.money(amount)}
        resp["slipData"] = _slip(voucher_words(voucher.issuer['name']),
                                 f"Refunded R{amount / 100:.2f}")
        return Approve(resp, amount, code, {"redemption": redemption.id},
                       headers={"Location": f"{call.path}/{body['id']}"})

    return sw.original(call, decide)


def advice(sw: Switch, call: Call) -> Reply:
    return sw.advice(call)


HANDLERS: dict[Op, Handler] = {
    Op.SUV_LOOKUP: lookup,
    Op.SUV_PROVISION: provision,
    Op.SUV_PROVISION_CONFIRM: advice,
    Op.SUV_PROVISION_REVERSE: advice,
    Op.SUV_REDEEM: redeem,
    Op.SUV_REDEEM_CONFIRM: advice,
    Op.SUV_REDEEM_REVERSE: advice,
    Op.SUV_REDEEM_STATUS: redemption_status,
    Op.SUV_REFUND: refund,
    Op.SUV_REFUND_CONFIRM: advice,
    Op.SUV_REFUND_REVERSE: advice,
}
