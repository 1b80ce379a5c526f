"""Server-side validation: what Electrum's servers refuse with 400 ``FORMAT_ERROR``, and no more.

Two sets of rules exist in this project, on purpose:

- **The agent's outgoing checks** (``terminal_agent/protocol/rules.py``, run by ``codec.encode``)
  are stricter than any server: message ids must be UUID v4, times must carry milliseconds,
  optional fields the references describe (e.g. ``ThirdPartyIdentifier.transactionIdentifier``)
  are demanded, phone numbers and country codes are checked. The till sends only what every
  server accepts.
- **These rules** are what Electrum's servers check, taken from the interface definitions by
  ``tests/server_rules_source.py`` into ``server_rules.json`` (the product never reads the
  reference folder): the Java Bean Validation annotations of airtime v5 and money transfer v2
  (``@NotNull``, ``@Length``, ``@Pattern``, ``@Min``, cascading only through ``@Valid`` fields),
  and the SUV v1 Swagger. So a message ``id`` is any string (Electrum's own examples use UUIDs of
  other versions), a ``time`` is any RFC 3339 date-time (offset or ``Z``, with or without a
  fraction), unknown fields are ignored and an optional field may be ``null``.

JSON types are checked as the definitions declare them (Jackson's scalar coercions are not
imitated). Every broken rule is reported, each as ``{"field", "msg", "value"}`` with the JSON path
of the field (``originator.terminalId``, ``thirdPartyIdentifiers[0].institutionId``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII)


@dataclass(frozen=True, slots=True)
class FormatError:
    field: str
    msg: str
    value: Any = None

    def to_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"field": self.field, "msg": self.msg}
        if self.value is not None and not isinstance(self.value, dict | list):
            item["value"] = self.value
        return item


@cache
def _rules() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("server_rules.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)["interfaces"]
    return loaded


def operation(interface: str, method: str, path: str) -> dict[str, Any] | None:
    """The rules of one operation (``path`` is the template, e.g. ``/suv/v1/redemptions``)."""
    found: dict[str, Any] | None = _rules()[interface]["operations"].get(f"{method} {path}")
    return found


def body_errors(interface: str, method: str, path: str, body: Any) -> list[FormatError]:
    """Every rule ``body`` breaks (an empty list when the server would accept it)."""
    rules = operation(interface, method, path)
    if rules is None or rules["body"] is None:
        return []
    if not isinstance(body, dict):
        return [FormatError("(body)", "must be a JSON object")]
    return list(_Checker(_rules()[interface]).model(rules["body"], body, ""))


def query_errors(interface: str, path: str, query: Mapping[str, str]) -> list[FormatError]:
    """Every declared query parameter that is missing (when required) or breaks its pattern."""
    rules = operation(interface, "GET", path)
    errors = []
    for param in (rules or {}).get("query", []):
        value = query.get(param["name"])
        if value is None:
            if param["required"]:
                errors.append(FormatError(param["name"], "is required"))
        elif param["pattern"] and not _matches(param["pattern"], value):
            errors.append(FormatError(param["name"], f"must match {param['pattern']}", value))
    return errors


def is_date_time(value: str) -> bool:
    """An RFC 3339 ``date-time`` (section 5.6) that names a real instant."""
    found = RFC3339.fullmatch(value)
    if found is None:
        return False
    date, clock, fraction, offset = found.groups()
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        datetime.fromisoformat(f"{date}T{clock}{offset}")
    except ValueError:
        return False
    return True


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


def _matches(pattern: str, value: str) -> bool:
    """Java ``@Pattern``: the whole string must match."""
    return _compiled(pattern).fullmatch(value) is not None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class _Checker:
    def __init__(self, rules: dict[str, Any]) -> None:
        self.models: dict[str, Any] = rules["models"]
        self.enums: dict[str, list[str]] = rules["enums"]

    def model(self, name: str, value: Any, path: str) -> Iterator[FormatError]:
        spec = self.models[name]
        if not isinstance(value, dict):
            yield FormatError(path or "(body)", "must be a JSON object", value)
            return
        if "discriminator" in spec:
            yield from self._variant(spec, value, path)
            return
        for field in spec["required"]:
            if value.get(field) is None:
                yield FormatError(_join(path, field), "is required")
        for field, rule in spec["fields"].items():
            if value.get(field) is not None:
                yield from self.field(rule, value[field], _join(path, field))

    def _variant(self, spec: dict[str, Any], value: dict[str, Any],
                 path: str) -> Iterator[FormatError]:
        key = spec["discriminator"]
        variant = spec["variants"].get(value.get(key))
        if variant is None:
            yield FormatError(_join(path, key), "is not an allowed value", value.get(key))
        else:
            yield from self.model(variant, value, path)

    def field(self, rule: dict[str, Any], value: Any, path: str) -> Iterator[FormatError]:
        if "ref" in rule:
            yield from self.model(rule["ref"], value, path)
        elif "enum" in rule:
            allowed = rule["enum"] if isinstance(rule["enum"], list) else self.enums[rule["enum"]]
            if value not in allowed:
                yield FormatError(path, "is not an allowed value", value)
        elif not _is_type(rule["type"], value):
            yield FormatError(path, f"must be a JSON {rule['type']}", value)
        elif isinstance(value, str):
            yield from _string_errors(rule, value, path)
        elif isinstance(value, list) and "items" in rule:
            for i, item in enumerate(value):
                if item is not None:
                    yield from self.field(rule["items"], item, f"{path}[{i}]")
        elif isinstance(value, dict) and "values" in rule:
            for key, item in value.items():
                if item is not None:
                    yield from self.field(rule["values"], item, _join(path, str(key)))
        elif "minimum" in rule and value < rule["minimum"]:
            yield FormatError(path, f"must be at least {rule['minimum']}", value)


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "object": (dict,), "array": (list,),
}


def _is_type(kind: str, value: Any) -> bool:
    if kind == "any":
        return True
    if isinstance(value, bool) and kind != "boolean":
        return False
    return isinstance(value, _TYPES[kind])


def _string_errors(rule: dict[str, Any], value: str, path: str) -> Iterator[FormatError]:
    lo, hi = rule.get("minLength", 0), rule.get("maxLength")
    if len(value) < lo or (hi is not None and len(value) > hi):
        size = f"{lo} to {hi}" if hi is not None else f"at least {lo}"
        yield FormatError(path, f"must be {size} characters long", value)
    if "pattern" in rule and not _matches(rule["pattern"], value):
        yield FormatError(path, f"must match {rule['pattern']}", value)
    if rule.get("format") == "date-time" and not is_date_time(value):
        yield FormatError(path, "must be an RFC 3339 date-time", value)
