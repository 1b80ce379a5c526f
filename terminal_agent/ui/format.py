"""Cashier-facing text: amounts typed in major units, money shown in the configured currency."""

from __future__ import annotations

import re
import time
from datetime import datetime

from terminal_agent.errors import ValidationError
from terminal_agent.receipts import format_amount

_AMOUNT_RE = re.compile(r"\d+(\.\d*)?|\.\d+")


def parse_amount(text: str, *, field: str = "amount", maximum: int | None = None) -> int:
    """ "29" → 2900, "29.5" → 2950, "1 250,00" is refused (one decimal point, no separators).

    Raises ``ValidationError`` with a plain message for the cashier."""
    cleaned = text.strip().replace(" ", "")
    if not cleaned:
        raise ValidationError(field, "enter an amount")
    if not _AMOUNT_RE.fullmatch(cleaned):
        raise ValidationError(field, "digits and one decimal point only, like 29.50")
    whole, _, cents = cleaned.partition(".")
    if len(cents) > 2:
        raise ValidationError(field, "at most 2 decimals")
    minor = int(whole or "0") * 100 + int((cents + "00")[:2])
    if minor <= 0:
        raise ValidationError(field, "must be more than zero")
    if maximum is not None and minor > maximum:
        raise ValidationError(field, f"at most {format_amount(maximum, '')}")
    return minor


def money(minor: int, symbol: str = "R") -> str:
    return format_amount(minor, symbol)


def clock_text(at: float, fmt: str = "%H:%M:%S") -> str:
    return datetime.fromtimestamp(at).strftime(fmt)


def when_text(at: float, now: float | None = None) -> str:
    """Today's times as 14:05, older ones with the date."""
    now = time.time() if now is None else now
    day = datetime.fromtimestamp(at).date()
    if day == datetime.fromtimestamp(now).date():
        return clock_text(at, "%H:%M:%S")
    return clock_text(at, "%Y-%m-%d %H:%M")


def age_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def mask_pin(pin: str) -> str:
    """Once printed, nothing of a voucher PIN stays on screen (not even its last digits)."""
    return "•" * len(pin) + "  (on the printed slip)"


def group_digits(text: str, size: int = 4) -> str:
    return " ".join(text[i:i + size] for i in range(0, len(text), size))
