"""The ASGI application: HTTP in, the switch's rules, faults and records around them, HTTP out.

For each request to an Electrum path, in this order:

1. read the body (over 1 MB: 413), record it (``--record``), route it (unknown path: 404,
   wrong method: 405);
2. Basic auth (401 with ``WWW-Authenticate``);
3. faults ``before`` (the request is then never processed, except ``decline``);
4. content type (415) and JSON syntax (400), then the operation's handler, which validates the
   body strictly and commits what it decided before answering;
5. faults ``after`` (processed and stored, but the answer is lost or replaced).

Bad input always gets a 4xx ErrorDetail; a 5xx comes only from a fault (or, as a last resort, a
bug, which answers 500 ``GENERAL_ERROR`` rather than dropping the connection).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from terminal_agent.protocol.operations import SPECS, Op, match_path, path_exists
from terminal_agent.sim import airtime, moneytransfer, suv
from terminal_agent.sim.auth import check as check_auth
from terminal_agent.sim.engine import Call, Reply, Switch, error_detail, ledger
from terminal_agent.sim.faults import Fault, FaultBook, FaultSpecError
from terminal_agent.sim.options import SimOptions
from terminal_agent.sim.record import Recorder
from terminal_agent.sim.store import SimStore

log = logging.getLogger("terminal_agent.sim")

MAX_BODY = 1024 * 1024
MAX_DRAIN = 64 * MAX_BODY
JSON = "application/json"
INTERFACES = {"/airtime/": "airtime", "/moneytransfer/": "moneytransfer", "/suv/": "suv"}
SYSTEM_ERROR = {"airtime": "SYSTEM_MALFUNCTION", "moneytransfer": "SYSTEM_ERROR",
                "suv": "GENERAL_ERROR"}


class SimState:
    """Everything one simulator instance owns."""

    def __init__(self, options: SimOptions) -> None:
        self.options = options
        self.credentials = options.credential_pairs()
        self.store = SimStore(options.state_path)
        self.recorder = Recorder(options.record_path)
        self.faults = FaultBook()
        if options.faults is not None:
            spec = options.faults
            if isinstance(spec, str):
                from terminal_agent.sim.options import load_fault_spec

                spec = load_fault_spec(spec)
            self.faults.add(spec)
        self.switch = Switch(self.store, {**airtime.HANDLERS, **moneytransfer.HANDLERS,
                                          **suv.HANDLERS})
        self.stopping = threading.Event()

    def close(self) -> None:
        self.recorder.close()
        self.store.close()


def _interface(path: str) -> str:
    return next((name for prefix, name in INTERFACES.items() if path.startswith(prefix)),
                "airtime")


def _json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(_json(body), status, headers=headers, media_type=JSON)


class SwitchEndpoint:
    """The ASGI endpoint behind every Electrum path."""

    def __init__(self, state: SimState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._serve(scope, receive, send)
        except Exception:  # a bug must still answer, not drop the connection
            log.exception("simulator error on %s %s", scope.get("method"), scope.get("path"))
            body = error_detail(_interface(scope.get("path", "")), None, "GENERAL_ERROR",
                                "Simulator error")
            try:
                await _json_response(500, body)(scope, receive, send)
            except Exception:  # noqa: S110 - the response had already started
                pass

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        request = Request(scope, receive)
        path, method = scope["path"], scope["method"]
        interface = _interface(path)
        matched = match_path(method, path)
        op = matched[0] if matched else None
        raw, too_big = await _read_body(request)
        auth_header = request.headers.get("authorization")
        auth = check_auth(auth_header, state.credentials)
        query = dict(request.query_params)
        state.recorder.write(
            method=method, path=path, query=query,
            raw=b'"(body over 1 MB not recorded)"' if too_big else raw,
            op=str(op) if op else None, user=auth.user, has_auth=bool(auth_header))

        async def answer(status: int, error_type: str, message: str,
                         headers: dict[str, str] | None = None) -> None:
            body = error_detail(interface, op, error_type, message)
            await _json_response(status, body, headers)(scope, receive, send)

        if too_big:
            return await answer(413, "FORMAT_ERROR", "Body larger than 1 MB",
                                {"Connection": "close"})
        if matched is None:
            if path_exists(path):
                return await answer(405, "FUNCTION_NOT_SUPPORTED", f"{method} not allowed here")
            return await answer(404, "FUNCTION_NOT_SUPPORTED", "No operation at this path")
        op, params = matched
        if not auth.ok:
            return await answer(401, "AUTHENTICATION_ERROR", auth.reason,
                                {"WWW-Authenticate": 'Basic realm="electrum-sim"'})

        forced: tuple[int, str] | None = None
        fault = await self._faults(op, "before")
        if fault is not None:
            if fault.type != "decline":
                return await self._emit_fault(scope, receive, send, op, fault, None, raw)
            forced = self._decline(op, fault)

        body: Any = None
        if method in ("POST", "PUT"):
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != JSON and not ctype.endswith("+json"):
                return await answer(415, "FORMAT_ERROR",
                                    "Content-Type must be application/json")
            try:
                body = json.loads(raw)
            except ValueError:
                return await answer(400, "FORMAT_ERROR", "Body is not valid JSON")

        call = Call(op=op, path=path, params=params, query=query, body=body, raw=raw,
                    forced=forced, user=auth.user)
        reply = state.switch.handle(call)

        fault = await self._faults(op, "after")
        if fault is not None:
            if fault.type != "decline":
                return await self._emit_fault(scope, receive, send, op, fault, reply, raw)
            status, error_type = self._decline(op, fault)
            reply = Reply(status, error_detail(interface, op, error_type, "Declined (simulated)",
                                               msg_id=_id_of(body)))
        body_bytes = b"" if reply.body is None else _json(reply.body)
        await Response(body_bytes, reply.status, headers=reply.headers,
                       media_type=JSON)(scope, receive, send)

    async def _faults(self, op: Op, when: str) -> Fault | None:
        latency, fault = self.state.faults.draw(str(op), when)
        if latency:
            await asyncio.sleep(latency / 1000)
        return fault

    @staticmethod
    def _decline(op: Op, fault: Fault) -> tuple[int, str]:
        from terminal_agent.sim.engine import GENERIC_DECLINE

        return fault.status or 400, fault.error_type or GENERIC_DECLINE[SPECS[op].interface]

    async def _emit_fault(self, scope: Scope, receive: Receive, send: Send, op: Op,
                          fault: Fault, reply: Reply | None, raw: bytes) -> None:
        interface = str(SPECS[op].interface)
        status = fault.status or (reply.status if reply else SPECS[op].status)
        if reply is not None and reply.body is not None:
            real = _json(reply.body)
        else:
            real = raw if raw.strip().startswith(b"{") else b'{"status":"ok"}'
        transport = scope.get("sim.transport")
        if fault.type == "status":
            error_type = fault.error_type or (
                "UPSTREAM_UNAVAILABLE" if status == 503 else SYSTEM_ERROR[interface])
            body = error_detail(interface, op, error_type, f"Simulated {status}")
            await _json_response(status, body)(scope, receive, send)
        elif fault.type == "malformed":
            await Response(b'{"id": "oops", <<this is not json>>', status,
                           media_type=JSON)(scope, receive, send)
        elif fault.type == "truncated":
            await Response(real[: max(1, len(real) // 2)], status,
                           media_type=JSON)(scope, receive, send)
        elif fault.type == "content_type":
            page = (b"<html><head><title>502 Bad Gateway</title></head><body>"
                    b"<h1>Bad Gateway</h1><p>The upstream server answered nonsense.</p>"
                    b"</body></html>")
            await Response(page, status, media_type="text/html")(scope, receive, send)
        elif fault.type == "reset":
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", JSON.encode()),
                                    (b"content-length", str(len(real)).encode())]})
            await send({"type": "http.response.body", "body": real[: len(real) // 2],
                        "more_body": True})
            await asyncio.sleep(0.05)
            await _drop(transport, reset=True)
        elif fault.type == "hang":
            await self._hang(receive, fault.hang_ms / 1000)
            await _drop(transport, reset=False)

    async def _hang(self, receive: Receive, seconds: float) -> None:
        """Answer nothing until the client disconnects, the time is up or the server stops."""
        gone = asyncio.ensure_future(_wait_disconnect(receive))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        try:
            while not gone.done() and loop.time() < deadline and not self.state.stopping.is_set():
                await asyncio.wait({gone}, timeout=0.05)
        finally:
            gone.cancel()


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _drop(transport: Any, *, reset: bool) -> None:
    """Close the connection without a (complete) answer; ``reset`` sends a TCP RST."""
    if transport is None or transport.is_closing():
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
    transport.abort()
    await asyncio.sleep(0.01)  # let uvicorn see the connection gone before we return


async def _read_body(request: Request) -> tuple[bytes, bool]:
    """The body, or (b"", True) when it is over 1 MB. An oversized body is still read (and
    dropped, up to 64 MB) so that the client gets the 413 instead of a reset connection."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_DRAIN:
        return b"", True
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            chunks.clear()
            if size > MAX_DRAIN:
                break
            continue
        chunks.append(chunk)
    return b"".join(chunks), size > MAX_BODY


def _id_of(body: Any) -> str | None:
    return body.get("id") if isinstance(body, dict) and isinstance(body.get("id"), str) else None


# -- control endpoints ------------------------------------------------------------------------
def _control(state: SimState) -> list[Route]:
    async def health(request: Request) -> Response:
        return _json_response(200, {
            "status": "ok", "state": state.store.path,
            "originals": len(state.store.all_originals()),
            "advices": len(state.store.all_advices()),
            "faults": len(state.faults.active()),
        })

    async def get_ledger(request: Request) -> Response:
        return _json_response(200, ledger(state.store))

    async def faults(request: Request) -> Response:
        if request.method == "GET":
            return _json_response(200, {"faults": [f.to_json() for f in state.faults.active()]})
        if request.method == "DELETE":
            try:
                removed = state.faults.clear(request.query_params.get("op"))
            except FaultSpecError as exc:
                return _json_response(400, _control_error(str(exc)))
            return _json_response(200, {"removed": removed})
        raw, too_big = await _read_body(request)
        if too_big:
            return _json_response(413, _control_error("Body larger than 1 MB"))
        try:
            added = state.faults.add(json.loads(raw or b"null"))
        except ValueError as exc:  # JSON errors and FaultSpecError
            return _json_response(400, _control_error(f"Bad fault spec: {exc}"))
        return _json_response(201, {"added": [f.to_json() for f in added],
                                    "faults": [f.to_json() for f in state.faults.active()]})

    async def reset(request: Request) -> Response:
        state.store.reset()
        state.faults.clear()
        return _json_response(200, {"reset": True})

    def guarded(handler: Any) -> Any:
        """With credentials configured, the control endpoints want them too (the ledger shows
        what was sold, faults and reset change what the switch answers)."""
        async def checked(request: Request) -> Response:
            if state.credentials:
                auth = check_auth(request.headers.get("authorization"), state.credentials)
                if not auth.ok:
                    return _json_response(401, {"errorType": "AUTHENTICATION_ERROR",
                                                "errorMessage": auth.reason},
                                          {"WWW-Authenticate": 'Basic realm="simulator"'})
            response: Response = await handler(request)
            return response
        return checked

    return [
        Route("/_sim/health", guarded(health), methods=["GET"]),
        Route("/_sim/ledger", guarded(get_ledger), methods=["GET"]),
        Route("/_sim/faults", guarded(faults), methods=["GET", "POST", "DELETE"]),
        Route("/_sim/reset", guarded(reset), methods=["POST"]),
    ]


def _control_error(message: str) -> dict[str, str]:
    return {"errorType": "FORMAT_ERROR", "errorMessage": message}


class SimApp(Starlette):
    """Starlette with one addition: the connection's transport is put in the scope (under
    ``sim.transport``) so faults can drop or reset a connection for real."""

    sim: SimState

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            owner = getattr(send, "__self__", None)  # uvicorn's RequestResponseCycle
            transport = getattr(owner, "transport", None)
            if transport is not None:
                scope["sim.transport"] = transport
        await super().__call__(scope, receive, send)


def build_app(options: SimOptions | None = None) -> Starlette:
    """The simulator as an ASGI app (state, record file and faults from ``options``)."""
    state = SimState(options or SimOptions())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            state.close()

    routes = _control(state)
    routes.append(Route("/{path:path}", SwitchEndpoint(state)))
    app = SimApp(routes=routes, lifespan=lifespan)
    app.sim = state
    app.state.sim = state
    return app
