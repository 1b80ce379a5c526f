"""Airtime: voucher sales (PIN on the slip) and direct top-up (straight to the phone).

Voucher sale (dual messaging): provision → APPROVED (PIN shown/printed only now) → tender →
confirmation; cancelled tender → reversal ``CANCELLED``; no definite answer → reversal.
Direct top-up (never reversed): the tender is recorded FIRST, with the status lookup held;
purchase → COMPLETED / REFUND_DUE / STATUS_PENDING (lookups with back-off until final).
"""

from __future__ import annotations

from typing import Any

from terminal_agent.core import audit
from terminal_agent.core.audit import AuditEntry
from terminal_agent.core.entries import normalise_msisdn
from terminal_agent.core.flows.base import Flow, FlowError, FlowResult, SaleVerdict, response_of
from terminal_agent.core.journal import Kind
from terminal_agent.core.outbox import AdviceKind
from terminal_agent.core.states import State
from terminal_agent.core.store import Db
from terminal_agent.errors import ValidationError
from terminal_agent.protocol import builders, codec
from terminal_agent.protocol.airtime import Product, PurchaseRequest, VoucherRequest
from terminal_agent.protocol.operations import SPECS, Op
from terminal_agent.protocol.outcome import Asked, Verdict


def _cash(amount: int, currency: str) -> list[Any]:
    return [builders.cash_tender(amount, currency)]


class VoucherSales(Flow):
    kind = Kind.VOUCHER_SALE

    def _route(self) -> Op:
        return Op.PURCHASE if self.ctx.config.airtime.voucher_route == "purchases" \
            else Op.VOUCHER_PROVISION

    async def sell(self, product: Product, amount: int, cashier: str) -> FlowResult:
        op = self._route()
        if amount <= 0:
            raise ValidationError("amount", "must be more than zero")
        currency = self.ctx.config.terminal.currency
        request: PurchaseRequest | VoucherRequest
        if op == Op.PURCHASE:
            request = builders.purchase_request(self.ctx.identity, product, amount, currency)
            path = SPECS[op].render_path()
        else:
            request = builders.voucher_request(self.ctx.identity, product, amount, currency)
            path = SPECS[op].render_path(requestId=request.id)
        txn, outcome = await self._dual_message(
            op, request, path=path, amount=amount, cashier=cashier,
            product=product.name or product.product_id,
            detail={"product_id": product.product_id},
            deadline=self.ctx.config.forwarder.approved_deadline_seconds)
        answer = outcome.message if outcome.verdict == Verdict.APPROVED else response_of(txn)
        return self.result(txn, outcome, data=voucher_details(answer),  # decoded once: classify's
                           approved_message="Approved. Collect payment, then print the voucher.")

    async def tender(self, txn_id: str, cashier: str) -> FlowResult:
        txn = await self._approved(txn_id)
        txn = await self.confirm(txn_id, cashier,
                                 tenders=_cash(txn.amount, txn.currency))
        return self.result(txn, None, data=voucher_details(response_of(txn)),
                           approved_message="Paid. Hand the voucher to the customer.")

    async def describe(self, txn_id: str) -> FlowResult:
        txn = await self.journal.get(txn_id)
        return self.result(txn, None, data=voucher_details(response_of(txn)),
                           approved_message="Paid. Hand the voucher to the customer.")

    async def cancel(self, txn_id: str, cashier: str) -> FlowResult:
        txn = await self.reverse(txn_id, cashier)
        return FlowResult(txn.id, txn.reference, txn.kind, txn.state, SaleVerdict.CANCELLED,
                          "Sale cancelled: the till reverses the voucher by itself. Do not "
                          "hand it over; give back any cash you took.", amount=txn.amount)


def voucher_details(response: Any) -> dict[str, Any]:
    """What the slip and the screen need from a voucher response (the PIN included)."""
    if response is None:
        return {}
    voucher = getattr(response, "voucher", None)
    slip = getattr(response, "slip_data", None)
    lines = [ln.text for ln in (slip.message_lines or [])] if slip and slip.message_lines else []
    data: dict[str, Any] = {"slip_lines": lines}
    if voucher is not None:
        data.update(pin=voucher.pin, serial=voucher.serial_number, expiry=voucher.expiry_date,
                    instructions=list(voucher.redeem_instructions or []))
    return data


class TopUps(Flow):
    kind = Kind.TOPUP

    async def trial(self, product: Product, msisdn: str, amount: int) -> FlowResult:
        """Will the purchase go through? 501/FUNCTION_NOT_SUPPORTED mean "go ahead"."""
        number = normalise_msisdn(msisdn)
        request = builders.purchase_request(self.ctx.identity, product, amount,
                                            self.ctx.config.terminal.currency, msisdn=number)
        outcome = (await self.ctx.switch.exchange(Op.PURCHASE_TRIAL, request,
                                                  asked=Asked(request_id=request.id))).outcome
        verdict = SaleVerdict.APPROVED if outcome.verdict == Verdict.APPROVED else (
            SaleVerdict.DECLINED if outcome.verdict == Verdict.DECLINED else SaleVerdict.UNKNOWN)
        from terminal_agent.core.messages import decline_sentence

        message = {
            SaleVerdict.APPROVED: "The top-up should go through. Collect payment.",
            SaleVerdict.DECLINED: decline_sentence(outcome.error_type),
            SaleVerdict.UNKNOWN: "The switch did not answer the check. You may still go ahead.",
        }
        return FlowResult(str(request.id), "", self.kind, State.PREPARED, verdict,
                          message[verdict], amount=amount, error_type=outcome.error_type)

    async def purchase(self, product: Product, msisdn: str, amount: int,
                       cashier: str) -> FlowResult:
        """Record the tender, then buy. Never reversed: unknown → status lookups."""
        number = normalise_msisdn(msisdn)
        if amount <= 0:
            raise ValidationError("amount", "must be more than zero")
        currency = self.ctx.config.terminal.currency
        request = builders.purchase_request(self.ctx.identity, product, amount, currency,
                                            msisdn=number, tenders=_cash(amount, currency))
        path = SPECS[Op.PURCHASE].render_path()
        txn_id, body = await self._prepare(
            Op.PURCHASE, request, path=path, amount=amount, cashier=cashier,
            product=product.name or product.product_id, state=State.TENDER_TAKEN,
            detail={"product_id": product.product_id, "msisdn_last4": number[-4:],
                    "network": getattr(product.operator, "name", None) or ""})
        # Direct top-up: UPSTREAM_UNAVAILABLE / OUTCOME_UNKNOWN mean unknown (seed 003), and no
        # voucher is expected in the answer.
        asked = Asked(request_id=txn_id, amount=amount, direct_topup=True)
        outcome, raw = await self._send(Op.PURCHASE, body, path, asked)
        first_lookup = self.ctx.config.forwarder.status_first_delay

        def answer(db: Db) -> None:
            if outcome.verdict == Verdict.APPROVED:
                self.outbox.void_held(db, txn_id)
                self.journal.transition(db, txn_id, State.COMPLETED, actor=cashier, response=raw,
                                        http_status=outcome.status, note="top-up approved")
            elif outcome.verdict == Verdict.DECLINED:
                self.outbox.void_held(db, txn_id)
                self.journal.transition(db, txn_id, State.REFUND_DUE, actor=cashier, response=raw,
                                        http_status=outcome.status,
                                        error_type=outcome.error_type,
                                        note=f"declined: {outcome.reason}")
            else:
                self.outbox.release(db, txn_id, AdviceKind.STATUS, delay=first_lookup)
                self.journal.transition(db, txn_id, State.STATUS_PENDING, actor=cashier,
                                        http_status=outcome.status,
                                        note=f"outcome unknown ({outcome.reason}): "
                                             "status lookups scheduled")

        await self._record(txn_id, answer, cashier)
        if outcome.verdict not in (Verdict.APPROVED, Verdict.DECLINED):
            self.ctx.nudge()
        return await self.describe(txn_id)

    async def describe(self, txn_id: str) -> FlowResult:
        txn = await self.journal.get(txn_id)
        response = response_of(txn)
        data: dict[str, Any] = {"msisdn_last4": txn.detail.get("msisdn_last4", "")}
        if response is not None:
            data["provider_reference"] = provider_reference(response)
            data["slip_lines"] = voucher_details(response).get("slip_lines", [])
        rows = await self.outbox.for_txn(txn_id)
        lookups = [r for r in rows if r.kind == AdviceKind.STATUS]
        if lookups:
            data["lookups"] = lookups[-1].attempts
            data["next_lookup_at"] = lookups[-1].next_attempt_at
        return self.result(txn, None, data=data,
                           approved_message="Top-up successful. The airtime is on the phone.")

    async def refunded(self, txn_id: str, supervisor: str) -> FlowResult:
        """The tender was given back; ``supervisor`` authorised it (an audit row of the step)."""
        txn = await self.journal.get(txn_id)
        if txn.state != State.REFUND_DUE:
            raise FlowError(f"transaction {txn.reference} is {txn.state}, no refund is due")

        def refund(db: Db) -> AuditEntry:
            self.journal.transition(db, txn_id, State.REFUNDED, actor=supervisor,
                                    note="tender refunded to the customer")
            return audit.append(db, self.journal.clock(), supervisor, "refund-given",
                                txn.reference, f"{txn.amount} {txn.currency} {txn.cashier}")

        (await self.store.step(refund)).publish()
        return await self.describe(txn_id)

    async def abandon(self, txn_id: str, supervisor: str, note: str = "") -> FlowResult:
        """A supervisor stops the status lookups (the outcome is settled outside the till)."""
        txn = await self.journal.get(txn_id)
        if txn.state != State.STATUS_PENDING:
            raise FlowError(f"transaction {txn.reference} is {txn.state}, not pending")
        def abandon(db: Db) -> AuditEntry:
            db.execute("UPDATE outbox SET state='void' WHERE txn_id=? AND state IN"
                       " ('pending','held')", (txn_id,))
            self.journal.transition(db, txn_id, State.ABANDONED, actor=supervisor,
                                    note=note or "status lookups abandoned by supervisor")
            return audit.append(db, self.journal.clock(), supervisor, "lookups-abandoned",
                                txn.reference, note or None)

        (await self.store.step(abandon)).publish()
        return await self.describe(txn_id)

    async def check_now(self, txn_id: str) -> None:
        for row in await self.outbox.for_txn(txn_id):
            if row.kind == AdviceKind.STATUS and row.state.value == "pending":
                await self.outbox.retry_now(row.id)
        self.ctx.nudge()


def provider_reference(response: Any) -> str:
    for tpi in getattr(response, "third_party_identifiers", None) or []:
        if tpi.transaction_identifier:
            return str(tpi.transaction_identifier)
    return ""


__all__ = ["TopUps", "VoucherSales", "codec", "normalise_msisdn",
           "voucher_details"]
