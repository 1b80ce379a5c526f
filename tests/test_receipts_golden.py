"""Golden receipts: every layout at every paper width, compared byte for byte and as text.

Regenerate after an intended layout change with ``UPDATE_GOLDEN=1 pytest tests/test_receipts_golden.py``
and review the diff of the ``.txt`` files (and ``python -m tests.receipt_samples
docs/receipts`` for the pictures).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from terminal_agent.receipts import mark_copy, parse, render, to_text
from terminal_agent.receipts.preview import Line
from tests.receipt_samples import SLIPS, WIDTHS, header, receipts

GOLDEN = Path(__file__).parent / "golden" / "receipts"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

CASES = [(name, cols) for name in [*SLIPS, "voucher_sale_copy"] for cols in WIDTHS]


def _bytes(name: str, columns: int) -> bytes:
    if name == "voucher_sale_copy":
        return mark_copy(render(receipts()["voucher_sale"], columns), columns, 1)
    return render(receipts()[name], columns)


def _check(path: Path, actual: bytes) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
        return
    if not path.exists():
        pytest.fail(f"{path.name} missing: run with UPDATE_GOLDEN=1 to create it")
    assert actual == path.read_bytes(), f"{path.name} changed (UPDATE_GOLDEN=1 to accept)"


@pytest.mark.parametrize(("name", "columns"), CASES)
def test_golden_bytes_and_text(name: str, columns: int) -> None:
    data = _bytes(name, columns)
    _check(GOLDEN / f"{name}-{columns}.bin", data)
    _check(GOLDEN / f"{name}-{columns}.txt", to_text(data, columns).encode("utf-8"))


@pytest.mark.parametrize(("name", "columns"), CASES)
def test_nothing_runs_off_the_paper(name: str, columns: int) -> None:
    for item in parse(_bytes(name, columns), columns):
        if isinstance(item, Line):
            assert item.cells <= columns


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("name", list(SLIPS))
def test_every_receipt_has_the_frame(name: str, columns: int) -> None:
    h = header()
    text = to_text(render(receipts()[name], columns), columns)
    for must in [*h.merchant, h.terminal_id, h.cashier, "2025-03-14 09:26", h.reference]:
        assert must in text, (must, name)
    # the merchant's "thank you" footer is for a customer's receipt, not a refund claim or a
    # report (issue 16, defect 9)
    for line in h.footer:
        assert (line in text) == (name not in NO_FOOTER), (line, name)
    assert text.rstrip().splitlines()[-1].startswith("8<")  # ends with a cut


NO_FOOTER = {"refund_due", "shift_report"}


def test_report_is_the_tills_printed_by_someone_with_each_cashier() -> None:
    """Issue 16, defect 9: a till-wide report signed by one cashier."""
    text = to_text(render(receipts()["shift_report"], 42), 42)
    assert "Printed by" in text and "Cashier   " not in text.split("All cashiers")[0]
    assert "All cashiers of this till" in text
    assert "Cashier 1001" in text and "Cashier 1002" in text and "of which fees" in text


def test_refund_slip_says_why_to_the_customer_with_phone_and_network() -> None:
    text = to_text(render(receipts()["refund_due"], 42), 42)
    assert "*******4567" in text and "MTN" in text
    assert "Refund the customer" not in text and "Give back" not in text


def test_slipdata_lines_are_printed() -> None:
    text = to_text(render(receipts()["voucher_sale"], 42), 42)
    assert "VODACOM PREPAID" in text and "VC0001234" in text
    text = to_text(render(receipts()["mt_send"], 32), 32)
    assert "MT00042" in text and "Regulated by the SARB" in text


@pytest.mark.parametrize("columns", WIDTHS)
def test_voucher_pin_is_large_and_whole(columns: int) -> None:
    items = parse(render(receipts()["voucher_sale"], columns), columns)
    pin_lines = [i for i in items if isinstance(i, Line) and i.text.replace(" ", "").isdigit()
                 and i.runs[0].width == 2]
    assert "".join(i.text.replace(" ", "") for i in pin_lines) == "1234567890123456"
    assert all(r.bold and r.height == 2 for i in pin_lines for r in i.runs)


def test_voucher_receipt_is_marked_as_holding_a_pin() -> None:
    r = receipts()
    assert r["voucher_sale"].contains_pin
    assert not any(r[k].contains_pin for k in r if k != "voucher_sale")


def test_masked_values_never_show_in_clear() -> None:
    all_text = "".join(to_text(render(r, 48), 48) for r in receipts().values())
    assert "27831234567" not in all_text and "*******4567" in all_text
    assert "9876543210987654" not in all_text and "9876 5432" not in all_text
    assert "************7654" in all_text


def test_copy_says_copy_at_both_ends() -> None:
    text = to_text(_bytes("voucher_sale_copy", 32), 32)
    assert text.count("*** COPY ***") == 2
    lines = text.splitlines()
    assert "COPY" in lines[0] and "COPY" in "".join(lines[-12:])
