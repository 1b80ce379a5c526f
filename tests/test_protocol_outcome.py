"""The outcome classifier, from a table of (operation, status, body) -> verdict.

Every operation appears, and a final test checks that every row of ``outcome.TABLE`` is
exercised by at least one case here.
"""

from __future__ import annotations

import json
import re

import pytest

from terminal_agent.protocol import codec, outcome
from terminal_agent.protocol.operations import SPECS, Op
from terminal_agent.protocol.outcome import NOT_IMPLEMENTED, Outcome, Verdict, classify
from tests.test_protocol_models import samples

A, D, U, R = Verdict.APPROVED, Verdict.DECLINED, Verdict.UNKNOWN, Verdict.RETRY
S = samples()


def err(error_type: str, message: str = "error") -> bytes:
    return json.dumps({"id": "dfc9dea0-f5cf-758d-6207-cb57fc7ddb16", "errorType": error_type,
                       "errorMessage": message}).encode()


def ok(name: str) -> bytes:
    return codec.encode(S[name])


HTML = b"<html><body>502 Bad Gateway</body></html>"
PRODUCTS = codec.encode([S["Product"]])
REQUESTS = {  # financial request -> a good success body
    Op.VOUCHER_PROVISION: ok("VoucherResponse"),
    Op.PURCHASE: ok("PurchaseResponse"),
    Op.MT_ORDER_CREATE: ok("MoneyTransferAuthResponse"),
    Op.MT_REDEEM: ok("MoneyTransferRedeemResponse"),
    Op.MT_ORDER_CANCEL: ok("MoneyTransferOrderCancelResponse"),
    Op.SUV_REDEEM: ok("RedemptionResponse"),
    Op.SUV_PROVISION: ok("ProvisionResponse"),
    Op.SUV_REFUND: ok("RefundResponse"),
}
CONFIRMS = [Op.VOUCHER_CONFIRM, Op.PURCHASE_CONFIRM, Op.MT_ORDER_CONFIRM, Op.MT_REDEEM_CONFIRM,
            Op.SUV_REDEEM_CONFIRM, Op.SUV_PROVISION_CONFIRM, Op.SUV_REFUND_CONFIRM]
REVERSES = [Op.VOUCHER_REVERSE, Op.PURCHASE_REVERSE, Op.MT_ORDER_REVERSE, Op.MT_REDEEM_REVERSE,
            Op.MT_ORDER_CANCEL_REVERSE, Op.SUV_REDEEM_REVERSE, Op.SUV_PROVISION_REVERSE,
            Op.SUV_REFUND_REVERSE]
READS = {
    Op.MSISDN_LOOKUP: ok("MsisdnInfoResponse"),
    Op.LIST_PRODUCTS: PRODUCTS,
    Op.MT_CUSTOMER_UPSERT: ok("MoneyTransferAdminMessage"),
    Op.MT_CUSTOMER_INFO: ok("MoneyTransferAdminMessage"),
    Op.MT_FEE_QUOTE: ok("MoneyTransferFeeQuote"),
    Op.MT_FEE_QUOTE_POST: ok("MoneyTransferFeeQuote"),
    Op.MT_EXCHANGE_RATE: b'{"rate": 0.05, "fromCurrency": "710", "toCurrency": "840"}',
    Op.MT_ORDER_LOOKUP: ok("MoneyTransferLookupResponse"),
    Op.SUV_LOOKUP: ok("VoucherLookupResponse"),
    Op.SUV_REDEEM_STATUS: ok("RedemptionResponse"),
}

Case = tuple[Op, int | None, bytes | None, Verdict, str | None]

CASES: list[Case] = []
# ---- financial requests: the same rows for every one ----------------------------------------
for _op, _body in REQUESTS.items():
    CASES += [
        (_op, SPECS[_op].status, _body, A, None),
        (_op, 200, _body, A, None),  # any 2xx counts
        (_op, SPECS[_op].status, b"", U, None),  # 2xx, unreadable
        (_op, SPECS[_op].status, b"{}", U, None),  # 2xx, wrong shape
        (_op, 400, err("OUTCOME_UNKNOWN"), U, "OUTCOME_UNKNOWN"),
        (_op, 400, err("FORMAT_ERROR"), D, "FORMAT_ERROR"),
        (_op, 400, err("DUPLICATE_RECORD"), D, "DUPLICATE_RECORD"),
        (_op, 400, b"", D, None),
        (_op, 404, b"", D, None),
        (_op, 500, err("SYSTEM_ERROR"), U, "SYSTEM_ERROR"),
        (_op, 504, b"", U, None),
        (_op, None, None, U, None),
        (_op, 401, b"", D, None),
        (_op, 302, b"", D, None),
    ]
    if _op in (Op.SUV_REDEEM, Op.SUV_PROVISION, Op.SUV_REFUND):
        # SUV provisions, redemptions and refunds reverse on every 5xx, 501 and 503 included
        # (topup-and-redemption B2).
        CASES += [(_op, 503, err("UPSTREAM_UNAVAILABLE"), U, "UPSTREAM_UNAVAILABLE"),
                  (_op, 502, HTML, U, None)]
    else:
        CASES += [(_op, 503, err("UPSTREAM_UNAVAILABLE"), D, "UPSTREAM_UNAVAILABLE"),
                  (_op, 502, HTML, U, None),
                  (_op, 501, err("FUNCTION_NOT_SUPPORTED"), D, NOT_IMPLEMENTED)]
CASES += [
    (Op.PURCHASE, 400, err("ACCOUNT_ALREADY_SETTLED"), D, "ACCOUNT_ALREADY_SETTLED"),
    (Op.MT_REDEEM, 400, err("INCORRECT_PIN"), D, "INCORRECT_PIN"),
    (Op.MT_ORDER_CANCEL, 404, err("UNABLE_TO_LOCATE_RECORD"), D, "UNABLE_TO_LOCATE_RECORD"),
    (Op.SUV_REDEEM, 400, err("VOUCHER_ALREADY_REDEEMED"), D, "VOUCHER_ALREADY_REDEEMED"),
    (Op.VOUCHER_PROVISION, 201, b'{"id": "x"}', U, None),  # a provision without a voucher
    (Op.SUV_REDEEM, 501, b"", U, None),
    (Op.SUV_PROVISION, 501, b"", U, None),
    (Op.SUV_REFUND, 501, b"", U, None),
]
# ---- trial ----------------------------------------------------------------------------------
CASES += [
    (Op.PURCHASE_TRIAL, 200, ok("PurchaseResponse"), A, None),
    (Op.PURCHASE_TRIAL, 501, b"", A, None),
    (Op.PURCHASE_TRIAL, 400, err("FUNCTION_NOT_SUPPORTED"), A, "FUNCTION_NOT_SUPPORTED"),
    (Op.PURCHASE_TRIAL, 400, err("INVALID_MSISDN"), D, "INVALID_MSISDN"),
    (Op.PURCHASE_TRIAL, 503, b"", D, None),
    (Op.PURCHASE_TRIAL, 200, b"garbage", U, None),
    (Op.PURCHASE_TRIAL, None, None, U, None),
    (Op.PURCHASE_TRIAL, 500, b"", U, None),
]
# ---- purchase status ------------------------------------------------------------------------
CASES += [
    (Op.PURCHASE_STATUS, 200, ok("PurchaseResponse"), A, None),
    (Op.PURCHASE_STATUS, 202, ok("PurchaseResponse"), A, None),  # the test server's code
    (Op.PURCHASE_STATUS, 200, b"not json", R, None),
    (Op.PURCHASE_STATUS, 400, err("OUTCOME_UNKNOWN"), R, "OUTCOME_UNKNOWN"),
    (Op.PURCHASE_STATUS, 503, err("UPSTREAM_UNAVAILABLE"), R, "UPSTREAM_UNAVAILABLE"),
    (Op.PURCHASE_STATUS, 400, err("UNABLE_TO_LOCATE_RECORD"), R, "UNABLE_TO_LOCATE_RECORD"),
    (Op.PURCHASE_STATUS, 400, err("FORMAT_ERROR"), R, "FORMAT_ERROR"),
    (Op.PURCHASE_STATUS, 404, b"", D, None),
    (Op.PURCHASE_STATUS, 400, err("ACCOUNT_ALREADY_SETTLED"), D, "ACCOUNT_ALREADY_SETTLED"),
    (Op.PURCHASE_STATUS, 400, err("DECLINED_BY_MNO"), D, "DECLINED_BY_MNO"),
    (Op.PURCHASE_STATUS, 500, b"", R, None),
    (Op.PURCHASE_STATUS, 504, b"", R, None),
    (Op.PURCHASE_STATUS, 501, b"", R, None),
    (Op.PURCHASE_STATUS, 401, b"", R, None),
    (Op.PURCHASE_STATUS, None, None, R, None),
]
# ---- advices: shared rows, then the 404 that means opposite things ---------------------------
for _op in CONFIRMS + REVERSES:
    CASES += [
        (_op, 202, ok("BasicAdviceResponse"), A, None),
        (_op, 200, b"", A, None),
        (_op, 202, b"<html>", A, None),  # status decides, not the body
        # on a first send a duplicate is no proof of delivery: park (see test_duplicate_*)
        (_op, 400, err("DUPLICATE_RECORD"), D, "DUPLICATE_RECORD"),
        (_op, 400, err("OUTCOME_UNKNOWN"), R, "OUTCOME_UNKNOWN"),
        (_op, 501, b"", D, NOT_IMPLEMENTED),
        (_op, 503, err("UPSTREAM_UNAVAILABLE"), R, "UPSTREAM_UNAVAILABLE"),
        (_op, 400, err("ACCOUNT_ALREADY_SETTLED"), D, "ACCOUNT_ALREADY_SETTLED"),
        (_op, 400, err("FORMAT_ERROR"), D, "FORMAT_ERROR"),
        (_op, 400, b"", D, None),
        (_op, 401, b"", R, None),
        (_op, 403, b"", R, None),
        (_op, 408, b"", R, None),
        (_op, 429, b"", R, None),
        (_op, 500, b"oops", R, None),
        (_op, 502, HTML, R, None),
        (_op, 503, b"", R, None),
        (_op, 504, b"", R, None),
        (_op, None, None, R, None),
        (_op, 405, b"", D, None),
    ]
for _op in CONFIRMS:
    CASES += [
        (_op, 404, b"", D, None),
        (_op, 404, err("UNABLE_TO_LOCATE_RECORD"), D, "UNABLE_TO_LOCATE_RECORD"),
        (_op, 400, err("UNABLE_TO_LOCATE_RECORD"), D, "UNABLE_TO_LOCATE_RECORD"),
    ]
for _op in REVERSES:
    CASES += [
        (_op, 404, b"", A, None),
        (_op, 404, err("UNABLE_TO_LOCATE_RECORD"), A, "UNABLE_TO_LOCATE_RECORD"),
        (_op, 400, err("UNABLE_TO_LOCATE_RECORD"), A, "UNABLE_TO_LOCATE_RECORD"),
    ]
CASES += [
    (Op.MT_REDEEM_REVERSE, 400, err("ALREADY_REDEEMED"), D, "ALREADY_REDEEMED"),
    (Op.MT_REDEEM_CONFIRM, 400, err("UNABLE_TO_REDEEM"), D, "UNABLE_TO_REDEEM"),
    (Op.SUV_REDEEM_REVERSE, 400, err("REDEMPTION_ALREADY_CONFIRMED"), D,
     "REDEMPTION_ALREADY_CONFIRMED"),
    (Op.SUV_REDEEM_REVERSE, 400, err("REDEMPTION_ALREADY_REVERSED"), A,
     "REDEMPTION_ALREADY_REVERSED"),
    (Op.SUV_REDEEM_CONFIRM, 400, err("REDEMPTION_ALREADY_CONFIRMED"), A,
     "REDEMPTION_ALREADY_CONFIRMED"),
    (Op.SUV_REDEEM_CONFIRM, 400, err("VOUCHER_NOT_REDEEMED"), D, "VOUCHER_NOT_REDEEMED"),
    (Op.VOUCHER_REVERSE, 400, err("VOUCHER_ALREADY_CONFIRMED"), D, "VOUCHER_ALREADY_CONFIRMED"),
]
# ---- reads: lookups and admin ---------------------------------------------------------------
for _op, _body in READS.items():
    CASES += [
        (_op, SPECS[_op].status, _body, A, None),
        (_op, 200, b"garbage", R, None),
        (_op, 501, b"", D, NOT_IMPLEMENTED),
        (_op, 400, err("OUTCOME_UNKNOWN"), R, "OUTCOME_UNKNOWN"),
        (_op, 408, b"", R, None),
        (_op, 429, b"", R, None),
        (_op, 500, b"", R, None),
        (_op, 503, err("UPSTREAM_UNAVAILABLE"), R, "UPSTREAM_UNAVAILABLE"),
        (_op, 504, b"", R, None),
        (_op, None, None, R, None),
        (_op, 400, err("UNABLE_TO_LOCATE_RECORD"), D, "UNABLE_TO_LOCATE_RECORD"),
        (_op, 404, b"", D, None),
        (_op, 401, b"", D, None),
    ]
CASES += [
    (Op.MSISDN_LOOKUP, 202, ok("MsisdnInfoResponse"), A, None),  # the test server's code
    (Op.MT_CUSTOMER_UPSERT, 200, ok("MoneyTransferAdminMessage"), A, None),  # mock's update
    (Op.MT_CUSTOMER_UPSERT, 400, err("CUSTOMER_CHECK_FAILED"), D, "CUSTOMER_CHECK_FAILED"),
    (Op.MT_EXCHANGE_RATE, 200, b'{"exchangeRate": {"rate": 1, "fromCurrency": "710", '
                               b'"toCurrency": "840"}}', A, None),
]


def _id(case: Case) -> str:
    op, status, body, verdict, _ = case
    # a sample's fresh id masked, so every run (and every xdist worker) names the case alike
    excerpt = re.sub(rb"[0-9a-f]{8}-[0-9a-f-]{4,}", b"<id>", body or b"")[:20]
    return f"{op.value}-{status}-{excerpt!r}-{verdict.value}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_classify(case: Case) -> None:
    op, status, body, verdict, error_type = case
    result = classify(op, status, body)
    assert isinstance(result, Outcome)
    assert (result.verdict, result.error_type) == (verdict, error_type)
    assert result.status == status
    assert result.reason


def test_every_operation_is_covered() -> None:
    assert {c[0] for c in CASES} == set(Op)


# (op, status, body, asked, sent) -> verdict: the rows that need to know what was asked
ASKED_CASES: list[tuple[Op, int | None, bytes | None, outcome.Asked, bool, Verdict]] = [
    (Op.PURCHASE, 503, err("UPSTREAM_UNAVAILABLE"), outcome.Asked(direct_topup=True), True, U),
    (Op.PURCHASE, 400, err("OUTCOME_UNKNOWN"), outcome.Asked(direct_topup=True), True, U),
    (Op.PURCHASE_STATUS, 404, b"", outcome.Asked(early=True), True, R),
    (Op.VOUCHER_REVERSE, 400, err("DUPLICATE_RECORD"), outcome.Asked(repeat=True), True, A),
    (Op.MT_ORDER_REVERSE, 400, err("DUPLICATE_RECORD", "Unable to reverse a confirmed order"),
     outcome.Asked(repeat=True), True, D),
    (Op.VOUCHER_PROVISION, None, None, outcome.NOTHING, False, D),
    (Op.VOUCHER_REVERSE, None, None, outcome.NOTHING, False, R),
    (Op.MT_ORDER_LOOKUP, None, None, outcome.NOTHING, False, R),
]


@pytest.mark.parametrize("case", ASKED_CASES, ids=[f"{c[0]}-{c[1]}-{c[3]}-{c[4]}"
                                                     for c in ASKED_CASES])
def test_classify_in_context(case) -> None:
    op, status, body, asked, sent, verdict = case
    assert classify(op, status, body, asked, sent=sent).verdict is verdict


def test_every_table_row_is_exercised() -> None:
    used = {outcome._classify(op, status, body, outcome.NOTHING, True)[1]
            for op, status, body, _, _ in CASES}
    used |= {outcome._classify(op, status, body, asked, sent)[1]
             for op, status, body, asked, sent, _ in ASKED_CASES}
    missing = [row for row in outcome.TABLE if row not in used]
    assert not missing


def test_success_carries_the_parsed_message() -> None:
    result = classify(Op.PURCHASE, 201, ok("PurchaseResponse"))
    assert result.message == S["PurchaseResponse"]
    assert result.error is None
    products = classify(Op.LIST_PRODUCTS, 200, PRODUCTS).message
    assert products == [S["Product"]]


def test_error_detail_is_parsed_and_reported() -> None:
    result = classify(Op.PURCHASE, 400, err("INVALID_PRODUCT", "Unknown product"))
    assert result.error is not None and result.error.error_message == "Unknown product"
    assert "HTTP 400" in result.reason and "INVALID_PRODUCT" in result.reason


def test_unknown_error_type_survives() -> None:
    result = classify(Op.PURCHASE, 400, err("SOMETHING_NEW"))
    assert (result.verdict, result.error_type) == (D, "SOMETHING_NEW")
    result = classify(Op.PURCHASE_CONFIRM, 400, err("SOMETHING_NEW"))
    assert result.verdict is D


def test_non_json_error_body_is_survived_with_a_snippet() -> None:
    result = classify(Op.PURCHASE, 500, b"java.lang.NullPointerException at line 42\n\x00")
    assert result.verdict is U and result.error is None and result.error_type is None
    assert "NullPointerException" in result.reason
    long = classify(Op.MT_ORDER_LOOKUP, 400, b"x" * 5000)
    assert len(long.reason) < 200


def test_timeout_has_no_status() -> None:
    result = classify(Op.PURCHASE, None, None)
    assert result.status is None and "no answer" in result.reason


def test_outcome_is_frozen() -> None:
    result = classify(Op.PURCHASE, None, None)
    with pytest.raises(AttributeError):
        result.verdict = A  # type: ignore[misc]
