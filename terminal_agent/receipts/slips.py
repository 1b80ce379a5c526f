"""The plain data each receipt layout takes. Amounts are minor units; times are passed in (the
receipts never read the clock), already in the till's local time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from terminal_agent.receipts.model import Barcode


@dataclass(frozen=True)
class Header:
    """Everything around the slip: the merchant header and footer from config, who and when."""

    merchant: tuple[str, ...]
    terminal_id: str
    cashier: str
    when: datetime
    reference: str
    footer: tuple[str, ...] = ()
    currency_symbol: str = "R"
    date_format: str = "%Y-%m-%d %H:%M"

    @classmethod
    def from_config(cls, cfg: Any, *, cashier: str, when: datetime, reference: str) -> Header:
        """From an ``AgentConfig`` (its ``[receipts]`` and ``[terminal]`` tables)."""
        return cls(
            merchant=tuple(cfg.receipts.header),
            terminal_id=cfg.terminal.terminal_id,
            cashier=cashier,
            when=when,
            reference=reference,
            footer=tuple(cfg.receipts.footer),
            currency_symbol=cfg.terminal.currency_symbol,
            date_format=cfg.receipts.date_format,
        )


@dataclass(frozen=True)
class SlipLine:
    """One line of the switch's ``slipData.messageLines``."""

    text: str = ""
    barcode: Barcode | None = None
    width_scale: float = 1.0
    height_scale: float = 1.0
    line: bool = False
    cut: bool = False


@dataclass(frozen=True)
class SlipData:
    lines: tuple[SlipLine, ...] = ()
    issuer_reference: str | None = None

    @classmethod
    def from_message(cls, slip: Any) -> SlipData:
        """From the protocol's ``SlipData`` (a msgspec struct with snake_case attributes) or its
        JSON form (camelCase mapping); ``None`` gives an empty slip."""
        if slip is None:
            return cls()
        lines = []
        for raw in _get(slip, "message_lines", "messageLines") or ():
            code = _get(raw, "barcode", "barcode")
            barcode = None
            if code is not None and _get(code, "data", "data"):
                barcode = Barcode(str(_get(code, "data", "data")),
                                  str(_get(code, "encoding", "encoding") or "CODE128"))
            lines.append(SlipLine(
                text=str(_get(raw, "text", "text") or ""),
                barcode=barcode,
                width_scale=float(
                    _get(raw, "font_width_scale_factor", "fontWidthScaleFactor") or 1),
                height_scale=float(
                    _get(raw, "font_height_scale_factor", "fontHeightScaleFactor") or 1),
                line=bool(_get(raw, "line", "line")),
                cut=bool(_get(raw, "cut", "cut")),
            ))
        issuer = _get(slip, "issuer_reference", "issuerReference")
        return cls(tuple(lines), str(issuer) if issuer else None)


def _get(obj: Any, attr: str, key: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key, obj.get(attr))
    return getattr(obj, attr, None)


@dataclass(frozen=True)
class VoucherSaleSlip:
    product: str
    amount_minor: int
    pin: str
    serial: str
    expiry: datetime | date | None = None
    instructions: tuple[str, ...] = ()
    provider: str | None = None
    barcode: Barcode | None = None
    qr: str | None = None
    slip: SlipData = field(default_factory=SlipData)


@dataclass(frozen=True)
class TopupSlip:
    product: str
    msisdn: str
    amount_minor: int
    provider_reference: str | None = None
    provider: str | None = None
    slip: SlipData = field(default_factory=SlipData)


DEFAULT_COLLECT = (
    "The collection reference above",
    "A valid ID document",
    "The PIN, if one was set",
)


@dataclass(frozen=True)
class TransferSendSlip:
    order_ref: str
    amount_minor: int
    fee_minor: int
    total_minor: int
    recipient_name: str
    recipient_msisdn: str | None = None
    order_ref_alt: str | None = None
    sender_name: str | None = None
    provider: str | None = None
    collect: tuple[str, ...] = DEFAULT_COLLECT
    slip: SlipData = field(default_factory=SlipData)


@dataclass(frozen=True)
class PayoutSlip:
    order_ref: str
    amount_minor: int
    recipient_name: str | None = None
    provider: str | None = None
    slip: SlipData = field(default_factory=SlipData)
    recipient_id: str | None = None      # the ID document seen, masked ("*********9087")
    sender_name: str | None = None


@dataclass(frozen=True)
class RedemptionSlip:
    voucher_code: str
    amount_minor: int
    provider: str | None = None
    balance_minor: int | None = None
    slip: SlipData = field(default_factory=SlipData)


@dataclass(frozen=True)
class DeclinedSlip:
    what: str  # "Airtime voucher", "Send money", ...
    reason: str  # the plain sentence the cashier saw
    amount_minor: int | None = None
    advice: str = "No money was taken. Do not hand over any value."
    slip: SlipData = field(default_factory=SlipData)


@dataclass(frozen=True)
class RefundDueSlip:
    what: str
    amount_minor: int
    reason: str          # for the customer: why the money comes back (never a cashier's task)
    slip: SlipData = field(default_factory=SlipData)
    msisdn: str | None = None            # the phone that was not topped up (masked on paper)
    network: str | None = None


@dataclass(frozen=True)
class ReportLine:
    label: str
    count: int
    amount_minor: int


@dataclass(frozen=True)
class CashierLine:
    """One cashier's drawer in a shift report."""

    cashier: str
    cash_in_minor: int
    cash_out_minor: int
    fees_minor: int = 0


@dataclass(frozen=True)
class ShiftReport:
    """The till's report over every cashier (X: the open shift; Z: a closed one). The header's
    cashier is the person who printed it, shown as such, never as the report's owner."""

    start: datetime
    end: datetime
    lines: tuple[ReportLine, ...]
    cash_in_minor: int
    cash_out_minor: int
    counters: tuple[tuple[str, int], ...] = ()  # ("Declined", 2), ("Reprints", 1), ...
    title: str = "END OF DAY"
    cashiers: tuple[CashierLine, ...] = ()
    fees_minor: int | None = None               # money-transfer fees, included in cash in
    vouchers_minor: int = 0                     # digital vouchers taken as payment (not cash)
    closed_by: str | None = None                # a Z report: the supervisor who closed it
