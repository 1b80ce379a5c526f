"""Digital voucher redemption (suv v1): a customer's voucher used as tender for a sale.

lookup (re-sent until answered; the cashier may give up) → redeem → per provider:
- single messaging: the approval is final → ``COMPLETED`` at once (the held reversal is voided);
- dual messaging: ``APPROVED`` (held until the sale completes, reversed after the configured
  deadline otherwise) → ``complete`` queues the confirmation, ``cancel`` the reversal.
A decline needs nothing more; no definite answer (timeout, 500, 504...) → the held reversal is
released. The voucher code is a bearer secret: only its last 4 characters leave this module
(``detail``, results); the full code lives only in the request bytes of the journal.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from terminal_agent.core.entries import voucher_code
from terminal_agent.core.flows.base import Flow, FlowContext, FlowResult, SaleVerdict, response_of
from terminal_agent.core.flows.requests import RESEND_ATTEMPTS, RESEND_PAUSE, Answer, ask
from terminal_agent.core.journal import Kind, Txn
from terminal_agent.core.states import State
from terminal_agent.core.store import Db
from terminal_agent.errors import ValidationError
from terminal_agent.protocol import builders
from terminal_agent.protocol import suv as sv
from terminal_agent.protocol.common import Institution
from terminal_agent.protocol.operations import SPECS, Op
from terminal_agent.protocol.outcome import Outcome, Verdict, redeemed_amount
from terminal_agent.receipts.formatting import mask_code


def _code(text: str) -> str:
    """The code as printed or scanned, groups dropped (``core/entries.py``)."""
    return voucher_code(text)


class VoucherRedemptions(Flow):
    kind = Kind.SUV_REDEEM

    def __init__(self, ctx: FlowContext) -> None:
        super().__init__(ctx)
        self.resend_attempts = RESEND_ATTEMPTS
        self.resend_pause = RESEND_PAUSE

    def dual_messaging(self, provider: str | None) -> bool:
        cfg = self.ctx.config.suv
        chosen = cfg.providers.get(provider) if provider else None
        return chosen.dual_messaging if chosen is not None else cfg.default_dual_messaging

    async def lookup(self, code: str) -> Answer:
        """``GET /vouchers?voucherCode=``: validity and value. ``data``: ``code_masked``,
        ``balance`` (minor units, None if the issuer does not say), ``issuer``, ``expiry``."""
        clean = _code(code)
        answer = await ask(self.ctx.switch, Op.SUV_LOOKUP, query=builders.suv_lookup_query(clean),
                           attempts=self.resend_attempts, pause=self.resend_pause,
                           what="voucher look-ups")
        data: dict[str, Any] = {"code_masked": mask_code(clean)}
        found: sv.VoucherLookupResponse | None = answer.value if answer.ok else None
        if found is not None:
            amounts = found.amounts
            value = amounts.approved_amount if amounts else None
            data.update(balance=value.amount if value else None,
                        issuer=found.receiver.name if found.receiver else None,
                        issuer_id=found.receiver.id if found.receiver else None,
                        expiry=found.voucher.expiry_date,
                        product=found.product.name if found.product else None)
            answer = dataclasses.replace(answer, message="Voucher is valid. Enter the amount "
                                                         "to redeem.")
        return dataclasses.replace(answer, data=data)

    async def redeem(self, code: str, amount: int, cashier: str, provider: str | None = None,
                     *, receiver: Institution | None = None) -> FlowResult:
        """Redeem ``amount`` from the voucher. ``provider`` names a ``[suv.providers.<name>]``
        table (dual messaging or not); ``receiver`` is the issuer from the lookup, if known."""
        clean = _code(code)
        if type(amount) is not int or amount <= 0:
            raise ValidationError("amount", "must be a whole number of cents, more than zero")
        dual = self.dual_messaging(provider)
        request = builders.suv_redemption(self.ctx.identity, clean, amount,
                                          currency=self.ctx.config.terminal.currency,
                                          receiver=receiver)
        detail = {"code_masked": mask_code(clean), "code_last4": clean[-4:],
                  "provider": provider, "dual_messaging": dual}
        op = Op.SUV_REDEEM
        # A redemption approved for less than asked (``approvedAmount``) records the approved
        # amount; the cashier collects the rest another way (issue 10 item 3).
        txn, outcome = await self._dual_message(
            op, request, path=SPECS[op].render_path(), amount=amount, cashier=cashier,
            product=provider or (receiver.name if receiver else None), detail=detail,
            deadline=self.ctx.config.forwarder.approved_deadline_seconds,
            approved_amount=lambda message: redeemed_amount(message, amount))
        if outcome.verdict == Verdict.APPROVED and not dual:
            txn = await self._complete_single(txn, cashier)
        return self.describe_txn(txn, outcome)

    async def _complete_single(self, txn: Txn, cashier: str) -> Txn:
        """Single messaging: the approval is the final word; no advice will follow."""
        def complete(db: Db) -> Txn:
            self.outbox.void_held(db, txn.id)
            self.journal.transition(db, txn.id, State.COMPLETED, actor=cashier,
                                    note="single messaging: redemption complete")
            return self.journal.load(db, txn.id)

        return await self.store.step(complete)

    async def complete(self, txn_id: str, cashier: str) -> FlowResult:
        """The sale went through: queue the redemption confirmation (dual messaging)."""
        txn = await self.confirm(txn_id, cashier, note="sale complete: confirmation queued")
        return self.describe_txn(txn, None, approved_message="Voucher accepted as payment.")

    async def cancel(self, txn_id: str, cashier: str) -> FlowResult:
        """The sale was abandoned after approval: reversal ``CANCELLED``."""
        txn = await self.reverse(txn_id, cashier)
        return FlowResult(txn.id, txn.reference, txn.kind, txn.state, SaleVerdict.CANCELLED,
                          "Redemption cancelled and reversed. The voucher keeps its value.",
                          amount=txn.amount)

    async def describe(self, txn_id: str) -> FlowResult:
        return self.describe_txn(await self.journal.get(txn_id), None)

    def describe_txn(self, txn: Txn, outcome: Outcome | None, *,
                     approved_message: str | None = None) -> FlowResult:
        dual = bool(txn.detail.get("dual_messaging"))
        response = response_of(txn)
        data: dict[str, Any] = {
            "code_masked": txn.detail.get("code_masked", ""),
            "code_last4": txn.detail.get("code_last4", ""), "dual_messaging": dual,
            "provider": txn.detail.get("provider"),
            "amount_redeemed": txn.amount if response else 0,
            "balance_after": balance_after(response)}
        message = approved_message or (
            "Voucher accepted. Complete the sale to confirm it." if dual and
            txn.state == State.APPROVED else "Voucher accepted as payment.")
        note = self.amount_note(txn, "Collect the remaining {rest} another way.")
        if note:
            data["amount_note"] = note
            message = f"{message} {note}"
        return self.result(txn, outcome, data=data, approved_message=message)


def balance_after(response: Any) -> int | None:
    """What is left on the voucher after the redemption, if the issuer says."""
    amounts = getattr(response, "amounts", None)
    left = amounts.balance_amount if amounts else None
    return left.amount if left is not None else None


__all__ = ["VoucherRedemptions", "redeemed_amount"]
