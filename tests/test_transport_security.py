"""Transport to the switch (finding: plain http:// was accepted for any *.localhost name and any
127/8 address, and HTTP_PROXY was honoured, so with a hosts entry the Basic credentials went in
clear to another machine). A real recording proxy on 127.0.0.1 and the real simulator."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from terminal_agent.config import SwitchConfig
from terminal_agent.errors import ConfigError, SwitchError
from terminal_agent.protocol.operations import Op
from terminal_agent.sim import SimServer
from terminal_agent.switch import SwitchClient


class RecordingProxy(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, dict[str, str]]] = []

    def _record(self) -> None:
        RecordingProxy.seen.append((self.command, self.path, dict(self.headers)))
        self.send_response(502)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_CONNECT = _record  # noqa: N815 (http.server's names)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    RecordingProxy.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingProxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_proxy_variables_in_the_environment_are_ignored(proxy, sim: SimServer,
                                                              monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    cfg = SwitchConfig(base_url=sim.url, username="1234", read_timeout=5, connect_timeout=2)
    async with SwitchClient(cfg, "s3cret") as client:
        reply = await client.send(Op.LIST_PRODUCTS, path="/airtime/v5/products")
    assert reply.status == 400 and b"FORMAT_ERROR" in reply.body  # the simulator's own answer
    assert RecordingProxy.seen == []  # the credentials went to the switch, not the proxy


async def test_a_configured_proxy_sees_only_a_tls_tunnel(proxy):
    cfg = SwitchConfig(base_url="https://127.0.0.1:9", username="1234", read_timeout=2,
                       connect_timeout=2, proxy=proxy)
    async with SwitchClient(cfg, "s3cret") as client:
        with pytest.raises(SwitchError):
            await client.send(Op.LIST_PRODUCTS, path="/airtime/v5/products")
    assert [(m, p) for m, p, _ in RecordingProxy.seen] == [("CONNECT", "127.0.0.1:9")]
    assert not any("authorization" in {k.lower() for k in h} for _, _, h in RecordingProxy.seen)


@pytest.mark.parametrize(("base_url", "proxy", "why"), [
    ("http://127.0.0.1:8080", "http://proxy.lan:3128", "only allowed with an https"),
    ("https://switch.example", "socks5://proxy.lan:1080", "not an http"),
    ("https://switch.example", "http://user:pw@proxy.lan:3128", "must not carry credentials"),
])
def test_a_proxy_only_for_https_and_without_credentials(base_url, proxy, why):
    with pytest.raises(ConfigError, match=why):
        SwitchClient(SwitchConfig(base_url=base_url, proxy=proxy))


@pytest.mark.parametrize("base_url", ["http://localhost:8080", "http://switch.localhost:8080",
                                      "http://127.0.0.2:8080"])
def test_plain_http_to_a_name_or_another_loopback_address_is_refused(base_url):
    with pytest.raises(ConfigError, match="127.0.0.1 or"):
        SwitchClient(SwitchConfig(base_url=base_url))
