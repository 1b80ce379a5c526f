"""The benchmark and fault harness at tiny sizes, so that it cannot rot unnoticed (the real
figures come from `make bench` and `make faults`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import faults, run
from bench.common import HistoryCache, SimProcess


@pytest.mark.timeout(60)
def test_bench_functions_at_tiny_sizes(tmp_path: Path) -> None:
    cache = HistoryCache(tmp_path)
    enq = run.bench_enqueue(tmp_path, n=20, history=50, cache=cache)
    assert enq["ours"]["per_s"] > 0 and enq["persist_queue"]["per_s"] > 0
    assert enq["raw_sqlite3"]["per_s"] > 0
    sale = run.bench_sale(tmp_path, n=6, history=50, cache=cache)
    assert sale["n"] == 6 and sale["sale_p99_ms"] > 0
    with SimProcess(tmp_path) as sim:
        drain = run.bench_drain(tmp_path, n=60, history=50, cache=cache, sim=sim)
    assert drain["ours"]["per_s"] > 0 and drain["persist_queue_httpx"]["per_s"] > 0
    assert drain["simulator_alone"]["per_s"] > 0
    boot = run.bench_boot(tmp_path, history=50, repeats=1, cache=cache)
    assert 0 < boot["median_s"] < 30
    res = {"machine": {"date": "-", "nproc": 2, "cpu": "-", "mem_gib": 1, "python": "-",
                       "sqlite": "-", "kernel": "-"}, "sizes": [50], "seconds": 0.0,
           "enqueue": {"50": enq}, "drain": {"50": drain}, "sale": {"50": sale},
           "boot": {"50": boot}}
    res["goals"] = run.goals(res)
    assert "Durable enqueue" in run.render(res) and len(res["goals"]) >= 5


@pytest.mark.timeout(60)
def test_fault_functions_at_tiny_sizes(tmp_path: Path) -> None:
    fuzz = faults.fault_fuzz(tmp_path, cases=48)
    assert fuzz["crashes"] == 0, fuzz["crash_examples"]
    assert fuzz["wrong_final_state"] == 0, fuzz["wrong_examples"]
    printer = faults.fault_printer(tmp_path, jobs=25)
    assert printer["lost"] == 0 and printer["pending_at_end"] == 0, printer
    outage = faults.fault_outage(tmp_path, sales=12)
    assert outage["lost"] == 0 and outage["order_violations"] == 0, outage
    crash = faults.fault_crash(tmp_path, kills=2)
    assert crash["kills"] == 2 and crash["ok"], crash


@pytest.mark.timeout(120)
def test_herd_model_and_real_run_at_tiny_sizes(tmp_path: Path) -> None:
    from bench import herd

    jitter = herd.simulate(herd.Scenario(tills=20, backlog=20, outage_min=5))
    pinned = herd.simulate(herd.Scenario(tills=20, backlog=20, outage_min=5, jitter=False))
    limited = herd.simulate(herd.Scenario(tills=20, backlog=20, outage_min=5, max_rate=1.0))
    for r in (jitter, pinned, limited):
        assert r["undelivered"] == 0 and r["drain_s"] > 0, r
    # without jitter every till retries in the same instant: the herd the jitter prevents
    assert pinned["peak_offered"] > 2 * jitter["peak_offered"]
    assert limited["peak_offered"] <= 20 * 1.0 * 2  # 20 tills at 1/s (2 per 1-s bucket at most)
    real = herd.bench_real(tmp_path, tills=2, backlog=10, outage_s=1.0)
    assert real["requests"] >= 20 and real["drain_s"] > 0, real
    assert "peak offered" in herd.render({"model": [{**jitter, "case": "x"}],
                                          "real": [{**real, "case": "y"}]})


@pytest.mark.timeout(120)
def test_cashier_journal_and_year_at_tiny_sizes(tmp_path: Path) -> None:
    from bench import cashier

    journal = cashier.bench_journal(tmp_path, 2_000, repeats=1)
    assert journal["2000"]["today_rows"] > 0 and journal["2000"]["report"] > 0
    year = cashier.bench_year(tmp_path, per_day=2, days=200, every=50)
    assert year["sales"] == 400 and year["size_mb"] > 0 and year["purged_rows"] > 0
    assert "shift report" in cashier.render({"journal": journal, "year": year})


@pytest.mark.timeout(120)
def test_purge_lock_hold_at_tiny_sizes(tmp_path: Path) -> None:
    from bench import purge

    template = tmp_path / "year.db"
    purge.build_year(template, per_day=2, days=200)
    purge.as_schema(template, 9)
    run = purge.measure(template, tmp_path, "after", None, limit=60)
    assert run["finished"] and run["steps"] > 1 and "transactions" in run["purged"], run
    assert run["probes"] > 0 and run["refused"] == 0
    assert "longest wait" in purge.render({"runs": [run]})
