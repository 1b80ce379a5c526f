"""Small formatting helpers shared by the receipts and the cashier UI: money, masking, dates."""

from __future__ import annotations

from datetime import datetime


def format_amount(minor: int, symbol: str = "R", *, decimals: int = 2, thousands: str = ",") -> str:
    """Minor units to display text: ``format_amount(2900, "R") == "R 29.00"``,
    ``format_amount(-125000, "R") == "-R 1,250.00"``."""
    sign = "-" if minor < 0 else ""
    units, cents = divmod(abs(int(minor)), 10**decimals)
    whole = f"{units:,}".replace(",", thousands)
    number = f"{whole}.{cents:0{decimals}d}" if decimals else whole
    return f"{sign}{symbol} {number}" if symbol else f"{sign}{number}"


def mask_tail(value: str, keep: int = 4, char: str = "*") -> str:
    """Everything but the last ``keep`` characters replaced: ``"*******4567"``. Values of ``keep``
    characters or fewer are masked whole, so a short secret never shows in clear."""
    value = value.strip()
    if len(value) <= keep:
        return char * len(value)
    return char * (len(value) - keep) + value[-keep:]


def mask_msisdn(msisdn: str) -> str:
    """``mask_msisdn("27821234567") == "*******4567"`` (a leading ``+`` is kept)."""
    msisdn = msisdn.strip()
    if msisdn.startswith("+"):
        return "+" + mask_tail(msisdn[1:])
    return mask_tail(msisdn)


def mask_code(code: str) -> str:
    """A voucher or token code with all but its last 4 characters hidden (spaces dropped)."""
    return mask_tail("".join(code.split()))


def group(text: str, size: int = 4, sep: str = " ") -> str:
    """``"1234567812345678"`` -> ``"1234 5678 1234 5678"``: long numbers are read aloud and typed
    in groups."""
    text = "".join(text.split())
    return sep.join(text[i : i + size] for i in range(0, len(text), size))


def format_when(when: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return when.strftime(fmt)
