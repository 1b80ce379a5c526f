"""The sale prints itself: the step that records a tender, a payout or a completion also commits
the transaction's receipt and the cash-drawer kick, in the same database step (docs/DESIGN.md §5a).

Rules:
1. Entering ``TENDERED`` (cash taken, paid out, voucher accepted), ``COMPLETED`` (top-up on
   the phone, single-messaging redemption) or ``REFUND_DUE`` (top-up failed after the tender)
   commits the transaction's receipt: ESC/POS bytes rendered from the stored answer for the
   configured paper (``[printer] columns``, ``profile``). The state table lets each of these be
   entered once, so a transaction has one original receipt, whichever process made the step
   (the UI's tender, the service's status lookup).
2. Cash moving (``CASH_MOVES``: a voucher sale's or an order's cash in, a payout, a top-up's
   tender taken first, its refund) queues a drawer kick (a device job, ``kind='drawer'``) in
   the same step, when ``[printer] open_drawer``.
3. Rendering never fails a money step: a receipt that cannot be made is logged (by reference,
   never its contents) and rendered again from the stored answer when reprinted.
4. A crash between the confirmation and the print job is impossible: they are one commit. The
   print pump (``core/printing.py``, run by the UI's runtime) prints what is committed, in
   order, and a screen only reports on it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from devices.printers import drawer_kick
from terminal_agent.config import AgentConfig
from terminal_agent.core.journal import KIND_LABELS, Journal, Kind, Txn
from terminal_agent.core.messages import refund_reason
from terminal_agent.core.printing import DRAWER, NewJob, enqueue
from terminal_agent.core.states import State
from terminal_agent.core.store import Db
from terminal_agent.receipts import (
    Header,
    PayoutSlip,
    RedemptionSlip,
    RefundDueSlip,
    SlipData,
    TopupSlip,
    TransferSendSlip,
    VoucherSaleSlip,
    layout,
    render,
    to_text,
)
from terminal_agent.receipts.model import Receipt

log = logging.getLogger("terminal_agent.slips")

RECEIPT_ON: frozenset[State] = frozenset({State.TENDERED, State.COMPLETED, State.REFUND_DUE})
# a receipt can be reprinted (rendered again if it has no original job) in these states
PAID: frozenset[State] = frozenset({State.TENDERED, State.CONFIRMING, State.CONFIRMED,
                                    State.CONFIRM_FAILED, State.COMPLETED, State.REFUND_DUE,
                                    State.REFUNDED})
# (kind, state entered) -> cash goes in or out of the drawer in that step
CASH_MOVES: frozenset[tuple[Kind, State]] = frozenset({
    (Kind.VOUCHER_SALE, State.TENDERED), (Kind.MT_SEND, State.TENDERED),
    (Kind.MT_PAYOUT, State.TENDERED), (Kind.TOPUP, State.TENDER_TAKEN),
    (Kind.TOPUP, State.REFUNDED),
})


class Slips:
    """Builds a transaction's receipt and queues it (with the drawer kick) inside a step."""

    def __init__(self, cfg: AgentConfig, clock: Callable[[], float] = time.time) -> None:
        self.cfg = cfg
        self.clock = clock
        self.journal: Journal | None = None  # the journal whose hook this is (set by Agent)

    def _load(self, db: Db, txn_id: str) -> Txn:
        assert self.journal is not None, "Slips.journal is set by the composition root"
        return self.journal.load(db, txn_id)

    def _enqueue(self, db: Db, job: NewJob) -> None:
        vault = self.journal.keeper.vault if self.journal is not None else None
        enqueue(db, job, self.clock(), vault)  # a PIN receipt sealed with the till key

    # -- the journal's hook (rules 1, 2) --------------------------------------------------------

    def entered(self, db: Db, txn_id: str, kind: Kind, state: State) -> None:
        """Called by the journal inside the step that moved ``txn_id`` into ``state``."""
        if (kind, state) in CASH_MOVES and self.cfg.printer.open_drawer:
            self._kick(db, txn_id)
        if state in RECEIPT_ON:
            job = self.job_for(self._load(db, txn_id))
            if job is not None:
                self._enqueue(db, job)

    def _kick(self, db: Db, txn_id: str) -> None:
        p = self.cfg.printer
        reference = self._load(db, txn_id).reference
        self._enqueue(db, NewJob(txn_id, reference, DRAWER,
                                 drawer_kick(p.drawer_pin, p.drawer_pulse_ms),
                                 "cash drawer kick", p.columns))

    # -- receipts from the stored answer (rules 1, 3) -------------------------------------------

    def job_for(self, txn: Txn) -> NewJob | None:
        """The receipt of ``txn`` rendered for this till's paper, or None (nothing to print,
        or it could not be rendered: logged, never raised)."""
        try:
            receipt = self.receipt_for(txn)
            if receipt is None:
                return None
            p = self.cfg.printer
            data = render(receipt, p.columns, profile=p.profile or None)
            text = to_text(data, p.columns, profile=p.profile or None)
        except Exception as exc:  # rule 3: the money step goes on; a reprint renders again
            log.error("receipt of %s could not be rendered: %s", txn.reference,
                      type(exc).__name__, extra={"txn_id": txn.id})
            return None
        return NewJob(txn.id, txn.reference, txn.kind.value, data, text, p.columns,
                      receipt.contains_pin)

    async def render_missing(self, journal: Journal, reference: str) -> NewJob | None:
        """For a reprint: the receipt of a paid transaction that has no original job."""
        txn = await journal.find(reference)
        if txn is None or txn.state not in PAID:
            return None
        return self.job_for(txn)

    def receipt_for(self, txn: Txn) -> Receipt | None:
        slip = slip_for(txn)
        if slip is None:
            return None
        header = Header.from_config(self.cfg, cashier=txn.cashier,
                                    when=datetime.fromtimestamp(self.clock()),
                                    reference=txn.reference)
        return layout(header, slip)


def slip_for(txn: Txn) -> Any | None:
    """The receipt data of a transaction from its stored answer, or None when nothing prints.
    (The flows' helpers are imported here, not with the module: the UI's login screen comes
    before them.)"""
    from terminal_agent.core.flows.base import response_of

    response = response_of(txn)
    slip = SlipData.from_message(getattr(response, "slip_data", None))
    product = txn.product or KIND_LABELS[txn.kind]
    if txn.kind == Kind.TOPUP and txn.state in (State.REFUND_DUE, State.REFUNDED):
        # the customer's slip: why, in their words, for which phone and network (issue 16)
        return RefundDueSlip(what=f"{KIND_LABELS[txn.kind]}: {product}",
                             amount_minor=txn.amount, reason=refund_reason(txn.error_type),
                             slip=slip, msisdn=_masked_phone(txn),
                             network=txn.detail.get("network") or None)
    make = _SLIPS.get(txn.kind)
    return make(txn, response, slip, product) if make is not None else None


def _voucher_slip(txn: Txn, response: Any, slip: Any, product: str) -> Any | None:
    from terminal_agent.core.flows.airtime import voucher_details

    d = voucher_details(response)
    if not d.get("pin"):
        return None
    return VoucherSaleSlip(product=product, amount_minor=txn.amount, pin=str(d["pin"]),
                           serial=str(d.get("serial") or ""), expiry=_date(d.get("expiry")),
                           instructions=tuple(d.get("instructions") or ()), slip=slip)


def _topup_slip(txn: Txn, response: Any, slip: Any, product: str) -> Any | None:
    from terminal_agent.core.flows.airtime import provider_reference

    return TopupSlip(product=product, msisdn=_masked_phone(txn), amount_minor=txn.amount,
                     provider_reference=provider_reference(response) or None, slip=slip)


def _send_slip(txn: Txn, response: Any, slip: Any, product: str) -> Any | None:
    from terminal_agent.core.flows.money import order_details, party_names

    d = {**order_details(response), **party_names(txn)}
    if not d.get("order_redeem_ref"):
        return None
    return TransferSendSlip(order_ref=str(d["order_redeem_ref"]), amount_minor=txn.amount,
                            fee_minor=txn.fee, total_minor=txn.amount + txn.fee,
                            recipient_name=str(d.get("recipient_name") or ""),
                            order_ref_alt=d.get("order_redeem_ref_alt"),
                            sender_name=d.get("sender_name"),
                            provider=txn.detail.get("receiver_name"), slip=slip)


def _payout_slip(txn: Txn, response: Any, slip: Any, product: str) -> Any | None:
    amount = getattr(getattr(response, "amount", None), "amount", None) or txn.amount
    seen = txn.detail.get("recipient_id_last4")  # the ID the cashier saw: its last 4
    return PayoutSlip(order_ref="****" + str(txn.detail.get("order_ref_last4", "")),
                      amount_minor=int(amount), provider=txn.detail.get("receiver_name"),
                      slip=slip, recipient_name=txn.detail.get("recipient_name") or None,
                      recipient_id=f"*********{seen}" if seen else None,
                      sender_name=txn.detail.get("sender_name") or None)


def _redemption_slip(txn: Txn, response: Any, slip: Any, product: str) -> Any | None:
    from terminal_agent.core.flows.suv import balance_after

    return RedemptionSlip(voucher_code="****" + str(txn.detail.get("code_last4", "")),
                          amount_minor=txn.amount,
                          provider=txn.detail.get("provider") or txn.product,
                          balance_minor=balance_after(response), slip=slip)


_SLIPS: dict[Kind, Callable[[Txn, Any, Any, str], Any | None]] = {
    Kind.VOUCHER_SALE: _voucher_slip, Kind.TOPUP: _topup_slip, Kind.MT_SEND: _send_slip,
    Kind.MT_PAYOUT: _payout_slip, Kind.SUV_REDEEM: _redemption_slip,
}


def _masked_phone(txn: Txn) -> str:
    return "*******" + str(txn.detail.get("msisdn_last4", ""))


def _date(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
