"""Models shared by every Electrum interface (service-interface-base 3.28.0).

Enum-valued fields are typed ``str`` so that a newer server's unknown values still decode; the
``RULES`` tables (checked by ``codec.validate``) hold the allowed values and every constraint.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

import msgspec

from terminal_agent.protocol import rules as r
from terminal_agent.protocol.rules import Rules


class Model(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    """Base of every wire model: camelCase keys, absent fields omitted, keyword-only."""

    RULES: ClassVar[Rules] = {}


# --- enums -----------------------------------------------------------------------------------


class ErrorType(StrEnum):
    """Every ``errorType`` of the airtime, money-transfer and SUV interfaces (decoded as str)."""

    # airtime v5.24 (base set shared with SUV and partly money transfer)
    DUPLICATE_RECORD = "DUPLICATE_RECORD"
    FORMAT_ERROR = "FORMAT_ERROR"
    FUNCTION_NOT_SUPPORTED = "FUNCTION_NOT_SUPPORTED"
    GENERAL_ERROR = "GENERAL_ERROR"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    ROUTING_ERROR = "ROUTING_ERROR"
    TRANSACTION_NOT_SUPPORTED = "TRANSACTION_NOT_SUPPORTED"
    UNABLE_TO_LOCATE_RECORD = "UNABLE_TO_LOCATE_RECORD"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    INVALID_PRODUCT = "INVALID_PRODUCT"
    ACCOUNT_ALREADY_SETTLED = "ACCOUNT_ALREADY_SETTLED"
    INVALID_MERCHANT = "INVALID_MERCHANT"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    INVALID_AN32_TOKEN = "INVALID_AN32_TOKEN"  # noqa: S105 (an error name, not a secret)
    DO_NOT_HONOR = "DO_NOT_HONOR"
    DECLINED_BY_MNO = "DECLINED_BY_MNO"
    INVALID_MSISDN = "INVALID_MSISDN"
    INVALID_LOYALTY_CARD = "INVALID_LOYALTY_CARD"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    INVALID_CARD_NUMBER = "INVALID_CARD_NUMBER"
    CARD_EXPIRED = "CARD_EXPIRED"
    INCORRECT_PIN = "INCORRECT_PIN"
    PIN_ATTEMPTS_EXCEEDED = "PIN_ATTEMPTS_EXCEEDED"
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
    SYSTEM_MALFUNCTION = "SYSTEM_MALFUNCTION"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    # money transfer v2.22
    TRANSACTION_NOT_ALLOWED_FOR_MERCHANT = "TRANSACTION_NOT_ALLOWED_FOR_MERCHANT"
    ALREADY_REDEEMED = "ALREADY_REDEEMED"
    PIN_RETRIES_EXCEEDED = "PIN_RETRIES_EXCEEDED"
    UNABLE_TO_REDEEM = "UNABLE_TO_REDEEM"
    INVALID_REDEEM_REF = "INVALID_REDEEM_REF"
    DAILY_LIMIT_EXCEEDED = "DAILY_LIMIT_EXCEEDED"
    MONTHLY_LIMIT_EXCEEDED = "MONTHLY_LIMIT_EXCEEDED"
    PROVIDER_SYSTEM_ERROR = "PROVIDER_SYSTEM_ERROR"
    CUSTOMER_CHECK_FAILED = "CUSTOMER_CHECK_FAILED"
    SYSTEM_ERROR = "SYSTEM_ERROR"
    TRANSACTION_DECLINED = "TRANSACTION_DECLINED"
    AUTHENTICATION_ERROR = "AUTHENTICATION_ERROR"
    TRANSACTION_LIMIT_EXCEEDED = "TRANSACTION_LIMIT_EXCEEDED"
    # SUV v1.14 (+ later additions)
    VOUCHER_ALREADY_REDEEMED = "VOUCHER_ALREADY_REDEEMED"
    VOUCHER_ALREADY_PROVISIONED = "VOUCHER_ALREADY_PROVISIONED"
    VOUCHER_ALREADY_CONFIRMED = "VOUCHER_ALREADY_CONFIRMED"
    VOUCHER_ALREADY_REVERSED = "VOUCHER_ALREADY_REVERSED"
    VOUCHER_ALREADY_REFUNDED = "VOUCHER_ALREADY_REFUNDED"
    VOUCHER_NOT_REFUNDED = "VOUCHER_NOT_REFUNDED"
    VOUCHER_NOT_REDEEMABLE = "VOUCHER_NOT_REDEEMABLE"
    VOUCHER_NOT_REDEEMED = "VOUCHER_NOT_REDEEMED"
    VOUCHER_STATUS_UNKNOWN = "VOUCHER_STATUS_UNKNOWN"
    REDEMPTION_ALREADY_CONFIRMED = "REDEMPTION_ALREADY_CONFIRMED"
    REDEMPTION_NOT_CONFIRMED = "REDEMPTION_NOT_CONFIRMED"
    REDEMPTION_ALREADY_REVERSED = "REDEMPTION_ALREADY_REVERSED"
    REFUND_ALREADY_CONFIRMED = "REFUND_ALREADY_CONFIRMED"
    REFUND_ALREADY_REVERSED = "REFUND_ALREADY_REVERSED"
    INVALID_VOUCHER = "INVALID_VOUCHER"
    INSUFFICIENT_AMOUNT = "INSUFFICIENT_AMOUNT"
    DO_NOT_HONOUR = "DO_NOT_HONOUR"
    INVALID_ACCOUNT = "INVALID_ACCOUNT"


_E = ErrorType
AIRTIME_ERROR_TYPES = frozenset(list(_E)[: list(_E).index(_E.LIMIT_EXCEEDED) + 1])
MONEYTRANSFER_ERROR_TYPES = frozenset({
    _E.TRANSACTION_NOT_ALLOWED_FOR_MERCHANT, _E.ALREADY_REDEEMED, _E.PIN_RETRIES_EXCEEDED,
    _E.INCORRECT_PIN, _E.UNABLE_TO_REDEEM, _E.INVALID_REDEEM_REF, _E.DAILY_LIMIT_EXCEEDED,
    _E.MONTHLY_LIMIT_EXCEEDED, _E.PROVIDER_SYSTEM_ERROR, _E.CUSTOMER_CHECK_FAILED,
    _E.DUPLICATE_RECORD, _E.FORMAT_ERROR, _E.SYSTEM_ERROR, _E.TRANSACTION_DECLINED,
    _E.INVALID_AMOUNT, _E.ROUTING_ERROR, _E.TRANSACTION_NOT_SUPPORTED,
    _E.UNABLE_TO_LOCATE_RECORD, _E.UPSTREAM_UNAVAILABLE, _E.AUTHENTICATION_ERROR,
    _E.INVALID_MERCHANT, _E.TRANSACTION_LIMIT_EXCEEDED,
})
SUV_ERROR_TYPES = frozenset({
    _E.DUPLICATE_RECORD, _E.FORMAT_ERROR, _E.FUNCTION_NOT_SUPPORTED, _E.GENERAL_ERROR,
    _E.INVALID_AMOUNT, _E.ROUTING_ERROR, _E.TRANSACTION_NOT_SUPPORTED,
    _E.UNABLE_TO_LOCATE_RECORD, _E.UPSTREAM_UNAVAILABLE, _E.VOUCHER_ALREADY_REDEEMED,
    _E.VOUCHER_ALREADY_PROVISIONED, _E.VOUCHER_ALREADY_CONFIRMED, _E.VOUCHER_ALREADY_REVERSED,
    _E.VOUCHER_ALREADY_REFUNDED, _E.VOUCHER_NOT_REFUNDED, _E.VOUCHER_NOT_REDEEMABLE,
    _E.VOUCHER_NOT_REDEEMED, _E.VOUCHER_STATUS_UNKNOWN, _E.REDEMPTION_ALREADY_CONFIRMED,
    _E.REDEMPTION_NOT_CONFIRMED, _E.REDEMPTION_ALREADY_REVERSED, _E.REFUND_ALREADY_CONFIRMED,
    _E.REFUND_ALREADY_REVERSED, _E.INVALID_MERCHANT, _E.INVALID_VOUCHER,
    _E.AUTHENTICATION_ERROR, _E.INSUFFICIENT_AMOUNT, _E.DO_NOT_HONOUR,
    # v1.18 / v1.22 additions and the docs' spelling
    _E.INSUFFICIENT_FUNDS, _E.INVALID_ACCOUNT, _E.TRANSACTION_DECLINED, _E.LIMIT_EXCEEDED,
    _E.DO_NOT_HONOR,
})


class RequestType(StrEnum):
    VOUCHER_REQUEST = "VOUCHER_REQUEST"
    VOUCHER_REVERSAL = "VOUCHER_REVERSAL"
    VOUCHER_CONFIRMATION = "VOUCHER_CONFIRMATION"
    VOUCHER_VOID = "VOUCHER_VOID"
    MSISDN_INFO_REQUEST = "MSISDN_INFO_REQUEST"
    PURCHASE_REQUEST = "PURCHASE_REQUEST"
    PURCHASE_CONFIRMATION = "PURCHASE_CONFIRMATION"
    PURCHASE_STATUS_REQUEST = "PURCHASE_STATUS_REQUEST"
    PURCHASE_REVERSAL = "PURCHASE_REVERSAL"
    TRIAL_PURCHASE_REQUEST = "TRIAL_PURCHASE_REQUEST"
    LIST_PRODUCTS_REQUEST = "LIST_PRODUCTS_REQUEST"


class ReversalReason(StrEnum):
    TIMEOUT = "TIMEOUT"
    CANCELLED = "CANCELLED"
    RESPONSE_NOT_FINAL = "RESPONSE_NOT_FINAL"


class TenderType(StrEnum):
    CASH = "CASH"
    CHEQUE = "CHEQUE"
    CREDIT_CARD = "CREDIT_CARD"
    DEBIT_CARD = "DEBIT_CARD"
    WALLET = "WALLET"
    ROUNDING = "ROUNDING"
    GIFT_CARD = "GIFT_CARD"
    LOYALTY_CARD = "LOYALTY_CARD"
    OTHER = "OTHER"


class TenderAccountType(StrEnum):
    DEFAULT = "DEFAULT"
    SAVINGS = "SAVINGS"
    CHEQUE = "CHEQUE"
    CREDIT = "CREDIT"
    UNIVERSAL = "UNIVERSAL"
    ELECTRONIC_PURSE = "ELECTRONIC_PURSE"
    STORED_VALUE = "STORED_VALUE"


class AccountType(StrEnum):
    DEFAULT = "DEFAULT"
    SAVINGS = "SAVINGS"
    CHEQUE = "CHEQUE"
    CREDIT = "CREDIT"
    UNIVERSAL = "UNIVERSAL"
    ELECTRONIC_PURSE = "ELECTRONIC_PURSE"
    GIFT_CARD = "GIFT_CARD"
    STORED_VALUE = "STORED_VALUE"


_TRAN_TYPES = (
    "GOODS_AND_SERVICES CASH_WITHDRAWAL DEBIT_ADJUSTMENT GOODS_AND_SERVICES_WITH_CASH_BACK "
    "NON_CASH RETURNS DEPOSIT CREDIT_ADJUSTMENT GENERAL_CREDIT AVAILABLE_FUNDS_INQUIRY "
    "BALANCE_INQUIRY GENERAL_INQUIRY CARD_VERIFICATION_INQUIRY CARDHOLDER_ACCOUNTS_TRANSFER "
    "GENERAL_TRANSFER PAYMENT_FROM_ACCOUNT GENERAL_PAYMENT PAYMENT_TO_ACCOUNT "
    "PAYMENT_FROM_ACCOUNT_TO_ACCOUNT PLACE_HOLD_ON_CARD GENERAL_ADMIN CHANGE_PIN "
    "CARD_HOLDER_INQUIRY POINTS_INQUIRY"
)
TranType = StrEnum("TranType", [(n, n) for n in _TRAN_TYPES.split()], module=__name__)  # type: ignore[misc]


class LedgerIndicator(StrEnum):
    DEBIT = "DEBIT"
    CREDIT = "CREDIT"


class PinBlockFormat(StrEnum):
    ISO_9564_FORMAT_0 = "ISO_9564_FORMAT_0"
    ISO_9564_FORMAT_1 = "ISO_9564_FORMAT_1"
    ISO_9564_FORMAT_3 = "ISO_9564_FORMAT_3"


class PinType(StrEnum):
    CLEAR_PIN = "CLEAR_PIN"
    ENCRYPTED_PIN = "ENCRYPTED_PIN"
    HASHED_PIN = "HASHED_PIN"


PAN_ENTRY_MODES = frozenset(
    "UNKNOWN MANUAL MAGSTRIPE_NO_CVV BARCODE OCR ICC_CVV CONTACTLESS_ICC MAGSTRIPE_CVV "
    "CONTACTLESS_MAGSTRIPE ICC_NO_CVV ORIG_MODE FALLBACK".split()
)
PIN_ENTRY_CAPABILITIES = frozenset({"UNKNOWN", "CAN_ACCEPT", "CANNOT_ACCEPT"})
POS_CONDITION_CODES = frozenset(
    "NORMAL_PRESENTMENT CUSTOMER_NOT_PRESENT CUSTOMER_PRESENT_AND_CARD_NOT_PRESENT "
    "CUSTOMER_IDENTITY_VERIFIED PUBLIC_UTILITY_TERMINAL CUSTOMER_TERMINAL MANUAL_REVERSAL "
    "UNATTENDED_TERMINAL_AND_CARD_CAN_BE_RETAINED UNATTENDED_TERMINAL_AND_CARD_CANNOT_BE_RETAINED"
    .split()
)


# --- identity blocks -------------------------------------------------------------------------


class Institution(Model, kw_only=True):
    id: str
    name: str
    RULES: ClassVar[Rules] = {"name": (r.max_len(40),)}


class MerchantName(Model, kw_only=True):
    name: str
    city: str
    region: str
    country: str
    RULES: ClassVar[Rules] = {
        "name": (r.max_len(23),),
        "city": (r.max_len(13),),
        "region": (r.max_len(2),),
        "country": (r.max_len(2),),
    }


class Merchant(Model, kw_only=True):
    merchant_type: str
    merchant_id: str
    merchant_name: MerchantName
    RULES: ClassVar[Rules] = {
        "merchantType": (r.pattern(r"[0-9]{4}", "4 digits"),),
        "merchantId": (r.length(15, 15),),
    }


class Originator(Model, kw_only=True):
    institution: Institution
    terminal_id: str
    merchant: Merchant
    operator_id: str | None = None
    channel_id: str | None = None
    RULES: ClassVar[Rules] = {
        "terminalId": (r.length(8, 8),),
        "operatorId": (r.max_len(30),),
        "channelId": (r.max_len(50),),
    }


class ThirdPartyIdentifier(Model, kw_only=True):
    institution_id: str
    transaction_identifier: str | None = None
    RULES: ClassVar[Rules] = {"transactionIdentifier": (r.required,)}


# --- money -----------------------------------------------------------------------------------


class LedgerAmount(Model, kw_only=True):
    amount: int
    currency: str
    ledger_indicator: str | None = None
    RULES: ClassVar[Rules] = {
        "amount": (r.minor_units,),
        "currency": (r.currency,),
        "ledgerIndicator": (r.one_of(LedgerIndicator),),
    }


class Amounts(Model, kw_only=True):
    request_amount: LedgerAmount | None = None
    approved_amount: LedgerAmount | None = None
    fee_amount: LedgerAmount | None = None
    balance_amount: LedgerAmount | None = None
    additional_amounts: dict[str, LedgerAmount] | None = None


class Tender(Model, kw_only=True):
    tender_type: str
    amount: LedgerAmount
    account_type: str | None = None
    card_number: str | None = None
    reference: str | None = None
    RULES: ClassVar[Rules] = {
        "tenderType": (r.one_of(TenderType),),
        "accountType": (r.one_of(TenderAccountType),),
        "cardNumber": (r.pattern(r"[0-9]{6}[0-9*]{0,13}", "a masked card number"),),
        "reference": (r.max_len(40),),
    }


class ExchangeRate(Model, kw_only=True):
    rate: float
    from_currency: str
    to_currency: str
    RULES: ClassVar[Rules] = {"fromCurrency": (r.currency,), "toCurrency": (r.currency,)}


# --- slips -----------------------------------------------------------------------------------


class Barcode(Model, kw_only=True):
    data: str
    encoding: str | None = None
    RULES: ClassVar[Rules] = {"encoding": (r.required,)}


class SlipLine(Model, kw_only=True):
    text: str
    barcode: Barcode | None = None
    font_width_scale_factor: float | None = None
    font_height_scale_factor: float | None = None
    line: bool | None = None
    cut: bool | None = None


class SlipData(Model, kw_only=True):
    message_lines: list[SlipLine] | None = None
    slip_width: int | None = None
    issuer_reference: str | None = None
    RULES: ClassVar[Rules] = {
        "issuerReference": (r.pattern(r"[A-Z0-9]{1,40}", "1 to 40 of A-Z, 0-9"),),
    }


# --- PINs and POS data -----------------------------------------------------------------------


class EncryptionParameters(Model, kw_only=True):
    account_number: str
    pin_block_format: str | None = None
    key_index: int | None = None
    RULES: ClassVar[Rules] = {
        "accountNumber": (r.pattern(r"[0-9]{12}", "12 digits"),),
        "pinBlockFormat": (r.one_of(PinBlockFormat),),
    }


class EncryptedPin(Model, kw_only=True):
    """A PIN block (money transfer ``pin`` fields). Never log or persist it."""

    pin_block: str
    encryption_parameters: EncryptionParameters | None = None
    RULES: ClassVar[Rules] = {"pinBlock": (r.pattern(r"[a-fA-F0-9]{16}", "16 hex digits"),)}

    def __repr__(self) -> str:
        return "EncryptedPin(****)"


class PosEntryMode(Model, kw_only=True):
    pan_entry_mode: str
    pin_entry_capability: str
    RULES: ClassVar[Rules] = {
        "panEntryMode": (r.one_of(PAN_ENTRY_MODES),),
        "pinEntryCapability": (r.one_of(PIN_ENTRY_CAPABILITIES),),
    }


class PosInfo(Model, kw_only=True):
    entry_mode: PosEntryMode | None = None
    pos_condition_code: str | None = None
    RULES: ClassVar[Rules] = {"posConditionCode": (r.one_of(POS_CONDITION_CODES),)}


# --- transactions and advices ----------------------------------------------------------------


class Transaction(Model, kw_only=True):
    """Base of every request and response that carries an ``id``."""

    id: str
    time: str
    originator: Originator
    client: Institution
    third_party_identifiers: list[ThirdPartyIdentifier]
    settlement_entity: Institution | None = None
    receiver: Institution | None = None
    slip_data: SlipData | None = None
    basket_ref: str | None = None
    tran_type: str | None = None
    src_acc_type: str | None = None
    dest_acc_type: str | None = None
    stan: str | None = None
    rrn: str | None = None
    RULES: ClassVar[Rules] = {
        "id": (r.uuid4,),
        "time": (r.time_ms,),
        "tranType": (r.one_of(TranType),),
        "srcAccType": (r.one_of(AccountType),),
        "destAccType": (r.one_of(AccountType),),
    }


class TransactionResponse(Transaction, kw_only=True):
    """Base of every answer to a request. Read leniently (docs/DESIGN.md §5a): a switch may leave out
    fields the agent does not decide on (Electrum's own test server answers a voucher provision
    without ``client``, airtime §7), so nothing of the envelope is required when *reading*; the
    classifier decides on the status, the ``id`` and the value (``outcome.classify``). Writing
    one (the simulator) stays strict: the RULES require what the interface requires."""

    id: str | None = None  # type: ignore[assignment]
    time: str | None = None  # type: ignore[assignment]
    originator: Originator | None = None  # type: ignore[assignment]
    client: Institution | None = None  # type: ignore[assignment]
    third_party_identifiers: list[ThirdPartyIdentifier] | None = None  # type: ignore[assignment]
    RULES: ClassVar[Rules] = {
        "id": (r.required, r.uuid4),
        "time": (r.required, r.time_ms),
        "originator": (r.required,),
        "client": (r.required,),
        "thirdPartyIdentifiers": (r.required,),
    }


class BasicAdvice(Model, kw_only=True):
    """Base of confirmations and reversals: ``id`` is new, ``requestId`` is the original's."""

    id: str
    request_id: str
    time: str
    third_party_identifiers: list[ThirdPartyIdentifier]
    stan: str | None = None
    rrn: str | None = None
    amounts: Amounts | None = None
    RULES: ClassVar[Rules] = {"id": (r.uuid4,), "requestId": (r.uuid4,), "time": (r.time_ms,)}


class BasicReversal(BasicAdvice, kw_only=True):
    reversal_reason: str
    RULES: ClassVar[Rules] = {"reversalReason": (r.one_of(ReversalReason),)}


class TenderAdvice(BasicAdvice, kw_only=True):
    tenders: list[Tender] | None = None


class BasicAdviceResponse(Model, kw_only=True):
    """What servers answer to an advice (echo or ``BasicAdviceResponse``): read leniently."""

    id: str | None = None
    request_id: str | None = None
    time: str | None = None
    third_party_identifiers: list[ThirdPartyIdentifier] | None = None
    stan: str | None = None
    rrn: str | None = None
    amounts: Amounts | None = None


class ErrorDetail(Model, kw_only=True):
    """An error body of any interface. Everything optional so real servers' bodies still decode:
    ``id`` can exceed its declared 20 characters, ``requestType`` can be missing, and
    ``detailMessage`` can be a string, an object or an array."""

    id: str | None = None
    original_id: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    request_type: str | None = None
    detail_message: Any = None
    provider_error_code: str | None = None
    provider_error_msg: str | None = None
    provider_error_message: str | None = None
    provider_ref: str | None = None
    RULES: ClassVar[Rules] = {
        "errorType": (r.required, r.one_of(ErrorType)),
        "errorMessage": (r.required,),
        "requestType": (r.one_of(RequestType),),
    }

    @property
    def known_type(self) -> ErrorType | None:
        """The ``errorType`` as an ``ErrorType``, or None for a value this agent does not know."""
        try:
            return ErrorType(self.error_type) if self.error_type else None
        except ValueError:
            return None
