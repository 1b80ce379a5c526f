"""What a cashier types (core/entries.py): amounts with either decimal mark, references as the
slip prints them, voucher codes, ID numbers. Each refusal is one sentence."""

from __future__ import annotations

import pytest

from terminal_agent.core.entries import (
    id_number,
    order_reference,
    parse_amount,
    person_name,
    txn_reference,
    voucher_code,
)
from terminal_agent.errors import ValidationError
from terminal_agent.receipts.formatting import group


@pytest.mark.parametrize(("typed", "minor"), [
    ("5,50", 550),          # issue 16, defect 2: the comma is South Africa's decimal mark
    ("5.50", 550), ("5", 500), ("29,5", 2950), ("29.", 2900), (",50", 50),
    ("1 250,00", 125000), ("12 345 678", 1234567800), ("  7 ", 700), ("1\u00a0250", 125000),
])
def test_amounts_read_with_either_decimal_mark(typed, minor):
    assert parse_amount(typed) == minor


@pytest.mark.parametrize(("typed", "says"), [
    ("-5", "no sign"), ("5-", "no sign"), ("+5", "no sign"),          # never dropped silently
    ("1,250", "could mean thousands or cents"), ("1.250", "could mean thousands or cents"),  # ambiguous: refused
    ("1,250.00", "one decimal mark"), ("1.2.3", "one decimal mark"),
    ("5,5555", "at most 2 decimals"), ("1 25", "groups of three"), ("abc", "digits"),
    ("0", "more than zero"), ("", "enter an amount"), ("5,5a", "digits"),
])
def test_amounts_refused_with_a_sentence(typed, says):
    with pytest.raises(ValidationError) as caught:
        parse_amount(typed)
    assert says in caught.value.reason


def test_amount_over_the_maximum_names_it():
    with pytest.raises(ValidationError, match="at most 1,000.00"):
        parse_amount("1000,01", maximum=100_000)


def test_order_reference_accepted_as_the_slip_prints_it():
    ref = "48203917562038174502"
    printed = group(ref)  # what the send-money slip shows: "4820 3917 5620 3817 4502"
    assert printed != ref
    for typed in (printed, ref, "4820-3917-5620-3817-4502", f"  {printed}  "):
        assert order_reference(typed) == ref
    assert order_reference("ab12 cd34") == "AB12CD34"


@pytest.mark.parametrize(("typed", "says"), [
    ("", "enter the collection reference"), ("4820/3917", "letters and digits only"),
    ("12345", "6 to 40"), ("1" * 41, "6 to 40"),
])
def test_order_reference_format_checked_before_asking(typed, says):
    with pytest.raises(ValidationError) as caught:
        order_reference(typed)
    assert says in caught.value.reason


def test_voucher_code_keeps_case_drops_grouping():
    assert voucher_code("2500 9999-8888 7777") == "2500999988887777"
    assert voucher_code("AbC-123") == "AbC123"
    with pytest.raises(ValidationError):
        voucher_code("12#45678")


def test_txn_reference_and_id_number_and_name():
    assert txn_reference(" 3f9a-2c71 ") == "3F9A2C71"
    whole = "3f9a2c71-0000-4000-8000-000000000000"
    assert txn_reference(whole.upper()) == whole
    assert id_number("8001 0150 0908 7") == "8001015009087"
    with pytest.raises(ValidationError, match="6 to 20"):
        id_number("12")
    assert person_name("  Thandiwe   Nkosi ") == "Thandiwe Nkosi"
    with pytest.raises(ValidationError):
        person_name(" ")
