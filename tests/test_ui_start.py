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
