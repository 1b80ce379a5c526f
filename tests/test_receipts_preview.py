"""The ESC/POS -> text/PNG previewer, checked against what python-escpos emits."""

from __future__ import annotations

import io

import pytest
from escpos.printer import Dummy
from PIL import Image

from terminal_agent.receipts import (
    QR,
    Align,
    Barcode,
    Cut,
    PreviewError,
    Receipt,
    Size,
    Text,
    parse,
    render,
    to_text,
)
from terminal_agent.receipts.preview import BarcodeItem, CutItem, DrawerKick, ImageItem, Line, QRItem
from terminal_agent.receipts.preview_png import CELL_W, MARGIN, to_png
from tests.receipt_samples import receipts


def _dummy() -> Dummy:
    p = Dummy()
    p.hw("INIT")
    return p


def test_styles_become_runs() -> None:
    r = Receipt("x", "r", (Text("plain"), Text("BIG", bold=True, size=Size.DOUBLE,
                                                 align=Align.CENTER), Text("inv", invert=True)))
    lines = [i for i in parse(render(r, 32), 32) if isinstance(i, Line)]
    assert [ln.text for ln in lines] == ["plain", "BIG", "inv"]
    big = lines[1].runs[0]
    assert (big.bold, big.width, big.height, lines[1].align) == (True, 2, 2, "center")
    assert lines[2].runs[0].invert and not lines[0].runs[0].bold


def test_text_centres_and_wraps_like_the_printer() -> None:
    p = _dummy()
    p.set(align="center")
    p.text("x" * 40 + "\n")
    assert to_text(p.output, 32) == "x" * 32 + "\n" + " " * 12 + "x" * 8 + "\n"


def test_codepage_text_round_trips() -> None:
    p = _dummy()
    p.text("Café Noël ñ\n")
    assert to_text(p.output, 32) == "Café Noël ñ\n"


def test_barcode_qr_cut_and_drawer() -> None:
    r = Receipt("x", "r", (Barcode("0123456789", "ITF"), Barcode("AB-12", "CODE128"),
                           Barcode("12345678", "CODE128"), QR("https://example.com/v/1"),
                           Cut(partial=True)))
    data = render(r, 48) + b"\x1bp\x00\x32\x64"
    items = parse(data, 48)
    codes = [i for i in items if isinstance(i, BarcodeItem)]
    assert [(c.symbology, c.data) for c in codes] == [
        ("ITF", "0123456789"), ("CODE128", "AB-12"), ("CODE128", "12345678")]
    assert [i.data for i in items if isinstance(i, QRItem)] == ["https://example.com/v/1"]
    assert isinstance([i for i in items if isinstance(i, CutItem)][0], CutItem)
    assert [(d.pin, d.on_ms) for d in items if isinstance(d, DrawerKick)] == [(2, 100)]
    text = to_text(data, 48)
    assert "[ITF: 0123456789]" in text and "[QR: https://example.com/v/1]" in text
    assert "partial cut" in text


def test_barcode_too_wide_for_the_paper_becomes_a_qr() -> None:
    r = Receipt("x", "r", (Barcode("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123", "CODE128"),))
    items = parse(render(r, 32), 32)
    assert any(isinstance(i, QRItem) for i in items)
    assert not any(isinstance(i, BarcodeItem) for i in items)


def test_raster_images_from_a_profile_without_native_qr() -> None:
    data = render(Receipt("x", "r", (QR("hello"),)), 32, profile="POS-5890")
    images = [i for i in parse(data, 32, profile="POS-5890") if isinstance(i, ImageItem)]
    assert images and images[0].width > 0
    Image.open(io.BytesIO(to_png(data, 32, profile="POS-5890"))).verify()


def test_unknown_commands_are_refused() -> None:
    with pytest.raises(PreviewError):
        parse(b"\x1b\x7e\x01", 32)
    with pytest.raises(PreviewError):
        parse(b"\x1d(k\x05\x001P0", 32)  # truncated


@pytest.mark.parametrize("columns", [32, 42, 48])
def test_png_is_paper_width(columns: int) -> None:
    png = to_png(render(receipts()["voucher_sale"], columns), columns)
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.width == columns * CELL_W + 2 * MARGIN
    assert img.height > 600
    # some ink, mostly paper
    hist = img.convert("L").histogram()
    assert 0.02 < sum(hist[:128]) / sum(hist) < 0.5


def test_double_size_draws_bigger_than_normal() -> None:
    def ink_width(size: Size) -> int:
        png = to_png(render(Receipt("x", "r", (Text("8888", size=size),)), 32), 32)
        img = Image.open(io.BytesIO(png)).convert("L")
        box = img.point(lambda v: 255 if v < 128 else 0).getbbox()
        assert box is not None
        return box[2] - box[0]

    assert ink_width(Size.DOUBLE) > 1.8 * ink_width(Size.NORMAL)


@pytest.mark.parametrize("profile", ["POS-5890", "TM-T20II", "simple"])
def test_other_printer_profiles_render_and_preview(profile: str) -> None:
    # Printers without hardware barcodes or native QR get images; a barcode too wide for
    # the paper becomes a QR code rather than an error.
    for r in receipts().values():
        data = render(r, 32, profile=profile)
        assert "Demo Spaza" in to_text(data, 32, profile=profile)
        Image.open(io.BytesIO(to_png(data, 32, profile=profile))).verify()
