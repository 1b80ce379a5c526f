"""``terminal-agent sim``: the switch simulator alone, until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import json
import sys

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
    server = uvicorn.Server(config)
    server.run()  # installs SIGINT/SIGTERM handlers and returns after a clean stop
    return 0 if server.started else 1


__all__ = ["run", "json"]
