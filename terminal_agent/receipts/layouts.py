"""One layout per transaction kind and outcome: plain data in, ``Receipt`` out.

Every receipt has the same frame: merchant header, terminal, cashier, local date and time and the
short reference on top; the switch's ``slipData`` lines and the configured footer at the bottom,
then a cut. What sits between is the layout's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from terminal_agent.receipts.formatting import format_amount, group, mask_code, mask_msisdn
from terminal_agent.receipts.model import (
    QR,
    Align,
    Blank,
    Block,
    Cut,
    Pair,
    Receipt,
    Rule,
    Size,
    Text,
)
from terminal_agent.receipts.slips import (
    DeclinedSlip,
    Header,
    PayoutSlip,
    RedemptionSlip,
    RefundDueSlip,
    ShiftReport,
    SlipData,
    SlipLine,
    TopupSlip,
    TransferSendSlip,
    VoucherSaleSlip,
)

Slip = (VoucherSaleSlip | TopupSlip | TransferSendSlip | PayoutSlip | RedemptionSlip
        | DeclinedSlip | RefundDueSlip | ShiftReport)


def _top(h: Header, title: str, *, alarm: bool = False, who: str = "Cashier") -> list[Block]:
    blocks: list[Block] = []
    for i, line in enumerate(h.merchant):
        blocks.append(Text(line, bold=i == 0, size=Size.TALL if i == 0 else Size.NORMAL,
                           align=Align.CENTER))
    blocks += [
        Rule(),
        Pair("Terminal", h.terminal_id),
        Pair(who, h.cashier),
        Pair("Date", h.when.strftime(h.date_format)),
        Pair("Ref", h.reference, bold=True),
        Rule(),
        Text(title, bold=True, size=Size.DOUBLE if alarm else Size.TALL, align=Align.CENTER,
             invert=alarm),
        Blank(),
    ]
    return blocks


def _slip_line(line: SlipLine) -> list[Block]:
    out: list[Block] = []
    wide, tall = line.width_scale >= 2, line.height_scale >= 2
    size = {(True, True): Size.DOUBLE, (True, False): Size.WIDE,
            (False, True): Size.TALL}.get((wide, tall), Size.NORMAL)
    if line.text or not (line.line or line.barcode or line.cut):
        out.append(Text(line.text, size=size))
    if line.barcode is not None:
        out.append(line.barcode)
    if line.line:
        out.append(Rule())
    if line.cut:
        out.append(Cut(partial=True))
    return out


def _bottom(h: Header, slip: SlipData | None = None, *, footer: bool = True) -> list[Block]:
    """The switch's slip lines, then the merchant's footer (a customer's receipt only: not on a
    refund claim or a report, where "thank you for shopping" reads wrong)."""
    blocks: list[Block] = [Rule()]
    if slip is not None and (slip.lines or slip.issuer_reference):
        for line in slip.lines:
            blocks += _slip_line(line)
        if slip.issuer_reference:
            blocks.append(Pair("Issuer ref", slip.issuer_reference))
        blocks.append(Rule())
    if footer:
        blocks += [Text(line, align=Align.CENTER) for line in h.footer]
    blocks += [Cut()]
    return blocks


def _money(h: Header, minor: int) -> str:
    return format_amount(minor, h.currency_symbol)


def _big(text: str) -> Text:
    return Text(text, bold=True, size=Size.DOUBLE, align=Align.CENTER, balanced=True)


def _bullets(lines: Iterable[str]) -> list[Block]:
    return [Text(f"- {line}", indent=2) for line in lines]


def _receipt(kind: str, h: Header, blocks: list[Block], *, pin: bool = False) -> Receipt:
    return Receipt(kind=kind, reference=h.reference, blocks=tuple(blocks), contains_pin=pin)


def voucher_sale(h: Header, s: VoucherSaleSlip) -> Receipt:
    b = _top(h, "AIRTIME VOUCHER")
    b += [Text(s.product, bold=True)]
    if s.provider:
        b.append(Pair("Provider", s.provider))
    b += [Pair("Amount", _money(h, s.amount_minor), bold=True), Rule("="),
          Text("PIN", bold=True, align=Align.CENTER), _big(group(s.pin)), Rule("="),
          Pair("Serial", s.serial)]
    if s.expiry is not None:
        b.append(Pair("Expires", s.expiry.strftime("%Y-%m-%d")))
    if s.instructions:
        b += [Blank(), Text("How to load:", bold=True), *_bullets(s.instructions)]
    if s.barcode is not None:
        b += [Blank(), s.barcode]
    if s.qr:
        b += [Blank(), QR(s.qr)]
    return _receipt("voucher_sale", h, b + _bottom(h, s.slip), pin=True)


def topup(h: Header, s: TopupSlip) -> Receipt:
    b = _top(h, "DIRECT TOP-UP")
    b += [Text(s.product, bold=True)]
    if s.provider:
        b.append(Pair("Provider", s.provider))
    b += [Pair("Phone", mask_msisdn(s.msisdn)),
          Pair("Amount", _money(h, s.amount_minor), bold=True)]
    if s.provider_reference:
        b.append(Pair("Provider ref", s.provider_reference))
    b += [Blank(), Text("Sent straight to the phone: no PIN needed.", align=Align.CENTER)]
    return _receipt("topup", h, b + _bottom(h, s.slip))


def transfer_send(h: Header, s: TransferSendSlip) -> Receipt:
    b = _top(h, "SEND MONEY")
    if s.provider:
        b.append(Pair("Provider", s.provider))
    if s.sender_name:
        b.append(Pair("Sender", s.sender_name))
    b.append(Pair("Recipient", s.recipient_name))
    if s.recipient_msisdn:
        b.append(Pair("Recipient phone", mask_msisdn(s.recipient_msisdn)))
    b += [Pair("Amount sent", _money(h, s.amount_minor)), Pair("Fee", _money(h, s.fee_minor)),
          Pair("Total paid", _money(h, s.total_minor), bold=True), Rule("="),
          Text("COLLECTION REFERENCE", bold=True, align=Align.CENTER),
          _big(group(s.order_ref)), Rule("=")]
    if s.order_ref_alt:
        b.append(Pair("Alternative ref", s.order_ref_alt))
    b += [Blank(), Text("To collect, the recipient needs:", bold=True), *_bullets(s.collect),
          Blank(), Text("Keep this slip: quote the reference for any query or refund.")]
    return _receipt("mt_send", h, b + _bottom(h, s.slip))


def payout(h: Header, s: PayoutSlip) -> Receipt:
    b = _top(h, "MONEY PAID OUT")
    if s.provider:
        b.append(Pair("Provider", s.provider))
    b.append(Pair("Order ref", s.order_ref))
    if s.sender_name:
        b.append(Pair("Sender", s.sender_name))
    if s.recipient_name:
        b.append(Pair("Paid to", s.recipient_name))
    if s.recipient_id:
        b.append(Pair("ID seen", s.recipient_id))
    b += [Text("Amount paid", align=Align.CENTER), _big(_money(h, s.amount_minor)), Blank(),
          Text("Received by (signature):"), Blank(2), Rule("_")]
    return _receipt("mt_payout", h, b + _bottom(h, s.slip))


def redemption(h: Header, s: RedemptionSlip) -> Receipt:
    b = _top(h, "VOUCHER REDEEMED")
    if s.provider:
        b.append(Pair("Provider", s.provider))
    b += [Pair("Voucher", mask_code(s.voucher_code)),
          Pair("Amount redeemed", _money(h, s.amount_minor), bold=True)]
    if s.balance_minor is not None:
        b.append(Pair("Balance left", _money(h, s.balance_minor)))
    return _receipt("suv_redeem", h, b + _bottom(h, s.slip))


def declined(h: Header, s: DeclinedSlip) -> Receipt:
    b = _top(h, "DECLINED", alarm=True)
    b.append(Text(s.what, bold=True))
    if s.amount_minor is not None:
        b.append(Pair("Amount", _money(h, s.amount_minor)))
    b += [Text(f"Reason: {s.reason}"), Blank(), Text(s.advice, bold=True)]
    return _receipt("declined", h, b + _bottom(h, s.slip))


def refund_due(h: Header, s: RefundDueSlip) -> Receipt:
    b = _top(h, "REFUND DUE", alarm=True)
    b.append(Text(s.what, bold=True))
    if s.network:
        b.append(Pair("Network", s.network))
    if s.msisdn:
        b.append(Pair("Phone", mask_msisdn(s.msisdn)))
    b += [Text(f"Reason: {s.reason}"), Blank(),
          Text("Amount to refund", align=Align.CENTER), _big(_money(h, s.amount_minor)),
          Blank(), Text("Customer signature:"), Blank(2), Rule("_")]
    return _receipt("refund_due", h, b + _bottom(h, s.slip, footer=False))


def shift_report(h: Header, r: ShiftReport) -> Receipt:
    b = _top(h, r.title, who="Printed by")
    b += [Text("All cashiers of this till", align=Align.CENTER),
          Pair("From", _when(h, r.start)), Pair("To", _when(h, r.end))]
    if r.closed_by:
        b.append(Pair("Closed by", r.closed_by))
    b.append(Rule())
    for line in r.lines:
        b.append(Pair(f"{line.label} x{line.count}", _money(h, line.amount_minor)))
    b += [Rule(), Pair("Cash in", _money(h, r.cash_in_minor))]
    if r.fees_minor is not None:
        b.append(Pair("  of which fees", _money(h, r.fees_minor)))
    b += [Pair("Cash out", _money(h, r.cash_out_minor)),
          Pair("Net cash", _money(h, r.cash_in_minor - r.cash_out_minor), bold=True)]
    if r.vouchers_minor:
        b.append(Pair("Vouchers taken", _money(h, r.vouchers_minor)))
    for c in r.cashiers:
        b += [Rule(), Text(f"Cashier {c.cashier}", bold=True),
              Pair("Cash in", _money(h, c.cash_in_minor))]
        if c.fees_minor:
            b.append(Pair("  of which fees", _money(h, c.fees_minor)))
        b += [Pair("Cash out", _money(h, c.cash_out_minor)),
              Pair("Drawer should hold", _money(h, c.cash_in_minor - c.cash_out_minor))]
    if r.counters:
        b.append(Rule())
        b += [Pair(label, str(value)) for label, value in r.counters]
    return _receipt("shift_report", h, b + _bottom(h, footer=False))


def _when(h: Header, when: datetime) -> str:
    return when.strftime(h.date_format)


_LAYOUTS = {
    VoucherSaleSlip: voucher_sale, TopupSlip: topup, TransferSendSlip: transfer_send,
    PayoutSlip: payout, RedemptionSlip: redemption, DeclinedSlip: declined,
    RefundDueSlip: refund_due, ShiftReport: shift_report,
}


def layout(h: Header, slip: Slip) -> Receipt:
    """The receipt for any slip data (dispatch on its type)."""
    build = _LAYOUTS[type(slip)]
    return build(h, slip)  # type: ignore[operator]
