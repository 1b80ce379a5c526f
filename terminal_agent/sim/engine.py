"""The switch's common rules: validation, error bodies, originals, advices, the ledger.

Per-interface handlers (``airtime``, ``moneytransfer``, ``suv``) decide *what* an original's
answer is; this module decides everything the three interfaces share:

1. A body is validated with the server's rules (``sim.validation``: what Electrum's servers
   check, not the agent's stricter outgoing rules) before anything is looked up; a failure is
   400 ``FORMAT_ERROR`` naming the first broken field in ``errorMessage`` and every one in
   ``detailMessage.formatErrors[]`` (``field``, ``msg``, ``value``).
2. Responses echo the request's ``id`` and ``time`` exactly as received (the raw JSON values).
3. An original's id is used once: a repeat is 400 ``DUPLICATE_RECORD``; an id that a reversal
   reached first is dead (400, the interface's "already reversed" type: ``DEAD_ID``).
4. Advices: unknown original → 404 ``UNABLE_TO_LOCATE_RECORD`` (stored; for a reversal the id is
   then dead); confirm after reverse and reverse after confirm → 400 with the interface's own
   type (``ADVICES``: ``ACCOUNT_ALREADY_SETTLED`` in airtime, ``DUPLICATE_RECORD``,
   ``UNABLE_TO_REDEEM``, ``ALREADY_REDEEMED`` in money transfer, ``REDEMPTION_ALREADY_CONFIRMED``,
   ``VOUCHER_ALREADY_REVERSED``... in SUV); the same advice again → the same answer again (202,
   idempotent, counted), and so does another advice of the same kind for the same original; an
   advice id reused for another original or kind → 400 ``DUPLICATE_RECORD``; a reversal of a
   declined original is accepted (202), a confirmation of one is 404.
5. Everything is stored before the answer is returned.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from terminal_agent.protocol.operations import SPECS, Op, OpSpec
from terminal_agent.sim import catalogue, validation
from terminal_agent.sim.store import Original, SimStore

TRANSACTION_KEYS = (
    "id", "time", "originator", "client", "settlementEntity", "receiver", "thirdPartyIdentifiers",
    "slipData", "basketRef", "tranType", "srcAccType", "destAccType", "stan", "rrn",
)

REQUEST_TYPES = {
    Op.VOUCHER_PROVISION: "VOUCHER_REQUEST", Op.VOUCHER_CONFIRM: "VOUCHER_CONFIRMATION",
    Op.VOUCHER_REVERSE: "VOUCHER_REVERSAL", Op.PURCHASE: "PURCHASE_REQUEST",
    Op.PURCHASE_TRIAL: "TRIAL_PURCHASE_REQUEST", Op.PURCHASE_CONFIRM: "PURCHASE_CONFIRMATION",
    Op.PURCHASE_REVERSE: "PURCHASE_REVERSAL", Op.PURCHASE_STATUS: "PURCHASE_STATUS_REQUEST",
    Op.MSISDN_LOOKUP: "MSISDN_INFO_REQUEST", Op.LIST_PRODUCTS: "LIST_PRODUCTS_REQUEST",
}

@dataclass(frozen=True)
class AdviceRule:
    kind: str                  # confirmation | reversal
    targets: frozenset[Op]     # the operations its requestId may point at
    settled: str               # errorType when the original went the other way already


def _rule(kind: str, target: Op, settled: str) -> AdviceRule:
    return AdviceRule(kind, frozenset({target}), settled)


ADVICES: dict[Op, AdviceRule] = {
    Op.VOUCHER_CONFIRM: _rule("confirmation", Op.VOUCHER_PROVISION, "ACCOUNT_ALREADY_SETTLED"),
    Op.VOUCHER_REVERSE: _rule("reversal", Op.VOUCHER_PROVISION, "ACCOUNT_ALREADY_SETTLED"),
    Op.PURCHASE_CONFIRM: _rule("confirmation", Op.PURCHASE, "ACCOUNT_ALREADY_SETTLED"),
    Op.PURCHASE_REVERSE: _rule("reversal", Op.PURCHASE, "ACCOUNT_ALREADY_SETTLED"),
    # money transfer: the types its test server answers (money-transfer.md §5.5)
    Op.MT_ORDER_CONFIRM: _rule("confirmation", Op.MT_ORDER_CREATE, "DUPLICATE_RECORD"),
    Op.MT_ORDER_REVERSE: _rule("reversal", Op.MT_ORDER_CREATE, "DUPLICATE_RECORD"),
    Op.MT_REDEEM_CONFIRM: _rule("confirmation", Op.MT_REDEEM, "UNABLE_TO_REDEEM"),
    Op.MT_REDEEM_REVERSE: _rule("reversal", Op.MT_REDEEM, "ALREADY_REDEEMED"),
    Op.MT_ORDER_CANCEL_REVERSE: _rule("reversal", Op.MT_ORDER_CANCEL, "DUPLICATE_RECORD"),
    Op.SUV_REDEEM_CONFIRM: _rule("confirmation", Op.SUV_REDEEM, "REDEMPTION_ALREADY_REVERSED"),
    Op.SUV_REDEEM_REVERSE: _rule("reversal", Op.SUV_REDEEM, "REDEMPTION_ALREADY_CONFIRMED"),
    Op.SUV_PROVISION_CONFIRM: _rule("confirmation", Op.SUV_PROVISION, "VOUCHER_ALREADY_REVERSED"),
    Op.SUV_PROVISION_REVERSE: _rule("reversal", Op.SUV_PROVISION, "VOUCHER_ALREADY_CONFIRMED"),
    Op.SUV_REFUND_CONFIRM: _rule("confirmation", Op.SUV_REFUND, "REFUND_ALREADY_REVERSED"),
    Op.SUV_REFUND_REVERSE: _rule("reversal", Op.SUV_REFUND, "REFUND_ALREADY_CONFIRMED"),
}

# An original whose id a reversal reached first: the interface's "already reversed" errorType
# (airtime: the test server's ACCOUNT_ALREADY_SETTLED; SUV: the test server's *_ALREADY_REVERSED;
# money transfer has no such type: its id is taken, DUPLICATE_RECORD).
DEAD_ID: dict[str, str] = {
    "airtime": "ACCOUNT_ALREADY_SETTLED", "moneytransfer": "DUPLICATE_RECORD",
    str(Op.SUV_REDEEM): "REDEMPTION_ALREADY_REVERSED",
    str(Op.SUV_PROVISION): "VOUCHER_ALREADY_REVERSED", str(Op.SUV_REFUND): "REFUND_ALREADY_REVERSED",
}

GENERIC_DECLINE = {"airtime": "DO_NOT_HONOR", "moneytransfer": "TRANSACTION_DECLINED",
                   "suv": "DO_NOT_HONOUR"}


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """One request to an operation, as the handlers see it."""

    op: Op
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any = None
    raw: bytes = b""
    forced: tuple[int, str] | None = None  # a ``decline`` fault: (status, errorType)
    user: str | None = None  # the Basic-auth user name

    @property
    def spec(self) -> OpSpec:
        return SPECS[self.op]

    @property
    def interface(self) -> str:
        return str(self.spec.interface)


@dataclass
class Approve:
    response: dict[str, Any]
    amount: int | None = None
    ref: str | None = None
    aux: dict[str, Any] = field(default_factory=dict)
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    first_answer: Reply | None = None  # answered instead of the response (unknown outcome)


@dataclass
class Decline:
    status: int
    error_type: str
    message: str
    amount: int | None = None
    ref: str | None = None
    detail: Any = None
    aux: dict[str, Any] = field(default_factory=dict)
    first_answer: Reply | None = None


Decision = Approve | Decline
Handler = Callable[["Switch", Call], Reply]


class Rejected(Exception):  # noqa: N818 - a control-flow signal carrying the reply
    """Raised inside a handler to answer an error at once (validation, not found...)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


# -- error bodies -----------------------------------------------------------------------------
def error_detail(interface: str, op: Op | None, error_type: str, message: str, *,
                 msg_id: str | None = None, original_id: str | None = None,
                 detail: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": msg_id or str(uuid.uuid4())}
    if original_id:
        body["originalId"] = original_id
    body["errorType"] = error_type
    body["errorMessage"] = message[:80]
    if interface == "airtime" and op in REQUEST_TYPES:
        body["requestType"] = REQUEST_TYPES[op]
    if detail is not None:
        body["detailMessage"] = detail
    return body


def error(call: Call, status: int, error_type: str, message: str, *,
          msg_id: str | None = None, original_id: str | None = None, detail: Any = None,
          headers: dict[str, str] | None = None) -> Reply:
    if msg_id is None and isinstance(call.body, dict) and isinstance(call.body.get("id"), str):
        msg_id = call.body["id"]
    if (original_id is None and isinstance(call.body, dict)
            and isinstance(call.body.get("requestId"), str)):
        original_id = call.body["requestId"]
    return Reply(status, error_detail(call.interface, call.op, error_type, message, msg_id=msg_id,
                                      original_id=original_id, detail=detail), headers or {})


def format_error(call: Call, field_name: str, reason: str, value: Any = None) -> Reply:
    return format_errors(call, [validation.FormatError(field_name, reason, value)])


def format_errors(call: Call, errors: list[validation.FormatError]) -> Reply:
    first = errors[0]
    return error(call, 400, "FORMAT_ERROR", f"Invalid {first.field}: {first.msg}",
                 detail={"formatErrors": [e.to_json() for e in errors]})


# -- validation -------------------------------------------------------------------------------
# Query parameters that are each optional but needed in one of these groups (the interfaces
# say so in prose: airtime purchaseStatus, money transfer lookupOrder).
QUERY_ALTERNATIVES: dict[Op, tuple[tuple[str, ...], ...]] = {
    Op.PURCHASE_STATUS: (("originalMsgId",), ("purchaseReference", "provider")),
    Op.MT_ORDER_LOOKUP: (("orderRedeemRef",), ("remittanceRef",)),
}


def validated_body(call: Call) -> dict[str, Any]:
    """The request body (raw JSON dict) once the server's rules pass; raises ``Rejected``."""
    errors = validation.body_errors(call.interface, call.spec.method, call.spec.path, call.body)
    if errors:
        raise Rejected(format_errors(call, errors))
    assert isinstance(call.body, dict)
    return call.body


def validated_query(call: Call) -> dict[str, str]:
    errors = validation.query_errors(call.interface, call.spec.path, call.query)
    groups = QUERY_ALTERNATIVES.get(call.op)
    if not errors and groups and not any(all(call.query.get(n) for n in g) for g in groups):
        wanted = " or ".join("+".join(g) for g in groups)
        errors.append(validation.FormatError(groups[0][0], f"one of {wanted} is required"))
    if errors:
        raise Rejected(format_errors(call, errors))
    return call.query


# -- response helpers -------------------------------------------------------------------------
def echo_transaction(body: dict[str, Any]) -> dict[str, Any]:
    """The Transaction fields of a request, echoed as received (``id``, ``time`` untouched)."""
    return {k: body[k] for k in TRANSACTION_KEYS if k in body}


def transaction_ref(seed: str, prefix: str = "", width: int = 10) -> str:
    """A stable reference derived from a message id (the same after a restart)."""
    digits = str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))
    return prefix + digits[:width]


def add_identifiers(response: dict[str, Any], *institutions: dict[str, Any] | None) -> None:
    """Adds this side's thirdPartyIdentifiers (settlement entity, receiver) without touching the
    ones already there."""
    tpis = list(response.get("thirdPartyIdentifiers") or [])
    present = {t.get("institutionId") for t in tpis if isinstance(t, dict)}
    for n, inst in enumerate(institutions):
        if not inst or inst.get("id") in present:
            continue
        tpis.append({"institutionId": inst["id"],
                     "transactionIdentifier": transaction_ref(f"{response['id']}/{n}", "", 12)})
        present.add(inst["id"])
    response["thirdPartyIdentifiers"] = tpis


def routed(response: dict[str, Any], receiver: dict[str, Any]) -> None:
    """Fills settlementEntity/receiver (when the request had none) and adds their identifiers."""
    if response.get("settlementEntity") is None:
        response["settlementEntity"] = catalogue.settlement_entity()
    if response.get("receiver") is None:
        response["receiver"] = receiver
    add_identifiers(response, response["settlementEntity"], response["receiver"])


def amount_of(value: Any) -> int | None:
    if isinstance(value, dict) and type(value.get("amount")) is int:
        return int(value["amount"])
    return None


# -- the switch -------------------------------------------------------------------------------
class Switch:
    """The simulated switch: store + handlers. Called in the server thread only."""

    def __init__(self, store: SimStore, handlers: dict[Op, Handler]) -> None:
        self.store = store
        self.handlers = handlers

    def handle(self, call: Call) -> Reply:
        handler = self.handlers.get(call.op)
        try:
            if handler is None:
                return error(call, 501, "FUNCTION_NOT_SUPPORTED",
                             f"{call.op} is not offered by the simulator")
            return handler(self, call)
        except Rejected as rejected:
            return rejected.reply

    # originals --------------------------------------------------------------------------------
    def original(self, call: Call, decide: Callable[[dict[str, Any]], Decision]) -> Reply:
        body = validated_body(call)
        oid = body["id"]
        existing = self.store.get_original(oid)
        if existing is not None:
            return error(call, 400, "DUPLICATE_RECORD", "Duplicate message id", detail={
                "freeString": f"{oid} was already received ({existing.operation}, "
                              f"{existing.outcome})"})
        if self.store.is_dead(oid):
            dead = DEAD_ID.get(str(call.op)) or DEAD_ID[call.interface]
            return error(call, 400, dead, "Already reversed: a reversal for this id came first")
        if call.forced:
            status, error_type = call.forced
            decision: Decision = Decline(status, error_type, "Declined (simulated)")
        else:
            decision = decide(body)
        return self.store_decision(call, body, decision)

    def store_decision(self, call: Call, body: dict[str, Any], decision: Decision) -> Reply:
        if call.user is not None:
            decision.aux.setdefault("user", call.user)  # who may look the outcome up
        if isinstance(decision, Approve):
            status = decision.status or call.spec.status
            self.store.add_original(Original(
                id=body["id"], interface=call.interface, operation=str(call.op), status=status,
                outcome="approved", request=body, response=decision.response,
                amount=decision.amount, ref=decision.ref, aux=decision.aux))
            return decision.first_answer or Reply(status, decision.response, decision.headers)
        reply = error(call, decision.status, decision.error_type, decision.message,
                      detail=decision.detail)
        self.store.add_original(Original(
            id=body["id"], interface=call.interface, operation=str(call.op),
            status=decision.status, outcome="declined", request=body, response=reply.body,
            error_type=decision.error_type, amount=decision.amount, state="declined",
            ref=decision.ref, aux=decision.aux))
        return decision.first_answer or reply

    # advices ----------------------------------------------------------------------------------
    def advice(self, call: Call, body: dict[str, Any] | None = None) -> Reply:
        body = body if body is not None else validated_body(call)
        rule = ADVICES[call.op]
        kind = rule.kind
        advice_id, request_id = body["id"], body["requestId"]
        previous = self.store.get_advice(advice_id)
        if previous is not None and (previous.original_id != request_id
                                     or previous.kind != kind
                                     or previous.operation != str(call.op)):
            return error(call, 400, "DUPLICATE_RECORD",
                         "Advice id already used for another message")
        original = self.store.get_original(request_id)
        if original is not None and original.operation not in {str(t) for t in rule.targets}:
            original = None
        new_state: str | None = None
        if call.forced:
            status, error_type = call.forced
            reply = error(call, status, error_type, "Declined (simulated)")
        elif original is None:
            reply = error(call, 404, "UNABLE_TO_LOCATE_RECORD", "Original not found")
        elif original.outcome == "declined":
            reply = (Reply(call.spec.status, dict(body)) if kind == "reversal" else
                     error(call, 404, "UNABLE_TO_LOCATE_RECORD", "Original was declined"))
        elif kind == "confirmation" and original.state == "reversed":
            reply = error(call, 400, rule.settled, "Original already reversed")
        elif kind == "reversal" and original.state == "confirmed":
            reply = error(call, 400, rule.settled, "Original already confirmed")
        else:
            reply = Reply(call.spec.status, dict(body))
            new_state = "confirmed" if kind == "confirmation" else "reversed"
        failed = reply.body.get("errorType") if reply.status >= 300 else None
        self.store.record_advice(advice_id, request_id, kind, str(call.op), reply.status,
                                 failed, body, new_state)
        return reply


# -- the ledger -------------------------------------------------------------------------------
def ledger(store: SimStore) -> dict[str, Any]:
    """``GET /_sim/ledger`` (docs/ARCHITECTURE.md "Ledger JSON")."""
    originals = store.all_originals()
    known = {o.id for o in originals}
    by_original: dict[str, list[dict[str, Any]]] = {}
    orphans = []
    for a in store.all_advices():
        if a.original_id in known:
            by_original.setdefault(a.original_id, []).append(
                {"id": a.id, "kind": a.kind, "status": a.status, "count": a.count})
        else:
            orphans.append({"id": a.id, "kind": a.kind, "operation": a.operation,
                            "request_id": a.original_id, "status": a.status, "count": a.count})
    out = []
    for o in originals:
        final = "declined" if o.outcome == "declined" else {
            "confirmed": "confirmed", "reversed": "reversed"}.get(o.state, "open")
        out.append({"id": o.id, "interface": o.interface, "operation": o.operation,
                    "outcome": o.outcome, "error_type": o.error_type, "amount": o.amount,
                    "advices": by_original.get(o.id, []), "final": final})
    return {"originals": out, "orphan_advices": orphans}
