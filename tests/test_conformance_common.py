"""Conformance, every operation with a body: the ids and times Electrum accepts, missing fields and
bad formats (400 ``FORMAT_ERROR`` naming the field), what a server does *not* check, and (where
``../shared/electrum`` is beside the project) every required field of the published schemas.

Written from the interface definitions (``../shared/electrum``): ``Transaction.id`` is a string
with no pattern, ``time`` an RFC 3339 date-time, the required fields and lengths are those of the
models tables (airtime.md §3, money-transfer.md §3, the SUV Swagger definitions).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest

from tests import server_rules_source
from tests.conformance import (
    ACCEPTED_IDS,
    ACCEPTED_TIMES,
    AIRTIME,
    MT,
    REFUSED_TIMES,
    SUV,
    Switch,
    cash,
    confirmation,
    format_error,
    money,
    new_id,
    ok,
    reversal,
    server_fixture,  # noqa: F401 - fixture
    switch_fixture,  # noqa: F401 - fixture
    transaction,
    with_value,
    without,
)


@dataclass
class Case:
    """One message to send: where, what, and the success status the interface declares."""

    path: str
    body: dict[str, Any]
    status: int


Maker = Callable[..., Case]


def _send(sw: Switch, case: Case) -> dict[str, Any]:
    return ok(sw.post(case.path, case.body), case.status)


# -- originals --------------------------------------------------------------------------------
def voucher_provision(sw: Switch, **o: Any) -> Case:
    body = transaction(product={"productId": "MTN29"}, **o)
    return Case(f"{AIRTIME}/vouchers/{quote(body['id'], safe='')}", body, 201)


def purchase(sw: Switch, **o: Any) -> Case:
    return Case(f"{AIRTIME}/purchases", transaction(product={"productId": "VOD10"}, **o), 201)


def trial(sw: Switch, **o: Any) -> Case:
    body = transaction(product={"productId": "VODDT"}, recipientMsisdn={"msisdn": "27821234567"},
                       amounts={"requestAmount": money(2000)}, **o)
    return Case(f"{AIRTIME}/purchases/trials", body, 200)


def order(sw: Switch, **o: Any) -> Case:
    body = transaction(receiver={"id": "30000001", "name": "Mukuru"}, amount=money(20000),
                       senderDetails={"firstName": "Thandi", "lastName": "Nkosi",
                                      "idNumber": "8001015009087", "idType": "NATIONAL_ID"},
                       newCustomer=True, **o)
    return Case(f"{MT}/orders", body, 201)


def _payable_order(sw: Switch) -> str:
    """A fresh order, created and confirmed: R200.00, no PIN."""
    created = order(sw)
    answer = _send(sw, created)
    _send(sw, Case(f"{MT}/orders/confirmations", confirmation(created.body["id"]), 202))
    return str(answer["orderRedeemRef"])


def redeem_order(sw: Switch, **o: Any) -> Case:
    body = transaction(receiver={"id": "30000001", "name": "Mukuru"},
                       orderRedeemRef=_payable_order(sw), amount=money(20000), **o)
    return Case(f"{MT}/orders/redemptions", body, 201)


def cancel_order(sw: Switch, **o: Any) -> Case:
    body = transaction(receiver={"id": "30000001", "name": "Mukuru"},
                       orderRedeemRef=_payable_order(sw), **o)
    return Case(f"{MT}/orders/cancel", body, 200)


def suv_redeem(sw: Switch, **o: Any) -> Case:
    body = transaction(voucher={"code": "DV5000"}, amounts={"requestAmount": money(1500)}, **o)
    return Case(f"{SUV}/redemptions", body, 201)


def suv_provision(sw: Switch, **o: Any) -> Case:
    return Case(f"{SUV}/vouchers", transaction(product={"productId": "BLU100"}, **o), 201)


def suv_refund(sw: Switch, **o: Any) -> Case:
    redemption = suv_redeem(sw)
    _send(sw, redemption)
    _send(sw, Case(f"{SUV}/redemptions/confirmations", confirmation(redemption.body["id"]), 202))
    return Case(f"{SUV}/refunds", transaction(voucher={"code": "DV5000"}, **o), 201)


ORIGINALS: dict[str, Maker] = {
    "VOUCHER_PROVISION": voucher_provision, "PURCHASE": purchase, "PURCHASE_TRIAL": trial,
    "MT_ORDER_CREATE": order, "MT_REDEEM": redeem_order, "MT_ORDER_CANCEL": cancel_order,
    "SUV_REDEEM": suv_redeem, "SUV_PROVISION": suv_provision, "SUV_REFUND": suv_refund,
}


# -- advices ----------------------------------------------------------------------------------
def _advice(original: Maker, path: Callable[[str, str], str], kind: str) -> Maker:
    def make(sw: Switch, **o: Any) -> Case:
        first = original(sw)
        answer = ok(sw.post(first.path, first.body))
        tpis = answer.get("thirdPartyIdentifiers", [])
        body = (confirmation(first.body["id"], tpis, tenders=cash(100)) if kind == "confirm"
                else reversal(first.body["id"], tpis))
        body.update(o)
        return Case(path(first.body["id"], body["id"]), body, 202)
    return make


def _fixed(path: str) -> Callable[[str, str], str]:
    return lambda request_id, advice_id: path


def _q(text: str) -> str:
    return quote(text, safe="")


ADVICES: dict[str, Maker] = {
    "VOUCHER_CONFIRM": _advice(voucher_provision, lambda r, a: (
        f"{AIRTIME}/vouchers/{_q(r)}/confirmations/{_q(a)}"), "confirm"),
    "VOUCHER_REVERSE": _advice(voucher_provision, lambda r, a: (
        f"{AIRTIME}/vouchers/{_q(r)}/reversals/{_q(a)}"), "reverse"),
    "PURCHASE_CONFIRM": _advice(purchase, _fixed(f"{AIRTIME}/purchases/confirmations"),
                                "confirm"),
    "PURCHASE_REVERSE": _advice(purchase, _fixed(f"{AIRTIME}/purchases/reversals"), "reverse"),
    "MT_ORDER_CONFIRM": _advice(order, _fixed(f"{MT}/orders/confirmations"), "confirm"),
    "MT_ORDER_REVERSE": _advice(order, _fixed(f"{MT}/orders/reversals"), "reverse"),
    "MT_REDEEM_CONFIRM": _advice(redeem_order, _fixed(f"{MT}/orders/redemptions/confirmations"),
                                 "confirm"),
    "MT_REDEEM_REVERSE": _advice(redeem_order, _fixed(f"{MT}/orders/redemptions/reversals"),
                                 "reverse"),
    "MT_ORDER_CANCEL_REVERSE": _advice(cancel_order, _fixed(f"{MT}/orders/cancel/reversals"),
                                       "reverse"),
    "SUV_REDEEM_CONFIRM": _advice(suv_redeem, _fixed(f"{SUV}/redemptions/confirmations"),
                                  "confirm"),
    "SUV_REDEEM_REVERSE": _advice(suv_redeem, _fixed(f"{SUV}/redemptions/reversals"),
                                  "reverse"),
    "SUV_PROVISION_CONFIRM": _advice(suv_provision, _fixed(f"{SUV}/vouchers/confirmations"),
                                     "confirm"),
    "SUV_PROVISION_REVERSE": _advice(suv_provision, _fixed(f"{SUV}/vouchers/reversals"),
                                     "reverse"),
    "SUV_REFUND_CONFIRM": _advice(suv_refund, _fixed(f"{SUV}/refunds/confirmations"), "confirm"),
    "SUV_REFUND_REVERSE": _advice(suv_refund, _fixed(f"{SUV}/refunds/reversals"), "reverse"),
}
OPERATIONS: dict[str, Maker] = {**ORIGINALS, **ADVICES}


# -- ids and times ----------------------------------------------------------------------------
@pytest.mark.parametrize("message_id", ACCEPTED_IDS)
@pytest.mark.parametrize("op", sorted(OPERATIONS))
def test_any_string_id_is_accepted_and_echoed(switch: Switch, op: str, message_id: str) -> None:
    case = OPERATIONS[op](switch, id=message_id)
    if op == "VOUCHER_PROVISION":
        case.path = f"{AIRTIME}/vouchers/{quote(message_id, safe='')}"
    elif op in ("VOUCHER_CONFIRM", "VOUCHER_REVERSE"):
        case.path = case.path.rsplit("/", 1)[0] + "/" + quote(message_id, safe="")
    answer = _send(switch, case)
    assert answer["id"] == message_id


REVERSAL_OF = {
    "VOUCHER_PROVISION": f"{AIRTIME}/vouchers/{{request}}/reversals/{{advice}}",
    "PURCHASE": f"{AIRTIME}/purchases/reversals", "MT_ORDER_CREATE": f"{MT}/orders/reversals",
    "MT_REDEEM": f"{MT}/orders/redemptions/reversals",
    "MT_ORDER_CANCEL": f"{MT}/orders/cancel/reversals", "SUV_REDEEM": f"{SUV}/redemptions/reversals",
    "SUV_PROVISION": f"{SUV}/vouchers/reversals", "SUV_REFUND": f"{SUV}/refunds/reversals",
}


@pytest.mark.parametrize("op", sorted(REVERSAL_OF))
def test_an_original_with_a_non_uuid_id_can_be_reversed(switch: Switch, op: str) -> None:
    original_id = "till-42-" + op.lower()
    case = ORIGINALS[op](switch, id=original_id)
    if op == "VOUCHER_PROVISION":
        case.path = f"{AIRTIME}/vouchers/{original_id}"
    _send(switch, case)
    advice = reversal(original_id, reason="CANCELLED")
    path = REVERSAL_OF[op].format(request=original_id, advice=advice["id"])
    _send(switch, Case(path, advice, 202))
    assert switch.entry(original_id)["final"] == "reversed"


CONFIRMATION_OF = {
    "VOUCHER_PROVISION": f"{AIRTIME}/vouchers/{{request}}/confirmations/{{advice}}",
    "PURCHASE": f"{AIRTIME}/purchases/confirmations", "MT_ORDER_CREATE": f"{MT}/orders/confirmations",
    "MT_REDEEM": f"{MT}/orders/redemptions/confirmations",
    "SUV_REDEEM": f"{SUV}/redemptions/confirmations", "SUV_PROVISION": f"{SUV}/vouchers/confirmations",
    "SUV_REFUND": f"{SUV}/refunds/confirmations",
}


@pytest.mark.parametrize("op", sorted(CONFIRMATION_OF))
def test_a_confirmation_before_its_original_is_404_and_does_not_block_it(switch: Switch,
                                                                         op: str) -> None:
    case = ORIGINALS[op](switch)
    early = confirmation(case.body["id"], tenders=cash(100))
    path = CONFIRMATION_OF[op].format(request=_q(case.body["id"]), advice=early["id"])
    response = switch.post(path, early)
    assert response.status_code == 404 and response.json()["errorType"] == \
        "UNABLE_TO_LOCATE_RECORD"
    _send(switch, case)  # only a reversal kills an id; the original is processed as usual
    again = switch.post(path, early)  # the same advice, now that its original is there
    assert again.status_code in (200, 202), again.text
    assert switch.entry(case.body["id"])["final"] == "confirmed"


@pytest.mark.parametrize("op", sorted(ADVICES))
def test_the_same_advice_again_gets_the_same_answer(switch: Switch, op: str) -> None:
    case = ADVICES[op](switch)
    first = switch.post(case.path, case.body)
    second = switch.post(case.path, case.body)
    assert first.status_code == second.status_code == case.status, second.text
    assert first.json() == second.json()
    counts = [a["count"] for o in switch.ledger()["originals"] for a in o["advices"]
              if a["id"] == case.body["id"]]
    assert counts == [2]


@pytest.mark.parametrize("op", sorted(ADVICES))
def test_an_advice_id_reused_for_another_original_is_a_duplicate(switch: Switch,
                                                                 op: str) -> None:
    first = ADVICES[op](switch)
    _send(switch, first)
    second = ADVICES[op](switch)  # another original of the same kind
    reused = {**second.body, "id": first.body["id"]}
    path = second.path.replace(_q(second.body["id"]), _q(first.body["id"]))
    response = switch.post(path, reused)
    assert response.status_code == 400 and response.json()["errorType"] == "DUPLICATE_RECORD"


@pytest.mark.parametrize("when", ACCEPTED_TIMES)
@pytest.mark.parametrize("op", sorted(OPERATIONS))
def test_any_rfc3339_time_is_accepted_and_echoed(switch: Switch, op: str, when: str) -> None:
    answer = _send(switch, OPERATIONS[op](switch, time=when))
    assert answer["time"] == when


@pytest.mark.parametrize("when", REFUSED_TIMES)
@pytest.mark.parametrize("op", sorted(OPERATIONS))
def test_a_time_that_is_not_rfc3339_is_a_format_error(switch: Switch, op: str,
                                                      when: str) -> None:
    case = OPERATIONS[op](switch, time=when)
    format_error(switch.post(case.path, case.body), "time")


# -- required fields and formats --------------------------------------------------------------
TRANSACTION_REQUIRED = [
    "id", "time", "originator", "client", "thirdPartyIdentifiers", "originator.institution",
    "originator.terminalId", "originator.merchant", "originator.institution.id",
    "originator.institution.name", "originator.merchant.merchantType",
    "originator.merchant.merchantId", "originator.merchant.merchantName",
    "originator.merchant.merchantName.name", "originator.merchant.merchantName.city",
    "originator.merchant.merchantName.region", "originator.merchant.merchantName.country",
    "client.id", "client.name", "thirdPartyIdentifiers[0].institutionId",
]
ADVICE_REQUIRED = ["id", "requestId", "time", "thirdPartyIdentifiers"]
REQUIRED: dict[str, list[str]] = {
    "VOUCHER_PROVISION": ["product", "product.productId"],
    "PURCHASE": ["product", "product.productId"],
    "PURCHASE_TRIAL": ["product", "product.productId", "recipientMsisdn.msisdn",
                       "amounts.requestAmount.amount", "amounts.requestAmount.currency"],
    "MT_ORDER_CREATE": ["amount", "amount.amount", "amount.currency", "senderDetails"],
    "MT_REDEEM": ["orderRedeemRef", "amount.amount", "amount.currency"],
    "MT_ORDER_CANCEL": ["orderRedeemRef"],
    # SUV: ThirdPartyIdentifier.transactionIdentifier is required (Swagger); Voucher.code
    # "must be present in ... RedemptionRequest and RefundRequest messages"
    "SUV_REDEEM": ["voucher", "voucher.code", "amounts.requestAmount.amount",
                   "thirdPartyIdentifiers[0].transactionIdentifier"],
    "SUV_REFUND": ["voucher", "voucher.code", "thirdPartyIdentifiers[0].transactionIdentifier"],
    "SUV_PROVISION": ["thirdPartyIdentifiers[0].transactionIdentifier", "product.productId"],
    "SUV_PROVISION_CONFIRM": ["tenders", "tenders[0].tenderType", "tenders[0].amount"],
    # airtime confirmations are TenderAdvices whose tenders cascade; the MT and SUV redemption
    # confirmations are plain BasicAdvices (a "tenders" field there is unknown, so ignored)
    "VOUCHER_CONFIRM": ["tenders[0].tenderType", "tenders[0].amount"],
    "PURCHASE_CONFIRM": ["tenders[0].tenderType", "tenders[0].amount.currency"],
    **{op: ["reversalReason"] for op in ADVICES if "REVERSE" in op},
}


def _required_cases() -> list[tuple[str, str]]:
    cases = []
    for op in sorted(OPERATIONS):
        common = TRANSACTION_REQUIRED if op in ORIGINALS else ADVICE_REQUIRED
        cases += [(op, f) for f in common + REQUIRED.get(op, [])]
    return cases


@pytest.mark.parametrize(("op", "field"), _required_cases())
def test_a_missing_required_field_is_named(switch: Switch, op: str, field: str) -> None:
    case = OPERATIONS[op](switch)
    format_error(switch.post(case.path, without(case.body, field)), field)


@pytest.mark.parametrize(("op", "field"), [(op, "originator") for op in sorted(ORIGINALS)]
                         + [(op, "thirdPartyIdentifiers") for op in sorted(OPERATIONS)])
def test_a_required_field_sent_as_null_is_missing(switch: Switch, op: str, field: str) -> None:
    case = OPERATIONS[op](switch)
    format_error(switch.post(case.path, with_value(case.body, field, None)), field)


# (field, a value the definitions refuse, the field named if not that one)
Bad = tuple[str, Any] | tuple[str, Any, str]
TRANSACTION_FORMATS: list[Bad] = [
    ("originator.terminalId", "TERM42"), ("originator.terminalId", "TERMINAL42"),
    ("originator.merchant.merchantId", "MERCHANT42"), ("originator.merchant.merchantType", "54A1"),
    ("originator.merchant.merchantName.name", "N" * 24),
    ("originator.merchant.merchantName.city", "C" * 14),
    ("originator.merchant.merchantName.region", "KZN"),
    ("originator.merchant.merchantName.country", "ZAF"), ("originator.operatorId", "o" * 31),
    ("client.name", "n" * 41), ("originator.institution.name", "n" * 41),
    ("tranType", "SALE"), ("srcAccType", "WALLET"),
    ("slipData", {"issuerReference": "lower-case"}, "slipData.issuerReference"),
    ("id", 42), ("time", 1741064767), ("thirdPartyIdentifiers", {"institutionId": "1"}),
    ("client", "22222222"),
]
ADVICE_FORMATS: list[Bad] = [
    ("requestId", 7), ("requestId", None), ("time", "yesterday"),
    ("amounts", {"approvedAmount": {"amount": 1, "currency": "R"}},
     "amounts.approvedAmount.currency"),
    ("amounts", {"approvedAmount": {"amount": "all", "currency": "710"}},
     "amounts.approvedAmount.amount"),
]
PIN_1234 = {"pinBlock": "1234"}
FORMATS: dict[str, list[Bad]] = {
    "VOUCHER_PROVISION": [("product.productId", "MTN-29"), ("product.barcode", "1" * 14)],
    "PURCHASE": [("product.productId", "V" * 21), ("product.name", ""),
                 ("amounts", {"requestAmount": money(1000, "ZAR")},
                  "amounts.requestAmount.currency"),
                 ("amounts", {"requestAmount": {"amount": "1000", "currency": "710"}},
                  "amounts.requestAmount.amount"),
                 ("recipientMsisdn", {"msisdn": "0821234567"}, "recipientMsisdn.msisdn"),
                 ("recipientMsisdn", {"msisdn": "27821234567", "country": "ZAF"},
                  "recipientMsisdn.country")],
    "MT_ORDER_CREATE": [("amount.currency", "ZAR"), ("amount.amount", 12.5),
                        ("senderDetails.idType", "ID_BOOK"), ("recipientRelationship", "COUSIN"),
                        ("pin", PIN_1234, "pin.pinBlock"), ("purposeOfRemittance", "HOLIDAY"),
                        ("newCustomer", "yes")],
    "MT_REDEEM": [("cashierComment", "c" * 257), ("orderRedeemRef", 48203917562038174501),
                  ("pin", {"pinBlock": "XYZ0123456789ABC"}, "pin.pinBlock")],
    "MT_ORDER_CANCEL": [("orderRedeemRef", None), ("pin", PIN_1234, "pin.pinBlock")],
    "SUV_REDEEM": [("voucher.code", "9" * 41), ("voucher.serialNumber", "S" * 41),
                   ("voucher.expiryDate", "next year"),
                   ("voucher.pin", {"type": "PLAIN"}, "voucher.pin.type"),
                   ("voucher.pin", {"type": "ENCRYPTED_PIN", "pinBlock": "12"},
                    "voucher.pin.pinBlock"),
                   ("posInfo", {"posConditionCode": "AT_THE_TILL"}, "posInfo.posConditionCode"),
                   ("thirdPartyIdentifiers[0].transactionIdentifier", None)],
    "SUV_PROVISION": [("product.productId", "BLU-100"), ("product.name", ""),
                      ("product.barcode", "B" * 14), ("voucher", {"code": "7" * 41}, "voucher.code"),
                      ("tenders", [{"tenderType": "BITCOIN", "amount": money(1)}],
                       "tenders[0].tenderType"),
                      ("amounts", {"requestAmount": money(100, "ZAR")},
                       "amounts.requestAmount.currency")],
    "SUV_REFUND": [("voucher.code", "9" * 41), ("redemptionId", 42),
                   ("receiverTransactionRef", ["x"])],
    "SUV_PROVISION_CONFIRM": [("tenders", None), ("tenders[0].amount", None)],
    "VOUCHER_CONFIRM": [("tenders[0].tenderType", "VOUCHER"), ("tenders[0].reference", "r" * 41)],
    "PURCHASE_CONFIRM": [("tenders[0].amount.currency", "ZAR"),
                         ("tenders[0].cardNumber", "4111111111111111111111")],
    **{op: [("reversalReason", "CUSTOMER_LEFT")] for op in ADVICES if "REVERSE" in op},
}


def _format_cases() -> list[tuple[str, str, Any, str]]:
    cases = []
    for op in sorted(OPERATIONS):
        common = TRANSACTION_FORMATS if op in ORIGINALS else ADVICE_FORMATS
        for bad in common + FORMATS.get(op, []):
            cases.append((op, bad[0], bad[1], bad[2] if len(bad) > 2 else bad[0]))
    return cases


@pytest.mark.parametrize(("op", "field", "value", "named"), _format_cases())
def test_a_bad_format_is_named(switch: Switch, op: str, field: str, value: Any,
                               named: str) -> None:
    case = OPERATIONS[op](switch)
    format_error(switch.post(case.path, with_value(case.body, field, value)), named)


def test_every_broken_rule_is_reported(switch: Switch) -> None:
    case = purchase(switch)
    body = with_value(case.body, "originator.terminalId", "T1")
    body = without(body, "product.productId")
    body = with_value(body, "client.name", "x" * 41)
    answer = format_error(switch.post(case.path, body), "originator.terminalId")
    named = {e["field"] for e in answer["detailMessage"]["formatErrors"]}
    assert named == {"originator.terminalId", "product.productId", "client.name"}
    assert answer["errorMessage"].startswith("Invalid ")
    bad = next(e for e in answer["detailMessage"]["formatErrors"] if e["field"] == "client.name")
    assert bad["value"] == "x" * 41


# -- what a server does not check (the agent's own outgoing rules are stricter) ---------------
LENIENT: dict[str, list[tuple[str, Any]]] = {
    # unknown fields are ignored (newer API versions add e.g. transactionLabels)
    "PURCHASE": [("transactionLabels", [{"name": "lane", "value": "3"}]), ("settlementEntity", None),
                 ("slipData", None), ("thirdPartyIdentifiers[0].transactionIdentifier", None),
                 # PurchaseRequest.tenders and paymentMethods carry no @Valid
                 ("tenders", [{"tenderType": "BITCOIN"}]), ("paymentMethods", [{"type": "?"}]),
                 # Product.wholesalePrice carries no @Valid
                 ("product.wholesalePrice", {"amount": "lots"}), ("originator.channelId", "c" * 60),
                 ("thirdPartyIdentifiers", [])],
    "MT_ORDER_CREATE": [("senderDetails.contactNumber", "082 123 4567"),
                        ("senderDetails.idCountryCode", "ZAF"), ("newCustomer", None),
                        ("recipientDetails", None), ("thirdPartyIdentifiers[0].transactionIdentifier",
                                                     None)],
    "MT_REDEEM": [("amount", None), ("pin", None)],
    "SUV_REDEEM": [("amounts", None), ("voucher.pin", None), ("extra", {"any": "thing"})],
    "PURCHASE_CONFIRM": [("tenders", None), ("stan", "000042"), ("amounts", None)],
    "MT_ORDER_REVERSE": [("amounts", None), ("rrn", "ABC")],
}


@pytest.mark.parametrize(("op", "field", "value"),
                         [(op, f, v) for op, cases in LENIENT.items() for f, v in cases])
def test_what_the_definitions_do_not_constrain_is_accepted(switch: Switch, op: str, field: str,
                                                           value: Any) -> None:
    case = OPERATIONS[op](switch)
    _send(switch, Case(case.path, with_value(case.body, field, value), case.status))


# -- bad input never breaks the server --------------------------------------------------------
def _paths(value: Any, prefix: str = "") -> list[str]:
    out = []
    items = value.items() if isinstance(value, dict) else (
        (f"[{i}]", v) for i, v in enumerate(value)) if isinstance(value, list) else ()
    for key, inner in items:
        path = f"{prefix}{key}" if str(key).startswith("[") else (
            f"{prefix}.{key}" if prefix else str(key))
        out += [path, *_paths(inner, path)]
    return out


@pytest.mark.parametrize("op", sorted(OPERATIONS))
def test_no_mangled_body_gets_a_5xx(switch: Switch, op: str) -> None:
    """Every field of a good message removed, nulled or of another JSON type: always a 2xx or a
    4xx ErrorDetail, never a 5xx (the switch's answer to bad input is a clear refusal)."""
    case = OPERATIONS[op](switch)
    for path in _paths(case.body):
        for mangle in (None, 7, "x", [], {}, True):
            body = with_value(case.body, path, mangle) if mangle is not None or "[" in path \
                else without(case.body, path)
            if path != "id" and isinstance(body.get("id"), str):
                body["id"] = body["id"][:8] + "-" + new_id()  # a fresh original each time
            response = switch.post(case.path, body)
            assert response.status_code < 500, (path, mangle, response.text)
            if response.status_code >= 400:
                assert response.json()["errorType"], (path, mangle)


# -- the schema-driven part: needs ../shared/electrum -----------------------------------------
needs_shared = pytest.mark.skipif(not server_rules_source.available(),
                                  reason="../shared/electrum is not beside the project")


@needs_shared
def test_the_simulators_rules_are_the_ones_derived_from_the_definitions() -> None:
    committed = json.loads(server_rules_source.OUTPUT.read_text(encoding="utf-8"))
    assert committed == json.loads(server_rules_source.render(server_rules_source.derive())), (
        "terminal_agent/sim/server_rules.json is stale: "
        "run .venv/bin/python -m tests.server_rules_source --write")


OP_PATHS = {
    "VOUCHER_PROVISION": ("airtime", "POST /airtime/v5/vouchers/{requestId}"),
    "VOUCHER_CONFIRM": ("airtime",
                        "POST /airtime/v5/vouchers/{requestId}/confirmations/{confirmationId}"),
    "VOUCHER_REVERSE": ("airtime", "POST /airtime/v5/vouchers/{requestId}/reversals/{reversalId}"),
    "PURCHASE": ("airtime", "POST /airtime/v5/purchases"),
    "PURCHASE_TRIAL": ("airtime", "POST /airtime/v5/purchases/trials"),
    "PURCHASE_CONFIRM": ("airtime", "POST /airtime/v5/purchases/confirmations"),
    "PURCHASE_REVERSE": ("airtime", "POST /airtime/v5/purchases/reversals"),
    "MT_ORDER_CREATE": ("moneytransfer", "POST /moneytransfer/v2/orders"),
    "MT_ORDER_CONFIRM": ("moneytransfer", "POST /moneytransfer/v2/orders/confirmations"),
    "MT_ORDER_REVERSE": ("moneytransfer", "POST /moneytransfer/v2/orders/reversals"),
    "MT_REDEEM": ("moneytransfer", "POST /moneytransfer/v2/orders/redemptions"),
    "MT_REDEEM_CONFIRM": ("moneytransfer",
                          "POST /moneytransfer/v2/orders/redemptions/confirmations"),
    "MT_REDEEM_REVERSE": ("moneytransfer", "POST /moneytransfer/v2/orders/redemptions/reversals"),
    "MT_ORDER_CANCEL": ("moneytransfer", "POST /moneytransfer/v2/orders/cancel"),
    "MT_ORDER_CANCEL_REVERSE": ("moneytransfer", "POST /moneytransfer/v2/orders/cancel/reversals"),
    "SUV_REDEEM": ("suv", "POST /suv/v1/redemptions"),
    "SUV_REDEEM_CONFIRM": ("suv", "POST /suv/v1/redemptions/confirmations"),
    "SUV_REDEEM_REVERSE": ("suv", "POST /suv/v1/redemptions/reversals"),
    "SUV_PROVISION": ("suv", "POST /suv/v1/vouchers"),
    "SUV_PROVISION_CONFIRM": ("suv", "POST /suv/v1/vouchers/confirmations"),
    "SUV_PROVISION_REVERSE": ("suv", "POST /suv/v1/vouchers/reversals"),
    "SUV_REFUND": ("suv", "POST /suv/v1/refunds"),
    "SUV_REFUND_CONFIRM": ("suv", "POST /suv/v1/refunds/confirmations"),
    "SUV_REFUND_REVERSE": ("suv", "POST /suv/v1/refunds/reversals"),
}


def _schema_required(interface: str, key: str, body: dict[str, Any]) -> list[str]:
    """Every required field (by the schema, freshly derived) on the paths ``body`` uses."""
    rules = server_rules_source.derive()["interfaces"][interface]
    out: list[str] = []

    def walk(model: str, value: Any, path: str) -> None:
        spec = rules["models"][model]
        if "variants" in spec:
            return
        for name in spec["required"]:
            out.append(f"{path}.{name}" if path else name)
        for name, field in spec["fields"].items():
            inner = value.get(name) if isinstance(value, dict) else None
            target = field.get("ref") or field.get("items", {}).get("ref")
            if target and isinstance(inner, dict):
                walk(target, inner, f"{path}.{name}" if path else name)
            elif target and isinstance(inner, list) and inner and "items" in field:
                walk(target, inner[0], f"{path}.{name}[0]" if path else f"{name}[0]")

    walk(rules["operations"][key]["body"], body, "")
    return out


@needs_shared
@pytest.mark.parametrize("op", sorted(OP_PATHS))
def test_every_field_the_schema_requires_is_enforced(switch: Switch, op: str) -> None:
    interface, key = OP_PATHS[op]
    case = OPERATIONS[op](switch)
    fields = _schema_required(interface, key, case.body)
    assert fields
    for field in fields:
        if op == "VOUCHER_PROVISION" and field == "id":
            continue  # the path carries the id too: a different refusal
        try:
            body = without(case.body, field)
        except (KeyError, IndexError):
            continue  # our fixture does not send that optional block
        format_error(switch.post(case.path, body), field)
