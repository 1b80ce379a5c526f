"""Airtime Service Interface v5.24.0 models (base path ``/airtime/v5``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from terminal_agent.protocol import rules as r
from terminal_agent.protocol.common import (
    Amounts,
    BasicAdvice,
    BasicReversal,
    Institution,
    LedgerAmount,
    Model,
    SlipData,
    Tender,
    TenderAdvice,
    Transaction,
    TransactionResponse,
)
from terminal_agent.protocol.rules import Rules

__all__ = [
    "AirtimeProductUnit", "BasicAdvice", "BasicReversal", "ChannelProductListing", "Description",
    "Msisdn", "MsisdnInfoResponse", "Product", "ProductContent", "ProductType", "Promotion",
    "PurchaseConfirmation", "PurchaseRequest", "PurchaseResponse", "PurchaseReversal",
    "ValidityPeriod", "Voucher", "VoucherConfirmation", "VoucherRequest", "VoucherResponse",
]


class ProductType(StrEnum):
    AIRTIME_FIXED = "AIRTIME_FIXED"
    AIRTIME_VARIABLE = "AIRTIME_VARIABLE"
    SMS_BUNDLE = "SMS_BUNDLE"
    DATA = "DATA"
    APP_RELATED = "APP_RELATED"
    COMBO = "COMBO"
    DATA_FIXED = "DATA_FIXED"
    DATA_VARIABLE = "DATA_VARIABLE"
    VOICE_BUNDLE = "VOICE_BUNDLE"


class AirtimeProductUnit(StrEnum):
    KB = "KB"
    MB = "MB"
    GB = "GB"
    UNIT = "Unit"
    MINUTES = "Minutes"


CHRONO_UNITS = frozenset(
    "NANOS MICROS MILLIS SECONDS MINUTES HOURS HALF_DAYS DAYS WEEKS MONTHS YEARS DECADES "
    "CENTURIES MILLENNIA ERAS FOREVER".split()
)


class Msisdn(Model, kw_only=True):
    msisdn: str
    country: str | None = None
    operator: Institution | None = None
    RULES: ClassVar[Rules] = {"msisdn": (r.msisdn,), "country": (r.country2,)}


class Voucher(Model, kw_only=True):
    """An airtime voucher. ``pin`` is cash-equivalent: never log it, never confirm with it."""

    serial_number: str
    pin: str | None = None
    expiry_date: str | None = None
    batch_number: str | None = None
    redeem_instructions: list[str] | None = None
    RULES: ClassVar[Rules] = {
        "serialNumber": (r.pattern(r"[0-9a-zA-Z]{1,20}", "1 to 20 letters or digits"),),
        "pin": (r.pattern(r"[0-9]{1,20}", "1 to 20 digits"),),
        "batchNumber": (r.pattern(r"[0-9a-zA-Z]{1,20}", "1 to 20 letters or digits"),),
        "expiryDate": (r.date_time,),
    }

    def __repr__(self) -> str:
        return f"Voucher(serial_number={self.serial_number!r}, pin=****)"


class Description(Model, kw_only=True):
    primary_description: str | None = None
    short_description: str | None = None
    additional_descriptions: dict[str, str] | None = None


class ValidityPeriod(Model, kw_only=True):
    duration: int
    duration_unit: str
    RULES: ClassVar[Rules] = {"duration": (r.non_negative,)}


class ProductContent(Model, kw_only=True):
    amount: int
    unit: str
    RULES: ClassVar[Rules] = {"amount": (r.non_negative,), "unit": (r.one_of(AirtimeProductUnit),)}


class ChannelProductListing(Model, kw_only=True):
    channel_name: str
    product_display_name: str | None = None
    product_display_category: str | None = None
    product_display_sort_order: float | None = None
    channel_product_identifier: str | None = None
    RULES: ClassVar[Rules] = {
        "channelName": (r.max_len(50),),
        "productDisplayName": (r.max_len(50),),
        "productDisplayCategory": (r.max_len(50),),
    }


class Product(Model, kw_only=True):
    product_id: str
    barcode: str | None = None
    name: str | None = None
    description: Description | None = None
    type: str | None = None
    is_direct_topup: bool | None = None
    wholesale_price: LedgerAmount | None = None
    recipient_amount: LedgerAmount | None = None
    product_values: list[LedgerAmount] | None = None
    validity_period: ValidityPeriod | None = None
    product_contents: list[ProductContent] | None = None
    operator: Institution | None = None
    channels: list[ChannelProductListing] | None = None
    RULES: ClassVar[Rules] = {
        "productId": (r.pattern(r"[0-9A-Za-z]{1,20}", "1 to 20 letters or digits"),),
        "barcode": (r.pattern(r"[0-9A-Za-z]{1,13}", "1 to 13 letters or digits"),),
        "name": (r.length(1, 120),),
        "type": (r.one_of(ProductType),),
    }


class Promotion(Model, kw_only=True):
    promotion: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    RULES: ClassVar[Rules] = {"startDate": (r.date_time,), "endDate": (r.date_time,)}


class PurchaseRequest(Transaction, kw_only=True):
    """Body of ``POST /purchases`` and ``POST /purchases/trials``."""

    product: Product
    amounts: Amounts | None = None
    tenders: list[Tender] | None = None
    payment_methods: list[dict[str, Any]] | None = None
    recipient_msisdn: Msisdn | None = None
    sender_msisdn: Msisdn | None = None


class PurchaseResponse(TransactionResponse, kw_only=True):
    product: Product | None = None
    amounts: Amounts | None = None
    msisdn: Msisdn | None = None
    voucher: Voucher | None = None
    RULES: ClassVar[Rules] = {"product": (r.required,)}


class PurchaseConfirmation(TenderAdvice, kw_only=True):
    pass


class PurchaseReversal(BasicReversal, kw_only=True):
    pass


class VoucherRequest(Transaction, kw_only=True):
    """Body of the deprecated ``POST /vouchers/{requestId}`` (path id == body ``id``)."""

    product: Product
    amounts: Amounts | None = None
    tenders: list[Tender] | None = None
    payment_methods: list[dict[str, Any]] | None = None


class VoucherResponse(TransactionResponse, kw_only=True):
    """A provision succeeds only when it carries the voucher (seed 000): ``voucher`` is read
    leniently and the classifier refuses an answer without ``voucher.pin``."""

    voucher: Voucher | None = None
    response_product: Product | None = None
    amounts: Amounts | None = None
    slip_data: SlipData | None = None
    RULES: ClassVar[Rules] = {"voucher": (r.required,), "voucher.pin": (r.required,)}


class VoucherConfirmation(TenderAdvice, kw_only=True):
    """Identifies the voucher by ``serialNumber`` only: never carries the PIN."""

    voucher: Voucher | None = None
    RULES: ClassVar[Rules] = {"voucher.pin": (r.Rule(lambda v: v is None, "must not be sent"),)}


class MsisdnInfoResponse(Model, kw_only=True):
    msisdn: Msisdn | None = None
    amounts: Amounts | None = None
    available_products: list[Product] | None = None
    promotion: Promotion | None = None
