"""Receipt -> ESC/POS bytes, through python-escpos's ``Dummy`` printer (bytes first, one write).

Width rules: ``columns`` is the number of normal (font A, 12-dot) characters per line: 32 on
58 mm paper, 42 or 48 on 80 mm. Text is wrapped at word boundaries (long words are broken), double
width halves the line, barcodes and QR codes are sized to fit ``columns * 12`` dots or replaced by a
QR code when a 1-D barcode cannot fit. Nothing is ever cut off at the right edge.
"""

from __future__ import annotations

import contextlib
import io
import textwrap
from typing import TYPE_CHECKING

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

DOTS_PER_COLUMN = 12
BARCODE_HEIGHT = 80  # dots: 10 mm at 203 dpi
COPY_BANNER = "COPY"

if TYPE_CHECKING:
    from escpos.printer import Dummy

# python-escpos and qrcode are imported on the first receipt, not at start: escpos parses its
# printer capabilities (a 1 MB JSON file, read with pure-Python YAML) on import, which cost a
# cold `terminal-agent ui` a large part of its start before the login screen.


def warm() -> None:
    """Import python-escpos and qrcode now, e.g. in a thread while the cashier logs in, so that
    the first receipt does not wait for them."""
    import escpos.printer  # noqa: F401
    import qrcode  # noqa: F401


def _dummy(profile: str | None) -> Dummy:
    from escpos.printer import Dummy

    return Dummy(profile=profile)


def wrap(text: str, width: int, *, balanced: bool = False, indent: int = 0) -> list[str]:
    """Lines of at most ``width`` characters; explicit newlines kept, long words broken.
    ``balanced`` narrows the width as far as it goes without adding a line; ``indent`` starts
    continuation lines that many spaces in."""
    if balanced:
        count = len(wrap(text, width, indent=indent))
        while width > 1 and len(wrap(text, width - 1, indent=indent)) == count:
            width -= 1
    out: list[str] = []
    hang = " " * min(indent, max(width - 8, 0))
    for paragraph in text.split("\n"):
        out.extend(textwrap.wrap(paragraph, max(width, 1), break_on_hyphens=False,
                                 subsequent_indent=hang) or [""])
    return out


def pair_lines(label: str, value: str, width: int) -> list[tuple[str, Align]]:
    """``label ....... value`` on one line when it fits, else the label (wrapped) and the value
    right-aligned under it."""
    if len(label) + 1 + len(value) <= width:
        return [(label + " " * (width - len(label) - len(value)) + value, Align.LEFT)]
    lines = [(line, Align.LEFT) for line in wrap(label, width)] if label else []
    lines += [(line.rjust(width), Align.LEFT) for line in wrap(value, width)]
    return lines


class _Writer:
    """Tracks the printer's text style so that only changes are sent."""

    def __init__(self, profile: str | None, columns: int) -> None:
        self.profile = profile or None
        self.p = _dummy(self.profile)
        self.columns = columns
        self.size = Size.NORMAL
        self.bold = False
        self.invert = False
        self.align = Align.LEFT

    def style(self, *, size: Size = Size.NORMAL, bold: bool = False, invert: bool = False,
              align: Align = Align.LEFT) -> None:
        if size != self.size:
            self.p.set(
                normal_textsize=size == Size.NORMAL,
                double_width=size.width_factor == 2,
                double_height=size.height_factor == 2,
            )
            self.size = size
            self.bold = False  # ESC ! also clears emphasis
        if bold != self.bold:
            self.p.set(bold=bold)
            self.bold = bold
        if invert != self.invert:
            self.p.set(invert=invert)
            self.invert = invert
        if align != self.align:
            self.p.set(align=align.value)
            self.align = align

    def text(self, block: Text) -> None:
        self.style(size=block.size, bold=block.bold, invert=block.invert, align=block.align)
        for line in wrap(block.text, self.columns // block.size.width_factor,
                         balanced=block.balanced, indent=block.indent):
            self.p.textln(line)

    def pair(self, block: Pair) -> None:
        self.style(bold=block.bold)
        for line, _ in pair_lines(block.label, block.value, self.columns):
            self.p.textln(line)

    def barcode(self, block: Barcode) -> None:
        code, symbology, modules = _barcode_code(block)
        dots = self.columns * DOTS_PER_COLUMN
        if modules is None or modules * 2 > dots:
            self.qr(QR(block.data))
            return
        self.style(align=Align.CENTER)
        # Rendered apart first: printers without hardware barcodes get a software image,
        # which python-escpos may refuse as too wide; then the data goes out as a QR code.
        from escpos.exceptions import Error as EscposError

        scratch = _dummy(self.profile)
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # escpos says which renderer it used
                scratch.barcode(code, symbology, height=BARCODE_HEIGHT,
                                width=max(2, min(3, dots // modules)), pos="BELOW", font="A",
                                align_ct=True, check=True)
        except EscposError:
            self.qr(QR(block.data))
            return
        self.p._raw(scratch.output)
        self.p.ln()

    def qr(self, block: QR) -> None:
        self.style(align=Align.CENTER)
        dots = self.columns * DOTS_PER_COLUMN
        size = block.size
        modules = _qr_modules(block.data)
        while size > 1 and modules * size > dots - 2 * DOTS_PER_COLUMN:
            size -= 1
        native = bool(self.p.profile.supports("qrCode"))
        self.p.qr(block.data, size=size, native=native, image_arguments={"center": False})
        if native:
            self.p.ln()

    def block(self, block: Block) -> None:
        if isinstance(block, Text):
            self.text(block)
        elif isinstance(block, Pair):
            self.pair(block)
        elif isinstance(block, Rule):
            self.style()
            self.p.textln((block.char or "-")[0] * self.columns)
        elif isinstance(block, Blank):
            self.p.ln(block.lines)
        elif isinstance(block, Barcode):
            self.barcode(block)
        elif isinstance(block, QR):
            self.qr(block)
        elif isinstance(block, Cut):
            self.style()
            self.p.cut(mode="PART" if block.partial else "FULL")


def _barcode_code(block: Barcode) -> tuple[str, str, int | None]:
    """(data as sent to the printer, symbology, width in modules) or modules None when the
    symbology cannot carry this data."""
    data = block.data.strip()
    kind = block.symbology.upper().replace("-", "").replace("_", "")
    if kind == "ITF" and data.isdigit() and len(data) % 2 == 0 and len(data) >= 2:
        return data, "ITF", 9 * len(data) + 9
    if kind in ("EAN13", "JAN13") and data.isdigit() and len(data) in (12, 13):
        return data, "EAN13", 95 + 20
    if not data or not all(32 <= ord(c) < 127 for c in data):
        return data, "CODE128", None
    if data.isdigit() and len(data) % 2 == 0:
        pairs = "".join(chr(int(data[i : i + 2])) for i in range(0, len(data), 2))
        return "{C" + pairs, "CODE128", 11 * (len(data) // 2) + 35 + 20
    return "{B" + data.replace("{", "{{"), "CODE128", 11 * len(data) + 35 + 20


def _qr_modules(data: str) -> int:
    import qrcode

    code = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(data)
    code.make(fit=True)
    return int(code.modules_count)


def render(receipt: Receipt, columns: int = 48, *, profile: str | None = None) -> bytes:
    """The receipt as ESC/POS bytes for a ``columns``-wide printer (32, 42 or 48)."""
    w = _Writer(profile, columns)
    w.p.hw("INIT")
    for block in receipt.blocks:
        w.block(block)
    w.style()
    return bytes(w.p.output)


def copy_banner(columns: int, number: int, *, profile: str | None = None) -> bytes:
    """The ``COPY`` banner a reprint starts and ends with (``number`` counts the reprints)."""
    label = f"{COPY_BANNER} {number}" if number > 1 else COPY_BANNER
    blocks: tuple[Block, ...] = (
        Text(f"*** {label} ***", bold=True, size=Size.DOUBLE, align=Align.CENTER, invert=True),
        Text("Reprint: not the original", align=Align.CENTER),
    )
    body = render(Receipt("copy", "", blocks), columns, profile=profile)
    return body[len(b"\x1b@"):] if body.startswith(b"\x1b@") else body


_CUT_TAIL = b"\x1bd\x06"


def mark_copy(data: bytes, columns: int, number: int, *, profile: str | None = None) -> bytes:
    """A reprint of already rendered bytes: the ``COPY`` banner right after the initialisation
    and again just before the final cut, so both ends of the paper say it."""
    banner = copy_banner(columns, number, profile=profile)
    head = b"\x1b@" if data.startswith(b"\x1b@") else b""
    body = data[len(head):]
    tail_at = body.rfind(_CUT_TAIL)
    if tail_at < 0:
        return head + banner + body + banner
    return head + banner + body[:tail_at] + banner + body[tail_at:]
