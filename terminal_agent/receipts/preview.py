"""Our own ESC/POS bytes back into what the paper shows: a list of printed items, plain text.

``parse`` plays the bytes through a small model of a thermal printer (``columns`` normal
characters per line, automatic wrap at the right edge, alignment taken at the start of a line) and
returns lines of styled runs, barcodes, QR codes, raster images, cuts and drawer kicks.
``to_text`` turns that into plain text for golden tests and the terminal; ``preview_png.to_png``
draws it. Only the commands python-escpos emits for our layouts (and the common real-time ones)
are understood; anything else raises ``PreviewError`` so that a layout change cannot slip past
the golden tests unseen.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from functools import cache

ESC, GS, DLE, FS = 0x1B, 0x1D, 0x10, 0x1C

BARCODE_NAMES = {
    0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "CODABAR",
    65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39", 70: "ITF", 71: "CODABAR",
    72: "CODE93", 73: "CODE128", 74: "GS1-128",
}


class PreviewError(ValueError):
    """The bytes hold a command this previewer does not know."""


@dataclass
class Run:
    text: str
    bold: bool = False
    underline: bool = False
    invert: bool = False
    width: int = 1
    height: int = 1

    def same_style(self, other: Run) -> bool:
        return (self.bold, self.underline, self.invert, self.width, self.height) == (
            other.bold, other.underline, other.invert, other.width, other.height)


@dataclass
class Line:
    runs: list[Run] = field(default_factory=list)
    align: str = "left"

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)

    @property
    def cells(self) -> int:
        return sum(len(r.text) * r.width for r in self.runs)

    @property
    def height(self) -> int:
        return max((r.height for r in self.runs), default=1)


@dataclass
class BarcodeItem:
    symbology: str
    data: str
    height: int
    module: int
    hri: int  # 0 none, 1 above, 2 below, 3 both
    align: str


@dataclass
class QRItem:
    data: str
    module: int
    ec: str  # L, M, Q, H
    align: str


@dataclass
class ImageItem:
    width: int  # dots
    height: int
    rows: list[bytes]  # packed bits, MSB = leftmost dot, 1 = black
    align: str
    scale_x: int = 1
    scale_y: int = 1


@dataclass
class CutItem:
    partial: bool


@dataclass
class DrawerKick:
    pin: int
    on_ms: int
    off_ms: int


Item = Line | BarcodeItem | QRItem | ImageItem | CutItem | DrawerKick


@cache
def _codepages(profile: str | None) -> dict[int, str]:
    from escpos.capabilities import CAPABILITIES, get_profile  # slow to import: not at start

    out: dict[int, str] = {}
    for name, number in get_profile(profile).get_code_pages().items():
        codec = CAPABILITIES["encodings"].get(name, {}).get("python_encode")
        if codec:
            out[int(number)] = codec
    return out


class _Paper:
    """The printer model: text style state, the line being built and the items printed."""

    def __init__(self, columns: int, profile: str | None) -> None:
        self.columns = columns
        self.items: list[Item] = []
        self.codepages = _codepages(profile)
        self.reset()
        self.line = Line()

    def reset(self) -> None:
        self.style = Run("")
        self.align = "left"
        self.codec = self.codepages.get(0, "cp437")
        self.bc_height, self.bc_module, self.bc_hri = 162, 3, 0
        self.qr_module, self.qr_ec, self.qr_data = 3, "L", ""

    def put(self, ch: str) -> None:
        if not self.line.runs:
            self.line.align = self.align
        if self.line.cells + self.style.width > self.columns:
            self.newline()
            self.line.align = self.align
        last = self.line.runs[-1] if self.line.runs else None
        if last is not None and last.same_style(self.style):
            last.text += ch
        else:
            self.line.runs.append(Run(ch, self.style.bold, self.style.underline,
                                      self.style.invert, self.style.width, self.style.height))

    def newline(self) -> None:
        if not self.line.runs:
            self.line.align = self.align
        self.items.append(self.line)
        self.line = Line()

    def flush(self) -> None:
        if self.line.runs:
            self.newline()

    def feed(self, lines: int) -> None:
        if self.line.runs and lines:
            self.newline()
            lines -= 1
        for _ in range(lines):
            self.newline()

    def emit(self, item: Item) -> None:
        self.flush()
        self.items.append(item)


def parse(data: bytes, columns: int = 48, *, profile: str | None = None) -> list[Item]:
    """What the printer would put on paper for ``data``, item by item."""
    paper = _Paper(columns, profile)
    i = 0
    while i < len(data):
        b = data[i]
        if b == ESC:
            i = _esc(paper, data, i)
        elif b == GS:
            i = _gs(paper, data, i)
        elif b == DLE:
            i = _dle(data, i)
        elif b == FS:
            i = _fs(data, i)
        elif b == 0x0A:
            paper.newline()
            i += 1
        elif b == 0x09:
            for _ in range(8 - paper.line.cells % 8):
                paper.put(" ")
            i += 1
        elif b < 0x20:
            i += 1  # CR and other controls print nothing
        else:
            paper.put(bytes([b]).decode(paper.codec, errors="replace"))
            i += 1
    paper.flush()
    return paper.items


def _need(data: bytes, i: int, n: int) -> bytes:
    if i + n > len(data):
        raise PreviewError(f"truncated command at offset {i}")
    return data[i : i + n]


def _esc(p: _Paper, data: bytes, i: int) -> int:
    cmd = _need(data, i, 2)[1:2]
    if cmd == b"@":
        p.flush()
        p.reset()
        return i + 2
    if cmd in (b"2", b"<"):
        return i + 2
    n = _need(data, i, 3)[2]
    if cmd == b"!":
        p.style.bold = bool(n & 0x08)
        p.style.height = 2 if n & 0x10 else 1
        p.style.width = 2 if n & 0x20 else 1
        p.style.underline = bool(n & 0x80)
    elif cmd in (b"E", b"G"):
        p.style.bold = bool(n & 1)
    elif cmd == b"-":
        p.style.underline = n in (1, 2, 49, 50)
    elif cmd == b"a":
        p.align = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center",
                   50: "right"}.get(n, "left")
    elif cmd == b"t":
        p.codec = p.codepages.get(n, p.codec)
    elif cmd == b"d":
        p.feed(n)
    elif cmd == b"J":
        p.feed(1 if n else 0)
    elif cmd == b"p":
        on, off = _need(data, i, 5)[3:5]
        p.items.append(DrawerKick(2 if n in (0, 48) else 5, on * 2, off * 2))
        return i + 5
    elif cmd == b"c":
        return i + 4  # ESC c 3/4/5 n: panel and sensor settings
    elif cmd not in (b"{", b"3", b"M", b"R", b" ", b"V", b"U", b"r", b"="):
        raise PreviewError(f"unsupported command ESC {cmd!r} at offset {i}")
    return i + 3


def _gs(p: _Paper, data: bytes, i: int) -> int:
    cmd = _need(data, i, 2)[1:2]
    if cmd == b"(":
        return _gs_paren(p, data, i)
    if cmd == b"v":
        return _raster(p, data, i)
    if cmd == b"k":
        return _barcode(p, data, i)
    n = _need(data, i, 3)[2]
    if cmd == b"!":
        p.style.width = (n >> 4) + 1
        p.style.height = (n & 0x0F) + 1
    elif cmd == b"B":
        p.style.invert = bool(n & 1)
    elif cmd == b"V":
        p.emit(CutItem(partial=n in (1, 49, 66, 98, 104)))
        return i + (4 if n >= 65 else 3)
    elif cmd == b"h":
        p.bc_height = n
    elif cmd == b"w":
        p.bc_module = n
    elif cmd == b"H":
        p.bc_hri = n % 48 if n >= 48 else n
    elif cmd in (b"L", b"W", b"P"):
        return i + 4
    elif cmd not in (b"b", b"f", b"a", b"I", b"r"):
        raise PreviewError(f"unsupported command GS {cmd!r} at offset {i}")
    return i + 3


def _gs_paren(p: _Paper, data: bytes, i: int) -> int:
    head = _need(data, i, 5)
    fn, size = head[2:3], head[3] + 256 * head[4]
    body = _need(data, i + 5, size)
    end = i + 5 + size
    if fn == b"k" and size >= 2 and body[0] == 49:  # cn 49: QR code
        code, rest = body[1], body[2:]
        if code == 67 and rest:
            p.qr_module = rest[0]
        elif code == 69 and rest:
            p.qr_ec = {48: "L", 49: "M", 50: "Q", 51: "H"}.get(rest[0], "L")
        elif code == 80:
            p.qr_data = rest[1:].decode("utf-8", errors="replace")
        elif code == 81:
            p.emit(QRItem(p.qr_data, p.qr_module, p.qr_ec, p.align))
    return end


def _raster(p: _Paper, data: bytes, i: int) -> int:
    head = _need(data, i, 8)
    if head[2] not in (0, 48):
        raise PreviewError(f"unsupported command GS v {head[2]} at offset {i}")
    m = head[3] % 48 if head[3] >= 48 else head[3]
    x, y = head[4] + 256 * head[5], head[6] + 256 * head[7]
    body = _need(data, i + 8, x * y)
    rows = [body[r * x : (r + 1) * x] for r in range(y)]
    p.emit(ImageItem(x * 8, y, rows, p.align, 2 if m & 1 else 1, 2 if m & 2 else 1))
    return i + 8 + x * y


def _barcode(p: _Paper, data: bytes, i: int) -> int:
    m = _need(data, i, 3)[2]
    if m <= 6:
        end = data.find(b"\x00", i + 3)
        if end < 0:
            raise PreviewError(f"unterminated barcode at offset {i}")
        raw, nxt = data[i + 3 : end], end + 1
    else:
        n = _need(data, i, 4)[3]
        raw, nxt = _need(data, i + 4, n), i + 4 + n
    name = BARCODE_NAMES.get(m, f"barcode {m}")
    text = _code128_text(raw) if name == "CODE128" else raw.decode("ascii", errors="replace")
    p.emit(BarcodeItem(name, text, p.bc_height, p.bc_module, p.bc_hri, p.align))
    return nxt


def _code128_text(raw: bytes) -> str:
    """Human-readable data of an ESC/POS CODE128 payload (``{A``/``{B``/``{C`` code sets)."""
    out, codeset, j = [], "B", 0
    while j < len(raw):
        if raw[j] == 0x7B and j + 1 < len(raw):  # "{"
            sel = chr(raw[j + 1])
            if sel in "ABC":
                codeset = sel
            elif sel == "{":
                out.append("{")
            j += 2
            continue
        out.append(f"{raw[j]:02d}" if codeset == "C" else chr(raw[j]))
        j += 1
    return "".join(out)


def _dle(data: bytes, i: int) -> int:
    cmd = _need(data, i, 3)[1]
    if cmd in (0x04, 0x05):  # DLE EOT n, DLE ENQ n: real-time status, nothing on paper
        return i + 3
    if cmd == 0x14:
        return i + 5
    raise PreviewError(f"unsupported command DLE {cmd:#x} at offset {i}")


def _fs(data: bytes, i: int) -> int:
    cmd = _need(data, i, 2)[1:2]
    if cmd in (b".", b"&"):
        return i + 2
    raise PreviewError(f"unsupported command FS {cmd!r} at offset {i}")


def _placed(text: str, align: str, columns: int) -> str:
    if align == "center":
        text = " " * max(0, (columns - len(text)) // 2) + text
    elif align == "right":
        text = " " * max(0, columns - len(text)) + text
    return text.rstrip()


def item_text(item: Item, columns: int) -> list[str]:
    """Plain-text lines for one printed item (double-size characters count once here)."""
    if isinstance(item, Line):
        return [_placed(item.text, item.align, columns)]
    if isinstance(item, BarcodeItem | QRItem):
        label = "QR" if isinstance(item, QRItem) else item.symbology
        marker = f"[{label}: {item.data}]"
        wrapped = textwrap.wrap(marker, columns, break_on_hyphens=False) or [marker]
        return [_placed(part, item.align, columns) for part in wrapped]
    if isinstance(item, ImageItem):
        return [_placed(f"[image {item.width}x{item.height}]", item.align, columns)]
    if isinstance(item, CutItem):
        label = " partial cut " if item.partial else " cut "
        side = (columns - len(label) - 2) // 2
        return [("8<" + "-" * side + label + "-" * columns)[:columns]]
    return []


def to_text(data: bytes, columns: int = 48, *, profile: str | None = None) -> str:
    """Plain text of what the paper shows, one line per printed line, ending in a newline."""
    lines: list[str] = []
    for item in parse(data, columns, profile=profile):
        lines.extend(item_text(item, columns))
    return "\n".join(lines) + "\n"


def preview_files(data: bytes, columns: int, profile: str | None = None
                  ) -> tuple[str, bytes | None]:
    """What a ``preview://`` printer keeps of a job: its text and its PNG, or a sentence and no
    PNG when the bytes cannot be drawn (``devices.printers.Preview``; never raises)."""
    from terminal_agent.receipts.preview_png import to_png

    try:
        return to_text(data, columns, profile=profile), to_png(data, columns, profile=profile)
    except PreviewError as exc:
        return f"[cannot preview: {exc}]\n", None
