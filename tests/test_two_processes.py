"""Two processes on one journal, as a till runs them: ``terminal-agent forward`` (the service,
a real subprocess) and a till process (``python -m bench.workload sell``, the core as the UI
drives it) on one SQLite file, against the real simulator on 127.0.0.1.

Each test reproduces one defect found when the product was tried as a store would run it:
1. limbo while the service runs (a till killed mid-request, the service never restarting);
2. recovery racing a live till (the service restarting while the till's request is in flight);
3. "Open decisions → paid" confirming at the switch but printing nothing.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from terminal_agent import config as config_mod
from terminal_agent.core.store import create_database
from terminal_agent.sim import SimOptions, SimServer

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def sim() -> Iterator[SimServer]:
    with SimServer(SimOptions()) as server:
        yield server


def write_config(folder: Path, url: str, *, first_lookup: float = 0.3,
                 read_timeout: float = 20.0, text: str | None = None) -> Path:
    """One configuration for both processes (as on a till: /etc/terminal-agent/config.toml)."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / "config.toml"
    path.write_text(text or f"""
[switch]
base_url = "{url}"
read_timeout = {read_timeout}
connect_timeout = 2.0
[store]
path = "{folder / 'agent.db'}"
[forwarder]
backoff_initial = 0.05
backoff_max = 0.3
poll_interval = 0.05
status_first_delay = {first_lookup}
lease_seconds = 5.0
[printer]
url = "dummy://"
[logging]
target = "stderr"
""")
    path.chmod(0o600)
    cfg = config_mod.load(path)
    if not Path(cfg.store.path).exists():  # made once, on purpose, as `terminal-agent init` does
        create_database(cfg.store.path, cfg.terminal.terminal_id)
    return path


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terminal_agent.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


class Proc:
    """A real child process with its output in a file (read while it runs)."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self._out = log.open("ab")
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=self._out, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)})

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()

    def alive(self) -> bool:
        return self.proc.poll() is None


def start_forward(cfg: Path) -> Proc:
    proc = Proc([sys.executable, "-m", "terminal_agent.cli", "forward", "--config", str(cfg)],
                cfg.parent / "forward.log")
    lock = Path(str(db_of(cfg)) + ".forward.lock")
    wait_for(lambda: _locked(lock), what="the service to take the forwarder lock",
             also=proc)
    return proc


@contextmanager
def service(cfg: Path) -> Iterator[list[Proc]]:
    """``terminal-agent forward`` for the duration; the list holds the current process (a test
    may restart it)."""
    current = [start_forward(cfg)]
    try:
        yield current
    finally:
        current[0].stop()


def start_till(cfg: Path, kind: str, *extra: str) -> Proc:
    return Proc([sys.executable, "-m", "bench.workload", "--config", str(cfg), "sell", kind,
                 *extra], cfg.parent / f"till-{kind}.log")


def db_of(cfg: Path) -> Path:
    return cfg.parent / "agent.db"


def _locked(path: Path) -> bool:
    import fcntl

    if not path.exists():
        return False
    with open(path) as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        return False


def wait_for(predicate: Callable[[], Any], *, what: str, timeout: float = 60.0,
             also: Proc | None = None) -> Any:
    """Poll until ``predicate()`` is truthy (generous timeout: never a speed assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    tail = also.text()[-3000:] if also is not None else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


def query(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    if not db.exists():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    con.row_factory = sqlite3.Row
    try:
        return list(con.execute(sql, params))
    except sqlite3.OperationalError:  # the schema is not there yet
        return []
    finally:
        con.close()


def txn_in(db: Path, kind: str, states: set[str]) -> sqlite3.Row | None:
    rows = query(db, "SELECT * FROM transactions WHERE kind=? ORDER BY created_at DESC", (kind,))
    return next((r for r in rows if r["state"] in states), None)


def state_of(db: Path, txn_id: str) -> str:
    rows = query(db, "SELECT state FROM transactions WHERE id=?", (txn_id,))
    return str(rows[0]["state"]) if rows else ""


def status_json(cfg: Path) -> dict[str, Any]:
    out = cli("status", "--config", str(cfg), "--json")
    assert out.returncode == 0, out.stderr
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def original(sim: SimServer, txn_id: str) -> dict[str, Any]:
    return next(o for o in sim.ledger()["originals"] if o["id"] == txn_id)


def no_exception(till: Proc) -> None:
    assert "EXCEPTION" not in till.text(), till.text()[-3000:]


# -- 1. limbo while the service runs -----------------------------------------------------------


def test_till_killed_mid_request_is_reversed_while_the_service_keeps_running(tmp_path, sim):
    cfg = write_config(tmp_path / "till", sim.url)
    db = db_of(cfg)
    # the switch takes the sale and never answers: the till waits with its request in flight
    sim.add_faults({"op": "VOUCHER_PROVISION", "type": "hang", "when": "after",
                    "hang_ms": 120_000})
    with service(cfg) as svc:
        till = start_till(cfg, "voucher")
        sale = wait_for(lambda: txn_in(db, "voucher_sale", {"PREPARED"}), what="the sale sent",
                        also=till)
        wait_for(lambda: sim.ledger()["originals"], what="the switch to have the sale")
        seen = status_json(cfg)
        assert seen["transactions"]["in_flight"] == 1, seen
        assert seen["transactions"]["orphaned"] == 0, seen
        till.kill()
        # the service, still the same process, sweeps it up: the held reversal goes out
        wait_for(lambda: state_of(db, sale["id"]) in ("REVERSING", "REVERSED"),
                 what="the killed till's sale to be reversed", also=svc[0])
        assert svc[0].alive()
        sim.clear_faults()
        wait_for(lambda: state_of(db, sale["id"]) == "REVERSED", what="the reversal delivered",
                 also=svc[0])
        seen = status_json(cfg)
        assert seen["transactions"]["in_flight"] == seen["transactions"]["orphaned"] == 0
    assert original(sim, sale["id"])["final"] == "reversed"


def test_till_killed_mid_topup_starts_status_lookups_timed_from_the_send(tmp_path, sim):
    window = 3.0
    cfg = write_config(tmp_path / "till", sim.url, first_lookup=window)
    db = db_of(cfg)
    sim.add_faults({"op": "PURCHASE", "type": "hang", "when": "after", "hang_ms": 120_000})
    with service(cfg) as svc:
        till = start_till(cfg, "topup")
        topup = wait_for(lambda: txn_in(db, "topup", {"TENDER_TAKEN"}), what="the top-up sent",
                         also=till)
        wait_for(lambda: sim.ledger()["originals"], what="the switch to have the top-up")
        till.kill()
        wait_for(lambda: state_of(db, topup["id"]) != "TENDER_TAKEN",
                 what="status lookups for the killed till's top-up", also=svc[0])
        assert state_of(db, topup["id"]) in ("STATUS_PENDING", "COMPLETED")
        lookup = query(db, "SELECT * FROM outbox WHERE txn_id=? AND kind='status'",
                       (topup["id"],))[0]
        if lookup["attempts"] == 0:  # the first lookup waits the window from the send
            assert abs(lookup["next_attempt_at"] - (topup["created_at"] + window)) < 0.5, (
                dict(lookup), dict(topup))
        sim.clear_faults()
        wait_for(lambda: state_of(db, topup["id"]) == "COMPLETED", what="the lookup answered",
                 also=svc[0])
    assert original(sim, topup["id"])["outcome"] == "approved"


# -- 2. recovery racing a live till -----------------------------------------------------------


def _restart(svc: list[Proc], cfg: Path) -> None:
    svc[0].kill()
    svc[0].stop()
    svc[0] = start_forward(cfg)


def test_service_restart_leaves_the_live_tills_topup_alone(tmp_path, sim):
    cfg = write_config(tmp_path / "till", sim.url, first_lookup=0.2)
    db = db_of(cfg)
    # the switch is slow: it stores and approves the top-up only after 4 s
    sim.add_faults({"op": "PURCHASE", "type": "latency", "latency_ms": 4000, "times": 1})
    with service(cfg) as svc:
        till = start_till(cfg, "topup")
        topup = wait_for(lambda: txn_in(db, "topup", {"TENDER_TAKEN"}), what="the top-up sent",
                         also=till)
        _restart(svc, cfg)  # the service restarts while the till waits for the answer
        wait_for(lambda: "DONE" in till.text() or "EXCEPTION" in till.text(),
                 what="the till's answer", also=till)
        no_exception(till)
        assert state_of(db, topup["id"]) == "COMPLETED"
        assert "DONE COMPLETED" in till.text()
    assert original(sim, topup["id"])["outcome"] == "approved"


async def _confirmed_order(cfg: Path) -> tuple[str, int]:
    """Send money end to end in this process (before the service starts): a payable order."""
    from bench.workload import CASHIER, MUKURU, RECIPIENT, SENDER
    from terminal_agent import config as config_mod
    from terminal_agent.core.agent import Agent

    async with Agent.open(config_mod.load(cfg), password="") as agent:
        order = await agent.money.create_order(10000, 1000, SENDER, RECIPIENT, CASHIER,
                                               receiver=MUKURU)
        await agent.money.tender(order.txn_id, CASHIER)
        for _ in range(200):
            await agent.forwarder.run_once()
            if (await agent.journal.get(order.txn_id)).state == "CONFIRMED":
                break
        ref = agent.money.describe_order(await agent.journal.get(order.txn_id)).data
        return str(ref["order_redeem_ref"]), order.amount


async def test_service_restart_never_reverses_the_live_tills_payout(tmp_path, sim):
    cfg = write_config(tmp_path / "till", sim.url)
    db = db_of(cfg)
    ref, amount = await _confirmed_order(cfg)
    sim.add_faults({"op": "MT_REDEEM", "type": "latency", "latency_ms": 3000, "times": 1})
    with service(cfg) as svc:
        till = start_till(cfg, "mt_payout", "--order-ref", ref, "--amount", str(amount))
        payout = wait_for(lambda: txn_in(db, "mt_payout", {"PREPARED"}), what="the payout sent",
                          also=till)
        _restart(svc, cfg)
        wait_for(lambda: "DONE" in till.text() or "EXCEPTION" in till.text(),
                 what="the till's answer", also=till)
        no_exception(till)
        assert "APPROVED" in till.text()
        wait_for(lambda: state_of(db, payout["id"]) == "CONFIRMED",
                 what="the payout confirmed", also=svc[0])
    ledger = original(sim, payout["id"])
    assert ledger["final"] == "confirmed"
    assert {a["kind"] for a in ledger["advices"]} == {"confirmation"}


# -- one runtime: the two processes never disagree about who forwards ---------------------------


def _forwarding(cfg: Path) -> str:
    """The role written in the forwarder lock by the process holding it ("" if none)."""
    lock = Path(str(db_of(cfg)) + ".forward.lock")
    if not _locked(lock):
        return ""
    parts = lock.read_text().split()
    return parts[1] if len(parts) > 1 else "?"


def test_the_service_takes_over_from_the_till_and_back(tmp_path, sim):
    cfg = write_config(tmp_path / "till", sim.url)
    till = start_till(cfg, "voucher", "--hold")  # no service yet: the till forwards itself
    wait_for(lambda: "APPROVED" in till.text(), what="the sale approved", also=till)
    assert _forwarding(cfg) == "ui"
    with service(cfg) as svc:  # the service stands by; the till hands over at its next sweep
        wait_for(lambda: _forwarding(cfg) == "service", what="the hand-over", also=svc[0])
        assert status_json(cfg)["forwarder_role"] == "service"
        svc[0].kill()           # the service dies: the till takes over within seconds
        wait_for(lambda: _forwarding(cfg) == "ui", what="the till taking over", also=till)
        assert "cashier UI" in cli("status", "--config", str(cfg)).stdout
        svc[0].stop()
        svc[0] = start_forward(cfg)
        wait_for(lambda: _forwarding(cfg) == "service", what="the service back", also=svc[0])
        second = cli("forward", "--config", str(cfg), timeout=30)
        assert second.returncode == 2 and "another forwarder" in second.stderr
        till.kill()
        no_exception(till)
    assert "Traceback" not in svc[0].text()


# -- 3. "Open decisions → paid" prints the slip with the PIN ------------------------------------


async def test_open_decision_paid_prints_the_pin_and_can_be_reprinted(tmp_path, sim):
    from tests.test_ui_support import config_text, login, on, sees, till, until

    state = tmp_path / "till"
    text = config_text(state, sim.url, extra="[logging]\ntarget = \"stderr\"\n")
    cfg = write_config(state, sim.url, text=text)
    db = db_of(cfg)
    with service(cfg):
        seller = start_till(cfg, "voucher", "--hold")
        wait_for(lambda: "APPROVED" in seller.text() or "EXCEPTION" in seller.text(),
                 what="the sale approved", also=seller)
        sale_id = seller.text().split("APPROVED ", 1)[1].split()[0]
        seller.kill()  # the till dies between approval and tender: an open decision
        async with till(state, sim.url, extra="[logging]\ntarget = \"stderr\"\n") as pilot:
            await login(pilot)
            await until(pilot, lambda: on(pilot, "PendingScreen"), what="open decisions")
            await pilot.press("t")
            await sees(pilot, "Did the customer pay?")
            await pilot.press("y")  # asked first (issue 16: Y confirms an act that moves money)
            await sees(pilot, "Receipt printed", timeout=30)
            jobs = query(db, "SELECT * FROM print_jobs WHERE txn_id=? AND copy_of IS NULL"
                             " AND kind='voucher_sale'", (sale_id,))
            assert len(jobs) == 1 and jobs[0]["contains_pin"] == 1, [dict(j) for j in jobs]
            assert jobs[0]["state"] == "printed"
            desk = pilot.app.printer  # type: ignore[attr-defined]
            slip = await desk.queue.receipt_of(sale_id)  # stored sealed: read with the till key
            txn = await pilot.app.agent.journal.get(sale_id)  # type: ignore[attr-defined]
            pin = _digits(json.loads(txn.response or b"{}").get("voucher", {}).get("pin", ""))
            assert pin and slip is not None and pin in _digits(slip.text)
            reference = query(db, "SELECT reference FROM transactions WHERE id=?",
                              (sale_id,))[0][0]
            copy = await desk.reprint(reference, "1001", authorised_by="9001")
            assert copy.printed, copy
        wait_for(lambda: state_of(db, sale_id) == "CONFIRMED", what="the confirmation")
    assert original(sim, sale_id)["final"] == "confirmed"


def _digits(text: str) -> str:
    return "".join(ch for ch in str(text) if ch.isdigit())
