"""Receipts: pure layout (no I/O). Plain slip data -> ``Receipt`` -> ESC/POS bytes, and back
to text and PNG for previews.

    receipt = voucher_sale(Header.from_config(cfg, cashier=..., when=..., reference=...), slip)
    data = render(receipt, cfg.printer.columns)
"""

from terminal_agent.receipts.formatting import (
    format_amount,
    format_when,
    group,
    mask_code,
    mask_msisdn,
    mask_tail,
)
from terminal_agent.receipts.layouts import (
    declined,
    layout,
    payout,
    redemption,
    refund_due,
    shift_report,
    topup,
    transfer_send,
    voucher_sale,
)
from terminal_agent.receipts.model import (
    QR,
    Align,
    Barcode,
    Blank,
    Block,
    Cut,
    Pair,
    Receipt,
    Rule,
    Size,
    Text,
)
from terminal_agent.receipts.preview import PreviewError, parse, preview_files, to_text
from terminal_agent.receipts.render import copy_banner, mark_copy, render
from terminal_agent.receipts.slips import (
    CashierLine,
    DeclinedSlip,
    Header,
    PayoutSlip,
    RedemptionSlip,
    RefundDueSlip,
    ReportLine,
    ShiftReport,
    SlipData,
    SlipLine,
    TopupSlip,
    TransferSendSlip,
    VoucherSaleSlip,
)

__all__ = [
    "preview_files",
    "QR", "Align", "Barcode", "Blank", "Block", "CashierLine", "Cut", "DeclinedSlip", "Header", "Pair",
    "PayoutSlip", "PreviewError", "Receipt", "RedemptionSlip", "RefundDueSlip", "ReportLine",
    "Rule", "ShiftReport", "Size", "SlipData", "SlipLine", "Text", "TopupSlip",
    "TransferSendSlip", "VoucherSaleSlip", "copy_banner", "declined", "format_amount",
    "format_when", "group", "layout", "mark_copy", "mask_code", "mask_msisdn", "mask_tail",
    "parse", "payout", "redemption", "refund_due", "render", "shift_report", "to_text", "topup",
    "transfer_send", "voucher_sale",
]
