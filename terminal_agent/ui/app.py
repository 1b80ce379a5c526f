"""The cashier UI (Textual): a thin shell over the core services it receives.

``TillApp(agent, cashiers, printer=..., clock=...)`` never builds an HTTP call or an SQL statement:
screens call the flows in workers through ``TillApp.core`` (shielded, so a screen closing never
cancels a financial step half-way), and show progress while they wait.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from rich.text import Text
from textual import events
from textual.app import App
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.reactive import reactive
from textual.screen import Screen

from terminal_agent.config import AgentConfig
from terminal_agent.core import Agent, Cashier, Cashiers, Runtime
from terminal_agent.errors import AgentError
from terminal_agent.receipts.render import warm as warm_receipts
from terminal_agent.ui.format import clock_text
from terminal_agent.ui.keyboard import quick_escape
from terminal_agent.ui.messages import LoggedIn, StatusView
from terminal_agent.ui.printing import NoPrinter, ReceiptDesk

if TYPE_CHECKING:
    from terminal_agent.ui.screens.base import TillScreen

log = logging.getLogger("terminal_agent.ui")
T = TypeVar("T")
CLOCK_FORMAT = "%a %H:%M"  # minutes: a clock with seconds repaints every second
# Status-bar ticks between reads of the database and printer (the clock redraws every tick):
# reading them every second cost an idle UI about 1 % of a core (bench/cashier.py, idle).
STATUS_EVERY = 5
WARM_AFTER = 1.0  # seconds after the login screen: the receipt library is imported then
FREEZE_AFTER = 1.5  # seconds after the first login: the heap is frozen then (freeze_heap)
READY_AFTER = 0.4  # seconds after the first login: the kept screens are made ready (ready_kept)
READIED = ("voucher",)  # the services whose kept screen (TillScreen.KEPT) is made ready then

CRASH_SENTENCE = ("The till stopped because of an unexpected error. It starts again by itself in "
                  "a few seconds and nothing already recorded is lost. If it happens again, call "
                  "a supervisor.")

# name, keys, title, supervisor only
SERVICES: list[tuple[str, str, str, bool]] = [
    ("voucher", "f1", "Airtime voucher", False),
    ("topup", "f2", "Direct top-up", False),
    ("send", "f3", "Send money", False),
    ("payout", "f4", "Pay out", False),
    ("redeem", "f5", "Redeem voucher", False),
    ("customers", "f6", "Customers & fee quote", False),
    ("history", "f7", "History & reprint", False),
    ("outbox", "f8", "Outbox", True),
    ("report", "f9", "Cash-up", False),
]


class TillCommands(Provider):
    """The command palette finds every service (and lock / log out), for a logged-in cashier
    only; it is the palette's one provider (Textual's own, with Quit, Screenshot and themes,
    is not offered)."""

    def _entries(self) -> list[tuple[str, Callable[[], Any], str]]:
        app = self.app
        assert isinstance(app, TillApp)
        if not app.session_open:
            return []
        out: list[tuple[str, Callable[[], Any], str]] = [
            (title, partial(app.guard_open_sale, f"open {title}",
                            partial(app.open_service, name)), f"{key.upper()} or {key[1:]}")
            for name, key, title, _ in SERVICES]
        out += [("Lock the till", app.action_lock, "Ctrl+L"),  # the sale stays open: safe
                ("Log out", app.action_logout, "F10")]
        return out

    async def discover(self) -> Hits:
        for title, run, help_text in self._entries():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, run, help_text in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_text)


class TillApp(App[int]):
    CSS_PATH = "till.tcss"
    TITLE = "Till"
    COMMANDS = {TillCommands}
    # screen classes for the room there is: the layout is made for 80x25 and spreads out on a
    # bigger console (till.tcss)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]
    BINDINGS = [
        Binding("ctrl+l", "lock", "Lock", show=False),
        Binding("f10", "logout", "Log out", show=False),
    ]

    status_view: reactive[StatusView] = reactive(StatusView, always_update=True)

    def __init__(self, agent: Agent, cashiers: Cashiers, *, printer: ReceiptDesk | None = None,
                 clock: Callable[[], float] = time.time, run_forwarder: bool = True,
                 cursor_blink: bool = True, status_interval: float = 1.0,
                 idle_clock: Callable[[], float] = time.monotonic, login_hint: str = "",
                 ready_kept: bool | None = None) -> None:
        super().__init__()
        quick_escape()
        self.login_hint = login_hint
        self.agent = agent
        self.cfg: AgentConfig = agent.config
        self.cashiers = cashiers
        self.printer: ReceiptDesk = printer or NoPrinter()
        self.clock = clock
        self.idle_clock = idle_clock
        self.cursor_blink = cursor_blink
        self.status_interval = status_interval
        self.run_forwarder = run_forwarder
        self.cashier: Cashier | None = None
        self.snapshot: Any = None
        self.locked = False
        self.last_activity = idle_clock()
        self.restart_requested = False
        self.runtime: Runtime | None = None  # the till's background work, started on mount
        self.open_sale: Any = None  # screens.tender.OpenSale while a tender dialog is up
        self._inflight: set[asyncio.Future[Any]] = set()
        self._latencies: deque[float] = deque(maxlen=40)
        self._depths: deque[float] = deque(maxlen=240)
        self._last_answer_at: float | None = None
        self._printer_state: tuple[bool, str] = (True, "printer: -")
        self._ticks = 0
        self._runtime_ready = asyncio.Event()
        self.start_failure: Exception | None = None  # what kept the runtime from starting
        self._kept: dict[str, TillScreen] = {}  # service -> its kept screen (service_screen)
        self._first_login_seen = False  # (freeze_heap and ready_kept, once, after it)
        # kept screens made ready after the first login (``ready_kept``; None: with a real
        # terminal only, as the heap freeze: one test process runs many apps)
        self._make_ready = ready_kept
        self._readying: dict[str, TillScreen] = {}  # service -> its kept screen being readied
        self._held: list[Callable[[], object]] = []  # screens held behind the lock (_hold)

    # -- a crash: logged (masked), one plain sentence on the screen, a non-zero exit ----------

    def _handle_exception(self, error: Exception) -> None:
        """Textual's own handler prints a traceback *with local variables* on the cashier's
        screen (a voucher PIN among them) and the app exits 0. Instead: the traceback goes to
        the journal through the masking filter (no locals), the cashier reads one sentence,
        and the exit code is 1 so systemd restarts the UI (``Restart=always``)."""
        log.critical("the till UI stopped on an unexpected error", exc_info=error)
        self._return_code = 1
        if self._exception is None:  # Textual's pilot re-raises it for tests
            self._exception = error
            self._exception_event.set()
        self.panic(Text(CRASH_SENTENCE))

    # -- the core, shielded -------------------------------------------------------------------

    async def core(self, work: Awaitable[T]) -> T:
        """Await a core call so that closing its screen (or the app) cannot cut it in half."""
        task = asyncio.ensure_future(work)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return await asyncio.shield(task)

    @property
    def session_open(self) -> bool:
        """A cashier is logged in and the till is not locked (the login screen is not up)."""
        from terminal_agent.ui.screens.login import LoginScreen

        return (self.cashier is not None and not self.locked
                and not any(isinstance(s, LoginScreen) for s in self.screen_stack))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "command_palette":
            return self.session_open
        return True

    def action_command_palette(self) -> None:
        if self.session_open:
            super().action_command_palette()

    @property
    def cashier_id(self) -> str:
        return self.cashier.id if self.cashier else ""

    @property
    def symbol(self) -> str:
        return self.cfg.terminal.currency_symbol

    # -- lifecycle ----------------------------------------------------------------------------

    async def on_mount(self) -> None:
        # the login screen alone is drawn first (issue 17: cold start); the runtime starts right
        # after, and a login waits for it (``ready``: recovery done or standing by); the home
        # screen comes with the first session (``_logged_in``)
        self.show_login()
        self.call_after_refresh(self._start)

    def _start(self) -> None:
        self.run_worker(self._start_runtime(), name="runtime-start", exit_on_error=True)

    async def _start_runtime(self) -> None:
        # one call: forwarding (or standing by for the service), recovery, sweep, print pump
        try:
            self.runtime = self.agent.till_runtime(
                forward=self.run_forwarder, print_queue=getattr(self.printer, "queue", None),
                on_scan=self.scanned)
            await self.core(self.runtime.start())
        except AgentError as exc:  # e.g. the database's quick_check (after the login screen)
            self.start_failure = exc  # no PIN is ever taken: the command shows the cause
            self.exit(2)
            return
        self._runtime_ready.set()
        # the receipt printer's library is slow to import: not before the login screen (nor
        # while it is drawn), but while the cashier logs in, so the first slip does not wait
        self.set_timer(WARM_AFTER, lambda: self.run_worker(
            warm_receipts, thread=True, name="warm-receipts", exit_on_error=False))
        await self.refresh_status()
        self.set_interval(self.status_interval, self.tick)
        from terminal_agent.ui.failure import UiWatchdog

        watchdog = UiWatchdog()
        watchdog.start()
        if watchdog.interval:
            self.set_interval(watchdog.interval, watchdog.ping)

    async def ready(self) -> None:
        """Wait until the runtime has started: recovery done (or the service forwards)."""
        await self._runtime_ready.wait()

    def request_restart(self) -> None:
        """An upgrade was installed (SIGUSR1, `systemctl reload`): quit at the first moment no
        sale is open, so systemd starts the new version; never in the middle of a sale."""
        self.restart_requested = True
        log.info("restart requested: the UI restarts as soon as no sale is open")

    def no_sale_open(self) -> bool:
        from terminal_agent.ui.screens.home import HomeScreen
        from terminal_agent.ui.screens.login import LoginScreen

        screens = [type(s) for s in self.screen_stack[1:]]
        quiet = all(kind in (HomeScreen, LoginScreen) for kind in screens)
        return quiet and not self._inflight

    async def scanned(self, scan: Any) -> None:
        """A serial scanner's code goes where a keyboard-wedge scanner's would: into the field
        with the cursor, as if typed, then Enter."""
        from textual.widgets import Input

        field = self.focused
        if isinstance(field, Input) and not field.disabled and self.session_open:
            field.value = scan.code
            await field.action_submit()
        else:
            self.notify("Scanned code not used: put the cursor in a field first.",
                        severity="warning")

    @property
    def forwarder_mode(self) -> str:
        """``ui`` (this process forwards), ``service`` (the service does) or ``off``."""
        from terminal_agent.core import Duty

        if self.runtime is not None and self.runtime.duty == Duty.FORWARDING:
            return "ui"
        return "service" if self.agent.forwarded_elsewhere() else "off"

    async def shutdown(self) -> None:
        """Wait for core calls, then stop the runtime (the forwarder finishes its batch)."""
        if self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)
        if self.runtime is not None:
            await self.runtime.stop()

    # -- the lock stays in front ---------------------------------------------------------------

    def _lock_in_front(self, screen: Screen[Any] | str) -> bool:
        """The login screen (the idle lock, or after a log out) is in front, and ``screen`` is
        not another one: a sale's answer, its Collect dialog or its outcome arriving meanwhile
        must not cover the lock (its Enter would take cash without a PIN) nor replace it."""
        from terminal_agent.ui.screens.login import LoginScreen

        return (bool(self.screen_stack) and isinstance(self.screen, LoginScreen)
                and not isinstance(screen, LoginScreen))

    def push_screen(self, screen: Any, callback: Any = None, wait_for_dismiss: bool = False,
                    *, mode: str | None = None) -> Any:
        """As Textual's, except that behind the lock the screen waits for the next login."""
        if wait_for_dismiss:
            return super().push_screen(screen, callback, wait_for_dismiss=True, mode=mode)
        if self._lock_in_front(screen):
            self._held.append(partial(super().push_screen, screen, callback, mode=mode))
            log.info("%s held behind the lock until a cashier logs in", type(screen).__name__)
            return AwaitComplete()
        return super().push_screen(screen, callback, mode=mode)

    def switch_screen(self, screen: Screen[Any] | str) -> AwaitComplete:
        """As Textual's, except that behind the lock the switch waits for the next login; it
        then replaces the screen that was under the lock if that one is still in front, or
        else comes on top (a new cashier's home screen is never replaced)."""
        if not self._lock_in_front(screen):
            return super().switch_screen(screen)
        under = self.screen_stack[-2] if len(self.screen_stack) > 1 else None

        def later() -> object:
            if under is not None and self.screen is under:
                return super(TillApp, self).switch_screen(screen)
            return super(TillApp, self).push_screen(screen)

        self._held.append(later)
        log.info("%s held behind the lock until a cashier logs in", type(screen).__name__)
        return AwaitComplete()

    async def _release_held(self) -> None:
        """After a login: what came while the lock was in front, in the order it came."""
        held, self._held = self._held, []
        for show in held:
            shown = show()
            if isinstance(shown, Awaitable):
                await shown

    # -- session: login, idle lock, log out ---------------------------------------------------

    def show_login(self, *, lock: bool = False) -> None:
        from terminal_agent.ui.screens.login import LoginScreen

        self.locked = lock
        self.push_screen(LoginScreen(lock_for=self.cashier if lock else None),
                         callback=self._logged_in)

    async def _logged_in(self, done: LoggedIn | None) -> None:
        if done is None:
            return
        previous = self.cashier
        self.cashier = done.cashier
        self.locked = False
        self.last_activity = self.idle_clock()
        await self.ensure_home()
        if not self._first_login_seen:  # what is kept is made ready, then the heap frozen
            self._first_login_seen = True
            if self._make_ready if self._make_ready is not None else not self.is_headless:
                self.set_timer(READY_AFTER, self._ready_all_kept)
            if not self.is_headless:  # (tests: one process, many apps)
                self.set_timer(FREEZE_AFTER, freeze_heap)
        if previous is not None and previous.id != done.cashier.id and self.open_sale is None:
            await self.go_home()  # (a sale waiting for its tender stays in front of them)
        await self._release_held()
        await self.refresh_status()
        if not done.unlocked:
            await self.offer_pending_decisions()

    async def offer_pending_decisions(self) -> bool:
        """Approved but not tendered (found at start-up or left by a locked session): put in
        front of the cashier. False when there is none."""
        waiting = await self.core(self.agent.open_decisions())
        if self.open_sale is not None:  # its own dialog is up: not an open decision
            waiting = [t for t in waiting if t.id != self.open_sale.result.txn_id]
        if waiting:
            from terminal_agent.ui.screens.pending import PendingScreen

            await self.push_screen(PendingScreen(waiting))
        return bool(waiting)

    async def ensure_home(self) -> None:
        """The home screen at the bottom of the stack (composed at the first login)."""
        from terminal_agent.ui.screens.home import HomeScreen

        if not any(isinstance(s, HomeScreen) for s in self.screen_stack):
            await self.push_screen(HomeScreen())

    async def go_home(self) -> None:
        from terminal_agent.ui.screens.home import HomeScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, HomeScreen):
            self.pop_screen()

    def action_lock(self) -> None:
        if self.cashier is not None and not self.locked:
            self.show_login(lock=True)

    async def action_logout(self) -> None:
        if self.cashier is None or self.locked:
            return
        self.guard_open_sale("log out", self._logout)

    async def action_quit(self) -> None:
        """Ctrl+Q: never abandons a sale awaiting its tender (``guard_open_sale``)."""
        self.guard_open_sale("quit", self.exit)

    def guard_open_sale(self, what: str, then: Callable[[], Any]) -> None:
        """Run ``then`` at once, unless a sale waits for its tender: then ask first, and on yes
        cancel it exactly as Esc on its dialog does (reversed; a supervisor for a money
        transfer), and only then run ``then``. On no, back to the sale."""
        sale = self.open_sale
        if sale is None:
            result = then()
            if asyncio.iscoroutine(result):
                self.run_worker(result)
            return
        from terminal_agent.ui.screens.modals import ConfirmModal

        question = (f"A sale is waiting for its payment: {sale.summary}.\n"
                    f"To {what}, the sale is cancelled and reversed first: hand nothing over, "
                    "give back any cash you took for it.")

        def answered(yes: bool | None) -> None:
            if yes and self.open_sale is sale:
                sale.cancel_then(then)

        self.push_screen(ConfirmModal(question, yes=f"cancel the sale and {what}",
                                      no="back to the sale"), callback=answered)

    async def _logout(self) -> None:
        await self.go_home()
        self.cashier = None
        await self.refresh_status()
        self.show_login()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.last_activity = self.idle_clock()
        await super().on_event(event)

    # -- services -----------------------------------------------------------------------------

    def open_service(self, name: str) -> None:
        if self.cashier is None or self.locked:
            return
        if self.open_sale is not None:  # only the palette can get here: it asked already
            return
        from terminal_agent.ui.screens import screen_for

        supervisor_only = {n: s for n, _, _, s in SERVICES}.get(name, False)
        if supervisor_only:
            self.need_supervisor(f"open the {name}", name,
                                 lambda sup: self.push_screen(screen_for(name, supervisor=sup)))
            return
        self.push_screen(self.service_screen(name))

    def service_screen(self, name: str) -> Screen[Any]:
        """A new screen for ``name``, or, for a kept one (``TillScreen.KEPT``), the one composed
        at the first visit, cleared (``new_visit``) when it is not on the stack any more."""
        from terminal_agent.ui.screens import screen_for
        from terminal_agent.ui.screens.base import TillScreen

        kept = self._kept.get(name)
        if kept is not None and all(kept not in stack for stack in self._screen_stacks.values()):
            if self._readying.pop(name, None) is not None and kept.is_mounted:
                kept.left()  # a visit before ``ready_kept`` ended: it stops, its calls end
            if kept.is_mounted:  # (else its mount sets it up, as for any first visit)
                kept.new_visit()
            return kept
        screen = screen_for(name)
        if isinstance(screen, TillScreen) and screen.KEPT and kept is None:
            self.install_screen(screen, f"kept-{name}")
            self._kept[name] = screen
        return screen

    def _ready_all_kept(self) -> None:
        for name in READIED:
            self.run_worker(self.ready_kept(name), name=f"ready-{name}", exit_on_error=False)

    async def ready_kept(self, name: str) -> None:
        """Make the kept screen of ``name`` ready while the till is idle after the first login:
        composed, styled, laid out and drawn off the stack, so that its first visit costs what
        a later one does (issue 17: the first visit of the product list, composing and styling
        it, was the one key over 50 ms). It is on no stack meanwhile: nothing of it is painted,
        it takes no focus nor key from the screen in front. A visit that comes first (a quick
        cashier) takes it as it is (``service_screen``) and the rest is not done. If a step
        fails (Textual's internals), the screen is dropped: the first visit composes a new one."""
        from terminal_agent.ui.screens.base import TillScreen

        if name in self._kept:
            return
        screen = self.service_screen(name)  # installed (kept), not composed yet
        if not isinstance(screen, TillScreen) or self._kept.get(name) is not screen:
            return
        self._readying[name] = screen
        try:
            _, mounted = self._get_screen(screen)  # composed and mounted (off the stack)
            await mounted
            for step in screen.ready_steps():
                await settled(screen)
                if self._readying.get(name) is not screen:
                    return  # a visit came first: it has the screen now
                step()
        except Exception as exc:
            log.warning("the %s screen could not be made ready (%s): composed at its first "
                        "visit instead", name, exc, exc_info=True)
            if self._readying.get(name) is screen:
                self._kept.pop(name, None)
                self.uninstall_screen(screen)
                await screen.remove()
        finally:
            if self._readying.get(name) is screen:
                del self._readying[name]

    def need_supervisor(self, action: str, subject: str, then: Callable[[Cashier], Any],
                        otherwise: Callable[[], Any] | None = None) -> None:
        """Run ``then(supervisor)`` after a supervisor's PIN (or at once for a supervisor's own
        session); audited either way."""
        if self.cashier is not None and self.cashier.is_supervisor:
            me = self.cashier
            self.run_worker(self.core(self.cashiers.audit(me.id, "override", subject,
                                                          f"{action} (own session)")))
            then(me)
            return
        from terminal_agent.ui.screens.modals import SupervisorModal

        def answered(supervisor: Cashier | None) -> None:
            if supervisor is not None:
                then(supervisor)
            elif otherwise is not None:
                otherwise()

        self.push_screen(SupervisorModal(action, subject=subject), callback=answered)

    # -- status bar -----------------------------------------------------------------------------

    async def tick(self) -> None:
        """Every ``status_interval``: the clock; every ``STATUS_EVERY`` ticks also what the
        database and the printer say (an idle till must stay idle: fanless hardware)."""
        if self.restart_requested and self.no_sale_open():
            log.info("no sale open: the UI exits to be restarted with the new version")
            self.exit(0)
            return
        self._ticks += 1
        if self._ticks % STATUS_EVERY == 0 or self.snapshot is None:
            await self.refresh_status()
        else:
            now = clock_text(self.clock(), CLOCK_FORMAT)
            if now != self.status_view.clock_text:
                self.status_view = replace(self.status_view, clock_text=now)
        idle = self.cfg.ui.idle_lock_seconds
        if (self.cashier is not None and not self.locked and idle > 0
                and self.idle_clock() - self.last_activity >= idle):
            self.action_lock()

    async def refresh_status(self) -> None:
        try:
            snap = await self.agent.status()
        except Exception as exc:  # the status bar must never take the till down
            log.warning("status refresh failed: %s", exc)
            return
        try:
            self._printer_state = await self.printer.status()
        except Exception as exc:
            log.warning("printer status failed: %s", exc)
            self._printer_state = (False, "printer: status unknown")
        self.snapshot = snap
        self.status_view = self.build_view(snap)

    def build_view(self, snap: Any) -> StatusView:
        """The cashier's line (link, outbox, printer, who, time) and the supervisor's panel
        (HTTP answers and latencies, forwarder) from one status snapshot."""
        link = self.agent.link()
        if link.answered_at is not None and link.answered_at != self._last_answer_at:
            self._last_answer_at = link.answered_at
            if link.latency is not None:
                self._latencies.append(link.latency * 1000)
        self._depths.append(float(snap.outbox.pending))
        link_text, link_ok = link_words(link.status, link.error)
        switch_text, switch_ok = switch_words(link.status, link.error, link.latency)
        outbox_text, alarm = outbox_words(snap, self.forwarder_mode)
        forwarder_text, forwarder_ok = FORWARDER_WORDS[self.forwarder_mode]
        ok, printer_text = self._printer_state
        return StatusView(
            link_text=link_text, link_ok=link_ok, outbox_text=outbox_text, outbox_alarm=alarm,
            printer_text=printer_text if printer_text.startswith("printer") else
            f"printer: {printer_text}", printer_ok=ok, cashier_text=self.who(),
            clock_text=clock_text(self.clock(), CLOCK_FORMAT),
            switch_text=switch_text, switch_ok=switch_ok, latencies_ms=tuple(self._latencies),
            outbox_depths=tuple(self._depths), forwarder_text=forwarder_text,
            forwarder_ok=forwarder_ok)

    def who(self) -> str:
        if self.cashier is None:
            return "not logged in"
        role = " supervisor" if self.cashier.is_supervisor else ""
        return f"{self.cashier.label}{role}" + (" (locked)" if self.locked else "")

    def reset_status_history(self) -> None:
        """Forget the sparklines' history (for screenshots that must not depend on timing)."""
        self._latencies.clear()
        self._depths.clear()


def freeze_heap() -> None:
    """Collect once, then leave everything alive now (modules, Textual, the home screen) out of
    Python's cyclic garbage collections: a full collection walked all of it, 65-75 ms on the
    event loop every few seconds of work, and was the slowest key presses (issue 17: key to
    repaint). Once only: objects frozen are never collected as cycles, so nothing that will
    be thrown away (a login screen, a sale's screens) may be alive at that moment."""
    gc.collect()
    gc.freeze()


async def settled(screen: Screen[Any], pause: float = 0.02) -> None:
    """What was posted to ``screen`` before now has been handled (its own queue: a Resize and
    its breakpoint classes), and the event loop had a moment for the rest (a key waiting)."""
    handled = asyncio.Event()
    screen.call_later(handled.set)
    await asyncio.wait_for(handled.wait(), 30)
    await asyncio.sleep(pause)


# -- the status words ----------------------------------------------------------------------------

FORWARDER_WORDS = {
    "ui": ("forwarder: in this UI (service not running)", True),
    "service": ("forwarder: service running", True),
    "off": ("forwarder: NOT running (advices wait)", False),
}


def link_words(status: int | None, error: str | None) -> tuple[str, bool | None]:
    """The cashier's words for the link to the switch (no HTTP codes, no milliseconds)."""
    if error:
        return "link DOWN", False
    if status is None:
        return "link: not tried yet", None
    if status >= 500:
        return "link: switch trouble", False
    return "link up", True


def switch_words(status: int | None, error: str | None,
                 latency: float | None) -> tuple[str, bool | None]:
    """The supervisor's words: the last HTTP answer and how long it took."""
    if error:
        return f"switch: no answer ({error})", False
    if status is None:
        return "switch: not asked yet", None
    return f"switch: HTTP {status} in {(latency or 0) * 1000:.0f} ms", status < 500


def outbox_words(snap: Any, forwarder_mode: str) -> tuple[str, bool]:
    """What waits to be sent to the switch, in a cashier's words, and whether it is alarming."""
    box, age = snap.outbox, snap.oldest_pending_age
    if snap.clock_went_back:
        return "outbox: CLOCK WENT BACK", True
    if forwarder_mode == "off" and box.pending:
        return f"outbox: {box.pending} NOT sent (call a supervisor)", True
    parts = [f"{box.pending} waiting"] if box.pending else []
    if box.parked:
        parts.append(f"{box.parked} stuck")
    text = "outbox: " + (", ".join(parts) if parts else "all sent")
    return text, box.parked > 0 or (age is not None and age > 300)
