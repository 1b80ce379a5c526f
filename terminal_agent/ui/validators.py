"""Field validators: every field says what is wrong while the cashier types, in plain words."""

from __future__ import annotations

from collections.abc import Callable

from textual.validation import ValidationResult, Validator

from terminal_agent import core as entries  # the façade's readers of what is typed
from terminal_agent.core import normalise_msisdn
from terminal_agent.errors import ValidationError


class Checked(Validator):
    """Wraps a parse function that raises ``ValidationError`` with the cashier's message."""

    def __init__(self, parse: Callable[[str], object]) -> None:
        super().__init__()
        self.parse = parse

    def validate(self, value: str) -> ValidationResult:
        try:
            self.parse(value)
        except ValidationError as exc:
            return self.failure(exc.reason.capitalize() + ".")
        return self.success()


def amount(maximum: int | None = None) -> Checked:
    return Checked(lambda text: entries.parse_amount(text, maximum=maximum))


def msisdn() -> Checked:
    return Checked(normalise_msisdn)


def order_reference() -> Checked:
    return Checked(entries.order_reference)


def voucher_code() -> Checked:
    return Checked(entries.voucher_code)


def id_number() -> Checked:
    return Checked(entries.id_number)


def name() -> Checked:
    return Checked(entries.person_name)


# what an amount field lets through: digits, both decimal marks, spaces, and the signs (so that a
# minus is refused with a sentence, never dropped silently)
AMOUNT_KEYS = r"[\d.,\s+-]*"


def required(what: str, *, minimum: int = 1, maximum: int = 120,
             digits: bool = False) -> Checked:
    def parse(text: str) -> str:
        value = text.strip()
        if not value:
            raise ValidationError(what, f"enter the {what}")
        if digits and not value.isdigit():
            raise ValidationError(what, "digits only")
        if not minimum <= len(value) <= maximum:
            span = f"{minimum} to {maximum}" if minimum != maximum else str(minimum)
            raise ValidationError(what, f"{span} characters")
        return value
    return Checked(parse)


class SameAs(Validator):
    """The second entry of a number typed twice."""

    def __init__(self, first: Callable[[], str], normalise: Callable[[str], str]) -> None:
        super().__init__()
        self.first = first
        self.normalise = normalise

    def validate(self, value: str) -> ValidationResult:
        try:
            mine = self.normalise(value)
        except ValidationError as exc:
            return self.failure(exc.reason.capitalize() + ".")
        try:
            theirs = self.normalise(self.first())
        except ValidationError:
            return self.failure("Fix the first entry.")
        if mine != theirs:
            return self.failure("The two numbers differ. Type it again.")
        return self.success()
