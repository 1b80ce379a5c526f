"""Conformance, digital vouchers (SUV v1): every operation of the interface, over HTTP.

Written from ``../shared/electrum/schema/suv-v1.14.0-swagger.yaml`` (paths, success codes, the
ErrorDetail ``errorType`` enum, the operations' descriptions) and
``../shared/electrum/topup-and-redemption.md`` §3 (the reference server's status/errorType
pairs): provision, confirm and reverse a voucher; look it up; redeem, confirm, reverse and look
up a redemption; refund, confirm and reverse a refund. Advices are idempotent ("may be called
repeatedly on the same voucher resource without negative effect"), an advice for an unknown
original is 404, and each "already" errorType answers the advice that comes the other way round.
Vouchers: the simulator's documented demo data (``DV<cents>`` codes, fixed demo codes, products).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance import (
    SUV,
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

# The SUV ErrorDetail errorType enum (Swagger v1.14.0): what this interface may answer.
SUV_ERROR_TYPES = set("""DUPLICATE_RECORD FORMAT_ERROR FUNCTION_NOT_SUPPORTED GENERAL_ERROR
INVALID_AMOUNT ROUTING_ERROR TRANSACTION_NOT_SUPPORTED UNABLE_TO_LOCATE_RECORD UPSTREAM_UNAVAILABLE
VOUCHER_ALREADY_REDEEMED VOUCHER_ALREADY_PROVISIONED VOUCHER_ALREADY_CONFIRMED
VOUCHER_ALREADY_REVERSED VOUCHER_ALREADY_REFUNDED VOUCHER_NOT_REFUNDED VOUCHER_NOT_REDEEMABLE
VOUCHER_NOT_REDEEMED VOUCHER_STATUS_UNKNOWN REDEMPTION_ALREADY_CONFIRMED REDEMPTION_NOT_CONFIRMED
REDEMPTION_ALREADY_REVERSED REFUND_ALREADY_CONFIRMED REFUND_ALREADY_REVERSED INVALID_MERCHANT
INVALID_VOUCHER AUTHENTICATION_ERROR INSUFFICIENT_AMOUNT DO_NOT_HONOUR""".split())
# later SUV versions (release notes v1.18.0): also answered by the simulator
SUV_ERROR_TYPES |= {"INSUFFICIENT_FUNDS"}


def suv_refused(response: Any, status: int, error_type: str) -> dict[str, Any]:
    assert error_type in SUV_ERROR_TYPES
    return refused(response, status, error_type)


# -- messages ---------------------------------------------------------------------------------
def provision_request(product_id: str | None = "BLU100", amount: int | None = None,
                      code: str | None = None) -> dict[str, Any]:
    body = transaction(receiver={"id": "40000001", "name": "Blu Voucher"})
    if product_id:
        body["product"] = {"productId": product_id}
    if amount is not None:
        body["amounts"] = {"requestAmount": money(amount)}
    if code:
        body["voucher"] = {"code": code}
    return body


def redemption_request(code: str, amount: int | None = None) -> dict[str, Any]:
    body = transaction(voucher={"code": code})
    if amount is not None:
        body["amounts"] = {"requestAmount": money(amount)}
    return body


def refund_request(code: str, amount: int | None = None, **fields: Any) -> dict[str, Any]:
    body = transaction(voucher={"code": code}, **fields)
    if amount is not None:
        body["amounts"] = {"requestAmount": money(amount)}
    return body


def provision(sw: Switch, **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    req = provision_request(**kw)
    answer = ok(sw.post(f"{SUV}/vouchers", req), 200, 201)
    return req, answer


def confirm_provision(sw: Switch, req: dict[str, Any], answer: dict[str, Any]) -> None:
    ok(sw.post(f"{SUV}/vouchers/confirmations",
               confirmation(req["id"], answer["thirdPartyIdentifiers"], tenders=cash(10000))),
       200, 202)


def redeem(sw: Switch, code: str, amount: int | None = None) -> tuple[dict[str, Any],
                                                                     dict[str, Any]]:
    req = redemption_request(code, amount)
    return req, ok(sw.post(f"{SUV}/redemptions", req), 200, 201)


def confirm(sw: Switch, kind: str, request_id: str) -> dict[str, Any]:
    return ok(sw.post(f"{SUV}/{kind}/confirmations", confirmation(request_id)), 200, 202)


def reverse(sw: Switch, kind: str, request_id: str) -> dict[str, Any]:
    return ok(sw.post(f"{SUV}/{kind}/reversals", reversal(request_id)), 200, 202)


def balance(sw: Switch, code: str) -> int:
    answer = ok(sw.get(f"{SUV}/vouchers", voucherCode=code), 200, 202)
    return int(answer["amounts"]["approvedAmount"]["amount"])


def redeemed_and_confirmed(sw: Switch, code: str = "DV5000",
                           amount: int = 2000) -> dict[str, Any]:
    req, _ = redeem(sw, code, amount)
    confirm(sw, "redemptions", req["id"])
    return req


# == provision ================================================================================
def test_provision_answers_a_voucher_with_code_serial_and_expiry(switch: Switch) -> None:
    req, answer = provision(switch, product_id="BLU100")
    assert answer["id"] == req["id"] and answer["time"] == req["time"]
    assert answer["originator"] == req["originator"] and answer["client"] == req["client"]
    voucher = answer["voucher"]  # required in a ProvisionResponse, with its code
    assert voucher["code"] and len(voucher["code"]) <= 40 and voucher["serialNumber"]
    assert voucher["expiryDate"].endswith("Z")
    assert answer["amounts"]["approvedAmount"] == money(10000)
    assert req["thirdPartyIdentifiers"][0] in answer["thirdPartyIdentifiers"]
    entry = switch.entry(req["id"])
    assert (entry["interface"], entry["operation"], entry["outcome"], entry["amount"],
            entry["final"]) == ("suv", "SUV_PROVISION", "approved", 10000, "open")


def test_provision_of_a_variable_value_or_with_no_product(switch: Switch) -> None:
    _, variable = provision(switch, product_id="1VOUCHER", amount=7500)
    assert variable["amounts"]["approvedAmount"]["amount"] == 7500
    _, bare = provision(switch, product_id=None, amount=2000)
    assert bare["amounts"]["approvedAmount"]["amount"] == 2000


def test_provision_with_a_code_chosen_by_the_client(switch: Switch) -> None:
    _, answer = provision(switch, product_id="BLU50", code="MYSHOP-0001")
    assert answer["voucher"]["code"] == "MYSHOP-0001"
    again = switch.post(f"{SUV}/vouchers", provision_request("BLU50", code="MYSHOP-0001"))
    suv_refused(again, 400, "VOUCHER_ALREADY_PROVISIONED")
    demo = switch.post(f"{SUV}/vouchers", provision_request("BLU50", code="1234567890123456"))
    suv_refused(demo, 400, "VOUCHER_ALREADY_PROVISIONED")


@pytest.mark.parametrize(("product_id", "amount"), [
    ("1VOUCHER", None),      # a variable-value product needs a requested amount
    (None, None),            # nothing to tell the value
    ("BLU100", 5000),        # a fixed-value product for another amount
    (None, 0),
    (None, 600000),          # over the R5000 limit
])
def test_provision_with_no_valid_value_is_invalid_amount(switch: Switch, product_id: str | None,
                                                         amount: int | None) -> None:
    response = switch.post(f"{SUV}/vouchers", provision_request(product_id, amount))
    suv_refused(response, 400, "INVALID_AMOUNT")


def test_provision_declined_by_the_vendor_and_duplicate_id(switch: Switch) -> None:
    declined = switch.post(f"{SUV}/vouchers", provision_request(None, 2013))
    suv_refused(declined, 400, "DO_NOT_HONOUR")
    req, _ = provision(switch)
    suv_refused(switch.post(f"{SUV}/vouchers", req), 400, "DUPLICATE_RECORD")
    assert [o["outcome"] for o in switch.ledger()["originals"]] == ["declined", "approved"]


def test_a_provisioned_voucher_is_redeemable_only_once_confirmed(switch: Switch) -> None:
    req, answer = provision(switch, product_id="OTT250")
    code = answer["voucher"]["code"]
    suv_refused(switch.get(f"{SUV}/vouchers", voucherCode=code), 400, "VOUCHER_NOT_REDEEMABLE")
    early = switch.post(f"{SUV}/redemptions", redemption_request(code, 1000))
    suv_refused(early, 400, "VOUCHER_NOT_REDEEMABLE")
    confirm_provision(switch, req, answer)
    assert balance(switch, code) == 25000
    by_serial = ok(switch.get(f"{SUV}/vouchers", voucherSerialNumber=answer["voucher"]["serialNumber"]))
    by_request = ok(switch.get(f"{SUV}/vouchers", provisionRequestId=req["id"]))
    assert by_serial["voucher"] == by_request["voucher"]
    assert "code" not in by_serial["voucher"]  # the code is the bearer secret
    redeem(switch, code, 25000)
    suv_refused(switch.get(f"{SUV}/vouchers", voucherCode=code), 400, "VOUCHER_ALREADY_REDEEMED")
    assert switch.entry(req["id"])["final"] == "confirmed"


# -- provision confirmations and reversals ----------------------------------------------------
def test_provision_confirmation_is_idempotent(switch: Switch) -> None:
    req, answer = provision(switch)
    advice = confirmation(req["id"], answer["thirdPartyIdentifiers"], tenders=cash(10000))
    first = ok(switch.post(f"{SUV}/vouchers/confirmations", advice), 200, 202)
    assert first["id"] == advice["id"] and first["requestId"] == req["id"]
    ok(switch.post(f"{SUV}/vouchers/confirmations", advice), 200, 202)
    other = confirmation(req["id"], answer["thirdPartyIdentifiers"], tenders=cash(10000))
    ok(switch.post(f"{SUV}/vouchers/confirmations", other), 200, 202)
    advices = switch.entry(req["id"])["advices"]
    assert [(a["kind"], a["count"]) for a in advices] == [("confirmation", 2), ("confirmation", 1)]


def test_provision_confirmation_needs_its_tenders(switch: Switch) -> None:
    req, answer = provision(switch)
    advice = confirmation(req["id"], answer["thirdPartyIdentifiers"])  # a BasicAdvice
    format_error(switch.post(f"{SUV}/vouchers/confirmations", advice), "tenders")


def test_provision_advices_without_their_original(switch: Switch) -> None:
    unknown = new_id()
    late = confirmation(unknown, tenders=cash(100))
    suv_refused(switch.post(f"{SUV}/vouchers/confirmations", late), 404, "UNABLE_TO_LOCATE_RECORD")
    suv_refused(switch.post(f"{SUV}/vouchers/reversals", reversal(unknown)), 404,
                "UNABLE_TO_LOCATE_RECORD")
    original = provision_request()
    original["id"] = unknown  # the provision arrives after its reversal: it stays dead
    suv_refused(switch.post(f"{SUV}/vouchers", original), 400, "VOUCHER_ALREADY_REVERSED")
    assert {a["kind"] for a in switch.ledger()["orphan_advices"]} == {"confirmation", "reversal"}


def test_provision_reversal_voids_the_voucher_and_is_idempotent(switch: Switch) -> None:
    req, answer = provision(switch)
    advice = reversal(req["id"], answer["thirdPartyIdentifiers"])
    ok(switch.post(f"{SUV}/vouchers/reversals", advice), 200, 202)
    ok(switch.post(f"{SUV}/vouchers/reversals", advice), 200, 202)
    code = answer["voucher"]["code"]
    suv_refused(switch.get(f"{SUV}/vouchers", voucherCode=code), 400, "VOUCHER_ALREADY_REVERSED")
    suv_refused(switch.post(f"{SUV}/redemptions", redemption_request(code, 100)), 400,
                "VOUCHER_ALREADY_REVERSED")
    late = confirmation(req["id"], tenders=cash(10000))
    suv_refused(switch.post(f"{SUV}/vouchers/confirmations", late), 400,
                "VOUCHER_ALREADY_REVERSED")
    assert switch.entry(req["id"])["final"] == "reversed"


def test_provision_cannot_be_reversed_once_confirmed(switch: Switch) -> None:
    req, answer = provision(switch)
    confirm_provision(switch, req, answer)
    suv_refused(switch.post(f"{SUV}/vouchers/reversals", reversal(req["id"])), 400,
                "VOUCHER_ALREADY_CONFIRMED")
    assert switch.entry(req["id"])["final"] == "confirmed"


def test_advices_of_a_declined_provision(switch: Switch) -> None:
    req = provision_request(None, 2013)
    suv_refused(switch.post(f"{SUV}/vouchers", req), 400, "DO_NOT_HONOUR")
    ok(switch.post(f"{SUV}/vouchers/reversals", reversal(req["id"])), 200, 202)
    suv_refused(switch.post(f"{SUV}/vouchers/confirmations",
                            confirmation(req["id"], tenders=cash(2013))),
                404, "UNABLE_TO_LOCATE_RECORD")


# == lookup ===================================================================================
def test_lookup_answers_the_voucher_and_its_value_as_a_credit(switch: Switch) -> None:
    answer = ok(switch.get(f"{SUV}/vouchers", voucherCode="1234567890123456"), 200, 202)
    assert answer["voucher"]["serialNumber"] and answer["voucher"]["expiryDate"]
    assert answer["amounts"]["approvedAmount"] == {**money(10000), "ledgerIndicator": "CREDIT"}
    assert answer["receiver"]["id"] and answer["settlementEntity"]["id"]


@pytest.mark.parametrize(("params", "status", "error_type"), [
    ({"voucherCode": "NOSUCHVOUCHER"}, 404, "UNABLE_TO_LOCATE_RECORD"),
    ({"voucherSerialNumber": "SN-NOPE"}, 404, "UNABLE_TO_LOCATE_RECORD"),
    ({"provisionRequestId": "never-sent"}, 404, "UNABLE_TO_LOCATE_RECORD"),
    ({"voucherCode": "8000000000000000"}, 400, "VOUCHER_ALREADY_REDEEMED"),
    ({"voucherCode": "9000000000000001"}, 400, "VOUCHER_NOT_REDEEMABLE"),  # expired
    ({}, 400, "FORMAT_ERROR"),
    ({"receiverInstId": "40000001"}, 400, "FORMAT_ERROR"),
])
def test_lookup_errors(switch: Switch, params: dict[str, str], status: int,
                       error_type: str) -> None:
    suv_refused(switch.get(f"{SUV}/vouchers", **params), status, error_type)


# == redemption ===============================================================================
def test_redemption_partial_then_the_rest(switch: Switch) -> None:
    req, answer = redeem(switch, "DV5000", 2000)
    assert answer["id"] == req["id"] and answer["time"] == req["time"]
    assert answer["amounts"]["approvedAmount"] == money(2000)
    assert answer["amounts"]["balanceAmount"] == money(3000)
    assert answer["slipData"]["messageLines"]
    assert balance(switch, "DV5000") == 3000
    _, rest = redeem(switch, "DV5000")  # no amount: the whole balance
    assert rest["amounts"]["approvedAmount"] == money(3000)
    suv_refused(switch.get(f"{SUV}/vouchers", voucherCode="DV5000"), 400,
                "VOUCHER_ALREADY_REDEEMED")


@pytest.mark.parametrize(("code", "amount", "error_type"), [
    ("NOSUCHVOUCHER", 100, "INVALID_VOUCHER"),
    ("8000000000000000", 100, "VOUCHER_ALREADY_REDEEMED"),
    ("9000000000000001", 100, "VOUCHER_NOT_REDEEMABLE"),
    ("DV1000", 1500, "INSUFFICIENT_AMOUNT"),
    ("DV1000", 0, "INVALID_AMOUNT"),
    ("DV5000", 1013, "INSUFFICIENT_FUNDS"),
])
def test_redemption_declines(switch: Switch, code: str, amount: int, error_type: str) -> None:
    req = redemption_request(code, amount)
    suv_refused(switch.post(f"{SUV}/redemptions", req), 400, error_type)
    assert switch.entry(req["id"])["error_type"] == error_type


def test_redemption_duplicate_id(switch: Switch) -> None:
    req, _ = redeem(switch, "DV5000", 100)
    suv_refused(switch.post(f"{SUV}/redemptions", req), 400, "DUPLICATE_RECORD")
    assert balance(switch, "DV5000") == 4900


def test_redemption_advices_without_their_original(switch: Switch) -> None:
    unknown = new_id()
    suv_refused(switch.post(f"{SUV}/redemptions/confirmations", confirmation(unknown)), 404,
                "UNABLE_TO_LOCATE_RECORD")
    suv_refused(switch.post(f"{SUV}/redemptions/reversals", reversal(unknown)), 404,
                "UNABLE_TO_LOCATE_RECORD")
    late = redemption_request("DV5000", 100)
    late["id"] = unknown
    suv_refused(switch.post(f"{SUV}/redemptions", late), 400, "REDEMPTION_ALREADY_REVERSED")
    assert balance(switch, "DV5000") == 5000


def test_redemption_confirmation_is_idempotent_and_final(switch: Switch) -> None:
    req, answer = redeem(switch, "DV5000", 2000)
    advice = confirmation(req["id"], answer["thirdPartyIdentifiers"])
    echoed = ok(switch.post(f"{SUV}/redemptions/confirmations", advice), 200, 202)
    assert echoed["id"] == advice["id"]
    ok(switch.post(f"{SUV}/redemptions/confirmations", advice), 200, 202)
    suv_refused(switch.post(f"{SUV}/redemptions/reversals", reversal(req["id"])), 400,
                "REDEMPTION_ALREADY_CONFIRMED")
    entry = switch.entry(req["id"])
    assert entry["final"] == "confirmed" and entry["advices"][0]["count"] == 2
    assert balance(switch, "DV5000") == 3000


def test_redemption_reversal_gives_the_value_back_and_is_idempotent(switch: Switch) -> None:
    req, answer = redeem(switch, "DV5000", 2000)
    advice = reversal(req["id"], answer["thirdPartyIdentifiers"], "CANCELLED")
    ok(switch.post(f"{SUV}/redemptions/reversals", advice), 200, 202)
    ok(switch.post(f"{SUV}/redemptions/reversals", advice), 200, 202)
    assert balance(switch, "DV5000") == 5000
    suv_refused(switch.post(f"{SUV}/redemptions/confirmations", confirmation(req["id"])), 400,
                "REDEMPTION_ALREADY_REVERSED")
    assert switch.entry(req["id"])["final"] == "reversed"


def test_advices_of_a_declined_redemption(switch: Switch) -> None:
    req = redemption_request("DV1000", 1500)
    suv_refused(switch.post(f"{SUV}/redemptions", req), 400, "INSUFFICIENT_AMOUNT")
    ok(switch.post(f"{SUV}/redemptions/reversals", reversal(req["id"])), 200, 202)
    suv_refused(switch.post(f"{SUV}/redemptions/confirmations", confirmation(req["id"])), 404,
                "UNABLE_TO_LOCATE_RECORD")


def test_an_advice_id_is_not_reused_for_another_original(switch: Switch) -> None:
    first, _ = redeem(switch, "DV5000", 100)
    second, _ = redeem(switch, "DV5000", 100)
    advice = confirmation(first["id"])
    ok(switch.post(f"{SUV}/redemptions/confirmations", advice), 200, 202)
    advice["requestId"] = second["id"]
    suv_refused(switch.post(f"{SUV}/redemptions/confirmations", advice), 400, "DUPLICATE_RECORD")


# -- redemption status ------------------------------------------------------------------------
def test_redemption_status_answers_the_original_answer(switch: Switch) -> None:
    req, answer = redeem(switch, "DV5000", 2000)
    again = switch.get(f"{SUV}/redemptions/{req['id']}")
    assert again.status_code == 200 and again.json() == answer
    declined = redemption_request("DV1000", 1500)
    first = switch.post(f"{SUV}/redemptions", declined)
    replay = switch.get(f"{SUV}/redemptions/{declined['id']}")
    assert replay.status_code == first.status_code == 400
    assert replay.json()["errorType"] == first.json()["errorType"] == "INSUFFICIENT_AMOUNT"
    suv_refused(switch.get(f"{SUV}/redemptions/{new_id()}"), 404, "UNABLE_TO_LOCATE_RECORD")


def test_redemption_status_is_only_for_the_client_that_sent_it(switch: Switch) -> None:
    req, _ = redeem(switch, "DV5000", 2000)
    stranger = switch.http.get(f"{SUV}/redemptions/{req['id']}", auth=("33333333", "other"))
    assert stranger.status_code == 403


def test_redemption_status_of_a_reversed_redemption_is_still_its_answer(switch: Switch) -> None:
    req, answer = redeem(switch, "DV5000", 2000)
    reverse(switch, "redemptions", req["id"])
    assert switch.get(f"{SUV}/redemptions/{req['id']}").json() == answer
    killed = new_id()  # reversed before it arrived: never received
    suv_refused(switch.post(f"{SUV}/redemptions/reversals", reversal(killed)), 404,
                "UNABLE_TO_LOCATE_RECORD")
    suv_refused(switch.get(f"{SUV}/redemptions/{killed}"), 404, "UNABLE_TO_LOCATE_RECORD")


# == refunds ==================================================================================
def test_refund_of_a_confirmed_redemption(switch: Switch) -> None:
    redemption = redeemed_and_confirmed(switch, "DV5000", 2000)
    req = refund_request("DV5000", redemptionId=redemption["id"])
    answer = ok(switch.post(f"{SUV}/refunds", req), 200, 201)
    assert answer["id"] == req["id"] and answer["time"] == req["time"]
    assert answer["amounts"]["approvedAmount"] == money(2000)
    assert balance(switch, "DV5000") == 3000  # usable again once the refund is confirmed
    confirm(switch, "refunds", req["id"])
    assert balance(switch, "DV5000") == 5000
    entry = switch.entry(req["id"])
    assert (entry["interface"], entry["operation"], entry["amount"], entry["final"]) == (
        "suv", "SUV_REFUND", 2000, "confirmed")


def test_partial_refund_found_by_the_voucher_alone(switch: Switch) -> None:
    redeemed_and_confirmed(switch, "DV5000", 2000)
    answer = ok(switch.post(f"{SUV}/refunds", refund_request("DV5000", 500)), 200, 201)
    assert answer["amounts"]["approvedAmount"] == money(500)


def test_refund_found_by_the_receivers_transaction_reference(switch: Switch) -> None:
    req, answer = redeem(switch, "DV5000", 2000)
    confirm(switch, "redemptions", req["id"])
    ref = next(t["transactionIdentifier"] for t in answer["thirdPartyIdentifiers"]
               if t["institutionId"] == answer["receiver"]["id"])
    ok(switch.post(f"{SUV}/refunds", refund_request("DV5000", receiverTransactionRef=ref)),
       200, 201)
    missing = refund_request("DV5000", receiverTransactionRef="NOT-A-REF")
    suv_refused(switch.post(f"{SUV}/refunds", missing), 400, "UNABLE_TO_LOCATE_RECORD")


def test_refund_declines(switch: Switch) -> None:
    never = refund_request("DV5000")
    suv_refused(switch.post(f"{SUV}/refunds", never), 400, "VOUCHER_NOT_REDEEMED")
    pending, _ = redeem(switch, "DV5000", 1000)
    suv_refused(switch.post(f"{SUV}/refunds", refund_request("DV5000")), 400,
                "REDEMPTION_NOT_CONFIRMED")
    reverse(switch, "redemptions", pending["id"])
    suv_refused(switch.post(f"{SUV}/refunds",
                            refund_request("DV5000", redemptionId=pending["id"])),
                400, "VOUCHER_NOT_REDEEMED")
    done = redeemed_and_confirmed(switch, "DV5000", 1000)
    too_much = refund_request("DV5000", 1001, redemptionId=done["id"])
    suv_refused(switch.post(f"{SUV}/refunds", too_much), 400, "INVALID_AMOUNT")
    ok(switch.post(f"{SUV}/refunds", refund_request("DV5000", redemptionId=done["id"])), 200, 201)
    suv_refused(switch.post(f"{SUV}/refunds", refund_request("DV5000", redemptionId=done["id"])),
                400, "VOUCHER_ALREADY_REFUNDED")
    suv_refused(switch.post(f"{SUV}/refunds", refund_request("NOSUCHVOUCHER")), 400,
                "INVALID_VOUCHER")
    suv_refused(switch.post(f"{SUV}/refunds", refund_request("DV5000", redemptionId="nope")), 400,
                "UNABLE_TO_LOCATE_RECORD")


def test_refund_needs_the_voucher_code_and_a_fresh_id(switch: Switch) -> None:
    redemption = redeemed_and_confirmed(switch)
    req = refund_request("DV5000", redemptionId=redemption["id"])
    req["voucher"] = {"serialNumber": "SN0000005000"}
    format_error(switch.post(f"{SUV}/refunds", req), "voucher.code")
    req["voucher"] = {"code": "DV5000"}
    ok(switch.post(f"{SUV}/refunds", req), 200, 201)
    suv_refused(switch.post(f"{SUV}/refunds", req), 400, "DUPLICATE_RECORD")


def test_refund_advices_without_their_original(switch: Switch) -> None:
    unknown = new_id()
    suv_refused(switch.post(f"{SUV}/refunds/confirmations", confirmation(unknown)), 404,
                "UNABLE_TO_LOCATE_RECORD")
    suv_refused(switch.post(f"{SUV}/refunds/reversals", reversal(unknown)), 404,
                "UNABLE_TO_LOCATE_RECORD")
    redeemed_and_confirmed(switch)
    late = refund_request("DV5000")
    late["id"] = unknown
    suv_refused(switch.post(f"{SUV}/refunds", late), 400, "REFUND_ALREADY_REVERSED")


def test_refund_confirmation_is_idempotent_and_final(switch: Switch) -> None:
    redeemed_and_confirmed(switch)
    req = refund_request("DV5000")
    ok(switch.post(f"{SUV}/refunds", req), 200, 201)
    advice = confirmation(req["id"])
    ok(switch.post(f"{SUV}/refunds/confirmations", advice), 200, 202)
    ok(switch.post(f"{SUV}/refunds/confirmations", advice), 200, 202)
    suv_refused(switch.post(f"{SUV}/refunds/reversals", reversal(req["id"])), 400,
                "REFUND_ALREADY_CONFIRMED")
    assert balance(switch, "DV5000") == 5000


def test_refund_reversal_undoes_it_and_is_idempotent(switch: Switch) -> None:
    redemption = redeemed_and_confirmed(switch)
    req = refund_request("DV5000", redemptionId=redemption["id"])
    ok(switch.post(f"{SUV}/refunds", req), 200, 201)
    advice = reversal(req["id"])
    ok(switch.post(f"{SUV}/refunds/reversals", advice), 200, 202)
    ok(switch.post(f"{SUV}/refunds/reversals", advice), 200, 202)
    suv_refused(switch.post(f"{SUV}/refunds/confirmations", confirmation(req["id"])), 400,
                "REFUND_ALREADY_REVERSED")
    assert balance(switch, "DV5000") == 3000
    again = refund_request("DV5000", redemptionId=redemption["id"])  # refundable again
    ok(switch.post(f"{SUV}/refunds", again), 200, 201)


# == the ledger ===============================================================================
def test_the_ledger_shows_provisions_redemptions_and_refunds(switch: Switch) -> None:
    preq, panswer = provision(switch, product_id="BLU50")
    confirm_provision(switch, preq, panswer)
    code = panswer["voucher"]["code"]
    redemption = redeemed_and_confirmed(switch, code, 5000)
    refund = refund_request(code, redemptionId=redemption["id"])
    ok(switch.post(f"{SUV}/refunds", refund), 200, 201)
    reverse(switch, "refunds", refund["id"])
    rows = {o["operation"]: (o["amount"], o["final"], [a["kind"] for a in o["advices"]])
            for o in switch.ledger()["originals"]}
    assert rows == {"SUV_PROVISION": (5000, "confirmed", ["confirmation"]),
                    "SUV_REDEEM": (5000, "confirmed", ["confirmation"]),
                    "SUV_REFUND": (5000, "reversed", ["reversal"])}
