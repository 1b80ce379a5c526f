"""Conformance, money transfer v2: every operation the simulator serves, over HTTP.

Written from ``../shared/electrum/money-transfer.md``: the endpoint table (§2.1, success codes),
the errorType catalogue (§4.2), the lookup statuses (§3.2: ``UNCONFIRMED`` = only the first leg
completed, ``UNREDEEMED``, ``REDEEMED``, ``CANCELLED``, ``ON_HOLD``, ``EXPIRED``), the send-money
and pay-out state machines (§6) and the test server's answers to advices (§5.5: a conflicting
advice is ``DUPLICATE_RECORD`` for orders, ``UNABLE_TO_REDEEM``/``ALREADY_REDEEMED`` for
redemptions). No refusal the references do not describe: a sender that differs from a stored
profile is accepted, an upsert without ``customerProfileId`` updates.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conformance import (
    MT,
    Switch,
    confirmation,
    format_error,
    money,
    new_id,
    ok,
    originator,
    refused,
    reversal,
    server_fixture,  # noqa: F401 - fixture
    switch_fixture,  # noqa: F401 - fixture
    transaction,
)

# errorType of money transfer v2.22 (money-transfer.md §4.2 / the schema's ErrorTypeEnum)
MT_ERROR_TYPES = set("""TRANSACTION_NOT_ALLOWED_FOR_MERCHANT INVALID_MERCHANT ALREADY_REDEEMED
PIN_RETRIES_EXCEEDED INCORRECT_PIN UNABLE_TO_REDEEM INVALID_REDEEM_REF DAILY_LIMIT_EXCEEDED
MONTHLY_LIMIT_EXCEEDED TRANSACTION_LIMIT_EXCEEDED PROVIDER_SYSTEM_ERROR CUSTOMER_CHECK_FAILED
DUPLICATE_RECORD FORMAT_ERROR SYSTEM_ERROR TRANSACTION_DECLINED INVALID_AMOUNT ROUTING_ERROR
TRANSACTION_NOT_SUPPORTED UNABLE_TO_LOCATE_RECORD UPSTREAM_UNAVAILABLE AUTHENTICATION_ERROR""".split())

RECEIVER = {"id": "30000001", "name": "Mukuru Money Transfer"}
DEMO = "48203917562038174501"        # demo order, R500.00, confirmed, no PIN (sim docstring)
PIN = {"pinBlock": "9A3F00C1D2E3B4A5", "encryptionParameters": {"accountNumber": "000000654321"}}
WRONG_PIN = {"pinBlock": "0000111122223333"}
KNOWN_ID = "9001015009087"            # demo customer, profile 1000000001
BLOCKED_ID = "0000000000000"          # the simulator's KYC-refused sender


def mt_refused(response: httpx.Response, status: int, error_type: str) -> dict[str, Any]:
    assert error_type in MT_ERROR_TYPES
    return refused(response, status, error_type)


def person(id_number: str = "7804045009081", **extra: Any) -> dict[str, Any]:
    return {"firstName": "Zanele", "lastName": "Khumalo", "idNumber": id_number,
            "idType": "NATIONAL_ID", "idCountryCode": "ZA", **extra}


def order_request(amount: int = 30000, pin: dict[str, Any] | None = PIN, **fields: Any
                  ) -> dict[str, Any]:
    body = transaction(receiver=dict(RECEIVER), amount=money(amount),
                       senderDetails=person(), newCustomer=False,
                       recipientDetails={"firstName": "Bongani", "lastName": "Mthembu"})
    if pin:
        body["pin"] = pin
    body.update(fields)
    return body


def redeem_request(ref: str, amount: int | None, pin: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    body = transaction(receiver=dict(RECEIVER), orderRedeemRef=ref)
    if amount is not None:
        body["amount"] = money(amount)
    if pin:
        body["pin"] = pin
    return body


def create(sw: Switch, **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    req = order_request(**kw)
    return req, ok(sw.post(f"{MT}/orders", req), 201, 200)


def confirmed_order(sw: Switch, amount: int = 30000) -> str:
    req, answer = create(sw, amount=amount)
    ok(sw.post(f"{MT}/orders/confirmations",
               confirmation(req["id"], answer["thirdPartyIdentifiers"])), 202, 200)
    return str(answer["orderRedeemRef"])


def status(sw: Switch, ref: str) -> str:
    answer = ok(sw.get(f"{MT}/orders", orderRedeemRef=ref, receiverId=RECEIVER["id"]), 200)
    return str(answer["status"])


def redeem(sw: Switch, ref: str, amount: int = 30000, pin: dict[str, Any] | None = PIN
           ) -> tuple[dict[str, Any], httpx.Response]:
    req = redeem_request(ref, amount, pin)
    return req, sw.post(f"{MT}/orders/redemptions", req)


def info(sw: Switch, id_number: str, **params: str) -> httpx.Response:
    return sw.get(f"{MT}/admin/customers", idNumber=id_number, receiverId=RECEIVER["id"],
                  **params)


def admin(details: dict[str, Any] | None, profile_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"originator": originator(), "receiver": dict(RECEIVER)}
    if details is not None:
        body["customerDetails"] = details
    if profile_id:
        body["customerProfileId"] = profile_id
    return body


# == admin: customers =========================================================================
def test_create_then_update_a_customer_with_or_without_its_profile_id(switch: Switch) -> None:
    created = ok(switch.post(f"{MT}/admin/customers", admin(person())), 201)
    profile = created["customerProfileId"]
    assert profile
    again = ok(switch.post(f"{MT}/admin/customers",
                           admin(person(contactNumber="27829998888"))), 200, 201)
    assert again["customerProfileId"] == profile  # updated, not refused, not a second profile
    named = ok(switch.post(f"{MT}/admin/customers", admin(person(lastName="Dube"), profile)),
               200, 201)
    assert named["customerProfileId"] == profile
    found = ok(info(switch, "7804045009081"), 200)
    assert found["customerProfileId"] == profile
    assert found["customerDetails"]["lastName"] == "Dube"
    assert found["customerDetails"]["contactNumber"] == "27829998888"


def test_upsert_validates_nothing_the_definitions_do_not(switch: Switch) -> None:
    ok(switch.post(f"{MT}/admin/customers", {}), 201, 200)
    ok(switch.post(f"{MT}/admin/customers", admin({"firstName": "No ID"})), 201, 200)
    chosen = ok(switch.post(f"{MT}/admin/customers", admin(person("6501015009085"), "PROFILE-77")),
                201, 200)
    assert chosen["customerProfileId"] == "PROFILE-77"
    assert ok(info(switch, "6501015009085"), 200)["customerProfileId"] == "PROFILE-77"


def test_upsert_of_a_customer_failing_the_checks(switch: Switch) -> None:
    mt_refused(switch.post(f"{MT}/admin/customers", admin(person(BLOCKED_ID))), 400,
               "CUSTOMER_CHECK_FAILED")


def test_customer_info(switch: Switch) -> None:
    found = ok(info(switch, KNOWN_ID), 200)
    assert found["customerProfileId"] == "1000000001" and found["receiver"]["id"]
    assert found["customerDetails"]["idNumber"] == KNOWN_ID
    missing = info(switch, "7001015009081")
    assert missing.status_code in (400, 404)  # "a decline ... with an error status"
    mt_refused(missing, missing.status_code, "UNABLE_TO_LOCATE_RECORD")
    format_error(switch.get(f"{MT}/admin/customers", idNumber=KNOWN_ID), "receiverId")
    format_error(switch.get(f"{MT}/admin/customers", receiverId="30000001"), "idNumber")
    format_error(info(switch, KNOWN_ID, idCountryCode="ZAF"), "idCountryCode")
    format_error(info(switch, KNOWN_ID, merchantId="M-1"), "merchantId")


# == admin: fees and exchange rate ============================================================
def test_fee_quote_by_query(switch: Switch) -> None:
    params = {"amount": "50000", "amountIncludesFee": "false", "originatorInstId": "11111111",
              "receiverId": RECEIVER["id"]}
    answer = ok(switch.get(f"{MT}/admin/fees", **params), 200)
    quote = answer["feeQuote"]
    assert quote["transferAmount"]["amount"] == 50000
    assert quote["totalAmount"]["amount"] == 50000 + quote["feeAmount"]["amount"]
    for name in ("amount", "amountIncludesFee", "originatorInstId", "receiverId"):
        format_error(switch.get(f"{MT}/admin/fees", **{k: v for k, v in params.items()
                                                        if k != name}), name)
    format_error(switch.get(f"{MT}/admin/fees", **{**params, "amount": "R500"}), "amount")
    mt_refused(switch.get(f"{MT}/admin/fees", **{**params, "amount": "0"}), 400,
               "INVALID_AMOUNT")
    mt_refused(switch.get(f"{MT}/admin/fees", **{**params, "amount": "600000"}), 400,
               "DAILY_LIMIT_EXCEEDED")
    # Java Boolean.valueOf: "TRUE" is true, "yes" is false
    upper = ok(switch.get(f"{MT}/admin/fees", **{**params, "amountIncludesFee": "TRUE"}))
    yes = ok(switch.get(f"{MT}/admin/fees", **{**params, "amountIncludesFee": "yes"}))
    assert upper["feeQuote"]["totalAmount"]["amount"] == 50000
    assert yes["feeQuote"]["transferAmount"]["amount"] == 50000


def test_fee_quote_by_body(switch: Switch) -> None:
    body = {"originator": originator(), "receiver": dict(RECEIVER), "amount": money(51500),
            "amountIncludesFees": True}
    answer = ok(switch.post(f"{MT}/admin/fees", body), 200)
    assert answer["feeQuote"]["totalAmount"]["amount"] == 51500
    flagless = ok(switch.post(f"{MT}/admin/fees", {**body, "amountIncludesFees": None}), 200)
    assert flagless["feeQuote"]["transferAmount"]["amount"] == 51500  # defaults to false
    mt_refused(switch.post(f"{MT}/admin/fees", {"originator": originator()}), 400,
               "INVALID_AMOUNT")


def test_exchange_rate(switch: Switch) -> None:
    answer = ok(switch.get(f"{MT}/admin/exchangerate", fromCurrency="710", toCurrency="840"), 200)
    assert answer["rate"] > 0 and answer["toCurrency"] == "840"
    mt_refused(switch.get(f"{MT}/admin/exchangerate", fromCurrency="710", toCurrency="999"), 404,
               "UNABLE_TO_LOCATE_RECORD")
    format_error(switch.get(f"{MT}/admin/exchangerate", fromCurrency="ZAR", toCurrency="840"),
                 "fromCurrency")
    format_error(switch.get(f"{MT}/admin/exchangerate", fromCurrency="710"), "toCurrency")


# == createOrder ==============================================================================
def test_create_order(switch: Switch) -> None:
    req, answer = create(switch)
    assert answer["id"] == req["id"] and answer["time"] == req["time"]
    assert answer["amount"] == req["amount"] and answer["senderDetails"] == req["senderDetails"]
    assert answer["orderRedeemRef"] and answer["orderId"]
    assert req["thirdPartyIdentifiers"][0] in answer["thirdPartyIdentifiers"]
    assert status(switch, answer["orderRedeemRef"]) == "UNCONFIRMED"
    entry = switch.entry(req["id"])
    assert (entry["interface"], entry["amount"], entry["final"]) == ("moneytransfer", 30000,
                                                                     "open")


def test_a_sender_differing_from_the_stored_profile_is_accepted(switch: Switch) -> None:
    """The profile 1000000001 belongs to another ID number: Electrum's references describe no
    such check, so the order goes through, and everything after it works."""
    req, answer = create(switch, customerProfileId="1000000001")
    assert answer["customerProfileId"] == "1000000001"
    ok(switch.post(f"{MT}/orders/confirmations", confirmation(req["id"])), 202, 200)
    ref = answer["orderRedeemRef"]
    assert status(switch, ref) == "UNREDEEMED"
    redemption, paid = redeem(switch, ref)
    assert ok(paid, 201, 200)["amount"] == money(30000)
    assert status(switch, ref) == "REDEEMED"
    ok(switch.post(f"{MT}/orders/redemptions/confirmations", confirmation(redemption["id"])),
       202, 200)
    assert status(switch, ref) == "REDEEMED"


def test_unknown_profile_and_new_customers(switch: Switch) -> None:
    _, unknown = create(switch, customerProfileId="NO-SUCH-PROFILE")
    assert unknown["customerProfileId"] == "NO-SUCH-PROFILE"
    newcomer = order_request(newCustomer=True)
    newcomer["senderDetails"] = person("8808085009087")
    ok(switch.post(f"{MT}/orders", newcomer), 201, 200)
    assert ok(info(switch, "8808085009087"), 200)["customerProfileId"]
    flagless = order_request()
    del flagless["newCustomer"]
    ok(switch.post(f"{MT}/orders", flagless), 201, 200)


@pytest.mark.parametrize(("amount", "id_number", "error_type"), [
    (0, "7804045009081", "INVALID_AMOUNT"),
    (-100, "7804045009081", "INVALID_AMOUNT"),
    (600_000, "7804045009081", "DAILY_LIMIT_EXCEEDED"),
    (2_000_000, "7804045009081", "MONTHLY_LIMIT_EXCEEDED"),
    (10013, "7804045009081", "TRANSACTION_DECLINED"),
    (10000, BLOCKED_ID, "CUSTOMER_CHECK_FAILED"),
])
def test_create_order_declines(switch: Switch, amount: int, id_number: str,
                               error_type: str) -> None:
    req = order_request(amount)
    req["senderDetails"]["idNumber"] = id_number
    mt_refused(switch.post(f"{MT}/orders", req), 400, error_type)
    assert switch.entry(req["id"])["outcome"] == "declined"


def test_create_order_duplicate_id(switch: Switch) -> None:
    req, _ = create(switch)
    mt_refused(switch.post(f"{MT}/orders", req), 400, "DUPLICATE_RECORD")


# -- payment confirmations and reversals ------------------------------------------------------
def test_payment_confirmation_is_idempotent_and_final(switch: Switch) -> None:
    req, answer = create(switch)
    advice = confirmation(req["id"], answer["thirdPartyIdentifiers"])
    echoed = ok(switch.post(f"{MT}/orders/confirmations", advice), 202, 200)
    assert echoed["id"] == advice["id"] and echoed["requestId"] == req["id"]
    ok(switch.post(f"{MT}/orders/confirmations", advice), 202, 200)
    mt_refused(switch.post(f"{MT}/orders/reversals", reversal(req["id"])), 400,
               "DUPLICATE_RECORD")
    assert status(switch, answer["orderRedeemRef"]) == "UNREDEEMED"
    entry = switch.entry(req["id"])
    assert entry["final"] == "confirmed" and entry["advices"][0]["count"] == 2


def test_payment_reversal_cancels_the_order(switch: Switch) -> None:
    req, answer = create(switch)
    advice = reversal(req["id"], answer["thirdPartyIdentifiers"], "CANCELLED")
    ok(switch.post(f"{MT}/orders/reversals", advice), 202, 200)
    ok(switch.post(f"{MT}/orders/reversals", advice), 202, 200)
    ref = answer["orderRedeemRef"]
    assert status(switch, ref) == "CANCELLED"
    mt_refused(switch.post(f"{MT}/orders/confirmations", confirmation(req["id"])), 400,
               "DUPLICATE_RECORD")
    mt_refused(redeem(switch, ref)[1], 400, "UNABLE_TO_REDEEM")


def test_payment_advices_without_their_order(switch: Switch) -> None:
    unknown = new_id()
    mt_refused(switch.post(f"{MT}/orders/confirmations", confirmation(unknown)), 404,
               "UNABLE_TO_LOCATE_RECORD")
    mt_refused(switch.post(f"{MT}/orders/reversals", reversal(unknown)), 404,
               "UNABLE_TO_LOCATE_RECORD")
    late = order_request()
    late["id"] = unknown  # the order arrives after its reversal: its id is spent
    mt_refused(switch.post(f"{MT}/orders", late), 400, "DUPLICATE_RECORD")


def test_advices_of_a_declined_order(switch: Switch) -> None:
    req = order_request(0)
    mt_refused(switch.post(f"{MT}/orders", req), 400, "INVALID_AMOUNT")
    ok(switch.post(f"{MT}/orders/reversals", reversal(req["id"])), 202, 200)
    mt_refused(switch.post(f"{MT}/orders/confirmations", confirmation(req["id"])), 404,
               "UNABLE_TO_LOCATE_RECORD")


# == lookupOrder ==============================================================================
def test_lookup_follows_the_order_through_its_life(switch: Switch) -> None:
    req, answer = create(switch)
    ref = answer["orderRedeemRef"]
    assert status(switch, ref) == "UNCONFIRMED"         # only the first leg completed
    ok(switch.post(f"{MT}/orders/confirmations", confirmation(req["id"])), 202, 200)
    assert status(switch, ref) == "UNREDEEMED"
    redemption, paid = redeem(switch, ref)
    ok(paid, 201, 200)
    assert status(switch, ref) == "REDEEMED"
    ok(switch.post(f"{MT}/orders/redemptions/reversals", reversal(redemption["id"])), 202, 200)
    assert status(switch, ref) == "UNREDEEMED"          # the pay-out was undone
    cancel = transaction(receiver=dict(RECEIVER), orderRedeemRef=ref)
    ok(switch.post(f"{MT}/orders/cancel", cancel), 200, 201)
    assert status(switch, ref) == "CANCELLED"
    ok(switch.post(f"{MT}/orders/cancel/reversals", reversal(cancel["id"])), 202, 200)
    assert status(switch, ref) == "UNREDEEMED"
    full = ok(switch.get(f"{MT}/orders", orderRedeemRef=ref, receiverId=RECEIVER["id"]), 200)
    assert full["amount"] == money(30000) and full["receiver"]["id"]
    assert full["orderRedeemRef"] == ref and full["statusDescription"]


def test_lookup_of_a_reversed_order_and_the_demo_orders(switch: Switch) -> None:
    req, answer = create(switch)
    ok(switch.post(f"{MT}/orders/reversals", reversal(req["id"])), 202, 200)
    assert status(switch, answer["orderRedeemRef"]) == "CANCELLED"
    assert status(switch, DEMO) == "UNREDEEMED"
    assert status(switch, "48203917562038174503") == "REDEEMED"
    assert status(switch, "48203917562038174504") == "CANCELLED"
    assert status(switch, "48203917562038174505") == "ON_HOLD"


def test_lookup_errors(switch: Switch) -> None:
    unknown = switch.get(f"{MT}/orders", orderRedeemRef="1" * 20, receiverId=RECEIVER["id"])
    mt_refused(unknown, unknown.status_code, "UNABLE_TO_LOCATE_RECORD")
    assert unknown.status_code in (400, 404)
    format_error(switch.get(f"{MT}/orders", orderRedeemRef=DEMO), "receiverId")
    format_error(switch.get(f"{MT}/orders", receiverId=RECEIVER["id"]), "orderRedeemRef")
    format_error(switch.get(f"{MT}/orders", orderRedeemRef=DEMO, receiverId=RECEIVER["id"],
                            merchantId="M_1"), "merchantId")


# == redeemOrder ==============================================================================
def test_redeem_pays_out_the_order_amount(switch: Switch) -> None:
    ref = confirmed_order(switch, 45000)
    req, paid = redeem(switch, ref, 45000)
    answer = ok(paid, 201, 200)
    assert answer["id"] == req["id"] and answer["amount"] == money(45000) and answer["orderId"]
    assert switch.entry(req["id"])["amount"] == 45000


def test_redeem_without_an_amount_pays_the_order(switch: Switch) -> None:
    _, paid = redeem(switch, DEMO, None, None)
    assert ok(paid, 201, 200)["amount"] == money(50000)


def test_wrong_pin_then_the_right_one(switch: Switch) -> None:
    ref = confirmed_order(switch)
    mt_refused(redeem(switch, ref, pin=WRONG_PIN)[1], 400, "INCORRECT_PIN")
    mt_refused(redeem(switch, ref, pin=None)[1], 400, "INCORRECT_PIN")
    ok(redeem(switch, ref)[1], 201, 200)


def test_pin_retries_exceeded_on_the_fourth_attempt(switch: Switch) -> None:
    ref = confirmed_order(switch)
    kinds = [redeem(switch, ref, pin=WRONG_PIN)[1].json()["errorType"] for _ in range(3)]
    assert kinds == ["INCORRECT_PIN"] * 3
    mt_refused(redeem(switch, ref)[1], 400, "PIN_RETRIES_EXCEEDED")


@pytest.mark.parametrize("amount", [29999, 30001, 0])
def test_wrong_amount_is_invalid_amount(switch: Switch, amount: int) -> None:
    ref = confirmed_order(switch)
    mt_refused(redeem(switch, ref, amount)[1], 400, "INVALID_AMOUNT")


def test_redeem_declines(switch: Switch) -> None:
    _, fresh = create(switch)
    mt_refused(redeem(switch, fresh["orderRedeemRef"])[1], 400, "UNABLE_TO_REDEEM")  # unconfirmed
    mt_refused(redeem(switch, "48203917562038174505", 75000, None)[1], 400, "UNABLE_TO_REDEEM")
    mt_refused(redeem(switch, "48203917562038174504", 25000, None)[1], 400, "UNABLE_TO_REDEEM")
    mt_refused(redeem(switch, "48203917562038174503", 30000, None)[1], 400, "ALREADY_REDEEMED")
    mt_refused(redeem(switch, "00000000000000000000", 100, None)[1], 400, "INVALID_REDEEM_REF")
    req, first = redeem(switch, DEMO, 50000, None)
    ok(first, 201, 200)
    mt_refused(redeem(switch, DEMO, 50000, None)[1], 400, "ALREADY_REDEEMED")
    mt_refused(switch.post(f"{MT}/orders/redemptions", req), 400, "DUPLICATE_RECORD")


# -- redemption confirmations and reversals ---------------------------------------------------
def test_redemption_confirmation_is_idempotent_and_final(switch: Switch) -> None:
    req, paid = redeem(switch, DEMO, 50000, None)
    advice = confirmation(req["id"], ok(paid)["thirdPartyIdentifiers"])
    ok(switch.post(f"{MT}/orders/redemptions/confirmations", advice), 202, 200)
    ok(switch.post(f"{MT}/orders/redemptions/confirmations", advice), 202, 200)
    mt_refused(switch.post(f"{MT}/orders/redemptions/reversals", reversal(req["id"])), 400,
               "ALREADY_REDEEMED")
    assert status(switch, DEMO) == "REDEEMED"


def test_redemption_reversal_makes_the_order_payable_again(switch: Switch) -> None:
    req, paid = redeem(switch, DEMO, 50000, None)
    ok(paid)
    advice = reversal(req["id"], reason="CANCELLED")
    ok(switch.post(f"{MT}/orders/redemptions/reversals", advice), 202, 200)
    ok(switch.post(f"{MT}/orders/redemptions/reversals", advice), 202, 200)
    assert status(switch, DEMO) == "UNREDEEMED"
    mt_refused(switch.post(f"{MT}/orders/redemptions/confirmations", confirmation(req["id"])),
               400, "UNABLE_TO_REDEEM")
    ok(redeem(switch, DEMO, 50000, None)[1], 201, 200)


def test_redemption_advices_without_their_redemption(switch: Switch) -> None:
    unknown = new_id()
    mt_refused(switch.post(f"{MT}/orders/redemptions/confirmations", confirmation(unknown)), 404,
               "UNABLE_TO_LOCATE_RECORD")
    mt_refused(switch.post(f"{MT}/orders/redemptions/reversals", reversal(unknown)), 404,
               "UNABLE_TO_LOCATE_RECORD")
    late = redeem_request(DEMO, 50000)
    late["id"] = unknown
    mt_refused(switch.post(f"{MT}/orders/redemptions", late), 400, "DUPLICATE_RECORD")
    assert status(switch, DEMO) == "UNREDEEMED"


def test_a_redemption_advice_naming_the_order_finds_nothing(
        switch: Switch) -> None:
    req, answer = create(switch)
    ok(switch.post(f"{MT}/orders/confirmations", confirmation(req["id"])), 202, 200)
    # a redemption advice naming the *order* id finds no redemption
    mt_refused(switch.post(f"{MT}/orders/redemptions/confirmations", confirmation(req["id"])),
               404, "UNABLE_TO_LOCATE_RECORD")


# == cancelOrder ==============================================================================
def test_cancel_refunds_the_sender(switch: Switch) -> None:
    cancel = transaction(receiver=dict(RECEIVER), orderRedeemRef=DEMO, idNumber=KNOWN_ID)
    answer = ok(switch.post(f"{MT}/orders/cancel", cancel), 200, 201)
    assert answer["id"] == cancel["id"] and answer["amount"] == money(50000)
    assert answer["orderRedeemRef"] == DEMO and answer["orderRedeemRefAlt"] and answer["orderId"]
    assert status(switch, DEMO) == "CANCELLED"
    mt_refused(redeem(switch, DEMO, 50000, None)[1], 400, "UNABLE_TO_REDEEM")


def test_cancel_declines(switch: Switch) -> None:
    nowhere = transaction(receiver=dict(RECEIVER), orderRedeemRef="1" * 20)
    mt_refused(switch.post(f"{MT}/orders/cancel", nowhere), 404, "UNABLE_TO_LOCATE_RECORD")
    paid_out = transaction(receiver=dict(RECEIVER), orderRedeemRef="48203917562038174503")
    mt_refused(switch.post(f"{MT}/orders/cancel", paid_out), 400, "ALREADY_REDEEMED")
    held = transaction(receiver=dict(RECEIVER), orderRedeemRef="48203917562038174505")
    mt_refused(switch.post(f"{MT}/orders/cancel", held), 400, "TRANSACTION_DECLINED")  # on hold
    stranger = transaction(receiver=dict(RECEIVER), orderRedeemRef=DEMO, idNumber="7001015009081")
    mt_refused(switch.post(f"{MT}/orders/cancel", stranger), 400, "CUSTOMER_CHECK_FAILED")
    cancel = transaction(receiver=dict(RECEIVER), orderRedeemRef=DEMO)
    ok(switch.post(f"{MT}/orders/cancel", cancel), 200, 201)
    mt_refused(switch.post(f"{MT}/orders/cancel", cancel), 400, "DUPLICATE_RECORD")


def test_cancel_reversal(switch: Switch) -> None:
    cancel = transaction(receiver=dict(RECEIVER), orderRedeemRef=DEMO)
    ok(switch.post(f"{MT}/orders/cancel", cancel), 200, 201)
    advice = reversal(cancel["id"], reason="TIMEOUT")
    ok(switch.post(f"{MT}/orders/cancel/reversals", advice), 202, 200)
    ok(switch.post(f"{MT}/orders/cancel/reversals", advice), 202, 200)
    assert status(switch, DEMO) == "UNREDEEMED"
    mt_refused(switch.post(f"{MT}/orders/cancel/reversals", reversal(new_id())), 404,
               "UNABLE_TO_LOCATE_RECORD")


def test_the_ledger_shows_an_order_and_its_payout(switch: Switch) -> None:
    req, answer = create(switch)
    ok(switch.post(f"{MT}/orders/confirmations", confirmation(req["id"])), 202, 200)
    redemption, paid = redeem(switch, answer["orderRedeemRef"])
    ok(paid)
    ok(switch.post(f"{MT}/orders/redemptions/confirmations", confirmation(redemption["id"])),
       202, 200)
    rows = {o["operation"]: (o["amount"], o["final"]) for o in switch.ledger()["originals"]}
    assert rows == {"MT_ORDER_CREATE": (30000, "confirmed"), "MT_REDEEM": (30000, "confirmed")}
