"""Airtime v5 (``/airtime/v5``): vouchers, purchases, trials, status, MSISDN lookup, products."""

from __future__ import annotations

import secrets
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
    transaction_ref,
    validated_body,
    validated_query,
)

INVALID_MSISDN = "27000000000"
MAX_AMOUNT = 100_000  # R1000.00 per airtime sale
PENDING_THEN_APPROVED = "0404"
PENDING_THEN_DECLINED = "0505"
VARIABLE_TYPES = frozenset({"AIRTIME_VARIABLE", "DATA_VARIABLE"})


def _now_ms(delta: timedelta = timedelta()) -> str:
    t = datetime.now(UTC) + delta
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _digits(n: int) -> str:
    return str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(n - 1))


def _msisdn(body: dict[str, Any]) -> str | None:
    m = body.get("recipientMsisdn")
    return m.get("msisdn") if isinstance(m, dict) else None


def _requested(body: dict[str, Any]) -> int | None:
    amounts = body.get("amounts") or {}
    return amount_of(amounts.get("requestAmount"))


class Sale:
    """What an airtime request asks for, resolved against the catalogue."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.product_id: str = body["product"]["productId"]
        self.msisdn = _msisdn(body)
        found = catalogue.product(self.product_id)
        self.known = found is not None
        number_op = catalogue.operator_for_msisdn(self.msisdn) if self.msisdn else None
        self.operator = found[0] if found else (number_op or catalogue.operators()[0])
        self.number_operator = number_op
        product = dict(found[1]) if found else {"name": f"{self.operator.name} Airtime",
                                                "type": "AIRTIME_FIXED"}
        self.product = {**product, **body["product"]}
        for k in ("name", "type", "isDirectTopup", "operator"):
            if found and k in found[1]:
                self.product[k] = found[1][k]
        self.direct = bool(self.product.get("isDirectTopup"))
        self.variable = self.product.get("type") in VARIABLE_TYPES
        requested = _requested(body)
        self.amount = requested if requested is not None else catalogue.face_value(self.product)


def _check(call: Call, sale: Sale) -> Decline | None:
    """The deterministic declines (see the package docstring)."""
    pid = sale.product_id.upper()
    if pid == "OUTOFSTOCK":
        return Decline(400, "OUT_OF_STOCK", "Product out of stock", amount=sale.amount)
    if pid == "INVALIDPRODUCT":
        return Decline(400, "INVALID_PRODUCT", "Unknown product", amount=sale.amount)
    if pid == "NOTRIAL" and call.op == Op.PURCHASE_TRIAL:
        return Decline(400, "FUNCTION_NOT_SUPPORTED", "Provider has no trial",
                       amount=sale.amount)
    if sale.msisdn is not None and sale.msisdn.lstrip("+") == INVALID_MSISDN:
        return Decline(400, "INVALID_MSISDN", "Invalid MSISDN", amount=sale.amount)
    if (sale.known and sale.direct and sale.number_operator is not None
            and sale.number_operator != sale.operator):
        return Decline(400, "INVALID_MSISDN", f"Number is not on {sale.operator.name}",
                       amount=sale.amount)
    if sale.product.get("isDirectTopup") and sale.msisdn is None:
        raise Rejected(format_error(call, "recipientMsisdn", "is required for a direct top-up"))
    if sale.amount is None and sale.variable:
        raise Rejected(format_error(call, "amounts.requestAmount",
                                    "is required for a variable-value product"))
    if sale.amount is None:
        return None
    if sale.amount <= 0:
        return Decline(400, "INVALID_AMOUNT", "Amount must be positive", amount=sale.amount)
    if sale.amount > MAX_AMOUNT:
        return Decline(400, "LIMIT_EXCEEDED", "Amount over R1000 limit", amount=sale.amount)
    if sale.amount % 100 == 13:
        return Decline(400, "INSUFFICIENT_FUNDS", "Insufficient funds", amount=sale.amount)
    return None


def _voucher(sale: Sale) -> dict[str, Any]:
    pin = _digits(16)
    return {
        "pin": pin,
        "expiryDate": _now_ms(timedelta(days=365)),
        "serialNumber": _digits(12),
        "batchNumber": _digits(8),
        "redeemInstructions": [
            "To recharge dial " + sale.operator.ussd.format(pin="<PIN>"),
            f"{sale.operator.name} customer care: {sale.operator.help}",
        ],
    }


def _slip(sale: Sale, body: dict[str, Any]) -> dict[str, Any]:
    name = str(sale.product.get("name", sale.product_id))
    lines = [name if name.startswith(sale.operator.name) else f"{sale.operator.name} {name}"]
    if sale.direct and sale.msisdn:
        lines.append(f"Recharged: {sale.msisdn[:4]}****{sale.msisdn[-3:]}")
    lines.append("Queries: contact your network operator.")
    return {
        "messageLines": [{"text": t[:40]} for t in lines],
        "slipWidth": 40,
        "issuerReference": transaction_ref(body["id"], "EL", 12),
    }


def _sale_response(call: Call, sale: Sale, *, voucher: bool) -> dict[str, Any]:
    body = sale.body
    resp = echo_transaction(body)
    routed(resp, sale.operator.institution)
    amounts: dict[str, Any] = {}
    if "amounts" in body and isinstance(body["amounts"], dict):
        amounts.update(body["amounts"])
    if sale.amount is not None:
        amounts["approvedAmount"] = catalogue.money(sale.amount)
    if amounts:
        resp["amounts"] = amounts
    resp["slipData"] = _slip(sale, body)
    if call.op == Op.VOUCHER_PROVISION:
        resp["responseProduct"] = sale.product
    else:
        resp["product"] = sale.product
        if sale.msisdn:
            resp["msisdn"] = {"msisdn": sale.msisdn, "country": "ZA",
                              "operator": sale.operator.institution}
    if voucher:
        resp["voucher"] = _voucher(sale)
    return resp


def _purchase_reference(resp: dict[str, Any]) -> str:
    for tpi in resp.get("thirdPartyIdentifiers", []):
        if isinstance(tpi, dict) and tpi.get("institutionId") == resp["settlementEntity"]["id"]:
            return str(tpi.get("transactionIdentifier"))
    return str(resp["id"])


def _decide_sale(call: Call) -> Any:
    def decide(body: dict[str, Any]) -> Decision:
        sale = Sale(body)
        declined = _check(call, sale)
        if declined is not None:
            return declined
        give_voucher = call.op == Op.VOUCHER_PROVISION or (
            call.op == Op.PURCHASE and not sale.direct)
        resp = _sale_response(call, sale, voucher=give_voucher)
        headers = {"Location": call.path} if call.op == Op.VOUCHER_PROVISION else {}
        if call.op == Op.PURCHASE:
            ref = _purchase_reference(resp)
            aux: dict[str, Any] = {"provider": resp["settlementEntity"]["name"]}
            tail = (sale.msisdn or "")[-4:]
            if sale.direct and tail == PENDING_THEN_DECLINED:
                return Decline(400, "DECLINED_BY_MNO", "Declined by the network",
                               amount=sale.amount, ref=ref, aux={**aux, "pending_lookups": 1},
                               first_answer=_outcome_unknown(call))
            if sale.direct and tail == PENDING_THEN_APPROVED:
                aux["pending_lookups"] = 1
                return Approve(resp, sale.amount, ref, aux, first_answer=_outcome_unknown(call))
            return Approve(resp, sale.amount, ref, aux)
        return Approve(resp, sale.amount, headers=headers)
    return decide


def _outcome_unknown(call: Call) -> Reply:
    return error(call, 504, "OUTCOME_UNKNOWN", "Upstream outcome unknown")


# -- handlers ---------------------------------------------------------------------------------
def voucher_provision(sw: Switch, call: Call) -> Reply:
    body = validated_body(call)
    if call.params.get("requestId") != body["id"]:
        return format_error(call, "id", "must equal the requestId in the path", body["id"])
    return sw.original(call, _decide_sale(call))


def purchase(sw: Switch, call: Call) -> Reply:
    return sw.original(call, _decide_sale(call))


def purchase_trial(sw: Switch, call: Call) -> Reply:
    body = validated_body(call)
    if call.forced:
        return error(call, *call.forced, "Declined (simulated)")
    sale = Sale(body)
    declined = _check(call, sale)
    if declined is not None:
        return error(call, declined.status, declined.error_type, declined.message)
    return Reply(call.spec.status, _sale_response(call, sale, voucher=False))


def voucher_advice(sw: Switch, call: Call) -> Reply:
    body = validated_body(call)
    if call.params.get("requestId") != body["requestId"]:
        return format_error(call, "requestId", "must equal the requestId in the path",
                            body["requestId"])
    own = call.params.get("confirmationId") or call.params.get("reversalId")
    if own != body["id"]:
        return format_error(call, "id", "must equal the advice id in the path", body["id"])
    return sw.advice(call, body)


def advice(sw: Switch, call: Call) -> Reply:
    return sw.advice(call)


def purchase_status(sw: Switch, call: Call) -> Reply:
    q = validated_query(call)
    wanted = q.get("originalMsgId")
    original = None
    if wanted:
        original = sw.store.get_original(wanted)
    else:
        for candidate in sw.store.originals_by_ref(q["purchaseReference"], str(Op.PURCHASE)):
            if q["provider"] in (candidate.aux.get("provider"),
                                 (candidate.response or {}).get("settlementEntity", {}).get("id")):
                original = candidate
    if original is None or original.interface != "airtime":
        return error(call, 404, "UNABLE_TO_LOCATE_RECORD", "Original purchase not found",
                     original_id=wanted or q.get("purchaseReference"))
    if call.forced:
        return error(call, *call.forced, "Declined (simulated)", original_id=original.id)
    lookups = sw.store.count_lookup(original.id)
    if lookups <= int(original.aux.get("pending_lookups", 0)):
        return error(call, 504, "OUTCOME_UNKNOWN", "Purchase still in progress",
                     original_id=original.id)
    if original.state == "reversed":
        return error(call, 400, "ACCOUNT_ALREADY_SETTLED", "Purchase was reversed",
                     original_id=original.id)
    if original.outcome == "approved":
        return Reply(call.spec.status, original.response)
    return Reply(original.status, original.response)


def msisdn_lookup(sw: Switch, call: Call) -> Reply:
    q = validated_query(call)
    msisdn = q["msisdn"]
    if call.forced:
        return error(call, *call.forced, "Declined (simulated)")
    if msisdn.lstrip("+") == INVALID_MSISDN:
        return error(call, 400, "INVALID_MSISDN", "Invalid MSISDN")
    op = catalogue.operator_for_msisdn(msisdn)
    hint = q.get("operator")
    if op is None and hint:
        op = catalogue.operator_by(hint)
    info: dict[str, Any] = {"msisdn": msisdn}
    if msisdn.lstrip("+").startswith("27"):
        info["country"] = "ZA"
    if op is None:  # a well-formed number of no operator we know: its info, and no products
        return Reply(call.spec.status, {"msisdn": info, "availableProducts": []})
    info["operator"] = op.institution
    body: dict[str, Any] = {
        "msisdn": info,
        "availableProducts": catalogue.products(q.get("channelName"), op, q.get("productType"),
                                                q.get("productCategory")),
    }
    if op.promotion:
        body["promotion"] = dict(op.promotion)
    return Reply(call.spec.status, body)


def list_products(sw: Switch, call: Call) -> Reply:
    q = validated_query(call)
    if call.forced:
        return error(call, *call.forced, "Declined (simulated)")
    return Reply(call.spec.status, catalogue.products(q["channelName"]))


HANDLERS: dict[Op, Handler] = {
    Op.VOUCHER_PROVISION: voucher_provision,
    Op.VOUCHER_CONFIRM: voucher_advice,
    Op.VOUCHER_REVERSE: voucher_advice,
    Op.PURCHASE: purchase,
    Op.PURCHASE_TRIAL: purchase_trial,
    Op.PURCHASE_CONFIRM: advice,
    Op.PURCHASE_REVERSE: advice,
    Op.PURCHASE_STATUS: purchase_status,
    Op.MSISDN_LOOKUP: msisdn_lookup,
    Op.LIST_PRODUCTS: list_products,
}
