"""The composition root: opens the database, the switch client and the flows in one place, and
closes them in reverse (``async with Agent.open(cfg) as agent``)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from terminal_agent.config import AgentConfig
from terminal_agent.core.cashup import CashUps
from terminal_agent.core.catalogue import Catalogue
from terminal_agent.core.clock import ClockWatch
from terminal_agent.core.flows.airtime import TopUps, VoucherSales
from terminal_agent.core.flows.base import FlowContext, FlowResult
from terminal_agent.core.flows.money import MoneyTransfer
from terminal_agent.core.flows.suv import VoucherRedemptions
from terminal_agent.core.forwarder import Forwarder, ForwarderLock
from terminal_agent.core.journal import Journal, Kind
from terminal_agent.core.outbox import Outbox, OutboxCounts
from terminal_agent.core.owners import OwnerLock, Owners
from terminal_agent.core.recovery import Recovery
from terminal_agent.core.slips import Slips
from terminal_agent.core.states import AWAITING_DECISION, NEEDS_ATTENTION, State, sql_set
from terminal_agent.core.store import Store, open_configured
from terminal_agent.core.usecases import UseCases
from terminal_agent.core.vault import Vault, open_vault
from terminal_agent.protocol import builders
from terminal_agent.switch.client import SwitchClient

if TYPE_CHECKING:
    import httpx

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
    """The core's one typed façade (its use cases: ``core/usecases.py``) and composition root."""

    def __init__(self, cfg: AgentConfig, store: Store, switch: SwitchClient,
                 clock: Any = time.time, *, owner: OwnerLock | None = None,
                 vault: Vault | None = None) -> None:
        self.config = cfg
        self.store = store
        self.switch = switch
        self.clock = clock
        self.owner = owner if owner is not None else OwnerLock(store.path, "agent")
        if not self.owner.held:
            self.owner.acquire()
        self.owners = Owners(store.path, self.owner)
        self.slips = Slips(cfg, clock)  # the sale prints itself: receipts committed by its steps
        self.journal = Journal(store, clock, vault, on_entered=self.slips.entered)
        self.slips.journal = self.journal
        self.outbox = Outbox(store, cfg.forwarder, clock)
        self.recovery = Recovery(self.journal, self.outbox, self.owners)
        self.clock_watch = ClockWatch(store, wall=clock)
        self.lock = ForwarderLock(store.path)
        self.forwarder = Forwarder(self.outbox, self.journal, switch, cfg.forwarder)
        self.identity = builders.Identity.from_config(cfg.terminal)
        ctx = FlowContext(cfg, self.journal, self.outbox, switch, self.identity,
                          wake=self.forwarder.wake, owner=self.owner.id)
        self.vouchers = VoucherSales(ctx)
        self.topups = TopUps(ctx)
        self.money = MoneyTransfer(ctx)
        self.suv = VoucherRedemptions(ctx)
        self.catalogue = Catalogue(ctx)
        self.cashups = CashUps(store, clock)

    @classmethod
    @asynccontextmanager
    async def open(cls, cfg: AgentConfig, *, password: str | None = None,
                   transport: httpx.AsyncBaseTransport | None = None,
                   clock: Any = time.time, migrate: bool = False, read_only: bool = False,
                   quick_check: bool = False, role: str = "agent") -> AsyncIterator[Agent]:
        """``migrate``/``quick_check`` for the long-running processes (forward, ui);
        ``read_only`` for commands that only look (status); ``role`` names the process in its
        owner id (``ui``, ``service``, ``certify``...)."""
        secret = cfg.switch_password() if password is None else password
        store = await open_configured(cfg, migrate=migrate, read_only=read_only,
                                      quick_check=quick_check)
        owner = OwnerLock(store.path, role)
        try:
            owner.acquire()
            vault = None if read_only else await open_vault(cfg, store)
            async with SwitchClient(cfg.switch, secret, transport=transport) as switch:
                yield cls(cfg, store, switch, clock, owner=owner, vault=vault)
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
