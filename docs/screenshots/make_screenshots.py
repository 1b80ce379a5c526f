"""Screenshots of the cashier UI for the README: a pilot drives the real app against the
simulator; SVGs are saved here and, if cairosvg is installed, PNGs beside them.

    .venv/bin/python docs/screenshots/make_screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from terminal_agent.sim.options import SimOptions  # noqa: E402
from terminal_agent.sim.server import SimServer  # noqa: E402
from tests.test_ui_support import login, on, sees, till, until  # noqa: E402


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


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, SimServer(SimOptions()) as sim:
        async with till(Path(tmp), sim.url, size=(110, 34), status_interval=0.5) as pilot:
            app = pilot.app
            save(app, "login")
            await login(pilot)
            await pilot.press("f1")
            await sees(pilot, "Vodacom R29 Airtime")
            await pilot.press("down", "enter")
            await sees(pilot, "Sell R 29.00")
            save(app, "voucher-product")
            await pilot.press("enter")
            await until(pilot, lambda: on(pilot, "TenderModal"))
            await pilot.pause(0.2)
            save(app, "voucher-tender")
            await pilot.press("enter")
            await sees(pilot, "Receipt printed")
            await pilot.pause(0.6)
            save(app, "voucher-approved")
            await pilot.press("enter")
            await until(pilot, lambda: on(pilot, "HomeScreen"))
            await pilot.pause(1.2)
            save(app, "home")
            receipts = sorted((Path(tmp) / "receipts").glob("*.png"))
            if receipts:
                (HERE / "voucher-receipt.png").write_bytes(receipts[-1].read_bytes())


if __name__ == "__main__":
    asyncio.run(main())
