"""Cold start (issue 17): the login screen is drawn before the till's runtime starts (recovery,
forwarder lock, sweep); a PIN typed meanwhile is checked only once recovery is done, and the
home screen is composed with the first session, not before the login screen."""

from __future__ import annotations

import asyncio

from tests.test_ui_support import login, on, till, until


async def test_login_screen_is_up_while_recovery_runs_and_login_waits_for_it(tmp_path, sim):
    gate = asyncio.Event()
    recovered: list[bool] = []

    async def prepare(agent):
        real = agent.recovery.run

        async def held():
            await gate.wait()
            report = await real()
            recovered.append(True)
            return report

        agent.recovery.run = held

    async with till(tmp_path, sim.url, prepare=prepare) as pilot:
        app = pilot.app
        assert on(pilot, "LoginScreen") and not recovered
        assert [type(s).__name__ for s in app.screen_stack[1:]] == ["LoginScreen"]
        await pilot.press(*"1001", "enter", *"5284", "enter")
        await pilot.pause(0.3)
        assert on(pilot, "LoginScreen") and app.cashier is None  # waits for recovery
        gate.set()
        await until(pilot, lambda: not on(pilot, "LoginScreen"), what="login after recovery")
        assert recovered == [True]
        assert app.cashier is not None and on(pilot, "HomeScreen")
        assert [type(s).__name__ for s in app.screen_stack[1:]] == ["HomeScreen"]
        # lock and log out keep the home screen beneath the login screen
        await pilot.press("ctrl+l")
        await until(pilot, lambda: on(pilot, "LoginScreen"))
        assert [type(s).__name__ for s in app.screen_stack[1:]] == ["HomeScreen", "LoginScreen"]
        await login(pilot, "1001", "5284")
        assert [type(s).__name__ for s in app.screen_stack[1:]] == ["HomeScreen"]


async def test_footer_is_composed_again_only_when_its_keys_change(tmp_path, sim):
    """Key to repaint (issue 17): Textual's footer composed all its keys again at each return
    to a screen; ours keeps them while the keys it shows are the same."""
    from textual.widgets._footer import FooterKey

    from terminal_agent.ui.widgets import KeysFooter

    def keys(screen) -> list[FooterKey]:
        return list(screen.query_one(KeysFooter).query(FooterKey))

    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        await until(pilot, lambda: on(pilot, "HomeScreen"))
        home = pilot.app.screen
        await until(pilot, lambda: keys(home), what="the home screen's keys")
        before = keys(home)
        assert "Log out" in [k.description for k in before]
        await pilot.press("f1")
        await until(pilot, lambda: on(pilot, "VoucherScreen"))
        voucher = pilot.app.screen
        await until(pilot, lambda: "Reload products" in [k.description for k in keys(voucher)],
                    what="the voucher screen's own keys")
        await pilot.press("escape")
        await until(pilot, lambda: on(pilot, "HomeScreen"))
        await pilot.pause(0.3)
        assert keys(home) == before and all(k.is_attached for k in before)


async def test_the_quick_check_runs_after_the_login_screen_and_a_pin_waits_for_it(tmp_path, sim):
    """The database's quick_check (0.5 s on a busy till's file) no longer delays the login
    screen: the runtime runs it first, before recovery, and a PIN waits for both."""
    gate = asyncio.Event()
    done: list[str] = []

    async def prepare(agent):
        check, recover = agent.store.check_whole, agent.recovery.run

        async def held_check():
            await gate.wait()
            await check()
            done.append("quick_check")

        async def recovery():
            report = await recover()
            done.append("recovery")
            return report

        agent.store.check_whole = held_check
        agent.recovery.run = recovery

    async with till(tmp_path, sim.url, prepare=prepare) as pilot:
        app = pilot.app
        assert on(pilot, "LoginScreen") and done == []
        await pilot.press(*"1001", "enter", *"5284", "enter")
        await pilot.pause(0.3)
        assert on(pilot, "LoginScreen") and app.cashier is None and done == []
        gate.set()
        await until(pilot, lambda: not on(pilot, "LoginScreen"), what="login after the check")
        assert done == ["quick_check", "recovery"] and app.cashier is not None


# The real `terminal-agent ui`, in its own process: what the database's check has done when the
# login screen is drawn, and what the cashier is shown when it finds the file damaged.
UI = """
import sys
from pathlib import Path

import terminal_agent.commands.ui as command
from terminal_agent.cli import main
from terminal_agent.ui.app import TillApp

seen = Path(sys.argv[2])
start = TillApp._start

def drawn(app):  # the login screen is drawn: the runtime starts now
    due = app.agent.store._check_due is not None
    seen.write_text(f"{type(app.screen).__name__} check-due={due}\\n")
    start(app)

def shown(cause):
    with seen.open("a") as out:
        out.write("shown: " + cause + "\\n")
    return False

TillApp._start = drawn
command._show_failure = shown
sys.exit(main(["ui", "--config", sys.argv[1]]))
"""


def _ballast_damaged(db) -> None:
    """Pages that no start-up read touches, damaged: only the quick_check finds them."""
    import sqlite3

    con = sqlite3.connect(db)
    con.execute("CREATE TABLE ballast (x BLOB)")
    con.executemany("INSERT INTO ballast VALUES (?)", [(b"x" * 3000,) for _ in range(60)])
    con.commit()
    pages, size = (con.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size"))
    con.close()
    with open(db, "r+b") as fh:
        for page in range(pages - 20, pages):
            fh.seek(page * size)
            fh.write(b"\xff" * 64)


def test_a_damaged_database_found_after_the_login_screen_is_shown_with_its_cause(tmp_path):
    """The check deferred past the login screen still refuses a damaged file: no PIN is taken,
    the cashier reads the cause and what to do (the failure screen), as before."""
    import os
    import subprocess
    import sys

    from terminal_agent.core import create_database

    db = tmp_path / "agent.db"
    create_database(db, "TILL0001")
    _ballast_damaged(db)
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\npath = "{db}"\n[switch]\nbase_url = "http://127.0.0.1:9"\n'
                      '[printer]\nurl = "dummy://"\n[logging]\ntarget = "stderr"\n')
    config.chmod(0o600)
    seen = tmp_path / "seen"
    run = subprocess.run([sys.executable, "-c", UI, str(config), str(seen)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "TERM": "xterm-256color"})
    lines = seen.read_text().splitlines() if seen.exists() else [run.stderr[-3000:]]
    assert lines[0] == "LoginScreen check-due=True", lines
    assert run.returncode == 2 and len(lines) == 2, (run.returncode, lines)
    assert lines[1].startswith("shown: ") and "is damaged" in lines[1], lines
    assert "terminal-agent restore" in lines[1]
