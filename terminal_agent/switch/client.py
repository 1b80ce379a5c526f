"""The only place that speaks HTTP to the Electrum switch.

One ``httpx.AsyncClient`` per agent: Basic auth, TLS always verified (CA bundle and client
certificate configurable), plain ``http://`` only to 127.0.0.1 and ::1, no proxy or other
setting taken from the environment (``trust_env`` off), timeouts from config (read timeout
60 s by default, as the interface documents), and an injectable transport for tests.

Transport failures are translated into the agent's own errors: ``SwitchUnavailable`` when the
request certainly never reached the switch (connection refused, DNS, TLS handshake),
``SwitchTimeout`` when it may have (outcome unknown), ``SwitchProtocolError`` for a broken answer.
An answer that arrives after the timeout is never seen: httpx abandons the exchange.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from terminal_agent.config import SwitchConfig
from terminal_agent.errors import (
    SwitchError,
    SwitchProtocolError,
    SwitchTimeout,
    SwitchUnavailable,
)
from terminal_agent.protocol import codec
from terminal_agent.protocol.operations import SPECS, Op
from terminal_agent.protocol.outcome import Outcome, classify
from terminal_agent.security import check_proxy, check_switch_url, tls_context

# Told about every exchange: (operation, HTTP status or None, seconds, error name or None).
RequestObserver = Callable[[str, "int | None", float, "str | None"], None]


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    elapsed: float
    content_type: str = ""


class SwitchClient:
    """Async client to the switch; use as ``async with SwitchClient(cfg, password) as client``."""

    def __init__(self, cfg: SwitchConfig, password: str = "", *,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        check_switch_url(cfg.base_url)
        self.cfg = cfg
        self.last_latency: float | None = None
        self.last_status: int | None = None
        self.last_answer_at: float | None = None
        self.last_error: str | None = None
        self.observer: RequestObserver | None = None
        timeout = httpx.Timeout(cfg.read_timeout, connect=cfg.connect_timeout,
                                pool=cfg.connect_timeout + cfg.read_timeout)
        self._http = httpx.AsyncClient(
            base_url=cfg.base_url.rstrip("/"),
            auth=httpx.BasicAuth(cfg.username, password),
            timeout=timeout,
            verify=tls_context(cfg) if transport is None else True,
            transport=transport,
            headers={"Accept": "application/json"},
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            follow_redirects=False,
            trust_env=False,  # no HTTP(S)_PROXY, NETRC or SSL_CERT_FILE from the environment
            proxy=check_proxy(cfg),
        )

    async def __aenter__(self) -> SwitchClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, op: Op, message: Any = None, *, path: str | None = None,
                   body: bytes | None = None, query: Mapping[str, str] | None = None,
                   timeout: float | None = None) -> Reply:
        """Send one request. ``message`` is encoded (strictly validated) unless ``body`` holds
        already-encoded bytes (advices are re-sent byte for byte)."""
        spec = SPECS[op]
        if body is None and message is not None:
            body = codec.encode(message)
        url = path or spec.path
        headers = {"Content-Type": "application/json"} if body is not None else {}
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = httpx.Timeout(timeout, connect=min(timeout, self.cfg.connect_timeout))
        started = time.monotonic()
        try:
            response = await self._http.request(spec.method, url, content=body, params=query,
                                                headers=headers, **extra)
        except httpx.ConnectError as exc:
            self._failed(exc, op, started)
            raise SwitchUnavailable(f"{op}: switch unreachable: {exc}") from exc
        except httpx.TimeoutException as exc:
            self._failed(exc, op, started)
            if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
                raise SwitchUnavailable(f"{op}: could not connect in time") from exc
            raise SwitchTimeout(f"{op}: no answer within the timeout") from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            self._failed(exc, op, started)
            raise SwitchProtocolError(f"{op}: connection broken: {exc}") from exc
        except httpx.HTTPError as exc:
            self._failed(exc, op, started)
            raise SwitchError(f"{op}: {exc}") from exc
        elapsed = time.monotonic() - started
        self.last_latency = elapsed
        self.last_status = response.status_code
        self.last_answer_at = time.time()
        self.last_error = None
        if self.observer is not None:
            self.observer(op, response.status_code, elapsed, None)
        return Reply(response.status_code, response.content, elapsed,
                     response.headers.get("content-type", ""))

    def _failed(self, exc: Exception, op: Op, started: float) -> None:
        self.last_error = type(exc).__name__
        self.last_status = None
        if self.observer is not None:
            self.observer(op, None, time.monotonic() - started, _failure(exc))

    async def call(self, op: Op, message: Any = None, **kwargs: Any) -> Outcome:
        """Send and classify. Any failure after the request may have left becomes the
        classifier's "no answer" row; a certain non-delivery is reported the same way (the
        flows treat both as unknown: a reversal of a never-seen original costs one 404)."""
        try:
            reply = await self.send(op, message, **kwargs)
        except SwitchError:
            return classify(op, None, None)
        return classify(op, reply.status, reply.body)


def _failure(exc: Exception) -> str:
    """A failure's name for metrics: what the caller can tell about it."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return "unreachable"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    return "broken"
