"""``SimServer``: the simulator on 127.0.0.1 in a background thread, for tests and the demo.

    with SimServer(SimOptions(state_path=tmp / "sim.db")) as sim:
        httpx.get(sim.url + "/_sim/health")

    async with SimServer() as sim:   # start/stop run in a worker thread, the loop stays free
        ...
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import uvicorn

from terminal_agent.sim.app import SimApp, build_app
from terminal_agent.sim.engine import ledger
from terminal_agent.sim.options import SimOptions


class SimServer:
    def __init__(self, options: SimOptions | None = None, *, host: str = "127.0.0.1",
                 port: int = 0, tls: tuple[str, str] | None = None) -> None:
        """``tls``: (certificate file, key file) to serve https instead of http."""
        self.options = options or SimOptions()
        self.tls = tls
        self.host = host
        self.port = port
        self.app: SimApp | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> SimServer:
        if self._thread is not None:
            raise RuntimeError("the simulator is already running")
        app = build_app(self.options)
        assert isinstance(app, SimApp)
        # proto IPPROTO_TCP (not 0) so that asyncio sets TCP_NODELAY on accepted connections;
        # without it every answer written in two parts waits ~40 ms for a delayed ACK
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                http="h11", proxy_headers=False, timeout_graceful_shutdown=1,
                                timeout_keep_alive=5,
                                ssl_certfile=self.tls[0] if self.tls else None,
                                ssl_keyfile=self.tls[1] if self.tls else None)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                  name=f"sim:{self.port}", daemon=True)
        self.app, self._server, self._thread, self._sock = app, server, thread, sock
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the simulator did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is None or self._thread is None:
            return
        if self.app is not None:
            self.app.sim.stopping.set()
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None

    def restart(self) -> SimServer:
        """Stop and start again on the same port (state survives only with ``state_path``)."""
        self.stop()
        return self.start()

    # direct access for tests (thread-safe: the store and the fault book hold locks) --------
    def ledger(self) -> dict[str, Any]:
        assert self.app is not None, "not started"
        return ledger(self.app.sim.store)

    def add_faults(self, spec: Any) -> None:
        assert self.app is not None, "not started"
        self.app.sim.faults.add(spec)

    def clear_faults(self) -> None:
        assert self.app is not None, "not started"
        self.app.sim.faults.clear()

    def reset(self) -> None:
        assert self.app is not None, "not started"
        self.app.sim.store.reset()
        self.app.sim.faults.clear()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> SimServer:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)
