"""Cashier-facing text: money shown in the configured currency, times, masked PINs. (What a
cashier types is read by the core: ``core/entries.py``.)"""

from __future__ import annotations

import time
from datetime import datetime

from terminal_agent.receipts import format_amount


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
