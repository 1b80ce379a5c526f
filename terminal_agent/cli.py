"""The `terminal-agent` command: one sub-command per process or operator task."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence

Handler = Callable[[argparse.Namespace], int]


CONFIG = "/etc/terminal-agent/config.toml"


def _add_config(p: argparse.ArgumentParser, *, inner: bool = False) -> None:
    """``--config`` on a command; ``inner`` for a sub-command's own copy (``cashier add
    --config FILE`` and ``cashier --config FILE add`` both work)."""
    p.add_argument("--config", "-c", default=argparse.SUPPRESS if inner else CONFIG,
                   help=f"configuration file (default: {CONFIG})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="terminal-agent", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("sim", help="run the Electrum switch simulator")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8080)
    sim.add_argument("--state", help="SQLite file keeping the simulator's state across restarts")
    sim.add_argument("--record", help="append every received request as a JSON line")
    sim.add_argument("--credentials", action="append", default=[], metavar="USER:PASSWORD")
    sim.add_argument("--faults", help="fault spec (JSON) applied at start")
    sim.set_defaults(handler="terminal_agent.sim.cli:run")

    for name, helptext, target in [
        ("forward", "headless service: recovery then the outbox forwarder",
         "terminal_agent.commands.forward:run_forward"),
        ("status", "outbox and transaction summary", "terminal_agent.commands.status:run_status"),
        ("certify", "run every flow end to end against the configured switch",
         "terminal_agent.commands.certify:run_certify"),
        ("ui", "the cashier UI", "terminal_agent.commands.ui:run_ui"),
    ]:
        p = sub.add_parser(name, help=helptext)
        _add_config(p)
        if name == "status":
            p.add_argument("--json", action="store_true")
            p.add_argument("--owed", action="store_true",
                           help="say what the switch is still owed; exit 1 if anything")
        p.set_defaults(handler=target)

    for name, helptext in [
        ("init", "create the till's database (once, on purpose)"),
        ("check", "full integrity check of the database"),
        ("migrate", "bring the database schema to this version (after a backup)"),
    ]:
        p = sub.add_parser(name, help=helptext)
        _add_config(p)
        p.set_defaults(handler=f"terminal_agent.commands.admin:run_{name}")
    backup = sub.add_parser("backup", help="consistent copy of the database into DIR, rotated")
    backup.add_argument("dir", metavar="DIR")
    backup.add_argument("--keep", type=int, help="copies kept (default: [store] backup_keep)")
    _add_config(backup)
    backup.set_defaults(handler="terminal_agent.commands.admin:run_backup")
    restore = sub.add_parser("restore", help="put a checked backup in place of the database")
    restore.add_argument("file", metavar="FILE")
    _add_config(restore)
    restore.set_defaults(handler="terminal_agent.commands.admin:run_restore")

    demo = sub.add_parser("demo", help="simulator + forwarder + UI on a throw-away state directory")
    demo.add_argument("--state-dir", help="keep state here instead of a temporary directory")
    demo.add_argument("--scripted", action="store_true",
                      help="run one scripted voucher sale and print the outcome (no UI)")
    demo.set_defaults(handler="terminal_agent.commands.demo:run_demo")

    cashier = sub.add_parser("cashier", help="manage cashier accounts")
    _add_config(cashier)
    csub = cashier.add_subparsers(dest="action", required=True)
    add = csub.add_parser("add")
    _add_config(add, inner=True)
    add.add_argument("cashier_id")
    add.add_argument("--name", default="")
    add.add_argument("--role", choices=["cashier", "supervisor"], default="cashier")
    add.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input")
    add.add_argument("--replace", action="store_true",
                     help="the account exists: reset its PIN, role and name (audited)")
    dis = csub.add_parser("disable")
    _add_config(dis, inner=True)
    dis.add_argument("cashier_id")
    _add_config(csub.add_parser("list"), inner=True)
    cashier.set_defaults(handler="terminal_agent.commands.cashier:run_cashier")

    reprint = sub.add_parser("reprint", help="reprint a receipt by transaction reference (COPY)")
    _add_config(reprint)
    reprint.add_argument("reference")
    reprint.add_argument("--supervisor", default="",
                         help="the authorising supervisor's number (else asked); the PIN is "
                              "always asked, or read from standard input")
    reprint.set_defaults(handler="terminal_agent.commands.reprint:run_reprint")

    audit = sub.add_parser("audit", help="the audit trail")
    asub = audit.add_subparsers(dest="action", required=True)
    _add_config(asub.add_parser(
        "verify", help="check the hash chain; name the first broken or missing row"))
    audit.set_defaults(handler="terminal_agent.commands.audit:run_audit")
    return parser


def _resolve(target: str) -> Handler:
    import importlib

    module, _, attr = target.partition(":")
    handler: Handler = getattr(importlib.import_module(module), attr)
    return handler


def main(argv: Sequence[str] | None = None) -> int:
    from terminal_agent.errors import AgentError

    args = build_parser().parse_args(argv)
    try:
        return _resolve(args.handler)(args)
    except AgentError as exc:
        return _fail(str(exc))
    except sqlite3.Error as exc:  # the store translates these; this is the last net
        return _fail(f"database error: {exc}")
    except BrokenPipeError:  # `status | head -1`: the reader has what it wanted
        return _reader_gone()
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{exc.strerror or exc}")
    except KeyboardInterrupt:
        return 130


def _reader_gone() -> int:
    """End as a shell tool ends on SIGPIPE: quietly, 128 + 13, nothing left to flush."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush must not fail again
    os.close(devnull)
    return 141


def _fail(text: str) -> int:
    """One sentence on stderr, exit 2: a database, config or file problem is never a traceback."""
    from terminal_agent.logs import mask

    print(f"terminal-agent: {mask(text)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
