"""What a receipt is: an ordered list of typed blocks, independent of paper width.

Layouts (``layouts.py``) build a ``Receipt`` from plain data; ``render.py`` turns it into ESC/POS
bytes for a given number of columns, wrapping long text so that nothing is cut off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Align(StrEnum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


class Size(StrEnum):
    NORMAL = "normal"
    TALL = "tall"  # double height
    WIDE = "wide"  # double width
    DOUBLE = "double"  # double width and height

    @property
    def width_factor(self) -> int:
        return 2 if self in (Size.WIDE, Size.DOUBLE) else 1

    @property
    def height_factor(self) -> int:
        return 2 if self in (Size.TALL, Size.DOUBLE) else 1


@dataclass(frozen=True)
class Text:
    """A paragraph: wrapped at the column width (halved for double width)."""

    text: str
    bold: bool = False
    size: Size = Size.NORMAL
    align: Align = Align.LEFT
    invert: bool = False
    # Even out the wrapped lines (a PIN in groups of 4 breaks 2 + 2, not 3 + 1).
    balanced: bool = False
    # Continuation lines start this many spaces in (bullets: "- " then text under the text).
    indent: int = 0


@dataclass(frozen=True)
class Pair:
    """``label .......... value`` on one line, or the value right-aligned on the next line when
    both do not fit."""

    label: str
    value: str
    bold: bool = False


@dataclass(frozen=True)
class Rule:
    char: str = "-"


@dataclass(frozen=True)
class Blank:
    lines: int = 1


@dataclass(frozen=True)
class Barcode:
    """A one-dimensional barcode printed by the printer itself (``ITF``, ``CODE128``, ...)."""

    data: str
    symbology: str = "CODE128"


@dataclass(frozen=True)
class QR:
    data: str
    size: int = 6  # module size in dots (1-16)


@dataclass(frozen=True)
class Cut:
    partial: bool = False


Block = Text | Pair | Rule | Blank | Barcode | QR | Cut


@dataclass(frozen=True)
class Receipt:
    """One customer (or shop) document. ``contains_pin`` marks a cash-equivalent secret on it:
    such a receipt is only reprinted on a supervisor's say-so."""

    kind: str
    reference: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)
    contains_pin: bool = False

    def texts(self) -> list[str]:
        """Every piece of text on the receipt (for tests and searching)."""
        out: list[str] = []
        for b in self.blocks:
            if isinstance(b, Text):
                out.append(b.text)
            elif isinstance(b, Pair):
                out.extend((b.label, b.value))
        return out
