"""Herd behaviour after a switch outage: a chain's tills all come back at once.

    python -m bench.herd                  # the model (500 tills) and the real run (20 processes)
    python -m bench.herd --quick          # tiny sizes, for the smoke test
    python -m bench.herd --only model

1. model  N tills, each with a backlog of B advices, lose the switch for T minutes; then a
          switch that answers at most C requests/s (the rest get 503 at once) comes back.
          Each till runs the forwarder's loop on a simulated clock: claim the real
          ``Forwarder.allowance(now)`` of due rows (``[forwarder] max_rate``'s token bucket)
          within the real ``Pace.room(now)`` (the till held off after the switch was
          unreachable, in the outage, or answered 503; one probe, then one more row in flight
          per answer), send them ``concurrency`` at a time (each exchange ``latency`` s; once
          the till holds, the rest of the batch goes back unsent), back off every unanswered row
          with the real ``Outbox.backoff`` and the till with ``Pace.refused`` (jitter on, or
          the outbox's random factor pinned to the top for "no jitter"), poll every
          ``poll_interval`` when idle. Reports the peak offered load (requests/s reaching the
          switch, 1-s buckets), the average over the drain, and the time to drain after the
          switch is back.
2. real   20 `terminal-agent forward` processes (own database, own terminal id, 5 stores),
          each with a backlog, against one simulator process on 127.0.0.1 that refuses
          connections (stopped) for the outage and then comes back; the simulator's record
          file gives the offered load per second; each forwarder serves its metrics on
          loopback for a real Prometheus (see bench/dashboard.py) when one is installed.

Writes ``bench/results/latest-herd.json``.
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import heapq
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    SimProcess,
    add_pending_reversals,
    create_db,
    fmt,
    free_port,
    machine,
    report,
    table,
)
from bench.dashboard import PrometheusServer
from bench.dashboard import render as render_dashboard
from terminal_agent.config import ForwarderConfig
from terminal_agent.core import outbox as outbox_mod
from terminal_agent.core.forwarder import OVERLOAD_DOUBLINGS, Forwarder
from terminal_agent.core.outbox import Outbox

# -- 1. the model ----------------------------------------------------------------------------


@dataclass
class Scenario:
    tills: int = 500
    backlog: int = 500  # a busy till's day: 500 sales, one confirmation each
    outage_min: float = 30.0
    capacity: float = 500.0  # requests/s the switch answers; the rest get 503 at once
    latency: float = 0.05  # one exchange over the WAN, seconds
    jitter: bool = True
    max_rate: float = 0.0
    seed: int = 17


@dataclass
class Till:
    forwarder: Forwarder
    due: list[tuple[float, int]] = field(default_factory=list)  # (next_attempt_at, row)
    attempts: dict[int, int] = field(default_factory=dict)


@contextlib.contextmanager
def jitter(on: bool, seed: int) -> Iterator[None]:
    """The outbox's own ``random``: seeded, or its factor pinned to the top (no jitter)."""
    rng = random.Random(seed)

    class Pinned:
        @staticmethod
        def uniform(low: float, high: float) -> float:
            return high

    saved = outbox_mod.random
    outbox_mod.random = rng if on else Pinned  # type: ignore[assignment]
    try:
        yield
    finally:
        outbox_mod.random = saved


def simulate(sc: Scenario) -> dict[str, Any]:
    cfg = ForwarderConfig(max_rate=sc.max_rate)
    outbox = Outbox(None, cfg)  # type: ignore[arg-type]  # only its back-off is used
    rnd = random.Random(sc.seed)
    back = sc.outage_min * 60.0
    tills: list[Till] = []
    events: list[tuple[float, int]] = []
    for i in range(sc.tills):
        till = Till(Forwarder(outbox, None, None, cfg))  # type: ignore[arg-type]
        till.due = [(0.0, r) for r in range(sc.backlog)]
        till.attempts = dict.fromkeys(range(sc.backlog), 0)
        tills.append(till)
        events.append((rnd.uniform(0, cfg.poll_interval), i))  # processes start out of phase
    heapq.heapify(events)
    offered: Counter[int] = Counter()
    served: Counter[int] = Counter()
    left = sc.tills * sc.backlog
    last_delivery = back
    with jitter(sc.jitter, sc.seed):
        while events and left:
            now, i = heapq.heappop(events)
            till = tills[i]
            pace = till.forwarder.pace
            limit = min(till.forwarder.allowance(now), pace.room(now, 0))
            batch: list[tuple[float, int]] = []
            while till.due and till.due[0][0] <= now and len(batch) < limit:
                batch.append(heapq.heappop(till.due))
            till.forwarder.spend(len(batch))
            if not batch:
                if till.due:  # idle: the next poll tick once a row is due and the till not held
                    start = max(till.due[0][0], pace.hold_until)
                    wait = cfg.poll_interval * max(1, math.ceil((start - now)
                                                                / cfg.poll_interval))
                    heapq.heappush(events, (now + wait, i))
                continue
            sent = now
            for first in range(0, len(batch), cfg.concurrency):  # one wave in flight at a time
                if pace.holding(sent):  # the rest of the batch goes back unsent
                    for item in batch[first:]:
                        heapq.heappush(till.due, item)
                    break
                for _, row in batch[first:first + cfg.concurrency]:
                    second = int(sent)
                    if sent >= back:
                        offered[second] += 1
                    if sent >= back and served[second] < sc.capacity:
                        served[second] += 1
                        left -= 1
                        last_delivery = max(last_delivery, sent + sc.latency)
                        pace.answered()
                        continue
                    till.attempts[row] += 1  # answered 503 (or refused, in the outage)
                    retry = outbox.backoff(till.attempts[row], doublings=OVERLOAD_DOUBLINGS)
                    heapq.heappush(till.due, (sent + retry, row))
                    pace.refused(sent + sc.latency, overloaded=sent >= back)
                sent += sc.latency
            heapq.heappush(events, (sent + 0.002, i))  # + the commit
    after = {s: n for s, n in offered.items() if s >= back}
    drain = last_delivery - back
    total = sum(after.values())
    return {
        "tills": sc.tills, "backlog": sc.backlog, "outage_min": sc.outage_min,
        "capacity": sc.capacity, "jitter": sc.jitter, "max_rate": sc.max_rate,
        "peak_offered": max(after.values(), default=0), "offered_total": total,
        "avg_offered": total / drain if drain > 0 else 0.0, "drain_s": drain,
        "undelivered": left,
        "first_minute": [after.get(int(back) + s, 0) for s in range(60)],
    }


MODEL_CASES: list[tuple[str, dict[str, Any]]] = [
    ("30 min outage, jitter", {"jitter": True}),
    ("30 min outage, no jitter", {"jitter": False}),
    ("30 min outage, jitter, max_rate 1/s (= C / N)", {"jitter": True, "max_rate": 1.0}),
    ("30 min outage, no jitter, max_rate 1/s", {"jitter": False, "max_rate": 1.0}),
    ("5 min outage, jitter", {"jitter": True, "outage_min": 5.0}),
    ("5 min outage, no jitter", {"jitter": False, "outage_min": 5.0}),
]


def bench_model(quick: bool) -> list[dict[str, Any]]:
    base = {"tills": 40, "backlog": 50} if quick else {}
    out = []
    for name, kw in MODEL_CASES:
        print(f"[herd] model: {name} ...", flush=True)
        t0 = time.perf_counter()
        res = simulate(Scenario(**{**base, **kw}))
        res["case"] = name
        res["sim_seconds"] = time.perf_counter() - t0
        out.append(res)
    return out


# -- 2. the real run: 20 forward processes, one simulator -----------------------------------


def _forward(cfg: Path, log: Path) -> subprocess.Popen[bytes]:
    fh = log.open("wb")
    return subprocess.Popen([sys.executable, "-m", "terminal_agent.cli", "forward", "--config",
                             str(cfg)], stdout=fh, stderr=fh, cwd=ROOT)


def _records(path: Path) -> list[tuple[float, str]]:
    """(unix second, path) of every advice the simulator received (its record file)."""
    out = []
    if path.exists():
        for line in path.read_text().splitlines():
            with contextlib.suppress(ValueError, KeyError):
                rec = json.loads(line)
                when = calendar.timegm(time.strptime(rec["time"], "%Y-%m-%dT%H:%M:%SZ"))
                out.append((float(when), rec["path"]))
    return out


HERD_CONFIG = """
[terminal]
terminal_id = "TILL{i:04d}"
merchant_id = "STORE{store:010d}"
[switch]
base_url = "{url}"
read_timeout = 10.0
connect_timeout = 2.0
[store]
path = "{db}"
[forwarder]
max_rate = {max_rate}
[printer]
url = "dummy://"
[logging]
target = "stderr"
level = "WARNING"
[metrics]
listen = "{mport}"
interval = 1.0
slow_every = 5
"""


def bench_real(tmp: Path, *, tills: int = 20, backlog: int = 500, outage_s: float = 60.0,
               max_rate: float = 0.0, prometheus: Any = None,
               drained: Callable[[], Any] | None = None) -> dict[str, Any]:
    """Each till's backlog is queued while the simulator is down (connection refused), the
    forwarders back off for ``outage_s``, then the simulator comes back on the same port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    record = tmp / "herd-record.jsonl"
    procs, ports = [], []
    for i in range(tills):
        folder = tmp / f"till{i:02d}"
        folder.mkdir()
        db = folder / "agent.db"
        create_db(db, f"TILL{i:04d}")
        add_pending_reversals(db, backlog, state="REVERSING")
        mport = free_port()
        ports.append(mport)
        cfg = folder / "config.toml"
        cfg.write_text(HERD_CONFIG.format(i=i, store=i // 4, url=url, db=db, max_rate=max_rate,
                                          mport=mport))
        cfg.chmod(0o600)
        procs.append(_forward(cfg, folder / "forward.log"))
    if prometheus is not None:
        prometheus.targets([f"127.0.0.1:{p}" for p in ports])
    try:
        time.sleep(outage_s)  # the outage: nothing listens on the port
        back = time.time()
        with SimProcess(tmp, record=record, port=port):
            total = tills * backlog
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                if len({p for _, p in _records(record)}) >= total:
                    break
                time.sleep(0.5)
            times = [t for t, _ in _records(record)]
            if prometheus is not None:
                time.sleep(20)  # let Prometheus scrape the drained state
            picture = drained() if drained is not None else None
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
    back = float(int(back))  # the record file counts whole seconds
    per_second = Counter(int(t - back) for t in times)
    drain = (max(times) + 1 - back) if times else float("nan")
    return {"tills": tills, "backlog": backlog, "outage_s": outage_s, "max_rate": max_rate,
            "requests": len(times), "peak_offered": max(per_second.values(), default=0),
            "avg_offered": len(times) / drain if times and drain > 0 else 0.0,
            "drain_s": drain, "picture": picture, "per_second": [per_second.get(s, 0) for s in range(int(drain) + 1)]
            if times else []}


# -- report ----------------------------------------------------------------------------------


def render(res: dict[str, Any]) -> str:
    lines = []
    if res.get("model"):
        m0 = res["model"][0]
        lines.append(f"Model: {m0['tills']} tills x {m0['backlog']} advices, switch capacity "
                     f"{m0['capacity']:.0f} req/s (excess answered 503), 50 ms per exchange, "
                     "forwarder defaults (4 in flight, batches of 128, back-off 1 s doubling "
                     "to 300 s; the till probes an unreachable switch at least once a minute "
                     "and holds off while it answers 503).")
        lines.append(table(
            ["case", "peak offered req/s", "avg offered req/s", "peak / avg", "peak / capacity",
             "drain s", "requests", "undelivered"],
            [[r["case"], fmt(r["peak_offered"]), fmt(r["avg_offered"]),
              fmt(r["peak_offered"] / r["avg_offered"], 1) if r["avg_offered"] else "-",
              fmt(r["peak_offered"] / r["capacity"], 1), fmt(r["drain_s"]),
              fmt(r["offered_total"]), fmt(r["undelivered"])] for r in res["model"]]))
    if res.get("real"):
        lines.append("")
        lines.append("Real: `terminal-agent forward` processes against one simulator process "
                     "on 127.0.0.1, switch stopped (connection refused) then back.")
        lines.append(table(
            ["run", "tills x backlog", "outage s", "peak offered req/s", "avg req/s",
             "peak / avg", "drain s"],
            [[r["case"], f"{r['tills']} x {r['backlog']}", fmt(r["outage_s"]),
              fmt(r["peak_offered"]), fmt(r["avg_offered"]),
              fmt(r["peak_offered"] / r["avg_offered"], 1) if r["avg_offered"] else "-",
              fmt(r["drain_s"], 1)] for r in res["real"]]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.herd")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="model,real")
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    res: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    started = time.perf_counter()
    if "model" in only:
        res["model"] = bench_model(args.quick)
    if "real" in only:
        res["real"] = []
        runs = ([("2 tills, 3 s outage", {"tills": 2, "backlog": 20, "outage_s": 3.0})]
                if args.quick else
                [("defaults (jitter)", {}), ("max_rate 10/s", {"max_rate": 10.0})])
        for n, (name, kw) in enumerate(runs):
            print(f"[herd] real: {name} ...", flush=True)
            with tempfile.TemporaryDirectory(prefix="ta-herd-") as d:
                prom = None
                if n == 0 and not args.quick and PrometheusServer.available():
                    prom = PrometheusServer(Path(d))
                start = time.time()

                def draw(prom: PrometheusServer | None = prom, start: float = start) -> Any:
                    if prom is None:
                        return None
                    return str(render_dashboard(prom, start, time.time()).relative_to(ROOT))

                try:
                    r = bench_real(Path(d), prometheus=prom, drained=draw, **kw)
                finally:
                    if prom is not None:
                        prom.stop()
            r["case"] = name
            res["real"].append(r)
    res["seconds"] = time.perf_counter() - started
    report(res, render(res), "latest-herd.json", args.out, args.quick)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
