"""Airtime voucher sale through the cashier UI, against the simulator and real SQLite."""

from __future__ import annotations

import asyncio

import pytest

from terminal_agent.core import Offer
from terminal_agent.demo import DEMO_SUPERVISOR
from terminal_agent.sim.options import SimOptions
from terminal_agent.sim.server import SimServer
from tests.test_ui_support import (
    FIXED_NOW,
    agent_of,
    login,
    on,
    rows,
    screen_text,
    sees,
    settle,
    till,
    until,
)


@pytest.fixture(scope="module")
def sim():
    with SimServer(SimOptions()) as server:
        yield server


async def test_login_then_sell_voucher_tender_and_print(tmp_path, sim):
    async with till(tmp_path, sim.url) as pilot:
        await login(pilot)
        assert on(pilot, "HomeScreen")
        await sees(pilot, "Thandi (1001)")
        await pilot.press("f1")
        await until(pilot, lambda: on(pilot, "VoucherScreen"))
        await sees(pilot, "Vodacom R29 Airtime")
        await pilot.press("down", "enter")           # R29
        await sees(pilot, "Sell R 29.00")
        await pilot.press("enter")
        await until(pilot, lambda: on(pilot, "TenderModal"), what="tender")
        assert "Collect R 29.00" in screen_text(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: on(pilot, "OutcomeScreen"))
        await sees(pilot, "APPROVED")
        await sees(pilot, "Receipt printed")
        text = screen_text(pilot)
        assert "Voucher PIN" in text and "(on the printed slip)" in text  # masked once printed
        agent = agent_of(pilot)
        import json
        pin = json.loads((await rows(agent, "SELECT response FROM transactions"))[0]["response"]
                         )["voucher"]["pin"]
        assert pin not in text.replace(" ", "")        # nothing of it stays on the screen
        txns = await rows(agent, "SELECT state, amount, kind FROM transactions")
        assert [(t["state"], t["amount"], t["kind"]) for t in txns][0][1:] == (2900, "voucher_sale")
        await until(pilot, lambda: True)
        receipts = list((tmp_path / "receipts").glob("*.txt"))
        assert receipts, "a receipt preview was written"
        await pilot.press("enter")
        await until(pilot, lambda: on(pilot, "HomeScreen"))


# -- the product list is composed once (issue 17: key to repaint); every visit starts clean ------


async def _fresh_list(pilot) -> tuple[object, str, str]:
    """The voucher screen as a visit opens it: the screen, its text, its picture."""
    await pilot.press("f1")
    await sees(pilot, "2  Vodacom R29 Airtime")
    await until(pilot, lambda: not pilot.app.screen.working and pilot.app.focused is not None)
    await sees(pilot, "outbox: all sent", timeout=15)  # (the status bar is in the picture too)
    await until(pilot, lambda: "waiting" not in screen_text(pilot), timeout=15,
                what="the slips printed")  # (not "printer: ready, 1 waiting" on a slow box)
    await pilot.pause(0.1)
    assert pilot.app.focused.id == "products"
    assert pilot.app.focused.highlighted == 0
    return pilot.app.screen, screen_text(pilot), pilot.app.export_screenshot()


async def test_every_visit_of_the_kept_product_list_starts_clean(tmp_path, sim):
    """A sale paid, then a search, a product, an amount over the limit and a log out: the next
    visit, by the next cashier, shows the very screen the first visit opened on, in the same
    object (composed once), with nothing of the visits before it."""
    async with till(tmp_path, sim.url, clock=lambda: FIXED_NOW) as pilot:
        await login(pilot)
        kept, fresh, picture = await _fresh_list(pilot)
        await pilot.press("2")                                  # a sale, paid and printed
        await sees(pilot, "Sell R 29.00")
        await pilot.press("enter")
        await until(pilot, lambda: on(pilot, "TenderModal"))
        await pilot.press("enter")
        await sees(pilot, "Receipt printed")
        await pilot.press("enter")
        await until(pilot, lambda: on(pilot, "HomeScreen"))

        screen, text, _ = await _fresh_list(pilot)
        assert screen is kept and text == fresh
        await pilot.press("m", "t", "n")                         # a search
        await sees(pilot, "MTN R29 Airtime")
        assert "Vodacom" not in screen_text(pilot)
        screen.picked(Offer("any", "Any amount airtime", None, False))  # an amount to type
        await until(pilot, lambda: pilot.app.focused.id == "amount")
        await pilot.press(*"987654")                             # over the limit: refused
        await until(pilot, lambda: pilot.app.focused.has_class("-invalid"))
        assert "987654" in screen_text(pilot)
        await pilot.press("f10")                                 # log out
        await until(pilot, lambda: on(pilot, "LoginScreen"))
        await login(pilot, *DEMO_SUPERVISOR[:2])

        screen, text, again = await _fresh_list(pilot)
        assert screen is kept
        assert text == fresh.replace("Thandi (1001)", "Sipho (9001) supervisor")
        for left in ("987654", "Any amount", "mtn", "Sell R", "APPROVED", "Receipt"):
            assert left not in text
        amount = screen.query_one("#amount")
        assert amount.value == "" and not amount.has_class("-invalid", "-valid")
        assert screen.step == "product" and screen.amount == 0 and not screen.product.name
        await login_back_as_first(pilot)
        screen, text, again = await _fresh_list(pilot)
        assert (text, again) == (fresh, picture)                 # the very same picture


async def login_back_as_first(pilot) -> None:
    await pilot.press("escape")
    await until(pilot, lambda: on(pilot, "HomeScreen"))
    await pilot.press("f10")
    await until(pilot, lambda: on(pilot, "LoginScreen"))
    await login(pilot)


async def test_an_answer_for_a_visit_left_never_lands_in_the_next(tmp_path, sim, monkeypatch):
    """The cashier is replaced while her sale is still on its way: the list is left (its call
    ends as a closed screen's would; the sale itself is finished by the core and waits as an
    open decision) and the next visit gets no tender dialog, outcome nor message of that
    sale."""
    async with till(tmp_path, sim.url, clock=lambda: FIXED_NOW) as pilot:
        await login(pilot)
        kept, fresh, _ = await _fresh_list(pilot)
        agent, held = agent_of(pilot), asyncio.Event()
        sell = agent.sell_voucher

        async def slow_sale(*args, **kwargs):
            await held.wait()
            return await sell(*args, **kwargs)

        monkeypatch.setattr(agent, "sell_voucher", slow_sale)
        try:
            await pilot.press("2", "enter")                      # sell: on its way
            await sees(pilot, "Asking the switch")
            await pilot.press("ctrl+l")                          # locked, another cashier
            await until(pilot, lambda: on(pilot, "LoginScreen"))
            pilot.app.screen.query_one("#cashier-id").value = DEMO_SUPERVISOR[0]
            await pilot.press(*DEMO_SUPERVISOR[1], "enter")      # (the PIN field has the cursor)
            await until(pilot, lambda: on(pilot, "HomeScreen"), what="the supervisor's home")
            screen, text, _ = await _fresh_list(pilot)
            assert screen is kept
        finally:
            held.set()                                           # the switch answers now
        await wait_for_state(agent, "APPROVED")
        await settle(0.5)
        assert pilot.app.screen is kept and pilot.app.open_sale is None
        assert screen_text(pilot) == fresh.replace("Thandi (1001)", "Sipho (9001) supervisor")


async def wait_for_state(agent, state: str) -> None:
    for _ in range(400):
        found = await rows(agent, "SELECT state FROM transactions")
        if [r["state"] for r in found] == [state]:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"no transaction {state}: {[tuple(r) for r in found]}")


# -- the kept list is made ready while the till is idle after the first login (issue 17) ---------


def _painted(monkeypatch) -> list[str]:
    """The screens Textual paints, in order (each frame it writes to the terminal)."""
    from textual.app import App

    frames: list[str] = []
    paint = App._display

    def display(self, screen, renderable):
        frames.append(type(screen).__name__)
        return paint(self, screen, renderable)

    monkeypatch.setattr(App, "_display", display)
    return frames


async def test_the_list_made_ready_after_login_is_the_first_visit_as_if_composed_then(
        tmp_path, sim, monkeypatch):
    """While the cashier looks at the home screen, the product list is composed, styled, laid
    out and drawn off the stack: nothing of it is painted, the home screen keeps its focus and
    the stack, and the first visit shows that very screen, the same text and picture as a list
    composed at its visit (an app without it), every node of that one styled afresh (Textual
    leaves the search label's focus-within colour of the compose when the list takes the
    focus)."""
    async with till(tmp_path / "plain", sim.url, clock=lambda: FIXED_NOW) as pilot:
        await login(pilot)
        await pilot.pause(1.0)
        assert "voucher" not in pilot.app._kept                  # (off in a headless app)
        composed, composed_text, _ = await _fresh_list(pilot)
        composed.update_node_styles(animate=False)
        await pilot.pause(0.2)
        composed_picture = pilot.app.export_screenshot()
    frames = _painted(monkeypatch)
    async with till(tmp_path / "ready", sim.url, clock=lambda: FIXED_NOW,
                    ready_kept=True) as pilot:
        app = pilot.app
        await login(pilot)
        home, focused, stack = app.screen, app.focused, list(app.screen_stack)
        await until(pilot, lambda: "voucher" in app._kept and not app._readying,
                    what="the list made ready")
        kept = app._kept["voucher"]
        assert kept.is_mounted and kept._looked and not kept.working
        await pilot.pause(0.3)
        assert (app.screen, app.focused, app.screen_stack) == (home, focused, stack)
        assert all(kept not in s for s in app._screen_stacks.values())
        assert "VoucherScreen" not in frames and "HomeScreen" in frames
        screen, text, picture = await _fresh_list(pilot)
        assert screen is kept
        assert (text, picture) == (composed_text, composed_picture)


@pytest.mark.parametrize("held_at", [1, 4])
async def test_a_cashier_quicker_than_the_warm_up_gets_the_list_as_usual(
        tmp_path, sim, monkeypatch, held_at):
    """The product key comes while the list is being made ready (held after its mount, or
    after its styles): the visit takes the screen as it is, clean, and the warm-up stops there
    (it never touches a screen on show)."""
    from terminal_agent.ui import app as app_module

    arrived, go, calls = asyncio.Event(), asyncio.Event(), []
    settled = app_module.settled

    async def held(screen, pause=0.02):
        calls.append(screen)
        if len(calls) == held_at:
            arrived.set()
            await go.wait()
        await settled(screen, pause)

    monkeypatch.setattr(app_module, "settled", held)
    async with till(tmp_path, sim.url, clock=lambda: FIXED_NOW, ready_kept=True) as pilot:
        app = pilot.app
        await login(pilot)
        await asyncio.wait_for(arrived.wait(), 15)
        kept = app._kept["voucher"]
        screen, text, _ = await _fresh_list(pilot)
        assert screen is kept and not app._readying
        go.set()
        await pilot.pause(0.5)
        assert len(calls) == held_at                              # no step after the visit
        assert app.screen is kept and app.focused.id == "products"
        assert screen_text(pilot) == text and not kept.working
        await pilot.press("escape")
        await until(pilot, lambda: on(pilot, "HomeScreen"))
        again, second, _ = await _fresh_list(pilot)
        assert again is kept and second == text


async def test_a_warm_up_that_fails_leaves_the_list_to_its_first_visit(tmp_path, sim,
                                                                     monkeypatch):
    """Should Textual's internals the warm-up uses change, the screen is dropped (logged) and
    the first visit composes one, as before."""
    from terminal_agent.ui.screens.base import TillScreen

    tried = []

    def broken(self):
        def step():
            tried.append(self)
            raise AttributeError("_refresh_layout")
        return (step,)

    monkeypatch.setattr(TillScreen, "ready_steps", broken)
    async with till(tmp_path, sim.url, clock=lambda: FIXED_NOW, ready_kept=True) as pilot:
        app = pilot.app
        await login(pilot)
        await until(pilot, lambda: tried and not app._readying, what="the warm-up tried")
        await pilot.pause(0.3)
        assert "voucher" not in app._kept and on(pilot, "HomeScreen")
        screen, text, _ = await _fresh_list(pilot)
        assert app._kept["voucher"] is screen
        assert "Vodacom R29 Airtime" in text


async def test_an_idle_till_wakes_for_no_hidden_spinner_nor_list(tmp_path, sim):
    """Every screen alive had a hidden spinner turning 16 frames a second and its seconds
    counting, and the kept list its catalogue watch (twice: Textual calls each class's
    on_mount): an idle till woke for nothing (issue 17: idle CPU, fanless tills). They turn
    only while shown."""
    from textual.widgets import LoadingIndicator

    async with till(tmp_path, sim.url, ready_kept=True) as pilot:
        app = pilot.app
        await login(pilot)
        await until(pilot, lambda: "voucher" in app._kept and not app._readying)
        kept = app._kept["voucher"]
        await pilot.pause(0.3)

        def turning() -> list[str]:
            return [type(s).__name__ for s in dict.fromkeys((*app.screen_stack[1:], kept))
                    for spinner in s.query(LoadingIndicator) if spinner.auto_refresh]

        def timers(node) -> list[object]:
            return [t for t in node._timers if t._active.is_set()]

        assert turning() == [] and timers(kept) == []
        await pilot.press("f1")
        await until(pilot, lambda: app.screen is kept)
        assert [t.name for t in timers(kept)] == [kept._watching.name]   # one watch, shown
        kept.progress("Asking the switch…")
        assert turning() == ["VoucherScreen"]
        kept.progress("")
        assert turning() == []
        await pilot.press("escape")
        await until(pilot, lambda: on(pilot, "HomeScreen"))
        await pilot.pause(0.2)
        assert timers(kept) == [] and turning() == []


@pytest.mark.parametrize("ready", [False, True], ids=["composed-at-its-visit", "made-ready"])
async def test_the_search_label_lights_up_while_the_search_has_the_focus(tmp_path, sim, ready):
    """The "Find" label says where the typing goes, on the first visit and the next, whether
    the list was made ready after login or composed at its visit (with Textual's
    ``:focus-within`` the made-ready list's label stayed grey while the cashier typed in it)."""
    async with till(tmp_path, sim.url, clock=lambda: FIXED_NOW, ready_kept=ready) as pilot:
        app = pilot.app
        await login(pilot)
        if ready:
            await until(pilot, lambda: "voucher" in app._kept and not app._readying,
                        what="the list made ready")
        for visit in (1, 2):
            screen, _, _ = await _fresh_list(pilot)
            label = screen.query_one("#search-field .field-label")
            search = screen.query_one("#search")
            assert not label.rich_style.bold, f"visit {visit}: lit while the list has the focus"
            search.focus()
            await pilot.press("v")
            await pilot.pause(0.1)
            assert app.focused is search
            assert label.rich_style.bold, f"visit {visit}: grey while the search is typed in"
            screen.query_one("#products").focus()
            await pilot.pause(0.1)
            assert not label.rich_style.bold, f"visit {visit}: lit after the focus left"
            await pilot.press("escape")
            await sees(pilot, "Airtime voucher")
