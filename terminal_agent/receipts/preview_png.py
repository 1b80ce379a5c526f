"""Draw parsed ESC/POS (``preview.parse``) as a PNG of the paper: 12x24-dot characters, bold,
double width and height, inverted text, barcodes, QR codes, raster images and cuts."""

from __future__ import annotations

import io
from functools import cache

import barcode as pybarcode
import qrcode
from PIL import Image, ImageDraw, ImageFont

from terminal_agent.receipts.preview import (
    BarcodeItem,
    CutItem,
    ImageItem,
    Item,
    Line,
    QRItem,
    Run,
    parse,
)

CELL_W, CELL_H = 12, 24
LINE_GAP = 6  # dots between lines (the printer's default line spacing is about 30 dots)
MARGIN = 16
BLACK, WHITE, GREY = 0, 255, 170

_PYBARCODE = {"CODE128": "code128", "ITF": "itf", "EAN13": "ean13", "EAN8": "ean8",
              "CODE39": "code39", "UPC-A": "upca", "CODABAR": "codabar"}
_QR_EC = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
          "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}


@cache
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSansMono.ttf", 20)
    except OSError:
        try:
            return ImageFont.load_default(size=20)
        except TypeError:  # Pillow without FreeType
            return ImageFont.load_default()


@cache
def _glyph(ch: str, bold: bool) -> Image.Image:
    """One character cell as a mask (255 = ink)."""
    cell = Image.new("L", (CELL_W, CELL_H), 0)
    draw = ImageDraw.Draw(cell)
    draw.text((0, 1), ch, font=_font(), fill=255)
    if bold:
        draw.text((1, 1), ch, font=_font(), fill=255)
    return cell


def _bars(item: BarcodeItem) -> list[bool] | None:
    name = _PYBARCODE.get(item.symbology)
    if name is None:
        return None
    try:
        modules = pybarcode.get_barcode_class(name)(item.data, writer=None).build()[0]
    except Exception:  # noqa: BLE001 - any data python-barcode refuses gets a placeholder box
        return None
    return [m == "1" for m in modules]


def _qr_matrix(item: QRItem) -> list[list[bool]]:
    code = qrcode.QRCode(border=0, error_correction=_QR_EC.get(item.ec, _QR_EC["L"]))
    code.add_data(item.data)
    code.make(fit=True)
    return [list(map(bool, row)) for row in code.get_matrix()]


class _Canvas:
    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.width = columns * CELL_W
        self.parts: list[tuple[Image.Image, int]] = []  # (strip, x offset)

    def x_for(self, width: int, align: str) -> int:
        if align == "center":
            return max(0, (self.width - width) // 2)
        if align == "right":
            return max(0, self.width - width)
        return 0

    def strip(self, height: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
        img = Image.new("L", (self.width, height), WHITE)
        self.parts.append((img, 0))
        return img, ImageDraw.Draw(img)

    def line(self, item: Line) -> None:
        height = item.height * CELL_H
        img, draw = self.strip(height + LINE_GAP)
        x = self.x_for(item.cells * CELL_W, item.align)
        for run in item.runs:
            w, h = CELL_W * run.width, CELL_H * run.height
            for ch in run.text:
                top = height - h
                if run.invert:
                    draw.rectangle((x, top, x + w - 1, top + h - 1), fill=BLACK)
                glyph = _glyph(ch, run.bold).resize((w, h), Image.Resampling.NEAREST)
                img.paste(WHITE if run.invert else BLACK, (x, top), glyph)
                if run.underline:
                    draw.line((x, height - 2, x + w - 1, height - 2), fill=BLACK, width=2)
                x += w

    def text_row(self, text: str, align: str) -> None:
        self.line(Line([Run(text)], align))

    def barcode(self, item: BarcodeItem) -> None:
        bars = _bars(item)
        if item.hri in (1, 3):
            self.text_row(item.data, item.align)
        if bars is None:
            img, draw = self.strip(item.height + LINE_GAP)
            draw.rectangle((0, 0, self.width - 1, item.height - 1), outline=BLACK, width=2)
            draw.text((8, 8), f"{item.symbology} {item.data}", font=_font(), fill=BLACK)
        else:
            # python-barcode draws ITF with a 2-module narrow bar; the printer's narrow bar is
            # one module of GS w dots.
            scale = item.module / (2 if item.symbology == "ITF" else 1)
            img, draw = self.strip(item.height + LINE_GAP)
            x = self.x_for(round(len(bars) * scale), item.align)
            for k, ink in enumerate(bars):
                left, right = x + round(k * scale), x + round((k + 1) * scale) - 1
                if ink and right >= left:
                    draw.rectangle((left, 0, right, item.height - 1), fill=BLACK)
        if item.hri in (2, 3):
            self.text_row(item.data, item.align)

    def qr(self, item: QRItem) -> None:
        matrix = _qr_matrix(item)
        size = len(matrix) * item.module
        img, draw = self.strip(size + 2 * LINE_GAP)
        x = self.x_for(size, item.align)
        for r, row in enumerate(matrix):
            for c, ink in enumerate(row):
                if ink:
                    left, top = x + c * item.module, LINE_GAP + r * item.module
                    draw.rectangle((left, top, left + item.module - 1, top + item.module - 1),
                                   fill=BLACK)

    def image(self, item: ImageItem) -> None:
        bitmap = Image.new("L", (item.width, item.height), WHITE)
        for y, row in enumerate(item.rows):
            for xb, byte in enumerate(row):
                for bit in range(8):
                    if byte & (0x80 >> bit):
                        bitmap.putpixel((xb * 8 + bit, y), BLACK)
        bitmap = bitmap.resize((item.width * item.scale_x, item.height * item.scale_y))
        img, _ = self.strip(bitmap.height)
        img.paste(bitmap.crop((0, 0, min(bitmap.width, self.width), bitmap.height)),
                  (self.x_for(bitmap.width, item.align), 0))

    def cut(self, item: CutItem) -> None:
        img, draw = self.strip(CELL_H)
        y = CELL_H // 2
        for x in range(0, self.width, 12):
            draw.line((x, y, x + 6, y), fill=GREY if item.partial else BLACK, width=2)
        draw.text((0, 0), "✂", font=_font(), fill=BLACK)

    def png(self) -> bytes:
        height = sum(part.height for part, _ in self.parts) + 2 * MARGIN
        page = Image.new("L", (self.width + 2 * MARGIN, height), WHITE)
        y = MARGIN
        for part, x in self.parts:
            page.paste(part, (MARGIN + x, y))
            y += part.height
        out = io.BytesIO()
        page.save(out, format="PNG", optimize=True)
        return out.getvalue()


def draw(items: list[Item], columns: int) -> bytes:
    canvas = _Canvas(columns)
    for item in items:
        if isinstance(item, Line):
            canvas.line(item)
        elif isinstance(item, BarcodeItem):
            canvas.barcode(item)
        elif isinstance(item, QRItem):
            canvas.qr(item)
        elif isinstance(item, ImageItem):
            canvas.image(item)
        elif isinstance(item, CutItem):
            canvas.cut(item)
    return canvas.png()


def to_png(data: bytes, columns: int = 48, *, profile: str | None = None) -> bytes:
    """A PNG picture of the paper that ``data`` would print."""
    return draw(parse(data, columns, profile=profile), columns)
