"""The switch client: in memory for what it sends, against the real simulator on 127.0.0.1
for timeouts, resets, malformed bodies, refused connections and TLS."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import httpx
import msgspec
import pytest

from terminal_agent.config import SwitchConfig
from terminal_agent.errors import (
    ConfigError,
    SwitchProtocolError,
    SwitchTimeout,
    SwitchUnavailable,
    ValidationError,
)
from terminal_agent.protocol import builders
from terminal_agent.protocol.airtime import Product
from terminal_agent.protocol.operations import SPECS, Op
from terminal_agent.protocol.outcome import Verdict
from terminal_agent.sim import SimOptions, SimServer
from terminal_agent.switch import SwitchClient

from .conftest import make_config

CFG = SwitchConfig(base_url="http://127.0.0.1:9", username="1234", read_timeout=0.5,
                   connect_timeout=0.5)


def request(tmp_path: Path):
    identity = builders.Identity.from_config(make_config(tmp_path).terminal)
    req = builders.voucher_request(identity, Product(product_id="VOD10"), 1000, "710")
    return req, SPECS[Op.VOUCHER_PROVISION].render_path(requestId=req.id)


async def test_sends_basic_auth_json_and_validates_before_sending(tmp_path):
    seen: list[httpx.Request] = []

    def handler(r: httpx.Request) -> httpx.Response:
        seen.append(r)
        return httpx.Response(400, json={"errorType": "OUT_OF_STOCK"})

    async with SwitchClient(CFG, "s3cret", transport=httpx.MockTransport(handler)) as client:
        req, path = request(tmp_path)
        outcome = (await client.exchange(Op.VOUCHER_PROVISION, req, path=path)).outcome
        assert outcome.verdict == Verdict.DECLINED and outcome.error_type == "OUT_OF_STOCK"
        sent = seen[0]
        assert sent.headers["authorization"] == "Basic " + base64.b64encode(b"1234:s3cret").decode()
        assert sent.headers["content-type"] == "application/json"
        bad = msgspec.structs.replace(req, originator=msgspec.structs.replace(
            req.originator, terminal_id="SHORT"))
        with pytest.raises(ValidationError) as err:
            await client.send(Op.VOUCHER_PROVISION, bad, path=path)
        assert err.value.field == "originator.terminalId" and len(seen) == 1


def test_plain_http_only_to_loopback():
    with pytest.raises(ConfigError) as err:
        SwitchClient(SwitchConfig(base_url="http://switch.example.com"))
    assert "https" in str(err.value)


def client_for(url: str, **kw) -> SwitchClient:
    return SwitchClient(msgspec.structs.replace(CFG, base_url=url, **kw), "pw")


async def test_timeout_reset_malformed_and_refused_against_the_simulator(tmp_path, sim):
    req, path = request(tmp_path)
    async with client_for(sim.url) as client:
        sim.add_faults({"op": "VOUCHER_PROVISION", "type": "hang", "times": 1, "hang_ms": 3000})
        with pytest.raises(SwitchTimeout):
            await client.send(Op.VOUCHER_PROVISION, req, path=path)
        sim.add_faults({"op": "VOUCHER_PROVISION", "type": "reset", "times": 1})
        req1, path1 = request(tmp_path)
        with pytest.raises(SwitchProtocolError):
            await client.send(Op.VOUCHER_PROVISION, req1, path=path1)
        sim.add_faults({"op": "VOUCHER_PROVISION", "type": "malformed", "times": 1})
        req2, path2 = request(tmp_path)
        outcome = (await client.exchange(Op.VOUCHER_PROVISION, req2, path=path2)).outcome
        assert outcome.verdict == Verdict.UNKNOWN  # a success status with an unreadable body
        # a late answer is never seen: the next request on the same client is answered normally
        sim.add_faults({"op": "VOUCHER_PROVISION", "type": "latency", "latency_ms": 1500,
                        "times": 1})
        req3, path3 = request(tmp_path)
        assert ((await client.exchange(Op.VOUCHER_PROVISION, req3, path=path3)).outcome).verdict == \
            Verdict.UNKNOWN
        req4, path4 = request(tmp_path)
        assert ((await client.exchange(Op.VOUCHER_PROVISION, req4, path=path4)).outcome).verdict == \
            Verdict.APPROVED
        assert client.last_status == 201 and client.last_latency is not None
    async with client_for("http://127.0.0.1:9") as closed:  # nothing listens there
        with pytest.raises(SwitchUnavailable):
            await closed.send(Op.VOUCHER_PROVISION, req, path=path)


async def test_tls_is_verified(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    req, path = request(tmp_path)
    with SimServer(SimOptions(), tls=(str(cert), str(key))) as tls_sim:
        assert tls_sim.url.startswith("https://")
        async with client_for(tls_sim.url) as untrusting:  # system CAs: self-signed refused
            with pytest.raises(SwitchUnavailable):
                await untrusting.send(Op.VOUCHER_PROVISION, req, path=path)
        async with client_for(tls_sim.url, ca_file=str(cert)) as trusting:
            outcome = (await trusting.exchange(Op.VOUCHER_PROVISION, req, path=path)).outcome
            assert outcome.verdict == Verdict.APPROVED
