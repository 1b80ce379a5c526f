"""`make bench`: performance measured side by side with the alternatives, in one run.

    python -m bench.run                 # the full run (about 3-4 minutes on 2 cores)
    python -m bench.run --quick         # tiny sizes, for the smoke test
    python -m bench.run --only enqueue,drain --sizes 1000

Prints the tables and writes ``bench/results/latest-bench.json``. Each benchmark is a function
taking its size, returning a dict; ``main`` runs them, derives the ratios and checks the goals.

1. enqueue   durable enqueue (synchronous=FULL): our outbox vs persist-queue SQLiteAckQueue vs
             a raw sqlite3 insert+commit loop (the floor).
2. drain     10,000 queued advices to the simulator (its own process) on 127.0.0.1: our
             forwarder vs persist-queue + a sequential httpx loop; the simulator alone as ceiling.
3. sale      a voucher sale (sell, tender, confirmation delivered) through the core against the
             in-process simulator (httpx.ASGITransport); vs the floor of its fsync'd commits.
4. boot      `terminal-agent forward` process start -> the simulator receives the reversal of
             a transaction killed mid-request.
5. footprint peak RSS of `forward` idle and draining, and of the cashier UI after a sale.
6. growth    1-4 again with 1k, 10k and 100k transactions of history in the database.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    ROOT,
    HistoryCache,
    SimProcess,
    add_pending_reversals,
    create_db,
    fmt,
    machine,
    make_config,
    median,
    pct,
    pending_count,
    report,
    table,
    templates,
    vm,
    write_config,
)

# -- 1. durable enqueue -------------------------------------------------------------------------


def _bare_txns(db: Path, n: int) -> list[str]:
    """Transactions for the advices to belong to (the outbox has a foreign key)."""
    return add_pending_reversals(db, n, state="REVERSING")


async def _ours_enqueue(db: Path, ids: list[str]) -> list[float]:
    from terminal_agent.config import ForwarderConfig
    from terminal_agent.core.outbox import AdviceKind, Outbox
    from terminal_agent.core.store import Store

    t = templates()
    store = await Store.open(db)
    outbox = Outbox(store, ForwarderConfig())
    lat = []
    try:
        for txn_id in ids:
            adv, body, path = t.reversal_for(txn_id)
            t0 = time.perf_counter()
            await store.step(lambda db, adv=adv, txn_id=txn_id, path=path, body=body: outbox.add(
                db, id=adv, txn_id=txn_id, kind=AdviceKind.REVERSAL, op=t.rev_op, method="POST",
                path=path, body=body))
            lat.append(time.perf_counter() - t0)
    finally:
        await store.close()
    return lat


def _pq_open(folder: Path, history: int) -> Any:
    from persistqueue import SQLiteAckQueue

    q = SQLiteAckQueue(str(folder), multithreading=False, auto_resume=True)
    if history:
        t = templates()
        q._putter.execute("PRAGMA synchronous=OFF")
        blob = pickle.dumps({"id": "x", "path": t.rev_path, "body": t.reversal})
        with q._putter:
            q._putter.executemany(
                "INSERT INTO ack_queue_default (data, timestamp, status) VALUES (?, ?, 5)",
                ((blob, time.time()) for _ in range(history)))
    for conn in {id(q._putter): q._putter, id(q._getter): q._getter}.values():
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
    assert q._putter.execute("PRAGMA synchronous").fetchone()[0] == 2
    return q


def _pq_enqueue(folder: Path, n: int, history: int) -> list[float]:
    t = templates()
    q = _pq_open(folder, history)
    lat = []
    for _ in range(n):
        txn_id = str(uuid.uuid4())
        adv, body, path = t.reversal_for(txn_id)
        item = {"id": adv, "txn_id": txn_id, "op": t.rev_op, "path": path, "body": body}
        t0 = time.perf_counter()
        q.put(item)
        lat.append(time.perf_counter() - t0)
    q.close()
    return lat


RAW_DDL = ("CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, txn_id TEXT NOT NULL,"
           " path TEXT NOT NULL, body BLOB, state TEXT NOT NULL, created_at REAL NOT NULL)")


def _raw_open(path: Path, history: int) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(RAW_DDL)
    if history:
        t = templates()
        con.execute("PRAGMA synchronous=OFF")
        con.execute("BEGIN")
        con.executemany("INSERT INTO outbox VALUES (?,?,?,?,?,?)",
                        ((str(uuid.uuid4()), "x", t.rev_path, t.reversal, "delivered",
                          time.time()) for _ in range(history)))
        con.execute("COMMIT")
    con.execute("PRAGMA synchronous=FULL")
    return con


def _raw_enqueue(path: Path, n: int, history: int) -> list[float]:
    t = templates()
    con = _raw_open(path, history)
    lat = []
    for _ in range(n):
        txn_id = str(uuid.uuid4())
        adv, body, p = t.reversal_for(txn_id)
        t0 = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO outbox VALUES (?,?,?,?,?,?)",
                    (adv, txn_id, p, body, "pending", time.time()))
        con.execute("COMMIT")
        lat.append(time.perf_counter() - t0)
    con.close()
    return lat


def bench_enqueue(tmp: Path, n: int = 2000, history: int = 0,
                  cache: HistoryCache | None = None) -> dict[str, Any]:
    """Advices per second written durably, one commit per advice, three ways, interleaved in
    rounds so that disk noise hits all three alike."""
    work = tmp / f"enqueue-{history}"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "agent.db"
    if cache is not None and history:
        cache.copy(history, db)
    else:
        create_db(db)
    ids = _bare_txns(db, n)
    rounds = 4
    per = max(1, n // rounds)
    lat: dict[str, list[float]] = {"ours": [], "persist_queue": [], "raw_sqlite3": []}
    for r in range(rounds):
        lat["raw_sqlite3"] += _raw_enqueue(work / "raw.db", per, history if r == 0 else 0)
        lat["persist_queue"] += _pq_enqueue(work / "pq", per, history if r == 0 else 0)
        lat["ours"] += asyncio.run(_ours_enqueue(db, ids[r * per:(r + 1) * per]))
    out: dict[str, Any] = {"n": per * rounds, "history": history}
    for name, values in lat.items():
        out[name] = {"per_s": len(values) / sum(values), "p50_ms": median(values) * 1e3,
                     "p99_ms": pct(values, 99) * 1e3}
    out["ours_vs_raw"] = out["raw_sqlite3"]["per_s"] / out["ours"]["per_s"]
    out["ours_vs_persist_queue"] = out["ours"]["per_s"] / out["persist_queue"]["per_s"]
    return out


# -- 2. drain after an outage -------------------------------------------------------------------


async def _ours_drain(cfg_path: Path) -> tuple[float, int, int]:
    from bench.common import load_config
    from terminal_agent.core.agent import Agent

    cfg = load_config(cfg_path)
    async with Agent.open(cfg, password="") as agent:
        before = (await agent.outbox.counts()).pending
        t0 = time.perf_counter()
        while True:
            handled = await agent.forwarder.run_once()
            if handled == 0:
                if (await agent.outbox.counts()).pending == 0:
                    break
                await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - t0
        counts = await agent.outbox.counts()
        reversed_ = await agent.store.fetchone(
            "SELECT COUNT(*) FROM transactions WHERE state='REVERSED'")
    assert counts.pending == 0 and counts.parked == 0, counts
    return elapsed, before, int(reversed_[0]) if reversed_ else 0


def _alt_drain(folder: Path, url: str, n: int) -> tuple[float, int]:
    """The obvious hand-rolled alternative: persist-queue SQLiteAckQueue (FULL) + one httpx
    client sending the queue head, acking on a final answer, one at a time."""
    from persistqueue.exceptions import Empty

    t = templates()
    q = _pq_open(folder, 0)
    q._putter.execute("PRAGMA synchronous=OFF")  # filling is not what is measured
    for _ in range(n):
        txn_id = str(uuid.uuid4())
        adv, body, path = t.reversal_for(txn_id)
        q.put({"id": adv, "path": path, "body": body})
    q._putter.execute("PRAGMA synchronous=FULL")
    delivered = 0
    with httpx.Client(base_url=url, auth=("1234", ""), timeout=5.0,
                      headers={"Content-Type": "application/json"}) as client:
        t0 = time.perf_counter()
        while True:
            try:
                item = q.get(block=False)
            except Empty:
                break
            try:
                r = client.post(item["path"], content=item["body"])
                final = r.status_code < 300 or r.status_code == 404
            except httpx.HTTPError:
                final = False
            if final:
                q.ack(item)
                delivered += 1
            else:
                q.nack(item)
        elapsed = time.perf_counter() - t0
    q.close()
    return elapsed, delivered


async def _ceiling(url: str, n: int, concurrency: int = 8) -> float:
    """The simulator alone: fresh reversals written by a bare asyncio HTTP/1.1 keep-alive client
    (no httpx, no database, no classification), ``concurrency`` connections in flight. A Python
    client on the other core still costs something, so this is a lower bound of the ceiling."""
    import base64

    t = templates()
    host, port = url.split("//", 1)[1].split(":")
    auth = base64.b64encode(b"1234:").decode()
    reqs = []
    for _ in range(n):
        _adv, body, path = t.reversal_for(str(uuid.uuid4()))
        reqs.append((f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {auth}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                     ).encode() + body)
    it = iter(reqs)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for raw in it:
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            assert status in (202, 404), status
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - t0


def bench_drain(tmp: Path, n: int = 10_000, history: int = 0, cache: HistoryCache | None = None,
                alternative: bool = True, sim: SimProcess | None = None) -> dict[str, Any]:
    work = tmp / f"drain-{history}"
    work.mkdir(parents=True, exist_ok=True)
    own_sim = sim is None
    sim = sim or SimProcess(work)
    try:
        out: dict[str, Any] = {"n": n, "history": history}
        if alternative:
            ceiling_s = asyncio.run(_ceiling(sim.url, n))
            out["simulator_alone"] = {"per_s": n / ceiling_s, "seconds": ceiling_s}
        db = work / "agent.db"
        if cache is not None and history:
            cache.copy(history, db)
        else:
            create_db(db)
        add_pending_reversals(db, n, spread=3600)
        cfg = write_config(work / "drain.toml", sim.url, db)
        elapsed, before, reversed_ = asyncio.run(_ours_drain(cfg))
        assert before == n and reversed_ == n, (before, reversed_)
        out["ours"] = {"per_s": n / elapsed, "seconds": elapsed}
        if alternative:
            alt_s, delivered = _alt_drain(work / "pq", sim.url, n)
            assert delivered == n
            out["persist_queue_httpx"] = {"per_s": n / alt_s, "seconds": alt_s}
            out["ours_vs_alternative"] = out["ours"]["per_s"] / out["persist_queue_httpx"]["per_s"]
            out["ours_vs_ceiling"] = out["ours"]["per_s"] / out["simulator_alone"]["per_s"]
        return out
    finally:
        if own_sim:
            sim.stop()


# -- 3. agent overhead per sale -----------------------------------------------------------------

SALE_COMMITS = 5  # prepare, answer, tender (+confirmation), forwarder claim, forwarder answer


async def _sales(cfg_path: Path, n: int) -> tuple[list[float], int]:
    from bench.common import load_config
    from terminal_agent.core.agent import Agent
    from terminal_agent.protocol.airtime import Product
    from terminal_agent.sim.app import build_app
    from terminal_agent.sim.options import SimOptions

    cfg = load_config(cfg_path)
    transport = httpx.ASGITransport(app=build_app(SimOptions()))
    product = Product(product_id="VOD10", name="Vodacom R10 Airtime")
    lat = []
    confirmed = 0
    async with Agent.open(cfg, password="", transport=transport) as agent:
        for i in range(n + 10):
            t0 = time.perf_counter()
            r = await agent.vouchers.sell(product, 1000, "1001")
            assert r.approved, r
            await agent.vouchers.tender(r.txn_id, "1001")
            handled = await agent.forwarder.run_once()
            elapsed = time.perf_counter() - t0
            assert handled == 1
            if i >= 10:  # warm-up
                lat.append(elapsed)
            confirmed += (await agent.journal.get(r.txn_id)).state.value == "CONFIRMED"
    return lat, confirmed


def _commit_floor(path: Path, n: int, steps: int) -> list[float]:
    """The same number of fsync'd transactions, each timed alone (raw sqlite3, WAL, FULL, one
    row of a sale's size), summed per sample."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, body BLOB)")
    body = templates().request
    samples = []
    for _ in range(n):
        total = 0.0
        for _ in range(steps):
            t0 = time.perf_counter()
            con.execute("BEGIN IMMEDIATE")
            con.execute("INSERT INTO t VALUES (?, ?)", (str(uuid.uuid4()), body))
            con.execute("COMMIT")
            total += time.perf_counter() - t0
        samples.append(total)
    con.close()
    return samples


def bench_sale(tmp: Path, n: int = 300, history: int = 0,
               cache: HistoryCache | None = None) -> dict[str, Any]:
    work = tmp / f"sale-{history}"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "agent.db"
    if cache is not None and history:
        cache.copy(history, db)
    else:
        create_db(db)
    cfg = write_config(work / "sale.toml", "http://127.0.0.1:9", db,
                       forwarder="concurrency = 8")
    # interleave two halves so that disk noise hits both alike
    half = max(1, n // 2)
    lat: list[float] = []
    floor: list[float] = []
    confirmed = 0
    for _ in range(2):
        floor += _commit_floor(work / "floor.db", half, SALE_COMMITS)
        got, c = asyncio.run(_sales(cfg, half))
        lat += got
        confirmed += c
    assert confirmed == 2 * (half + 10), confirmed
    out = {"n": len(lat), "history": history, "commits_per_sale": SALE_COMMITS,
           "sale_p50_ms": median(lat) * 1e3, "sale_p99_ms": pct(lat, 99) * 1e3,
           "floor_p50_ms": median(floor) * 1e3, "floor_p99_ms": pct(floor, 99) * 1e3}
    out["p50_vs_floor"] = out["sale_p50_ms"] / out["floor_p50_ms"]
    out["p99_vs_floor"] = out["sale_p99_ms"] / out["floor_p99_ms"]
    return out


# -- 4. boot to first reversal on the wire ------------------------------------------------------


def _wait_for(path: Path, needle: bytes, timeout: float, proc: subprocess.Popen[bytes]) -> bool:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        try:
            if needle in path.read_bytes():
                return True
        except FileNotFoundError:
            pass
        if proc.poll() is not None:
            return False
        time.sleep(0.001)
    return False


def _python_start() -> float:
    samples = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        samples.append(time.perf_counter() - t0)
    return median(samples)


def bench_boot(tmp: Path, history: int = 100_000, repeats: int = 5,
               cache: HistoryCache | None = None) -> dict[str, Any]:
    work = tmp / f"boot-{history}"
    work.mkdir(parents=True, exist_ok=True)
    record = work / "record.jsonl"
    db = work / "agent.db"
    if cache is not None and history:
        cache.copy(history, db)
    else:
        create_db(db)
    samples = []
    with SimProcess(work, record=record) as sim:
        cfg = write_config(work / "forward.toml", sim.url, db)
        for _ in range(repeats):
            (txn_id,) = add_pending_reversals(db, 1, state="PREPARED")
            err = open(work / "forward.err", "wb")  # noqa: SIM115
            t0 = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "terminal_agent.cli", "forward",
                                     "--config", str(cfg)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                    stderr=err)
            ok = _wait_for(record, txn_id.encode(), 30.0, proc)
            elapsed = time.perf_counter() - t0
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            err.close()
            if not ok:
                raise RuntimeError("no reversal on the wire: "
                                   + (work / "forward.err").read_text()[-2000:])
            samples.append(elapsed)
    return {"history": history, "repeats": repeats, "median_s": median(samples),
            "max_s": max(samples), "samples_s": samples, "python_start_s": _python_start()}


# -- 5. footprint ---------------------------------------------------------------------------------


def _forward_proc(cfg: Path, err: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "terminal_agent.cli", "forward", "--config",
                             str(cfg)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=open(err, "wb"))  # noqa: SIM115


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def bench_footprint(tmp: Path, history: int = 100_000, drain: int = 10_000,
                    cache: HistoryCache | None = None, idle_seconds: float = 3.0,
                    ui: bool = True) -> dict[str, Any]:
    work = tmp / "footprint"
    work.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"history": history, "drain": drain}
    with SimProcess(work) as sim:
        db = work / "idle.db"
        if cache is not None and history:
            cache.copy(history, db)
        else:
            create_db(db)
        cfg = write_config(work / "idle.toml", sim.url, db)
        proc = _forward_proc(cfg, work / "idle.err")
        time.sleep(idle_seconds)
        out["forward_idle"] = vm(proc.pid)
        _stop(proc)
        db = work / "drain.db"
        if cache is not None and history:
            cache.copy(history, db)
        else:
            create_db(db)
        add_pending_reversals(db, drain)
        cfg = write_config(work / "drain.toml", sim.url, db)
        t0 = time.perf_counter()
        proc = _forward_proc(cfg, work / "drain.err")
        peak = 0.0
        while pending_count(db) > 0:
            peak = max(peak, vm(proc.pid).get("VmRSS", 0.0))
            if proc.poll() is not None:
                raise RuntimeError((work / "drain.err").read_text()[-2000:])
            time.sleep(0.1)
        elapsed = time.perf_counter() - t0
        out["forward_draining"] = vm(proc.pid)
        out["forward_drain_process"] = {"seconds_incl_boot": elapsed,
                                        "per_s_incl_boot": drain / elapsed}
        _stop(proc)
        if ui:
            out["ui_after_sale"] = ui_footprint(work, sim.url)
    return out


def ui_footprint(work: Path, url: str) -> dict[str, Any]:
    """The cashier UI (Textual, headless driver: no terminal here) after one voucher sale
    keyed in, tendered and printed; its peak RSS as the process reports it."""
    r = subprocess.run([sys.executable, "-m", "bench.ui_footprint", str(work / "ui"), url],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    for line in r.stdout.splitlines():
        if line.startswith("RSS "):
            _, rss, hwm = line.split()
            return {"VmRSS": float(rss), "VmHWM": float(hwm)}
    return {"error": (r.stderr or r.stdout)[-1500:]}


# -- the run --------------------------------------------------------------------------------------

GOALS = {
    "enqueue_vs_raw": ("durable enqueue within 1.3x of raw sqlite3", 1.3),
    "enqueue_vs_pq": ("durable enqueue ahead of persist-queue", 1.0),
    "drain_rate": ("drain >= 1,000 advices/s", 1000.0),
    "drain_vs_alt": ("drain >= 5x persist-queue + httpx", 5.0),
    "sale_p99": ("sale p99 within 2x of its commit floor", 2.0),
    "boot": ("boot to first reversal < 1 s", 1.0),
    "forward_rss": ("forward peak RSS < 60 MB", 60.0),
    "ui_rss": ("UI peak RSS < 120 MB", 120.0),
}


def goals(res: dict[str, Any]) -> list[dict[str, Any]]:
    out = []

    def add(key: str, value: float | None, ok: bool | None) -> None:
        text, target = GOALS[key]
        out.append({"goal": text, "target": target, "value": value,
                    "met": ok if value is not None else None})

    base = res.get("enqueue", {}).get(str(res["sizes"][0]))
    if base:
        worst = max(v["ours_vs_raw"] for v in res["enqueue"].values())
        add("enqueue_vs_raw", worst, worst <= 1.3)
        least = min(v["ours_vs_persist_queue"] for v in res["enqueue"].values())
        add("enqueue_vs_pq", least, least > 1.0)
    if res.get("drain"):
        rate = min(v["ours"]["per_s"] for v in res["drain"].values())
        add("drain_rate", rate, rate >= 1000)
        alt = next((v for v in res["drain"].values() if "ours_vs_alternative" in v), None)
        if alt:
            add("drain_vs_alt", alt["ours_vs_alternative"], alt["ours_vs_alternative"] >= 5)
    if res.get("sale"):
        worst = max(v["p99_vs_floor"] for v in res["sale"].values())
        add("sale_p99", worst, worst <= 2.0)
    if res.get("boot"):
        worst = max(v["median_s"] for v in res["boot"].values())
        add("boot", worst, worst < 1.0)
    fp = res.get("footprint")
    if fp:
        peak = max(fp.get("forward_idle", {}).get("VmHWM", 0),
                   fp.get("forward_draining", {}).get("VmHWM", 0))
        add("forward_rss", peak, peak < 60)
        if "VmHWM" in fp.get("ui_after_sale", {}):
            add("ui_rss", fp["ui_after_sale"]["VmHWM"], fp["ui_after_sale"]["VmHWM"] < 120)
    return out


def render(res: dict[str, Any]) -> str:
    m = res["machine"]
    parts = [f"Benchmarks {m['date']} — {m['nproc']} × {m['cpu']}, {m['mem_gib']} GiB, "
             f"Python {m['python']}, SQLite {m['sqlite']}, kernel {m['kernel']}; "
             f"total {res['seconds']:.0f} s", ""]
    if res.get("enqueue"):
        rows = []
        for size, v in res["enqueue"].items():
            rows.append([size, fmt(v["ours"]["per_s"]), fmt(v["persist_queue"]["per_s"]),
                         fmt(v["raw_sqlite3"]["per_s"]), f"{v['ours_vs_raw']:.2f}x",
                         f"{v['ours_vs_persist_queue']:.2f}x",
                         f"{v['ours']['p99_ms']:.2f} / {v['raw_sqlite3']['p99_ms']:.2f}"])
        parts += ["1. Durable enqueue (synchronous=FULL, one commit per advice), advices/s", "",
                  table(["history rows", "ours (outbox)", "persist-queue", "raw sqlite3",
                         "raw/ours (goal ≤1.3)", "ours/pq (goal >1)", "p99 ms ours/raw"], rows),
                  ""]
    if res.get("drain"):
        rows = []
        for size, v in res["drain"].items():
            rows.append([size, f"{v['n']:,}", fmt(v["ours"]["per_s"]),
                         fmt(v.get("persist_queue_httpx", {}).get("per_s")),
                         fmt(v.get("simulator_alone", {}).get("per_s")),
                         f"{v['ours_vs_alternative']:.1f}x" if "ours_vs_alternative" in v else "-",
                         f"{v['ours']['seconds']:.1f}"])
        parts += ["2. Drain after an outage (simulator in its own process on 127.0.0.1), "
                  "advices/s", "",
                  table(["history rows", "advices", "ours (forwarder)",
                         "persist-queue + httpx loop", "simulator alone (ceiling)",
                         "ours/alt (goal ≥5)", "ours s"], rows), ""]
    if res.get("sale"):
        rows = []
        for size, v in res["sale"].items():
            rows.append([size, v["n"], f"{v['sale_p50_ms']:.2f}", f"{v['sale_p99_ms']:.2f}",
                         f"{v['floor_p50_ms']:.2f}", f"{v['floor_p99_ms']:.2f}",
                         f"{v['p50_vs_floor']:.2f}x", f"{v['p99_vs_floor']:.2f}x"])
        parts += [f"3. Voucher sale through the core (sell + tender + confirmation delivered; "
                  f"in-process simulator), vs {SALE_COMMITS} fsync'd commits timed alone, ms", "",
                  table(["history rows", "sales", "sale p50", "sale p99", "floor p50",
                         "floor p99", "p50/floor", "p99/floor (goal ≤2)"], rows), ""]
    if res.get("boot"):
        rows = []
        for size, v in res["boot"].items():
            rows.append([size, f"{v['median_s']:.3f}", f"{v['max_s']:.3f}",
                         f"{v['python_start_s']:.3f}"])
        parts += ["4. Boot to first reversal on the wire (`terminal-agent forward` process start "
                  "→ simulator receives the reversal), s", "",
                  table(["history rows", "median", "max", "bare `python -c pass`"], rows), ""]
    fp = res.get("footprint")
    if fp:
        rows = [["forward, idle", fmt(fp["forward_idle"].get("VmHWM"), 1),
                 fmt(fp["forward_idle"].get("VmRSS"), 1), "< 60"],
                ["forward, after draining", fmt(fp["forward_draining"].get("VmHWM"), 1),
                 fmt(fp["forward_draining"].get("VmRSS"), 1), "< 60"]]
        ui = fp.get("ui_after_sale", {})
        rows.append(["ui, after a sale", fmt(ui.get("VmHWM"), 1) if "VmHWM" in ui else "error",
                     fmt(ui.get("VmRSS"), 1) if "VmRSS" in ui else "-", "< 120"])
        d = fp["forward_drain_process"]
        parts += [f"5. Footprint ({fp['history']:,} history rows; the draining process delivered "
                  f"{fp['drain']:,} advices in {d['seconds_incl_boot']:.1f} s incl. boot = "
                  f"{d['per_s_incl_boot']:,.0f}/s with INFO logging), MB", "",
                  table(["process", "peak RSS (VmHWM)", "RSS at end", "goal"], rows), ""]
    if res.get("goals"):
        rows = [[g["goal"], fmt(g["value"], 2), {True: "met", False: "MISSED", None: "-"}[g["met"]]]
                for g in res["goals"]]
        parts += ["Goals", "", table(["goal", "measured", ""], rows), ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.run")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--only", default="enqueue,drain,sale,boot,footprint")
    parser.add_argument("--sizes", default="", help="history sizes, e.g. 1000,10000,100000")
    parser.add_argument("--out", default="", help="JSON output file")
    args = parser.parse_args(argv)
    logging.getLogger().addHandler(logging.NullHandler())  # the agent's own warnings: quiet
    only = set(args.only.split(","))
    if args.quick:
        sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [100]
        n_enq, n_drain, n_sale, boots, fp_hist, fp_drain = 40, 200, 20, 1, 100, 200
    else:
        sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes
                 else [1_000, 10_000, 100_000])
        n_enq, n_drain, n_sale, boots, fp_hist, fp_drain = 2000, 10_000, 300, 5, 100_000, 10_000
    started = time.perf_counter()
    res: dict[str, Any] = {"machine": machine(), "sizes": sizes, "quick": args.quick}
    with tempfile.TemporaryDirectory(prefix="ta-bench-") as d:
        tmp = Path(d)
        cache = HistoryCache(tmp)
        for key, fn in [("enqueue", lambda s: bench_enqueue(tmp, n_enq, s, cache)),
                        ("sale", lambda s: bench_sale(tmp, n_sale, s, cache)),
                        ("boot", lambda s: bench_boot(tmp, s, boots, cache))]:
            if key in only:
                res[key] = {}
                for size in sizes:
                    print(f"[bench] {key} with {size:,} history rows ...", flush=True)
                    res[key][str(size)] = fn(size)
        if "drain" in only:
            res["drain"] = {}
            with SimProcess(tmp) as sim:
                for i, size in enumerate(sizes):
                    print(f"[bench] drain with {size:,} history rows ...", flush=True)
                    res["drain"][str(size)] = bench_drain(tmp, n_drain, size, cache,
                                                          alternative=(i == 0), sim=sim)
        if "footprint" in only:
            print("[bench] footprint ...", flush=True)
            res["footprint"] = bench_footprint(tmp, fp_hist if not args.quick else 100,
                                               fp_drain, cache,
                                               idle_seconds=3.0 if not args.quick else 1.0)
    res["seconds"] = time.perf_counter() - started
    res["goals"] = goals(res)
    report(res, render(res), "latest-bench.json", args.out, args.quick)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())


__all__ = ["bench_boot", "bench_drain", "bench_enqueue", "bench_footprint", "bench_sale",
           "main", "make_config"]
