"""Sample receipts, one per layout, with a pinned clock: the golden tests and the committed
previews in ``docs/receipts/`` are both made from these.

    python -m tests.receipt_samples docs/receipts [--text]
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from terminal_agent.receipts.layouts import Slip, layout
from terminal_agent.receipts.model import Barcode, Receipt
from terminal_agent.receipts.preview import to_text
from terminal_agent.receipts.preview_png import to_png
from terminal_agent.receipts.render import mark_copy, render
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

WHEN = datetime(2025, 3, 14, 9, 26, 53)
WIDTHS = (32, 42, 48)


def header(reference: str = "3F9A2C71") -> Header:
    return Header(
        merchant=("Demo Spaza", "12 Main Rd, Soweto", "VAT 4123456789"),
        terminal_id="TILL0001",
        cashier="Thandi M.",
        when=WHEN,
        reference=reference,
        footer=("Thank you for your business", "Queries: 011 555 0100"),
    )


def _slip(*lines: str, issuer: str | None = None) -> SlipData:
    return SlipData(tuple(SlipLine(line) for line in lines), issuer)


SLIPS: dict[str, Slip] = {
    "voucher_sale": VoucherSaleSlip(
        product="Vodacom R29 Airtime Voucher", amount_minor=2900, pin="1234567890123456",
        serial="0000000000000001A", expiry=datetime(2026, 3, 14, 9, 0),
        instructions=("Dial *100*01*PIN# and press call",
                      "Redeem instructions line 2: valid on all Vodacom prepaid and "
                      "top-up packages"),
        provider="Vodacom", barcode=Barcode("12345678901234567890", "ITF"),
        slip=SlipData((SlipLine("VODACOM PREPAID"), SlipLine("Help: 082 111", line=True)),
                      "VC0001234"),
    ),
    "topup": TopupSlip(
        product="MTN Direct Top-up R50", msisdn="27831234567", amount_minor=5000,
        provider_reference="MTN7788990011", provider="MTN",
        slip=_slip("MTN says: thank you for topping up"),
    ),
    "mt_send": TransferSendSlip(
        order_ref="12345678901234567890", amount_minor=150000, fee_minor=4500,
        total_minor=154500, recipient_name="Nomvula Precious Dlamini-Mahlangu",
        recipient_msisdn="27821234567", order_ref_alt="ALT998877", sender_name="Sipho Khumalo",
        provider="Demo Money Transfer",
        slip=_slip("Regulated by the SARB. Terms at demo.example/terms", issuer="MT00042"),
    ),
    "mt_payout": PayoutSlip(
        order_ref="12345678901234567890", amount_minor=150000,
        recipient_name="Nomvula Precious Dlamini-Mahlangu", provider="Demo Money Transfer",
        recipient_id="*********9087", sender_name="Sipho Khumalo",
    ),
    "suv_redeem": RedemptionSlip(
        voucher_code="9876 5432 1098 7654", amount_minor=10000, provider="Demo Vouchers",
        balance_minor=2500,
    ),
    "declined": DeclinedSlip(
        what="Airtime voucher: Vodacom R29", amount_minor=2900,
        reason="The provider is not available right now. Try again in a few minutes.",
    ),
    "refund_due": RefundDueSlip(
        what="Direct top-up: MTN Airtime", amount_minor=5000,
        reason="The network declined the top-up: nothing was loaded on the phone.",
        msisdn="27831234567", network="MTN",
    ),
    "shift_report": ShiftReport(
        start=datetime(2025, 3, 14, 7, 0), end=datetime(2025, 3, 14, 17, 30),
        lines=(ReportLine("Airtime vouchers", 42, 121800), ReportLine("Direct top-ups", 17, 61000),
               ReportLine("Send money", 3, 463500), ReportLine("Payouts", 2, 300000),
               ReportLine("Voucher redemptions", 5, 45000)),
        cash_in_minor=646300, cash_out_minor=345000, fees_minor=13500,
        cashiers=(CashierLine("1001", 400000, 300000), CashierLine("1002", 246300, 45000, 13500)),
        counters=(("Declined", 4), ("Refunds due", 1), ("Reprints", 2), ("Receipts waiting", 0)),
    ),
}


def receipts() -> dict[str, Receipt]:
    return {name: layout(header(), slip) for name, slip in SLIPS.items()}


TITLES = {
    "voucher_sale": "Airtime voucher sale (PIN)", "topup": "Direct top-up",
    "mt_send": "Money transfer: send", "mt_payout": "Money transfer: payout",
    "suv_redeem": "Digital voucher redemption", "declined": "Declined",
    "refund_due": "Refund due", "shift_report": "Shift / end-of-day report",
    "voucher_sale_copy": "Reprint (COPY) of a voucher sale",
}


def write(folder: Path, widths: tuple[int, ...] = WIDTHS, *, text: bool = False) -> list[Path]:
    """Every sample (and a reprint) as ``<name>-<columns>.png`` (and ``.txt`` if asked) in
    ``folder``, with a ``README.md`` showing them side by side."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for columns in widths:
        jobs = {name: render(r, columns) for name, r in receipts().items()}
        jobs["voucher_sale_copy"] = mark_copy(jobs["voucher_sale"], columns, 1)
        for name, data in jobs.items():
            png = folder / f"{name}-{columns}.png"
            png.write_bytes(to_png(data, columns))
            written.append(png)
            if text:
                (folder / f"{name}-{columns}.txt").write_text(to_text(data, columns),
                                                              encoding="utf-8")
    index = folder / "README.md"
    index.write_text(_index(widths), encoding="utf-8")
    written.append(index)
    return written


def _index(widths: tuple[int, ...]) -> str:
    head = " | ".join(f"{w} columns" for w in widths)
    rows = [
        "# Receipt previews",
        "",
        "What each receipt looks like on paper: 32 columns is 58 mm paper, 42 and 48 columns",
        "are 80 mm. Drawn from the exact ESC/POS bytes the printer receives",
        "(`terminal_agent.receipts.preview_png`); the same bytes are pinned by the golden tests",
        "in `tests/golden/receipts/`. Regenerate with",
        "`python -m tests.receipt_samples docs/receipts`.",
        "",
        f"| receipt | {head} |",
        "|---|" + "---|" * len(widths),
    ]
    for name, title in TITLES.items():
        cells = " | ".join(f"![{title}, {w} columns]({name}-{w}.png)" for w in widths)
        rows.append(f"| {title} | {cells} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    paths = [a for a in args if not a.startswith("--")]
    folder = Path(paths[0] if paths else "docs/receipts")
    for path in write(folder, text="--text" in args):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
