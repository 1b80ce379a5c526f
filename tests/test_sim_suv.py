"""The simulator's digital-voucher (SUV v1) side: lookup, redeem, confirm, reverse."""

from __future__ import annotations

import httpx
import pytest

from terminal_agent.sim import SimServer
from tests import sim_samples as s

V = "/suv/v1"


def balance(client: httpx.Client, code: str) -> int:
    r = client.get(f"{V}/vouchers", params={"voucherCode": code})
    assert r.status_code == 200, r.text
    return int(r.json()["amounts"]["approvedAmount"]["amount"])


def test_lookup_known_unknown_spent_expired(client: httpx.Client) -> None:
    r = client.get(f"{V}/vouchers", params={"voucherCode": "1234567890123456"})
    assert r.status_code == 200
    body = r.json()
    assert body["amounts"]["approvedAmount"] == {"amount": 10000, "currency": "710",
                                                 "ledgerIndicator": "CREDIT"}
    assert body["voucher"]["serialNumber"] and "code" not in body["voucher"]
    assert client.get(f"{V}/vouchers", params={"voucherCode": "42"}).status_code == 404
    spent = client.get(f"{V}/vouchers", params={"voucherCode": "8000000000000000"})
    assert spent.status_code == 400 and spent.json()["errorType"] == "VOUCHER_ALREADY_REDEEMED"
    old = client.get(f"{V}/vouchers", params={"voucherCode": "9000000000000001"})
    assert old.status_code == 400 and old.json()["errorType"] == "VOUCHER_NOT_REDEEMABLE"
    assert client.get(f"{V}/vouchers").status_code == 400


def test_partial_redeem_confirm_and_balance(client: httpx.Client, sim: SimServer) -> None:
    req = s.suv_redemption("DV5000", 2000)
    r = client.post(f"{V}/redemptions", json=req)
    assert r.status_code == 201
    body = r.json()
    assert body["id"] == req["id"] and body["time"] == req["time"]
    assert body["amounts"]["approvedAmount"]["amount"] == 2000
    assert body["amounts"]["balanceAmount"]["amount"] == 3000
    assert balance(client, "DV5000") == 3000
    conf = s.confirmation(req["id"], body["thirdPartyIdentifiers"])
    assert client.post(f"{V}/redemptions/confirmations", json=conf).status_code == 202
    assert client.post(f"{V}/redemptions/confirmations", json=conf).status_code == 202
    late = client.post(f"{V}/redemptions/reversals", json=s.reversal(req["id"]))
    assert late.status_code == 400 and late.json()["errorType"] == "REDEMPTION_ALREADY_CONFIRMED"
    entry = sim.ledger()["originals"][0]
    assert entry["interface"] == "suv" and entry["amount"] == 2000
    assert entry["final"] == "confirmed" and entry["advices"][0]["count"] == 2


def test_reversal_gives_the_value_back(client: httpx.Client) -> None:
    req = s.suv_redemption("DV3000")  # no amount: the whole balance
    r = client.post(f"{V}/redemptions", json=req)
    assert r.json()["amounts"]["approvedAmount"]["amount"] == 3000
    assert client.get(f"{V}/vouchers", params={"voucherCode": "DV3000"}).status_code == 400
    rev = s.reversal(req["id"], r.json()["thirdPartyIdentifiers"])
    assert client.post(f"{V}/redemptions/reversals", json=rev).status_code == 202
    assert balance(client, "DV3000") == 3000
    late = client.post(f"{V}/redemptions/confirmations", json=s.confirmation(req["id"]))
    assert late.status_code == 400 and late.json()["errorType"] == "REDEMPTION_ALREADY_REVERSED"


@pytest.mark.parametrize(("code", "amount", "error_type"), [
    ("DV1000", 1500, "INSUFFICIENT_AMOUNT"),
    ("DV5000", 1013, "INSUFFICIENT_FUNDS"),
    ("NOSUCHVOUCHER", 100, "INVALID_VOUCHER"),
    ("8000000000000000", 100, "VOUCHER_ALREADY_REDEEMED"),
    ("9000000000000001", 100, "VOUCHER_NOT_REDEEMABLE"),
])
def test_redeem_declines(client: httpx.Client, code: str, amount: int, error_type: str) -> None:
    r = client.post(f"{V}/redemptions", json=s.suv_redemption(code, amount))
    assert r.status_code == 400 and r.json()["errorType"] == error_type


def test_redeem_without_code_names_the_field(client: httpx.Client) -> None:
    req = s.suv_redemption("DV100")
    del req["voucher"]["code"]
    r = client.post(f"{V}/redemptions", json=req)
    assert r.status_code == 400
    assert r.json()["detailMessage"]["formatErrors"][0]["field"] == "voucher.code"


def test_advices_for_unknown_redemptions(client: httpx.Client) -> None:
    rid = s.new_id()
    assert client.post(f"{V}/redemptions/reversals", json=s.reversal(rid)).status_code == 404
    assert client.post(f"{V}/redemptions/confirmations",
                       json=s.confirmation(s.new_id())).status_code == 404
    late = s.suv_redemption("DV100", 100)
    late["id"] = rid
    r = client.post(f"{V}/redemptions", json=late)
    assert r.status_code == 400 and r.json()["errorType"] == "REDEMPTION_ALREADY_REVERSED"
