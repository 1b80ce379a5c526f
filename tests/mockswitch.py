"""An in-memory switch for core tests (httpx.MockTransport): scripted answers per operation,
every request recorded. The real simulator covers the wire; this covers the core's decisions."""

from __future__ import annotations

import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import httpx

from terminal_agent.protocol.operations import Op, match_path


@dataclass
class Seen:
    op: Op
    method: str
    path: str
    query: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def error(error_type: str, message: str = "x") -> dict[str, Any]:
    return {"errorType": error_type, "errorMessage": message}


@dataclass
class MockSwitch:
    # op -> queue of answers; an answer is (status, json-able body) or an exception instance
    script: dict[Op, deque[Any]] = field(default_factory=lambda: defaultdict(deque))
    seen: list[Seen] = field(default_factory=list)

    def answer(self, op: Op, *answers: Any) -> None:
        self.script[op].extend(answers)

    def sent(self, op: Op) -> list[Seen]:
        return [s for s in self.seen if s.op == op]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        matched = match_path(request.method, request.url.path)
        assert matched, f"unexpected path {request.method} {request.url.path}"
        op, _ = matched
        self.seen.append(Seen(op, request.method, request.url.path, dict(request.url.params),
                              request.content))
        queue = self.script.get(op)
        answer = queue.popleft() if queue else self.default(op, request)
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            answer = answer(self)
        status, body = answer
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(status, content=content,
                              headers={"content-type": "application/json"})

    def default(self, op: Op, request: httpx.Request) -> tuple[int, Any]:
        body = json.loads(request.content) if request.content else {}
        if op in (Op.VOUCHER_PROVISION, Op.PURCHASE):
            body = dict(body)
            body["voucher"] = {"serialNumber": "SN123", "pin": "1234567890123456",
                               "expiryDate": "2027-01-01T00:00:00.000Z"}
            body["thirdPartyIdentifiers"] = [{"institutionId": "33333333",
                                              "transactionIdentifier": "PROV123"}]
            return 201, body
        if op == Op.PURCHASE_STATUS:
            return 404, error("UNABLE_TO_LOCATE_RECORD")
        return 202, body
