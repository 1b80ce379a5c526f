"""Recovery acts only on work whose sender is gone, and every write re-checks the row
(compare-and-set): owner locks across real processes, stale lists, deadlines racing tenders."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import httpx
import msgspec
import pytest

from terminal_agent.core.agent import Agent
from terminal_agent.core.owners import OwnerLock, Owners
from terminal_agent.core.states import State
from terminal_agent.protocol.operations import Op

from .conftest import make_config
from .mockswitch import MockSwitch
from .test_core_flows import PRODUCT, TOPUP


async def _unanswered(agent: Agent, switch: MockSwitch, owner: str | None) -> str:
    """A sale left PREPARED with its reversal held, as sent by ``owner``."""
    switch.answer(Op.VOUCHER_PROVISION, httpx.ReadTimeout("x"))
    sale = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    await agent.store.step(lambda db: (
        db.execute("UPDATE transactions SET state='PREPARED', owner=? WHERE id=?",
                   (owner, sale.txn_id)),
        db.execute("UPDATE outbox SET state='held' WHERE txn_id=?", (sale.txn_id,))))
    return sale.txn_id


def test_owner_lock_is_alive_while_its_process_lives_and_free_once_killed(tmp_path):
    db = tmp_path / "agent.db"
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from terminal_agent.core.owners import OwnerLock
        lock = OwnerLock({str(db)!r}, "ui")
        lock.acquire()
        print(lock.id, flush=True)
        time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        owner = child.stdout.readline().strip() if child.stdout else ""
        owners = Owners(db)
        assert owner.startswith("ui-") and owners.alive(owner)
        assert owners.alive(owner)  # probing twice (or from many processes) changes nothing
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        deadline = time.monotonic() + 30
        while owners.alive(owner) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not owners.alive(owner)
        owners.forget(owner)
        assert not (tmp_path / "agent.db.owners" / f"{owner}.lock").exists()
    finally:
        child.kill()
        child.wait()


def test_own_lock_and_unknown_owners(tmp_path):
    me = OwnerLock(tmp_path / "x.db", "service")
    me.acquire()
    owners = Owners(tmp_path / "x.db", me)
    assert owners.alive(me.id) and Owners(tmp_path / "x.db").alive(me.id)
    assert not owners.alive(None) and not owners.alive("") and not owners.alive("../etc/passwd")
    assert (tmp_path / "x.db.owners").stat().st_mode & 0o777 == 0o700
    assert me.path.stat().st_mode & 0o777 == 0o600
    me.release()
    assert not me.path.exists() and not Owners(tmp_path / "x.db").alive(me.id)


async def test_sweep_leaves_a_live_senders_request_alone(agent, switch):
    mine = await _unanswered(agent, switch, agent.owner.id)   # this process: alive
    gone = await _unanswered(agent, switch, "ui-1-deadbeef")    # a till killed mid-request
    legacy = await _unanswered(agent, switch, None)             # written before owners existed
    live, orphaned = await agent.recovery.in_flight()
    assert [o.id for o in live] == [mine]
    assert {o.id for o in orphaned} == {gone, legacy}
    report = await agent.recovery.sweep()
    assert set(report.reversed) == {gone, legacy}
    assert (await agent.journal.get(mine)).state == State.PREPARED
    snap = await agent.status()
    assert (snap.in_flight, snap.orphaned) == (1, 0)


async def test_a_list_read_before_an_answer_never_reverses_it(agent, switch):
    """Recovery reads its list, the answer is committed, then recovery writes: nothing."""
    txn_id = await _unanswered(agent, switch, "ui-1-deadbeef")
    _, listed = await agent.recovery.in_flight()
    await agent.store.step(lambda db: agent.journal.transition(
        db, txn_id, State.APPROVED, actor="c1", note="approved (answer committed meanwhile)"))
    done = await agent.store.step(lambda db: agent.recovery.recover_one(db, listed[0]))
    assert done is None
    assert (await agent.journal.get(txn_id)).state == State.APPROVED
    assert [r.state for r in await agent.outbox.for_txn(txn_id)] == ["held"]


async def test_recovered_topup_waits_the_window_from_the_send(tmp_path, switch):
    cfg = make_config(tmp_path, extra="")
    cfg = msgspec.structs.replace(
        cfg, forwarder=msgspec.structs.replace(cfg.forwarder, status_first_delay=30.0))
    switch.answer(Op.PURCHASE, httpx.ReadTimeout("x"))
    async with Agent.open(cfg, password="pw", transport=switch.transport()) as agent:
        result = await agent.topups.purchase(TOPUP, "0821234567", 2000, "c1")
        await agent.store.step(lambda db: (
            db.execute("UPDATE transactions SET state='TENDER_TAKEN', owner='ui-1-x',"
                       " created_at=created_at-20 WHERE id=?", (result.txn_id,)),
            db.execute("UPDATE outbox SET state='held' WHERE txn_id=?", (result.txn_id,))))
        txn = await agent.journal.get(result.txn_id)
        report = await agent.recovery.sweep()
        assert report.status_lookups == [result.txn_id]
        lookup = (await agent.outbox.for_txn(result.txn_id))[0]
        assert lookup.state == "pending"
        assert lookup.next_attempt_at == pytest.approx(txn.created_at + 30.0, abs=0.5)


async def test_deadline_racing_the_tender_is_a_value_not_an_error(agent, switch):
    sale = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    await agent.store.step(lambda db: db.execute(
        "UPDATE transactions SET decision_deadline=0 WHERE id=?", (sale.txn_id,)))
    assert await agent.recovery.expire_decisions() == [sale.txn_id]
    late = await agent.vouchers.tender(sale.txn_id, "c1")  # the cashier pressed Enter too late
    assert late.verdict == "reversed" and late.state == State.REVERSING
    assert "do not hand over" in late.message.lower() and "cash" in late.message.lower()
    # and the other way round: tendered first, the expiry's write finds nothing to do
    other = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
    await agent.vouchers.tender(other.txn_id, "c1")
    assert not await agent.store.step(
        lambda db: agent.recovery.expire_one(db, txn_id=other.txn_id, now=time.time() + 1e4))
