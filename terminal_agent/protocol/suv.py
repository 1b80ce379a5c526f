"""Single Use Voucher (SUV) interface v1.14.0 models (base path ``/suv/v1``).

Provision, redemption and refund; a provision is confirmed with a ``TenderAdvice``, redemptions
and refunds with a ``BasicAdvice``; every reversal is a ``BasicReversal`` (from ``common``).
"""

from __future__ import annotations

from typing import ClassVar

from terminal_agent.protocol import rules as r
from terminal_agent.protocol.common import (
    Amounts,
    BasicAdvice,
    BasicReversal,
    Institution,
    Model,
    PinType,
    PosInfo,
    Tender,
    TenderAdvice,
    ThirdPartyIdentifier,
    Transaction,
    TransactionResponse,
)
from terminal_agent.protocol.rules import Rules

__all__ = [
    "BasicAdvice", "BasicReversal", "Pin", "Product", "ProvisionRequest", "ProvisionResponse",
    "RedemptionRequest", "RedemptionResponse", "RefundRequest", "RefundResponse", "TenderAdvice",
    "Voucher", "VoucherLookupResponse",
]


class HashedPinParameters(Model, kw_only=True):
    name: str
    RULES: ClassVar[Rules] = {"name": (r.max_len(20),)}


class Pin(Model, kw_only=True):
    """The polymorphic ``Pin`` (``type`` = CLEAR_PIN | ENCRYPTED_PIN | HASHED_PIN), flattened so
    an unknown type still decodes."""

    type: str
    pin: str | None = None
    pin_block: str | None = None
    encryption_parameters: dict[str, object] | None = None
    hash: str | None = None
    hashed_pin_parameters: HashedPinParameters | None = None
    RULES: ClassVar[Rules] = {
        "type": (r.one_of(PinType),),
        "pin": (r.pattern(r".{0,20}", "at most 20 characters"),),
        "pinBlock": (r.pattern(r"[a-fA-F0-9]{16}", "16 hex digits"),),
        "hash": (r.pattern(r"[0-9,A-F]{1,512}", "1 to 512 of 0-9, A-F"),),
    }

    def __repr__(self) -> str:
        return f"Pin(type={self.type!r}, ****)"


class Voucher(Model, kw_only=True):
    """A digital voucher presented as tender. ``code`` is the bearer secret."""

    code: str | None = None
    expiry_date: str | None = None
    redeem_instructions: list[str] | None = None
    serial_number: str | None = None
    pin: Pin | None = None
    RULES: ClassVar[Rules] = {
        "code": (r.max_len(40),),
        "serialNumber": (r.max_len(40),),
        "expiryDate": (r.date_time,),
    }

    def __repr__(self) -> str:
        return f"Voucher(serial_number={self.serial_number!r}, code=****)"


class Product(Model, kw_only=True):
    product_id: str
    barcode: str | None = None
    name: str | None = None
    RULES: ClassVar[Rules] = {
        "productId": (r.pattern(r"[0-9A-Za-z]{1,20}", "1 to 20 letters or digits"),),
        "barcode": (r.pattern(r"[0-9A-Za-z]{1,13}", "1 to 13 letters or digits"),),
        "name": (r.length(1, 40),),
    }


class VoucherLookupResponse(Model, kw_only=True):
    voucher: Voucher
    pos_info: PosInfo | None = None
    settlement_entity: Institution | None = None
    receiver: Institution | None = None
    amounts: Amounts | None = None
    product: Product | None = None
    rrn: str | None = None
    third_party_identifiers: list[ThirdPartyIdentifier] | None = None


class RedemptionRequest(Transaction, kw_only=True):
    voucher: Voucher
    amounts: Amounts | None = None
    pos_info: PosInfo | None = None
    RULES: ClassVar[Rules] = {"voucher.code": (r.required,)}


class RedemptionResponse(TransactionResponse, kw_only=True):
    voucher: Voucher | None = None
    amounts: Amounts | None = None
    pos_info: PosInfo | None = None


class ProvisionRequest(Transaction, kw_only=True):
    """Asks the vendor for a voucher (``voucher.code`` only where the vendor lets the client
    choose it)."""

    amounts: Amounts | None = None
    tenders: list[Tender] | None = None
    voucher: Voucher | None = None
    product: Product | None = None
    pos_info: PosInfo | None = None


class ProvisionResponse(Transaction, kw_only=True):
    voucher: Voucher
    amounts: Amounts | None = None
    product: Product | None = None
    pos_info: PosInfo | None = None


class RefundRequest(Transaction, kw_only=True):
    """Puts a redeemed voucher back (``amounts.requestAmount``, else in full); ``redemptionId``
    names the redemption being refunded."""

    voucher: Voucher
    amounts: Amounts | None = None
    redemption_id: str | None = None
    receiver_transaction_ref: str | None = None
    pos_info: PosInfo | None = None
    RULES: ClassVar[Rules] = {"voucher.code": (r.required,)}


class RefundResponse(Transaction, kw_only=True):
    voucher: Voucher | None = None
    amounts: Amounts | None = None
    pos_info: PosInfo | None = None


class ProvisionConfirmation(TenderAdvice, kw_only=True):
    """The SUV provision confirmation: a ``TenderAdvice`` whose ``tenders`` the Swagger
    requires."""

    RULES: ClassVar[Rules] = {"tenders": (r.required,)}


SuvConfirmation = BasicAdvice
SuvReversal = BasicReversal
