"""Shared harness of the UI tests: the real app over a real agent (SQLite in tmp_path) against the
in-process simulator, driven by the pilot. (No tests here.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, OptionList, Static

from terminal_agent.config import loads
from terminal_agent.core.agent import Agent
from terminal_agent.core.cashiers import Cashiers
from terminal_agent.core.store import create_database
from terminal_agent.demo import DEMO_CASHIER, DEMO_SUPERVISOR, demo_config_text
from terminal_agent.ui.app import TillApp
from terminal_agent.ui.desk import CoreDesk

FIXED_NOW = 1_767_261_600.0  # 2026-01-01 10:00 UTC


def config_text(state_dir: Path, sim_url: str, *, read_timeout: float = 1.0,
                extra: str = "", printer_url: str | None = None) -> str:
    text = demo_config_text(state_dir, sim_url).replace("read_timeout = 5.0",
                                                        f"read_timeout = {read_timeout}")
    text = text.replace("status_first_delay = 2.0", "status_first_delay = 0.3")
    text = text.replace("backoff_initial = 0.5", "backoff_initial = 0.2")
    if printer_url is not None:
        text = text.replace(f'url = "preview://{state_dir / "receipts"}"',
                            f'url = "{printer_url}"')
    return text + extra


@asynccontextmanager
async def till(state_dir: Path, sim_url: str, *, extra: str = "", run_forwarder: bool = True,
               clock: Callable[[], float] | None = None, size: tuple[int, int] = (120, 40),
               status_interval: float = 0.2,
               prepare: Callable[[Agent], Any] | None = None,
               agent_clock: Callable[[], float] = time.time,
               printer_url: str | None = None,
               ready_kept: bool | None = None) -> AsyncIterator[Pilot[Any]]:
    """The real app over a real agent. ``agent_clock``: the journal's and outbox's clock (a
    frozen one makes the screens' times deterministic); ``printer_url``: instead of the demo's
    preview folder (``dummy://`` keeps file paths off the screen); ``ready_kept``: as
    ``TillApp``'s (off in a headless app unless asked)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    state_dir.chmod(0o700)
    cfg = loads(config_text(state_dir, sim_url, extra=extra, printer_url=printer_url),
                str(state_dir / "config.toml"))
    if not Path(cfg.store.path).exists():
        create_database(cfg.store.path, cfg.terminal.terminal_id)
    async with Agent.open(cfg, password="", clock=agent_clock) as agent:
        cashiers = Cashiers(agent.store, cfg.ui)
        for cashier_id, pin, role, name in (DEMO_CASHIER, DEMO_SUPERVISOR):
            await cashiers.ensure(cashier_id, pin, role=role, name=name)
        if prepare is not None:
            await prepare(agent)
        desk = CoreDesk.open(cfg, agent)
        app = TillApp(agent, cashiers, printer=desk, cursor_blink=False,
                      run_forwarder=run_forwarder, status_interval=status_interval,
                      clock=clock or time.time, ready_kept=ready_kept)
        try:
            async with app.run_test(size=size) as pilot:
                await until(pilot, lambda: type(app.screen).__name__ == "LoginScreen")
                yield pilot
        finally:
            await app.shutdown()
            await desk.aclose()


async def until(pilot: Pilot[Any], predicate: Callable[[], Any], timeout: float = 8.0,
                what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause(0.02)
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}; "
                                 f"screen {type(pilot.app.screen).__name__}: "
                                 f"{screen_text(pilot)!r}")


def screen_text(pilot: Pilot[Any]) -> str:
    """Everything the cashier can read on the current screen (and the status bar)."""
    parts = []
    screen = pilot.app.screen
    for widget in screen.query("*"):
        if not all(getattr(w, "display", True) for w in widget.ancestors_with_self):
            continue
        if isinstance(widget, Button):
            parts.append(str(widget.label))
        elif isinstance(widget, Static):
            parts.append(str(widget.visual.plain if hasattr(widget.visual, "plain")
                             else widget.content))
        elif isinstance(widget, OptionList):
            parts += [str(o.prompt) for o in widget.options]
        elif isinstance(widget, DataTable):
            parts += [" | ".join(str(c) for c in widget.get_row_at(n))
                      for n in range(widget.row_count)]
        elif isinstance(widget, Input) and not widget.password:
            parts.append(widget.value)
    return "\n".join(parts)


async def sees(pilot: Pilot[Any], text: str, timeout: float = 8.0) -> None:
    await until(pilot, lambda: text in screen_text(pilot), timeout, what=repr(text))


def on(pilot: Pilot[Any], name: str) -> bool:
    return type(pilot.app.screen).__name__ == name


async def type_in(pilot: Pilot[Any], *values: str) -> None:
    """Fill the focused field with each value in turn (as a scanner would), Enter after each."""
    for value in values:
        focused = pilot.app.focused
        assert isinstance(focused, Input), focused
        focused.value = value
        await pilot.press("enter")


async def login(pilot: Pilot[Any], cashier: str = DEMO_CASHIER[0],
                pin: str = DEMO_CASHIER[1]) -> None:
    await pilot.press(*cashier, "enter", *pin, "enter")
    await until(pilot, lambda: not on(pilot, "LoginScreen"), what="login")


async def sim_faults(sim_url: str, spec: Any | None) -> None:
    async with httpx.AsyncClient() as client:
        if spec is None:
            (await client.delete(sim_url + "/_sim/faults")).raise_for_status()
        else:
            (await client.post(sim_url + "/_sim/faults", json=spec)).raise_for_status()


async def sim_ledger(sim_url: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        reply = await client.get(sim_url + "/_sim/ledger")
        reply.raise_for_status()
        data: dict[str, Any] = reply.json()
        return data


async def rows(agent: Agent, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    return list(await agent.store.fetchall(sql, params))


def agent_of(pilot: Pilot[Any]) -> Agent:
    app = pilot.app
    assert isinstance(app, TillApp)
    agent: Agent = app.agent
    return agent


async def settle(seconds: float = 0.1) -> None:
    await asyncio.sleep(seconds)


# -- layout: nothing a cashier needs may be clipped away ---------------------------------------

# the least a widget must show of itself (columns) to be usable
MIN_WIDTH = {"Input": 8, "Select": 12, "Button": 8, "OptionList": 24, "DataTable": 24}


def _shown(widget: Any) -> bool:
    return all(getattr(w, "display", True) and getattr(w, "visible", True)
               for w in widget.ancestors_with_self)


def _visible(screen: Any, widget: Any) -> tuple[int, int]:
    """Columns and rows of ``widget`` the cashier actually sees (its region inside every
    container's clip), 0 x 0 when it is off the screen."""
    try:
        geometry = screen.find_widget(widget)
    except Exception:  # not in the compositor's map: not on the screen at all
        return 0, 0
    seen = geometry.region.intersection(geometry.clip)
    return seen.width, seen.height


async def layout_problems(pilot: Pilot[Any]) -> list[str]:
    """Every field, button, list, table and piece of text on the current screen that is clipped
    to nothing (or to less than it needs), after scrolling it into view as focusing it would;
    tables whose columns do not fit; status bar words cut. Empty when all is usable."""
    from textual.widgets import Label, Select

    from terminal_agent.ui.widgets import StatusBar

    screen, found = pilot.app.screen, []
    for widget in list(screen.query("*")):
        kind = type(widget).__name__
        if not _shown(widget) or widget.region.area == 0 and kind not in MIN_WIDTH \
                and not isinstance(widget, Static):
            continue
        if isinstance(widget, Static) and not str(widget.render()).strip():
            continue
        if any(isinstance(a, Select) for a in widget.ancestors):
            continue  # a Select's own parts are judged as the Select
        if widget.focusable or kind in MIN_WIDTH:
            screen.scroll_to_widget(widget, animate=False)
            await pilot.pause(0)
        width, height = _visible(screen, widget)
        need = MIN_WIDTH.get(kind, 1)
        if isinstance(widget, Label) and isinstance(widget.parent, StatusBar) or \
                "field-label" in widget.classes:
            need = max(need, min(len(str(widget.render()).rstrip()), 40))
        if width < need or height < 1:
            found.append(f"{kind}#{widget.id or '-'} shows {width}x{height}, needs {need}x1"
                         f" ({str(widget.render())[:30]!r})")
        if isinstance(widget, DataTable) and widget.columns:
            cols = sum(c.get_render_width(widget) for c in widget.columns.values())
            if cols > widget.scrollable_content_region.width:
                found.append(f"DataTable#{widget.id}: columns need {cols} columns, "
                             f"{widget.scrollable_content_region.width} shown")
    return found
