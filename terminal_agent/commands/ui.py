"""`terminal-agent ui`: the cashier UI's process. Opens the agent, the cashier accounts and the
receipt desk, runs the Textual app until the cashier quits, then closes everything in reverse
(docs/DESIGN.md §6). Whatever keeps the till from starting is shown full screen with its cause."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path

from terminal_agent.config import AgentConfig
from terminal_agent.core import Agent, Cashiers
from terminal_agent.demo import DEMO_CASHIER, DEMO_SUPERVISOR
from terminal_agent.ui.app import TillApp
from terminal_agent.ui.desk import CoreDesk
from terminal_agent.ui.printing import ReceiptDesk

log = logging.getLogger("terminal_agent.ui")


async def serve(cfg: AgentConfig, *, printer: ReceiptDesk | None = None,
                password: str | None = None, prepare: Callable[[Cashiers], Awaitable[None]]
                | None = None, login_hint: str = "") -> int:
    """Open the agent, run the UI until the cashier quits, then close everything in order."""
    # the login screen is drawn first: the switch client and the database's quick_check come
    # after it, before any PIN is taken (issue 17, cold start)
    async with Agent.open(cfg, password=password, migrate=True, quick_check=True,
                          role="ui", defer=True) as agent:
        cashiers = Cashiers(agent.store, cfg.ui)
        if prepare is not None:
            await prepare(cashiers)
        desk = printer or CoreDesk.open(cfg, agent)
        app = TillApp(agent, cashiers, printer=desk, login_hint=login_hint)
        try:
            with suppress(NotImplementedError, RuntimeError):
                asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, app.request_restart)
            await app.run_async()
            if app.start_failure is not None:  # shown full screen with its cause (run_ui)
                raise app.start_failure
        finally:
            await app.shutdown()
            close = getattr(desk, "aclose", None)
            if close is not None:
                await close()
    return app.return_code or 0


def run_ui(args: argparse.Namespace, *,
           show_failure: Callable[[str], bool] | None = None) -> int:
    """`terminal-agent ui --config FILE`. Whatever keeps the till from starting (config, a
    missing, damaged or another till's database, a full disk) is shown full screen with its
    cause, never a blank console, and tried again (``show_failure`` returns False to stop)."""
    from terminal_agent import config as config_mod
    from terminal_agent.errors import AgentError
    from terminal_agent.logs import mask
    from terminal_agent.security import check_agent_security

    show = show_failure or _show_failure
    while True:
        try:
            cfg = config_mod.load(args.config)
            check_agent_security(cfg)
            _log_to_journal(cfg)
            return asyncio.run(serve(cfg))
        except Exception as exc:  # whatever it is, the cashier's screen says it
            known = isinstance(exc, AgentError | OSError)
            cause = mask(str(exc) if known else f"{type(exc).__name__}: {exc}")
            log.error("the UI cannot start: %s", cause, exc_info=not known)
            if not show(cause):
                return 2


def _show_failure(cause: str) -> bool:
    from terminal_agent.ui.failure import FailureApp

    FailureApp(cause).run()
    return True


def _log_to_journal(cfg: AgentConfig) -> None:
    """The UI's stdout/stderr is the cashier's screen: log to the journal or a file, never there."""
    from terminal_agent.logs import setup_logging

    setup_logging(cfg.logging, "ui", state_dir=Path(cfg.store.path).parent)


def run_demo_ui(cfg: AgentConfig, state_dir: Path) -> int:
    """`terminal-agent demo`: demo cashier and supervisor accounts, the forwarder in the UI."""

    async def accounts(cashiers: Cashiers) -> None:
        for cashier_id, pin, role, name in (DEMO_CASHIER, DEMO_SUPERVISOR):
            await cashiers.ensure(cashier_id, pin, role=role, name=name)

    hint = (f"Demo: cashier {DEMO_CASHIER[0]} PIN {DEMO_CASHIER[1]}, supervisor "
            f"{DEMO_SUPERVISOR[0]} PIN {DEMO_SUPERVISOR[1]}. Ctrl+Q quits.")
    _log_to_journal(cfg)
    code = asyncio.run(serve(cfg, password="", prepare=accounts, login_hint=hint))
    print(f"Receipts previewed in {state_dir / 'receipts'}")
    return code
