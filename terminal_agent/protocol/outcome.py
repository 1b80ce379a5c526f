"""What an answer (or its absence) means: one table, read top to bottom, first match wins.

``classify(op, status, body)`` turns an HTTP status (``None`` = timeout or no answer) and body
into an ``Outcome``. The verdicts:

- ``APPROVED``: a definite success. For an advice: delivered, nothing more to send.
- ``DECLINED``: a definite, final failure. For a request nothing happened (no advice needed);
  for an advice the answer will never get better (park it for a supervisor).
- ``UNKNOWN``: a request may or may not have been processed: reverse it (or, for direct top-up,
  look up its status). Only requests get this verdict.
- ``RETRY``: send the same thing again later (advices, reads and status lookups).

Each operation is read through a chain of scopes, most specific first: the operation itself,
its family (``trial``, ``confirm``, ``reverse``, ``status``, ``read``) and then the general
family (``request``, ``advice``). So a trial falls back to the request rows, a reversal to the
advice rows. The HTTP status decides first; ``errorType`` refines it where a row names one.
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


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    status: int | None
    message: Any = None
    error: ErrorDetail | None = None
    error_type: str | None = None
    reason: str = ""


# --- the table -------------------------------------------------------------------------------
#
# A row is (scope, statuses, errorTypes, verdict, reason).
#   scope     : an Op, a family name, or a general family name (see _SCOPES).
#   statuses  : tuple of tokens: an int, "timeout" (no answer), "ok" (2xx and the body parses as
#               the operation's response model), "2xx" (any 2xx), "4xx", "5xx", "any".
#   errorTypes: None = any (also no body); otherwise the row needs one of these errorTypes.

ANY = None
_TIMEOUT = "timeout"
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
    # ---- digital voucher redemption: the SUV spec reverses on every 5xx, 503 included (the
    # generic rule calls 503 "not processed"); 501 stays "not offered". Its provision and
    # refund say the same ("fails with one of the 5xx HTTP statuses ... must be reversed") ----
    (Op.SUV_REDEEM, (503,), ANY, _V.UNKNOWN, "redemption answered 503: reverse it"),
    (Op.SUV_PROVISION, (503,), ANY, _V.UNKNOWN, "provision answered 503: reverse it"),
    (Op.SUV_REFUND, (503,), ANY, _V.UNKNOWN, "refund answered 503: reverse it"),
    # ---- financial requests (provision, purchase, createOrder, redeem, cancel, SUV redeem) ---
    ("request", ("ok",), ANY, _V.APPROVED, "approved"),
    ("request", ("2xx",), ANY, _V.UNKNOWN, "success status but unreadable body: outcome unknown"),
    # OUTCOME_UNKNOWN overrides a 4xx: the upstream may have acted.
    ("request", ("any",), (E.OUTCOME_UNKNOWN,), _V.UNKNOWN, "switch reports outcome unknown"),
    ("request", (501,), ANY, _V.DECLINED, "not offered by this provider"),
    ("request", (503,), ANY, _V.DECLINED, "service unavailable: not processed"),
    ("request", (500, 504, "timeout"), ANY, _V.UNKNOWN, "no final answer: outcome unknown"),
    # 502 and other unlisted 5xx: a gateway may have forwarded the request [inf: be safe].
    ("request", ("5xx",), ANY, _V.UNKNOWN, "unexpected server error: outcome unknown"),
    ("request", (404,), ANY, _V.DECLINED, "not found: failed"),
    ("request", (400,), ANY, _V.DECLINED, "declined"),
    ("request", ("any",), ANY, _V.DECLINED, "refused: not processed"),
    # ---- purchase status lookup: keep polling until a definite answer ------------------------
    ("status", ("ok",), ANY, _V.APPROVED, "original purchase succeeded"),
    ("status", ("2xx",), ANY, _V.RETRY, "unreadable status answer: poll again"),
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
    # ---- advices in general (store and forward) ---------------------------------------------
    ("advice", ("2xx",), ANY, _V.APPROVED, "delivered"),
    # A repeat of an advice the server already has: it was delivered (DESIGN §3 rule 3).
    ("advice", ("4xx",), (E.DUPLICATE_RECORD,), _V.APPROVED, "already received: delivered"),
    ("advice", ("any",), _PENDING, _V.RETRY, "upstream not final: send again later"),
    # The spec calls 401/403/429/503 final; for an advice dropping loses money, so retry.
    ("advice", (401, 403, 408, 429), ANY, _V.RETRY, "transient refusal: send again later"),
    ("advice", ("5xx", "timeout"), ANY, _V.RETRY, "no final answer: send again later"),
    ("advice", (400,), ANY, _V.DECLINED, "rejected: park for a supervisor"),
    ("advice", ("any",), ANY, _V.DECLINED, "unexpected answer: park for a supervisor"),
    # ---- reads: lookups and admin (no financial impact; re-send until an answer) -------------
    ("read", ("ok",), ANY, _V.APPROVED, "answered"),
    ("read", ("2xx",), ANY, _V.RETRY, "unreadable answer: ask again"),
    ("read", (501,), ANY, _V.DECLINED, "not offered by this provider"),
    ("read", ("any",), _PENDING, _V.RETRY, "upstream not final: ask again"),
    ("read", (408, 429, "5xx", "timeout"), ANY, _V.RETRY, "no answer: ask again"),
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


def scopes(op: Op) -> tuple[str, ...]:
    return (op.value, *_FAMILY.get(op, _BY_KIND[SPECS[op].kind]))


# --- the classifier --------------------------------------------------------------------------


def classify(op: Op, status: int | None, body: bytes | None) -> Outcome:
    """Classify one answer to ``op``; ``status=None`` means timeout or no answer."""
    message, readable = _success_message(op, status, body)
    error = None if message is not None or _is_2xx(status) else _error_detail(body)
    error_type = error.error_type if error else None
    row = _find_row(op, status, readable, error_type)
    verdict, reason = row[3], row[4]
    if status == 501 and verdict is Verdict.DECLINED:
        error_type = NOT_IMPLEMENTED
    return Outcome(verdict, status, message, error, error_type,
                   _reason(reason, status, error, error_type, body))


def _find_row(op: Op, status: int | None, readable: bool, error_type: str | None) -> Row:
    for scope in scopes(op):
        for row in TABLE:
            if row[0] == scope and _status_matches(row[1], status, readable) and (
                row[2] is None or error_type in row[2]
            ):
                return row
    raise AssertionError(f"no outcome row for {op} {status}")  # every chain ends in "any"


def _status_matches(tokens: tuple[int | str, ...], status: int | None, readable: bool) -> bool:
    return any(_token_matches(t, status, readable) for t in tokens)


def _token_matches(tok: int | str, status: int | None, readable: bool) -> bool:
    if status is None or tok == _TIMEOUT:
        return status is None and tok in (_TIMEOUT, "any")
    if isinstance(tok, int):
        return status == tok
    if tok in ("any", "ok"):
        return tok == "any" or (_is_2xx(status) and readable)
    return status // 100 == int(tok[0])  # "2xx", "4xx", "5xx"


def _is_2xx(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def _success_message(op: Op, status: int | None, body: bytes | None) -> tuple[Any, bool]:
    if not _is_2xx(status) or not body:
        return None, False
    try:
        return codec.decode(SPECS[op].response, body), True
    except codec.DecodeError:
        return None, False


def _error_detail(body: bytes | None) -> ErrorDetail | None:
    if not body:
        return None
    try:
        return codec.decode(ErrorDetail, body)
    except codec.DecodeError:
        return None


def _reason(text: str, status: int | None, error: ErrorDetail | None, error_type: str | None,
            body: bytes | None) -> str:
    where = "no answer" if status is None else f"HTTP {status}"
    parts = [text, where]
    if error_type:
        parts.append(error_type)
    if error and error.error_message:
        parts.append(error.error_message[:80])
    elif body and not _is_2xx(status) and error is None:
        parts.append(f"body: {_snippet(body)}")
    return "; ".join(parts)


def _snippet(body: bytes, limit: int = 60) -> str:
    text = body[:limit].decode("utf-8", errors="replace")
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return repr(text + ("..." if len(body) > limit else ""))
