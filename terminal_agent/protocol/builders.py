"""Building requests and advices: pure functions of the terminal's identity and the sale.

Requests get a fresh UUID v4 ``id`` and an RFC 3339 ``time`` with milliseconds. Advices
(``confirmation_for``, ``reversal_for``) get their own fresh ``id``, carry the original's ``id``
as ``requestId`` and copy ``thirdPartyIdentifiers`` unchanged from the response (or from the
request when there was no response or it had none). GET operations get a query ``dict``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from terminal_agent.errors import ValidationError
from terminal_agent.protocol import airtime as at
from terminal_agent.protocol import codec, suv
from terminal_agent.protocol import common as cm
from terminal_agent.protocol import moneytransfer as mt
from terminal_agent.protocol.operations import SPECS, Op


def new_id() -> str:
    return str(uuid.uuid4())


def now_rfc3339() -> str:
    """UTC now as ``2024-05-01T10:02:03.123Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Terminal(Protocol):
    """The terminal's identity fields, as values (the core passes its ``[terminal]`` table):
    the protocol never reads the configuration itself. Read-only properties, so a frozen
    struct or a dataclass fits."""

    @property
    def terminal_id(self) -> str: ...
    @property
    def merchant_id(self) -> str: ...
    @property
    def merchant_type(self) -> str: ...
    @property
    def merchant_name(self) -> str: ...
    @property
    def city(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def institution_id(self) -> str: ...
    @property
    def institution_name(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def client_name(self) -> str: ...
    @property
    def operator_id(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def channel_name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the terminal is on the wire: the Originator and Client blocks of every request."""

    originator: cm.Originator
    client: cm.Institution
    currency: str = "710"
    channel_name: str = "POS"

    @classmethod
    def from_config(cls, t: Terminal) -> Identity:
        name = cm.MerchantName(name=t.merchant_name, city=t.city, region=t.region,
                               country=t.country)
        merchant = cm.Merchant(merchant_type=t.merchant_type, merchant_id=t.merchant_id,
                               merchant_name=name)
        originator = cm.Originator(
            institution=cm.Institution(id=t.institution_id, name=t.institution_name),
            terminal_id=t.terminal_id, merchant=merchant, operator_id=t.operator_id or None)
        client = cm.Institution(id=t.client_id, name=t.client_name)
        return cls(originator, client, t.currency, t.channel_name)

    @property
    def institution(self) -> cm.Institution:
        return self.originator.institution

    @property
    def merchant(self) -> cm.Merchant:
        return self.originator.merchant

    def envelope(self) -> dict[str, Any]:
        """The Transaction fields every request starts with."""
        return {"id": new_id(), "time": now_rfc3339(), "originator": self.originator,
                "client": self.client, "third_party_identifiers": []}


@dataclass(frozen=True, slots=True)
class Advice:
    """A confirmation or reversal ready for the outbox: ``path`` already has its ids filled in."""

    op: Op
    path: str
    message: cm.BasicAdvice


# --- money -----------------------------------------------------------------------------------


def ledger(amount: int, currency: str, indicator: str | None = None) -> cm.LedgerAmount:
    return cm.LedgerAmount(amount=amount, currency=currency, ledger_indicator=indicator)


def request_amounts(amount: int | None, currency: str) -> cm.Amounts | None:
    return None if amount is None else cm.Amounts(request_amount=ledger(amount, currency))


def cash_tender(amount: int, currency: str) -> cm.Tender:
    return cm.Tender(tender_type=cm.TenderType.CASH, amount=ledger(amount, currency))


# --- airtime ---------------------------------------------------------------------------------


def wire_product(product: at.Product | str) -> at.Product:
    """Only what identifies the product: a catalogue entry read leniently may carry fields that
    would not pass strict validation (e.g. an alphabetic currency in ``wholesalePrice``)."""
    if isinstance(product, str):
        return at.Product(product_id=product)
    kind = product.type if product.type in set(at.ProductType) else None
    return at.Product(product_id=product.product_id, barcode=product.barcode, type=kind,
                      is_direct_topup=product.is_direct_topup)


def voucher_request(identity: Identity, product: at.Product | str, amount: int | None = None,
                    currency: str | None = None, *,
                    tenders: list[cm.Tender] | None = None) -> at.VoucherRequest:
    """``POST /vouchers/{requestId}``: the path id is this message's ``id``."""
    return at.VoucherRequest(**identity.envelope(), product=wire_product(product),
                             amounts=request_amounts(amount, currency or identity.currency),
                             tenders=tenders)


def purchase_request(identity: Identity, product: at.Product | str, amount: int | None = None,
                     currency: str | None = None, *, msisdn: str | None = None,
                     sender_msisdn: str | None = None,
                     tenders: list[cm.Tender] | None = None) -> at.PurchaseRequest:
    """``POST /purchases`` (PIN products, or direct top-up of ``msisdn``)."""
    return at.PurchaseRequest(
        **identity.envelope(), product=wire_product(product),
        amounts=request_amounts(amount, currency or identity.currency), tenders=tenders,
        recipient_msisdn=at.Msisdn(msisdn=msisdn) if msisdn else None,
        sender_msisdn=at.Msisdn(msisdn=sender_msisdn) if sender_msisdn else None)


def trial_request(identity: Identity, product: at.Product | str, amount: int | None = None,
                  currency: str | None = None, *, msisdn: str | None = None) -> at.PurchaseRequest:
    """``POST /purchases/trials``: same model; the real purchase later gets a NEW id."""
    return purchase_request(identity, product, amount, currency, msisdn=msisdn)


def status_lookup_for(request_id: str) -> tuple[str, dict[str, str]]:
    """``GET /purchases/status?originalMsgId=<purchase id>`` as (path, query)."""
    return SPECS[Op.PURCHASE_STATUS].path, purchase_status_query(original_msg_id=request_id)


def purchase_status_query(*, original_msg_id: str | None = None,
                          purchase_reference: str | None = None,
                          provider: str | None = None) -> dict[str, str]:
    return _query(Op.PURCHASE_STATUS, originalMsgId=original_msg_id,
                  purchaseReference=purchase_reference, provider=provider)


def msisdn_query(msisdn: str, *, operator: str | None = None, product_type: str | None = None,
                 channel_name: str | None = None,
                 product_category: str | None = None) -> dict[str, str]:
    """``GET /msisdn`` (httpx URL-encodes a leading ``+`` as ``%2B``)."""
    return _query(Op.MSISDN_LOOKUP, msisdn=msisdn, operator=operator, productType=product_type,
                  channelName=channel_name, productCategory=product_category)


def products_query(channel_name: str) -> dict[str, str]:
    return _query(Op.LIST_PRODUCTS, channelName=channel_name)


# --- money transfer --------------------------------------------------------------------------


def customer_upsert(identity: Identity, receiver: cm.Institution, details: mt.PersonalDetails,
                    customer_profile_id: str | None = None) -> mt.MoneyTransferAdminMessage:
    """Create (no profile id) or update (with the provider's profile id) a customer."""
    return mt.MoneyTransferAdminMessage(originator=identity.originator, receiver=receiver,
                                        customer_details=details,
                                        customer_profile_id=customer_profile_id)


def customer_info_query(identity: Identity, receiver_id: str, id_number: str, *,
                        id_type: str | None = None,
                        id_country_code: str | None = None) -> dict[str, str]:
    return _query(Op.MT_CUSTOMER_INFO, idNumber=id_number, idType=id_type,
                  idCountryCode=id_country_code, merchantId=identity.merchant.merchant_id,
                  originatorInstId=identity.institution.id, receiverId=receiver_id)


def fee_quote_query(identity: Identity, receiver_id: str, amount: int, amount_includes_fee: bool,
                    *, sender_cell: str | None = None,
                    recipient_cell: str | None = None) -> dict[str, str]:
    """GET variant (leaks cell numbers into the URL: prefer ``fee_quote_request``)."""
    return _query(Op.MT_FEE_QUOTE, amount=str(amount),
                  amountIncludesFee="true" if amount_includes_fee else "false",
                  merchantId=identity.merchant.merchant_id,
                  originatorInstId=identity.institution.id, receiverId=receiver_id,
                  senderCell=sender_cell, recipientCell=recipient_cell)


def fee_quote_request(identity: Identity, receiver: cm.Institution, amount: int,
                      amount_includes_fees: bool, currency: str | None = None, *,
                      sender: mt.PersonalDetails | None = None,
                      recipient: mt.PersonalDetails | None = None) -> mt.MoneyTransferQuoteRequest:
    return mt.MoneyTransferQuoteRequest(
        originator=identity.originator, receiver=receiver,
        amount=ledger(amount, currency or identity.currency),
        amount_includes_fees=amount_includes_fees, sender_details=sender,
        recipient_details=recipient)


def exchange_rate_query(from_currency: str, to_currency: str, *,
                        receiver_id: str | None = None) -> dict[str, str]:
    return _query(Op.MT_EXCHANGE_RATE, fromCurrency=from_currency, toCurrency=to_currency,
                  receiverId=receiver_id)


def create_order(identity: Identity, receiver: cm.Institution, amount: int,
                 sender: mt.PersonalDetails, *, currency: str | None = None,
                 recipient: mt.PersonalDetails | None = None, fee: int | None = None,
                 pin: cm.EncryptedPin | None = None, new_customer: bool = False,
                 customer_profile_id: str | None = None, quote_id: str | None = None,
                 settlement_entity: cm.Institution | None = None,
                 ) -> mt.MoneyTransferAuthRequest:
    """createOrder: ``amount`` is the transfer amount; ``amounts.requestAmount`` mirrors it."""
    cur = currency or identity.currency
    return mt.MoneyTransferAuthRequest(
        **identity.envelope(), receiver=receiver, settlement_entity=settlement_entity,
        amount=ledger(amount, cur), amounts=request_amounts(amount, cur), sender_details=sender,
        recipient_details=recipient, fee=None if fee is None else ledger(fee, cur), pin=pin,
        new_customer=new_customer, customer_profile_id=customer_profile_id, quote_id=quote_id)


def pin_block_format0(pin: str, account_number: str) -> cm.EncryptedPin:
    """An ISO 9564-1 format 0 PIN block: the PIN field (``0``, its length, the digits, ``F``
    padding) XOR the account field (``0000`` and the 12-digit account number). It is the clear
    block: a till without a PIN pad cannot encrypt it under a key, so it relies on TLS to the
    switch, like every other field (the provider must accept that)."""
    if not (pin.isdigit() and 4 <= len(pin) <= 12):
        raise ValidationError("pin", "4 to 12 digits")
    if not (account_number.isdigit() and len(account_number) == 12):
        raise ValidationError("pin.encryptionParameters.accountNumber", "12 digits")
    pin_field = int(f"0{len(pin):X}{pin}".ljust(16, "F"), 16)
    block = pin_field ^ int(f"0000{account_number}", 16)
    return cm.EncryptedPin(pin_block=f"{block:016X}", encryption_parameters=cm.EncryptionParameters(
        account_number=account_number, pin_block_format=cm.PinBlockFormat.ISO_9564_FORMAT_0))


def order_lookup_query(identity: Identity, receiver_id: str, order_redeem_ref: str
                       ) -> dict[str, str]:
    return _query(Op.MT_ORDER_LOOKUP, orderRedeemRef=order_redeem_ref,
                  merchantId=identity.merchant.merchant_id,
                  originatorInstId=identity.institution.id, receiverId=receiver_id)


def redeem_order(identity: Identity, receiver: cm.Institution, order_redeem_ref: str,
                 amount: int, *, currency: str | None = None, pin: cm.EncryptedPin | None = None,
                 recipient: mt.PersonalDetails | None = None,
                 cashier_comment: str | None = None) -> mt.MoneyTransferRedeemRequest:
    """redeemOrder: ``amount`` must equal the looked-up order amount."""
    cur = currency or identity.currency
    return mt.MoneyTransferRedeemRequest(
        **identity.envelope(), receiver=receiver, order_redeem_ref=order_redeem_ref,
        amount=ledger(amount, cur), amounts=request_amounts(amount, cur), pin=pin,
        recipient_details=recipient, cashier_comment=cashier_comment)


def cancel_order(identity: Identity, receiver: cm.Institution, order_redeem_ref: str, *,
                 order_redeem_ref_alt: str | None = None, pin: cm.EncryptedPin | None = None,
                 id_number: str | None = None) -> mt.MoneyTransferOrderCancelRequest:
    return mt.MoneyTransferOrderCancelRequest(
        **identity.envelope(), receiver=receiver, order_redeem_ref=order_redeem_ref,
        order_redeem_ref_alt=order_redeem_ref_alt, pin=pin, id_number=id_number)


# --- digital vouchers (SUV) ------------------------------------------------------------------


def suv_lookup_query(voucher_code: str, *, receiver_inst_id: str | None = None) -> dict[str, str]:
    return _query(Op.SUV_LOOKUP, voucherCode=voucher_code, receiverInstId=receiver_inst_id)


def suv_redemption(identity: Identity, voucher_code: str, amount: int, *,
                   currency: str | None = None,
                   receiver: cm.Institution | None = None) -> suv.RedemptionRequest:
    """Redeem ``amount`` of the voucher as tender."""
    return suv.RedemptionRequest(
        **identity.envelope(), receiver=receiver, voucher=suv.Voucher(code=voucher_code),
        amounts=request_amounts(amount, currency or identity.currency))


def suv_provision(identity: Identity, product_id: str, amount: int | None = None, *,
                  tenders: list[cm.Tender] | None = None,
                  receiver: cm.Institution | None = None) -> suv.ProvisionRequest:
    """Ask the vendor for a voucher of ``product_id`` (``amount`` for a variable-value one)."""
    return suv.ProvisionRequest(
        **identity.envelope(), receiver=receiver, product=suv.Product(product_id=product_id),
        amounts=request_amounts(amount, identity.currency), tenders=tenders)


def suv_refund(identity: Identity, voucher_code: str, amount: int | None = None, *,
               redemption_id: str | None = None,
               receiver: cm.Institution | None = None) -> suv.RefundRequest:
    """Put ``amount`` (else all) of an earlier redemption back on the voucher."""
    return suv.RefundRequest(
        **identity.envelope(), receiver=receiver, voucher=suv.Voucher(code=voucher_code),
        amounts=request_amounts(amount, identity.currency), redemption_id=redemption_id)


# --- advices ---------------------------------------------------------------------------------

# original request op -> (confirmation op, reversal op)
ADVICE_OPS: dict[Op, tuple[Op | None, Op]] = {
    Op.VOUCHER_PROVISION: (Op.VOUCHER_CONFIRM, Op.VOUCHER_REVERSE),
    Op.PURCHASE: (Op.PURCHASE_CONFIRM, Op.PURCHASE_REVERSE),
    Op.MT_ORDER_CREATE: (Op.MT_ORDER_CONFIRM, Op.MT_ORDER_REVERSE),
    Op.MT_REDEEM: (Op.MT_REDEEM_CONFIRM, Op.MT_REDEEM_REVERSE),
    Op.MT_ORDER_CANCEL: (None, Op.MT_ORDER_CANCEL_REVERSE),
    Op.SUV_REDEEM: (Op.SUV_REDEEM_CONFIRM, Op.SUV_REDEEM_REVERSE),
    Op.SUV_PROVISION: (Op.SUV_PROVISION_CONFIRM, Op.SUV_PROVISION_REVERSE),
    Op.SUV_REFUND: (Op.SUV_REFUND_CONFIRM, Op.SUV_REFUND_REVERSE),
}


def reversal_for(op: Op, request: Any, response: Any = None, reason: str = "TIMEOUT") -> Advice:
    """The reversal of ``request`` (sent as ``op``): TIMEOUT (no answer), RESPONSE_NOT_FINAL
    (500/504) or CANCELLED (approved, then abandoned at the till)."""
    advice_op = _advice_ops(op)[1]
    model = _model(advice_op)
    message = model(**_advice_fields(request, response), reversal_reason=str(reason))
    return _advice(advice_op, request, message, "reversalId")


def confirmation_for(op: Op, request: Any, response: Any, tenders: list[cm.Tender] | None = None
                     ) -> Advice:
    """The confirmation of ``request``: tenders where the interface carries them, the voucher
    by serial number only (never its PIN)."""
    advice_op = _advice_ops(op)[0]
    if advice_op is None:
        raise ValueError(f"{op} has no confirmation")
    model = _model(advice_op)
    extra: dict[str, Any] = {}
    if issubclass(model, cm.TenderAdvice):
        extra["tenders"] = list(tenders or [])
    if model is at.VoucherConfirmation and getattr(response, "voucher", None) is not None:
        extra["voucher"] = at.Voucher(serial_number=response.voucher.serial_number,
                                      batch_number=response.voucher.batch_number)
    message = model(**_advice_fields(request, response), **extra)
    return _advice(advice_op, request, message, "confirmationId")


def _advice_ops(op: Op) -> tuple[Op | None, Op]:
    try:
        return ADVICE_OPS[op]
    except KeyError:
        raise ValueError(f"{op} takes no advices") from None


def _model(op: Op) -> Any:
    return SPECS[op].request


def _advice_fields(request: Any, response: Any) -> dict[str, Any]:
    tpis = getattr(response, "third_party_identifiers", None) or request.third_party_identifiers
    return {"id": new_id(), "request_id": request.id, "time": now_rfc3339(),
            "third_party_identifiers": list(tpis or [])}


def _advice(op: Op, request: Any, message: cm.BasicAdvice, id_param: str) -> Advice:
    spec = SPECS[op]
    params = {"requestId": request.id, id_param: message.id}
    return Advice(op, spec.render_path(**{k: params[k] for k in spec.path_params}), message)


def _query(op: Op, **params: str | None) -> dict[str, str]:
    query = {k: v for k, v in params.items() if v is not None}
    codec.validate_query(op, query)
    return query
