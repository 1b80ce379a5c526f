"""Declarative field constraints: each model lists ``{"jsonField": (rule, ...)}`` in ``RULES``.

These are the agent's own **outgoing** checks, deliberately stricter than Electrum's servers (ids
must be UUID v4, times carry milliseconds, doc-required fields are demanded): the till sends only
what every server accepts. What a server refuses is a different, smaller set, derived from the
interface definitions into ``terminal_agent/sim/validation.py``; the simulator enforces that one.

A rule is a predicate plus the message shown when it fails. ``required`` is the only rule that
looks at an absent (``None``) value; every other rule is skipped when the field is absent.
Patterns match the whole string (Java ``@Pattern`` semantics).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any


@dataclass(frozen=True, slots=True)
class Rule:
    check: Callable[[Any], bool]
    message: str
    applies_to_none: bool = False


Rules = dict[str, tuple[Rule, ...]]


def _present(value: Any) -> bool:
    return value is not None


required = Rule(_present, "is required", applies_to_none=True)


def length(lo: int, hi: int) -> Rule:
    text = f"must be exactly {lo} characters" if lo == hi else f"must be {lo} to {hi} characters"
    return Rule(lambda v: isinstance(v, str) and lo <= len(v) <= hi, text)


def max_len(hi: int) -> Rule:
    return Rule(lambda v: isinstance(v, str) and len(v) <= hi, f"must be at most {hi} characters")


def pattern(regex: str, what: str | None = None) -> Rule:
    compiled = re.compile(regex)
    return Rule(
        lambda v: isinstance(v, str) and compiled.fullmatch(v) is not None,
        f"must be {what}" if what else f"must match {regex}",
    )


def one_of(values: type[Enum] | Iterable[str]) -> Rule:
    allowed = frozenset(str(getattr(v, "value", v)) for v in values)
    return Rule(lambda v: str(getattr(v, "value", v)) in allowed, "is not an allowed value")


def _is_int(value: Any) -> bool:
    return type(value) is int


minor_units = Rule(_is_int, "must be an integer amount in minor units")
non_negative = Rule(lambda v: _is_int(v) and v >= 0, "must be a non-negative integer")

UUID4 = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
RFC3339_MS = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(?:Z|[+-]\d{2}:\d{2})"
RFC3339 = r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})"
MSISDN = r"\+?[1-9]\d{1,14}"

uuid4 = pattern(UUID4, "a UUID v4")
time_ms = pattern(RFC3339_MS, "an RFC 3339 date-time with milliseconds")
date_time = pattern(RFC3339, "an RFC 3339 date-time")
currency = pattern(r"[0-9]{3}", "a 3-digit ISO 4217 numeric code such as \"710\"")
msisdn = pattern(MSISDN, "an E.164 number such as 27821234567")
country2 = length(2, 2)
