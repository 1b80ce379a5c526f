"""How long the retention purge keeps a sale out: the write lock during a purge of a year's history.

    python -m bench.purge                         # a year (500 sales a day), this code only
    python -m bench.purge --before bf7200d        # and the code of that commit, same database
    python -m bench.purge --quick                 # 200 days x 10 sales, for the smoke test

A till upgraded with a year of history (a busy till: 500 voucher sales a day, each with its
sealed PIN, four events, two advices and its 0.9 kB PIN slip) runs its first hourly purge under
the default policy (``[retention]`` and ``store.retention_days``). Meanwhile a *probe* process
does what a sale's write-ahead step does every 50 ms: ``BEGIN IMMEDIATE``, one small write,
``COMMIT`` (busy timeout one hour, so each wait is measured whole). Figures: the purge's
duration, its write steps and the longest one, and the probe's waits: the longest (= the longest
time a sale would have waited for the lock) and how many exceeded the store's busy timeout
(5 s: sales that would have been refused). The upgrade's migration (it adds the purge's indexes)
is timed apart: it is a write step too.

``--before REV`` runs the same measurement with the purge of commit REV (``git archive`` of its
``terminal_agent``) on the same database, schema as that commit left it; ``--limit`` stops a run
that holds the lock longer (the figure is then "more than").

Writes ``bench/results/latest-purge.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, machine, pct, report, table

PY = sys.executable
BUSY_TIMEOUT_S = 5.0  # StoreConfig().busy_timeout_ms

PROBE = r"""
import json, sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=3600)
con.execute("PRAGMA synchronous=FULL")
out = open(sys.argv[2], "w")
stop = sys.argv[3]
import os
while not os.path.exists(stop):
    t0 = time.time()
    con.execute("BEGIN IMMEDIATE")
    con.execute("INSERT INTO kv (key, value) VALUES ('bench.probe', ?) ON CONFLICT(key)"
                " DO UPDATE SET value=excluded.value", (repr(t0),))
    con.execute("COMMIT")
    t1 = time.time()
    out.write(json.dumps([t0, t1 - t0]) + "\n")
    out.flush()
    time.sleep(0.05)
"""

PURGE = r"""
import asyncio, json, sys, time
from terminal_agent.config import RetentionConfig, StoreConfig
from terminal_agent.core import retention
from terminal_agent.core.store import Store

async def main():
    t0 = time.time()
    store = await Store.open(sys.argv[1], migrate=True)
    opened = time.time()
    days = StoreConfig().retention_days
    res = {"open_s": opened - t0, "purge_started": opened}
    try:
        if hasattr(retention, "run_pass"):  # in short steps (issue 17)
            done = await retention.run_pass(store, RetentionConfig(), time.time(),
                                            advices_days=days)
            res.update(steps=done.steps, longest_step_s=done.longest_step,
                       purged=done.purged.describe())
        else:  # one step, the delivered advices before it (as housekeeping did)
            from terminal_agent.config import ForwarderConfig
            from terminal_agent.core.outbox import Outbox
            await Outbox(store, ForwarderConfig()).purge_delivered(days)
            purged = await retention.enforce(store, RetentionConfig(), time.time())
            res.update(steps=2, purged=purged.describe())
    finally:
        await store.close()
    res["purge_s"] = time.time() - opened
    print(json.dumps(res))

asyncio.run(main())
"""


def build_year(path: Path, per_day: int, days: int) -> None:
    from bench.cashier import fill_year

    fill_year(path, per_day, days)
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def old_tree(rev: str, into: Path) -> Path:
    """``terminal_agent`` as commit ``rev`` had it."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "terminal_agent"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _env(tree: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tree) if tree else "", str(ROOT)) if p)
    return env


def as_schema(db: Path, version: int) -> None:
    """The database as a till of schema ``version`` left it: the later migrations' indexes
    dropped (the later ones only add indexes)."""
    from terminal_agent.core.schema import MIGRATIONS

    con = sqlite3.connect(db, isolation_level=None)
    for script in MIGRATIONS[version:]:
        for line in script.splitlines():
            words = line.split()
            if words[:2] == ["CREATE", "INDEX"]:
                con.execute(f"DROP INDEX IF EXISTS {words[2]}")
            elif words and words[0] in ("CREATE", "ALTER"):
                raise SystemExit(f"schema {version} cannot be made by dropping indexes: {line}")
    con.execute(f"PRAGMA user_version={version}")
    con.close()


def measure(template: Path, tmp: Path, name: str, tree: Path | None,
            limit: float) -> dict[str, Any]:
    """One upgrade and purge of a copy of ``template`` (code of ``tree``), the probe beside it."""
    work = tmp / name
    work.mkdir()
    db = work / "agent.db"
    shutil.copy(template, db)
    waits, stop = work / "waits.jsonl", work / "stop"
    probe = subprocess.Popen([PY, "-c", PROBE, str(db), str(waits), str(stop)])
    time.sleep(1.0)
    started = time.time()
    purge = subprocess.Popen([PY, "-c", PURGE, str(db)], env=_env(tree), cwd=tree or ROOT,
                             stdout=subprocess.PIPE, text=True)
    try:
        out, _ = purge.communicate(timeout=limit)
        res: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        res["finished"] = True
    except subprocess.TimeoutExpired:
        purge.kill()
        purge.communicate()
        res = {"finished": False, "purge_s": limit}
    ended = time.time()
    stop.touch()
    try:
        probe.wait(timeout=60)
    except subprocess.TimeoutExpired:
        probe.kill()
    rows = [json.loads(line) for line in waits.read_text().splitlines() if line.strip()]
    during = [w for t0, w in rows if t0 + w >= started and t0 <= ended]
    begun = res.get("purge_started", started)
    in_open = [w for t0, w in rows if t0 + w >= started and t0 < begun]
    in_purge = [w for t0, w in rows if t0 + w >= begun and t0 <= ended]
    res.update(
        name=name, probes=len(during), probe_max_s=max(in_purge, default=0.0),
        probe_p99_s=pct(in_purge, 99) if in_purge else 0.0,
        probe_max_in_open_s=max(in_open, default=0.0),
        refused=sum(1 for w in during if w > BUSY_TIMEOUT_S),
        size_mb=template.stat().st_size / 1e6)
    if not res["finished"]:  # the lock was still held when stopped: the probe still waiting
        res["probe_max_s"] = max(res["probe_max_s"], ended - max((t0 + w for t0, w in rows),
                                                                  default=started))
    shutil.rmtree(work, ignore_errors=True)
    return res


def render(res: dict[str, Any]) -> str:
    rows = []
    for r in res["runs"]:
        more = "" if r["finished"] else "> "
        rows.append([
            r["name"], f"{r.get('open_s', 0):.1f} s / {r['probe_max_in_open_s']:.2f} s",
            f"{more}{r['purge_s']:.0f} s",
            str(r.get("steps", "-")),
            f"{r['longest_step_s'] * 1000:.0f} ms" if "longest_step_s" in r else "-",
            f"{more}{r['probe_max_s']:.2f} s", f"{r['probe_p99_s'] * 1000:.0f} ms",
            f"{r['refused']} of {r['probes']}"])
    return table(["code", "open + migration / longest wait", "purge", "write steps",
                  "longest step", "longest wait of a sale step", "p99 wait",
                  "waits > 5 s (refused)"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.purge")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=500)
    parser.add_argument("--before", default="", help="also run the purge of this commit")
    parser.add_argument("--limit", type=float, default=3600.0,
                        help="seconds after which a purge is stopped (reported as more than)")
    parser.add_argument("--upgrade-from", type=int, default=9,
                        help="the till's schema before the upgrade (9: before the purge's indexes)")
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)
    days, per_day = (200, 10) if args.quick else (args.days, args.per_day)
    res: dict[str, Any] = {"machine": machine(), "quick": args.quick, "days": days,
                           "per_day": per_day, "runs": []}
    with tempfile.TemporaryDirectory(prefix="ta-purge-") as d:
        tmp = Path(d)
        template = tmp / "year.db"
        print(f"[purge] {days} days x {per_day} sales ...", flush=True)
        t0 = time.perf_counter()
        build_year(template, per_day, days)
        as_schema(template, args.upgrade_from)
        res["fill_s"] = time.perf_counter() - t0
        res["size_mb"] = template.stat().st_size / 1e6
        runs: list[tuple[str, Path | None]] = []
        if args.before:
            runs.append((f"before ({args.before})", old_tree(args.before, tmp / "code-before")))
        runs.append(("after (this checkout)", None))
        for name, tree in runs:
            print(f"[purge] {name} ...", flush=True)
            res["runs"].append(measure(template, tmp, name.split()[0], tree, args.limit))
            res["runs"][-1]["name"] = name
    report(res, render(res), "latest-purge.json", args.out, args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
