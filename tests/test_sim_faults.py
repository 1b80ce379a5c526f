"""Fault injection, observed the way the till's httpx client sees it."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from terminal_agent.sim import SimServer
from tests import sim_samples as s

A = "/airtime/v5"


def add(client: httpx.Client, spec: object) -> dict:
    r = client.post("/_sim/faults", json=spec)
    assert r.status_code == 201, r.text
    return r.json()


def originals(sim: SimServer) -> list[dict]:
    return sim.ledger()["originals"]


def test_latency(client: httpx.Client) -> None:
    add(client, {"op": "PURCHASE", "type": "latency", "latency_ms": 300, "times": 1})
    started = time.monotonic()
    assert client.post(f"{A}/purchases", json=s.purchase()).status_code == 201
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert client.post(f"{A}/purchases", json=s.purchase()).status_code == 201
    assert time.monotonic() - started < 0.3


def test_hang_before_means_timeout_and_nothing_processed(client: httpx.Client,
                                                         sim: SimServer) -> None:
    add(client, {"op": "PURCHASE", "type": "hang", "times": 1})
    with pytest.raises(httpx.ReadTimeout):
        client.post(f"{A}/purchases", json=s.purchase(), timeout=0.5)
    assert originals(sim) == []
    assert client.post(f"{A}/purchases", json=s.purchase()).status_code == 201


def test_hang_ends_with_a_dropped_connection(client: httpx.Client) -> None:
    add(client, {"op": "*", "type": "hang", "hang_ms": 200, "times": 1})
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post(f"{A}/purchases", json=s.purchase())


def test_reset_after_processing_a_reversal(client: httpx.Client, sim: SimServer) -> None:
    req = s.purchase()
    client.post(f"{A}/purchases", json=req)
    add(client, {"op": "PURCHASE_REVERSE", "type": "reset", "when": "after", "times": 1})
    rev = s.reversal(req["id"])
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post(f"{A}/purchases/reversals", json=rev)
    entry = originals(sim)[0]
    assert entry["final"] == "reversed"  # the switch has it; the till does not know
    assert entry["advices"] == [{"id": rev["id"], "kind": "reversal", "status": 202, "count": 1}]
    again = client.post(f"{A}/purchases/reversals", json=rev)  # the till repeats it
    assert again.status_code == 202
    assert originals(sim)[0]["advices"][0]["count"] == 2


def test_reset_before_processing(client: httpx.Client, sim: SimServer) -> None:
    add(client, {"op": "PURCHASE", "type": "reset", "times": 1})
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post(f"{A}/purchases", json=s.purchase())
    assert originals(sim) == []


@pytest.mark.parametrize("status", [500, 503, 504])
def test_status_fault_with_error_detail(client: httpx.Client, sim: SimServer,
                                        status: int) -> None:
    add(client, {"op": "PURCHASE", "type": "status", "status": status, "times": 1})
    r = client.post(f"{A}/purchases", json=s.purchase())
    assert r.status_code == status
    expected = "UPSTREAM_UNAVAILABLE" if status == 503 else "SYSTEM_MALFUNCTION"
    assert r.json()["errorType"] == expected and r.json()["requestType"] == "PURCHASE_REQUEST"
    assert originals(sim) == []


def test_status_after_processing_keeps_the_approval(client: httpx.Client,
                                                    sim: SimServer) -> None:
    add(client, {"op": "PURCHASE", "type": "status", "status": 500, "when": "after",
                 "times": 1})
    req = s.purchase()
    assert client.post(f"{A}/purchases", json=req).status_code == 500
    assert originals(sim)[0]["outcome"] == "approved"
    st = client.get(f"{A}/purchases/status", params={"originalMsgId": req["id"]})
    assert st.status_code == 200


def test_malformed_truncated_and_wrong_content_type(client: httpx.Client,
                                                    sim: SimServer) -> None:
    add(client, [{"op": "PURCHASE", "type": "malformed", "when": "after", "times": 1},
                 {"op": "PURCHASE", "type": "truncated", "when": "after", "times": 1},
                 {"op": "PURCHASE", "type": "content_type", "when": "after", "times": 1}])
    bad = client.post(f"{A}/purchases", json=s.purchase())
    assert bad.status_code == 201 and bad.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        bad.json()
    cut = client.post(f"{A}/purchases", json=s.purchase())
    assert cut.status_code == 201 and int(cut.headers["content-length"]) == len(cut.content)
    with pytest.raises(json.JSONDecodeError):
        cut.json()
    html = client.post(f"{A}/purchases", json=s.purchase())
    assert html.headers["content-type"].startswith("text/html")
    assert len(originals(sim)) == 3  # each was processed; only the answers were broken


def test_decline_before_is_stored_as_declined(client: httpx.Client, sim: SimServer) -> None:
    add(client, {"op": "PURCHASE", "type": "decline", "error_type": "DECLINED_BY_MNO",
                 "times": 1})
    req = s.purchase()
    r = client.post(f"{A}/purchases", json=req)
    assert r.status_code == 400 and r.json()["errorType"] == "DECLINED_BY_MNO"
    assert originals(sim)[0]["error_type"] == "DECLINED_BY_MNO"
    st = client.get(f"{A}/purchases/status", params={"originalMsgId": req["id"]})
    assert st.json()["errorType"] == "DECLINED_BY_MNO"


def test_decline_of_an_advice(client: httpx.Client, sim: SimServer) -> None:
    req = s.purchase()
    client.post(f"{A}/purchases", json=req)
    add(client, {"op": "PURCHASE_CONFIRM", "type": "decline", "status": 503,
                 "error_type": "UPSTREAM_UNAVAILABLE", "times": 1})
    conf = s.confirmation(req["id"])
    assert client.post(f"{A}/purchases/confirmations", json=conf).status_code == 503
    assert client.post(f"{A}/purchases/confirmations", json=conf).status_code == 202
    entry = originals(sim)[0]
    assert entry["final"] == "confirmed"
    assert entry["advices"] == [{"id": conf["id"], "kind": "confirmation", "status": 202,
                                 "count": 2}]


def test_times_probability_and_wildcard(client: httpx.Client) -> None:
    add(client, {"op": "*", "type": "status", "status": 503, "times": 2})
    codes = [client.get(f"{A}/products", params={"channelName": "POS"}).status_code
             for _ in range(3)]
    assert codes == [503, 503, 200]
    add(client, {"op": "LIST_PRODUCTS", "type": "status", "probability": 0})
    assert client.get(f"{A}/products", params={"channelName": "POS"}).status_code == 200
    assert len(client.get("/_sim/faults").json()["faults"]) == 1
    assert client.delete("/_sim/faults").json() == {"removed": 1}


def test_faults_endpoint_rejects_bad_specs(client: httpx.Client) -> None:
    for spec in [{"op": "NOPE", "type": "hang"}, {"type": "explode"},
                 {"type": "status", "when": "later"}, {"type": "latency"},
                 {"type": "status", "probability": 2}, {"type": "hang", "colour": "red"}]:
        r = client.post("/_sim/faults", json=spec)
        assert r.status_code == 400, spec
        assert r.json()["errorType"] == "FORMAT_ERROR"
    assert client.post("/_sim/faults", content=b"{nope",
                       headers={"content-type": "application/json"}).status_code == 400
    assert client.get("/_sim/faults").json() == {"faults": []}


def test_faults_at_start_and_by_op_value(tmp_path) -> None:
    from terminal_agent.sim import SimOptions

    spec = json.dumps({"faults": [{"op": "purchase_trial", "type": "status", "status": 504}]})
    with SimServer(SimOptions(faults=spec)) as sim, httpx.Client(base_url=sim.url,
                                                                 auth=("u", "p")) as c:
        assert c.post(f"{A}/purchases/trials", json=s.direct_topup()).status_code == 504
        assert c.post(f"{A}/purchases", json=s.direct_topup()).status_code == 201


async def test_async_client_sees_a_timeout_then_an_answer() -> None:
    async with SimServer() as sim, httpx.AsyncClient(base_url=sim.url, auth=("u", "p")) as c:
        sim.add_faults({"op": "MSISDN_LOOKUP", "type": "hang", "times": 1})
        with pytest.raises(httpx.ReadTimeout):
            await c.get(f"{A}/msisdn", params={"msisdn": "27821234567"}, timeout=0.3)
        r = await c.get(f"{A}/msisdn", params={"msisdn": "27821234567"})
        assert r.status_code == 200
