"""The simulator as a server: auth, bad input, the record file, state across restarts, the CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from terminal_agent.sim import SimOptions, SimServer
from tests import sim_samples as s

A = "/airtime/v5"


# -- auth -------------------------------------------------------------------------------------
def test_without_configured_credentials_any_basic_passes(sim: SimServer) -> None:
    with httpx.Client(base_url=sim.url, auth=("anyone", "anything")) as c:
        assert c.get(f"{A}/products", params={"channelName": "POS"}).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer abc", "Basic !!!notbase64", "Basic " +
                                    __import__("base64").b64encode(b"nocolon").decode()])
def test_missing_or_malformed_auth_is_401(sim: SimServer, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    r = httpx.get(f"{sim.url}{A}/products", params={"channelName": "POS"}, headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Basic")
    assert r.json()["errorType"] == "AUTHENTICATION_ERROR"


def test_configured_credentials_are_enforced() -> None:
    with SimServer(SimOptions(credentials=["22222222:s3cret", ("other", "pw")])) as sim:
        url = f"{sim.url}{A}/products?channelName=POS"
        assert httpx.get(url, auth=("22222222", "s3cret")).status_code == 200
        assert httpx.get(url, auth=("other", "pw")).status_code == 200
        assert httpx.get(url, auth=("22222222", "wrong")).status_code == 401
        assert httpx.get(url).status_code == 401


# -- bad input --------------------------------------------------------------------------------
def test_bad_input_gets_a_clear_4xx(client: httpx.Client) -> None:
    cases = [
        (client.post(f"{A}/purchases", content=b"{not json",
                     headers={"content-type": "application/json"}), 400, "FORMAT_ERROR"),
        (client.post(f"{A}/purchases", content=json.dumps(s.purchase()),
                     headers={"content-type": "text/plain"}), 415, "FORMAT_ERROR"),
        (client.post(f"{A}/purchases", content=b"[1, 2]",
                     headers={"content-type": "application/json"}), 400, "FORMAT_ERROR"),
        (client.post(f"{A}/purchases", content=b"",
                     headers={"content-type": "application/json"}), 400, "FORMAT_ERROR"),
        (client.post(f"{A}/purchases", content=b"x" * (1024 * 1024 + 1),
                     headers={"content-type": "application/json"}), 413, "FORMAT_ERROR"),
        (client.get(f"{A}/nowhere"), 404, "FUNCTION_NOT_SUPPORTED"),
        (client.get(f"{A}/purchases"), 405, "FUNCTION_NOT_SUPPORTED"),
    ]
    for response, status, error_type in cases:
        assert response.status_code == status, response.text
        assert response.json()["errorType"] == error_type
    body = s.purchase()
    body["product"] = {"productId": 12}
    r = client.post(f"{A}/purchases", json=body)
    assert r.status_code == 400
    assert r.json()["detailMessage"]["formatErrors"][0]["field"] == "product.productId"
    assert client.get("/_sim/health").json()["status"] == "ok"


# -- record -----------------------------------------------------------------------------------
def test_record_file_has_every_request_and_no_password(tmp_path: Path) -> None:
    record = tmp_path / "requests.jsonl"
    with SimServer(SimOptions(record_path=record)) as sim:
        req = s.purchase()
        httpx.post(f"{sim.url}{A}/purchases", json=req, auth=("22222222", "hunter2"))
        httpx.get(f"{sim.url}{A}/msisdn?msisdn=27821234567")
        httpx.get(f"{sim.url}/_sim/ledger")
        lines = record.read_text().splitlines()  # flushed while the server runs
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["method"] == "POST" and first["path"] == f"{A}/purchases"
    assert first["body"] == req and first["has_auth"] is True and first["op"] == "PURCHASE"
    assert first["user"] == "22222222"
    assert second["query"] == {"msisdn": "27821234567"} and second["has_auth"] is False
    assert "hunter2" not in record.read_text()


# -- state ------------------------------------------------------------------------------------
def test_state_survives_a_restart(tmp_path: Path) -> None:
    server = SimServer(SimOptions(state_path=tmp_path / "sim.db")).start()
    try:
        req = s.purchase()
        with httpx.Client(base_url=server.url, auth=("u", "p")) as c:
            c.post(f"{A}/purchases", json=req)
            c.post(f"{A}/purchases/reversals", json=s.reversal(req["id"]))
            orphan = s.reversal(s.new_id())
            c.post(f"{A}/purchases/reversals", json=orphan)
        before = server.ledger()
        server.restart()
        assert server.ledger() == before
        with httpx.Client(base_url=server.url, auth=("u", "p")) as c:
            assert c.post(f"{A}/purchases", json=req).json()["errorType"] == "DUPLICATE_RECORD"
            late = s.purchase()
            late["id"] = orphan["requestId"]
            assert c.post(f"{A}/purchases", json=late).json()["errorType"] == \
                "ACCOUNT_ALREADY_SETTLED"
    finally:
        server.stop()


def test_reset_forgets_everything(client: httpx.Client, sim: SimServer) -> None:
    client.post(f"{A}/purchases", json=s.purchase())
    client.post("/_sim/faults", json={"type": "latency", "latency_ms": 1})
    assert client.post("/_sim/reset").json() == {"reset": True}
    assert client.get("/_sim/ledger").json() == {"originals": [], "orphan_advices": []}
    assert client.get("/_sim/health").json()["faults"] == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_cli(port: int, state: Path, record: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "terminal_agent.cli", "sim", "--host", "127.0.0.1",
         "--port", str(port), "--state", str(state), "--record", str(record),
         "--credentials", "22222222:s3cret"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        try:
            if httpx.get(f"{url}/_sim/health", timeout=0.5,
                         auth=("22222222", "s3cret")).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the simulator did not come up")


def test_cli_killed_with_sigkill_remembers_approvals_and_advices(tmp_path: Path) -> None:
    port, state, record = _free_port(), tmp_path / "sim.db", tmp_path / "rec.jsonl"
    url = f"http://127.0.0.1:{port}"
    auth = ("22222222", "s3cret")
    proc = _start_cli(port, state, record)
    try:
        _wait_healthy(url, proc)
        sale, kept = s.purchase(), s.purchase()
        assert httpx.post(f"{url}{A}/purchases", json=sale, auth=auth).status_code == 201
        assert httpx.post(f"{url}{A}/purchases", json=kept, auth=auth).status_code == 201
        conf = s.confirmation(sale["id"])
        assert httpx.post(f"{url}{A}/purchases/confirmations", json=conf,
                          auth=auth).status_code == 202
        assert httpx.post(f"{url}{A}/purchases", json=sale, auth=("22222222", "x")
                          ).status_code == 401
        before = httpx.get(f"{url}/_sim/ledger", auth=auth).json()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc = _start_cli(port, state, record)
        _wait_healthy(url, proc)
        assert httpx.get(f"{url}/_sim/ledger", auth=auth).json() == before
        finals = {o["id"]: o["final"] for o in before["originals"]}
        assert finals == {sale["id"]: "confirmed", kept["id"]: "open"}
        again = httpx.post(f"{url}{A}/purchases/confirmations", json=conf, auth=auth)
        assert again.status_code == 202
        st = httpx.get(f"{url}{A}/purchases/status", params={"originalMsgId": kept["id"]},
                       auth=auth)
        assert st.status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(lines) == 6 and all("s3cret" not in json.dumps(line) for line in lines)
    assert [line["op"] for line in lines][:3] == ["PURCHASE", "PURCHASE", "PURCHASE_CONFIRM"]
