"""Peak RSS of the cashier UI after one voucher sale (run by ``bench.run`` in its own process).

    python -m bench.ui_footprint STATE_DIR SIM_URL   ->  prints "RSS <VmRSS MB> <VmHWM MB>"

The UI runs headless (Textual's test driver: there is no terminal here) over the real core and
SQLite, with the simulator at SIM_URL: log in, F1, pick a voucher, sell, tender, print.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path


async def sale(state_dir: Path, url: str) -> None:
    from tests.test_ui_support import login, on, sees, till, until

    async with till(state_dir, url) as pilot:
        await login(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: on(pilot, "VoucherScreen"))
        await pilot.press("down", "enter")
        await pilot.press("enter")
        await until(pilot, lambda: on(pilot, "TenderModal"), what="tender")
        await pilot.press("enter")
        await until(pilot, lambda: on(pilot, "OutcomeScreen"))
        await sees(pilot, "APPROVED")
        await pilot.pause(0.5)


def main() -> int:
    state_dir, url = Path(sys.argv[1]), sys.argv[2]
    asyncio.run(sale(state_dir, url))
    from bench.common import vm

    m = vm(__import__("os").getpid())
    print(f"RSS {m['VmRSS']:.1f} {m['VmHWM']:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
