"""The only place that speaks HTTP to the Electrum switch.

One ``httpx.AsyncClient`` per agent: Basic auth, TLS always verified (CA bundle and client
certificate configurable), plain ``http://`` only to 127.0.0.1 and ::1, no proxy or other
setting taken from the environment (``trust_env`` off; a proxy only from the config), and an
injectable transport for tests. Rules:

1. **The deadline bounds the whole exchange** (issue 10 item 6): from the first byte sent to the
   last byte of the answer, at most ``read_timeout`` (60 s by default, as the interfaces say),
   however slowly the server trickles; connecting gets ``connect_timeout`` on top. An answer
   that is not complete by then is abandoned: the outcome is unknown.
2. **No answer can exhaust the till** (item 5): the body is read up to ``codec.MAX_BODY`` bytes
   on the wire and again after decompression (gzip and deflate are inflated here, in bounded
   steps; any other content-encoding is not read). Beyond the bound the body is unreadable
   (``Reply.unreadable`` says why) and the status alone is reported.
3. Transport failures become the agent's own errors, decided by whether sending had begun:
   ``SwitchUnavailable`` when the request certainly never left the till (connection refused, DNS,
   TLS handshake or certificate failure, no free connection), ``SwitchTimeout`` when it may have
   (deadline passed), ``SwitchProtocolError`` for a broken answer (reset, truncated).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
import zlib
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
from terminal_agent.protocol.outcome import NOTHING, Asked, Outcome, classify
from terminal_agent.security import check_proxy, check_switch_url, tls_context

log = logging.getLogger("terminal_agent.switch")

# Told about every exchange: (operation, HTTP status or None, seconds, error name or None).
RequestObserver = Callable[[str, "int | None", float, "str | None"], None]


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    elapsed: float
    content_type: str = ""
    retry_after: float | None = None  # seconds, from a Retry-After header
    unreadable: str = ""              # why the body was not read (then ``body`` is empty)


@dataclass(frozen=True)
class Exchange:
    """What asking the switch came to: the classified outcome, the answer's bytes as they came
    (None without an answer: kept in the journal) and the answer's Retry-After."""

    outcome: Outcome
    body: bytes | None = None
    retry_after: float | None = None


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
                                pool=cfg.connect_timeout)
        self._http = httpx.AsyncClient(
            base_url=cfg.base_url.rstrip("/"),
            auth=httpx.BasicAuth(cfg.username, password),
            timeout=timeout,
            verify=tls_context(cfg) if transport is None else True,
            transport=transport,
            headers={"Accept": "application/json", "Accept-Encoding": "gzip, deflate"},
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
        already-encoded bytes (advices are re-sent byte for byte). ``timeout`` replaces
        ``read_timeout`` for this exchange."""
        spec = SPECS[op]
        if body is None and message is not None:
            body = codec.encode(message)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        budget = self.cfg.read_timeout if timeout is None else timeout
        exchange = _Exchange(budget)
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.cfg.connect_timeout + budget) as deadline:
                exchange.deadline = deadline
                request = self._http.build_request(
                    spec.method, path or spec.path, content=body, params=query, headers=headers,
                    extensions={"trace": exchange.trace,
                                "timeout": httpx.Timeout(budget, connect=min(
                                    budget, self.cfg.connect_timeout)).as_dict()})
                response = await self._http.send(request, stream=True)
                try:
                    raw, unreadable = await _read_bounded(response)
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.HTTPError) as exc:
            raise self._failed(exc, op, started, exchange.never_sent, budget) from exc
        elapsed = time.monotonic() - started
        self._answered(op, response.status_code, elapsed)
        if unreadable:
            log.warning("%s: answer body not read (%s)", op.value, unreadable,
                        extra={"operation": op.value, "outcome": "unreadable-body"})
        return Reply(response.status_code, raw, elapsed,
                     response.headers.get("content-type", ""),
                     retry_after(response.headers.get("retry-after")), unreadable)

    def _answered(self, op: Op, status: int, elapsed: float) -> None:
        self.last_latency = elapsed
        self.last_status = status
        self.last_answer_at = time.time()
        self.last_error = None
        if self.observer is not None:
            self.observer(op, status, elapsed, None)

    def _failed(self, exc: BaseException, op: Op, started: float, never_sent: bool,
                budget: float) -> SwitchError:
        """The agent's error for a failed exchange (rule 3), told to the observer as
        unreachable (never sent), timeout or broken (for metrics)."""
        unsent = isinstance(exc, _NEVER_SENT) or never_sent
        timed_out = isinstance(exc, TimeoutError | httpx.TimeoutException)
        failure = "unreachable" if unsent else "timeout" if timed_out else "broken"
        self.last_error = type(exc).__name__
        self.last_status = None
        if self.observer is not None:
            self.observer(op, None, time.monotonic() - started, failure)
        if unsent:
            return SwitchUnavailable(f"{op}: could not connect in time" if timed_out
                                     else f"{op}: switch unreachable: {exc}")
        if timed_out:
            return SwitchTimeout(f"{op}: no complete answer within {budget:g} s")
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
            return SwitchProtocolError(f"{op}: connection broken: {exc}")
        return SwitchError(f"{op}: {exc}")

    async def exchange(self, op: Op, message: Any = None, *, asked: Asked = NOTHING,
                       about: Mapping[str, str] | None = None, quiet: bool = False,
                       **kwargs: Any) -> Exchange:
        """Send and classify: the one way the agent asks the switch (flows, the forwarder,
        requests without money). ``asked`` says what the answer must match (an approval is this
        request's answer with its value); ``about`` names the row in the log lines (``txn_id``
        or ``advice_id``); ``quiet`` logs a missing answer at INFO (the forwarder's retries).
        A request that never left the till is classified as such (``sent=False``: a definite
        failure, nothing to reverse); any failure after it may have left is the classifier's
        "no answer" row. A 2xx that is not this request's answer is logged as a protocol
        violation."""
        extra = {"operation": op.value, **(about or {})}
        try:
            reply = await self.send(op, message, **kwargs)
        except SwitchError as exc:
            sent = not isinstance(exc, SwitchUnavailable)
            log.log(logging.INFO if quiet else logging.WARNING, "%s not answered: %s", op.value,
                    exc, extra={**extra, "outcome": "no-answer" if sent else "not-sent"})
            return Exchange(classify(op, None, None, asked, sent=sent))
        outcome = classify(op, reply.status, reply.body, asked)
        if outcome.violation:
            log.error("protocol violation on %s %s: %s", op.value,
                      asked.request_id or extra.get("advice_id", ""), outcome.violation,
                      extra={**extra, "outcome": "protocol-violation"})
        return Exchange(outcome, reply.body, reply.retry_after)


# Failures that happen before a byte of the request is written (httpcore raises these only while
# connecting: TCP, TLS handshake and certificate check, or waiting for a pooled connection).
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout,
               httpx.UnsupportedProtocol)


class _Exchange:
    """One request's deadline: ``connect_timeout + budget`` until the request starts to go out,
    then ``budget`` from that instant to the last byte of the answer (rule 1). The instant comes
    from httpcore's trace events; a transport without them (tests' mocks) counts as sent."""

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.traced = False
        self.sending = False
        self.deadline: asyncio.Timeout | None = None

    @property
    def never_sent(self) -> bool:
        return self.traced and not self.sending

    async def trace(self, name: str, info: Mapping[str, Any]) -> None:
        self.traced = True
        if not self.sending and name.endswith("send_request_headers.started"):
            self.sending = True
            if self.deadline is not None:
                self.deadline.reschedule(asyncio.get_running_loop().time() + self.budget)


async def _read_bounded(response: httpx.Response) -> tuple[bytes, str]:
    """(body, why it was not read): at most ``codec.MAX_BODY`` bytes on the wire and after
    inflating gzip/deflate in bounded steps (rule 2)."""
    limit = codec.MAX_BODY
    if response.is_stream_consumed:  # an in-memory answer (a test transport): already decoded
        data = response.content
        return (data, "") if len(data) <= limit else (b"", f"over {limit} bytes")
    refused = _refused_before_reading(response.headers, limit)
    if refused:
        return b"", refused
    encoding = response.headers.get("content-encoding", "").strip().lower()
    inflate = _Inflater(encoding)
    out = bytearray()
    wire = 0
    try:
        async for chunk in response.aiter_raw():
            wire += len(chunk)
            if wire > limit:
                return b"", f"over {limit} bytes on the wire"
            out += inflate.feed(chunk, limit + 1 - len(out))
            if len(out) > limit:
                return b"", f"inflates to over {limit} bytes"
        out += inflate.flush(limit + 1 - len(out))
    except zlib.error as exc:
        return b"", f"{encoding} body is corrupt: {exc}"
    if len(out) > limit:
        return b"", f"inflates to over {limit} bytes"
    return bytes(out), ""


def _refused_before_reading(headers: httpx.Headers, limit: int) -> str:
    """Why the body is not read at all (a declared length over the bound, an encoding we do not
    inflate), or "" to read it."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return f"declared length {declared} over {limit} bytes"
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
        return f"content-encoding {encoding[:40]!r} not read"
    return ""


class _Inflater:
    """gzip/deflate decompression that never produces more than asked for at a time."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._z: Any = None

    def feed(self, chunk: bytes, room: int) -> bytes:
        if self.encoding in ("", "identity"):
            return chunk
        if self._z is None:
            wbits = 16 + zlib.MAX_WBITS if "gzip" in self.encoding else (
                zlib.MAX_WBITS if chunk[:1] == b"\x78" else -zlib.MAX_WBITS)
            self._z = zlib.decompressobj(wbits)
        return bytes(self._z.decompress(chunk, max(1, room)))

    def flush(self, room: int) -> bytes:
        if self._z is None:
            return b""
        if self._z.unconsumed_tail:
            return bytes(self._z.decompress(self._z.unconsumed_tail, max(1, room)))
        return bytes(self._z.flush())


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), None if absent or
    unreadable."""
    if not value:
        return None
    text = value.strip()[:64]
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())
