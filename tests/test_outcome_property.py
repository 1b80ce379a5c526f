"""No body can crash the classifier (issue 10 item 5): hostile bodies, then a property test that
``classify`` returns an outcome for ANY (operation, status, body, what was asked) and never
raises, without falling back on its own safety net."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from terminal_agent.protocol import codec
from terminal_agent.protocol.operations import SPECS, Op
from terminal_agent.protocol.outcome import Asked, Outcome, Verdict, classify

DEEP = b'{"errorType": "GENERAL_ERROR", "detailMessage": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
HOSTILE = [
    DEEP,
    b"[" * 1_000_000,
    b'{"errorType": "\xff\xfe", "errorMessage": "x"}',  # invalid UTF-8
    b'{"errorType": "\\ud800"}',                           # lone surrogate
    b'{"id": 1e999999}',
    b'{"id": ' + b"9" * 10_000 + b"}",
    b'{"errorType": 5, "errorMessage": {"a": 1}}',
    b'{"voucher": {"pin": 12345}, "id": ["x"]}',
    gzip.compress(b"{" * 100_000),
    b"\x00" * 1000,
    b'"just a string"',
    b"null",
    b"[]",
    b"{}" * 10,
    b"x" * (codec.MAX_BODY + 1),
]


@pytest.mark.parametrize("op", list(Op))
@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_bodies_yield_an_outcome(op: Op, body: bytes) -> None:
    for status in (SPECS[op].status, 400, 404, 500):
        result = classify(op, status, body, Asked(request_id="a", amount=100))
        assert isinstance(result, Outcome)
        assert not result.reason.startswith("classifier fault"), result.reason
        if 200 <= status < 300 and SPECS[op].kind == "request":
            assert result.verdict is not Verdict.APPROVED


def test_deep_nesting_is_a_readable_failure_not_a_recursion_error() -> None:
    result = classify(Op.VOUCHER_PROVISION, 500, DEEP)
    assert result.verdict is Verdict.UNKNOWN and result.error is None
    with pytest.raises(codec.DecodeError):
        codec.decode(dict, DEEP)


# --- the property ----------------------------------------------------------------------------

_ERROR_TYPES = st.sampled_from(["DUPLICATE_RECORD", "OUTCOME_UNKNOWN", "UPSTREAM_UNAVAILABLE",
                                "UNABLE_TO_LOCATE_RECORD", "FORMAT_ERROR", "NEW_THING", ""])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=20)


@st.composite
def bodies(draw: st.DrawFn) -> bytes | None:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return None
    if kind == 1:
        return draw(st.binary(max_size=300))
    if kind == 2:  # an error body
        return json.dumps({"errorType": draw(_ERROR_TYPES),
                           "errorMessage": draw(st.text(max_size=40)),
                           "detailMessage": draw(_JSON)}).encode()
    if kind == 3:  # a success-shaped body with random parts
        return json.dumps({"id": draw(st.sampled_from(["a", "b", None, 5])),
                           "voucher": draw(st.sampled_from([None, {}, {"pin": "1"},
                                                            {"pin": 7}])),
                           "amount": draw(st.sampled_from([None, {"amount": 5}, {}, 3])),
                           "amounts": draw(_JSON), "extra": draw(_JSON)}).encode()
    return json.dumps(draw(_JSON)).encode()


ASKED = st.builds(Asked, request_id=st.sampled_from([None, "a", "b"]),
                  amount=st.one_of(st.none(), st.integers(-5, 10**12)),
                  direct_topup=st.booleans(), early=st.booleans(), repeat=st.booleans())


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(op=st.sampled_from(list(Op)),
       status=st.one_of(st.none(), st.integers(-1000, 1000), st.integers()),
       body=bodies(), asked=ASKED, sent=st.booleans())
def test_classify_returns_an_outcome_for_anything(op: Op, status: int | None,
                                                  body: bytes | None, asked: Asked,
                                                  sent: bool) -> None:
    result = classify(op, status, body, asked, sent=sent)
    assert isinstance(result, Outcome) and isinstance(result.verdict, Verdict)
    assert not result.reason.startswith("classifier fault"), result.reason
    kind = SPECS[op].kind
    if kind == "advice":
        assert result.verdict is not Verdict.UNKNOWN
    if not sent and kind == "request" and op is not Op.PURCHASE_TRIAL:
        assert result.verdict is Verdict.DECLINED  # never left the till: nothing to reverse
    if result.verdict is Verdict.APPROVED and kind == "request" and status is not None \
            and 200 <= status < 300 and asked.request_id is not None:
        assert getattr(result.message, "id", None) == asked.request_id
