"""Money transfer v2 (``/moneytransfer/v2``): admin (customers, fees, exchange rate), orders,
lookups, redemptions, cancellations and their advices."""

from __future__ import annotations

import hashlib
import re
import uuid
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

DAILY_LIMIT = 500_000  # R5000.00
MONTHLY_LIMIT = 1_000_000
BLOCKED_ID_NUMBER = "0000000000000"
PIN_ATTEMPTS = 3


def _now_ms(delta: timedelta = timedelta()) -> str:
    t = datetime.now(UTC) + delta
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _pin_hash(pin: Any) -> str | None:
    if isinstance(pin, dict) and isinstance(pin.get("pinBlock"), str):
        return hashlib.sha256(pin["pinBlock"].upper().encode()).hexdigest()
    return None


# -- customers --------------------------------------------------------------------------------
def find_customer(sw: Switch, id_number: str | None) -> dict[str, Any] | None:
    if not id_number:
        return None
    stored = sw.store.find_customer(id_number)
    if stored is not None:
        return stored
    for c in catalogue.demo_customers():
        if c["customerDetails"].get("idNumber") == id_number:
            return c
    return None


def customer_by_profile(sw: Switch, profile_id: str) -> dict[str, Any] | None:
    stored = sw.store.customer_by_profile(profile_id)
    if stored is not None:
        return stored
    for c in catalogue.demo_customers():
        if c["customerProfileId"] == profile_id:
            return c
    return None


def register(sw: Switch, details: dict[str, Any], message: dict[str, Any],
             profile_id: str | None = None) -> str:
    profile_id = profile_id or str(2_000_000_000 + sw.store.next_number("customer"))
    stored = {**message, "customerDetails": details, "customerProfileId": profile_id}
    sw.store.put_customer(profile_id, details.get("idNumber") or "", stored)
    return profile_id


# -- orders -----------------------------------------------------------------------------------
@dataclass
class Order:
    ref: str
    ref_alt: str | None
    amount: int
    currency: str
    order_id: str
    status: str
    sender_id_number: str | None
    pin_hash: str | None
    receiver: dict[str, Any]
    originator: dict[str, Any] | None
    create_id: str | None  # None for a demo order


def find_order(sw: Switch, ref: str) -> Order | None:
    base: Order | None = None
    for o in sw.store.originals_by_ref(ref, str(Op.MT_ORDER_CREATE)):
        if o.outcome != "approved":
            continue
        req, resp = o.request, o.response or {}
        status = {"reversed": "CANCELLED", "open": "UNCONFIRMED"}.get(o.state, "UNREDEEMED")
        base = Order(ref, resp.get("orderRedeemRefAlt"), o.amount or 0,
                     req["amount"]["currency"], resp.get("orderId", o.id), status,
                     (req.get("senderDetails") or {}).get("idNumber"), o.aux.get("pin"),
                     resp.get("receiver") or catalogue.mt_receiver(None), req.get("originator"),
                     o.id)
    if base is None:
        for d in catalogue.demo_orders():
            if d["orderRedeemRef"] == ref:
                sender = customer_by_profile(sw, d["sender"]) or {}
                base = Order(ref, d["orderRedeemRefAlt"], d["amount"], catalogue.ZAR,
                             "DEMO" + ref[-6:], d["status"],
                             (sender.get("customerDetails") or {}).get("idNumber"), None,
                             catalogue.mt_receiver(d["receiver"]), None, None)
    if base is None or base.status != "UNREDEEMED":
        return base
    if any(o.outcome == "approved" and o.state != "reversed"
           for o in sw.store.originals_by_ref(ref, str(Op.MT_ORDER_CANCEL))):
        base.status = "CANCELLED"
    elif any(o.outcome == "approved" and o.state != "reversed"
             for o in sw.store.originals_by_ref(ref, str(Op.MT_REDEEM))):
        base.status = "REDEEMED"
    return base


def _wrong_pins(sw: Switch, ref: str) -> int:
    return sum(1 for o in sw.store.originals_by_ref(ref, str(Op.MT_REDEEM))
               if o.error_type in ("INCORRECT_PIN", "PIN_RETRIES_EXCEEDED"))


# -- admin ------------------------------------------------------------------------------------
def customer_upsert(sw: Switch, call: Call) -> Reply:
    """Creates a profile, or updates the one named by ``customerProfileId`` or, without it, the
    one of the same ``idNumber``. Nothing in the message is validated by the server (no
    ``@Valid``, no ``@NotNull``): whatever it carries is stored."""
    body = validated_body(call)
    if call.forced:
        return error(call, *call.forced, "Declined (simulated)")
    sent = body.get("customerDetails")
    details: dict[str, Any] = sent if isinstance(sent, dict) else {}
    id_number = details.get("idNumber") if isinstance(details.get("idNumber"), str) else None
    if id_number == BLOCKED_ID_NUMBER:
        return error(call, 400, "CUSTOMER_CHECK_FAILED", "Customer failed KYC checks")
    profile_id = body.get("customerProfileId")
    existing = (customer_by_profile(sw, profile_id) if isinstance(profile_id, str) and profile_id
                else find_customer(sw, id_number))
    if existing is None:
        profile_id = register(sw, details, body, profile_id or None)
        return Reply(201, {**body, "customerProfileId": profile_id},
                     {"Location": call.path + "?customerProfileId=" + profile_id})
    profile_id = existing["customerProfileId"]
    merged = {**(existing.get("customerDetails") or {}), **details}
    stored = {**existing, **body, "customerDetails": merged, "customerProfileId": profile_id}
    sw.store.put_customer(profile_id, merged.get("idNumber") or "", stored)
    return Reply(200, stored)


def customer_info(sw: Switch, call: Call) -> Reply:
    q = validated_query(call)
    if call.forced:
        return error(call, *call.forced, "Declined (simulated)")
    found = find_customer(sw, q["idNumber"])
    details = (found or {}).get("customerDetails") or {}
    if found is None or any(q.get(k) and q[k].upper() != str(details.get(f) or "").upper()
                            for k, f in (("idType", "idType"),
                                         ("idCountryCode", "idCountryCode"))):
        return error(call, 404, "UNABLE_TO_LOCATE_RECORD", "Customer not found")
    body: dict[str, Any] = {}
    if found.get("originator"):
        body["originator"] = found["originator"]
    body["receiver"] = catalogue.mt_receiver(q["receiverId"])
    body["customerDetails"] = details
    body["customerProfileId"] = found["customerProfileId"]
    return Reply(200, body)


def _quote(call: Call, amount: int | None, includes_fee: bool, extra: dict[str, Any]) -> Reply:
    if amount is None or amount <= 0:
        return error(call, 400, "INVALID_AMOUNT", "Amount must be positive")
    if amount > DAILY_LIMIT:
        return error(call, 400, "DAILY_LIMIT_EXCEEDED", "Over the R5000 daily limit")
    body = {**extra, "feeQuote": catalogue.fee_quote(amount, includes_fee),
            "quoteId": str(uuid.uuid4()), "expiryDateTime": _now_ms(timedelta(minutes=15))}
    return Reply(200, body)


def fee_quote(sw: Switch, call: Call) -> Reply:
    q = validated_query(call)
    if call.forced:
        return error(call, *call.forced, "Declined (simulated)")
    if re.fullmatch(r"[+-]?[0-9]{1,18}", q["amount"]) is None:  # a Java Long
        return format_error(call, "amount", "must be an integer (minor units)", q["amount"])
    extra = {"receiver": catalogue.mt_receiver(q["receiverId"]),
             "settlementEntity": catalogue.settlement_entity()}
    # Java Boolean.valueOf: only a case-insensitive "true" is true, anything else is false.
    return _quote(call, int(q["amount"]), q["amountIncludesFee"].lower() == "true", extra)


def fee_quote_post(sw: Switch, call: Call) -> Reply:
    body = validated_body(call)
    if call.forced:
        return error(call, *call.forced, "Declined (simulated)")
    keys = ("originator", "receiver", "senderDetails", "recipientDetails")
    extra: dict[str, Any] = {k: body[k] for k in keys if k in body}
    extra["settlementEntity"] = body.get("settlementEntity") or catalogue.settlement_entity()
    # Nothing in a quote request is validated by the server (no @Valid, no @NotNull); an absent
    # flag is Java's primitive default, false.
    return _quote(call, amount_of(body.get("amount")), body.get("amountIncludesFees") is True,
                  extra)


def exchange_rate(sw: Switch, call: Call) -> Reply:
    q = validated_query(call)
    if call.forced:
        return error(call, *call.forced, "Declined (simulated)")
    rate = catalogue.exchange_rate(q["fromCurrency"], q["toCurrency"])
    if rate is None:
        return error(call, 404, "UNABLE_TO_LOCATE_RECORD", "No rate for this currency pair")
    return Reply(200, {"rate": rate, "fromCurrency": q["fromCurrency"],
                       "toCurrency": q["toCurrency"]})


# -- orders -----------------------------------------------------------------------------------
def order_create(sw: Switch, call: Call) -> Reply:
    def decide(body: dict[str, Any]) -> Decision:
        amount = body["amount"]["amount"]
        sender = body["senderDetails"]
        id_number = sender.get("idNumber")
        if amount <= 0:
            return Decline(400, "INVALID_AMOUNT", "Amount must be positive", amount=amount)
        if amount > MONTHLY_LIMIT:
            return Decline(400, "MONTHLY_LIMIT_EXCEEDED", "Over the monthly limit", amount=amount)
        if amount > DAILY_LIMIT:
            return Decline(400, "DAILY_LIMIT_EXCEEDED", "Over the R5000 daily limit",
                           amount=amount)
        if amount % 100 == 13:
            return Decline(400, "TRANSACTION_DECLINED", "Declined by the provider",
                           amount=amount)
        if id_number == BLOCKED_ID_NUMBER:
            return Decline(400, "CUSTOMER_CHECK_FAILED", "Sender failed KYC checks",
                           amount=amount)
        # The references do not say a sender must match a stored profile: a given
        # customerProfileId is taken as it is; without one, the sender's idNumber finds it, and
        # newCustomer registers a sender not known yet.
        profile_id = body.get("customerProfileId")
        if not profile_id and id_number:
            known = find_customer(sw, id_number)
            if known is not None:
                profile_id = known["customerProfileId"]
            elif body.get("newCustomer"):
                profile_id = register(sw, sender, {k: body[k] for k in ("originator", "receiver")
                                                   if k in body})
        resp = echo_transaction(body)
        routed(resp, catalogue.mt_receiver(None))
        number = sw.store.next_number("order")
        ref = f"4820{number:016d}"
        resp.update({
            "amount": body["amount"], "senderDetails": sender, "orderRedeemRef": ref,
            "orderRedeemRefAlt": f"MT-{number:06d}", "orderId": f"ORD{number:09d}",
        })
        if profile_id:
            resp["customerProfileId"] = profile_id
        amounts = dict(body.get("amounts") or {})
        amounts["approvedAmount"] = body["amount"]
        if "fee" in body:
            amounts["feeAmount"] = body["fee"]
        resp["amounts"] = amounts
        return Approve(resp, amount, ref, {"pin": _pin_hash(body.get("pin"))})

    return sw.original(call, decide)


def order_lookup(sw: Switch, call: Call) -> Reply:
    q = validated_query(call)
    if call.forced:
        return error(call, *call.forced, "Declined (simulated)")
    order = find_order(sw, q.get("orderRedeemRef") or q.get("remittanceRef") or "")
    if order is None:
        return error(call, 404, "UNABLE_TO_LOCATE_RECORD", "Order not found")
    body: dict[str, Any] = {
        "amount": catalogue.money(order.amount, order.currency), "status": order.status,
        "statusDescription": STATUS_TEXT[order.status],
    }
    if order.originator:
        body["originator"] = order.originator
    body.update({"receiver": order.receiver, "settlementEntity": catalogue.settlement_entity(),
                 "orderRedeemRef": order.ref, "orderId": order.order_id})
    if order.ref_alt:
        body["orderRedeemRefAlt"] = order.ref_alt
    return Reply(200, body)


STATUS_TEXT = {
    "UNREDEEMED": "Ready to be paid out", "REDEEMED": "Already paid out",
    "CANCELLED": "Cancelled, refunded to the sender", "EXPIRED": "Expired",
    "ON_HOLD": "On hold: the recipient must contact the provider",
    "UNCONFIRMED": "Payment not yet confirmed",
}


def redeem(sw: Switch, call: Call) -> Reply:
    def decide(body: dict[str, Any]) -> Decision:
        ref = body["orderRedeemRef"]
        asked = amount_of(body.get("amount"))
        order = find_order(sw, ref)
        if order is None:
            return Decline(400, "INVALID_REDEEM_REF", "Unknown order reference", amount=asked)
        if order.status == "REDEEMED":
            return Decline(400, "ALREADY_REDEEMED", "Order already paid out", amount=asked,
                           ref=ref)
        if order.status != "UNREDEEMED":
            return Decline(400, "UNABLE_TO_REDEEM", STATUS_TEXT[order.status], amount=asked,
                           ref=ref)
        if asked is not None and asked != order.amount:
            return Decline(400, "INVALID_AMOUNT", "Amount differs from the order",
                           amount=asked, ref=ref)
        if order.pin_hash is not None:
            wrong = _wrong_pins(sw, ref)
            if wrong >= PIN_ATTEMPTS:
                return Decline(400, "PIN_RETRIES_EXCEEDED", "Too many wrong PINs", ref=ref)
            if _pin_hash(body.get("pin")) != order.pin_hash:
                return Decline(400, "INCORRECT_PIN", "Incorrect PIN", amount=asked, ref=ref)
        resp = echo_transaction(body)
        routed(resp, order.receiver)
        money = catalogue.money(order.amount, order.currency)
        resp.update({"amount": money, "orderId": order.order_id})
        if body.get("customerProfileId"):
            resp["customerProfileId"] = body["customerProfileId"]
        resp["amounts"] = {**(body.get("amounts") or {}), "approvedAmount": money}
        return Approve(resp, order.amount, ref, {"order": order.create_id})

    return sw.original(call, decide)


def cancel(sw: Switch, call: Call) -> Reply:
    body = validated_body(call)
    ref = body["orderRedeemRef"]
    order = find_order(sw, ref)
    if order is None and not call.forced and sw.store.get_original(body["id"]) is None:
        return error(call, 404, "UNABLE_TO_LOCATE_RECORD", "Order not found")

    def decide(body: dict[str, Any]) -> Decision:
        assert order is not None
        if order.status == "REDEEMED":
            return Decline(400, "ALREADY_REDEEMED", "Order already paid out", ref=ref)
        if order.status not in ("UNREDEEMED", "UNCONFIRMED"):
            return Decline(400, "TRANSACTION_DECLINED", STATUS_TEXT[order.status], ref=ref)
        id_number = body.get("idNumber")
        if id_number and order.sender_id_number and id_number != order.sender_id_number:
            return Decline(400, "CUSTOMER_CHECK_FAILED", "ID number does not match the sender",
                           ref=ref)
        resp = echo_transaction(body)
        routed(resp, order.receiver)
        resp.update({"amount": catalogue.money(order.amount, order.currency),
                     "orderRedeemRef": ref, "orderRedeemRefAlt": order.ref_alt or ref,
                     "orderId": order.order_id})
        return Approve(resp, order.amount, ref, {"order": order.create_id})

    reply = sw.original(call, decide)
    if reply.status < 300 and order is not None and order.create_id:
        sw.store.record_advice(body["id"], order.create_id, "cancellation", str(call.op),
                               reply.status, None, body)
    return reply


def advice(sw: Switch, call: Call) -> Reply:
    return sw.advice(call)


HANDLERS: dict[Op, Handler] = {
    Op.MT_CUSTOMER_UPSERT: customer_upsert,
    Op.MT_CUSTOMER_INFO: customer_info,
    Op.MT_FEE_QUOTE: fee_quote,
    Op.MT_FEE_QUOTE_POST: fee_quote_post,
    Op.MT_EXCHANGE_RATE: exchange_rate,
    Op.MT_ORDER_CREATE: order_create,
    Op.MT_ORDER_CONFIRM: advice,
    Op.MT_ORDER_REVERSE: advice,
    Op.MT_ORDER_LOOKUP: order_lookup,
    Op.MT_REDEEM: redeem,
    Op.MT_REDEEM_CONFIRM: advice,
    Op.MT_REDEEM_REVERSE: advice,
    Op.MT_ORDER_CANCEL: cancel,
    Op.MT_ORDER_CANCEL_REVERSE: advice,
}
