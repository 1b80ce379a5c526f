"""The outcome of a transaction, in one look: what happened and what to do with the customer.

The voucher PIN is shown only until the receipt has printed, masked afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static

from terminal_agent.core import KIND_LABELS, REVERSAL_DONE, FlowResult, Kind, SaleVerdict, State
from terminal_agent.errors import AgentError
from terminal_agent.ui.format import group_digits, mask_pin, money, when_text
from terminal_agent.ui.messages import SaleOutcome
from terminal_agent.ui.printing import PrintReport
from terminal_agent.ui.screens.base import TillScreen
from terminal_agent.ui.widgets import Banner

log = logging.getLogger("terminal_agent.ui")

PRINTABLE = frozenset({State.TENDERED, State.CONFIRMING, State.CONFIRMED, State.COMPLETED,
                       State.REFUND_DUE})
# states the screen follows until they settle (a top-up's lookups, a reversal's delivery)
FOLLOWED = frozenset({State.STATUS_PENDING, State.REVERSING})


def lookups_text(data: dict[str, object], now: float) -> str:
    """ "2 so far, next at 14:05:09", or "due now" once that time has passed (never a time
    already gone)."""
    nxt = data.get("next_lookup_at")
    text = f"{data['lookups']} so far"
    if isinstance(nxt, int | float):
        text += f", next at {when_text(nxt, now)}" if nxt > now else ", next one due now"
    return text


SETTLED = {
    State.REFUNDED: "Refund recorded. The customer has their money back.",
    State.ABANDONED: "Lookups stopped by a supervisor. Settle the outcome with the provider.",
}


def banner_for(result: FlowResult) -> tuple[str, str]:
    """The banner says where the sale stands now: a reversal queued is not yet a reversal."""
    done = result.state == State.REVERSED
    if result.verdict == SaleVerdict.UNKNOWN and result.state in (State.REVERSING, State.REVERSED):
        return ("NO ANSWER: REVERSED" if done else "NO ANSWER: REVERSAL QUEUED"), "bad"
    if result.verdict == SaleVerdict.CANCELLED:
        return ("CANCELLED: REVERSED" if done else "CANCELLED: REVERSAL QUEUED"), "warn"
    if result.state == State.REFUND_DUE:
        return "REFUND DUE", "bad"
    if result.state == State.REFUNDED:
        return "REFUNDED", "info"
    if result.state == State.ABANDONED:
        return "ABANDONED", "warn"
    return BANNERS[result.verdict]


BANNERS: dict[SaleVerdict, tuple[str, str]] = {
    SaleVerdict.APPROVED: ("APPROVED", "ok"),
    SaleVerdict.DECLINED: ("DECLINED", "bad"),
    SaleVerdict.PENDING: ("PENDING: waiting for the final answer", "warn"),
    SaleVerdict.CANCELLED: ("CANCELLED: REVERSED", "warn"),
    SaleVerdict.REVERSED: ("REVERSED BEFORE PAYMENT: DO NOT HAND OVER", "bad"),
    SaleVerdict.UNKNOWN: ("NO ANSWER: REVERSED", "bad"),
}


class OutcomeScreen(TillScreen):
    TITLE_TEXT = "Outcome"
    BINDINGS = [
        Binding("enter", "done", "Done", priority=True),
        Binding("escape", "done", "Done"),
        Binding("p", "print", "Print again"),
        Binding("c", "check", "Check now"),
        Binding("a", "abandon", "Abandon (supervisor)"),
        Binding("r", "refunded", "Refund given (supervisor)"),
        Binding("t", "retry", "Try again as a new transaction"),
        Binding("g,f6", "register", "Register the customer"),
    ]

    def __init__(self, outcome: SaleOutcome, *, after: Callable[[], Any] | None = None,
                 over_form: bool = False, can_register: bool = False) -> None:
        super().__init__()
        self.after = after  # what the cashier asked for next (quit, log out...), once shown
        self.outcome = outcome
        self.result = outcome.result
        self.printed = outcome.printed
        self.receipt_text = outcome.receipt
        self.over_form = over_form          # a decline over its form: Done goes back to it
        self.can_register = can_register    # the decline wants the customer registered
        self.asked_again = False

    def body(self) -> Iterable[Widget]:
        yield Banner("", id="banner")
        yield Static("", id="sentence")
        yield Static("", id="details")
        yield Static("", id="receipt")

    def on_mount(self) -> None:
        self.set_title(self.outcome.title or KIND_LABELS.get(self.result.kind, "Outcome"))
        self.show()
        if self.result.state in PRINTABLE and not self.printed:
            self.print_receipt()
        if self.result.state in FOLLOWED:
            self.set_interval(1.0, self.poll)
        if self.after is not None:
            self.app.call_later(self.after)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        state = self.result.state
        if action in ("check", "abandon"):
            return state == State.STATUS_PENDING
        if action == "refunded":
            return state == State.REFUND_DUE
        if action == "retry":
            return bool(self.result.data.get("retry"))
        if action == "print":
            return state in PRINTABLE
        if action == "register":
            return self.can_register
        return True

    # -- what the cashier sees ------------------------------------------------------------------

    def show(self) -> None:
        r = self.result
        text, tone = banner_for(r)
        self.query_one("#banner", Banner).show(text, tone)
        done = REVERSAL_DONE if r.state == State.REVERSED and r.verdict in (
            SaleVerdict.UNKNOWN, SaleVerdict.CANCELLED) else ""
        self.query_one("#sentence", Static).update(f"{r.message} {done}".strip())
        self.query_one("#details", Static).update("\n".join(
            f"{k:<14}{v}" for k, v in self.detail_lines()))
        self.query_one("#receipt", Static).update(self.receipt_text)
        self.refresh_bindings()

    def detail_lines(self) -> list[tuple[str, str]]:
        r, d, sym = self.result, self.result.data, self.till.symbol
        lines = [("Amount", money(r.amount, sym))]
        if r.fee:
            lines += [("Fee", money(r.fee, sym)), ("Customer pays", money(r.amount + r.fee, sym))]
        if r.reference:
            lines.append(("Reference", r.reference))
        if d.get("recipient_name"):
            lines.append(("Paid to", str(d["recipient_name"])))
        if d.get("msisdn_last4"):
            lines.append(("Phone", f"*******{d['msisdn_last4']}"))
        if d.get("serial"):
            lines.append(("Serial", str(d["serial"])))
        pin = d.get("pin")
        if pin and r.verdict == SaleVerdict.APPROVED and r.state != State.APPROVED:
            shown = mask_pin(str(pin)) if self.printed else group_digits(str(pin))
            lines.append(("Voucher PIN", shown))
        if d.get("lookups") is not None and r.state == State.STATUS_PENDING:
            lines.append(("Lookups", lookups_text(d, self.till.clock())))
        for key, value in self.outcome.extra.items():
            lines.append((key, value))
        return lines

    # -- printing -------------------------------------------------------------------------------

    def print_receipt(self) -> None:
        result = self.result
        self.run_core(lambda: self.till.printer.print_result(result, self.till.cashier_id),
                      "Printing the receipt…", self.printed_now)

    def printed_now(self, report: PrintReport) -> None:
        self.printed = report.printed
        where = f" ({report.where})" if report.where else ""
        self.receipt_text = report.message + where
        self.show()

    def action_print(self) -> None:
        from terminal_agent.ui.screens.history import reprint

        reprint(self, self.result.reference, has_pin=bool(self.result.data.get("pin")))

    # -- direct top-up: pending, refund ---------------------------------------------------------

    async def poll(self) -> None:
        """Follow a pending top-up to its answer, a reversal to its delivery."""
        if self.working or self.result.state not in FOLLOWED:
            return
        was = self.result.state
        try:
            now = await self.till.core(self.till.agent.describe(self.result.txn_id))
        except AgentError as exc:  # the journal not read this time: the next tick asks again
            log.warning("following %s: %s", self.result.reference, exc)
            return
        # the cashier's own cancel stays a cancel while its reversal waits (the journal alone
        # cannot tell it from a reversal behind the cashier: deadline, supervisor)
        cancelled = self.result.verdict == SaleVerdict.CANCELLED and \
            now.verdict == SaleVerdict.REVERSED
        self.result = replace(now, verdict=self.result.verdict, message=self.result.message) \
            if now.verdict == self.result.verdict or cancelled else now
        self.show()
        if self.asked_again and self.result.state != was:
            self.say("The switch answered.", "info")
            self.asked_again = False
        if self.result.state in PRINTABLE and not self.printed:
            self.print_receipt()

    def action_check(self) -> None:
        txn_id = self.result.txn_id

        def asked(_: object) -> None:
            self.asked_again = True
            self.say("Asking the switch again now: the answer shows here in a few seconds.",
                     "info")

        self.run_core(lambda: self.till.agent.ask_top_up_again(txn_id), "Asking again…", asked)

    def action_abandon(self) -> None:
        from terminal_agent.ui.screens.modals import NoteModal

        txn_id = self.result.txn_id

        def noted(supervisor_id: str, note: str | None) -> None:
            if note:
                self.run_core(lambda: self.till.agent.stop_lookups(txn_id, supervisor_id, note),
                              "Stopping the lookups…", self.replace_result)

        self.till.need_supervisor("abandon a pending top-up", self.result.reference,
                                  lambda sup: self.app.push_screen(
                                      NoteModal("Why are the lookups stopped?"),
                                      callback=lambda note: noted(sup.id, note)))

    def action_refunded(self) -> None:
        """Cash handed back: asked first (issue 16: one key), then a supervisor confirms it
        (audited with their number)."""
        from terminal_agent.ui.screens.modals import ConfirmModal

        txn_id, amount = self.result.txn_id, money(self.result.amount, self.till.symbol)

        def record(yes: bool | None) -> None:
            if yes:
                self.till.need_supervisor(
                    "confirm the refund was given", self.result.reference,
                    lambda sup: self.run_core(
                        lambda: self.till.agent.refund_given(txn_id, sup.id),
                        "Recording the refund…", self.replace_result))

        self.app.push_screen(ConfirmModal(f"Did you give {amount} back to the customer?",
                                          yes="yes, record the refund", no="not yet",
                                          strict=True), callback=record)

    def replace_result(self, result: FlowResult) -> None:
        self.result = replace(result, message=SETTLED.get(result.state, result.message))
        self.show()

    # -- money transfer: a timed-out order or payout, offered again as a NEW transaction --------

    def action_retry(self) -> None:
        from terminal_agent.ui.screens.tender import ask_tender, show_outcome

        agent, txn_id = self.till.agent, self.result.txn_id
        again = agent.retry_order if self.result.kind == Kind.MT_SEND else agent.retry_payout

        def answered(result: FlowResult) -> None:
            if result.approved and result.state == State.APPROVED:
                ask_tender(self, result)
            else:
                show_outcome(self, result)

        self.run_core(lambda: again(txn_id, self.till.cashier_id),
                      "Sending it again as a new transaction (new id)…", answered)

    def action_register(self) -> None:
        if self.can_register and not self.working:
            self.dismiss("register")

    async def action_done(self) -> None:
        if self.working:
            return
        if self.over_form:
            self.dismiss(None)
            return
        await self.till.go_home()
