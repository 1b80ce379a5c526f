"""Money transfer (moneytransfer v2): admin requests, send money (orders) and pay out (redemptions).

Send money: createOrder → APPROVED (held for the cash) → ``tender`` queues the confirmation; a
supervisor's ``cancel`` queues a ``CANCELLED`` reversal; no definite answer → the held reversal is
released and the cashier is offered a retry as a NEW order (new id, ``retry_of`` set): the
timed-out request is never sent again.
Pay out: lookupOrder (re-sent until answered) → redeemOrder → APPROVED (held for the payout, no
automatic deadline unless ``forwarder.auto_reverse_payouts``: cash may already have left the
drawer) → ``paid_out`` queues the confirmation, ``cancel`` a reversal; unknown → reversal, retry
as a new redemption.
Admin requests and lookups carry no money: they are re-sent until the switch answers (seeds
001/002); the cashier gives up with Esc (the call is cancelled). A 501 means "not offered by
this provider" and is remembered per receiver institution (table ``kv``) so the UI stops
offering it.

PIN blocks and ID numbers never go into ``detail`` (the journal's non-secret JSON) or a log line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import msgspec

from terminal_agent.core.entries import last4, order_reference
from terminal_agent.core.flows.base import (
    Flow,
    FlowContext,
    FlowError,
    FlowResult,
    SaleVerdict,
    response_of,
)
from terminal_agent.core.flows.requests import (
    RESEND_ATTEMPTS,
    RESEND_PAUSE,
    RESEND_PAUSE_MAX,
    Answer,
    ask,
    not_offered,
)
from terminal_agent.core.journal import Kind, Txn
from terminal_agent.core.states import State
from terminal_agent.errors import ValidationError
from terminal_agent.protocol import builders, codec
from terminal_agent.protocol import moneytransfer as mt
from terminal_agent.protocol.common import Amounts, EncryptedPin, Institution
from terminal_agent.protocol.operations import SPECS, Op
from terminal_agent.protocol.outcome import Outcome


@dataclass(frozen=True)
class Person:
    """A customer, sender or recipient in plain values, as typed at the till or told by the
    switch. ``id_number`` is personal data: shown and printed only as its last 4 characters."""

    first_name: str = ""
    last_name: str = ""
    id_number: str = ""
    phone: str = ""               # E.164 digits, e.g. 27821234567
    profile_id: str | None = None  # the provider's customer profile, once registered

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def details(self) -> mt.PersonalDetails:
        return mt.PersonalDetails(first_name=self.first_name or None,
                                  last_name=self.last_name or None,
                                  id_number=self.id_number or None,
                                  id_type=mt.IdType.NATIONAL_ID if self.id_number.isdigit()
                                  and len(self.id_number) == 13 else None,
                                  contact_number=self.phone or None)

    @classmethod
    def from_details(cls, details: mt.PersonalDetails | None,
                     profile_id: str | None = None) -> Person:
        d = details or mt.PersonalDetails()
        return cls(d.first_name or "", d.last_name or "", d.id_number or "",
                   d.contact_number or "", profile_id)


NOT_FOUND = frozenset({"UNABLE_TO_LOCATE_RECORD", "CUSTOMER_NOT_FOUND"})


def _check_amount(name: str, amount: int, *, zero_ok: bool = False) -> None:
    if type(amount) is not int or amount < 0 or (amount == 0 and not zero_ok):
        least = "zero or more" if zero_ok else "more than zero"
        raise ValidationError(name, f"must be a whole number of cents, {least}")


def _retry_offer(txn: Txn) -> dict[str, Any]:
    """What the UI needs to offer a timed-out transaction again as a new one, pre-filled."""
    return {"original_txn_id": txn.id, "original_reference": txn.reference,
            "kind": txn.kind.value, "amount": txn.amount, "fee": txn.fee,
            "receiver_name": txn.detail.get("receiver_name", "")}


# -- the flows ---------------------------------------------------------------------------------


class MoneyTransfer(Flow):
    """Send money (``Kind.MT_SEND``) and the admin requests; pay-outs are delegated to
    ``self.payouts`` (``Kind.MT_PAYOUT``) and mirrored here so the UI has one service."""

    kind = Kind.MT_SEND

    def __init__(self, ctx: FlowContext) -> None:
        super().__init__(ctx)
        self.payouts = Payouts(ctx)
        self.resend_attempts = RESEND_ATTEMPTS
        self.resend_pause = RESEND_PAUSE

    # -- admin ------------------------------------------------------------------------------

    async def _ask(self, op: Op, message: Any = None, *, query: dict[str, str] | None = None,
                   receiver_id: str, what: str, attempts: int | None = None) -> Answer:
        if not await self.offers(receiver_id, op):
            return not_offered(what)
        answer = await ask(self.ctx.switch, op, message, query=query,
                           attempts=attempts or self.resend_attempts, pause=self.resend_pause,
                           what=what)
        if answer.verdict == "not_offered":
            await self._remember_not_offered(receiver_id, op)
        return answer

    @staticmethod
    def _kv_key(receiver_id: str, op: Op) -> str:
        return f"mt.not_offered.{receiver_id}.{op.value}"

    async def offers(self, receiver_id: str, op: Op = Op.MT_FEE_QUOTE) -> bool:
        """False once the provider answered 501 to ``op`` (the UI hides the feature)."""
        row = await self.store.fetchone("SELECT value FROM kv WHERE key=?",
                                        (self._kv_key(receiver_id, op),))
        return row is None

    async def _remember_not_offered(self, receiver_id: str, op: Op) -> None:
        value = json.dumps({"status": 501, "at": self.journal.clock()})
        await self.store.step(lambda db: db.execute(
            "INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)",
            (self._kv_key(receiver_id, op), value)))

    async def forget_not_offered(self, receiver_id: str) -> None:
        """A supervisor's "ask again": the provider may offer the services now."""
        await self.store.step(lambda db: db.execute(
            "DELETE FROM kv WHERE key LIKE ?", (f"mt.not_offered.{receiver_id}.%",)))

    async def customer_info(self, receiver: Institution, id_number: str, *,
                            id_type: str | None = None, id_country_code: str | None = None,
                            attempts: int | None = None) -> Answer:
        """``GET /admin/customers``: the customer's profile (``value.customer_profile_id``)."""
        query = builders.customer_info_query(self.ctx.identity, receiver.id, id_number.strip(),
                                             id_type=id_type, id_country_code=id_country_code)
        answer = await self._ask(Op.MT_CUSTOMER_INFO, query=query, receiver_id=receiver.id,
                                 what="customer look-ups", attempts=attempts)
        if answer.verdict == "declined" and answer.error_type in NOT_FOUND:
            return dataclasses.replace(answer, data={"not_found": True}, message=(
                f"{receiver.name or 'The provider'} has no customer with this ID number: "
                "register the customer."))
        return _with_customer(answer, id_number.strip())

    async def register_customer(self, receiver: Institution, person: Person) -> Answer:
        """Create (or update, with ``person.profile_id``) the provider's customer record;
        ``data["customer"]`` is the ``Person`` with the profile the provider gave."""
        answer = await self.upsert_customer(receiver, person.details(),
                                            customer_profile_id=person.profile_id)
        if answer.ok:
            answer = dataclasses.replace(answer, message="Customer registered.")
        return _with_customer(answer, person.id_number, fallback=person)

    async def upsert_customer(self, receiver: Institution, customer: mt.PersonalDetails, *,
                              customer_profile_id: str | None = None) -> Answer:
        """``POST /admin/customers``. Admin messages carry no id, so after a lost answer to a
        create the customer is looked up before sending again (a blind re-send of a create is
        refused as a duplicate customer)."""
        message = builders.customer_upsert(self.ctx.identity, receiver, customer,
                                           customer_profile_id)
        what = "customer records"
        answer = not_offered(what)
        attempt = 0
        while self.resend_attempts is None or attempt < self.resend_attempts:
            attempt += 1
            if attempt > 1:
                await asyncio.sleep(min(RESEND_PAUSE_MAX, self.resend_pause * attempt))
                if customer.id_number and customer_profile_id is None:
                    found = await self.customer_info(receiver, customer.id_number,
                                                     id_type=customer.id_type, attempts=1)
                    if found.ok:
                        return dataclasses.replace(found, attempts=attempt)
            answer = await self._ask(Op.MT_CUSTOMER_UPSERT, message, receiver_id=receiver.id,
                                     what=what, attempts=1)
            if answer.verdict != "no_answer":
                break
        return dataclasses.replace(answer, attempts=attempt)

    async def fee_quote(self, receiver: Institution, amount: int, *,
                        amount_includes_fee: bool = False, sender_cell: str | None = None,
                        recipient_cell: str | None = None) -> Answer:
        """``GET /admin/fees``. ``data``: ``fee``, ``transfer``, ``total`` (minor units) and
        ``quote_id``. No ID number is sent: it would travel in the URL."""
        _check_amount("amount", amount)
        query = builders.fee_quote_query(self.ctx.identity, receiver.id, amount,
                                         amount_includes_fee, sender_cell=sender_cell,
                                         recipient_cell=recipient_cell)
        answer = await self._ask(Op.MT_FEE_QUOTE, query=query, receiver_id=receiver.id,
                                 what="fee quotes")
        quote = answer.value.fee_quote if answer.ok and answer.value is not None else None
        if quote is None:
            return answer
        data = {"fee": quote.fee_amount.amount, "transfer": quote.transfer_amount.amount,
                "total": quote.total_amount.amount, "quote_id": answer.value.quote_id,
                "expires": answer.value.expiry_date_time}
        return dataclasses.replace(answer, data=data)

    async def exchange_rate(self, to_currency: str, *, from_currency: str | None = None,
                            receiver: Institution | None = None) -> Answer:
        """``GET /admin/exchangerate``; ``data["rate"]`` (units of ``to`` per unit of ``from``)."""
        query = builders.exchange_rate_query(
            from_currency or self.ctx.config.terminal.currency, to_currency,
            receiver_id=receiver.id if receiver else None)
        answer = await self._ask(Op.MT_EXCHANGE_RATE, query=query,
                                 receiver_id=receiver.id if receiver else "*",
                                 what="exchange rates")
        rate = answer.value.resolved() if answer.ok and answer.value is not None else None
        if rate is None:
            return answer
        return dataclasses.replace(answer, data={"rate": rate.rate, "from": rate.from_currency,
                                                 "to": rate.to_currency})

    # -- send money -------------------------------------------------------------------------

    async def create_order(self, amount: int, fee: int, sender: mt.PersonalDetails,
                           recipient: mt.PersonalDetails | None, cashier: str, *,
                           receiver: Institution, settlement_entity: Institution | None = None,
                           pin: EncryptedPin | None = None,
                           customer_profile_id: str | None = None,
                           new_customer: bool | None = None, quote_id: str | None = None,
                           purpose: str | None = None, relationship: str | None = None,
                           retry_of: str | None = None) -> FlowResult:
        """createOrder: ``amount`` reaches the recipient, ``fee`` is on top (cash to take =
        amount + fee). APPROVED waits for ``tender`` or a supervisor's ``cancel``."""
        _check_amount("amount", amount)
        _check_amount("fee", fee, zero_ok=True)
        currency = self.ctx.config.terminal.currency
        request = builders.create_order(
            self.ctx.identity, receiver, amount, sender, currency=currency, recipient=recipient,
            fee=fee, pin=pin, customer_profile_id=customer_profile_id, quote_id=quote_id,
            new_customer=(customer_profile_id is None) if new_customer is None else new_customer,
            settlement_entity=settlement_entity)
        request = msgspec.structs.replace(
            request, purpose_of_remittance=purpose, recipient_relationship=relationship,
            amounts=Amounts(request_amount=builders.ledger(amount, currency),
                            fee_amount=builders.ledger(fee, currency)))
        return await self._send_order(request, cashier, retry_of=retry_of)

    async def send(self, amount: int, fee: int, sender: Person, recipient: Person,
                   cashier: str, *, receiver: Institution,
                   quote_id: str | None = None) -> FlowResult:
        """createOrder from plain values: a registered sender (``profile_id``) is named by
        profile, a new one is registered by the order (``newCustomer``)."""
        return await self.create_order(amount, fee, sender.details(), recipient.details(),
                                       cashier, receiver=receiver, quote_id=quote_id,
                                       customer_profile_id=sender.profile_id or None)

    async def _send_order(self, request: mt.MoneyTransferAuthRequest, cashier: str, *,
                          retry_of: str | None) -> FlowResult:
        op = Op.MT_ORDER_CREATE
        amount, fee = request.amount.amount, request.fee.amount if request.fee else 0
        receiver = request.receiver
        name = receiver.name if receiver else ""
        detail = {"receiver_id": receiver.id if receiver else "", "receiver_name": name,
                  "total": amount + fee}
        txn, outcome = await self._dual_message(
            op, request, path=SPECS[op].render_path(), amount=amount, fee=fee, cashier=cashier,
            product=name or None, detail=detail, retry_of=retry_of,
            deadline=self.ctx.config.forwarder.approved_deadline_seconds)
        return self.describe_order(txn, outcome)

    def describe_order(self, txn: Txn, outcome: Outcome | None = None, *,
                       approved_message: str = "Order approved. Take the cash (amount plus "
                                               "fee), then record it.") -> FlowResult:
        data = order_details(response_of(txn))
        data.update(total=txn.amount + txn.fee, receiver_name=txn.detail.get("receiver_name"),
                    retry_of=txn.retry_of, **party_names(txn))
        if _reversed_unanswered(txn):
            data["retry"] = _retry_offer(txn)
        return self.result(txn, outcome, data=data, approved_message=approved_message)

    async def tender(self, txn_id: str, cashier: str) -> FlowResult:
        """The sender's cash is in the drawer: queue the confirmation (the order becomes
        redeemable once it is delivered)."""
        txn = await self.confirm(txn_id, cashier, note="cash taken: confirmation queued")
        return self.describe_order(txn, approved_message="Cash recorded. Give the customer the "
                                                         "slip with the order reference.")

    async def retry_order(self, original_txn_id: str, cashier: str, *,
                          pin: EncryptedPin | None = None) -> FlowResult:
        """Offer a timed-out order again as a NEW order: same details, new id and time,
        ``retry_of`` pointing at the original. The original is never re-sent. A PIN block is
        never kept: if the first order carried one, ``pin`` is the customer's new entry."""
        original = await _check_retryable(self, await self.journal.get(original_txn_id))
        stored: mt.MoneyTransferAuthRequest = codec.decode(mt.MoneyTransferAuthRequest,
                                                           original.request)
        request = msgspec.structs.replace(stored, id=builders.new_id(),
                                          time=builders.now_rfc3339(),
                                          third_party_identifiers=[],
                                          pin=_pin_again(stored.pin, pin))
        return await self._send_order(request, cashier, retry_of=original.id)

    # -- pay out (delegated) ----------------------------------------------------------------

    async def lookup_order(self, order_redeem_ref: str, receiver: Institution) -> Answer:
        return await self.payouts.lookup_order(order_redeem_ref, receiver)

    async def redeem(self, order_redeem_ref: str, amount: int, cashier: str, *,
                     receiver: Institution, pin: EncryptedPin | None = None,
                     recipient: mt.PersonalDetails | None = None,
                     customer_profile_id: str | None = None,
                     cashier_comment: str | None = None) -> FlowResult:
        return await self.payouts.redeem(
            order_redeem_ref, amount, cashier, receiver=receiver, pin=pin, recipient=recipient,
            customer_profile_id=customer_profile_id, cashier_comment=cashier_comment)

    async def pay_out(self, order_ref: str, amount: int, cashier: str, *,
                      receiver: Institution, recipient: Person, pin: str = "",
                      sender_name: str = "") -> FlowResult:
        return await self.payouts.pay_out(order_ref, amount, cashier, receiver=receiver,
                                          recipient=recipient, pin=pin,
                                          sender_name=sender_name)

    async def paid_out(self, txn_id: str, cashier: str) -> FlowResult:
        return await self.payouts.paid_out(txn_id, cashier)

    async def retry_redeem(self, original_txn_id: str, cashier: str) -> FlowResult:
        return await self.payouts.retry_redeem(original_txn_id, cashier)

    # -- either kind -------------------------------------------------------------------------

    async def cancel(self, txn_id: str, supervisor: str) -> FlowResult:
        """A supervisor's explicit cancellation of an approved order or payout: reversal
        ``CANCELLED``. Refused once the cash was recorded (the confirmation is queued)."""
        if not supervisor.strip():
            raise ValidationError("supervisor", "a supervisor must authorise the cancellation")
        txn = await self.journal.get(txn_id)
        if txn.kind == Kind.MT_PAYOUT:
            return await self.payouts.cancel(txn_id, supervisor)
        txn = await self.reverse(txn_id, supervisor,
                                 note="cancelled by a supervisor: reversal queued")
        return FlowResult(txn.id, txn.reference, txn.kind, txn.state, SaleVerdict.CANCELLED,
                          "Order cancelled and reversed. Do not take the cash.",
                          amount=txn.amount, fee=txn.fee)

    async def describe(self, txn_id: str) -> FlowResult:
        txn = await self.journal.get(txn_id)
        if txn.kind == Kind.MT_PAYOUT:
            return self.payouts.describe_payout(txn)
        return self.describe_order(txn)


class Payouts(Flow):
    """Pay out an order to its recipient (``Kind.MT_PAYOUT``)."""

    kind = Kind.MT_PAYOUT

    def __init__(self, ctx: FlowContext) -> None:
        super().__init__(ctx)
        self.resend_attempts = RESEND_ATTEMPTS
        self.resend_pause = RESEND_PAUSE

    async def lookup_order(self, order_redeem_ref: str, receiver: Institution) -> Answer:
        """``GET /orders``: re-sent until answered. ``data["payable"]`` is True only
        for an ``UNREDEEMED`` order; ``data["amount"]`` is what to redeem."""
        query = builders.order_lookup_query(self.ctx.identity, receiver.id,
                                            order_reference(order_redeem_ref))
        answer = await ask(self.ctx.switch, Op.MT_ORDER_LOOKUP, query=query,
                           attempts=self.resend_attempts, pause=self.resend_pause,
                           what="order look-ups")
        found: mt.MoneyTransferLookupResponse | None = answer.value if answer.ok else None
        if found is None:
            return answer
        status = found.status or ""
        payable = status == mt.OrderStatus.UNREDEEMED
        sender = Person.from_details(found.sender_details).name
        recipient = Person.from_details(found.recipient_details).name
        data = {"status": status, "payable": payable,
                "amount": found.amount.amount if found.amount else 0,
                "currency": found.amount.currency if found.amount else "",
                "order_id": found.order_id, "receiver_name": receiver.name,
                "sender_name": sender, "recipient_name": recipient}
        check = (f"Check the ID is {recipient}'s" if recipient else
                 "The provider gives no names: ask who sent it and to whom, check the ID")
        message = (f"Order found. {check}, ask for the PIN, then pay out." if payable else
                   f"This order is {status.lower().replace('_', ' ') or 'not payable'}: "
                   "do not pay out.")
        return dataclasses.replace(answer, message=message, data=data)

    async def redeem(self, order_redeem_ref: str, amount: int, cashier: str, *,
                     receiver: Institution, pin: EncryptedPin | None = None,
                     recipient: mt.PersonalDetails | None = None,
                     customer_profile_id: str | None = None,
                     cashier_comment: str | None = None,
                     seen: dict[str, str] | None = None) -> FlowResult:
        """redeemOrder for ``amount`` (the looked-up order amount). APPROVED waits for
        ``paid_out`` or a supervisor's ``cancel`` with no deadline unless configured.
        ``seen``: what the cashier checked (names, the ID's last 4) for the slip."""
        _check_amount("amount", amount)
        ref = order_redeem_ref.strip()
        if not ref:
            raise ValidationError("orderRedeemRef", "enter the order reference")
        request = builders.redeem_order(
            self.ctx.identity, receiver, ref, amount,
            currency=self.ctx.config.terminal.currency, pin=pin, recipient=recipient,
            cashier_comment=cashier_comment)
        if customer_profile_id:
            request = msgspec.structs.replace(request, customer_profile_id=customer_profile_id)
        return await self._send_redeem(request, cashier, retry_of=None, seen=seen)

    async def pay_out(self, order_ref: str, amount: int, cashier: str, *,
                      receiver: Institution, recipient: Person, pin: str = "",
                      sender_name: str = "") -> FlowResult:
        """redeemOrder from plain values: the recipient as on the ID document the cashier saw
        (sent as ``recipientDetails``; the slip shows the name and the ID's last 4), and the
        PIN the recipient typed, if any (an ISO 9564 format 0 block, never stored or logged)."""
        block = (builders.pin_block_format0(pin, self.ctx.config.moneytransfer.pin_account_number)
                 if pin else None)
        if not (recipient.name and recipient.id_number):
            raise ValidationError("recipientDetails", "the recipient's name and ID number, as on "
                                                      "the ID document")
        return await self.redeem(order_reference(order_ref), amount, cashier, receiver=receiver,
                                 pin=block, recipient=recipient.details(),
                                 seen={"recipient_name": recipient.name,
                                       "recipient_id_last4": last4(recipient.id_number),
                                       "sender_name": sender_name})

    async def _send_redeem(self, request: mt.MoneyTransferRedeemRequest, cashier: str, *,
                           retry_of: str | None,
                           seen: dict[str, str] | None = None) -> FlowResult:
        op = Op.MT_REDEEM
        receiver = request.receiver
        detail = {"receiver_id": receiver.id if receiver else "",
                  "receiver_name": receiver.name if receiver else "",
                  "order_ref_last4": request.order_redeem_ref[-4:], **(seen or {})}
        fwd = self.ctx.config.forwarder
        amount = request.amount.amount if request.amount else 0
        # MT §6.2 "Hand over exactly the amount in the redeem response": that amount rules the
        # journal, the payout prompt, the slip and the shift report.
        txn, outcome = await self._dual_message(
            op, request, path=SPECS[op].render_path(), amount=amount, cashier=cashier,
            product=detail["receiver_name"] or None, detail=detail, retry_of=retry_of,
            deadline=fwd.approved_deadline_seconds if fwd.auto_reverse_payouts else None,
            approved_amount=_payout_amount)
        return self.describe_payout(txn, outcome)

    def describe_payout(self, txn: Txn, outcome: Outcome | None = None, *,
                        approved_message: str = "Approved. Pay out the amount shown, then "
                                                "record the payout.") -> FlowResult:
        response = response_of(txn)
        data: dict[str, Any] = {"order_ref_last4": txn.detail.get("order_ref_last4", ""),
                                "receiver_name": txn.detail.get("receiver_name"),
                                "recipient_name": txn.detail.get("recipient_name"),
                                "retry_of": txn.retry_of}
        if response is not None:
            data.update(payout_amount=txn.amount, order_id=response.order_id,
                        slip_lines=_slip_lines(response))
        note = self.amount_note(txn, "Pay out exactly {approved}.")
        if note:
            data["amount_note"] = note
            if txn.state == State.APPROVED:
                approved_message = note
        if _reversed_unanswered(txn):
            data["retry"] = _retry_offer(txn)
        return self.result(txn, outcome, data=data, approved_message=approved_message)

    async def paid_out(self, txn_id: str, cashier: str) -> FlowResult:
        """The cash went to the recipient: queue the redemption confirmation."""
        txn = await self.confirm(txn_id, cashier, note="cash paid out: confirmation queued")
        return self.describe_payout(txn, approved_message="Payout recorded.")

    async def cancel(self, txn_id: str, supervisor: str) -> FlowResult:
        txn = await self.reverse(txn_id, supervisor,
                                 note="payout cancelled by a supervisor: reversal queued")
        return FlowResult(txn.id, txn.reference, txn.kind, txn.state, SaleVerdict.CANCELLED,
                          "Payout cancelled and reversed. Do not hand over cash.",
                          amount=txn.amount)

    async def retry_redeem(self, original_txn_id: str, cashier: str, *,
                           pin: EncryptedPin | None = None) -> FlowResult:
        """A timed-out redemption again as a NEW redemption (new id, ``retry_of`` set); the
        customer enters the PIN again if the first one carried a PIN block (never kept)."""
        original = await _check_retryable(self, await self.journal.get(original_txn_id))
        stored: mt.MoneyTransferRedeemRequest = codec.decode(mt.MoneyTransferRedeemRequest,
                                                             original.request)
        request = msgspec.structs.replace(stored, id=builders.new_id(),
                                          time=builders.now_rfc3339(),
                                          third_party_identifiers=[],
                                          pin=_pin_again(stored.pin, pin))
        return await self._send_redeem(request, cashier, retry_of=original.id)


def _pin_again(stored: EncryptedPin | None, fresh: EncryptedPin | None) -> EncryptedPin | None:
    """The PIN block for a retry: the customer's new entry; the first one was never stored."""
    if fresh is not None:
        return fresh
    if stored is not None:
        raise ValidationError("pin", "the first attempt carried the customer's PIN, which the "
                                     "till never keeps: ask the customer to enter it again")
    return None


async def _check_retryable(flow: Flow, txn: Txn) -> Txn:
    """Only a transaction reversed for want of an answer may be retried, and only once."""
    if txn.kind != flow.kind:
        raise FlowError(f"transaction {txn.reference} is a {txn.kind}, not a {flow.kind}")
    if not _reversed_unanswered(txn):
        raise FlowError(f"transaction {txn.reference} is {txn.state}: only a transaction "
                        "reversed after no answer can be retried")
    row = await flow.store.fetchone(
        "SELECT reference FROM transactions WHERE retry_of=? LIMIT 1", (txn.id,))
    if row is not None:
        raise FlowError(f"transaction {txn.reference} was already retried as {row[0]}")
    return txn


def _reversed_unanswered(txn: Txn) -> bool:
    """Reversed because no definite answer came (a cancelled approval has its answer)."""
    return txn.state in (State.REVERSING, State.REVERSED) and txn.response is None


def _payout_amount(message: Any) -> int | None:
    amount = getattr(getattr(message, "amount", None), "amount", None)
    return amount if isinstance(amount, int) else None


def party_names(txn: Txn) -> dict[str, str | None]:
    """Sender's and recipient's names for the slip (from the request; nothing secret)."""
    try:
        request = codec.decode(mt.MoneyTransferAuthRequest, txn.request)
    except codec.DecodeError:
        return {}

    def name(person: mt.PersonalDetails | None) -> str | None:
        parts = [person.first_name, person.last_name] if person else []
        return " ".join(p for p in parts if p) or None

    return {"sender_name": name(request.sender_details),
            "recipient_name": name(request.recipient_details)}


def _with_customer(answer: Answer, id_number: str, *, fallback: Person | None = None) -> Answer:
    """``data["customer"]``: the customer the answer names (a ``Person``), when it names one."""
    value = answer.value if answer.ok else None
    if value is None:
        return answer
    person = Person.from_details(getattr(value, "customer_details", None),
                                 getattr(value, "customer_profile_id", None))
    if fallback is not None and not person.name:
        person = dataclasses.replace(fallback, profile_id=person.profile_id)
    person = dataclasses.replace(person, id_number=person.id_number or id_number)
    return dataclasses.replace(answer, data={**answer.data, "customer": person})


def _slip_lines(response: Any) -> list[str]:
    slip = getattr(response, "slip_data", None)
    return [ln.text for ln in slip.message_lines or []] if slip else []


def order_details(response: Any) -> dict[str, Any]:
    """What the slip and the screen need from a createOrder answer (the order reference is the
    recipient's bearer reference: printed on the sender's slip, never logged)."""
    if response is None:
        return {}
    return {"order_redeem_ref": response.order_redeem_ref,
            "order_redeem_ref_alt": response.order_redeem_ref_alt,
            "order_id": response.order_id, "customer_profile_id": response.customer_profile_id,
            "slip_lines": _slip_lines(response)}


__all__ = ["Answer", "MoneyTransfer", "Payouts", "Person", "ask", "order_details"]
