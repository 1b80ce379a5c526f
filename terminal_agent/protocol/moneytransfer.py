"""Money Transfer Retailer Interface v2.22.0 models (base path ``/moneytransfer/v2``)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from terminal_agent.protocol import rules as r
from terminal_agent.protocol.common import (
    Amounts,
    BasicAdvice,
    BasicReversal,
    EncryptedPin,
    ExchangeRate,
    Institution,
    LedgerAmount,
    Model,
    Originator,
    Transaction,
    TransactionResponse,
)
from terminal_agent.protocol.rules import Rules


class IdType(StrEnum):
    NATIONAL_ID = "NATIONAL_ID"
    PASSPORT = "PASSPORT"
    DRIVERS_LICENCE = "DRIVERS_LICENCE"
    ASYLUM_DOCUMENT = "ASYLUM_DOCUMENT"
    UNKNOWN = "UNKNOWN"


class OrderStatus(StrEnum):
    UNREDEEMED = "UNREDEEMED"
    REDEEMED = "REDEEMED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    ON_HOLD = "ON_HOLD"
    UNCONFIRMED = "UNCONFIRMED"


OCCUPATIONS = frozenset("BUSINESSMAN PROFESSIONAL HOUSE_WIFE GENERAL_WORKER OTHER".split())
PURPOSES_OF_REMITTANCE = frozenset(
    "FAMILY_SUPPORT EDUCATION GIFT_AND_DONATION MEDICAL_TREATMENT MAINTENANCE_EXPENSES TRAVEL "
    "OTHER".split()
)
RELATIONSHIPS = frozenset(
    "PARENT CHILD SPOUSE IN_LAWS RELATIVE FRIEND_FAMILY EMPLOYEE_FAMILY FRIEND EMPLOYEE SUPPLIER "
    "SERVICE_PROVIDER DONOR_RECEIVER_OF_CHARITABLE_FUNDS TRADE_BUSINESS_PARTNER".split()
)
SOURCES_OF_INCOME = frozenset(
    "SALARIED PERSONAL_INCOME LOAN BUSINESS SAVINGS GIFT WINNINGS SALE_OF_ASSETS INVESTMENTS "
    "FAMILY_FINANCIAL_SUPPORT GOVERNMENT_FINANCIAL_SUPPORT OTHER".split()
)
ACCOUNT_TYPES = frozenset("ACCOUNT BANK IBAN IFSC SWIFT MOBILE_WALLET CASH_PICKUP".split())


class Address(Model, kw_only=True):
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    province: str | None = None
    country: str | None = None
    post_code: str | None = None
    RULES: ClassVar[Rules] = {"country": (r.country2,)}


class Account(Model, kw_only=True):
    """A payout account (polymorphic on ``type`` in Java; one flat struct here)."""

    account_id: str
    type: str = "ACCOUNT"
    routing_code: str | None = None
    region: str | None = None
    ifsc_code: str | None = None
    swift_code: str | None = None
    RULES: ClassVar[Rules] = {"type": (r.one_of(ACCOUNT_TYPES),)}


class PersonalDetails(Model, kw_only=True):
    """Sender, recipient or customer. Every field is personal data: mask it in logs."""

    first_name: str | None = None
    last_name: str | None = None
    address: Address | None = None
    id_number: str | None = None
    id_type: str | None = None
    id_country_code: str | None = None
    nationality: str | None = None
    country_of_birth: str | None = None
    date_of_birth: str | None = None
    contact_number: str | None = None
    alt_contact_work: str | None = None
    alt_contact_home: str | None = None
    email: str | None = None
    account_details: Account | None = None
    id_issued_date: str | None = None
    id_expiry_date: str | None = None
    cultural_name: str | None = None
    source_of_income: str | None = None
    occupation: str | None = None
    RULES: ClassVar[Rules] = {
        "idType": (r.one_of(IdType),),
        "idCountryCode": (r.country2,),
        "nationality": (r.country2,),
        "countryOfBirth": (r.country2,),
        "contactNumber": (r.msisdn,),
        "altContactWork": (r.msisdn,),
        "altContactHome": (r.msisdn,),
        "idIssuedDate": (r.date_time,),
        "idExpiryDate": (r.date_time,),
        "sourceOfIncome": (r.one_of(SOURCES_OF_INCOME),),
        "occupation": (r.one_of(OCCUPATIONS),),
    }

    def __repr__(self) -> str:
        return "PersonalDetails(****)"


# --- admin -----------------------------------------------------------------------------------


class MoneyTransferAdminMessage(Model, kw_only=True):
    """Create/update customer body and answer, and the customer-info answer (no ``id``)."""

    originator: Originator | None = None
    receiver: Institution | None = None
    customer_details: PersonalDetails | None = None
    customer_profile_id: str | None = None
    RULES: ClassVar[Rules] = {"originator": (r.required,), "receiver": (r.required,)}


class FeeQuote(Model, kw_only=True):
    fee_amount: LedgerAmount
    transfer_amount: LedgerAmount
    total_amount: LedgerAmount


class MoneyTransferFeeQuote(Model, kw_only=True):
    originator: Originator | None = None
    receiver: Institution | None = None
    settlement_entity: Institution | None = None
    fee_quote: FeeQuote | None = None
    sender_details: PersonalDetails | None = None
    recipient_details: PersonalDetails | None = None
    quote_id: str | None = None
    expiry_date_time: str | None = None
    RULES: ClassVar[Rules] = {
        "originator": (r.required,),
        "receiver": (r.required,),
        "expiryDateTime": (r.date_time,),
    }


class MoneyTransferQuoteRequest(Model, kw_only=True):
    """Body of ``POST /admin/fees``; note the body flag is ``amountIncludesFees`` (plural)."""

    originator: Originator
    receiver: Institution
    amount: LedgerAmount
    amount_includes_fees: bool
    settlement_entity: Institution | None = None
    sender_details: PersonalDetails | None = None
    recipient_details: PersonalDetails | None = None


class MoneyTransferExchangeRateResponse(Model, kw_only=True):
    """``GET /admin/exchangerate`` answer. The operation declares a bare ``ExchangeRate`` while
    the model ``{"exchangeRate": ...}`` also exists: this struct reads both shapes."""

    exchange_rate: ExchangeRate | None = None
    rate: Decimal | None = None
    from_currency: str | None = None
    to_currency: str | None = None

    def resolved(self) -> ExchangeRate | None:
        if self.exchange_rate is not None:
            return self.exchange_rate
        if self.rate is None or self.from_currency is None or self.to_currency is None:
            return None
        return ExchangeRate(
            rate=float(self.rate), from_currency=self.from_currency, to_currency=self.to_currency
        )


# --- send money ------------------------------------------------------------------------------


class MoneyTransferAuthRequest(Transaction, kw_only=True):
    """createOrder body. Fill ``amounts.requestAmount`` as well as ``amount``."""

    amount: LedgerAmount
    sender_details: PersonalDetails
    recipient_details: PersonalDetails | None = None
    pin: EncryptedPin | None = None
    customer_profile_id: str | None = None
    new_customer: bool | None = None
    fee: LedgerAmount | None = None
    quote_id: str | None = None
    purpose_of_remittance: str | None = None
    recipient_relationship: str | None = None
    amounts: Amounts | None = None
    RULES: ClassVar[Rules] = {
        "purposeOfRemittance": (r.one_of(PURPOSES_OF_REMITTANCE),),
        "recipientRelationship": (r.one_of(RELATIONSHIPS),),
    }


class MoneyTransferAuthResponse(TransactionResponse, kw_only=True):
    amount: LedgerAmount | None = None
    sender_details: PersonalDetails | None = None
    order_redeem_ref: str | None = None
    order_redeem_ref_alt: str | None = None
    order_id: str | None = None
    customer_profile_id: str | None = None
    amounts: Amounts | None = None
    RULES: ClassVar[Rules] = {"amount": (r.required,), "senderDetails": (r.required,)}


class MoneyTransferConfirmation(BasicAdvice, kw_only=True):
    pass


class MoneyTransferReversal(BasicReversal, kw_only=True):
    pass


class MoneyTransferCancelOrderReversal(BasicReversal, kw_only=True):
    pass


PaymentConfirmation = MoneyTransferConfirmation
PaymentReversal = MoneyTransferReversal


# --- pay out ---------------------------------------------------------------------------------


class MoneyTransferLookupResponse(Model, kw_only=True):
    amount: LedgerAmount | None = None
    status: str | None = None
    status_description: str | None = None
    originator: Originator | None = None
    receiver: Institution | None = None
    settlement_entity: Institution | None = None
    order_redeem_ref: str | None = None
    order_redeem_ref_alt: str | None = None
    order_id: str | None = None
    # Not in v2.22.0's lookup model: read when a provider adds them (as its order-status update
    # carries ``senderDetails``), so the cashier can check the names against the ID; never sent.
    sender_details: PersonalDetails | None = None
    recipient_details: PersonalDetails | None = None
    RULES: ClassVar[Rules] = {
        "amount": (r.required,),
        "receiver": (r.required,),
        "status": (r.one_of(OrderStatus),),
    }


class MoneyTransferRedeemRequest(Transaction, kw_only=True):
    order_redeem_ref: str
    amount: LedgerAmount | None = None
    pin: EncryptedPin | None = None
    recipient_details: PersonalDetails | None = None
    customer_profile_id: str | None = None
    cashier_comment: str | None = None
    amounts: Amounts | None = None
    RULES: ClassVar[Rules] = {"cashierComment": (r.max_len(256),)}


class MoneyTransferRedeemResponse(TransactionResponse, kw_only=True):
    """``amount`` is what the till hands over (MT §6.2); the classifier refuses an answer
    without it."""

    amount: LedgerAmount | None = None
    order_id: str | None = None
    customer_profile_id: str | None = None
    amounts: Amounts | None = None
    RULES: ClassVar[Rules] = {"amount": (r.required,), "orderId": (r.required,)}


# --- cancel ----------------------------------------------------------------------------------


class MoneyTransferOrderCancelRequest(Transaction, kw_only=True):
    order_redeem_ref: str
    order_redeem_ref_alt: str | None = None
    pin: EncryptedPin | None = None
    id_number: str | None = None


class MoneyTransferOrderCancelResponse(TransactionResponse, kw_only=True):
    amount: LedgerAmount | None = None
    order_redeem_ref: str | None = None
    order_redeem_ref_alt: str | None = None
    order_id: str | None = None
    RULES: ClassVar[Rules] = {
        "amount": (r.required,),
        "orderRedeemRef": (r.required,),
        "orderId": (r.required,),
    }
