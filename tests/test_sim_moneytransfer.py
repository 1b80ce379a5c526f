"""The simulator's money-transfer v2 side: admin, send money, pay out, cancel."""

from __future__ import annotations

import httpx
import pytest

from terminal_agent.sim import SimServer
from tests import sim_samples as s

M = "/moneytransfer/v2"
DEMO_REF = "48203917562038174501"


def lookup(client: httpx.Client, ref: str) -> httpx.Response:
    return client.get(f"{M}/orders", params={"orderRedeemRef": ref, "receiverId": "30000001"})


def create_confirmed(client: httpx.Client, amount: int = 50000,
                     pin: str = "0412AC89FFEDCBA9") -> dict:
    req = s.order(amount, pin)
    r = client.post(f"{M}/orders", json=req)
    assert r.status_code == 201, r.text
    conf = s.confirmation(req["id"], r.json()["thirdPartyIdentifiers"])
    assert client.post(f"{M}/orders/confirmations", json=conf).status_code == 202
    return r.json()


def test_customer_info_upsert_and_check(client: httpx.Client) -> None:
    info = client.get(f"{M}/admin/customers",
                      params={"idNumber": "9001015009087", "receiverId": "30000001"})
    assert info.status_code == 200
    assert info.json()["customerProfileId"] == "1000000001"
    assert info.json()["customerDetails"]["lastName"] == "Nkosi"
    missing = client.get(f"{M}/admin/customers", params={"idNumber": "9001015009087"})
    assert missing.status_code == 400
    assert missing.json()["detailMessage"]["formatErrors"][0]["field"] == "receiverId"
    unknown = client.get(f"{M}/admin/customers",
                         params={"idNumber": "7707077777087", "receiverId": "30000001"})
    assert unknown.status_code == 404

    created = client.post(f"{M}/admin/customers", json=s.admin_message("7707077777087"))
    assert created.status_code == 201
    profile = created.json()["customerProfileId"]
    blind = client.post(f"{M}/admin/customers", json=s.admin_message("7707077777087"))
    assert blind.status_code == 200  # no profile id: the customer of that idNumber is updated
    assert blind.json()["customerProfileId"] == profile
    update = client.post(f"{M}/admin/customers", json=s.admin_message("7707077777087", profile))
    assert update.status_code == 200
    found = client.get(f"{M}/admin/customers",
                       params={"idNumber": "7707077777087", "receiverId": "30000001"})
    assert found.json()["customerProfileId"] == profile


def test_fee_quotes_and_exchange_rate(client: httpx.Client) -> None:
    q = client.get(f"{M}/admin/fees", params={
        "amount": "50000", "amountIncludesFee": "false", "originatorInstId": "11111111",
        "receiverId": "30000001"})
    assert q.status_code == 200
    fq = q.json()["feeQuote"]
    assert fq["transferAmount"]["amount"] == 50000 and fq["feeAmount"]["amount"] == 1500
    assert fq["totalAmount"]["amount"] == 51500 and q.json()["quoteId"]
    inc = client.post(f"{M}/admin/fees", json=s.quote_request(51500, includes_fees=True))
    assert inc.status_code == 200
    assert inc.json()["feeQuote"]["transferAmount"]["amount"] == 50000
    assert inc.json()["feeQuote"]["totalAmount"]["amount"] == 51500
    zero = client.post(f"{M}/admin/fees", json=s.quote_request(0))
    assert zero.status_code == 400 and zero.json()["errorType"] == "INVALID_AMOUNT"
    rate = client.get(f"{M}/admin/exchangerate", params={"fromCurrency": "710",
                                                         "toCurrency": "454"})
    assert rate.status_code == 200 and rate.json()["rate"] > 50
    assert rate.json()["fromCurrency"] == "710"
    bad = client.get(f"{M}/admin/exchangerate", params={"fromCurrency": "ZAR",
                                                        "toCurrency": "454"})
    assert bad.status_code == 400
    assert bad.json()["detailMessage"]["formatErrors"][0]["field"] == "fromCurrency"


def test_send_money_then_pay_out(client: httpx.Client, sim: SimServer) -> None:
    req = s.order(50000)
    r = client.post(f"{M}/orders", json=req)
    assert r.status_code == 201
    body = r.json()
    assert body["id"] == req["id"] and body["time"] == req["time"]
    ref = body["orderRedeemRef"]
    assert len(ref) == 20 and body["orderRedeemRefAlt"] and body["orderId"]
    assert body["customerProfileId"] == "1000000001"
    assert {t["institutionId"] for t in body["thirdPartyIdentifiers"]} >= {"30000001"}
    assert lookup(client, ref).json()["status"] == "UNCONFIRMED"
    early = client.post(f"{M}/orders/redemptions", json=s.redemption(ref, 50000))
    assert early.status_code == 400 and early.json()["errorType"] == "UNABLE_TO_REDEEM"
    conf = s.confirmation(req["id"], body["thirdPartyIdentifiers"])
    assert client.post(f"{M}/orders/confirmations", json=conf).status_code == 202
    assert lookup(client, ref).json()["status"] == "UNREDEEMED"

    wrong = client.post(f"{M}/orders/redemptions", json=s.redemption(ref, 50000, "1111111111111111"))
    assert wrong.status_code == 400 and wrong.json()["errorType"] == "INCORRECT_PIN"
    amount = client.post(f"{M}/orders/redemptions", json=s.redemption(ref, 40000, "0412AC89FFEDCBA9"))
    assert amount.status_code == 400 and amount.json()["errorType"] == "INVALID_AMOUNT"
    redeem = s.redemption(ref, 50000, "0412AC89FFEDCBA9")
    paid = client.post(f"{M}/orders/redemptions", json=redeem)
    assert paid.status_code == 201
    assert paid.json()["amount"]["amount"] == 50000 and paid.json()["orderId"] == body["orderId"]
    assert lookup(client, ref).json()["status"] == "REDEEMED"
    twice = client.post(f"{M}/orders/redemptions", json=s.redemption(ref, 50000, "0412AC89FFEDCBA9"))
    assert twice.status_code == 400 and twice.json()["errorType"] == "ALREADY_REDEEMED"
    rconf = s.confirmation(redeem["id"], paid.json()["thirdPartyIdentifiers"])
    assert client.post(f"{M}/orders/redemptions/confirmations", json=rconf).status_code == 202
    rrev = client.post(f"{M}/orders/redemptions/reversals", json=s.reversal(redeem["id"]))
    assert rrev.status_code == 400 and rrev.json()["errorType"] == "ALREADY_REDEEMED"
    finals = {o["operation"]: o["final"] for o in sim.ledger()["originals"]
              if o["outcome"] == "approved"}
    assert finals == {"MT_ORDER_CREATE": "confirmed", "MT_REDEEM": "confirmed"}


def test_pin_retries_exceeded_after_three_wrong_pins(client: httpx.Client) -> None:
    ref = create_confirmed(client)["orderRedeemRef"]
    kinds = [client.post(f"{M}/orders/redemptions",
                         json=s.redemption(ref, 50000, pin)).json()["errorType"]
             for pin in ["1111111111111111"] * 3 + ["0412AC89FFEDCBA9"]]
    assert kinds == ["INCORRECT_PIN"] * 3 + ["PIN_RETRIES_EXCEEDED"]


def test_reversed_redemption_makes_the_order_payable_again(client: httpx.Client) -> None:
    ref = create_confirmed(client, 20000)["orderRedeemRef"]
    redeem = s.redemption(ref, 20000, "0412AC89FFEDCBA9")
    assert client.post(f"{M}/orders/redemptions", json=redeem).status_code == 201
    rev = s.reversal(redeem["id"])
    assert client.post(f"{M}/orders/redemptions/reversals", json=rev).status_code == 202
    assert lookup(client, ref).json()["status"] == "UNREDEEMED"
    late = client.post(f"{M}/orders/redemptions/confirmations", json=s.confirmation(redeem["id"]))
    assert late.status_code == 400 and late.json()["errorType"] == "UNABLE_TO_REDEEM"


def test_reversed_order_is_cancelled(client: httpx.Client) -> None:
    req = s.order(30000)
    r = client.post(f"{M}/orders", json=req)
    rev = s.reversal(req["id"], r.json()["thirdPartyIdentifiers"], "CANCELLED")
    assert client.post(f"{M}/orders/reversals", json=rev).status_code == 202
    assert client.post(f"{M}/orders/reversals", json=rev).status_code == 202
    assert lookup(client, r.json()["orderRedeemRef"]).json()["status"] == "CANCELLED"
    unknown = client.post(f"{M}/orders/reversals", json=s.reversal(s.new_id()))
    assert unknown.status_code == 404


@pytest.mark.parametrize(("amount", "id_number", "error_type"), [
    (0, "9001015009087", "INVALID_AMOUNT"),
    (600_000, "9001015009087", "DAILY_LIMIT_EXCEEDED"),
    (2_000_000, "9001015009087", "MONTHLY_LIMIT_EXCEEDED"),
    (10013, "9001015009087", "TRANSACTION_DECLINED"),
    (10000, "0000000000000", "CUSTOMER_CHECK_FAILED"),
])
def test_order_declines(client: httpx.Client, amount: int, id_number: str,
                        error_type: str) -> None:
    r = client.post(f"{M}/orders", json=s.order(amount, id_number=id_number))
    assert r.status_code == 400 and r.json()["errorType"] == error_type


def test_demo_orders_and_cancellation(client: httpx.Client, sim: SimServer) -> None:
    assert lookup(client, DEMO_REF).json()["status"] == "UNREDEEMED"
    assert lookup(client, "48203917562038174503").json()["status"] == "REDEEMED"
    assert lookup(client, "48203917562038174505").json()["status"] == "ON_HOLD"
    assert lookup(client, "99999999999999999999").status_code == 404
    held = client.post(f"{M}/orders/redemptions",
                       json=s.redemption("48203917562038174505", 75000))
    assert held.json()["errorType"] == "UNABLE_TO_REDEEM"
    nowhere = client.post(f"{M}/orders/redemptions", json=s.redemption("123", 100))
    assert nowhere.json()["errorType"] == "INVALID_REDEEM_REF"

    cancel = s.cancellation(DEMO_REF, "9001015009087")
    r = client.post(f"{M}/orders/cancel", json=cancel)
    assert r.status_code == 200 and r.json()["amount"]["amount"] == 50000
    assert lookup(client, DEMO_REF).json()["status"] == "CANCELLED"
    rev = client.post(f"{M}/orders/cancel/reversals", json=s.reversal(cancel["id"]))
    assert rev.status_code == 202
    assert lookup(client, DEMO_REF).json()["status"] == "UNREDEEMED"
    assert client.post(f"{M}/orders/cancel", json=s.cancellation("1" * 20)).status_code == 404


def test_cancellation_shows_on_the_order_in_the_ledger(client: httpx.Client,
                                                       sim: SimServer) -> None:
    body = create_confirmed(client, 10000)
    cancel = s.cancellation(body["orderRedeemRef"])
    assert client.post(f"{M}/orders/cancel", json=cancel).status_code == 200
    order = next(o for o in sim.ledger()["originals"] if o["id"] == body["id"])
    assert [a["kind"] for a in order["advices"]] == ["confirmation", "cancellation"]
