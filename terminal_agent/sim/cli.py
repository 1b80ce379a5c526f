"""``terminal-agent sim``: the switch simulator alone, until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from terminal_agent.sim.faults import FaultSpecError


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from terminal_agent.sim.app import build_app
    from terminal_agent.sim.options import SimOptions, load_fault_spec, parse_credentials

    try:
        credentials = parse_credentials(args.credentials or [])
        faults = load_fault_spec(args.faults) if args.faults else None
        options = SimOptions(state_path=args.state, record_path=args.record,
                             credentials=tuple(credentials), faults=faults)
        app = build_app(options)
    except (OSError, ValueError, FaultSpecError) as exc:
        print(f"terminal-agent sim: {exc}", file=sys.stderr)
        return 2
    state = "in memory" if not args.state else args.state
    print(f"Electrum switch simulator on http://{args.host}:{args.port} (state {state})",
          file=sys.stderr, flush=True)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="info",
                            http="h11", lifespan="on", proxy_headers=False,
                            timeout_graceful_shutdown=2)
    logging.getLogger("uvicorn.access").addFilter(PathOnly())
    server = uvicorn.Server(config)
    # uvicorn handles SIGINT/SIGTERM itself (graceful stop), then re-raises the signal to the
    # handlers that were there before: make those quiet so a requested stop exits with 0.
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if server.started else 1


class PathOnly(logging.Filter):
    """The access log names the path, never the query string: MSISDNs, ID and passport numbers
    travel in lookups' queries (``/moneytransfer/v2/customers?idNumber=...``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def _stopped(signum: int, frame: FrameType | None) -> None:
    """A stop signal after uvicorn already shut down: nothing left to do."""
