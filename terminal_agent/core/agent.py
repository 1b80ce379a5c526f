"""The composition root: opens the database, the switch client and the flows in one place, and
closes them in reverse (``async with Agent.open(cfg) as agent``)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from terminal_agent.config import AgentConfig
from terminal_agent.core.clock import ClockWatch
from terminal_agent.core.journal import Journal, Kind
from terminal_agent.core.outbox import Outbox, OutboxCounts
from terminal_agent.core.owners import ForwarderLock, OwnerLock, Owners
from terminal_agent.core.slips import Slips
from terminal_agent.core.states import AWAITING_DECISION, NEEDS_ATTENTION, State, sql_set
from terminal_agent.core.store import Store, open_configured
from terminal_agent.core.usecases import UseCases
from terminal_agent.core.vault import Vault, open_vault

if TYPE_CHECKING:
    import httpx

    from terminal_agent.core.cashup import CashUps
    from terminal_agent.core.catalogue import Catalogue
    from terminal_agent.core.flows.airtime import TopUps, VoucherSales
    from terminal_agent.core.flows.base import FlowContext, FlowResult
    from terminal_agent.core.flows.money import MoneyTransfer
    from terminal_agent.core.flows.suv import VoucherRedemptions
    from terminal_agent.core.forwarder import Forwarder
    from terminal_agent.core.recovery import Recovery
    from terminal_agent.protocol.builders import Identity
    from terminal_agent.switch.client import SwitchClient

CLOCK_TOLERANCE = 60.0  # seconds an owed advice may seem to come from the future


@dataclass(frozen=True)
class StatusSnapshot:
    outbox: OutboxCounts
    awaiting_decision: int
    needs_attention: int
    status_pending: int
    in_flight: int        # sent by a process still running, answer not yet committed
    orphaned: int         # sent by a process that is gone: the forwarder recovers them
    forwarder_running: bool
    forwarder_role: str | None  # who forwards: "service" or "ui" (None if unknown / none)
    now: float
    forwarder_note: str = ""   # what the running forwarder waits for ("" = all well)

    @property
    def oldest_pending_age(self) -> float | None:
        """Seconds the oldest owed advice has waited. Never clamped: a negative age means the
        wall clock went back past it, which is itself worth an alarm (``clock_went_back``)."""
        if self.outbox.oldest_pending_at is None:
            return None
        return self.now - self.outbox.oldest_pending_at

    @property
    def clock_went_back(self) -> bool:
        age = self.oldest_pending_age
        return age is not None and age < -CLOCK_TOLERANCE

    @property
    def oldest_phrase(self) -> str:
        """The oldest owed advice's wait in words ("" when nothing is owed), for status lines."""
        age = self.oldest_pending_age
        if age is None:
            return ""
        if self.clock_went_back:
            return f"oldest dated {-age:.0f} s in the future: the clock went back"
        return f"oldest {age:.0f} s"

    def as_dict(self) -> dict[str, Any]:
        return {
            "outbox": {"pending": self.outbox.pending, "held": self.outbox.held,
                       "parked": self.outbox.parked, "delivered": self.outbox.delivered,
                       "oldest_pending_age_s": self.oldest_pending_age,
                       "last_delivery_at": self.outbox.last_delivery_at},
            "transactions": {"awaiting_decision": self.awaiting_decision,
                             "needs_attention": self.needs_attention,
                             "status_pending": self.status_pending,
                             "in_flight": self.in_flight, "orphaned": self.orphaned},
            "forwarder_running": self.forwarder_running,
            "forwarder_role": self.forwarder_role,
            "forwarder_note": self.forwarder_note,
            "clock_went_back": self.clock_went_back,
        }


class Agent(UseCases):
    """The core's one typed façade (its use cases: ``core/usecases.py``) and composition root.

    The switch client, the forwarder, recovery, the flows, the catalogue and the cash-ups are
    built on first use (issue 17, cold start): the cashier UI draws its login screen with none of them
    imported (httpx, the protocol's models), and builds them right after."""

    def __init__(self, cfg: AgentConfig, store: Store, connect: Callable[[], SwitchClient],
                 clock: Any = time.time, *, owner: OwnerLock | None = None,
                 vault: Vault | None = None) -> None:
        self.config = cfg
        self.store = store
        self._connect = connect  # makes the switch client (``switch``), once
        self.clock = clock
        self.owner = owner if owner is not None else OwnerLock(store.path, "agent")
        if not self.owner.held:
            self.owner.acquire()
        self.owners = Owners(store.path, self.owner)
        self.slips = Slips(cfg, clock)  # the sale prints itself: receipts committed by its steps
        self.journal = Journal(store, clock, vault, on_entered=self.slips.entered)
        self.slips.journal = self.journal
        self.outbox = Outbox(store, cfg.forwarder, clock)
        self.clock_watch = ClockWatch(store, wall=clock)
        self.lock = ForwarderLock(store.path)

    # -- built on first use --------------------------------------------------------------------

    @cached_property
    def switch(self) -> SwitchClient:
        return self._connect()

    @property
    def switch_built(self) -> bool:
        return "switch" in self.__dict__

    @cached_property
    def recovery(self) -> Recovery:
        from terminal_agent.core.recovery import Recovery

        return Recovery(self.journal, self.outbox, self.owners)

    @cached_property
    def forwarder(self) -> Forwarder:
        from terminal_agent.core.forwarder import Forwarder

        return Forwarder(self.outbox, self.journal, self.switch, self.config.forwarder)

    @cached_property
    def identity(self) -> Identity:
        from terminal_agent.protocol.builders import Identity

        return Identity.from_config(self.config.terminal)

    @cached_property
    def _flow_context(self) -> FlowContext:
        from terminal_agent.core.flows.base import FlowContext

        return FlowContext(self.config, self.journal, self.outbox, self.switch, self.identity,
                           wake=self.forwarder.wake, owner=self.owner.id)

    @cached_property
    def vouchers(self) -> VoucherSales:
        from terminal_agent.core.flows.airtime import VoucherSales

        return VoucherSales(self._flow_context)

    @cached_property
    def topups(self) -> TopUps:
        from terminal_agent.core.flows.airtime import TopUps

        return TopUps(self._flow_context)

    @cached_property
    def money(self) -> MoneyTransfer:
        from terminal_agent.core.flows.money import MoneyTransfer

        return MoneyTransfer(self._flow_context)

    @cached_property
    def suv(self) -> VoucherRedemptions:
        from terminal_agent.core.flows.suv import VoucherRedemptions

        return VoucherRedemptions(self._flow_context)

    @cached_property
    def catalogue(self) -> Catalogue:
        from terminal_agent.core.catalogue import Catalogue

        return Catalogue(self._flow_context)

    @cached_property
    def cashups(self) -> CashUps:
        from terminal_agent.core.cashup import CashUps

        return CashUps(self.store, self.clock)

    @classmethod
    @asynccontextmanager
    async def open(cls, cfg: AgentConfig, *, password: str | None = None,
                   transport: httpx.AsyncBaseTransport | None = None,
                   clock: Any = time.time, migrate: bool = False, read_only: bool = False,
                   quick_check: bool = False, role: str = "agent",
                   defer: bool = False) -> AsyncIterator[Agent]:
        """``migrate``/``quick_check`` for the long-running processes (forward, ui);
        ``read_only`` for commands that only look (status); ``role`` names the process in its
        owner id (``ui``, ``service``, ``certify``...). ``defer`` (the UI, which draws its login
        screen first): the switch client is made on first use, and the ``quick_check`` runs
        when the runtime starts, before recovery and before any PIN is taken. The switch
        settings are checked here either way (URL, proxy, TLS files)."""
        from terminal_agent.security import check_switch_settings

        secret = cfg.switch_password() if password is None else password
        check_switch_settings(cfg.switch)

        def connect() -> SwitchClient:
            from terminal_agent.switch.client import SwitchClient

            return SwitchClient(cfg.switch, secret, transport=transport)

        store = await open_configured(cfg, migrate=migrate, read_only=read_only,
                                      quick_check=quick_check, check_later=defer)
        owner = OwnerLock(store.path, role)
        agent = None
        try:
            owner.acquire()
            vault = None if read_only else await open_vault(cfg, store)
            agent = cls(cfg, store, connect, clock, owner=owner, vault=vault)
            if not defer:
                agent.switch  # noqa: B018 - made now: a wrong TLS setting fails here
            yield agent
        finally:
            try:
                if agent is not None and agent.switch_built:
                    await agent.switch.aclose()
            finally:
                owner.release()
                await store.close()

    async def describe(self, txn_id: str) -> FlowResult:
        """Any transaction as its flow words it now (an outcome screen follows a reversal being
        delivered, or a pending top-up, with it)."""
        txn = await self.journal.get(txn_id)
        flows: dict[Kind, Any] = {Kind.VOUCHER_SALE: self.vouchers, Kind.TOPUP: self.topups,
                 Kind.MT_SEND: self.money, Kind.MT_PAYOUT: self.money, Kind.SUV_REDEEM: self.suv}
        result: FlowResult = await flows[txn.kind].describe(txn_id)
        return result

    async def status(self) -> StatusSnapshot:
        counts = await self.outbox.counts()
        asked = AWAITING_DECISION | NEEDS_ATTENTION | {State.STATUS_PENDING}
        rows = await self.store.fetchall(
            "SELECT state, COUNT(*) AS n FROM transactions"  # noqa: S608 - the table's constants
            f" WHERE state IN {sql_set(asked)} GROUP BY state")
        by = {State(r["state"]): int(r["n"]) for r in rows}
        live, orphaned = await self.recovery.in_flight()
        return StatusSnapshot(
            outbox=counts,
            awaiting_decision=sum(by.get(s, 0) for s in AWAITING_DECISION),
            needs_attention=sum(by.get(s, 0) for s in NEEDS_ATTENTION),
            status_pending=by.get(State.STATUS_PENDING, 0),
            in_flight=len(live), orphaned=len(orphaned),
            forwarder_running=self.lock.held or self.lock.held_elsewhere(),
            forwarder_role=self.lock.role if self.lock.held else self.lock.holder_role(),
            now=self.clock(),
            forwarder_note=(self.forwarder.trouble or "") if self.lock.held
            else self.lock.read_note(),
        )
