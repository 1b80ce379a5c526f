"""Login answer times at the production scrypt cost for an unknown number, a wrong PIN and a
disabled account (issue 13: "a disabled account answers in 1 ms and an unknown one in 36 ms").

    .venv/bin/python -m bench.pin_timing [ROUNDS]

Prints the median, minimum and maximum per case and their ratios to the unknown-number case.
Not part of the test suite (no timed assertions there; the tests count the scrypt calls)."""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from terminal_agent.config import UiConfig
from terminal_agent.core.cashiers import WRONG, Cashiers
from terminal_agent.core.store import Store

CASES = {"unknown": ("7777", "5284"), "wrong": ("1001", "7391"), "disabled": ("1002", "7391")}


async def measure(rounds: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.create(Path(folder) / "agent.db", "TILL0001")
        accounts = Cashiers(store, UiConfig(max_pin_failures=5, lockout_seconds=1))
        await accounts.add("1001", "5284", actor="bench")
        await accounts.add("1002", "7391", actor="bench")
        await accounts.disable("1002", actor="bench")
        times: dict[str, list[float]] = {case: [] for case in CASES}
        for _ in range(rounds):
            for case, (who, pin) in CASES.items():
                started = time.perf_counter()
                answer = await accounts.login(who, pin)
                times[case].append(time.perf_counter() - started)
                assert answer.message == WRONG, answer.message
            await accounts.unlock("1001", "bench")
        await store.close()
    return times


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    times = asyncio.run(measure(rounds))
    base = statistics.median(times["unknown"])
    for case, values in times.items():
        print(f"{case:9} median {statistics.median(values) * 1000:7.1f} ms  "
              f"min {min(values) * 1000:7.1f}  max {max(values) * 1000:7.1f}  "
              f"ratio {statistics.median(values) / base:.2f}  (n={rounds})")


if __name__ == "__main__":
    main()
