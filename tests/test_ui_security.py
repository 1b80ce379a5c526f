"""Secrets on the cashier's screen and privileged acts in the UI, driven by the pilot against the
real app, real SQLite and the in-process simulator. Findings: a crash showed Textual's traceback
with local variables (a voucher PIN among them) and exited 0; the command palette offered Quit and
Screenshot on the login and lock screens; a refund was marked given with one key, no supervisor."""

from __future__ import annotations

import logging

import pytest
from textual.command import CommandPalette

from terminal_agent.demo import DEMO_CASHIER, DEMO_SUPERVISOR
from terminal_agent.sim.options import SimOptions
from terminal_agent.sim.server import SimServer
from terminal_agent.ui.app import CRASH_SENTENCE
from tests.test_ui_support import agent_of, login, on, rows, screen_text, sees, till, until

CASHIER_PIN, SUPERVISOR_PIN = DEMO_CASHIER[1], DEMO_SUPERVISOR[1]
VOUCHER_PIN = "7319046682215509"


@pytest.fixture(scope="module")
def sim():
    with SimServer(SimOptions()) as server:
        yield server


async def test_a_crash_logs_masked_shows_one_sentence_and_exits_non_zero(tmp_path, sim, capfd,
                                                                         caplog):
    caplog.set_level(logging.CRITICAL, logger="terminal_agent.ui")
    with pytest.raises(RuntimeError, match="printer exploded"):
        async with till(tmp_path, sim.url) as pilot:
            await login(pilot)
            app = pilot.app

            def explode() -> None:
                voucher_pin = VOUCHER_PIN  # a local, as in a screen holding a sale
                raise RuntimeError(f"printer exploded while printing pin={voucher_pin}")

            app.call_later(explode)
            await pilot.pause(0.5)
    assert app.return_code == 1
    shown = capfd.readouterr()
    assert CRASH_SENTENCE.split(".")[0] in shown.err
    assert VOUCHER_PIN not in shown.err + shown.out
    assert "Traceback" not in shown.err and "locals" not in shown.err
    logged = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert logged, "the crash reaches the log"
    from terminal_agent.logs import MaskingFilter

    record = logged[0]
    MaskingFilter().filter(record)
    assert "RuntimeError" in (record.exc_text or "") and VOUCHER_PIN not in (record.exc_text or "")


async def palette_titles(pilot) -> list[str]:
    app = pilot.app
    await pilot.press("ctrl+p")
    await pilot.pause(0.3)
    if not CommandPalette.is_open(app):
        return []
    palette = app.screen
    await until(pilot, lambda: palette.query("CommandList"))
    await pilot.pause(0.3)
    from textual.command import CommandList

    titles = [str(o.prompt) for o in palette.query_one(CommandList).options]
    await pilot.press("escape")
    return titles


async def test_palette_offers_nothing_before_login_and_only_till_commands_after(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        assert await palette_titles(pilot) == []                  # login screen
        await login(pilot)
        titles = "\n".join(await palette_titles(pilot))
        assert "Airtime voucher" in titles and "Lock the till" in titles
        for system in ("Quit", "Screenshot", "theme", "Keys"):
            assert system not in titles
        await pilot.press("ctrl+l")                               # the lock screen
        await until(pilot, lambda: on(pilot, "LoginScreen"))
        assert await palette_titles(pilot) == []


async def test_refund_needs_a_supervisor_and_is_audited(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: on(pilot, "TopUpScreen"))
        await pilot.press(*"0821230505", "enter", *"0821230505", "enter")  # declined at lookup 2
        await sees(pilot, "Vodacom Airtime Direct Top-up")
        await pilot.press("enter", *"20.00", "enter")
        await until(pilot, lambda: on(pilot, "TenderModal"))
        await pilot.press("enter")
        await sees(pilot, "REFUND DUE", timeout=15)
        await pilot.press("r")                          # asks first (issue 16, defect 8)
        await until(pilot, lambda: on(pilot, "ConfirmModal"))
        await pilot.press("y")
        await until(pilot, lambda: on(pilot, "SupervisorModal"))
        await pilot.press(*DEMO_CASHIER[0], "enter", *CASHIER_PIN, "enter")
        await sees(pilot, "not a supervisor")
        await pilot.press(*DEMO_SUPERVISOR[0], "enter", *SUPERVISOR_PIN, "enter")
        await sees(pilot, "REFUNDED")
        assert "REFUND DUE" not in screen_text(pilot)
        audit = await rows(agent_of(pilot), "SELECT actor, action FROM audit WHERE action"
                                            " NOT IN ('login', 'cashier-added') ORDER BY id")
        assert [(a["actor"], a["action"]) for a in audit] == [
            ("1001", "override-refused"), ("9001", "override"), ("9001", "refund-given")]


async def test_serve_returns_the_crash_as_a_non_zero_exit(tmp_path, sim, monkeypatch, capfd):
    """What `terminal-agent ui` returns to systemd: the real `serve()`, headless."""
    from terminal_agent.commands.ui import serve
    from terminal_agent.config import loads
    from terminal_agent.core.store import create_database
    from terminal_agent.ui.app import TillApp
    from tests.test_ui_support import config_text

    tmp_path.chmod(0o700)
    cfg = loads(config_text(tmp_path, sim.url), str(tmp_path / "config.toml"))
    create_database(cfg.store.path, cfg.terminal.terminal_id)
    run = TillApp.run_async

    async def headless(self, **kw):
        return await run(self, headless=True, size=(120, 40))

    def explode(self, **kw):
        voucher_pin = VOUCHER_PIN  # noqa: F841 - a local the old handler printed
        raise RuntimeError("the login screen exploded")

    monkeypatch.setattr(TillApp, "run_async", headless)
    monkeypatch.setattr(TillApp, "show_login", explode)
    assert await serve(cfg, password="") == 1
    shown = capfd.readouterr()
    assert VOUCHER_PIN not in shown.out + shown.err and "Traceback" not in shown.err
