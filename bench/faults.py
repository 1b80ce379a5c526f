"""`make faults`: the fault figures, in one run.

    python -m bench.faults               # full sizes (about 10 minutes on 2 cores)
    python -m bench.faults --quick       # tiny sizes, for the smoke test
    python -m bench.faults --only fuzz,printer

1. crash    the crash matrix as deployed (bench/crash.py): a till process and `terminal-agent
            forward` on one database SIGKILLed independently, together and during start-up,
            restarted while the other goes on, finally drained; journal vs simulator ledger:
            lost, both confirmed and reversed, left in limbo, exceptions to the till, slips.
2. outage   a day's advices queued while the switch is unreachable, then the switch comes back:
            time to drain, per-transaction order from the simulator's record file.
3. fuzz     generated switch answers (status 100-599, broken/odd bodies, transport errors) fed
            through the real core (httpx.MockTransport) for every financial operation and the
            advices/status lookups via the forwarder: crashes, wrong final states.
4. printer  1,000 receipts through the durable print queue to a fake ESC/POS network printer
            whose faults (paper out, cover open, offline, silent, paper running out mid-job,
            cable pulled) are toggled at random: jobs lost.

Prints the table and writes ``bench/results/latest-faults.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sqlite3
import string
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    SimProcess,
    create_db,
    fmt,
    load_config,
    machine,
    table,
    write_config,
    write_json,
)

# -- 1. the crash matrix ---------------------------------------------------------------------------


def fault_crash(tmp: Path, kills: int = 1000, seed: int = 20261121) -> dict[str, Any]:
    """The crash matrix as deployed: a till process and ``terminal-agent forward`` on one
    database (``bench/crash.py``; also run by tests/test_crash_matrix.py)."""
    from bench.crash import crash_matrix

    return crash_matrix(tmp, kills, seed)


# -- 2. the day-long outage ----------------------------------------------------------------------

OUTAGE_FAULTS = [
    # a few sales lose their answer on the way back: reversals of originals the switch has
    {"op": "VOUCHER_PROVISION", "type": "status", "status": 504, "when": "after",
     "probability": 0.08},
]


async def _sell_day(cfg_path: Path, n: int, seed: int) -> dict[str, int]:
    from terminal_agent.core.agent import Agent
    from terminal_agent.errors import AgentError
    from terminal_agent.protocol.airtime import Product

    rnd = random.Random(seed)
    cfg = load_config(cfg_path)
    voucher = Product(product_id="VOD10", name="Vodacom R10 Airtime")
    topup = Product(product_id="VODDT", name="Vodacom top-up", is_direct_topup=True)
    counts = {"tendered": 0, "cancelled": 0, "unknown": 0, "topup_pending": 0, "refused": 0}
    async with Agent.open(cfg, password="") as agent:
        for _ in range(n):
            try:
                if rnd.random() < 0.04:  # direct top-up whose outcome stays unknown a while
                    await agent.topups.purchase(topup, "0821230404", 2000, "1001")
                    counts["topup_pending"] += 1
                    continue
                r = await agent.vouchers.sell(voucher, 1000, "1001")
                if not r.approved:
                    counts["unknown"] += 1
                elif rnd.random() < 0.1:
                    await agent.vouchers.cancel(r.txn_id, "1001")
                    counts["cancelled"] += 1
                else:
                    await agent.vouchers.tender(r.txn_id, "1001")
                    counts["tendered"] += 1
            except AgentError:
                counts["refused"] += 1
    return counts


async def _forward_until_empty(cfg_path: Path, timeout: float) -> tuple[float, int]:
    from terminal_agent.core.agent import Agent
    from terminal_agent.core.states import FINAL

    cfg = load_config(cfg_path)
    finals = ",".join(f"'{s.value}'" for s in FINAL)
    async with Agent.open(cfg, password="") as agent:
        assert agent.lock.acquire()
        t0 = time.perf_counter()
        rounds = 0
        while time.perf_counter() - t0 < timeout:
            handled = await agent.forwarder.run_once()
            rounds += 1
            if handled == 0:
                pending = (await agent.outbox.counts()).pending
                open_ = await agent.store.fetchone(
                    f"SELECT COUNT(*) FROM transactions WHERE state NOT IN ({finals})")  # noqa: S608
                if pending == 0 and open_ is not None and open_[0] == 0:
                    break
                await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - t0
        agent.lock.release()
    return elapsed, rounds


async def _fail_for(cfg_path: Path, seconds: float) -> int:
    """The forwarder keeps trying against a dead address (connection refused), backing off."""
    from terminal_agent.core.agent import Agent

    cfg = load_config(cfg_path)
    async with Agent.open(cfg, password="") as agent:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            await agent.forwarder.run_once()
            await asyncio.sleep(0.05)
        return agent.forwarder.sent


def fault_outage(tmp: Path, sales: int = 5000, seed: int = 11) -> dict[str, Any]:
    from bench.workload import check

    work = tmp / "outage"
    work.mkdir(parents=True, exist_ok=True)
    record = work / "record.jsonl"
    db = work / "agent.db"
    create_db(db)
    started = time.perf_counter()
    with SimProcess(work, record=record, faults=OUTAGE_FAULTS) as sim:
        sell_cfg = write_config(work / "sell.toml", sim.url, db, read_timeout=2.0)
        counts = asyncio.run(_sell_day(sell_cfg, sales, seed))
        sell_s = time.perf_counter() - started
        # the day: the advices are spread over 24 hours, oldest first (time compressed: the
        # sales above took sell_s seconds; their timestamps are moved back, order kept)
        con = sqlite3.connect(db, isolation_level=None)
        rows = con.execute("SELECT id FROM outbox WHERE state='pending' ORDER BY created_at, "
                           "rowid").fetchall()
        now = time.time()
        con.execute("BEGIN IMMEDIATE")
        con.executemany("UPDATE outbox SET created_at=?, next_attempt_at=? WHERE id=?",
                        [(now - 86400 + 86400 * i / max(1, len(rows)),
                          now - 86400 + 86400 * i / max(1, len(rows)), r[0])
                         for i, r in enumerate(rows)])
        con.execute("COMMIT")
        con.close()
        queued = len(rows)
        # the switch is unreachable: the forwarder tries and backs off
        dead_port = __import__("bench.common", fromlist=["free_port"]).free_port()
        dead_cfg = write_config(work / "dead.toml", f"http://127.0.0.1:{dead_port}", db,
                                forwarder="concurrency = 8")
        tries = asyncio.run(_fail_for(dead_cfg, 3.0))
        con = sqlite3.connect(db)
        attempts = con.execute("SELECT SUM(attempts) FROM outbox WHERE state='pending'"
                               ).fetchone()[0] or 0
        still = con.execute("SELECT COUNT(*) FROM outbox WHERE state='pending'").fetchone()[0]
        con.close()
        sim.clear_faults()
        mark = record.stat().st_size
        # the switch is back
        back_cfg = write_config(work / "back.toml", sim.url, db)
        drain_s, _ = asyncio.run(_forward_until_empty(back_cfg, 600))
        ledger = sim.ledger()
    result = check(str(db), ledger)
    order = _order(db, record, mark)
    return {"sales": sales, "kinds": counts, "advices_queued": queued,
            "sell_seconds": sell_s, "attempts_during_outage": int(attempts),
            "sent_during_outage": tries, "pending_when_back": still,
            "drain_seconds": drain_s, "drain_per_s": queued / drain_s if drain_s else None,
            **order, "lost": result.lost, "both": result.both, "limbo": result.limbo,
            "parked": result.parked, "problems": result.problems[:10],
            "ok": result.ok and order["order_violations"] == 0 and still == queued,
            "seconds": time.perf_counter() - started}


def _order(db: Path, record: Path, mark: int) -> dict[str, Any]:
    """From the simulator's record: per transaction, its original came before its advices and
    its advices arrived in outbox order; globally, how far the arrival order after the outage
    strays from the queue's order (a batch is sent concurrently)."""
    con = sqlite3.connect(db)
    by_advice = {r[0]: (r[1], r[2], i) for i, r in enumerate(con.execute(
        "SELECT id, txn_id, seq FROM outbox ORDER BY created_at, rowid"))}
    txn_ids = {r[0] for r in con.execute("SELECT id FROM transactions")}
    con.close()
    seen_original: set[str] = set()
    last_seq: dict[str, int] = {}
    violations = 0
    arrivals: list[int] = []
    first_seen: set[str] = set()
    with open(record, "rb") as fh:
        offset = 0
        for raw in fh:
            line = json.loads(raw)
            offset += len(raw)
            body = line.get("body") if isinstance(line.get("body"), dict) else {}
            adv = body.get("id") if body else None
            query = line.get("query") or {}
            if adv in by_advice:
                txn, seq, rank = by_advice[adv]
            elif query.get("originalMsgId") in txn_ids:
                txn, seq, rank = query["originalMsgId"], 0, -1
                for a, (t, s, r) in by_advice.items():
                    if t == txn and r >= 0:
                        adv, seq, rank = a, s, r
                        break
            else:
                if adv in txn_ids:
                    seen_original.add(adv)
                continue
            if txn not in seen_original and txn in txn_ids and not str(line.get("op", "")
                                                                      ).endswith("status"):
                # an advice for an original the switch never saw (allowed: a reversal of a
                # request lost on the way) is not an order violation
                pass
            if seq < last_seq.get(txn, 0):
                violations += 1
            last_seq[txn] = max(seq, last_seq.get(txn, 0))
            if offset > mark and adv not in first_seen and rank >= 0:
                first_seen.add(adv)
                arrivals.append(rank)
    displacement = 0
    if arrivals:
        ordered = sorted(arrivals)
        where = {rank: i for i, rank in enumerate(ordered)}
        displacement = max(abs(i - where[rank]) for i, rank in enumerate(arrivals))
    return {"order_violations": violations, "advices_arrived_after_outage": len(arrivals),
            "max_displacement": displacement}


# -- 3. fuzzed switch answers --------------------------------------------------------------------

ERROR_TYPES = ["DUPLICATE_RECORD", "FORMAT_ERROR", "FUNCTION_NOT_SUPPORTED", "GENERAL_ERROR",
               "UNABLE_TO_LOCATE_RECORD", "UPSTREAM_UNAVAILABLE", "ACCOUNT_ALREADY_SETTLED",
               "OUTCOME_UNKNOWN", "INSUFFICIENT_FUNDS", "SYSTEM_MALFUNCTION",
               "REDEMPTION_ALREADY_CONFIRMED", "REDEMPTION_ALREADY_REVERSED", "ALREADY_REDEEMED",
               "DECLINED_BY_MNO", "TOTALLY_NEW_ERROR", "", "outcome_unknown", "null"]
COMMON = [200, 201, 202, 204, 400, 401, 403, 404, 408, 409, 429, 500, 501, 502, 503, 504]


class Fuzzer:
    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)

    def status(self) -> int:
        r = self.rnd.random()
        if r < 0.55:
            return self.rnd.choice(COMMON)
        return self.rnd.randint(100, 599)

    def junk(self, depth: int = 0) -> Any:
        r = self.rnd.random()
        if depth > 3 or r < 0.25:
            return self.rnd.choice([None, True, False, 0, -1, 10**30, 1.5e308, "", "x" * 50,
                                    "ünï©ødé", [], {}, "2026-13-45T99:99:99Z"])
        if r < 0.5:
            return [self.junk(depth + 1) for _ in range(self.rnd.randint(0, 4))]
        keys = ["id", "errorType", "errorMessage", "voucher", "pin", "amount", "amounts",
                "requestId", "status", "orderRedeemRef", "thirdPartyIdentifiers", "slipData",
                "".join(self.rnd.choices(string.ascii_letters, k=6))]
        return {self.rnd.choice(keys): self.junk(depth + 1) for _ in range(self.rnd.randint(0, 5))}

    def body(self, good: bytes) -> tuple[bytes, str]:
        """(body, content type). ``good`` is a valid success body of the operation."""
        r = self.rnd.random()
        ct = "application/json"
        if r < 0.18:
            return good, ct
        if r < 0.30:  # a valid body with one field broken
            try:
                obj = json.loads(good)
            except ValueError:
                obj = {}
            if isinstance(obj, dict) and obj:
                key = self.rnd.choice(list(obj))
                obj[key] = self.junk(2)
            return json.dumps(obj).encode(), ct
        if r < 0.45:
            err: dict[str, Any] = {"errorType": self.rnd.choice(ERROR_TYPES),
                                   "errorMessage": "fuzz"}
            if self.rnd.random() < 0.2:
                err["errorType"] = self.junk(3)
            if self.rnd.random() < 0.2:
                err["detailMessage"] = self.junk(2)
            return json.dumps(err).encode(), ct
        if r < 0.55:
            return good[: self.rnd.randint(0, max(0, len(good) - 1))], ct  # truncated
        if r < 0.62:
            return b"", ct
        if r < 0.68:
            return b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"
        if r < 0.72:
            return bytes(self.rnd.getrandbits(8) for _ in range(self.rnd.randint(1, 200))), \
                "application/octet-stream"
        if r < 0.76:
            return json.dumps({"id": "9" * self.rnd.choice([40, 5000, 100_000]),
                               "requestId": 10**40}).encode(), ct
        if r < 0.80:
            return b"null" if self.rnd.random() < 0.5 else b"[1,2,3]", ct
        return json.dumps(self.junk()).encode(), ct

    def answer(self, good: bytes) -> Any:
        r = self.rnd.random()
        if r < 0.06:
            return self.rnd.choice([httpx.ReadTimeout("fuzz"), httpx.ConnectError("fuzz"),
                                    httpx.RemoteProtocolError("fuzz"), httpx.ReadError("fuzz"),
                                    httpx.WriteTimeout("fuzz"), httpx.PoolTimeout("fuzz")])
        if r < 0.16:  # a plain good answer, so that every verdict is exercised
            return self.rnd.choice([200, 201, 202]), good, "application/json"
        body, ct = self.body(good)
        return self.status(), body, ct


class FuzzSwitch:
    """In-memory switch: the next answer to ``target`` is the fuzzed one; every other call
    gets a plausible good answer."""

    def __init__(self) -> None:
        self.target: Any = None
        self.answer: Any = None
        self.used = False

    def good(self, op: Any, content: bytes) -> tuple[int, bytes]:
        from terminal_agent.protocol.operations import Op

        body = json.loads(content) if content else {}
        if op in (Op.VOUCHER_PROVISION, Op.PURCHASE):
            body = dict(body)
            body["voucher"] = {"serialNumber": "SN123", "pin": "1234567890123456",
                               "expiryDate": "2027-01-01T00:00:00.000Z"}
            body["thirdPartyIdentifiers"] = [{"institutionId": "33333333",
                                              "transactionIdentifier": "PROV123"}]
            return 201, json.dumps(body).encode()
        if op == Op.PURCHASE_STATUS:
            return 404, b'{"errorType":"UNABLE_TO_LOCATE_RECORD","errorMessage":"x"}'
        return (202 if op not in (Op.MT_ORDER_CREATE, Op.MT_REDEEM, Op.SUV_REDEEM) else 201,
                json.dumps(body).encode())

    def handle(self, request: httpx.Request) -> httpx.Response:
        from terminal_agent.protocol.operations import match_path

        matched = match_path(request.method, request.url.path)
        assert matched, request.url.path
        op = matched[0]
        from terminal_agent.protocol.operations import Op

        status, content = self.good(op, request.content)
        if op == Op.PURCHASE:
            self.last_purchase = request.content
        if op == self.target and not self.used:
            self.used = True
            good = content
            if op == Op.PURCHASE_STATUS:  # the purchase's own approved answer
                good = self.good(Op.PURCHASE, self.last_purchase)[1]
            answer = self.answer(good) if callable(self.answer) else self.answer
            self.sent = answer
            if isinstance(answer, Exception):
                raise answer
            status, body, ct = answer
            return httpx.Response(status, content=body, headers={"content-type": ct})
        return httpx.Response(status, content=content,
                              headers={"content-type": "application/json"})

    sent: Any = None
    last_purchase = b""


_REQUEST_STATE = {"APPROVED": {"APPROVED", "COMPLETED"}, "DECLINED": {"DECLINED"},
                  "UNKNOWN": {"REVERSING"}, "RETRY": {"REVERSING"}}
_TOPUP_STATE = {"APPROVED": {"COMPLETED"}, "DECLINED": {"REFUND_DUE"},
                "UNKNOWN": {"STATUS_PENDING"}, "RETRY": {"STATUS_PENDING"}}


async def _fuzz(db: Path, cases: int, seed: int) -> dict[str, Any]:
    from terminal_agent.core.agent import Agent
    from terminal_agent.errors import AgentError
    from terminal_agent.protocol.airtime import Product
    from terminal_agent.protocol.common import Institution
    from terminal_agent.protocol.moneytransfer import PersonalDetails
    from terminal_agent.protocol.operations import Op
    from terminal_agent.protocol.outcome import Verdict, classify

    fz = Fuzzer(seed)
    sw = FuzzSwitch()
    cfg = load_config(write_config(db.parent / "fuzz.toml", "http://127.0.0.1:9", db,
                                   forwarder="auth_failures_before_park = 3",
                                   extra="[suv]\ndefault_dual_messaging = true\n"))
    voucher = Product(product_id="VOD10", name="Vodacom R10 Airtime")
    topup = Product(product_id="VODDT", name="Vodacom top-up", is_direct_topup=True)
    mukuru = Institution(id="30000001", name="Mukuru Money Transfer")
    sender = PersonalDetails(first_name="Thandiwe", last_name="Nkosi", id_number="9001015009087",
                             id_type="NATIONAL_ID", id_country_code="ZA",
                             contact_number="27821234567")
    recipient = PersonalDetails(first_name="Tendai", last_name="Moyo",
                                contact_number="27841234567")
    ops = ["voucher", "topup", "mt_send", "mt_payout", "suv", "confirmation", "reversal",
           "status"]
    stats: dict[str, dict[str, int]] = {k: {"cases": 0} for k in ops}
    crashes: list[str] = []
    wrong: list[str] = []
    statuses: set[int] = set()
    async with Agent.open(cfg, password="", transport=httpx.MockTransport(sw.handle)) as agent:
        agent.money.resend_pause = agent.money.payouts.resend_pause = 0.0
        agent.suv.resend_pause = 0.0

        async def run_flow(kind: str) -> str | None:
            if kind == "voucher":
                return (await agent.vouchers.sell(voucher, 1000, "1001")).txn_id
            if kind == "topup":
                return (await agent.topups.purchase(topup, "0821234567", 2000, "1001")).txn_id
            if kind == "mt_send":
                return (await agent.money.create_order(10000, 1000, sender, recipient, "1001",
                                                       receiver=mukuru)).txn_id
            if kind == "mt_payout":
                return (await agent.money.redeem("48203917562038174501", 50000, "1001",
                                                 receiver=mukuru)).txn_id
            return (await agent.suv.redeem("2500999988887777", 100, "1001")).txn_id

        op_of = {"voucher": Op.VOUCHER_PROVISION, "topup": Op.PURCHASE,
                 "mt_send": Op.MT_ORDER_CREATE, "mt_payout": Op.MT_REDEEM, "suv": Op.SUV_REDEEM,
                 "confirmation": Op.VOUCHER_CONFIRM, "reversal": Op.VOUCHER_REVERSE,
                 "status": Op.PURCHASE_STATUS}

        for i in range(cases):
            kind = ops[i % len(ops)]
            op = op_of[kind]
            answer = fz.answer
            sw.sent = None
            stats[kind]["cases"] += 1
            try:
                if kind in ("confirmation", "reversal", "status"):
                    problem, outcome = await _fuzz_advice(agent, sw, kind, op, answer, voucher,
                                                          topup)
                    stats[kind][outcome] = stats[kind].get(outcome, 0) + 1
                else:
                    sw.target, sw.answer, sw.used = op, answer, False
                    agent.switch.last_error = None
                    txn_id = await run_flow(kind)
                    txn = await agent.journal.get(txn_id) if txn_id else None
                    problem = _check_request(kind, op, sw.sent, txn, agent.switch.last_error,
                                             await agent.outbox.for_txn(txn_id) if txn_id
                                             else [], classify, Verdict, _asked_of(txn, kind))
                    if txn is not None:
                        stats[kind][txn.state.value] = stats[kind].get(txn.state.value, 0) + 1
                    if txn_id:  # leave no due row behind for the next case
                        await agent.store.step(lambda db, t=txn_id: db.execute(
                            "UPDATE outbox SET state='void' WHERE txn_id=? AND state='pending'",
                            (t,)))
                if problem:
                    wrong.append(f"{kind} #{i}: {problem}")
            except AgentError as exc:  # the agent's own refusal: a handled outcome
                stats[kind]["agent_error"] = stats[kind].get("agent_error", 0) + 1
                if "database" in str(exc):
                    crashes.append(f"{kind} #{i}: {type(exc).__name__}: {exc}"[:300])
            except Exception as exc:  # noqa: BLE001 - anything else is a crash
                crashes.append(f"{kind} #{i}: {type(exc).__name__}: {exc}"[:300])
            finally:
                if sw.sent is not None and not isinstance(sw.sent, Exception):
                    statuses.add(sw.sent[0])
                sw.target, sw.used = None, False
    return {"cases": cases, "crashes": len(crashes), "wrong_final_state": len(wrong),
            "distinct_statuses": len(statuses), "by_operation": stats,
            "crash_examples": crashes[:10], "wrong_examples": wrong[:10],
            "ok": not crashes and not wrong}


_NOT_SENT_ERRORS = ("ConnectError", "ConnectTimeout", "PoolTimeout", "UnsupportedProtocol")


def _asked_of(txn: Any, kind: str) -> Any:
    """What the flow asked, so the expected verdict is computed the way the till computes it."""
    from terminal_agent.protocol.outcome import Asked

    if txn is None:
        return Asked()
    asked_for = txn.detail.get("requested_amount", txn.amount)
    return Asked(request_id=txn.id, amount=asked_for, direct_topup=kind == "topup")


def _sent(answer: Any, transport_error: str | None) -> bool:
    """False when the fuzzed failure happened before the request left the till."""
    name = type(answer).__name__ if isinstance(answer, Exception) else (transport_error or "")
    return name not in _NOT_SENT_ERRORS


def _check_request(kind: str, op: Any, answer: Any, txn: Any, transport_error: str | None,
                   rows: list[Any], classify: Any, Verdict: Any, asked: Any) -> str | None:
    if txn is None:
        return "no transaction recorded"
    state = txn.state.value
    if isinstance(answer, Exception) or transport_error:
        expected = classify(op, None, None, asked, sent=_sent(answer, transport_error)).verdict
        status = None
    else:
        status = answer[0]
        expected = classify(op, status, answer[1], asked).verdict
    table_ = _TOPUP_STATE if kind == "topup" else _REQUEST_STATE
    if state not in table_[expected.value]:
        return f"status {status}: classifier says {expected.value}, state {state}"
    if state in ("APPROVED", "COMPLETED") and (status is None or not 200 <= status < 300):
        return f"{state} on status {status}"
    kinds = [(r.kind.value, r.state.value) for r in rows]
    if kind == "topup" and any(k == "reversal" for k, _ in kinds):
        return "a top-up got a reversal"
    pending = [k for k, s in kinds if s == "pending"]
    if state == "REVERSING" and pending != ["reversal"]:
        return f"REVERSING with pending rows {pending}"
    if state in ("APPROVED", "DECLINED") and pending:
        return f"{state} with pending rows {pending}"
    return None


async def _fuzz_advice(agent: Any, sw: FuzzSwitch, kind: str, op: Any, answer: Any,
                       voucher: Any, topup: Any) -> tuple[str | None, str]:
    from terminal_agent.protocol.outcome import classify

    # a transaction with one due advice (the answers it needs before that are good ones)
    sw.target = None
    if kind == "status":
        sw.target, sw.answer, sw.used = __import__(
            "terminal_agent.protocol.operations", fromlist=["Op"]).Op.PURCHASE, \
            httpx.ReadTimeout("setup"), False
        r = await agent.topups.purchase(topup, "0821234567", 2000, "1001")
        assert r.state.value == "STATUS_PENDING", r.state
        await agent.store.step(lambda db: db.execute(  # due now (first delay skipped)
            "UPDATE outbox SET next_attempt_at=0 WHERE txn_id=? AND state='pending'",
            (r.txn_id,)))
    else:
        r = await agent.vouchers.sell(voucher, 1000, "1001")
        assert r.approved, r
        if kind == "confirmation":
            await agent.vouchers.tender(r.txn_id, "1001")
        else:
            await agent.vouchers.cancel(r.txn_id, "1001")
    txn_id = r.txn_id
    due = [x for x in await agent.outbox.for_txn(txn_id) if x.state.value == "pending"]
    asked = agent.forwarder._asked(due[-1])  # what the forwarder will match the answer against
    sw.target, sw.answer, sw.used = op, answer, False
    agent.switch.last_error = None
    agent.forwarder.pace.forget()  # each case is a switch of its own (not held off by the last)
    handled = await agent.forwarder.run_once()
    if handled != 1:
        return f"forwarder handled {handled} rows", "-"
    answer = sw.sent
    rows = await agent.outbox.for_txn(txn_id)
    txn = await agent.journal.get(txn_id)
    if isinstance(answer, Exception) or agent.switch.last_error:
        expected = classify(op, None, None, asked,
                            sent=_sent(answer, agent.switch.last_error)).verdict.value
        status = None
    else:
        status = answer[0]
        expected = classify(op, status, answer[1], asked).verdict.value
    row = [x for x in rows if x.kind.value == kind][-1]
    state, rstate = txn.state.value, row.state.value
    problem = None
    if kind == "confirmation":
        ok = {"APPROVED": ("CONFIRMED", "delivered"), "DECLINED": ("CONFIRM_FAILED", "parked"),
              "RETRY": ("TENDERED", "pending")}[expected]
        if (state, rstate) != ok:
            problem = f"status {status}: {expected} but txn {state}, row {rstate}"
        if any(x.kind.value == "reversal" and x.state.value in ("pending", "delivered")
               for x in rows):
            problem = "a reversal after a queued confirmation"
    elif kind == "reversal":
        ok = {"APPROVED": ("REVERSED", "delivered"), "DECLINED": ("REVERSING", "parked"),
              "RETRY": ("REVERSING", "pending")}[expected]
        if (state, rstate) != ok:
            problem = f"status {status}: {expected} but txn {state}, row {rstate}"
    else:
        ok = {"APPROVED": ("COMPLETED", "delivered"), "DECLINED": ("REFUND_DUE", "delivered"),
              "RETRY": ("STATUS_PENDING", "pending")}[expected]
        if (state, rstate) != ok:
            problem = f"status {status}: {expected} but txn {state}, row {rstate}"
        if any(x.kind.value == "reversal" for x in rows):
            problem = "a top-up got a reversal"
    if status is not None and not 200 <= status < 300 and state in ("CONFIRMED", "COMPLETED") \
            and not (expected == "APPROVED"):
        problem = f"{state} on status {status}"
    # leave no due row behind for the next case
    await agent.store.step(lambda db: db.execute(
        "UPDATE outbox SET state='void' WHERE txn_id=? AND state='pending'", (txn_id,)))
    return problem, f"{state}/{rstate}"


def fault_fuzz(tmp: Path, cases: int = 10_000, seed: int = 5) -> dict[str, Any]:
    # the database on tmpfs when there is one: this is about decisions, not durability
    shm = Path("/dev/shm")
    base = Path(tempfile.mkdtemp(prefix="ta-fuzz-", dir=shm if shm.is_dir() else tmp))
    db = base / "agent.db"
    create_db(db)
    started = time.perf_counter()
    try:
        out = asyncio.run(_fuzz(db, cases, seed))
    finally:
        import shutil

        shutil.rmtree(base, ignore_errors=True)
    out["seconds"] = time.perf_counter() - started
    return out


# -- 4. printer faults ---------------------------------------------------------------------------


async def _print_run(db: Path, jobs: int, seed: int) -> dict[str, Any]:
    from devices.printers import open_printer
    from devices.status import PrinterStatus
    from terminal_agent.core.printing import PrintQueue
    from terminal_agent.core.store import Store
    from tests.fake_printers import FakeNetworkPrinter

    rnd = random.Random(seed)
    store = await Store.open(db)
    faults_applied: dict[str, int] = {}
    contents: dict[int, bytes] = {}
    with FakeNetworkPrinter() as fake:
        printer = open_printer(fake.url, 48, timeout=0.05)
        queue = PrintQueue(store, printer)
        engine = fake.engine
        for i in range(jobs):
            r = rnd.random()
            fault = None
            if r < 0.05:
                engine.state, fault = PrinterStatus.PAPER_OUT, "paper_out"
            elif r < 0.08:
                engine.state, fault = PrinterStatus.COVER_OPEN, "cover_open"
            elif r < 0.11:
                engine.state, fault = PrinterStatus.OFFLINE, "offline"
            elif r < 0.14:
                engine.silent, fault = True, "silent"
            elif r < 0.18:
                engine.paper_left, fault = rnd.randint(0, 300), "paper_runs_out_mid_job"
            elif r < 0.21:
                fake.drop_connections()
                fault = "cable_pulled"
            elif r < 0.45:  # the cashier fixes whatever is wrong
                engine.load_paper()
                engine.silent = False
                fault = "fixed"
            if fault:
                faults_applied[fault] = faults_applied.get(fault, 0) + 1
            ref = f"J{i:05d}"
            content = (b"\x1b@" + f"RECEIPT {ref} {uuid.uuid4().hex}\n".encode()
                       + b"-" * rnd.randint(50, 400) + b"\n\x1dV\x00")
            job_id = await queue.submit(f"txn-{i}", ref, "voucher_sale", content,
                                        f"RECEIPT {ref}", False)
            contents[job_id] = content
        waiting_before_fix = len(await queue.pending())
        engine.load_paper()
        engine.silent = False
        for _ in range(20):
            result = await queue.pump()
            if result.all_printed:
                break
            await asyncio.sleep(0.05)
        pending = await queue.pending()
        paper = bytes(engine.printed)
        printer.close()
    rows = await store.fetchall("SELECT id, state FROM print_jobs")
    await store.close()
    states = {r["id"]: r["state"] for r in rows}
    lost = [j for j in contents if states.get(j) != "printed" or contents[j] not in paper]
    copies = [paper.count(c) for c in contents.values()]
    return {"jobs": jobs, "faults_applied": faults_applied,
            "waiting_when_faults_ended": waiting_before_fix,
            "printed": sum(1 for s in states.values() if s == "printed"),
            "pending_at_end": len(pending), "lost": len(lost),
            "printed_exactly_once": sum(1 for c in copies if c == 1),
            "printed_twice_or_more": sum(1 for c in copies if c > 1),
            "ok": not lost and not pending}


def fault_printer(tmp: Path, jobs: int = 1000, seed: int = 3) -> dict[str, Any]:
    work = tmp / "printer"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "agent.db"
    create_db(db)
    started = time.perf_counter()
    out = asyncio.run(_print_run(db, jobs, seed))
    out["seconds"] = time.perf_counter() - started
    return out


# -- the run -----------------------------------------------------------------------------------------


def render(res: dict[str, Any]) -> str:
    m = res["machine"]
    parts = [f"Fault figures {m['date']} — {m['nproc']} × {m['cpu']}, Python {m['python']}, "
             f"SQLite {m['sqlite']}; total {res['seconds']:.0f} s", ""]
    c = res.get("crash")
    if c:
        parts += ["1. Crash matrix as deployed (a till process and `forward` on one database, "
                  "SIGKILLed apart and together, restarted while the other goes on; drained; "
                  "journal vs simulator ledger)", "",
                  table(["kills", "till / forward / double", "at start-up / running",
                         "transactions", "advices delivered", "lost", "both confirmed and "
                         "reversed", "left in limbo", "parked", "exceptions to the till",
                         "tendered vouchers / slip missing", "drain s", "run s"],
                        [[c["kills"], f"{c['kills_till']} / {c['kills_forward']} / "
                          f"{c['double_kills']}",
                          f"{c['kills_at_startup']} / {c['kills_while_running']}",
                          c["transactions"], c["advices"], c["lost"], c["both"], c["limbo"],
                          c["parked"], c["till_exceptions"],
                          f"{c['tendered_vouchers']} / {c['unprinted']}",
                          f"{c['drain_seconds']:.1f}", f"{c['seconds']:.0f}"]]), ""]
    o = res.get("outage")
    if o:
        parts += ["2. Day-long outage: a day's advices queued while the switch is unreachable, "
                  "then it comes back", "",
                  table(["sales", "advices queued", "attempts during outage",
                         "time to drain s", "advices/s", "order violations",
                         "max displacement", "lost", "both", "limbo"],
                        [[o["sales"], o["advices_queued"], o["attempts_during_outage"],
                          f"{o['drain_seconds']:.1f}", fmt(o["drain_per_s"]),
                          o["order_violations"], o["max_displacement"], o["lost"], o["both"],
                          o["limbo"]]]), ""]
    f = res.get("fuzz")
    if f:
        parts += ["3. Fuzzed switch answers through the real core (in-memory transport)", "",
                  table(["cases", "distinct statuses", "operations", "crashes",
                         "wrong final state", "s"],
                        [[f"{f['cases']:,}", f["distinct_statuses"], len(f["by_operation"]),
                          f["crashes"], f["wrong_final_state"], f"{f['seconds']:.0f}"]]), ""]
    p = res.get("printer")
    if p:
        parts += ["4. Printer faults during prints (fake ESC/POS network printer)", "",
                  table(["jobs", "faults toggled", "waiting when faults ended", "printed",
                         "lost", "on paper exactly once", "reprinted in full", "s"],
                        [[p["jobs"], sum(p["faults_applied"].values()),
                          p["waiting_when_faults_ended"], p["printed"], p["lost"],
                          p["printed_exactly_once"], p["printed_twice_or_more"],
                          f"{p['seconds']:.0f}"]]), ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.faults")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="fuzz,printer,outage,crash")
    parser.add_argument("--kills", type=int, default=0)
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)
    logging.getLogger().addHandler(logging.NullHandler())  # the agent's own warnings: quiet
    only = args.only.split(",")
    sizes = ({"kills": 3, "sales": 40, "cases": 80, "jobs": 40} if args.quick else
             {"kills": 1000, "sales": 5000, "cases": 10_000, "jobs": 1000})
    if args.kills:
        sizes["kills"] = args.kills
    started = time.perf_counter()
    res: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    with tempfile.TemporaryDirectory(prefix="ta-faults-") as d:
        tmp = Path(d)
        for key in only:
            print(f"[faults] {key} ...", flush=True)
            if key == "fuzz":
                res[key] = fault_fuzz(tmp, sizes["cases"])
            elif key == "printer":
                res[key] = fault_printer(tmp, sizes["jobs"])
            elif key == "outage":
                res[key] = fault_outage(tmp, sizes["sales"])
            elif key == "crash":
                res[key] = fault_crash(tmp, sizes["kills"])
            print(f"[faults] {key}: ok={res[key].get('ok')} in "
                  f"{res[key].get('seconds', 0):.0f} s", flush=True)
    res["seconds"] = time.perf_counter() - started
    res["ok"] = all(res[k].get("ok") for k in only)
    text = render(res)
    res["table"] = text
    print()
    print(text)
    if args.out:
        out = Path(args.out)
        write_json(out.name, res, out.parent)
    elif not args.quick:
        print("wrote", write_json("latest-faults.json", res))
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
