from __future__ import annotations

from datetime import datetime

import pytest

from terminal_agent.receipts import (
    Align,
    Header,
    Pair,
    Receipt,
    SlipData,
    Text,
    format_amount,
    group,
    mask_code,
    mask_msisdn,
    render,
    to_text,
)
from terminal_agent.receipts.render import pair_lines, wrap


@pytest.mark.parametrize(("minor", "symbol", "text"), [
    (2900, "R", "R 29.00"), (0, "R", "R 0.00"), (5, "R", "R 0.05"), (125000, "R", "R 1,250.00"),
    (-2900, "R", "-R 29.00"), (123456789, "$", "$ 1,234,567.89"), (100, "", "1.00"),
])
def test_format_amount(minor: int, symbol: str, text: str) -> None:
    assert format_amount(minor, symbol) == text


def test_format_amount_other_exponents() -> None:
    assert format_amount(1500, "JPY", decimals=0) == "JPY 1,500"
    assert format_amount(125000, "R", thousands=" ") == "R 1 250.00"


def test_masks_keep_last_four() -> None:
    assert mask_msisdn("27821234567") == "*******4567"
    assert mask_msisdn("+27821234567") == "+*******4567"
    assert mask_code("1234 5678 9012 3456") == "************3456"
    assert mask_code("123") == "***"  # short secrets are hidden whole


def test_group() -> None:
    assert group("1234567890123456") == "1234 5678 9012 3456"
    assert group("12 34 5") == "1234 5"


def test_wrap_breaks_words_and_never_overflows() -> None:
    assert wrap("a" * 40, 16) == ["a" * 16, "a" * 16, "a" * 8]
    assert wrap("one two\nthree", 20) == ["one two", "three"]
    assert wrap("- first second third", 12, indent=2) == ["- first", "  second", "  third"]
    assert wrap("1234 5678 9012 3456", 16, balanced=True) == ["1234 5678", "9012 3456"]


def test_pair_falls_back_to_two_lines() -> None:
    assert pair_lines("Fee", "R 5.00", 16) == [("Fee       R 5.00", Align.LEFT)]
    lines = [t for t, _ in pair_lines("Recipient", "Nomvula Precious Dlamini", 16)]
    assert lines[0] == "Recipient" and all(len(t) == 16 for t in lines[1:])


def test_long_names_wrap_at_every_width() -> None:
    name = "Thandiwe-Nokuthula Precious Mahlangu-Dlamini of Soweto"
    r = Receipt("x", "R1", (Pair("Recipient", name), Text(name, align=Align.CENTER)))
    for columns in (32, 42, 48):
        text = to_text(render(r, columns), columns)
        assert all(len(line) <= columns for line in text.splitlines())
        assert "".join(text.split()).count("".join(name.split())) == 2


def test_header_from_config() -> None:
    from terminal_agent.config import loads

    cfg = loads('[receipts]\nheader = ["Shop A", "Street"]\nfooter = ["Bye"]\n'
                'date_format = "%d/%m/%Y %H:%M"\n[terminal]\ncurrency_symbol = "N$"\n')
    h = Header.from_config(cfg, cashier="c1", when=datetime(2025, 1, 2, 3, 4), reference="AB")
    assert h.merchant == ("Shop A", "Street") and h.footer == ("Bye",)
    assert h.currency_symbol == "N$" and h.when.strftime(h.date_format) == "02/01/2025 03:04"


def test_slipdata_from_json_and_struct_shapes() -> None:
    wire = {"messageLines": [
        {"text": "BIG", "fontWidthScaleFactor": 2.0, "fontHeightScaleFactor": 2.0},
        {"text": "", "line": True},
        {"text": "scan me", "barcode": {"data": "0123456789", "encoding": "ITF"}},
        {"text": "tear", "cut": True}], "slipWidth": 0, "issuerReference": "ABC123"}
    slip = SlipData.from_message(wire)
    assert slip.issuer_reference == "ABC123"
    assert slip.lines[0].width_scale == 2.0 and slip.lines[1].line
    assert slip.lines[2].barcode is not None and slip.lines[2].barcode.symbology == "ITF"
    assert slip.lines[3].cut
    assert SlipData.from_message(None) == SlipData()

    class Line:
        text = "from a struct"
        barcode = None
        font_width_scale_factor = 1.0
        font_height_scale_factor = 1.0
        line = False
        cut = False

    class Struct:
        message_lines = [Line()]
        issuer_reference = None

    assert SlipData.from_message(Struct()).lines[0].text == "from a struct"
