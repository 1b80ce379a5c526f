"""Screenshots of the cashier UI for the README: a pilot drives the real app against the
simulator, at 120x40 and (the same screens a small till shows) at 80x25; SVGs are saved here
and, if cairosvg is installed (``pip install cairosvg``), PNGs beside them.

    .venv/bin/python docs/screenshots/make_screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from terminal_agent.sim.options import SimOptions  # noqa: E402
from terminal_agent.sim.server import SimServer  # noqa: E402
from tests.test_ui_support import login, on, sees, till, type_in, until  # noqa: E402


def save(app: object, name: str) -> None:
    svg = app.export_screenshot(title="terminal-agent")  # type: ignore[attr-defined]
    (HERE / f"{name}.svg").write_text(svg, encoding="utf-8")
    try:
        import cairosvg
    except ImportError:
        return
    mono = svg.replace("Fira Code", "DejaVu Sans Mono")  # a monospace font cairo can find
    cairosvg.svg2png(bytestring=mono.encode(), write_to=str(HERE / f"{name}.png"),
                     output_width=1600)


async def home(pilot: Any) -> None:
    await pilot.app.go_home()
    await until(pilot, lambda: on(pilot, "HomeScreen"))


async def tour(pilot: Any, tmp: Path, suffix: str) -> None:
    app = pilot.app
    save(app, f"login{suffix}")
    await login(pilot)
    await pilot.pause(0.5)
    save(app, f"home{suffix}")
    await pilot.press("f1")
    await sees(pilot, "Vodacom R29 Airtime")
    await pilot.press("2")                                     # quick key
    await sees(pilot, "Sell R 29.00")
    save(app, f"voucher-product{suffix}")
    await pilot.press("enter")
    await until(pilot, lambda: on(pilot, "TenderModal"))
    await pilot.press("5", "0")
    await sees(pilot, "Change: R 21.00")
    save(app, f"voucher-tender{suffix}")
    await pilot.press("enter")
    await sees(pilot, "Receipt printed")
    await pilot.pause(0.6)
    save(app, f"voucher-approved{suffix}")
    await home(pilot)
    await pilot.press("f2")
    await until(pilot, lambda: app.focused is not None)
    await type_in(pilot, "0821234567", "0821234567")
    await sees(pilot, "Vodacom Airtime Direct Top-up")
    await pilot.press("enter", "5", "comma", "5", "0")
    save(app, f"topup{suffix}")
    await home(pilot)
    await pilot.press("f4")
    await until(pilot, lambda: app.focused is not None)
    await type_in(pilot, "4820 3917 5620 3817 4502")
    await sees(pilot, "Order of R 1,200.00")
    await type_in(pilot, "Tendai", "Moyo", "8505055800083")
    save(app, f"payout{suffix}")
    await home(pilot)
    await pilot.press("f9")
    await sees(pilot, "Net cash")
    save(app, f"cash-up{suffix}")
    await home(pilot)
    await pilot.pause(1.2)
    if not suffix:
        receipts = sorted((tmp / "receipts").glob("*.png"))
        if receipts:
            (HERE / "voucher-receipt.png").write_bytes(receipts[0].read_bytes())


async def main() -> None:
    for size, suffix in (((120, 40), ""), ((80, 25), "-80x25")):
        with tempfile.TemporaryDirectory() as tmp, SimServer(SimOptions()) as sim:
            async with till(Path(tmp), sim.url, size=size, status_interval=0.5) as pilot:
                await tour(pilot, Path(tmp), suffix)


if __name__ == "__main__":
    asyncio.run(main())
