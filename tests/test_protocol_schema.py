"""What the builders send, for EVERY operation, checked against Electrum's published schemas in
``../shared/electrum/schema`` (strict variants, the operations tables and the SUV Swagger).
Skips cleanly when that folder is not beside the project."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from terminal_agent.protocol import codec
from terminal_agent.protocol import common as cm
from terminal_agent.protocol.operations import SPECS, Op
from tests.test_protocol_builders import built

SCHEMAS = Path(__file__).parents[2] / "shared" / "electrum" / "schema"
AIRTIME = SCHEMAS / "airtime-v5.24.0.schema.json"
MONEYTRANSFER = SCHEMAS / "moneytransfer-v2.22.0.schema.json"
SUV = SCHEMAS / "suv-v1.14.0-swagger.yaml"

pytestmark = pytest.mark.skipif(not SCHEMAS.is_dir(), reason="../shared/electrum not present")


@cache
def _json_schema(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@cache
def _swagger() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    data: dict[str, Any] = yaml.safe_load(SUV.read_text())
    return data


def _norm(path: str) -> str:
    return path.rstrip("/")


def _operation(op: Op) -> tuple[Any, list[dict[str, Any]]]:
    """(a validator for the body or None, the declared query parameters) for ``op``."""
    spec = SPECS[op]
    if spec.interface == "suv":
        return _swagger_operation(spec.method, spec.path)
    file, prefix = (AIRTIME, "") if spec.interface == "airtime" else (MONEYTRANSFER,
                                                                      "/moneytransfer/v2")
    doc = _json_schema(file)
    for entry in doc["operations"]:
        if entry["method"] == spec.method and _norm(prefix + entry["path"]) == spec.path:
            validator = _defs_validator(doc["strict"], entry["requestBody"])
            return validator, entry["queryParams"]
    raise AssertionError(f"{op}: {spec.method} {spec.path} not in {file.name}")


def _defs_validator(strict: dict[str, Any], name: str | None) -> Any:
    if name is None:
        return None
    jsonschema = pytest.importorskip("jsonschema")
    schema = {"$schema": strict.get("$schema"), "$defs": strict["$defs"],
              "$ref": f"#/$defs/{name}"}
    return jsonschema.Draft202012Validator(schema)


def _swagger_operation(method: str, path: str) -> tuple[Any, list[dict[str, Any]]]:
    jsonschema = pytest.importorskip("jsonschema")
    doc = _swagger()
    entry = doc["paths"][path.removeprefix(doc["basePath"])][method.lower()]
    params = entry.get("parameters", [])
    query = [{"name": p["name"], "required": p.get("required", False),
              "pattern": p.get("pattern")} for p in params if p["in"] == "query"]
    body = [p for p in params if p["in"] == "body"]
    if not body:
        return None, query
    schema = {"definitions": doc["definitions"], **body[0]["schema"]}
    return jsonschema.Draft4Validator(schema), query


@pytest.mark.parametrize("op", list(Op))
def test_builder_output_matches_the_published_schema(op: Op) -> None:
    body, query, _ = built()[op]
    validator, declared = _operation(op)
    if body is not None:
        assert validator is not None, f"{op}: the schema declares no body"
        errors = sorted(validator.iter_errors(json.loads(codec.encode(body))), key=str)
        assert not errors, f"{op}: " + "; ".join(
            f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
        return
    assert validator is None
    names = {p["name"] for p in declared}
    assert set(query or {}) <= names, f"{op}: undeclared query parameters"
    for param in declared:
        value = (query or {}).get(param["name"])
        if param["required"]:
            assert value, f"{op}: {param['name']} is required"
        if value and param["pattern"]:
            assert re.fullmatch(param["pattern"].strip("^$"), value), param["name"]


def test_every_operation_exists_in_the_schemas_with_its_success_code() -> None:
    for op, spec in SPECS.items():
        if spec.interface == "suv":
            doc = _swagger()
            entry = doc["paths"][spec.path.removeprefix(doc["basePath"])][spec.method.lower()]
            declared = {int(code) for code in entry["responses"] if str(code).startswith("2")}
        else:
            file = AIRTIME if spec.interface == "airtime" else MONEYTRANSFER
            prefix = "" if spec.interface == "airtime" else "/moneytransfer/v2"
            entries = [e for e in _json_schema(file)["operations"]
                       if e["method"] == spec.method and _norm(prefix + e["path"]) == spec.path]
            assert entries, op
            declared = {int(c) for c in entries[0]["responses"] if c.startswith("2")}
        assert declared <= spec.success, (op, declared)


def _enum(doc: dict[str, Any], name: str) -> set[str]:
    return set(doc["strict"]["$defs"][name]["enum"])


def test_error_types_cover_every_published_value() -> None:
    airtime = _enum(_json_schema(AIRTIME), "io_electrum_airtime_api_model_ErrorDetail_ErrorType")
    money = _enum(_json_schema(MONEYTRANSFER),
                  "io_electrum_moneytransfer_model_ErrorDetail_ErrorTypeEnum")
    suv = set(_swagger()["definitions"]["ErrorDetail"]["properties"]["errorType"]["enum"])
    assert airtime <= cm.AIRTIME_ERROR_TYPES
    assert money <= cm.MONEYTRANSFER_ERROR_TYPES
    assert suv <= cm.SUV_ERROR_TYPES
    assert airtime | money | suv <= set(cm.ErrorType)


def test_request_types_match_the_airtime_schema() -> None:
    published = _enum(_json_schema(AIRTIME),
                      "io_electrum_airtime_api_model_ErrorDetail_RequestType")
    assert published == set(cm.RequestType)
