"""A mixed stream of till transactions, run as a real process that tests kill with SIGKILL.

    python -m bench.workload --config FILE run   [--seed N] [--count N]
    python -m bench.workload --config FILE drain
    python -m bench.workload --config FILE sell KIND [--hold] [--order-ref REF --amount N]

``run`` is a till and its forwarder in one process: recovery first (as at every start), then
sales of every kind (voucher sale + tender or cancellation, direct top-up, send money + cash,
pay out of a confirmed order, digital voucher redemption) while the forwarder delivers advices.
``drain`` (after the last kill) runs recovery and forwards until every transaction is final.
``sell`` is a till selling one transaction of KIND beside a running ``terminal-agent forward``
(the two-process tests): it prints ``APPROVED <id>`` (and with ``--hold`` waits there, never
tendering, to be killed), then ``DONE <state> <id>``; an exception prints ``EXCEPTION ...``.

``check(db, ledger)`` compares the till's journal with the simulator's ledger and counts what
must stay zero: lost, both confirmed and reversed, left in limbo, wrongly parked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from devices.printers import open_printer
from terminal_agent import config as config_mod
from terminal_agent.config import AgentConfig
from terminal_agent.core.agent import Agent
from terminal_agent.core.journal import Kind
from terminal_agent.core.printing import PrintQueue
from terminal_agent.core.reversals import queue_reversal
from terminal_agent.core.runtime import Role, Runtime
from terminal_agent.core.states import FINAL, State
from terminal_agent.core.store import create_database
from terminal_agent.errors import AgentError
from terminal_agent.protocol.airtime import Product
from terminal_agent.protocol.common import Institution
from terminal_agent.protocol.moneytransfer import PersonalDetails

CASHIER = "1001"
SUPERVISOR = "9001"
MUKURU = Institution(id="30000001", name="Mukuru Money Transfer")
SENDER = PersonalDetails(first_name="Thandiwe", last_name="Nkosi", id_number="9001015009087",
                         id_type="NATIONAL_ID", id_country_code="ZA", contact_number="27821234567")
RECIPIENT = PersonalDetails(first_name="Tendai", last_name="Moyo", contact_number="27841234567")
SUV_CODE = "2500999988887777"
VOUCHER = Product(product_id="VODA10", name="Vodacom R10")
TOPUP = Product(product_id="VODADT", name="Vodacom top-up", is_direct_topup=True)
KINDS = ("voucher", "voucher_cancel", "topup", "mt_send", "mt_payout", "suv")


async def _products(agent: Agent) -> tuple[Product, Product]:
    try:
        products = await agent.catalogue.products()
    except AgentError:
        products = []
    voucher = next((p for p in products if not p.is_direct_topup), VOUCHER)
    topup = next((p for p in products if p.is_direct_topup), TOPUP)
    return voucher, topup


PAID: set[str] = set()


async def _confirmed_order(agent: Agent) -> tuple[str, int] | None:
    """A confirmed send-money order of this till not yet paid out by this process (after a
    restart a repeat is possible: the switch declines it, which is a valid outcome)."""
    rows = await agent.store.fetchall(
        "SELECT id FROM transactions WHERE kind='mt_send' AND state='CONFIRMED'"
        " ORDER BY created_at DESC LIMIT 20")
    for row in rows:
        txn = await agent.journal.get(row["id"])
        ref = agent.money.describe_order(txn).data.get("order_redeem_ref")
        if ref and ref not in PAID:
            PAID.add(ref)
            return str(ref), txn.amount
    return None


async def one(agent: Agent, kind: str, rnd: random.Random, products: tuple[Product, Product],
              think: float = 0.0) -> None:
    """One sale of ``kind``; ``think``: the cashier's mean pause between approval and tender
    (a long one may outlast the approved sale's deadline: the sale is reversed behind them)."""
    voucher, topup = products

    async def pause() -> None:
        if think > 0:
            await asyncio.sleep(min(10 * think, rnd.expovariate(1 / think)))

    def said(result: Any) -> None:
        if result.verdict == "reversed":  # the deadline passed while the cashier thought
            print(f"REVERSED-BEFORE-TENDER {result.txn_id}", flush=True)

    if kind in ("voucher", "voucher_cancel"):
        value = voucher.product_values[0].amount if voucher.product_values else 1000
        r = await agent.vouchers.sell(voucher, value, CASHIER)
        if r.approved:
            await pause()
            if kind == "voucher_cancel":
                await agent.vouchers.cancel(r.txn_id, CASHIER)
            else:
                said(await agent.vouchers.tender(r.txn_id, CASHIER))
    elif kind == "topup":
        await agent.topups.purchase(topup, "0821234567", 2000, CASHIER)
    elif kind == "mt_send":
        r = await agent.money.create_order(10000, 1000, SENDER, RECIPIENT, CASHIER, receiver=MUKURU)
        if r.approved:
            await pause()
            said(await agent.money.tender(r.txn_id, CASHIER))
    elif kind == "mt_payout":
        found = await _confirmed_order(agent)
        if found is None:
            return
        ref, amount = found
        r = await agent.money.redeem(ref, amount, CASHIER, receiver=MUKURU)
        if r.approved:
            await pause()
            said(await agent.money.paid_out(r.txn_id, CASHIER))
    elif kind == "suv":
        r = await agent.suv.redeem(SUV_CODE, 100, CASHIER)
        if r.approved and r.state == State.APPROVED:
            await pause()
            said(await agent.suv.complete(r.txn_id, CASHIER))


def till_runtime(agent: Agent) -> Runtime:
    """The background work of a till process, exactly as ``terminal-agent ui`` starts it:
    forwarding (or standing by for the service), recovery, sweep, and the print pump (on a
    ``dummy://`` printer here)."""
    printer = open_printer("dummy://", agent.config.printer.columns)
    return Runtime(agent, Role.UI, print_queue=PrintQueue(agent.store, printer))


async def run(cfg: AgentConfig, seed: int, count: int, think: float = 0.0) -> int:
    """The till: sales of every kind, one after the other, with the runtime the UI starts.
    Any exception a flow raises to it is printed as ``EXCEPTION`` (the crash matrix counts
    them: there must be none) and the till goes on."""
    from terminal_agent.logs import setup_logging

    setup_logging(cfg.logging, process="till")
    rnd = random.Random(seed)
    async with Agent.open(cfg, password="", role="ui") as agent, till_runtime(agent):
        agent.money.resend_pause = agent.money.payouts.resend_pause = 0.0
        agent.suv.resend_pause = 0.0
        products = await _products(agent)
        print("READY", flush=True)
        for i in range(count):
            kind = KINDS[(seed + i) % len(KINDS)] if rnd.random() < 0.7 else rnd.choice(KINDS)
            try:
                await one(agent, kind, rnd, products, think)
            except Exception as exc:  # noqa: BLE001 - counted by the crash matrix
                print(f"EXCEPTION {kind}: {type(exc).__name__}: {exc}", flush=True)
            print(f"TXN {i} {kind}", flush=True)
    return 0


async def drain(cfg: AgentConfig, timeout: float = 120.0) -> int:
    """Recovery, then forward until every transaction is final (or the timeout)."""
    deadline = time.monotonic() + timeout
    async with Agent.open(cfg, password="") as agent:
        if not agent.lock.acquire():
            return 3
        await agent.outbox.drop_leases()
        report = await agent.recovery.run()
        # The supervisor's decision on sales approved but never tendered before the kill: the
        # driver records the tender right after approval, so none was handed over: reverse.
        for txn in await agent.journal.in_states({State.APPROVED}):
            await agent.store.step(lambda db, txn=txn: queue_reversal(
                db, agent.journal, agent.outbox, txn, reason="CANCELLED", actor=SUPERVISOR,
                note="not tendered before the crash"))
        print(f"drain: {len(report.reversed)} reversals, {len(report.status_lookups)} lookups, "
              f"{len(report.awaiting_decision)} decisions", file=sys.stderr)
        while time.monotonic() < deadline:
            await agent.forwarder.run_once()
            # A top-up whose status lookup settled it as failed after the tender was taken is
            # REFUND_DUE: the cashier's refund is the human step that closes it.
            for txn in await agent.journal.in_states({State.REFUND_DUE}):
                await agent.topups.refunded(txn.id, SUPERVISOR)
            finals = ",".join(f"'{s.value}'" for s in FINAL)
            open_ = await agent.store.fetchone(
                f"SELECT COUNT(*) FROM transactions WHERE state NOT IN ({finals})")  # noqa: S608
            pending = (await agent.outbox.counts()).pending
            if open_ is not None and open_[0] == 0 and pending == 0:
                # what the till's print pump had not printed yet prints at its next start
                await PrintQueue(agent.store, open_printer("dummy://", 48)).pump()
                return 0
            await asyncio.sleep(0.02)
        rows = await agent.store.fetchall(
            f"SELECT id, kind, state FROM transactions WHERE state NOT IN ({finals})")  # noqa: S608
        print("drain timed out; open:", [tuple(r) for r in rows][:10], file=sys.stderr)
    return 1


@dataclass
class Check:
    transactions: int = 0
    advices: int = 0
    lost: int = 0
    both: int = 0
    limbo: int = 0
    parked: int = 0
    topup_unsettled: int = 0
    refunds_due: int = 0  # top-ups that failed after the tender: settled, the cashier refunds
    tendered_vouchers: int = 0
    unprinted: int = 0           # a tendered voucher sale without its printed PIN slip
    receipts_unpaid: int = 0     # a receipt for a transaction that was never paid (reversed...)
    duplicate_receipts: int = 0  # more than one original receipt for one transaction
    till_exceptions: int = 0     # exceptions a flow raised to the live till (set by the caller)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.both or self.limbo or self.parked or self.topup_unsettled
                    or self.unprinted or self.receipts_unpaid or self.duplicate_receipts
                    or self.till_exceptions)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["problems"] = self.problems[:20]
        return out


_SIM_FINAL_FOR = {State.CONFIRMED: "confirmed", State.REVERSED: "reversed"}
TENDERED = ("TENDERED", "CONFIRMING", "CONFIRMED", "CONFIRM_FAILED")


def _check_receipts(con: sqlite3.Connection, result: Check, db_path: str) -> None:
    """Every tendered voucher sale has one original slip, printed, with its PIN on it; no
    transaction that was never paid has a receipt. PINs and PIN slips are stored sealed: read
    with the till key beside the database, as the till does."""
    from terminal_agent.core.vault import Keeper, Vault, load_key, open_receipt

    vault = Vault(load_key(db_path, create=False))
    receipts: dict[str, list[tuple[str, bool, str]]] = {}
    for job in con.execute("SELECT txn_id, reference, contains_pin, state, content, text"
                           " FROM print_jobs WHERE copy_of IS NULL AND kind != 'drawer'"
                           " AND txn_id IS NOT NULL"):
        text = open_receipt(vault, job["reference"], job["content"], job["text"])[1]
        receipts.setdefault(job["txn_id"], []).append(
            (job["state"], bool(job["contains_pin"]), text))
    for row in con.execute("SELECT id, kind, state, request, response, sealed"
                           " FROM transactions"):
        jobs = receipts.get(row["id"], [])
        result.duplicate_receipts += len(jobs) > 1
        if row["state"] not in (*TENDERED, "COMPLETED", "REFUND_DUE", "REFUNDED") and jobs:
            result.receipts_unpaid += 1
            result.problems.append(f"receipt for {row['state']}: {row['id']}")
        if row["kind"] != Kind.VOUCHER_SALE or row["state"] not in TENDERED:
            continue
        result.tendered_vouchers += 1
        _, response = Keeper(vault).restore(row["id"], row["request"], row["response"],
                                            row["sealed"])
        voucher = json.loads(response or b"{}").get("voucher") or {}
        pin = _digits(str(voucher.get("pin", "")))
        if not any(state == "printed" and has_pin and pin and pin in _digits(text)
                   for state, has_pin, text in jobs):
            result.unprinted += 1
            result.problems.append(f"tendered voucher without its printed PIN slip: {row['id']}")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def check(db_path: str, ledger: dict[str, Any]) -> Check:
    """Journal vs simulator ledger. Every original the simulator saw must be in the journal
    (write-ahead); final states must agree; no original may hold both final advices."""
    con = sqlite3.connect(db_path)
    con.row_factory = sqlite3.Row
    txns = {r["id"]: r for r in con.execute("SELECT id, kind, state FROM transactions")}
    result = Check(transactions=len(txns))
    result.advices = con.execute("SELECT COUNT(*) FROM outbox WHERE state='delivered'").fetchone()[0]
    result.parked = con.execute("SELECT COUNT(*) FROM outbox WHERE state='parked'").fetchone()[0]
    for row in txns.values():
        if row["state"] == State.REFUND_DUE:
            result.refunds_due += 1
        elif State(row["state"]) not in FINAL:
            result.limbo += 1
            result.problems.append(f"limbo: {row['id']} {row['kind']} {row['state']}")
        if row["kind"] == Kind.TOPUP and row["state"] in ("STATUS_PENDING", "TENDER_TAKEN"):
            result.topup_unsettled += 1
    _check_receipts(con, result, db_path)
    con.close()
    for original in ledger.get("originals", []):
        ok_kinds = {a["kind"] for a in original.get("advices", []) if 200 <= a["status"] < 300}
        if {"confirmation", "reversal"} <= ok_kinds:
            result.both += 1
            result.problems.append(f"both: {original['id']}")
        local = txns.get(original["id"])
        if local is None:
            result.lost += 1
            result.problems.append(f"unknown to the till: {original['id']}")
            continue
        state = State(local["state"])
        if original["outcome"] != "approved":
            continue
        if state in (State.REFUND_DUE, State.REFUNDED):  # refunded, yet the airtime went out
            result.lost += 1
            result.problems.append(f"refund due at till, approved at switch: {local['id']}")
        expected = _SIM_FINAL_FOR.get(state)
        if expected == "confirmed" and original["final"] != "confirmed":
            result.lost += 1
            result.problems.append(f"confirmed at till, {original['final']} at switch: {local['id']}")
        if expected == "reversed" and original["final"] == "confirmed":
            result.lost += 1
            result.problems.append(f"reversed at till, confirmed at switch: {local['id']}")
        if state in (State.APPROVED,) or (original["final"] == "open"
                                          and local["kind"] not in (Kind.TOPUP, Kind.SUV_REDEEM)):
            result.lost += 1
            result.problems.append(f"approved at switch, no final advice: {local['id']} {state}")
    return result


# -- the crash matrix's pieces (used by tests/test_crash_matrix.py and bench/faults.py) --------

ROOT = Path(__file__).resolve().parents[1]

FAULTS = [
    {"op": "*", "type": "latency", "latency_ms": 15, "probability": 0.5},
    {"op": "VOUCHER_PROVISION", "type": "hang", "when": "after", "hang_ms": 3000, "probability": 0.1},
    {"op": "PURCHASE", "type": "hang", "when": "after", "hang_ms": 3000, "probability": 0.2},
    {"op": "MT_ORDER_CREATE", "type": "status", "status": 504, "when": "after", "probability": 0.1},
    {"op": "SUV_REDEEM", "type": "reset", "when": "after", "probability": 0.1},
    {"op": "VOUCHER_CONFIRM", "type": "status", "status": 503, "probability": 0.2},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(path: Path, url: str, db: Path, *, drain: bool) -> Path:
    path.write_text(f"""
[switch]
base_url = "{url}"
read_timeout = 0.4
connect_timeout = 0.5
[store]
path = "{db}"
[forwarder]
backoff_initial = 0.02
backoff_max = 0.2
status_first_delay = 0.05
poll_interval = 0.02
lease_seconds = 5.0
approved_deadline_seconds = {0.0 if drain else 0.6}
auto_reverse_payouts = {"true" if drain else "false"}
sweep_seconds = 0.2
[printer]
url = "dummy://"
[logging]
target = "stderr"
""")
    path.chmod(0o600)
    if not db.exists():  # the crash till's database, made once on purpose
        create_database(db, "TILL0001")
    return path


def start_sim(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal_agent.cli", "sim", "--port", str(port),
         "--state", str(tmp / "sim.db")], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=open(tmp / "sim.log", "wb"))  # noqa: SIM115
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(url + "/_sim/health", timeout=0.5).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("simulator did not start: " + (tmp / "sim.log").read_text()[-2000:])


def wait_ready(out: Path, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if out.exists() and b"READY" in out.read_bytes():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.01)
    return False


async def sell(cfg: AgentConfig, kind: str, *, hold: bool, order_ref: str, amount: int) -> int:
    """One transaction of ``kind`` as the till would sell it (see the module docstring)."""
    async with Agent.open(cfg, password="", role="ui") as agent, till_runtime(agent):
        try:
            result = await _sell_one(agent, kind, order_ref, amount)
            print(f"{result.verdict.upper()} {result.txn_id}", flush=True)
            if result.approved and result.state == State.APPROVED:
                if hold:
                    await asyncio.Event().wait()  # the cashier never comes back: killed here
                result = await _tender(agent, kind, result.txn_id)
            print(f"DONE {result.state} {result.txn_id}", flush=True)
        except Exception as exc:  # the live till must never see one: the tests look for it
            print(f"EXCEPTION {type(exc).__name__}: {exc}", flush=True)
            return 1
    return 0


async def _sell_one(agent: Agent, kind: str, order_ref: str, amount: int) -> Any:
    if kind == "voucher":
        return await agent.vouchers.sell(VOUCHER, amount or 1000, CASHIER)
    if kind == "topup":
        return await agent.topups.purchase(TOPUP, "0821234567", amount or 2000, CASHIER)
    if kind == "mt_payout":
        return await agent.money.redeem(order_ref, amount, CASHIER, receiver=MUKURU)
    raise SystemExit(f"sell: unknown kind {kind}")


async def _tender(agent: Agent, kind: str, txn_id: str) -> Any:
    if kind == "mt_payout":
        return await agent.money.paid_out(txn_id, CASHIER)
    return await agent.vouchers.tender(txn_id, CASHIER)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.workload")
    parser.add_argument("--config", required=True)
    parser.add_argument("mode", choices=["run", "drain", "sell"])
    parser.add_argument("kind", nargs="?", default="voucher")
    parser.add_argument("--hold", action="store_true")
    parser.add_argument("--order-ref", default="")
    parser.add_argument("--amount", type=int, default=0)
    parser.add_argument("--think", type=float, default=0.0,
                        help="run: mean seconds between approval and tender")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    cfg = config_mod.load(args.config)
    if args.mode == "run":
        return asyncio.run(run(cfg, args.seed, args.count, args.think))
    if args.mode == "sell":
        return asyncio.run(sell(cfg, args.kind, hold=args.hold, order_ref=args.order_ref,
                                amount=args.amount))
    return asyncio.run(drain(cfg))


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["Check", "check", "drain", "json", "main", "run"]
