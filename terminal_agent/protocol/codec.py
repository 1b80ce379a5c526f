"""JSON in and out of the wire models.

- ``encode`` validates strictly first (types, then every model's ``RULES``) and raises
  ``ValidationError`` naming the JSON path (``originator.terminalId``) before a byte is sent.
- ``decode`` is lenient like Electrum's own mappers: unknown fields and enum values, over-long
  ids, numbers sent as strings and free-form ``detailMessage`` all pass; only non-JSON or a
  wrong shape raises ``DecodeError``.
- ``decode_strict`` reads a body under the agent's own strict rules: ``ValidationError``. (The
  simulator does not use it: a server checks less, see ``terminal_agent/sim/validation.py``.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar, overload

import msgspec

from terminal_agent.errors import AgentError, ValidationError
from terminal_agent.protocol.common import Model
from terminal_agent.protocol.operations import SPECS, Op
from terminal_agent.protocol.rules import Rule
from terminal_agent.typeinfo import ready

T = TypeVar("T")
_ENCODER = msgspec.json.Encoder(decimal_format="number")  # ExchangeRate.rate is a JSON number


# The largest answer body the agent reads, after decompression (a switch answer is a few kB;
# beyond this bound a body is unreadable, never parsed).
MAX_BODY = 4 * 1024 * 1024


class DecodeError(AgentError):
    """A body that is not JSON or not the expected shape (the answer cannot be used)."""


def encode(msg: Any) -> bytes:
    """Strictly validated JSON bytes of ``msg`` (a model or a list of models)."""
    validate(msg)
    return _ENCODER.encode(msg)


def validate(msg: Any) -> None:
    """Raise ``ValidationError`` for the first broken rule in ``msg``; return None if clean."""
    _walk(msg, "")
    _check_types(msg)


@overload
def decode(model_type: type[T], data: bytes) -> T: ...
@overload
def decode(model_type: Any, data: bytes) -> Any: ...


def decode(model_type: Any, data: bytes) -> Any:
    """Lenient read of a body as ``model_type`` (a model, or e.g. ``list[Product]``)."""
    ready(model_type)
    try:
        result = msgspec.json.decode(data, type=model_type, strict=False)
    except msgspec.ValidationError as exc:
        field, reason = _explain(exc)
        raise DecodeError(f"body is not a {_name(model_type)}: {field}: {reason}") from exc
    except (msgspec.DecodeError, ValueError, TypeError, RecursionError) as exc:
        # ValueError covers invalid UTF-8; RecursionError a deeply nested body
        raise DecodeError(f"body is not valid JSON: {type(exc).__name__}: {exc}"[:200]) from exc
    return result


@overload
def decode_strict(model_type: type[T], data: bytes) -> T: ...
@overload
def decode_strict(model_type: Any, data: bytes) -> Any: ...


def decode_strict(model_type: Any, data: bytes) -> Any:
    """Read a body under the agent's strict rules: any broken rule raises ``ValidationError``."""
    try:
        raw = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise ValidationError("(body)", "is not valid JSON") from exc
    ready(model_type)
    try:
        msg = msgspec.convert(raw, model_type, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationError(*_explain(exc)) from exc
    _walk(msg, "")
    return msg


# Query strings that must carry one of several groups of parameters.
_QUERY_ALTERNATIVES: dict[Op, tuple[tuple[str, ...], ...]] = {
    Op.PURCHASE_STATUS: (("originalMsgId",), ("purchaseReference", "provider")),
    Op.MT_ORDER_LOOKUP: (("orderRedeemRef",), ("remittanceRef",)),
}


def validate_query(op: Op, params: Mapping[str, Any]) -> None:
    """Check a GET operation's query parameters (required ones, patterns, alternatives)."""
    for q in SPECS[op].query:
        _check_param(q.name, params.get(q.name), q.required, q.pattern)
    groups = _QUERY_ALTERNATIVES.get(op)
    if groups and not any(all(params.get(n) for n in g) for g in groups):
        wanted = " or ".join("+".join(g) for g in groups)
        raise ValidationError(groups[0][0], f"one of {wanted} is required")


# --- internals -------------------------------------------------------------------------------


def _check_param(name: str, value: Any, required: bool, pattern: str | None) -> None:
    if value is None or value == "":
        if required:
            raise ValidationError(name, "is required")
        return
    if pattern and not re.fullmatch(pattern, str(value)):
        raise ValidationError(name, f"must match {pattern}")

_PATH_RE = re.compile(r" - at `\$(.*)`$")
_MISSING_RE = re.compile(r"Object missing required field `([^`]+)`")


def _explain(exc: msgspec.ValidationError) -> tuple[str, str]:
    """msgspec's ``Expected `int`, got `float` - at `$.a.b[0]``` as (``a.b[0]``, reason)."""
    text = str(exc)
    at = _PATH_RE.search(text)
    path = at.group(1).lstrip(".") if at else ""
    reason = _PATH_RE.sub("", text)
    missing = _MISSING_RE.match(reason)
    if missing:
        path = f"{path}.{missing.group(1)}" if path else missing.group(1)
        reason = "is required"
    if "got `null`" in reason:
        reason = "is required"
    return path or "(body)", reason.replace("`", "")


def _name(model_type: Any) -> str:
    return getattr(model_type, "__name__", str(model_type))


def _check_types(msg: Any) -> None:
    if isinstance(msg, list):
        for i, item in enumerate(msg):
            try:
                _check_types(item)
            except ValidationError as exc:
                raise ValidationError(f"[{i}].{exc.field}", exc.reason) from exc
        return
    if not isinstance(msg, msgspec.Struct):
        raise ValidationError("(body)", f"{type(msg).__name__} is not a wire model")
    ready(type(msg))
    try:
        msgspec.convert(msgspec.to_builtins(msg), type(msg), strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationError(*_explain(exc)) from exc


@cache
def _rules_for(cls: type) -> tuple[tuple[str, tuple[Rule, ...]], ...]:
    merged: dict[str, tuple[Rule, ...]] = {}
    for klass in reversed(cls.__mro__):
        merged.update(vars(klass).get("RULES", {}))
    return tuple(merged.items())


@cache
def _attr_names(cls: Any) -> dict[str, str]:
    return dict(zip(cls.__struct_encode_fields__, cls.__struct_fields__, strict=True))


def _lookup(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(obj, msgspec.Struct):
            return None
        obj = getattr(obj, _attr_names(type(obj))[part])
    return obj


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and not name.startswith("[") else f"{path}{name}"


def _walk(value: Any, path: str) -> None:
    if isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(item, _join(path, str(key)))
    elif isinstance(value, Model):
        _check_rules(value, path)
        for json_name, attr in _attr_names(type(value)).items():
            _walk(getattr(value, attr), _join(path, json_name))


def _check_rules(obj: Model, path: str) -> None:
    for name, rules in _rules_for(type(obj)):
        value = _lookup(obj, name)
        for rule in rules:
            if value is None and not rule.applies_to_none:
                continue
            if not rule.check(value):
                raise ValidationError(_join(path, name), rule.message)
