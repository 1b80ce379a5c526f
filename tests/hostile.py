"""A hostile switch of our own: a real HTTP/1.1 server on 127.0.0.1 (TLS optional), written from
the interface references (``../shared/electrum/``, ``../shared/seeds/``), NOT from our simulator.

By default it answers like the references say a switch answers (ids echoed, a voucher with its PIN,
201/202/404 where the interfaces put them, the money-transfer mock's DUPLICATE_RECORD and
UNABLE_TO_LOCATE_RECORD). A test scripts, per operation and per attempt, how it misbehaves: any
status and raw bytes, a delay, a trickle, a truncated body, a reset, a close without answer, gzip,
a gzip bomb, a wrong id, a missing PIN, a partial amount, Retry-After. It keeps its own ledger:
what it approved (and for how much) and which advices it received.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import random
import socket
import ssl
import struct
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from terminal_agent.protocol.operations import Op, match_path

REASONS = {200: "OK", 201: "Created", 202: "Accepted", 400: "Bad Request", 404: "Not Found",
           500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}


@dataclass
class Act:
    """How the switch answers one request. ``None``/empty fields mean "as the references say"."""

    status: int | None = None           # replace the status
    body: Any = None                    # replace the body: bytes (raw) or a JSON-able value
    patch: dict[str, Any] | None = None  # merge into the default JSON answer ({"id": "other"})
    drop: tuple[str, ...] = ()          # remove dotted keys from the default answer
    process: bool = True                # act on the request (ledger) before answering
    delay: float = 0.0                  # seconds before the status line
    trickle: float = 0.0                # seconds between the bytes of the answer (one at a time)
    truncate: bool = False              # send half the body, then close
    reset: bool = False                 # TCP reset instead of an answer
    close: bool = False                 # close without a byte
    gzip: bool = False                  # gzip the body (Content-Encoding: gzip)
    bomb: int = 0                       # answer a gzip body inflating to this many bytes
    headers: dict[str, str] = field(default_factory=dict)
    approve: int | None = None          # approve this amount (payout, redemption) instead


@dataclass
class Original:
    id: str
    op: Op
    asked: int | None
    approved: bool = False
    amount: int | None = None            # what the switch approved
    response: Any = None
    error: Any = None
    confirmed: bool = False
    reversed: bool = False


@dataclass
class Advice:
    id: str
    request_id: str
    op: Op
    kind: str                             # confirmation | reversal
    reason: str | None
    count: int = 0
    answers: list[int] = field(default_factory=list)


def error(error_type: str, message: str = "declined", **extra: Any) -> dict[str, Any]:
    return {"id": extra.pop("id", None), "errorType": error_type, "errorMessage": message,
            **extra}


CONFIRM_OPS = {Op.VOUCHER_CONFIRM, Op.PURCHASE_CONFIRM, Op.MT_ORDER_CONFIRM,
               Op.MT_REDEEM_CONFIRM, Op.SUV_REDEEM_CONFIRM}
REVERSE_OPS = {Op.VOUCHER_REVERSE, Op.PURCHASE_REVERSE, Op.MT_ORDER_REVERSE,
               Op.MT_REDEEM_REVERSE, Op.SUV_REDEEM_REVERSE}
MT_ADVICES = {Op.MT_ORDER_CONFIRM, Op.MT_ORDER_REVERSE, Op.MT_REDEEM_CONFIRM,
              Op.MT_REDEEM_REVERSE}


class HostileSwitch:
    """``async with HostileSwitch() as sw: sw.url``; ``sw.script(Op.X, Act(...), Act(...))``."""

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.acts: dict[Op, list[Act]] = defaultdict(list)
        self.seen: list[tuple[Op, str, dict[str, Any] | None]] = []
        self.originals: dict[str, Original] = {}
        self.advices: dict[str, Advice] = {}
        self.orders: dict[str, dict[str, Any]] = {}     # money transfer: orderRedeemRef -> order
        self.vouchers: dict[str, int] = {}              # SUV: voucher code -> value
        self._server: asyncio.base_events.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()
        self.port = 0

    # -- scripting ----------------------------------------------------------------------------

    def script(self, op: Op, *acts: Act) -> None:
        """The next answers to ``op``, one per attempt; after them the references' answers."""
        self.acts[op].extend(acts)

    def count(self, op: Op) -> int:
        return sum(1 for seen_op, _, _ in self.seen if seen_op is op)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    # -- the ledger ---------------------------------------------------------------------------

    def final(self, original_id: str) -> str:
        """unseen | declined | open | confirmed | reversed | confirmed+reversed (a disaster)"""
        orig = self.originals.get(original_id)
        if orig is None:
            return "unseen"
        if orig.confirmed and orig.reversed:
            return "confirmed+reversed"
        if orig.reversed:
            return "reversed"
        if orig.confirmed:
            return "confirmed"
        return "open" if orig.approved else "declined"

    def advices_for(self, original_id: str) -> list[Advice]:
        return [a for a in self.advices.values() if a.request_id == original_id]

    def accepted_kinds(self, original_id: str) -> list[str]:
        """The kinds of advice this switch took (answered 2xx or a reversal's 404) for it."""
        return sorted({a.kind for a in self.advices_for(original_id)
                       if any(s < 300 or (s == 404 and a.kind == "reversal") for s in a.answers)})

    # -- server -------------------------------------------------------------------------------

    async def __aenter__(self) -> HostileSwitch:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._conns):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                keep = await self._answer(writer, *request)
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
            pass
        finally:
            self._conns.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _answer(self, writer: asyncio.StreamWriter, method: str, target: str,
                      body: bytes) -> bool:
        url = urlsplit(target)
        matched = match_path(method, url.path)
        if matched is None:
            await _write(writer, 404, b"", Act())
            return True
        op, params = matched
        payload = _json(body)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.seen.append((op, method, payload if payload is not None else query))
        act = self.acts[op].pop(0) if self.acts.get(op) else Act()
        status, answer = (self._process(op, params, query, payload, act.approve)
                          if act.process
                          else (504, error("UPSTREAM_UNAVAILABLE", "not processed")))
        status, raw = _apply(act, status, answer)
        self._record_answer(op, payload, status)
        if act.delay:
            await asyncio.sleep(act.delay)
        if act.reset:
            _reset(writer)
            return False
        if act.close:
            writer.close()
            return False
        await _write(writer, status, raw, act)
        return not act.truncate

    def _record_answer(self, op: Op, payload: Any, status: int) -> None:
        if op in CONFIRM_OPS | REVERSE_OPS and isinstance(payload, dict):
            advice = self.advices.get(str(payload.get("id")))
            if advice is not None:
                advice.answers.append(status)

    # -- the references' behaviour ------------------------------------------------------------

    def _process(self, op: Op, params: dict[str, str], query: dict[str, str],
                 msg: Any, approve: int | None = None) -> tuple[int, Any]:
        if op in CONFIRM_OPS | REVERSE_OPS:
            return self._advice(op, msg)
        if op is Op.PURCHASE_STATUS:
            return self._status(query.get("originalMsgId", ""))
        if op is Op.MT_ORDER_LOOKUP:
            order = self.orders.get(query.get("orderRedeemRef", ""))
            if order is None:  # MT §2.2.10: unknown -> 400 UNABLE_TO_LOCATE_RECORD
                return 400, error("UNABLE_TO_LOCATE_RECORD", "order not found")
            return 200, {"amount": {"amount": order["amount"], "currency": "710"},
                         "status": order["status"], "receiver": {"id": "MUK", "name": "Mukuru"},
                         "orderRedeemRef": query.get("orderRedeemRef")}
        if op is Op.SUV_LOOKUP:
            value = self.vouchers.get(query.get("voucherCode", ""))
            if value is None:
                return 404, error("INVALID_VOUCHER", "unknown voucher")
            return 200, {"voucher": {"code": query.get("voucherCode")},
                         "amounts": {"approvedAmount": {"amount": value, "currency": "710",
                                                        "ledgerIndicator": "CREDIT"}}}
        if not isinstance(msg, dict) or "id" not in msg:
            return 400, error("FORMAT_ERROR", "unreadable request")
        if op is Op.VOUCHER_PROVISION and params.get("requestId") != msg["id"]:
            return 400, error("FORMAT_ERROR", "String inconsistent")  # airtime §2.2 [tp]
        if msg["id"] in self.originals:  # airtime §4.6 [tp], MT §2.2.7
            return 400, error("DUPLICATE_RECORD", "id already used", id=msg["id"])
        return self._approve(op, msg, approve)

    def _approve(self, op: Op, msg: dict[str, Any],
                 approve: int | None = None) -> tuple[int, Any]:
        asked = _amount(msg)
        orig = Original(msg["id"], op, asked)
        self.originals[orig.id] = orig
        answer = {k: msg[k] for k in ("id", "time", "originator", "client") if k in msg}
        answer["thirdPartyIdentifiers"] = list(msg.get("thirdPartyIdentifiers") or []) + [
            {"institutionId": "33333333", "transactionIdentifier": f"P{random.randrange(10**9)}"}]
        if op in (Op.VOUCHER_PROVISION, Op.PURCHASE):
            product = msg.get("product") or {}
            topup = bool(product.get("isDirectTopup") or msg.get("recipientMsisdn"))
            answer["product" if op is Op.PURCHASE else "responseProduct"] = product
            if not topup:  # seed 000: the answer carries the voucher provisioned
                answer["voucher"] = {"serialNumber": f"SN{random.randrange(10**8)}",
                                     "pin": "".join(random.choice("0123456789")
                                                    for _ in range(16)),
                                     "expiryDate": "2027-12-31T00:00:00.000Z"}
            amount = asked
        elif op is Op.MT_ORDER_CREATE:
            answer.update(amount=msg.get("amount"), senderDetails=msg.get("senderDetails"),
                          orderId=msg["id"], orderRedeemRef="".join(
                              random.choice("0123456789") for _ in range(20)))
            amount = asked
        elif op is Op.MT_REDEEM:
            order = self.orders.get(msg.get("orderRedeemRef", ""))
            if order is None:
                del self.originals[orig.id]
                return 400, error("UNABLE_TO_LOCATE_RECORD", "order not found")
            # MT §6.2: the redeem answer carries the amount to pay
            amount = order["amount"] if approve is None else approve
            answer.update(amount={"amount": amount, "currency": "710"}, orderId="ORD1")
        elif op is Op.SUV_REDEEM:
            amount = asked if approve is None else approve
            answer.update(voucher={"code": (msg.get("voucher") or {}).get("code")},
                          amounts={"requestAmount": {"amount": asked, "currency": "710"},
                                   "approvedAmount": {"amount": amount, "currency": "710"}})
        else:
            amount = asked
        orig.approved, orig.amount, orig.response = True, amount, answer
        return (201, answer)

    def _advice(self, op: Op, msg: Any) -> tuple[int, Any]:
        if not isinstance(msg, dict) or "requestId" not in msg:
            return 400, error("FORMAT_ERROR", "unreadable advice")
        kind = "confirmation" if op in CONFIRM_OPS else "reversal"
        advice = self.advices.get(msg["id"])
        repeat = advice is not None
        if advice is None:
            advice = self.advices[msg["id"]] = Advice(msg["id"], msg["requestId"], op, kind,
                                                      msg.get("reversalReason"))
        advice.count += 1
        orig = self.originals.get(msg["requestId"])
        if op in MT_ADVICES:
            return self._mt_advice(op, kind, orig, repeat, msg)
        if orig is None or not orig.approved:  # airtime §2.1: reversal 404 = done; confirm 404
            return 404, error("UNABLE_TO_LOCATE_RECORD", "original not found",
                              originalId=msg["requestId"])
        if kind == "confirmation":
            if orig.reversed:
                return 400, error("ACCOUNT_ALREADY_SETTLED", "already reversed")
            orig.confirmed = True
        else:
            if orig.confirmed:
                return 400, error("REDEMPTION_ALREADY_CONFIRMED" if op is Op.SUV_REDEEM_REVERSE
                                  else "ACCOUNT_ALREADY_SETTLED", "already confirmed")
            orig.reversed = True
        return 202, {"id": msg["id"], "requestId": msg["requestId"], "time": msg.get("time"),
                     "thirdPartyIdentifiers": msg.get("thirdPartyIdentifiers", [])}

    def _mt_advice(self, op: Op, kind: str, orig: Original | None, repeat: bool,
                   msg: dict[str, Any]) -> tuple[int, Any]:
        """MT §5.5, the mock's matrix: unknown -> UNABLE_TO_LOCATE_RECORD; the same advice id
        again -> DUPLICATE_RECORD; a conflicting advice -> DUPLICATE_RECORD / UNABLE_TO_REDEEM /
        ALREADY_REDEEMED."""
        if orig is None or not orig.approved:
            return 400, error("UNABLE_TO_LOCATE_RECORD", "original not found")
        if repeat:
            return 400, error("DUPLICATE_RECORD", "advice already received")
        if kind == "confirmation" and orig.reversed:
            if op is Op.MT_REDEEM_CONFIRM:
                return 400, error("UNABLE_TO_REDEEM", "redemption was reversed")
            return 400, error("DUPLICATE_RECORD",
                              "The order has already been reversed and cannot be confirmed")
        if kind == "reversal" and orig.confirmed:
            if op is Op.MT_REDEEM_REVERSE:
                return 400, error("ALREADY_REDEEMED", "already paid out")
            return 400, error("DUPLICATE_RECORD", "Unable to reverse a confirmed order")
        if kind == "confirmation":
            orig.confirmed = True
        else:
            orig.reversed = True
        return 202, msg

    def _status(self, original_id: str) -> tuple[int, Any]:
        orig = self.originals.get(original_id)
        if orig is None:  # airtime §4.6 [tp]: unknown -> 404
            return 404, error("UNABLE_TO_LOCATE_RECORD", "not found")
        if orig.reversed:
            return 400, error("ACCOUNT_ALREADY_SETTLED", "reversed")
        if not orig.approved:
            return 400, orig.error or error("GENERAL_ERROR", "declined")
        return 200, orig.response


# --- HTTP -------------------------------------------------------------------------------------


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, v in
               (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    return method, target, body


def _json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _amount(msg: dict[str, Any]) -> int | None:
    for path in (("amount", "amount"), ("amounts", "requestAmount", "amount")):
        value: Any = msg
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, int):
            return value
    return None


def _apply(act: Act, status: int, answer: Any) -> tuple[int, bytes]:
    if act.status is not None:
        status = act.status
    if act.bomb:
        return status, _bomb(act.bomb)
    if act.body is not None:
        body = act.body
    else:
        body = json.loads(json.dumps(answer)) if answer is not None else None
        if isinstance(body, dict):
            for dotted in act.drop:
                _drop(body, dotted.split("."))
            if act.patch:
                body.update(act.patch)
    raw = body if isinstance(body, bytes) else (b"" if body is None else
                                                 json.dumps(body).encode())
    if act.gzip:
        raw = gzip.compress(raw)
    return status, raw


def _drop(obj: dict[str, Any], keys: list[str]) -> None:
    if len(keys) == 1:
        obj.pop(keys[0], None)
    elif isinstance(obj.get(keys[0]), dict):
        _drop(obj[keys[0]], keys[1:])


def _bomb(size: int) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    out = [z.compress(block) for _ in range(size >> 20)]
    return b"".join(out) + z.flush()


async def _write(writer: asyncio.StreamWriter, status: int, raw: bytes, act: Act) -> None:
    headers = {"Content-Type": "application/json", "Content-Length": str(len(raw)),
               **act.headers}
    if act.gzip or act.bomb:
        headers["Content-Encoding"] = "gzip"
    head = f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    data = head.encode() + raw
    if act.truncate:
        writer.write(head.encode() + raw[: len(raw) // 2])
        await writer.drain()
        writer.close()
        return
    if act.trickle:
        for i in range(len(data)):
            writer.write(data[i:i + 1])
            await writer.drain()
            await asyncio.sleep(act.trickle)
        return
    writer.write(data)
    await writer.drain()


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
