"""The crash matrix, run as a till runs: two processes on one database.

    python -m bench.crash --kills 1000          # what `make crash` runs (through the test)

- the **till**: ``python -m bench.workload run`` = the core and the runtime exactly as
  ``terminal-agent ui`` starts them (forwarding when the service is down, standing by when it
  is up, the print pump on a ``dummy://`` printer), selling every kind of transaction with the
  cashier's think-time between approval and tender (sometimes longer than the approved sale's
  deadline, so the forwarding process reverses it behind the cashier);
- the **service**: ``terminal-agent forward`` itself.

Each round SIGKILLs the till, the service, or both together, either while they work or during
their start-up (recovery, take-over), and restarts what it killed while the other goes on
selling or forwarding (racing restarts; both restarted at once after a double kill). After the
last kill both stop, one drain forwards what is owed (the supervisor's decisions on payouts
left approved, refunds of failed top-ups) and the journal is checked against the simulator's
ledger (``bench.workload.check``): nothing lost, nothing both confirmed and reversed, nothing
left in between, no exception raised to the live till, every tendered voucher sale with its
slip printed and its PIN on it, no receipt for what was never paid.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from bench.workload import FAULTS, ROOT, check, start_sim
from bench.workload import write_config as crash_config

ACTIONS = (("till", 0.4), ("forward", 0.35), ("both", 0.25))
EARLY = 0.25  # share of kills aimed at a process's start-up (recovery, take-over)


@dataclass
class Child:
    """One of the two processes; its output is appended to ``log`` across restarts."""

    name: str
    args: list[str]
    log: Path
    ready_mark: re.Pattern[str]
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    offset: int = 0
    starts: int = 0
    _out: IO[bytes] | None = field(default=None, repr=False)

    def start(self, seed: int) -> None:
        self.offset = self.log.stat().st_size if self.log.exists() else 0
        self._out = self.log.open("ab")
        args = [a.replace("{seed}", str(seed)) for a in self.args]
        # a fatal signal (SIGSEGV, SIGABRT...) leaves the Python stacks in the log
        env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=self._out, stderr=subprocess.STDOUT,
                                     env=env)
        self.started_at = time.monotonic()
        self.starts += 1

    def ready(self) -> bool:
        with self.log.open("rb") as fh:
            fh.seek(self.offset)
            return bool(self.ready_mark.search(fh.read().decode(errors="replace")))

    def wait_ready(self, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.ready():
                return
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise RuntimeError(f"{self.name} did not come up:\n" + self.tail())

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
        if self.proc is not None:
            self.proc.wait(timeout=60)
        if self._out is not None:
            self._out.close()
            self._out = None

    def ended(self) -> str:
        """How the process ended: its exit status, or the signal that ended it."""
        code = self.proc.poll() if self.proc is not None else None
        if code is None:
            return "still running"
        if code < 0:
            return f"signal {signal.Signals(-code).name}"
        return f"exit status {code}"

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def crash_matrix(tmp: Path, kills: int = 1000, seed: int = 20261121, settle_max: float = 0.5,
                 think: float = 0.35) -> dict[str, Any]:
    """Run the matrix (see the module docstring) and return its figures and checks."""
    work = tmp / "crash"
    work.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(seed)
    started = time.perf_counter()
    sim, url = start_sim(work)
    db = work / "agent.db"
    figures = {"kills_till": 0, "kills_forward": 0, "double_kills": 0, "kills_at_startup": 0,
               "kills_while_running": 0}
    try:
        assert httpx.post(url + "/_sim/faults", json=FAULTS).status_code < 300
        cfg = crash_config(work / "run.toml", url, db, drain=False)
        till = Child("till", [sys.executable, "-m", "bench.workload", "--config", str(cfg),
                              "run", "--seed", "{seed}", "--think", str(think)],
                     work / "till.log", re.compile(r"^READY", re.M))
        service = Child("forward", [sys.executable, "-m", "terminal_agent.cli", "forward",
                                    "--config", str(cfg)],
                        work / "forward.log", re.compile(r"forwarding \(service\)|standing by"))
        children = {"till": till, "forward": service}
        till.start(rnd.randrange(1 << 30))
        till.wait_ready()  # the first start makes the till key; both use it from then on
        service.start(rnd.randrange(1 << 30))
        done = 0
        while done < kills:
            action = rnd.choices([a for a, _ in ACTIONS], [w for _, w in ACTIONS])[0]
            if action == "both" and done + 2 > kills:  # exactly ``kills`` kills
                action = "till"
            targets = [till, service] if action == "both" else [children[action]]
            early = rnd.random() < EARLY
            _aim(targets, rnd, early, settle_max)
            for child in targets:
                if not child.alive():
                    raise RuntimeError(f"{child.name} exited by itself ({child.ended()}):\n"
                                       f"{child.tail()}")
                child.kill()
                figures[f"kills_{child.name}"] += 1
                figures["kills_at_startup" if early else "kills_while_running"] += 1
                done += 1
            figures["double_kills"] += action == "both"
            if done % 50 < len(targets):
                print(f"[crash] {done} kills, {time.perf_counter() - started:.0f} s",
                      file=sys.stderr, flush=True)
            for child in targets:  # restarted while the other goes on (both at once: racing)
                child.start(rnd.randrange(1 << 30))
        for child in children.values():  # the end of the day: both stop
            child.kill(signal.SIGTERM)
        figures["kill_phase_seconds"] = round(time.perf_counter() - started, 1)
        assert httpx.delete(url + "/_sim/faults").status_code < 300
        drain_cfg = crash_config(work / "drain.toml", url, db, drain=True)
        t0 = time.perf_counter()
        drained = subprocess.run([sys.executable, "-m", "bench.workload", "--config",
                                  str(drain_cfg), "drain"], cwd=ROOT, timeout=600,
                                 capture_output=True, text=True)
        drain_s = time.perf_counter() - t0
        ledger = httpx.get(url + "/_sim/ledger", timeout=60).json()
        result = check(str(db), ledger)
    finally:
        sim.terminate()
        sim.wait(timeout=10)
    till_log = till.log.read_text(errors="replace")
    result.till_exceptions = till_log.count("\nEXCEPTION ") + till_log.startswith("EXCEPTION ")
    result.problems += [line for line in till_log.splitlines() if line.startswith("EXCEPTION")]
    figures["tenders_after_the_deadline"] = till_log.count("REVERSED-BEFORE-TENDER")
    return {"kills": done, **figures, "till_starts": till.starts,
            "service_starts": service.starts, "think_mean_s": think,
            "take_overs": _take_overs(till, service), **_journal_figures(db),
            "drain_rc": drained.returncode, "drain_seconds": drain_s,
            "drain_tail": drained.stderr[-500:] if drained.returncode else "",
            "switch_originals": len(ledger.get("originals", [])),
            "runtime_errors": _runtime_errors(till, service),
            "forwarding_interrupted": sum(c.log.read_text(errors="replace").count(
                "forwarding interrupted") for c in (till, service)),
            **result.as_dict(),
            "ok": drained.returncode == 0 and result.ok and not _runtime_errors(till, service),
            "seconds": time.perf_counter() - started}


def _aim(targets: list[Child], rnd: random.Random, early: bool, settle_max: float) -> None:
    """Wait for the instant of the kill: during start-up, or while the targets work."""
    if early:
        newest = max(child.started_at for child in targets)
        time.sleep(max(0.0, newest + rnd.uniform(0.02, 0.5) - time.monotonic()))
        return
    for child in targets:
        child.wait_ready()
    time.sleep(rnd.uniform(0.0, settle_max))


def _take_overs(*children: Child) -> dict[str, int]:
    """How often each process became the forwarder (from their logs)."""
    return {child.name: len(re.findall(r"forwarding \((?:service|ui)\)",
                                       child.log.read_text(errors="replace")))
            for child in children}


def _runtime_errors(*children: Child) -> int:
    """Background loops that failed (logged, retried): there should be none."""
    return sum(child.log.read_text(errors="replace").count("duty failed") for child in children)


def _journal_figures(db: Path) -> dict[str, Any]:
    con = sqlite3.connect(db)
    try:
        kinds = dict(con.execute("SELECT kind, COUNT(*) FROM transactions GROUP BY kind"))
        expired = con.execute("SELECT COUNT(*) FROM events WHERE note LIKE "
                              "'no tender recorded before the deadline%'").fetchone()[0]
        swept = con.execute("SELECT COUNT(*) FROM events WHERE actor='recovery' AND note LIKE "
                            "'sender gone%'").fetchone()[0]
        jobs = dict(con.execute("SELECT kind, COUNT(*) FROM print_jobs GROUP BY kind"))
    finally:
        con.close()
    return {"by_kind": kinds, "approved_expired_untendered": expired,
            "recovered_orphans": swept, "print_jobs": jobs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.crash")
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261121)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ta-crash-") as d:
        summary = crash_matrix(Path(d), args.kills, args.seed)
    print(json.dumps(summary, indent=2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
