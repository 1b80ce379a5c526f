"""Conformance, airtime v5: every operation, over HTTP.

Written from ``../shared/electrum/airtime.md``: the endpoint table (§2.1, success codes), the
models (§3: a PIN voucher carries ``pin`` ``[0-9]{1,20}`` and ``serialNumber``
``[0-9a-zA-Z]{1,20}``; ``VoucherResponse`` answers ``responseProduct``), the errorType and
requestType enums (§3.3), the action matrix (§4.2: reversal 404 = success, confirmation 404 =
failure), the test server's duplicates (§4.6: a reused id is ``DUPLICATE_RECORD``, an id a
reversal reached first is ``ACCOUNT_ALREADY_SETTLED``, advices repeat idempotently, a status
lookup answers the stored outcome) and the MSISDN lookup ("any other number → no products").
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conformance import (
    AIRTIME,
    Switch,
    cash,
    confirmation,
    format_error,
    money,
    new_id,
    ok,
    refused,
    reversal,
    server_fixture,  # noqa: F401 - fixture
    switch_fixture,  # noqa: F401 - fixture
    transaction,
)

AIRTIME_ERROR_TYPES = set("""DUPLICATE_RECORD FORMAT_ERROR FUNCTION_NOT_SUPPORTED GENERAL_ERROR
INVALID_AMOUNT ROUTING_ERROR TRANSACTION_NOT_SUPPORTED UNABLE_TO_LOCATE_RECORD UPSTREAM_UNAVAILABLE
INVALID_PRODUCT ACCOUNT_ALREADY_SETTLED INVALID_MERCHANT OUT_OF_STOCK INVALID_AN32_TOKEN DO_NOT_HONOR
DECLINED_BY_MNO INVALID_MSISDN INVALID_LOYALTY_CARD INSUFFICIENT_FUNDS INVALID_CARD_NUMBER
CARD_EXPIRED INCORRECT_PIN PIN_ATTEMPTS_EXCEEDED OUTCOME_UNKNOWN SYSTEM_MALFUNCTION
LIMIT_EXCEEDED""".split())
REQUEST_TYPES = set("""VOUCHER_REQUEST VOUCHER_REVERSAL VOUCHER_CONFIRMATION VOUCHER_VOID
MSISDN_INFO_REQUEST PURCHASE_REQUEST PURCHASE_CONFIRMATION PURCHASE_STATUS_REQUEST PURCHASE_REVERSAL
TRIAL_PURCHASE_REQUEST LIST_PRODUCTS_REQUEST""".split())
VODACOM = "27821234567"


def airtime_refused(response: httpx.Response, status: int, error_type: str,
                    request_type: str | None = None) -> dict[str, Any]:
    assert error_type in AIRTIME_ERROR_TYPES
    body = refused(response, status, error_type)
    if request_type:
        assert request_type in REQUEST_TYPES and body["requestType"] == request_type
    return body


def purchase_request(product_id: str = "VOD29", msisdn: str | None = None,
                     amount: int | None = None) -> dict[str, Any]:
    body = transaction(product={"productId": product_id})
    if msisdn:
        body["recipientMsisdn"] = {"msisdn": msisdn, "country": "ZA"}
    if amount is not None:
        body["amounts"] = {"requestAmount": money(amount)}
    return body


def buy(sw: Switch, **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    req = purchase_request(**kw)
    return req, ok(sw.post(f"{AIRTIME}/purchases", req), 201, 200)


def status_of(sw: Switch, **params: str) -> httpx.Response:
    return sw.get(f"{AIRTIME}/purchases/status", **params)


# == purchase =================================================================================
def test_pin_purchase_answers_a_voucher(switch: Switch) -> None:
    req, answer = buy(switch, product_id="VOD29")
    assert answer["id"] == req["id"] and answer["time"] == req["time"]
    voucher = answer["voucher"]
    assert voucher["pin"].isdigit() and 1 <= len(voucher["pin"]) <= 20
    assert voucher["serialNumber"].isalnum() and len(voucher["serialNumber"]) <= 20
    assert voucher["expiryDate"] and voucher["redeemInstructions"]
    assert answer["product"]["productId"] == "VOD29"
    assert answer["settlementEntity"]["id"] and answer["receiver"]["id"]
    assert req["thirdPartyIdentifiers"][0] in answer["thirdPartyIdentifiers"]
    entry = switch.entry(req["id"])
    assert (entry["interface"], entry["outcome"], entry["amount"]) == ("airtime", "approved",
                                                                       2900)


def test_direct_topup_answers_no_voucher(switch: Switch) -> None:
    _, answer = buy(switch, product_id="VODDT", msisdn=VODACOM, amount=2500)
    assert "voucher" not in answer
    assert answer["msisdn"]["msisdn"] == VODACOM and answer["msisdn"]["operator"]["name"]
    assert answer["amounts"]["approvedAmount"] == money(2500)


@pytest.mark.parametrize(("kw", "error_type"), [
    ({"product_id": "OUTOFSTOCK"}, "OUT_OF_STOCK"),
    ({"product_id": "INVALIDPRODUCT"}, "INVALID_PRODUCT"),
    ({"product_id": "VODDT", "msisdn": "27000000000", "amount": 1000}, "INVALID_MSISDN"),
    ({"product_id": "VODDT", "msisdn": "27831234567", "amount": 1000}, "INVALID_MSISDN"),
    ({"product_id": "VOD10", "amount": 1013}, "INSUFFICIENT_FUNDS"),
    ({"product_id": "VODDT", "msisdn": VODACOM, "amount": 0}, "INVALID_AMOUNT"),
    ({"product_id": "VODDT", "msisdn": VODACOM, "amount": 200_000}, "LIMIT_EXCEEDED"),
])
def test_purchase_declines(switch: Switch, kw: dict[str, Any], error_type: str) -> None:
    req = purchase_request(**kw)
    airtime_refused(switch.post(f"{AIRTIME}/purchases", req), 400, error_type,
                    "PURCHASE_REQUEST")
    assert switch.entry(req["id"])["final"] == "declined"


def test_a_purchase_needs_what_its_product_needs(switch: Switch) -> None:
    """A direct top-up needs ``recipientMsisdn`` ("practically required"), a variable-value
    product its ``amounts.requestAmount``."""
    topup = purchase_request("VODDT", amount=1000)
    format_error(switch.post(f"{AIRTIME}/purchases", topup), "recipientMsisdn")
    variable = purchase_request("VODDT", VODACOM)
    format_error(switch.post(f"{AIRTIME}/purchases", variable), "amounts.requestAmount")


def test_purchase_duplicate_and_dead_ids(switch: Switch) -> None:
    req, _ = buy(switch)
    airtime_refused(switch.post(f"{AIRTIME}/purchases", req), 400, "DUPLICATE_RECORD")
    dead = new_id()
    airtime_refused(switch.post(f"{AIRTIME}/purchases/reversals", reversal(dead)), 404,
                    "UNABLE_TO_LOCATE_RECORD")
    late = purchase_request()
    late["id"] = dead
    airtime_refused(switch.post(f"{AIRTIME}/purchases", late), 400, "ACCOUNT_ALREADY_SETTLED")


def test_purchase_format_errors_name_the_request_type(switch: Switch) -> None:
    req = purchase_request()
    req["product"]["productId"] = "VOD-29"
    body = format_error(switch.post(f"{AIRTIME}/purchases", req), "product.productId")
    assert body["requestType"] == "PURCHASE_REQUEST"


# -- trial ------------------------------------------------------------------------------------
def test_trial_has_no_financial_impact(switch: Switch) -> None:
    req = purchase_request("VODDT", VODACOM, 2000)
    answer = ok(switch.post(f"{AIRTIME}/purchases/trials", req), 200)
    assert answer["id"] == req["id"] and "voucher" not in answer
    assert switch.ledger()["originals"] == []
    buy(switch, product_id="VODDT", msisdn=VODACOM, amount=2000)  # then the purchase, new id


def test_trial_declines(switch: Switch) -> None:
    airtime_refused(switch.post(f"{AIRTIME}/purchases/trials", purchase_request("NOTRIAL")), 400,
                    "FUNCTION_NOT_SUPPORTED", "TRIAL_PURCHASE_REQUEST")
    bad_number = purchase_request("VODDT", "27000000000", 1000)
    airtime_refused(switch.post(f"{AIRTIME}/purchases/trials", bad_number), 400,
                    "INVALID_MSISDN", "TRIAL_PURCHASE_REQUEST")


# -- purchase confirmations and reversals -----------------------------------------------------
def test_purchase_confirmation_is_idempotent_and_final(switch: Switch) -> None:
    req, answer = buy(switch)
    advice = confirmation(req["id"], answer["thirdPartyIdentifiers"], tenders=cash(2900))
    echoed = ok(switch.post(f"{AIRTIME}/purchases/confirmations", advice), 202, 200)
    assert echoed["id"] == advice["id"]
    ok(switch.post(f"{AIRTIME}/purchases/confirmations", advice), 202, 200)
    airtime_refused(switch.post(f"{AIRTIME}/purchases/reversals", reversal(req["id"])), 400,
                    "ACCOUNT_ALREADY_SETTLED", "PURCHASE_REVERSAL")
    entry = switch.entry(req["id"])
    assert entry["final"] == "confirmed" and entry["advices"][0]["count"] == 2


def test_purchase_reversal_is_idempotent_and_final(switch: Switch) -> None:
    req, answer = buy(switch)
    advice = reversal(req["id"], answer["thirdPartyIdentifiers"], "CANCELLED")
    ok(switch.post(f"{AIRTIME}/purchases/reversals", advice), 202, 200)
    ok(switch.post(f"{AIRTIME}/purchases/reversals", advice), 202, 200)
    airtime_refused(switch.post(f"{AIRTIME}/purchases/confirmations",
                                confirmation(req["id"], tenders=cash(2900))),
                    400, "ACCOUNT_ALREADY_SETTLED", "PURCHASE_CONFIRMATION")
    assert switch.entry(req["id"])["final"] == "reversed"


def test_purchase_advices_without_their_original(switch: Switch) -> None:
    unknown = new_id()
    body = airtime_refused(switch.post(f"{AIRTIME}/purchases/confirmations",
                                       confirmation(unknown, tenders=cash(100))),
                           404, "UNABLE_TO_LOCATE_RECORD")
    assert body["originalId"] == unknown
    airtime_refused(switch.post(f"{AIRTIME}/purchases/reversals", reversal(unknown)), 404,
                    "UNABLE_TO_LOCATE_RECORD")
    assert len(switch.ledger()["orphan_advices"]) == 2


def test_advices_of_a_declined_purchase(switch: Switch) -> None:
    req = purchase_request("OUTOFSTOCK")
    airtime_refused(switch.post(f"{AIRTIME}/purchases", req), 400, "OUT_OF_STOCK")
    ok(switch.post(f"{AIRTIME}/purchases/reversals", reversal(req["id"])), 202, 200)
    airtime_refused(switch.post(f"{AIRTIME}/purchases/confirmations", confirmation(req["id"])),
                    404, "UNABLE_TO_LOCATE_RECORD")


# -- status -----------------------------------------------------------------------------------
def test_status_answers_the_stored_outcome(switch: Switch) -> None:
    req, answer = buy(switch, product_id="VODDT", msisdn=VODACOM, amount=2500)
    by_id = status_of(switch, originalMsgId=req["id"])
    assert by_id.status_code in (200, 202) and by_id.json() == answer
    ref = next(t["transactionIdentifier"] for t in answer["thirdPartyIdentifiers"]
               if t["institutionId"] == answer["settlementEntity"]["id"])
    by_ref = status_of(switch, purchaseReference=ref, provider=answer["settlementEntity"]["name"])
    assert by_ref.status_code in (200, 202) and by_ref.json()["id"] == req["id"]
    declined = purchase_request("OUTOFSTOCK")
    switch.post(f"{AIRTIME}/purchases", declined)
    airtime_refused(status_of(switch, originalMsgId=declined["id"]), 400, "OUT_OF_STOCK")
    assert status_of(switch, originalMsgId=new_id()).status_code == 404


def test_status_of_a_reversed_purchase(switch: Switch) -> None:
    req, _ = buy(switch)
    ok(switch.post(f"{AIRTIME}/purchases/reversals", reversal(req["id"])), 202, 200)
    airtime_refused(status_of(switch, originalMsgId=req["id"]), 400, "ACCOUNT_ALREADY_SETTLED")


def test_status_while_the_outcome_is_unknown(switch: Switch) -> None:
    pending = purchase_request("VODDT", "27821230404", 1500)
    airtime_refused(switch.post(f"{AIRTIME}/purchases", pending), 504, "OUTCOME_UNKNOWN")
    airtime_refused(status_of(switch, originalMsgId=pending["id"]), 504, "OUTCOME_UNKNOWN")
    assert ok(status_of(switch, originalMsgId=pending["id"]))["id"] == pending["id"]
    failing = purchase_request("VODDT", "27821230505", 1500)
    airtime_refused(switch.post(f"{AIRTIME}/purchases", failing), 504, "OUTCOME_UNKNOWN")
    airtime_refused(status_of(switch, originalMsgId=failing["id"]), 504, "OUTCOME_UNKNOWN")
    airtime_refused(status_of(switch, originalMsgId=failing["id"]), 400, "DECLINED_BY_MNO")


def test_status_needs_an_id_or_a_reference_and_provider(switch: Switch) -> None:
    format_error(status_of(switch), "originalMsgId")
    format_error(status_of(switch, purchaseReference="123"), "originalMsgId")


# == MSISDN lookup and products ===============================================================
def test_msisdn_of_a_known_operator(switch: Switch) -> None:
    answer = ok(switch.get(f"{AIRTIME}/msisdn", msisdn="27831234567", channelName="POS"),
                200, 202)
    assert answer["msisdn"]["msisdn"] == "27831234567"
    assert answer["msisdn"]["operator"]["name"] and answer["availableProducts"]
    plus = ok(switch.get(f"{AIRTIME}/msisdn", msisdn="+27831234567"), 200, 202)
    assert plus["msisdn"]["operator"] == answer["msisdn"]["operator"]


@pytest.mark.parametrize("msisdn", ["27991234567", "4915112345678", "15"])
def test_msisdn_of_a_well_formed_unknown_number_answers_its_info(switch: Switch,
                                                                 msisdn: str) -> None:
    answer = ok(switch.get(f"{AIRTIME}/msisdn", msisdn=msisdn), 200, 202)
    assert answer["msisdn"]["msisdn"] == msisdn
    assert answer.get("availableProducts", []) == []


def test_msisdn_errors(switch: Switch) -> None:
    airtime_refused(switch.get(f"{AIRTIME}/msisdn", msisdn="27000000000"), 400, "INVALID_MSISDN",
                    "MSISDN_INFO_REQUEST")
    format_error(switch.get(f"{AIRTIME}/msisdn", msisdn="0821234567"), "msisdn")
    format_error(switch.get(f"{AIRTIME}/msisdn"), "msisdn")


def test_products(switch: Switch) -> None:
    products = ok(switch.get(f"{AIRTIME}/products", channelName="POS"), 200)
    assert isinstance(products, list) and products
    assert all(p["productId"].isalnum() and len(p["productId"]) <= 20 for p in products)
    format_error(switch.get(f"{AIRTIME}/products"), "channelName")


# == vouchers (deprecated, ids in the path) ===================================================
def provision_path(request_id: str) -> str:
    return f"{AIRTIME}/vouchers/{request_id}"


def provisioned(sw: Switch) -> tuple[dict[str, Any], dict[str, Any]]:
    req = transaction(product={"productId": "MTN29"})
    response = sw.post(provision_path(req["id"]), req)
    answer = ok(response, 201, 200)
    assert response.headers.get("location")
    return req, answer


def test_voucher_provision(switch: Switch) -> None:
    req, answer = provisioned(switch)
    assert answer["id"] == req["id"] and answer["voucher"]["pin"]
    assert answer["responseProduct"]["productId"] == "MTN29"
    airtime_refused(switch.post(provision_path(req["id"]), req), 400, "DUPLICATE_RECORD",
                    "VOUCHER_REQUEST")
    elsewhere = transaction(product={"productId": "MTN29"})
    format_error(switch.post(provision_path(new_id()), elsewhere), "id")
    airtime_refused(switch.post(provision_path(elsewhere["id"]),
                                {**elsewhere, "product": {"productId": "OUTOFSTOCK"}}),
                    400, "OUT_OF_STOCK", "VOUCHER_REQUEST")


def test_voucher_confirmation_and_reversal(switch: Switch) -> None:
    req, answer = provisioned(switch)
    advice = confirmation(req["id"], answer["thirdPartyIdentifiers"], tenders=cash(2900),
                          voucher={"serialNumber": answer["voucher"]["serialNumber"]})
    path = f"{provision_path(req['id'])}/confirmations/{advice['id']}"
    ok(switch.post(path, advice), 202, 200)
    ok(switch.post(path, advice), 202, 200)
    rev = reversal(req["id"])
    airtime_refused(switch.post(f"{provision_path(req['id'])}/reversals/{rev['id']}", rev), 400,
                    "ACCOUNT_ALREADY_SETTLED", "VOUCHER_REVERSAL")
    assert switch.entry(req["id"])["final"] == "confirmed"


def test_voucher_advice_ids_must_match_the_path(switch: Switch) -> None:
    req, _ = provisioned(switch)
    advice = confirmation(req["id"], tenders=cash(2900))
    format_error(switch.post(f"{provision_path(req['id'])}/confirmations/{new_id()}", advice),
                 "id")
    format_error(switch.post(f"{provision_path(new_id())}/confirmations/{advice['id']}", advice),
                 "requestId")


def test_voucher_advices_without_their_original(switch: Switch) -> None:
    unknown = new_id()
    rev = reversal(unknown)
    airtime_refused(switch.post(f"{provision_path(unknown)}/reversals/{rev['id']}", rev), 404,
                    "UNABLE_TO_LOCATE_RECORD")
    conf = confirmation(unknown, tenders=cash(100))
    airtime_refused(switch.post(f"{provision_path(unknown)}/confirmations/{conf['id']}", conf),
                    404, "UNABLE_TO_LOCATE_RECORD")
    late = transaction(product={"productId": "MTN29"}, id=unknown)
    airtime_refused(switch.post(provision_path(unknown), late), 400, "ACCOUNT_ALREADY_SETTLED")
