"""Derives the simulator's server-side validation rules from Electrum's interface definitions.

The product never reads ``../shared``: the rules it enforces live in
``terminal_agent/sim/server_rules.json``, which this module writes and the schema-driven test
(``tests/test_sim_server_rules.py``) keeps equal to what the definitions say. Run

    .venv/bin/python -m tests.server_rules_source --write

after the definitions change. What is derived, per interface:

- airtime v5 and money transfer v2: the ``lenient`` variants of the JSON Schemas, which follow the
  Java Bean Validation annotations (``@NotNull``, ``@Length``, ``@Pattern``, ``@Min``) and cascade
  only where the Java field carries ``@Valid`` (a nested object without it is "any object"); the
  operations tables give the query parameters (required, pattern).
- SUV v1: the Swagger 2.0 document (its ``required`` lists, lengths, patterns and enums; nested
  objects always cascade, the Swagger does not say otherwise).

The output format (ours, compact): ``{"interfaces": {name: {"operations": {"METHOD /full/path":
{"body": model or null, "query": [{"name", "required", "pattern"}]}}, "models": {name: {"required":
[...], "fields": {json name: field}} | {"discriminator": "type", "variants": {value: model}}},
"enums": {name: [values]}}}}``; a field is ``{"type": ..., "minLength", "maxLength", "pattern",
"format", "minimum", "enum": name-or-list, "ref": model, "items": field, "values": field}``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[2] / "shared" / "electrum" / "schema"
AIRTIME = SHARED / "airtime-v5.24.0.schema.json"
MONEYTRANSFER = SHARED / "moneytransfer-v2.22.0.schema.json"
SUV = SHARED / "suv-v1.14.0-swagger.yaml"
OUTPUT = Path(__file__).resolve().parents[1] / "terminal_agent" / "sim" / "server_rules.json"

# The SUV Swagger names Pin's subtypes without saying which ``type`` value selects which; the base
# library's Jackson annotations (the same in the airtime JSON Schema's if/then) do.
SUV_PIN_VARIANTS = {"CLEAR_PIN": "PinClear", "ENCRYPTED_PIN": "PinEncrypted",
                    "HASHED_PIN": "PinHashed"}
CONSTRAINTS = ("minLength", "maxLength", "format", "minimum")


def available() -> bool:
    return AIRTIME.is_file() and MONEYTRANSFER.is_file() and SUV.is_file()


def derive() -> dict[str, Any]:
    return {
        "_about": "Server-side validation rules of Electrum's interfaces, derived by "
                  "tests/server_rules_source.py from the interface definitions; the simulator "
                  "enforces these, the agent's own stricter outgoing checks are "
                  "terminal_agent/protocol/rules.py.",
        "interfaces": {
            "airtime": _from_json_schema(AIRTIME, ""),
            "moneytransfer": _from_json_schema(MONEYTRANSFER, "/moneytransfer/v2"),
            "suv": _from_swagger(SUV),
        },
    }


# -- JSON Schema (airtime, money transfer) ----------------------------------------------------
class _JsonSchema:
    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.models: dict[str, Any] = {}
        self.enums: dict[str, list[str]] = {}
        self.names: dict[str, str] = {}

    def short(self, ref: str) -> str:
        full = ref.rsplit("/", 1)[-1].removesuffix("__concrete")
        name = full.split("_model_")[-1]
        if self.names.setdefault(name, full) != full:
            raise ValueError(f"two definitions shorten to {name}: {full}, {self.names[name]}")
        return name

    def model(self, ref: str) -> str:
        name = self.short(ref)
        if name in self.models or name in self.enums:
            return name
        schema = self.defs[ref.rsplit("/", 1)[-1]]
        if "enum" in schema:
            self.enums[name] = list(schema["enum"])
            return name
        self.models[name] = {}  # placeholder against recursion
        if "allOf" in schema and "discriminator" not in schema:
            variants = {}
            for branch in schema["allOf"]:
                value = branch["if"]["properties"]["type"]["const"]
                variants[value] = self.model(branch["then"]["$ref"])
            self.models[name] = {"discriminator": "type", "variants": variants}
            return name
        self.models[name] = {
            "required": list(schema.get("required", [])),
            "fields": {k: self.field(v) for k, v in schema.get("properties", {}).items()},
        }
        return name

    def field(self, schema: dict[str, Any]) -> dict[str, Any]:
        if "anyOf" in schema:
            options = [s for s in schema["anyOf"] if s.get("type") != "null"]
            return self.field(options[0]) if options else {"type": "any"}
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.field(schema["allOf"][0])
        if "$ref" in schema:
            name = self.model(schema["$ref"])
            return {"enum": name} if name in self.enums else {"ref": name}
        if "enum" in schema:
            return {"enum": list(schema["enum"])}
        out: dict[str, Any] = {"type": schema.get("type", "any")}
        out.update({k: schema[k] for k in CONSTRAINTS if k in schema})
        if "pattern" in schema:
            out["pattern"] = _java_pattern(schema["pattern"])
        if out["type"] == "array":
            out["items"] = self.field(schema.get("items", {}))
        return out


def _java_pattern(pattern: str) -> str:
    """The JSON Schema export wraps each ``@Pattern`` as ``^(?:...)$``; Java matches the whole
    string anyway, so the wrapper goes."""
    wrapped = re.fullmatch(r"\^\(\?:(.*)\)\$", pattern)
    return wrapped.group(1) if wrapped else pattern


def _from_json_schema(path: Path, prefix: str) -> dict[str, Any]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    schema = _JsonSchema(doc["lenient"]["$defs"])
    operations = {}
    for entry in doc["operations"]:
        if entry["resource"] == "ExampleResource":
            continue  # the base library's example resource, not part of the interface
        key = f"{entry['method']} {(prefix + entry['path']).rstrip('/')}"
        body = entry.get("requestBody")
        operations[key] = {
            "body": schema.model(body) if body else None,
            "query": [{"name": q["name"], "required": bool(q["required"]),
                       "pattern": q.get("pattern")} for q in entry["queryParams"]],
        }
    return {"operations": operations, "models": schema.models, "enums": schema.enums}


# -- Swagger 2.0 (SUV) ------------------------------------------------------------------------
class _Swagger:
    def __init__(self, definitions: dict[str, Any]) -> None:
        self.definitions = definitions
        self.models: dict[str, Any] = {}

    def model(self, ref: str) -> str:
        name = ref.rsplit("/", 1)[-1]
        if name in self.models:
            return name
        self.models[name] = {}
        schema = self.definitions[name]
        if schema.get("discriminator") == "type" and name == "Pin":
            variants = {value: self.model(sub) for value, sub in SUV_PIN_VARIANTS.items()}
            self.models[name] = {"discriminator": "type", "variants": variants}
            return name
        required: list[str] = []
        properties: dict[str, Any] = {}
        for part in schema.get("allOf", [schema]):
            part = self.definitions[part["$ref"].rsplit("/", 1)[-1]] if "$ref" in part else part
            required += [r for r in part.get("required", []) if r not in required]
            properties.update(part.get("properties", {}))
        self.models[name] = {"required": required,
                             "fields": {k: self.field(v) for k, v in properties.items()}}
        return name

    def field(self, schema: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in schema:
            return {"ref": self.model(schema["$ref"])}
        if "enum" in schema:
            return {"enum": list(schema["enum"])}
        out: dict[str, Any] = {"type": schema.get("type", "any")}
        out.update({k: schema[k] for k in CONSTRAINTS if k in schema and schema[k] != 0})
        if "pattern" in schema:
            out["pattern"] = schema["pattern"]
        if out["type"] == "array":
            out["items"] = self.field(schema.get("items", {}))
        if out["type"] == "object" and isinstance(schema.get("additionalProperties"), dict):
            out["values"] = self.field(schema["additionalProperties"])
        return out


def _from_swagger(path: Path) -> dict[str, Any]:
    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    swagger = _Swagger(doc["definitions"])
    operations = {}
    for sub, methods in doc["paths"].items():
        for method, entry in methods.items():
            params = entry.get("parameters", [])
            body = next((p["schema"]["$ref"] for p in params if p["in"] == "body"), None)
            operations[f"{method.upper()} {doc['basePath']}{sub}"] = {
                "body": swagger.model(body) if body else None,
                "query": [{"name": p["name"], "required": bool(p.get("required", False)),
                           "pattern": p.get("pattern")} for p in params if p["in"] == "query"],
            }
    return {"operations": operations, "models": swagger.models, "enums": {}}


def render(rules: dict[str, Any]) -> str:
    return json.dumps(rules, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    if not available():
        sys.exit(f"{SHARED} is not there: nothing to derive from")
    text = render(derive())
    if "--write" in sys.argv:
        OUTPUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT} ({len(text)} bytes)")
    else:
        sys.stdout.write(text)
