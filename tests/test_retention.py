"""Retention in short steps: a purge of a long history never keeps a sale out (issue 17).

A till upgraded with a year of history purged it in one write step that held the lock for over
13 minutes; every sale's write-ahead step meanwhile waited out its busy timeout and was refused.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from terminal_agent.config import RetentionConfig, StoreConfig
from terminal_agent.core import audit, retention
from terminal_agent.core.audit import AuditTrail
from terminal_agent.core.journal import Journal, Kind, NewTxn
from terminal_agent.core.store import Store, create_database

DAY = 86400.0
OLD = 250 * DAY  # older than every default retention period but the audit trail's


def seed_sales(db: Path, n: int, *, age: float, state: str = "CONFIRMED",
               confirmation: str = "delivered") -> list[str]:
    """``n`` voucher sales as the agent leaves them, ``age`` seconds ago: the transaction with its
    PIN sealed, four events, the voided held reversal, the confirmation, the printed PIN slip."""
    at = time.time() - age
    ids = [str(uuid.uuid4()) for _ in range(n)]
    con = sqlite3.connect(db, isolation_level=None)
    try:
        con.execute("BEGIN")
        con.executemany(
            "INSERT INTO transactions (id, kind, op, state, path, request, amount, currency,"
            " cashier, reference, created_at, updated_at, sealed) VALUES"
            " (?, 'voucher_sale', 'VOUCHER_PROVISION', ?, '/vouchers', x'7b7d', 1000, 'ZAR',"
            " '1001', ?, ?, ?, x'5345414c4544')",
            [(i, state, i[:8].upper(), at + k, at + k + 5) for k, i in enumerate(ids)])
        con.executemany(
            "INSERT INTO events (txn_id, at, what, state, actor) VALUES (?, ?, 'state', ?, '1001')",
            [(i, at + k + s, name) for k, i in enumerate(ids)
             for s, name in enumerate(("PREPARED", "APPROVED", "TENDERED", state))])
        con.executemany(
            "INSERT INTO outbox (id, txn_id, seq, kind, op, method, path, body, state,"
            " next_attempt_at, created_at, delivered_at) VALUES"
            " (?, ?, ?, ?, 'X', 'POST', '/x', x'7b7d', ?, ?, ?, ?)",
            [row for k, i in enumerate(ids) for row in (
                (str(uuid.uuid4()), i, 1, "reversal", "void", at + k, at + k, None),
                (str(uuid.uuid4()), i, 2, "confirmation", confirmation, at + k, at + k,
                 at + k + 5 if confirmation == "delivered" else None))])
        con.executemany(
            "INSERT INTO print_jobs (txn_id, reference, kind, content, text, columns,"
            " contains_pin, state, created_at, printed_at) VALUES"
            " (?, ?, 'voucher_sale', x'1b40504e', 'PIN 1234', 42, 1, 'printed', ?, ?)",
            [(i, i[:8].upper(), at + k, at + k + 6) for k, i in enumerate(ids)])
        con.execute("COMMIT")
    finally:
        con.close()
    return ids


def old_business(con: sqlite3.Connection, before: float) -> int:
    """Everything the purge changes of what was seeded before ``before``: it only goes down."""
    return sum(con.execute(sql, (before,)).fetchone()[0] for sql in (
        "SELECT COUNT(*) FROM transactions WHERE created_at < ?",
        "SELECT COUNT(*) FROM transactions WHERE created_at < ? AND sealed IS NOT NULL",
        "SELECT COUNT(*) FROM events WHERE at < ?",
        "SELECT COUNT(*) FROM outbox WHERE created_at < ?",
        "SELECT COUNT(*) FROM print_jobs WHERE created_at < ?",
        "SELECT COUNT(*) FROM print_jobs WHERE created_at < ? AND length(content) > 0"))


PURGE = """
import asyncio, sys, time
from terminal_agent.config import RetentionConfig
from terminal_agent.core import retention
from terminal_agent.core.store import Store

async def main():
    store = await Store.open(sys.argv[1])
    try:
        print((await retention.enforce(store, RetentionConfig(), time.time())).describe())
    finally:
        await store.close()

asyncio.run(main())
"""


async def test_a_sale_gets_through_while_a_long_history_is_purged(tmp_path):
    """The purge runs in its own process (as the service's housekeeping does) over a long
    history; the till's next sale writes its write-ahead step meanwhile with the store's normal
    busy timeout. It must get through, and get through *during* the purge: in its own
    transaction it sees part of the history gone and part still there. (In one step, the sale
    either timed out or came after everything.)"""
    db = tmp_path / "agent.db"
    create_database(db, "TILL0001")
    seed_sales(db, 1500, age=OLD)
    before = time.time() - 100 * DAY
    watch = sqlite3.connect(db)
    untouched = old_business(watch, before)
    purge = subprocess.Popen([sys.executable, "-c", PURGE, str(db)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        while old_business(watch, before) == untouched:  # wait for the purge's first commit
            assert purge.poll() is None, (
                "the purge committed all its work in one step: nothing could get in between "
                f"({purge.communicate()})")
            await asyncio.sleep(0.005)
        till = await Store.open(db, busy_timeout_ms=StoreConfig().busy_timeout_ms)
        journal = Journal(till)
        sale = NewTxn(str(uuid.uuid4()), Kind.VOUCHER_SALE, "VOUCHER_PROVISION", "/vouchers",
                      b"{}", 1000, "ZAR", "1001")

        def write_ahead(con: sqlite3.Connection) -> int:
            journal.insert(con, sale)
            return old_business(con, before)  # what the purge had committed at this moment

        seen = await till.step(write_ahead)  # StoreBusy here = the sale refused
        await till.close()
        out, err = await asyncio.to_thread(purge.communicate, timeout=300)
    finally:
        if purge.poll() is None:
            purge.kill()
    assert purge.returncode == 0, err
    assert "1500 transactions" in out
    assert old_business(watch, before) == 0
    assert 0 < seen < untouched, "the sale got in only before or after the whole purge"
    assert watch.execute("SELECT state FROM transactions WHERE id=?",
                         (sale.id,)).fetchone() == ("PREPARED",)
    watch.close()


def small_batches(monkeypatch: pytest.MonkeyPatch, size: int = 7) -> None:
    """Many batches from a few rows (the rules are the real ones)."""
    monkeypatch.setattr(retention, "RULES", tuple(
        dataclasses.replace(rule, batch=size) for rule in retention.RULES))
    monkeypatch.setattr(retention, "JOURNAL", dataclasses.replace(retention.JOURNAL, batch=size))
    monkeypatch.setattr(retention, "AUDIT_BATCH", size)
    advice_rules = retention.advice_rules
    monkeypatch.setattr(retention, "advice_rules", lambda days: tuple(
        dataclasses.replace(rule, batch=size) for rule in advice_rules(days)))


def one(con: sqlite3.Connection, sql: str, *args: object) -> object:
    return con.execute(sql, args).fetchone()[0]


async def seed_still_needed(store: Store, db: Path) -> dict[str, str]:
    """Old rows that must stay: an approved sale waiting for the cashier, a sale whose
    confirmation is not delivered, a slip not printed, an original with a young copy."""
    waiting = seed_sales(db, 1, age=OLD, state="APPROVED", confirmation="held")[0]
    undelivered = seed_sales(db, 1, age=OLD, confirmation="pending")[0]
    unprinted = seed_sales(db, 1, age=OLD)[0]
    copied = seed_sales(db, 1, age=OLD)[0]
    copied_old = seed_sales(db, 1, age=OLD)[0]
    now = time.time()

    def jobs(con: sqlite3.Connection) -> None:
        con.execute("UPDATE print_jobs SET state='pending' WHERE txn_id=?", (unprinted,))
        for txn, age in ((copied, 1 * DAY), (copied_old, OLD)):
            original = one(con, "SELECT id FROM print_jobs WHERE txn_id=?", txn)
            con.execute("INSERT INTO print_jobs (txn_id, reference, kind, content, text, columns,"
                        " contains_pin, copy_of, copy_number, state, created_at) VALUES"
                        " (?, 'COPY', 'voucher_sale', x'00', 'copy', 42, 0, ?, 1, 'printed', ?)",
                        (txn, original, now - age))

    await store.step(jobs)
    return {"waiting": waiting, "undelivered": undelivered, "unprinted": unprinted,
            "copied": copied, "copied_old": copied_old}


async def test_batches_keep_what_is_still_needed_and_the_chain_anchored(tmp_path, monkeypatch):
    small_batches(monkeypatch)
    db = tmp_path / "agent.db"
    create_database(db, "TILL0001")
    gone = seed_sales(db, 40, age=OLD)
    async with await Store.open(db) as store:
        kept = await seed_still_needed(store, db)
        now = time.time()
        for k in range(30):  # audit rows older than audit_days, then today's
            age = 500 * DAY if k < 20 else 0
            await store.step(lambda con, age=age: audit.append(con, now - age, "9001", "login"))
        done = await retention.run_pass(store, RetentionConfig(), now, advices_days=90,
                                        pause=0.0)
        assert done.steps > 20  # many short steps, not one
        purged = done.purged
        # + the three whose slips are in question: a print job stays on its own (no reference)
        assert (purged.transactions, purged.audit) == (40 + 3, 20)
        report = await AuditTrail(store).verify()
        assert report.intact, report.describe()
    con = sqlite3.connect(db)
    marks = ",".join("?" * len(gone))
    assert one(con, f"SELECT COUNT(*) FROM transactions WHERE id IN ({marks})", *gone) == 0
    assert one(con, "SELECT sealed IS NOT NULL FROM transactions WHERE id=?", kept["waiting"])
    assert one(con, "SELECT COUNT(*) FROM events WHERE txn_id=?", kept["waiting"]) == 4
    assert one(con, "SELECT state FROM outbox WHERE txn_id=? AND seq=2",
               kept["undelivered"]) == "pending"
    assert one(con, "SELECT COUNT(*) FROM transactions WHERE id=?", kept["undelivered"]) == 1
    assert one(con, "SELECT state FROM print_jobs WHERE txn_id=?", kept["unprinted"]) == "pending"
    assert one(con, "SELECT COUNT(*) FROM print_jobs WHERE txn_id=?", kept["copied"]) == 2
    assert one(con, "SELECT COUNT(*) FROM print_jobs WHERE txn_id=?", kept["copied_old"]) == 0
    rows = con.execute("SELECT note FROM audit WHERE action='retention'").fetchall()
    assert len(rows) == 1 and "43 transactions, 20 audit rows deleted" in rows[0][0]
    assert one(con, "SELECT COUNT(*) FROM kv WHERE key=?", retention.TALLY_KEY) == 0
    assert (tmp_path / "agent.db-wal").stat().st_size == 0  # checkpointed and truncated
    con.close()


async def test_a_pass_cut_short_is_audited_by_the_next(tmp_path, monkeypatch):
    """Stopped between two steps (the service stops, the UI hands over): what it deleted is in
    the tally, and the next pass's audit row counts it too."""
    small_batches(monkeypatch, size=5)
    db = tmp_path / "agent.db"
    create_database(db, "TILL0001")
    seed_sales(db, 30, age=OLD)
    async with await Store.open(db) as store:
        first = asyncio.create_task(retention.enforce(store, RetentionConfig(), time.time(),
                                                      pause=0.05))
        while await store.fetchone("SELECT 1 FROM kv WHERE key=?", (retention.TALLY_KEY,)) \
                is None:
            await asyncio.sleep(0.01)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        tally = json.loads((await store.fetchone(
            "SELECT value FROM kv WHERE key=?", (retention.TALLY_KEY,)))[0])
        assert sum(tally.values()) > 0
        assert await store.fetchone("SELECT 1 FROM audit WHERE action='retention'") is None
        second = await retention.enforce(store, RetentionConfig(), time.time(), pause=0.0)
        notes = [r[0] for r in await store.fetchall(
            "SELECT note FROM audit WHERE action='retention'")]
    total = retention.Purged()
    total.add(tally)
    total.add(dataclasses.asdict(second))
    assert notes == [total.describe()]
    assert total.transactions == 30 and total.events == 120 and total.secrets == 30


async def test_housekeeping_goes_on_while_the_purge_runs_and_stop_cuts_it_short(
        tmp_path, monkeypatch):
    """The runtime starts the hourly purge as its own task: the sweep for orphaned work and
    expired decisions (a sale's auto-reversal deadline) keeps its pace during a purge of
    minutes, and stopping the runtime stops the purge between two steps."""
    from terminal_agent.core.agent import Agent
    from terminal_agent.core.runtime import Role, Runtime

    from .conftest import make_config

    cfg = make_config(tmp_path)
    started, cancelled, release = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow_purge(store, rules, now, *, advices_days=None, pause=retention.PAUSE):
        started.set()
        try:
            await release.wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return retention.Purged()

    monkeypatch.setattr(retention, "enforce", slow_purge)
    async with Agent.open(cfg, password="", role="service") as agent:
        sweeps = 0
        sweep = agent.recovery.sweep

        async def counted() -> object:
            nonlocal sweeps
            sweeps += 1
            return await sweep()

        monkeypatch.setattr(agent.recovery, "sweep", counted)
        monkeypatch.setattr(Runtime, "interval", property(lambda self: 0.05))
        async with Runtime(agent, Role.SERVICE):
            await asyncio.wait_for(started.wait(), 30)
            during = sweeps

            async def three_more_sweeps() -> None:
                while sweeps < during + 3:
                    await asyncio.sleep(0.05)

            # a TimeoutError here: housekeeping waits for the purge to finish
            await asyncio.wait_for(three_more_sweeps(), 60)
        assert cancelled.is_set()
