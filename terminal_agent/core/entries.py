"""What a cashier types, read the way the till means it: amounts, references, voucher codes, ID
numbers and names. Plain text in, a clean value out, or a ``ValidationError`` whose ``reason``
is one sentence the cashier can act on. Nothing here asks the switch: a value that cannot be
right is refused before anything is sent.

Rules:
1. Amounts are typed in major units with either decimal mark: South Africa writes "5,50", a
   keypad gives "5.50"; both are R 5.50. Spaces may group thousands ("1 250,00"). An amount
   whose mark could be read both ways ("1,250": R 1 250 or R 1.25?) is refused, never guessed;
   so are a minus sign (a refund is its own act, never a negative sale) and more than 2 decimals.
2. A reference or code is accepted as the slip prints it: grouped with spaces or dashes, in
   either case. Order references are compared as letters and digits, upper case (the slip's
   grouping is not part of them).
3. Personal data (ID numbers, names) is checked for shape only and never logged.
"""

from __future__ import annotations

import re

from terminal_agent.errors import ValidationError
from terminal_agent.receipts.formatting import format_amount

MARKS = ",."
_DIGITS = re.compile(r"\d+")
_GROUPED = re.compile(r"\d{1,3}( \d{3})+")
_SEPARATORS = re.compile(r"[\s\-.]+")
_REFERENCE = re.compile(r"[A-Z0-9]+")
_ID_NUMBER = re.compile(r"[A-Z0-9]{6,20}")


def parse_amount(text: str, *, field: str = "amount", maximum: int | None = None) -> int:
    """ "29" → 2900, "29,5" and "29.5" → 2950, "1 250,00" → 125000 (minor units).
    Refused with a sentence: "1,250" (which mark?), "-5" (negative), "5,555", "abc", 0."""
    cleaned = text.strip().replace("\u00a0", " ")
    if not cleaned:
        raise ValidationError(field, "enter an amount")
    if "-" in cleaned or "+" in cleaned:
        raise ValidationError(field, "an amount has no sign: type it without the minus")
    whole, cents = _split_decimal(field, cleaned)
    minor = int(whole or "0") * 100 + int((cents + "00")[:2])
    if minor <= 0:
        raise ValidationError(field, "must be more than zero")
    if maximum is not None and minor > maximum:
        raise ValidationError(field, f"at most {format_amount(maximum, '')}")
    return minor


def _split_decimal(field: str, text: str) -> tuple[str, str]:
    """The rand and cents digits of ``text`` (rule 1), or a ValidationError saying why not."""
    marks = [ch for ch in text if ch in MARKS]
    if len(marks) > 1:
        raise ValidationError(field, "use one decimal mark only, like 1250,50 or 1250.50")
    whole, _, cents = text.replace(",", ".").partition(".")
    if " " in cents or not (_DIGITS.fullmatch(whole.replace(" ", "")) or whole == ""):
        raise ValidationError(field, "digits and one decimal mark only, like 29,50")
    if " " in whole and not _GROUPED.fullmatch(whole):
        raise ValidationError(field, "spaces only between groups of three digits, like 1 250")
    if cents and not _DIGITS.fullmatch(cents):
        raise ValidationError(field, "digits and one decimal mark only, like 29,50")
    if len(cents) == 3:
        raise ValidationError(field, f"{text} could mean thousands or cents: type it without "
                                     f"the mark, or with 2 decimals like {whole or 0},50")
    if len(cents) > 3:
        raise ValidationError(field, "at most 2 decimals")
    return whole.replace(" ", ""), cents


def change_due(given: str, due: int) -> int:
    """The change to hand back when the customer gives ``given`` (typed like any amount) for
    ``due`` (minor units); less than due is refused with the shortfall."""
    paid = parse_amount(given, field="cash given")
    if paid < due:
        raise ValidationError("cash given", f"{format_amount(paid, 'R')} is less than the "
                                            f"{format_amount(due, 'R')} due")
    return paid - due


def order_reference(text: str) -> str:
    """A money-transfer collection reference as the slip prints it ("4820 3917 5620",
    "4820-3917", lower case) → the reference ("48203917..."), checked for shape."""
    value = _SEPARATORS.sub("", text).upper()
    if not value:
        raise ValidationError("orderRedeemRef", "enter the collection reference from the slip")
    if not _REFERENCE.fullmatch(value):
        raise ValidationError("orderRedeemRef", "a collection reference has letters and digits "
                                                "only: check the slip")
    if not 6 <= len(value) <= 40:
        raise ValidationError("orderRedeemRef", f"a collection reference has 6 to 40 letters "
                                                f"and digits; this one has {len(value)}")
    return value


def voucher_code(text: str) -> str:
    """A digital voucher's code as printed or scanned (groups with spaces or dashes dropped; the
    case is kept: an issuer's code may be case sensitive)."""
    value = re.sub(r"[\s\-]+", "", text)
    if not value:
        raise ValidationError("voucher.code", "enter the voucher code")
    if not value.isalnum():
        raise ValidationError("voucher.code", "a voucher code has letters and digits only")
    if not 6 <= len(value) <= 40:
        raise ValidationError("voucher.code", "a voucher code has 6 to 40 letters and digits")
    return value


def txn_reference(text: str) -> str:
    """The till's own reference (8 characters on every slip, or a transaction id) as typed."""
    value = text.strip()
    if len(value) == 36 and value.count("-") == 4:  # a whole transaction id
        return value.lower()
    return _SEPARATORS.sub("", value).upper()


def id_number(text: str) -> str:
    """An identity document number: 6 to 20 letters or digits as on the document."""
    value = _SEPARATORS.sub("", text).upper()
    if not _ID_NUMBER.fullmatch(value):
        raise ValidationError("idNumber", "6 to 20 letters or digits, as on the document")
    return value


def person_name(text: str) -> str:
    """A first or last name as on the ID document (1 to 40 characters)."""
    value = " ".join(text.split())
    if not 1 <= len(value) <= 40:
        raise ValidationError("name", "1 to 40 characters, as on the ID document")
    return value


def last4(value: str) -> str:
    """What of a personal number may be shown or printed: its last 4 characters."""
    return value[-4:]


def normalise_msisdn(text: str) -> str:
    """Cashier input → E.164 digits: "082 123 4567" → "27821234567" (South Africa default)."""
    digits = "".join(ch for ch in text if ch.isdigit() or ch == "+").lstrip("+")
    if digits.startswith("0") and len(digits) == 10:
        digits = "27" + digits[1:]
    if not (digits.isdigit() and 11 <= len(digits) <= 15 and digits[0] != "0"):
        raise ValidationError("msisdn", "enter a mobile number such as 082 123 4567")
    return digits


__all__ = ["change_due", "id_number", "last4", "normalise_msisdn", "order_reference", "parse_amount",
           "person_name", "txn_reference", "voucher_code"]
