"""Shared pieces of the conformance suite (``tests/test_conformance_*.py``).

The suite treats the simulator as a black box on 127.0.0.1 and holds it to Electrum's interface
definitions (``../shared/electrum``: the models, status tables and error tables). Its messages are
written here from those definitions, not by the agent's builders nor the simulator's samples, so
neither can hide a mistake of the other. The simulator's own documented demo data (product ids,
demo orders, ``DV<cents>`` vouchers; ``terminal_agent/sim/__init__.py``) is what it sells.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from terminal_agent.sim import SimServer

AIRTIME = "/airtime/v5"
MT = "/moneytransfer/v2"
SUV = "/suv/v1"
CLIENT_ID = "22222222"

# Message ids Electrum accepts: its models declare ``id`` a plain string (no pattern, no length);
# its own example messages use random hex UUIDs of any version and variant.
ACCEPTED_IDS = [
    "6ba7b810-9dad-11d1-80b4-00c04fd430c8",   # version 1
    "de69f879-b208-51e5-58b5-50f21d6c90f9",   # "version 5", Electrum's SUV TenderAdvice example
    "68d07240-e604-431f-d5ca-974cee9bd60d",   # version 4 but not the RFC variant (SUV example)
    "B3A2F1C0-1D2E-4F30-8A41-5B6C7D8E9F00",   # upper case
    "till-0001-receipt-000042",               # not a UUID at all
]
# ``time`` is an RFC 3339 date-time: any offset, any fraction (milliseconds only recommended).
ACCEPTED_TIMES = [
    "2025-03-04T05:06:07Z",
    "2025-03-04T05:06:07.1+02:00",
    "2025-03-04T05:06:07.123456-05:30",
    "2025-03-04t05:06:07.891z",
]
REFUSED_TIMES = [
    "2025-03-04T05:06:07",          # no offset
    "2025-03-04 05:06:07Z",         # no T
    "2025-13-04T05:06:07.000Z",     # month 13
    "2025-02-30T05:06:07.000Z",     # no such day
    "04/03/2025 05:06",
    "",
]


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> str:
    t = datetime.now(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def money(amount: int, currency: str = "710") -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def institution(inst_id: str, name: str) -> dict[str, Any]:
    return {"id": inst_id, "name": name}


def originator() -> dict[str, Any]:
    """``Originator``: institution, terminalId (exactly 8), merchant (type 4 digits, id exactly
    15, name/city/region/country at most 23/13/2/2)."""
    return {
        "institution": institution("11111111", "Spaza Group"),
        "terminalId": "TERM0042",
        "merchant": {
            "merchantType": "5411",
            "merchantId": "MERCHANT0000042",
            "merchantName": {"name": "Spaza on Main", "city": "Durban", "region": "KZ",
                             "country": "ZA"},
        },
    }


def transaction(**fields: Any) -> dict[str, Any]:
    """The ``Transaction`` every request carries (id, time, originator, client, thirdParty...)."""
    body: dict[str, Any] = {
        "id": new_id(), "time": now(), "originator": originator(),
        "client": institution(CLIENT_ID, "Spaza Group Till"),
        "thirdPartyIdentifiers": [{"institutionId": CLIENT_ID,
                                   "transactionIdentifier": "T42-" + new_id()[:8]}],
    }
    body.update(fields)
    return body


def confirmation(request_id: str, tpis: list[Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A ``BasicAdvice`` (or a ``TenderAdvice`` when ``tenders`` is given)."""
    return {"id": new_id(), "requestId": request_id, "time": now(),
            "thirdPartyIdentifiers": list(tpis or []), **fields}


def reversal(request_id: str, tpis: list[Any] | None = None,
             reason: str = "TIMEOUT") -> dict[str, Any]:
    return {**confirmation(request_id, tpis), "reversalReason": reason}


def cash(amount: int) -> list[dict[str, Any]]:
    return [{"tenderType": "CASH", "amount": money(amount)}]


def without(body: dict[str, Any], dotted: str) -> dict[str, Any]:
    """A deep copy of ``body`` without the field at ``dotted`` (``a.b`` or ``a[0].b``)."""
    out = copy.deepcopy(body)
    parent, key = _parent(out, dotted)
    del parent[key]
    return out


def with_value(body: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    parent, key = _parent(out, dotted)
    parent[key] = value
    return out


def _parent(body: Any, dotted: str) -> tuple[Any, Any]:
    parts: list[Any] = []
    for part in dotted.replace("[", ".[").split("."):
        parts.append(int(part[1:-1]) if part.startswith("[") else part)
    for part in parts[:-1]:
        body = body[part]
    return body, parts[-1]


# -- the switch under test --------------------------------------------------------------------
class Switch:
    """An HTTP client to the simulator, with the few assertions every test needs."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.http.post(path, json=body)

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.http.get(path, params=params)

    def ledger(self) -> dict[str, Any]:
        response = self.http.get("/_sim/ledger")
        assert response.status_code == 200
        data: dict[str, Any] = response.json()
        return data

    def entry(self, original_id: str) -> dict[str, Any]:
        return next(o for o in self.ledger()["originals"] if o["id"] == original_id)


def ok(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (200, 201, 202)), (response.status_code,
                                                                     response.text)
    body: Any = response.json()
    return body  # type: ignore[no-any-return]


def refused(response: httpx.Response, status: int, error_type: str) -> dict[str, Any]:
    """An ``ErrorDetail`` with this status and ``errorType`` (and the required fields)."""
    assert response.status_code == status, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    assert body["errorType"] == error_type, body
    assert body.get("id") and isinstance(body.get("errorMessage"), str), body
    assert len(body["errorMessage"]) <= 80
    return body


def format_error(response: httpx.Response, field: str) -> dict[str, Any]:
    """400 ``FORMAT_ERROR`` naming ``field`` in ``detailMessage.formatErrors``."""
    body = refused(response, 400, "FORMAT_ERROR")
    named = [e["field"] for e in body["detailMessage"]["formatErrors"]]
    assert field in named, (field, named)
    return body


# Fixtures: a test module imports these two functions; the tests ask for ``switch``.
@pytest.fixture(scope="module", name="server")
def server_fixture() -> Iterator[httpx.Client]:
    """The simulator on 127.0.0.1 (one per test module) and a client to it."""
    with SimServer() as sim, httpx.Client(base_url=sim.url, auth=(CLIENT_ID, "test-password"),
                                          timeout=10) as client:
        yield client


@pytest.fixture(name="switch")
def switch_fixture(server: httpx.Client) -> Switch:
    """The simulator, freshly reset through its control endpoint."""
    assert server.post("/_sim/reset").status_code == 200
    return Switch(server)
