"""The use cases of the till as one typed façade (docs/DESIGN.md §2): what the UI and the
commands ask the core, in plain values (product ids, amounts in minor units, people, providers)
and typed results (``FlowResult`` with its ``SaleVerdict``), never protocol models or devices.

``Agent`` (core/agent.py, the composition root) inherits these methods; its parts (``vouchers``,
``money``, ``journal``, ``outbox``...) stay the core's own business. Each method maps the plain
values to the protocol's models here, once, and calls the flow that owns the step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from terminal_agent.core.journal import Kind, Txn
from terminal_agent.core.outbox import AdviceKind, OutboxRow
from terminal_agent.core.printing import (
    Printer,
    PrinterStatus,
    PrintQueue,
    open_configured_printer,
    record_printer_status,
)
from terminal_agent.core.states import SETTLED, JobState, RowState, State

if TYPE_CHECKING:
    import sqlite3

    from terminal_agent.config import AgentConfig
    from terminal_agent.core.cashup import CashUp, CashUps, ClosedShift
    from terminal_agent.core.catalogue import Catalogue, Offer, ProductOffer
    from terminal_agent.core.flows.airtime import TopUps, VoucherSales
    from terminal_agent.core.flows.base import Flow, FlowResult
    from terminal_agent.core.flows.money import MoneyTransfer, Person
    from terminal_agent.core.flows.requests import Answer
    from terminal_agent.core.flows.suv import VoucherRedemptions
    from terminal_agent.core.forwarder import Forwarder
    from terminal_agent.core.journal import Journal
    from terminal_agent.core.outbox import Outbox
    from terminal_agent.core.owners import ForwarderLock
    from terminal_agent.core.recovery import Recovery, RecoveryReport
    from terminal_agent.core.runtime import Runtime
    from terminal_agent.core.slips import Slips
    from terminal_agent.core.store import Store
    from terminal_agent.protocol.common import Institution
    from terminal_agent.switch.client import SwitchClient


@dataclass(frozen=True)
class Printed:
    """What printing a receipt came to: ``where`` the job went (the printer's URL, or the
    preview file), or why it still waits (it prints when the printer is back)."""

    printed: bool
    where: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Link:
    """The switch link as this process last saw it: the last answer's HTTP status, latency
    (seconds) and time, or the error of the last try (``status`` None)."""

    status: int | None
    error: str | None
    latency: float | None
    answered_at: float | None


@dataclass(frozen=True)
class Provider:
    """A money-transfer provider or a voucher issuer as the switch names it."""

    id: str
    name: str


def _institution(provider: Provider) -> Institution:
    from terminal_agent.protocol.common import Institution

    return Institution(id=provider.id, name=provider.name)


class UseCases:
    """The façade's methods (mixed into ``Agent``)."""

    config: AgentConfig
    store: Store
    slips: Slips
    journal: Journal
    outbox: Outbox
    lock: ForwarderLock

    if TYPE_CHECKING:  # built on first use by ``Agent`` (core/agent.py: issue 17, cold start)
        @property
        def catalogue(self) -> Catalogue: ...
        @property
        def vouchers(self) -> VoucherSales: ...
        @property
        def topups(self) -> TopUps: ...
        @property
        def money(self) -> MoneyTransfer: ...
        @property
        def suv(self) -> VoucherRedemptions: ...
        @property
        def cashups(self) -> CashUps: ...
        @property
        def forwarder(self) -> Forwarder: ...
        @property
        def switch(self) -> SwitchClient: ...
        @property
        def recovery(self) -> Recovery: ...

    # -- selling ----------------------------------------------------------------------------

    async def offers(self, *, direct_topup: bool | None = None) -> list[Offer]:
        """The products the switch offers (vouchers, direct top-ups, or both)."""
        from terminal_agent.core.catalogue import offer_of

        found = [offer_of(p) for p in await self.catalogue.products()]
        return [o for o in found if direct_topup is None or o.direct_topup == direct_topup]

    async def product_offer(self, service: str, *, network: str = "",
                            refresh: bool = False) -> ProductOffer:
        """The products of ``service`` (``VOUCHERS`` or ``TOPUPS``) for a screen, those of
        ``network`` where it has any; loaded when missing, expired or ``refresh`` is asked."""
        return (await self.catalogue.offer(service, refresh=refresh)).for_network(network)

    def product_offer_now(self, service: str, *, network: str = "") -> ProductOffer:
        """What the till has of ``service`` now, without asking the switch."""
        return self.catalogue.peek(service).for_network(network)

    async def network_of(self, msisdn: str) -> str:
        """The mobile network of a phone number as the switch names it ("" if it does not)."""
        return await self.catalogue.network_of(msisdn)

    async def sell_voucher(self, product: Offer | str, amount: int, cashier: str) -> FlowResult:
        """Ask the switch for a voucher; an approved sale waits for ``tender`` or ``cancel``."""
        return await self.vouchers.sell(self.catalogue.product(product), amount, cashier)

    async def check_top_up(self, product: Offer | str, msisdn: str, amount: int) -> FlowResult:
        """Will this top-up go through? (the switch's trial; nothing is bought)"""
        return await self.topups.trial(self.catalogue.product(product), msisdn, amount)

    async def top_up(self, product: Offer | str, msisdn: str, amount: int,
                     cashier: str) -> FlowResult:
        """A direct top-up, the cash taken first (seed 003)."""
        return await self.topups.purchase(self.catalogue.product(product), msisdn, amount,
                                          cashier)

    async def send_money(self, amount: int, fee: int, sender: Person, recipient: Person,
                         cashier: str, *, provider: Provider,
                         quote_id: str | None = None) -> FlowResult:
        """Create a money-transfer order: ``amount`` reaches the recipient, ``fee`` on top
        (``quote_id``: the fee quote it was priced by)."""
        return await self.money.send(amount, fee, sender, recipient, cashier,
                                     receiver=_institution(provider), quote_id=quote_id)

    async def retry_order(self, txn_id: str, cashier: str) -> FlowResult:
        """A timed-out order sent again as a new transaction (never the same one)."""
        return await self.money.retry_order(txn_id, cashier)

    async def retry_payout(self, txn_id: str, cashier: str) -> FlowResult:
        """A timed-out payout sent again as a new redemption (never the same one)."""
        return await self.money.retry_redeem(txn_id, cashier)

    async def find_order(self, order_ref: str, provider: Provider) -> Answer:
        """Look a money-transfer order up before paying it out (``data["payable"]``,
        ``data["amount"]``, the names)."""
        return await self.money.lookup_order(order_ref, _institution(provider))

    async def pay_out(self, order_ref: str, amount: int, cashier: str, *,
                      provider: Provider, recipient: Person | None = None, pin: str = "",
                      sender_name: str = "") -> FlowResult:
        """Redeem a money-transfer order; an approved payout waits for ``tender``. With the
        ``recipient`` as on the ID document the cashier saw (the till's screen): sent with the
        order's PIN, the slip names them; without (certify): the order's reference only."""
        if recipient is None:
            return await self.money.redeem(order_ref, amount, cashier,
                                           receiver=_institution(provider))
        return await self.money.pay_out(order_ref, amount, cashier,
                                        receiver=_institution(provider), recipient=recipient,
                                        pin=pin, sender_name=sender_name)

    async def find_customer(self, provider: Provider, id_number: str) -> Answer:
        """The provider's customer with this ID number (``data["customer"]``: a ``Person``)."""
        return await self.money.customer_info(_institution(provider), id_number)

    async def register_customer(self, provider: Provider, person: Person) -> Answer:
        """Register (or update) the provider's customer; ``data["customer"]`` as registered."""
        return await self.money.register_customer(_institution(provider), person)

    async def fee_quote(self, provider: Provider, amount: int, *, sender_phone: str | None = None,
                        recipient_phone: str | None = None) -> Answer:
        """What sending ``amount`` costs (``data``: ``fee``, ``total``, ``quote_id``)."""
        return await self.money.fee_quote(_institution(provider), amount,
                                          sender_cell=sender_phone,
                                          recipient_cell=recipient_phone)

    async def check_voucher(self, code: str) -> Answer:
        """A digital voucher's validity and value before it is taken (``data``:
        ``code_masked``, ``balance``, ``issuer``, ``issuer_id``...)."""
        return await self.suv.lookup(code)

    async def redeem_voucher(self, code: str, amount: int, cashier: str, *,
                             provider: Provider | None = None) -> FlowResult:
        """A digital voucher taken as payment (``provider``: its issuer, from the check)."""
        receiver = _institution(provider) if provider is not None else None
        return await self.suv.redeem(code, amount, cashier, receiver=receiver)

    # -- the cashier's decision after approval ----------------------------------------------------

    async def tender(self, txn_id: str, cashier: str, *, kind: Kind | None = None) -> FlowResult:
        """The cash moved (taken for a sale, handed over for a payout): the confirmation is
        queued in the same step. ``kind``: the transaction's, where the caller has it (one read
        of the row less); the flow refuses a transaction of another kind."""
        kind = kind or (await self.journal.get(txn_id)).kind
        if kind == Kind.MT_PAYOUT:
            return await self.money.paid_out(txn_id, cashier)
        if kind == Kind.MT_SEND:
            return await self.money.tender(txn_id, cashier)
        if kind == Kind.SUV_REDEEM:
            return await self.suv.complete(txn_id, cashier)
        return await self.vouchers.tender(txn_id, cashier)

    async def as_it_stands(self, txn_id: str) -> FlowResult:
        """The transaction as it stands, in its flow's words and without its details (what a
        sale reversed behind the tender dialog says: what to do with the cash)."""
        txn = await self.journal.get(txn_id)
        flows: dict[Kind, Flow] = {
            Kind.VOUCHER_SALE: self.vouchers, Kind.TOPUP: self.topups, Kind.MT_SEND: self.money,
            Kind.MT_PAYOUT: self.money.payouts, Kind.SUV_REDEEM: self.suv}
        return flows[txn.kind].result(txn, None)

    async def cancel(self, txn_id: str, actor: str, *, kind: Kind | None = None) -> FlowResult:
        """Cancel an approved sale: its reversal is queued (``kind`` as for ``tender``)."""
        kind = kind or (await self.journal.get(txn_id)).kind
        if kind in (Kind.MT_SEND, Kind.MT_PAYOUT):
            return await self.money.cancel(txn_id, actor)
        if kind == Kind.SUV_REDEEM:
            return await self.suv.cancel(txn_id, actor)
        return await self.vouchers.cancel(txn_id, actor)

    # -- a top-up's outcome the status lookups settle -------------------------------------------

    async def ask_top_up_again(self, txn_id: str) -> None:
        """Ask the switch for a pending top-up's status now, not at the next lookup's time."""
        await self.topups.check_now(txn_id)

    async def stop_lookups(self, txn_id: str, supervisor: str, note: str) -> FlowResult:
        """A supervisor stops a pending top-up's lookups (settled outside the till)."""
        return await self.topups.abandon(txn_id, supervisor, note)

    async def refund_given(self, txn_id: str, supervisor: str) -> FlowResult:
        """The top-up's cash was given back to the customer (a supervisor confirms)."""
        return await self.topups.refunded(txn_id, supervisor)

    # -- what happened -------------------------------------------------------------------------

    async def transaction(self, txn_id: str) -> Txn:
        return await self.journal.get(txn_id)

    async def open_decisions(self) -> list[Txn]:
        """Approved sales still awaiting the cashier's decision (tender or cancel), oldest
        first: found at start-up or left by a locked session."""
        return await self.journal.in_states({State.APPROVED})

    async def history(self, *, since: float | None = None, kind: str | None = None,
                      state: str | None = None, reference: str | None = None) -> list[Txn]:
        """The transactions since ``since`` (newest first), of a kind, a state or a reference
        where asked (at most 200)."""
        return await self.journal.history(since=since, kind=kind, state=state,
                                          reference=reference)

    async def timeline(self, txn_id: str) -> list[sqlite3.Row]:
        """What happened to the transaction, step by step (at, what, state, actor, note)."""
        return await self.journal.timeline(txn_id)

    async def settled(self, txn_id: str) -> bool:
        """Final, or waiting for a person (approved, or a confirmation that failed)."""
        return (await self.journal.get(txn_id)).state in SETTLED

    async def advices(self, txn_id: str, kind: AdviceKind | None = None, *,
                      void_too: bool = False) -> list[OutboxRow]:
        """The transaction's advices and status lookups, in order (void ones left out unless
        ``void_too``: a transaction's whole story)."""
        return [r for r in await self.outbox.for_txn(txn_id)
                if (void_too or r.state.value != "void") and (kind is None or r.kind == kind)]

    async def advices_waiting(self) -> list[OutboxRow]:
        """Advices still to deliver or parked for a supervisor, oldest first (at most 500)."""
        return await self.outbox.rows((RowState.PENDING, RowState.PARKED))

    async def retry_advice(self, advice_id: str) -> bool:
        """Send a pending or parked advice now (a parked one goes back to pending) and wake the
        forwarder; False when it no longer waits."""
        done = await self.outbox.retry_now(advice_id)
        self.forwarder.wake()
        return done

    async def resolve_advice(self, advice_id: str, *, note: str, supervisor: str) -> bool:
        """A supervisor settled a parked advice outside the till: kept with the note, never
        sent again; its transaction becomes ``RESOLVED`` (audited)."""
        return await self.outbox.resolve(advice_id, note=note, actor=supervisor)

    async def owed(self) -> int:
        """Advices still to deliver."""
        return (await self.outbox.counts()).pending

    # -- cash-up -------------------------------------------------------------------------------

    async def x_report(self, printed_by: str | None = None) -> CashUp:
        """The open shift as it stands now (changes nothing)."""
        return await self.cashups.x_report(printed_by=printed_by)

    async def close_shift(self, supervisor: str) -> CashUp:
        """The Z report: the open shift closed and kept under the next number, audited."""
        return await self.cashups.close_shift(supervisor)

    async def closed_shifts(self) -> list[ClosedShift]:
        """The shifts closed so far, newest first (the last 50)."""
        return await self.cashups.closed()

    async def z_report(self, number: int) -> CashUp | None:
        """A closed shift's Z report, as it was kept."""
        return await self.cashups.z_report(number)

    # -- receipts ------------------------------------------------------------------------------

    def receipt_queue(self, printer: Printer, *,
                      clock: Callable[[], float] = time.time) -> PrintQueue:
        """This till's durable print queue on ``printer`` (the UI process's receipt desk): a
        receipt the step did not commit is drawn from the journal (core/slips.py)."""
        return PrintQueue(self.store, printer, clock=clock,
                          render_missing=partial(self.slips.render_missing, self.journal))

    async def note_printer_status(self, status: PrinterStatus, *,
                                  clock: Callable[[], float] = time.time) -> None:
        """Leave the printer's status for the metrics (call it when it changes)."""
        await record_printer_status(self.store, status, clock)

    async def print_receipt(self, txn_id: str) -> Printed:
        """Print the receipt the transaction's own step committed (core/slips.py), now, on the
        configured printer; say where it went or why it waits."""
        printer = open_configured_printer(self.config.printer)
        try:
            queue = self.receipt_queue(printer)
            job = await queue.receipt_of(txn_id)
            if job is None:
                return Printed(False, reason="nothing to print for this outcome")
            if job.state != JobState.PRINTED:
                await queue.pump(only=[job.id])
            done = await queue.job(job.id)
        finally:
            printer.close()
        if done is not None and done.state == JobState.PRINTED:
            return Printed(True, queue.went.get(job.id, printer.url))
        return Printed(False, reason=(done.last_error if done else None) or queue.reason
                       or "printer trouble")

    # -- the status bar ------------------------------------------------------------------------

    def link(self) -> Link:
        """The switch link as this process last saw it (no request is made)."""
        sw = self.switch
        return Link(sw.last_status, sw.last_error, sw.last_latency, sw.last_answer_at)

    def forwarded_elsewhere(self) -> bool:
        """Another process (the service) holds the forwarder lock."""
        return self.lock.held_elsewhere()

    # -- background work ------------------------------------------------------------------------

    def till_runtime(self, *, forward: bool = True, print_queue: Any = None,
                     on_scan: Callable[[Any], Any] | None = None) -> Runtime:
        """The background work of the cashier UI's process (core/runtime.py): forwarding or
        standing by for the service, recovery, sweep, the print pump and the scanner."""
        from terminal_agent.core.runtime import Role, Runtime

        return Runtime(self, Role.UI, forward=forward, print_queue=print_queue, on_scan=on_scan)

    # -- background work, also a command's own loop --------------------------------------------

    async def forward_once(self) -> int:
        """Deliver what is due now; the number of rows handled."""
        return await self.forwarder.run_once()

    async def recover(self) -> RecoveryReport:
        """Recovery of orphaned work and expired decisions (what start-up does)."""
        return await self.recovery.run()
