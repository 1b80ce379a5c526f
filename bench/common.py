"""Shared pieces of the benchmark and fault harness: machine facts, configs, the simulator as a
separate process, databases pre-filled with history, timing statistics and table output."""

from __future__ import annotations

import json
import os
import platform
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import httpx

from terminal_agent import config as config_mod
from terminal_agent.config import AgentConfig
from terminal_agent.core.store import create_database
from terminal_agent.protocol import builders, codec
from terminal_agent.protocol.airtime import Product
from terminal_agent.protocol.operations import SPECS, Op

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


# -- machine ---------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_gib": mem,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "kernel": platform.release(),
    }


# -- statistics --------------------------------------------------------------------------------

def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def median(values: Sequence[float]) -> float:
    return pct(values, 50)


# -- configs -----------------------------------------------------------------------------------

def config_text(url: str, db: Path | str, *, read_timeout: float = 5.0,
                connect_timeout: float = 1.0, forwarder: str = "", extra: str = "") -> str:
    return f"""
[switch]
base_url = "{url}"
read_timeout = {read_timeout}
connect_timeout = {connect_timeout}

[store]
path = "{db}"

[forwarder]
backoff_initial = 0.05
backoff_max = 1.0
status_first_delay = 0.05
poll_interval = 0.05
{forwarder}

[printer]
url = "dummy://"

[logging]
target = "stderr"
{extra}
"""


def write_config(path: Path, url: str, db: Path | str, **kw: Any) -> Path:
    """A config file for ``db`` (the database is created for the default till if missing)."""
    path.write_text(config_text(url, db, **kw))
    path.chmod(0o600)
    create_db(Path(db))
    return path


def load_config(path: Path) -> AgentConfig:
    return config_mod.load(str(path))


def make_config(tmp: Path, url: str, db: Path | str, **kw: Any) -> AgentConfig:
    return load_config(write_config(tmp / f"cfg-{uuid.uuid4().hex[:6]}.toml", url, db, **kw))


# -- the simulator as its own process -----------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SimProcess:
    """``terminal-agent sim`` in its own process (its own core, its own GIL)."""

    def __init__(self, tmp: Path, *, record: Path | None = None, state: Path | None = None,
                 faults: Any = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "terminal_agent.cli", "sim", "--port", str(self.port)]
        if record is not None:
            args += ["--record", str(record)]
        if state is not None:
            args += ["--state", str(state)]
        if faults is not None:
            args += ["--faults", json.dumps(faults)]
        self.log = tmp / f"sim-{self.port}.log"
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "wb"))  # noqa: SIM115
        for _ in range(400):
            try:
                if httpx.get(self.url + "/_sim/health", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.025)
        self.stop()
        raise RuntimeError("simulator did not start: " + self.log.read_text()[-2000:])

    def faults(self, spec: Any) -> None:
        httpx.post(self.url + "/_sim/faults", json=spec, timeout=5).raise_for_status()

    def clear_faults(self) -> None:
        httpx.delete(self.url + "/_sim/faults", timeout=5).raise_for_status()

    def ledger(self) -> dict[str, Any]:
        return httpx.get(self.url + "/_sim/ledger", timeout=60).json()  # type: ignore[no-any-return]

    def reset(self) -> None:
        httpx.post(self.url + "/_sim/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- message templates -------------------------------------------------------------------------

VOUCHER = Product(product_id="VOD10", name="Vodacom R10 Airtime")


class Templates:
    """One real voucher request with its reversal and confirmation, encoded once; rows get
    fresh ids by replacing the ids in the bytes (building 100k messages one by one is slow)."""

    def __init__(self) -> None:
        cfg = config_mod.loads("", "<bench>")
        identity = builders.Identity.from_config(cfg.terminal)
        req = builders.voucher_request(identity, VOUCHER, 1000, cfg.terminal.currency)
        self.req_id = str(req.id)
        self.request = codec.encode(req)
        self.req_path = SPECS[Op.VOUCHER_PROVISION].render_path(requestId=req.id)
        rev = builders.reversal_for(Op.VOUCHER_PROVISION, req, None, reason="TIMEOUT")
        self.rev_id = str(rev.message.id)
        self.reversal = codec.encode(rev.message)
        self.rev_path = rev.path
        self.rev_op = rev.op.value
        self.currency = cfg.terminal.currency

    def reversal_for(self, txn_id: str) -> tuple[str, bytes, str]:
        adv = str(uuid.uuid4())
        body = self.reversal.replace(self.rev_id.encode(), adv.encode()).replace(
            self.req_id.encode(), txn_id.encode())
        return adv, body, self.rev_path.replace(self.rev_id, adv).replace(self.req_id, txn_id)

    def request_for(self, txn_id: str) -> tuple[bytes, str]:
        return (self.request.replace(self.req_id.encode(), txn_id.encode()),
                self.req_path.replace(self.req_id, txn_id))


TEMPLATES: Templates | None = None


def templates() -> Templates:
    global TEMPLATES
    if TEMPLATES is None:
        TEMPLATES = Templates()
    return TEMPLATES


# -- databases with history --------------------------------------------------------------------

def create_db(path: Path, terminal_id: str = "TILL0001") -> None:
    """An empty agent database for the default till (schema migrated, file 0600); a database
    already there is kept."""
    if not path.exists():
        create_database(path, terminal_id)


def _history_rows(n: int, now: float, rnd: random.Random) -> Iterable[tuple[Any, ...]]:
    t = templates()
    for i in range(n):
        txn_id = str(uuid.uuid4())
        created = now - 30 * 86400 + i * (30 * 86400 / max(n, 1)) + rnd.random()
        yield txn_id, created, t


def fill_history(path: Path, n: int, *, seed: int = 7) -> None:
    """``n`` finished voucher sales (CONFIRMED, confirmation delivered, held reversal void, four
    events each), spread over the last 30 days (inside the retention period)."""
    if n <= 0:
        return
    t = templates()
    rnd = random.Random(seed)
    now = time.time()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("BEGIN")
    txns, events, outbox = [], [], []
    for txn_id, created, _ in _history_rows(n, now, rnd):
        request, path_ = t.request_for(txn_id)
        ref = txn_id.replace("-", "")[:8].upper()
        txns.append((txn_id, "voucher_sale", Op.VOUCHER_PROVISION.value, "CONFIRMED", path_,
                     request, b'{"ok":true}', 200, 1000, t.currency, "1001", ref,
                     "Vodacom R10 Airtime", "{}", created, created + 5))
        for k, (what, state) in enumerate([("created", "PREPARED"), ("state", "APPROVED"),
                                           ("state", "TENDERED"), ("state", "CONFIRMED")]):
            events.append((txn_id, created + k, what, state, "1001"))
        adv, body, apath = t.reversal_for(txn_id)
        outbox.append((adv, txn_id, 1, "reversal", t.rev_op, "POST", apath, body, "void", 0,
                       created, created, None))
        outbox.append((str(uuid.uuid4()), txn_id, 2, "confirmation", "VOUCHER_CONFIRM", "POST",
                       apath.replace("reversals", "confirmations"), body, "delivered", 1,
                       created + 4, created + 4, created + 5))
        if len(txns) >= 20000:
            _flush(con, txns, events, outbox)
    _flush(con, txns, events, outbox)
    con.execute("COMMIT")
    con.close()


def _flush(con: sqlite3.Connection, txns: list[Any], events: list[Any], outbox: list[Any]) -> None:
    con.executemany(
        "INSERT INTO transactions (id, kind, op, state, path, request, response, http_status,"
        " amount, currency, cashier, reference, product, detail, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", txns)
    con.executemany("INSERT INTO events (txn_id, at, what, state, actor) VALUES (?,?,?,?,?)",
                    events)
    con.executemany(
        "INSERT INTO outbox (id, txn_id, seq, kind, op, method, path, body, state, attempts,"
        " next_attempt_at, created_at, delivered_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", outbox)
    txns.clear()
    events.clear()
    outbox.clear()


def add_pending_reversals(path: Path, n: int, *, state: str = "REVERSING",
                          spread: float = 0.0) -> list[str]:
    """``n`` transactions whose outcome was unknown, each with a pending reversal (the backlog of
    an outage). ``state='PREPARED'`` leaves the reversal held, as after a SIGKILL mid-request.
    ``spread`` seconds: creation times spread back over that period (oldest first)."""
    t = templates()
    now = time.time()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous=FULL")
    con.execute("BEGIN IMMEDIATE")
    ids = []
    txns, events, outbox = [], [], []
    for i in range(n):
        txn_id = str(uuid.uuid4())
        ids.append(txn_id)
        created = now - spread + (spread * i / max(n, 1))
        request, path_ = t.request_for(txn_id)
        ref = txn_id.replace("-", "")[:8].upper()
        txns.append((txn_id, "voucher_sale", Op.VOUCHER_PROVISION.value, state, path_, request,
                     None, None, 1000, t.currency, "1001", ref, "Vodacom R10 Airtime", "{}",
                     created, created))
        events.append((txn_id, created, "created", "PREPARED", "1001"))
        adv, body, apath = t.reversal_for(txn_id)
        row_state = "held" if state == "PREPARED" else "pending"
        outbox.append((adv, txn_id, 1, "reversal", t.rev_op, "POST", apath, body, row_state, 0,
                       created, created, None))
    _flush(con, txns, events, outbox)
    con.execute("COMMIT")
    con.close()
    return ids


class HistoryCache:
    """History databases are built once per size and copied for each measurement."""

    def __init__(self, tmp: Path) -> None:
        self.dir = tmp / "history"
        self.dir.mkdir(parents=True, exist_ok=True)

    def copy(self, n: int, dest: Path) -> Path:
        src = self.dir / f"h{n}.db"
        if not src.exists():
            create_db(src)
            fill_history(src, n)
            con = sqlite3.connect(src)
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            con.close()
        for suffix in ("", "-wal", "-shm"):
            Path(str(dest) + suffix).unlink(missing_ok=True)
        shutil.copyfile(src, dest)
        dest.chmod(0o600)
        return dest


def pending_count(db: Path) -> int:
    con = sqlite3.connect(db, timeout=30)
    try:
        return int(con.execute("SELECT COUNT(*) FROM outbox WHERE state='pending'").fetchone()[0])
    finally:
        con.close()


# -- processes -------------------------------------------------------------------------------

def vm(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a live process, in MB."""
    out: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS", "VmHWM")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


# -- output ----------------------------------------------------------------------------------

def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
            for r in rows]
    return "\n".join([line, sep, *body])


def write_json(name: str, data: dict[str, Any], out_dir: Path | None = None) -> Path:
    folder = out_dir or RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def report(res: dict[str, Any], table_text: str, latest: str, out: str, quick: bool) -> None:
    """Print a harness's table and write its JSON: to ``out`` if given, else (full runs only)
    to ``bench/results/<latest>``."""
    res["table"] = table_text
    print()
    print(table_text)
    if out:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path.name, res, path.parent)
    elif not quick:
        print("wrote", write_json(latest, res))


def fmt(x: float | None, digits: int = 0) -> str:
    if x is None or x != x:
        return "-"
    return f"{x:,.{digits}f}"
