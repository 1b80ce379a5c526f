"""The simulator's airtime v5 side, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import re

import httpx
import pytest

from terminal_agent.sim import SimServer
from tests import sim_samples as s

A = "/airtime/v5"


def final_of(sim: SimServer, original_id: str) -> dict:
    return next(o for o in sim.ledger()["originals"] if o["id"] == original_id)


# -- requests ---------------------------------------------------------------------------------
def test_voucher_purchase_is_approved_with_pin_serial_expiry(client: httpx.Client) -> None:
    req = s.purchase("VOD29")
    req["time"] = "2025-03-04T05:06:07.891+02:00"
    r = client.post(f"{A}/purchases", json=req)
    assert r.status_code == 201
    body = r.json()
    assert body["id"] == req["id"] and body["time"] == "2025-03-04T05:06:07.891+02:00"
    v = body["voucher"]
    assert re.fullmatch(r"[0-9]{16}", v["pin"]) and re.fullmatch(r"[0-9]{12}", v["serialNumber"])
    assert v["expiryDate"].endswith("Z") and v["redeemInstructions"]
    assert body["product"]["name"] == "Vodacom R29 Airtime"
    assert body["amounts"]["approvedAmount"] == {"amount": 2900, "currency": "710"}
    ids = [t["institutionId"] for t in body["thirdPartyIdentifiers"]]
    assert ids == ["22222222", body["settlementEntity"]["id"], body["receiver"]["id"]]
    assert body["receiver"]["name"] == "Vodacom"


def test_legacy_voucher_provision_and_its_advices(client: httpx.Client, sim: SimServer) -> None:
    req = s.voucher_request("MTN29")
    r = client.post(f"{A}/vouchers/{req['id']}", json=req)
    assert r.status_code == 201
    assert r.json()["voucher"]["pin"] and r.json()["responseProduct"]["productId"] == "MTN29"
    assert r.headers["location"] == f"{A}/vouchers/{req['id']}"
    conf = s.confirmation(req["id"], r.json()["thirdPartyIdentifiers"])
    wrong = client.post(f"{A}/vouchers/{req['id']}/confirmations/{s.new_id()}", json=conf)
    assert wrong.status_code == 400 and wrong.json()["errorType"] == "FORMAT_ERROR"
    ok = client.post(f"{A}/vouchers/{req['id']}/confirmations/{conf['id']}", json=conf)
    assert ok.status_code == 202
    rev = s.reversal(req["id"])
    late = client.post(f"{A}/vouchers/{req['id']}/reversals/{rev['id']}", json=rev)
    assert late.status_code == 400 and late.json()["errorType"] == "ACCOUNT_ALREADY_SETTLED"
    assert final_of(sim, req["id"])["final"] == "confirmed"


def test_path_id_must_match_body_id(client: httpx.Client) -> None:
    req = s.voucher_request()
    r = client.post(f"{A}/vouchers/{s.new_id()}", json=req)
    assert r.status_code == 400
    assert r.json()["detailMessage"]["formatErrors"][0]["field"] == "id"


def test_validation_names_the_field(client: httpx.Client) -> None:
    req = s.purchase()
    req["originator"]["merchant"]["merchantId"] = "SHORT"
    r = client.post(f"{A}/purchases", json=req)
    assert r.status_code == 400
    body = r.json()
    assert body["errorType"] == "FORMAT_ERROR" and body["requestType"] == "PURCHASE_REQUEST"
    assert body["detailMessage"]["formatErrors"][0]["field"] == "originator.merchant.merchantId"
    assert "originator.merchant.merchantId" in body["errorMessage"]


def test_advice_body_is_validated_before_the_original_is_looked_up(client: httpx.Client) -> None:
    rev = s.reversal(s.new_id())
    del rev["reversalReason"]
    r = client.post(f"{A}/purchases/reversals", json=rev)
    assert r.status_code == 400
    assert r.json()["detailMessage"]["formatErrors"][0]["field"] == "reversalReason"


def test_duplicate_request_id(client: httpx.Client) -> None:
    req = s.purchase()
    assert client.post(f"{A}/purchases", json=req).status_code == 201
    again = client.post(f"{A}/purchases", json=req)
    assert again.status_code == 400 and again.json()["errorType"] == "DUPLICATE_RECORD"


@pytest.mark.parametrize(("req", "error_type"), [
    (s.purchase("OUTOFSTOCK"), "OUT_OF_STOCK"),
    (s.purchase("INVALIDPRODUCT"), "INVALID_PRODUCT"),
    (s.direct_topup("27000000000"), "INVALID_MSISDN"),
    (s.direct_topup("27831234567"), "INVALID_MSISDN"),  # an MTN number, a Vodacom product
    (s.purchase("VOD10", amount=1013), "INSUFFICIENT_FUNDS"),
    (s.direct_topup(amount=200_000), "LIMIT_EXCEEDED"),
])
def test_deterministic_declines(client: httpx.Client, sim: SimServer, req: dict,
                                error_type: str) -> None:
    r = client.post(f"{A}/purchases", json=req)
    assert r.status_code == 400 and r.json()["errorType"] == error_type
    entry = final_of(sim, req["id"])
    assert entry["outcome"] == "declined" and entry["error_type"] == error_type
    assert entry["final"] == "declined"


def test_direct_topup_has_no_voucher_and_status_returns_stored_outcome(
        client: httpx.Client) -> None:
    req = s.direct_topup("27821234567", 2500)
    r = client.post(f"{A}/purchases", json=req)
    assert r.status_code == 201 and "voucher" not in r.json()
    assert r.json()["msisdn"]["operator"]["name"] == "Vodacom"
    st = client.get(f"{A}/purchases/status", params={"originalMsgId": req["id"]})
    assert st.status_code == 200 and st.json() == r.json()
    ref = next(t["transactionIdentifier"] for t in r.json()["thirdPartyIdentifiers"]
               if t["institutionId"] == r.json()["settlementEntity"]["id"])
    by_ref = client.get(f"{A}/purchases/status", params={
        "purchaseReference": ref, "provider": r.json()["settlementEntity"]["name"]})
    assert by_ref.status_code == 200 and by_ref.json()["id"] == req["id"]


def test_status_of_declined_unknown_and_reversed(client: httpx.Client) -> None:
    declined = s.purchase("OUTOFSTOCK")
    client.post(f"{A}/purchases", json=declined)
    st = client.get(f"{A}/purchases/status", params={"originalMsgId": declined["id"]})
    assert st.status_code == 400 and st.json()["errorType"] == "OUT_OF_STOCK"
    unknown = client.get(f"{A}/purchases/status", params={"originalMsgId": s.new_id()})
    assert unknown.status_code == 404
    req = s.purchase()
    client.post(f"{A}/purchases", json=req)
    client.post(f"{A}/purchases/reversals", json=s.reversal(req["id"]))
    st = client.get(f"{A}/purchases/status", params={"originalMsgId": req["id"]})
    assert st.status_code == 400 and st.json()["errorType"] == "ACCOUNT_ALREADY_SETTLED"
    missing = client.get(f"{A}/purchases/status")
    assert missing.status_code == 400 and missing.json()["errorType"] == "FORMAT_ERROR"


def test_msisdn_0404_is_unknown_then_approved_on_second_lookup(client: httpx.Client) -> None:
    req = s.direct_topup("27821230404", 1500)
    r = client.post(f"{A}/purchases", json=req)
    assert r.status_code == 504 and r.json()["errorType"] == "OUTCOME_UNKNOWN"
    first = client.get(f"{A}/purchases/status", params={"originalMsgId": req["id"]})
    assert first.status_code == 504 and first.json()["errorType"] == "OUTCOME_UNKNOWN"
    second = client.get(f"{A}/purchases/status", params={"originalMsgId": req["id"]})
    assert second.status_code == 200 and second.json()["id"] == req["id"]


def test_msisdn_0505_is_unknown_then_declined(client: httpx.Client) -> None:
    req = s.direct_topup("27821230505", 1500)
    assert client.post(f"{A}/purchases", json=req).status_code == 504
    client.get(f"{A}/purchases/status", params={"originalMsgId": req["id"]})
    second = client.get(f"{A}/purchases/status", params={"originalMsgId": req["id"]})
    assert second.status_code == 400 and second.json()["errorType"] == "DECLINED_BY_MNO"


def test_trial_is_not_stored_and_notrial_is_not_supported(client: httpx.Client,
                                                          sim: SimServer) -> None:
    trial = s.direct_topup("27821234567", 2000)
    r = client.post(f"{A}/purchases/trials", json=trial)
    assert r.status_code == 200 and "voucher" not in r.json()
    assert sim.ledger()["originals"] == []
    nt = client.post(f"{A}/purchases/trials", json=s.purchase("NOTRIAL", "27821234567", 500))
    assert nt.status_code == 400 and nt.json()["errorType"] == "FUNCTION_NOT_SUPPORTED"


# -- advices ----------------------------------------------------------------------------------
def test_reversal_of_unknown_original_is_404_and_kills_a_late_original(
        client: httpx.Client, sim: SimServer) -> None:
    req = s.purchase()
    rev = s.reversal(req["id"])
    r = client.post(f"{A}/purchases/reversals", json=rev)
    assert r.status_code == 404 and r.json()["errorType"] == "UNABLE_TO_LOCATE_RECORD"
    late = client.post(f"{A}/purchases", json=req)
    assert late.status_code == 400 and late.json()["errorType"] == "ACCOUNT_ALREADY_SETTLED"
    again = client.post(f"{A}/purchases/reversals", json=rev)
    assert again.status_code == 404
    ledger = sim.ledger()
    assert ledger["originals"] == []
    assert ledger["orphan_advices"] == [{"id": rev["id"], "kind": "reversal",
                                         "operation": "PURCHASE_REVERSE",
                                         "request_id": req["id"], "status": 404, "count": 2}]


def test_confirmation_of_unknown_original_is_404(client: httpx.Client) -> None:
    r = client.post(f"{A}/purchases/confirmations", json=s.confirmation(s.new_id()))
    assert r.status_code == 404 and r.json()["errorType"] == "UNABLE_TO_LOCATE_RECORD"


def test_confirm_after_reverse_and_reverse_after_confirm(client: httpx.Client,
                                                         sim: SimServer) -> None:
    a, b = s.purchase(), s.purchase()
    for req in (a, b):
        assert client.post(f"{A}/purchases", json=req).status_code == 201
    assert client.post(f"{A}/purchases/reversals", json=s.reversal(a["id"])).status_code == 202
    late_conf = client.post(f"{A}/purchases/confirmations", json=s.confirmation(a["id"]))
    assert late_conf.status_code == 400
    assert late_conf.json()["errorType"] == "ACCOUNT_ALREADY_SETTLED"
    assert late_conf.json()["originalId"] == a["id"]
    conf = s.confirmation(b["id"], amount=1000)
    assert client.post(f"{A}/purchases/confirmations", json=conf).status_code == 202
    late_rev = client.post(f"{A}/purchases/reversals", json=s.reversal(b["id"]))
    assert late_rev.status_code == 400
    assert late_rev.json()["errorType"] == "ACCOUNT_ALREADY_SETTLED"
    assert final_of(sim, a["id"])["final"] == "reversed"
    assert final_of(sim, b["id"])["final"] == "confirmed"
    assert [x["status"] for x in final_of(sim, a["id"])["advices"]] == [202, 400]


def test_repeated_advice_is_idempotent_and_counted(client: httpx.Client, sim: SimServer) -> None:
    req = s.purchase()
    resp = client.post(f"{A}/purchases", json=req).json()
    conf = s.confirmation(req["id"], resp["thirdPartyIdentifiers"], 1000)
    for _ in range(3):
        r = client.post(f"{A}/purchases/confirmations", json=conf)
        assert r.status_code == 202 and r.json()["id"] == conf["id"]
        assert r.json()["time"] == conf["time"]
    entry = final_of(sim, req["id"])
    assert entry["advices"] == [{"id": conf["id"], "kind": "confirmation", "status": 202,
                                 "count": 3}]
    assert entry == {"id": req["id"], "interface": "airtime", "operation": "PURCHASE",
                     "outcome": "approved", "error_type": None, "amount": 1000,
                     "advices": entry["advices"], "final": "confirmed"}


def test_advice_id_reused_for_another_original_is_duplicate(client: httpx.Client) -> None:
    a, b = s.purchase(), s.purchase()
    client.post(f"{A}/purchases", json=a)
    client.post(f"{A}/purchases", json=b)
    rev = s.reversal(a["id"])
    assert client.post(f"{A}/purchases/reversals", json=rev).status_code == 202
    rev["requestId"] = b["id"]
    r = client.post(f"{A}/purchases/reversals", json=rev)
    assert r.status_code == 400 and r.json()["errorType"] == "DUPLICATE_RECORD"


def test_reversal_of_declined_original_is_accepted(client: httpx.Client, sim: SimServer) -> None:
    req = s.purchase("OUTOFSTOCK")
    client.post(f"{A}/purchases", json=req)
    assert client.post(f"{A}/purchases/reversals", json=s.reversal(req["id"])).status_code == 202
    conf = client.post(f"{A}/purchases/confirmations", json=s.confirmation(req["id"]))
    assert conf.status_code == 404
    assert final_of(sim, req["id"])["final"] == "declined"


# -- lookups ----------------------------------------------------------------------------------
def test_msisdn_lookup(client: httpx.Client) -> None:
    r = client.get(f"{A}/msisdn", params={"msisdn": "27831234567", "channelName": "POS"})
    assert r.status_code == 200
    body = r.json()
    assert body["msisdn"]["operator"]["name"] == "MTN"
    assert {p["productId"] for p in body["availableProducts"]} >= {"MTN10", "MTNDT"}
    assert body["promotion"]["promotion"]
    assert client.get(f"{A}/msisdn", params={"msisdn": "27000000000"}).json()["errorType"] == \
        "INVALID_MSISDN"
    foreign = client.get(f"{A}/msisdn", params={"msisdn": "4915112345678"})
    assert foreign.status_code == 200  # its info, and no products
    assert foreign.json() == {"msisdn": {"msisdn": "4915112345678"}, "availableProducts": []}
    bad = client.get(f"{A}/msisdn", params={"msisdn": "0821234567"})
    assert bad.status_code == 400 and bad.json()["detailMessage"]["formatErrors"][0]["field"] == \
        "msisdn"


def test_products_catalogue(client: httpx.Client) -> None:
    r = client.get(f"{A}/products", params={"channelName": "POS"})
    assert r.status_code == 200
    products = r.json()
    assert {p["operator"]["name"] for p in products} == {"Vodacom", "MTN", "Cell C", "Telkom"}
    assert all(p["channels"][0]["channelName"] == "POS" for p in products)
    assert any(p["isDirectTopup"] and p["type"] == "AIRTIME_VARIABLE" for p in products)
    assert client.get(f"{A}/products").status_code == 400
