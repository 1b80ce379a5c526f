"""What an answer (or its absence) means: one table, read top to bottom, first match wins.

``classify(op, status, body, asked=..., sent=...)`` turns an HTTP status (``None`` = no full
answer in time) and body into an ``Outcome``; it never raises, whatever the body. The verdicts:

- ``APPROVED``: a definite success. For an advice: delivered, nothing more to send.
- ``DECLINED``: a definite, final failure. For a request nothing happened (no advice needed);
  for an advice the answer will never get better (park it for a supervisor).
- ``UNKNOWN``: a request may or may not have been processed: reverse it (or, for direct top-up,
  look up its status). Only requests get this verdict.
- ``RETRY``: send the same thing again later (advices, reads and status lookups).

Each operation is read through a chain of scopes, most specific first: the operation itself,
the situation it was asked in (``topup``, ``status_early``, ``advice_repeat``; see ``Asked``), its
family (``trial``, ``confirm``, ``reverse``, ``status``, ``read``) and then the general family
(``request``, ``advice``). The HTTP status decides first; ``errorType`` refines it where a row
names one.

An answer is an approval only when it is *this request's* answer and carries the value (DESIGN
§5a): the status token ``ok`` means "2xx, the body reads as the operation's answer, its ``id`` is
the request's (a status answer: the original's) and the value is there" (a voucher with its PIN,
the payout amount, a redeemed amount no larger than asked). A 2xx that fails any of these is
read by the ``2xx`` rows: unknown for a request (reverse / look up the status), retry for a
lookup, and it is reported in ``Outcome.violation`` so the caller logs a protocol violation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from terminal_agent.protocol import codec
from terminal_agent.protocol.common import ErrorDetail
from terminal_agent.protocol.common import ErrorType as E
from terminal_agent.protocol.operations import SPECS, Op


class Verdict(StrEnum):
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    UNKNOWN = "UNKNOWN"
    RETRY = "RETRY"


# ``error_type`` given to a 501 answer whatever its body says: "this provider does not offer the
# operation" (cache it, hide the feature; never an outage).
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
# ``error_type`` of a request that never left the till (connection refused, TLS handshake or
# certificate failure): a definite failure, nothing was charged.
SWITCH_UNREACHABLE = "SWITCH_UNREACHABLE"
# Internal match key: a DUPLICATE_RECORD whose text says the advice conflicts with an earlier one
# (reversing a confirmed order, confirming a reversed one; MT §5.5). ``Outcome.error_type`` keeps
# the switch's own DUPLICATE_RECORD.
_CONFLICT = "DUPLICATE_RECORD(conflict)"


@dataclass(frozen=True, slots=True)
class Asked:
    """What was asked, so that an answer can be matched to it. Every field is optional: the
    default (``NOTHING``) checks what can be checked without context."""

    request_id: str | None = None  # the answer's ``id`` must be this (status: the original's)
    amount: int | None = None      # what was asked for, where the approved amount may be less
    direct_topup: bool = False     # airtime purchase straight to the phone (seed 003)
    early: bool = False            # status lookup still inside the processing window
    repeat: bool = False           # advice sent before, and an earlier outcome was unknown


NOTHING = Asked()


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    status: int | None
    message: Any = None
    error: ErrorDetail | None = None
    error_type: str | None = None
    reason: str = ""
    violation: str = ""  # a 2xx that is not this request's answer or lacks the value
    sent: bool = True    # False: the request certainly never left the till

    @property
    def reversal_reason(self) -> str:
        """``TIMEOUT`` when no answer arrived, ``RESPONSE_NOT_FINAL`` when one did but it was not
        final (500, 504, a 2xx that is not ours...) (airtime §3.1 BasicReversal)."""
        return "TIMEOUT" if self.status is None else "RESPONSE_NOT_FINAL"


# --- the table -------------------------------------------------------------------------------
#
# A row is (scope, statuses, errorTypes, verdict, reason).
#   scope     : an Op, a situation, a family name, or a general family name (see ``scopes``).
#   statuses  : tuple of tokens: an int, "timeout" (sent, no full answer in time), "unsent" (the
#               request never left the till), "ok" (2xx and this request's answer with its value,
#               see the module docstring), "2xx" (any 2xx), "4xx", "5xx", "any".
#   errorTypes: None = any (also no body); otherwise the row needs one of these errorTypes.

ANY = None
_TIMEOUT = "timeout"
_UNSENT = "unsent"
_NOT_FOUND_ON_REVERSAL = (E.UNABLE_TO_LOCATE_RECORD,)
_PENDING = (E.OUTCOME_UNKNOWN, E.UPSTREAM_UNAVAILABLE)
_V = Verdict

Row = tuple[str, tuple[int | str, ...], tuple[str, ...] | None, Verdict, str]

TABLE: tuple[Row, ...] = (
    # ---- trial (POST /purchases/trials): no financial impact, never reversed ----------------
    ("trial", ("ok",), ANY, _V.APPROVED, "trial passed: take tender, then purchase"),
    # The provider has no validation step: a trial is not a prerequisite [eds D-TRIAL].
    ("trial", (501,), ANY, _V.APPROVED, "trial not supported: go ahead"),
    ("trial", ("any",), (E.FUNCTION_NOT_SUPPORTED,), _V.APPROVED, "trial not supported: go ahead"),
    # ---- digital vouchers. Decision: a redemption answered with any 5xx is reversed, 501 and
    # 503 included. Reference: topup-and-redemption B2 "Any 5xx or no response within the
    # timeout -> must send reverseRedeem ... stricter than the generic mapping (which treats 503
    # as failed)". Its provision and refund say the same ("fails with one of the 5xx HTTP
    # statuses ... must be reversed"). ------------------------------------------------------
    (Op.SUV_REDEEM, ("5xx",), ANY, _V.UNKNOWN, "redemption answered 5xx: reverse it"),
    (Op.SUV_PROVISION, ("5xx",), ANY, _V.UNKNOWN, "provision answered 5xx: reverse it"),
    (Op.SUV_REFUND, ("5xx",), ANY, _V.UNKNOWN, "refund answered 5xx: reverse it"),
    # ---- direct top-up. Decision: UPSTREAM_UNAVAILABLE and OUTCOME_UNKNOWN mean the outcome is
    # unknown: status lookups, never an immediate refund. Reference: seed 003 "Error Upstream:
    # Unknown Outcome": "Electrum returns an error of UPSTREAM_UNAVAILABLE or OUTCOME_UNKNOWN to
    # the originating system. The originating system requests the status of the original
    # transaction by sending a GET call to the /purchases/status endpoint." --------------------
    ("topup", ("any",), _PENDING, _V.UNKNOWN, "upstream outcome unknown: look up its status"),
    # ---- financial requests (provision, purchase, createOrder, redeem, cancel, SUV redeem) ---
    # A failure before the request left the till (connection refused, TLS handshake or
    # certificate failure) is a definite failure: nothing reached the switch, nothing to reverse.
    # Reference: airtime §4.1 "[inf] A transport failure before the request was sent (DNS error,
    # TCP connect refused, TLS handshake failure) is a definite failure and needs no reversal."
    ("request", (_UNSENT,), ANY, _V.DECLINED, "the switch could not be reached: nothing sent"),
    ("request", ("ok",), ANY, _V.APPROVED, "approved"),
    # A 2xx that is unreadable, not this request's (id) or without the value: not an approval.
    # Reference: MT §7.20 "verify a response's id equals the request id before acting on it";
    # seed 000 "a voucher provision request is by necessity considered successful only when it
    # contains the voucher provisioned".
    ("request", ("2xx",), ANY, _V.UNKNOWN, "success status but not this request's answer: "
                                           "outcome unknown"),
    # OUTCOME_UNKNOWN overrides a 4xx: the upstream may have acted.
    ("request", ("any",), (E.OUTCOME_UNKNOWN,), _V.UNKNOWN, "switch reports outcome unknown"),
    ("request", (501,), ANY, _V.DECLINED, "not offered by this provider"),
    ("request", (503,), ANY, _V.DECLINED, "service unavailable: not processed"),
    # Reference: airtime §4.1 "500, 504, timeout (no response within 60 s): unknown".
    ("request", (500, 504, _TIMEOUT), ANY, _V.UNKNOWN, "no final answer: outcome unknown"),
    # 502 and other unlisted 5xx: a gateway may have forwarded the request [inf: be safe].
    ("request", ("5xx",), ANY, _V.UNKNOWN, "unexpected server error: outcome unknown"),
    ("request", (404,), ANY, _V.DECLINED, "not found: failed"),
    ("request", (400,), ANY, _V.DECLINED, "declined"),
    ("request", ("any",), ANY, _V.DECLINED, "refused: not processed"),
    # ---- purchase status lookup: keep polling until a definite answer ------------------------
    # Decision: a 404 means "never received" only once the processing window has passed since
    # the original was sent; before that, look again later. Reference: airtime §6.1 "On a status
    # query it means 'never received', but only after the processing window has passed"; seed
    # 003 "You should not attempt transaction lookups until after the initial processing period
    # concludes".
    ("status_early", (404,), ANY, _V.RETRY, "not found yet, inside the processing window: "
                                            "look again later"),
    ("status", ("ok",), ANY, _V.APPROVED, "original purchase succeeded"),
    # Reference: airtime §4.4 "purchaseStatus: originalMsgId = PurchaseRequest.id"; an answer
    # about another purchase says nothing about ours.
    ("status", ("2xx",), ANY, _V.RETRY, "status answer not about our purchase: poll again"),
    ("status", ("any",), _PENDING, _V.RETRY, "still pending: poll again"),
    # [test] a known purchase with no stored outcome yet; not a final decline (topup A3).
    ("status", (400,), (E.UNABLE_TO_LOCATE_RECORD,), _V.RETRY, "no stored outcome yet: poll again"),
    # Our query was rejected: that says nothing about the purchase.
    ("status", (400,), (E.FORMAT_ERROR,), _V.RETRY, "status query rejected: outcome still unknown"),
    ("status", (404,), ANY, _V.DECLINED, "original never received: failed"),
    # incl. ACCOUNT_ALREADY_SETTLED (it was reversed) and the original's own decline
    ("status", (400,), ANY, _V.DECLINED, "original purchase failed"),
    ("status", ("any",), ANY, _V.RETRY, "no definite answer: poll again"),
    # ---- reversals --------------------------------------------------------------------------
    # 404 = the original never arrived, so there is nothing to reverse: done.
    ("reverse", (404,), ANY, _V.APPROVED, "original never arrived: nothing to reverse (done)"),
    # The MT mock answers an unknown original with 400 UNABLE_TO_LOCATE_RECORD (MT §5.5, §6.1).
    ("reverse", ("4xx",), _NOT_FOUND_ON_REVERSAL, _V.APPROVED,
     "original unknown: nothing to reverse"),
    ("reverse", ("4xx",), (E.REDEMPTION_ALREADY_REVERSED,), _V.APPROVED, "already reversed"),
    ("reverse", ("4xx",), (E.ACCOUNT_ALREADY_SETTLED,), _V.DECLINED,
     "already confirmed, cannot reverse: reconcile"),
    # ---- confirmations ----------------------------------------------------------------------
    # 404 = the item to confirm is unknown: the confirmation FAILED (the customer paid).
    ("confirm", (404,), ANY, _V.DECLINED, "original not found: confirmation failed, reconcile"),
    ("confirm", ("4xx",), (E.REDEMPTION_ALREADY_CONFIRMED,), _V.APPROVED, "already confirmed"),
    ("confirm", ("4xx",), (E.ACCOUNT_ALREADY_SETTLED,), _V.DECLINED,
     "already reversed, cannot confirm: reconcile"),
    # ---- DUPLICATE_RECORD on an advice. Decision: delivered only when this advice was sent
    # before and an earlier outcome was unknown (the switch took it then); on a first send, or
    # when the text says the advice conflicts, park it for reconciliation. Reference: MT §4.2
    # DUPLICATE_RECORD "Advice: if this exact advice id was sent before, it was already received
    # -> treat as delivered. If it indicates a conflicting advice -> reconciliation"; MT §5.5 the
    # mock answers "reversal after confirm" and "confirm after reversal" with DUPLICATE_RECORD. ---
    ("advice", ("4xx",), (_CONFLICT,), _V.DECLINED,
     "conflicts with an earlier advice: park for reconciliation"),
    ("advice_repeat", ("4xx",), (E.DUPLICATE_RECORD,), _V.APPROVED,
     "already received on an earlier send: delivered"),
    ("advice", ("4xx",), (E.DUPLICATE_RECORD,), _V.DECLINED,
     "duplicate on a first send: park for reconciliation"),
    # ---- advices in general (store and forward) ---------------------------------------------
    ("advice", ("2xx",), ANY, _V.APPROVED, "delivered"),
    # Decision: 501 on an advice is final, whatever its body: park and alert, never retried
    # for ever. Reference: MT §7.7 "501 means 'provider does not offer this', final, cache it";
    # §4.4 "Never retry a 501; never treat it as 'unknown'".
    ("advice", (501,), ANY, _V.DECLINED, "not implemented by the switch: park and alert"),
    ("advice", ("any",), _PENDING, _V.RETRY, "upstream not final: send again later"),
    # The spec calls 401/403/429/503 final; for an advice dropping loses money, so retry.
    ("advice", (401, 403, 408, 429), ANY, _V.RETRY, "transient refusal: send again later"),
    ("advice", ("5xx", _TIMEOUT, _UNSENT), ANY, _V.RETRY, "no final answer: send again later"),
    ("advice", (400,), ANY, _V.DECLINED, "rejected: park for a supervisor"),
    ("advice", ("any",), ANY, _V.DECLINED, "unexpected answer: park for a supervisor"),
    # ---- reads: lookups and admin (no financial impact; re-send until an answer) -------------
    ("read", ("ok",), ANY, _V.APPROVED, "answered"),
    ("read", ("2xx",), ANY, _V.RETRY, "unreadable answer: ask again"),
    ("read", (501,), ANY, _V.DECLINED, "not offered by this provider"),
    ("read", ("any",), _PENDING, _V.RETRY, "upstream not final: ask again"),
    ("read", (408, 429, "5xx", _TIMEOUT, _UNSENT), ANY, _V.RETRY, "no answer: ask again"),
    ("read", ("any",), ANY, _V.DECLINED, "refused"),
)

# The scope chain per operation family (most specific first; the Op itself always leads).
_FAMILY: dict[Op, tuple[str, ...]] = {
    Op.PURCHASE_TRIAL: ("trial", "request"),
    Op.PURCHASE_STATUS: ("status",),
    Op.VOUCHER_CONFIRM: ("confirm", "advice"),
    Op.PURCHASE_CONFIRM: ("confirm", "advice"),
    Op.MT_ORDER_CONFIRM: ("confirm", "advice"),
    Op.MT_REDEEM_CONFIRM: ("confirm", "advice"),
    Op.SUV_REDEEM_CONFIRM: ("confirm", "advice"),
    Op.SUV_PROVISION_CONFIRM: ("confirm", "advice"),
    Op.SUV_REFUND_CONFIRM: ("confirm", "advice"),
    Op.VOUCHER_REVERSE: ("reverse", "advice"),
    Op.PURCHASE_REVERSE: ("reverse", "advice"),
    Op.MT_ORDER_REVERSE: ("reverse", "advice"),
    Op.MT_REDEEM_REVERSE: ("reverse", "advice"),
    Op.MT_ORDER_CANCEL_REVERSE: ("reverse", "advice"),
    Op.SUV_REDEEM_REVERSE: ("reverse", "advice"),
    Op.SUV_PROVISION_REVERSE: ("reverse", "advice"),
    Op.SUV_REFUND_REVERSE: ("reverse", "advice"),
}
_BY_KIND = {"request": ("request",), "advice": ("advice",), "lookup": ("read",), "admin": ("read",)}


def scopes(op: Op, asked: Asked = NOTHING) -> tuple[str, ...]:
    chain = [op.value]
    if op is Op.PURCHASE and asked.direct_topup:
        chain.append("topup")
    if op is Op.PURCHASE_STATUS and asked.early:
        chain.append("status_early")
    family = _FAMILY.get(op, _BY_KIND[SPECS[op].kind])
    if asked.repeat and family[-1] == "advice":
        family = (*family[:-1], "advice_repeat", "advice")
    return (*chain, *family)


# --- the classifier --------------------------------------------------------------------------


def classify(op: Op, status: int | None, body: bytes | None, asked: Asked = NOTHING, *,
             sent: bool = True) -> Outcome:
    """Classify one answer to ``op``. ``status=None``: no full answer in time (``sent=False``:
    the request certainly never left the till). Never raises, whatever the body."""
    try:
        return _classify(op, status, body, asked, sent)[0]
    except Exception as exc:  # a defect of ours must not cost a sale: read it as "no answer"
        fallback, _ = _classify(op, None, None, NOTHING, sent)
        return Outcome(fallback.verdict, status, None, None, None,
                       f"classifier fault ({type(exc).__name__}): read as no answer",
                       sent=sent)


def _classify(op: Op, status: int | None, body: bytes | None, asked: Asked,
              sent: bool) -> tuple[Outcome, Row]:
    status, body = _readable(status, body, sent)
    message, problem = _success_message(op, status, body, asked)
    error = None if message is not None or _is_2xx(status) else _error_detail(body)
    error_type = _error_type_of(error)
    match_type = _CONFLICT if _conflicting(op, error, error_type) else error_type
    row = _find_row(scopes(op, asked), status, sent, problem is None and message is not None,
                    match_type)
    verdict, reason = row[3], row[4]
    error_type = _declined_as(verdict, status, sent, error_type)
    violation = (problem or "") if _is_2xx(status) and verdict is not Verdict.APPROVED else ""
    return Outcome(verdict, status, message if not problem else None, error, error_type,
                   _reason(reason, status, sent, error, error_type, body, violation),
                   violation, sent), row


def _readable(status: int | None, body: bytes | None,
              sent: bool) -> tuple[int | None, bytes | None]:
    """What can be read of the answer: nothing of a request never sent, no body beyond the
    bound (unreadable, never parsed)."""
    if not sent:
        return None, None
    return status, None if body is not None and len(body) > codec.MAX_BODY else body


def _error_type_of(error: ErrorDetail | None) -> str | None:
    error_type = error.error_type if error else None
    return error_type if isinstance(error_type, str) else None


def _declined_as(verdict: Verdict, status: int | None, sent: bool,
                 error_type: str | None) -> str | None:
    """The errorType a decline is reported with: not offered (501), never sent, or the body's."""
    if verdict is not Verdict.DECLINED:
        return error_type
    if not sent:
        return SWITCH_UNREACHABLE
    return NOT_IMPLEMENTED if status == 501 else error_type


def _find_row(chain: tuple[str, ...], status: int | None, sent: bool, ours: bool,
              error_type: str | None) -> Row:
    for scope in chain:
        for row in TABLE:
            if row[0] == scope and _status_matches(row[1], status, sent, ours) and (
                row[2] is None or error_type in row[2]
            ):
                return row
    raise AssertionError(f"no outcome row for {chain} {status}")  # every chain ends in "any"


def _status_matches(tokens: tuple[int | str, ...], status: int | None, sent: bool,
                    ours: bool) -> bool:
    return any(_token_matches(t, status, sent, ours) for t in tokens)


def _token_matches(tok: int | str, status: int | None, sent: bool, ours: bool) -> bool:
    if tok == "any":
        return True
    if status is None:
        return tok == (_TIMEOUT if sent else _UNSENT)
    if isinstance(tok, int):
        return status == tok
    if tok == "ok":
        return _is_2xx(status) and ours
    if tok in (_TIMEOUT, _UNSENT):
        return False
    return status // 100 == int(tok[0])  # "2xx", "4xx", "5xx"


def _is_2xx(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


# --- is it this request's answer, with its value? ---------------------------------------------

# Answers that must carry the request's id: financial requests and the trial (their response
# echoes ``id``: MT §5.3, airtime §4.4) and the status lookup (the original purchase's answer).
_ID_CHECKED = frozenset(op for op, spec in SPECS.items() if spec.kind == "request") | {
    Op.PURCHASE_STATUS}


def _success_message(op: Op, status: int | None, body: bytes | None,
                     asked: Asked) -> tuple[Any, str | None]:
    """(the parsed success model or None, why it is not an approval or None)."""
    if not _is_2xx(status):
        return None, "not a success status"
    if not body:
        return None, "empty body"
    try:
        message = codec.decode(SPECS[op].response, body)
    except codec.DecodeError as exc:
        return None, f"unreadable body ({str(exc)[:60]})"
    return message, _not_ours(op, message, asked) or _missing_value(op, message, asked)


def _not_ours(op: Op, message: Any, asked: Asked) -> str | None:
    if op not in _ID_CHECKED:
        return None
    got = getattr(message, "id", None)
    if not isinstance(got, str) or not got:
        return "the answer carries no id"
    if asked.request_id is not None and got != asked.request_id:
        return f"answer id {got[:40]!r} is not the request's {asked.request_id}"
    return None


def _voucher_pin(message: Any) -> str | None:
    pin = getattr(getattr(message, "voucher", None), "pin", None)
    return None if isinstance(pin, str) and pin.strip() else "no voucher PIN in the answer"


def _payout_amount(message: Any) -> str | None:
    amount = getattr(getattr(message, "amount", None), "amount", None)
    return None if isinstance(amount, int) and amount > 0 else "no payout amount in the answer"


def redeemed_amount(message: Any, requested: int | None) -> int | None:
    """What a redemption answer approved: ``amounts.approvedAmount``, else the requested amount
    (topup-and-redemption B2: "fall back to requestAmount if absent")."""
    amounts = getattr(message, "amounts", None)
    approved = getattr(getattr(amounts, "approved_amount", None), "amount", None)
    if isinstance(approved, int):
        return approved
    asked_for = getattr(getattr(amounts, "request_amount", None), "amount", None)
    return asked_for if isinstance(asked_for, int) else requested


def _redeemed(message: Any, asked: Asked) -> str | None:
    approved = redeemed_amount(message, asked.amount)
    if approved is None:
        return None
    if approved <= 0 or (asked.amount is not None and approved > asked.amount):
        return f"approved amount {approved} is not within 1..{asked.amount}"
    return None


def _missing_value(op: Op, message: Any, asked: Asked) -> str | None:
    """Seed 000: a provision (or a PIN product bought through /purchases) succeeds only when it
    contains the voucher; MT §6.2: the payout is the redeem answer's ``amount``; SUV: a redemption
    is approved for ``approvedAmount`` (at most what was asked)."""
    if op is Op.VOUCHER_PROVISION or (op is Op.PURCHASE and not asked.direct_topup):
        return _voucher_pin(message)
    if op is Op.MT_REDEEM:
        return _payout_amount(message)
    if op is Op.SUV_REDEEM:
        return _redeemed(message, asked)
    return None


def _error_detail(body: bytes | None) -> ErrorDetail | None:
    if not body:
        return None
    try:
        return codec.decode(ErrorDetail, body)
    except codec.DecodeError:
        return None


_CONFLICT_WORDS = ("cannot", "can not", "can't", "unable", "not allowed", "conflict")
_OTHER_ADVICE = {"confirm": "revers", "reverse": "confirm"}


def _conflicting(op: Op, error: ErrorDetail | None, error_type: str | None) -> bool:
    """A DUPLICATE_RECORD whose text says this advice clashes with an earlier one (MT §5.5:
    "Unable to reverse a confirmed order", "already been reversed and cannot be confirmed")."""
    if error is None or error_type != E.DUPLICATE_RECORD or SPECS[op].kind != "advice":
        return False
    text = f"{error.error_message or ''} {error.detail_message or ''}".lower()[:2000]
    family = _FAMILY.get(op, ("",))[0]
    other = _OTHER_ADVICE.get(family)
    return any(w in text for w in _CONFLICT_WORDS) or bool(other and other in text)


def _reason(text: str, status: int | None, sent: bool, error: ErrorDetail | None,
            error_type: str | None, body: bytes | None, violation: str) -> str:
    where = ("not sent" if not sent else "no answer") if status is None else f"HTTP {status}"
    parts = [text, where, error_type or "", violation, _said(status, error, body)]
    return "; ".join(p for p in parts if p)


def _said(status: int | None, error: ErrorDetail | None, body: bytes | None) -> str:
    """What the answer itself said: its error message, or a snippet of a body that is none."""
    if error and isinstance(error.error_message, str) and error.error_message:
        return error.error_message[:80]
    if body and not _is_2xx(status) and error is None:
        return f"body: {_snippet(body)}"
    return ""


def _snippet(body: bytes, limit: int = 60) -> str:
    text = body[:limit].decode("utf-8", errors="replace")
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return repr(text + ("..." if len(body) > limit else ""))
