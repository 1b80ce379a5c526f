"""`python -m bench.shape`: the figures of the code's shape (issue 15), measured, not estimated.

    python -m bench.shape            # all four figures, as a table (and --json for a machine)

1. UI -> core: the core modules the UI imports (grimp's import graph, direct imports, including
   those inside functions) and the names it takes from them (``from terminal_agent.core... import``
   statements, read with ``ast``); also the UI's imports of protocol, switch and devices.
2. A voucher sale walked through the real UI (Textual's pilot, the simulator in its own process):
   from the Enter on "Sell" to "Receipt printed" on the screen, every Python function that runs
   in this process (both threads: the event loop and the database's) is seen by a profile hook.
   Counted: the product source files it crosses, the decodes of the sale's response (calls of
   ``protocol.codec.decode`` with the operation's response model: the answer's bytes, or the
   same bytes as the journal keeps them) and the reads of its journal row (calls of
   ``Journal.get``). The forwarder and the status bar are kept out of the window (no
   forwarder in the UI, no status ticks), so the figures are the cashier's path alone.
3. Functions over cyclomatic complexity 10 (radon's ``cc_visit``: functions and methods, closures
   not counted separately, as ``radon cc`` shows them) in ``terminal_agent`` and ``devices``.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("terminal_agent", "devices")


# -- 1. the import graph ------------------------------------------------------------------------

def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def ui_imports() -> dict[str, Any]:
    import grimp

    graph = grimp.build_graph(*PRODUCT, include_external_packages=False)
    ui = [m for m in graph.modules if _inside(m, "terminal_agent.ui")]
    reached: dict[str, set[str]] = {p: set() for p in ("core", "protocol", "switch", "devices")}
    for module in ui:
        for target in graph.find_modules_directly_imported_by(module):
            for part in reached:
                package = "devices" if part == "devices" else f"terminal_agent.{part}"
                if _inside(target, package):
                    reached[part].add(target)
    return {"ui_core_modules": sorted(reached["core"]), "ui_core_names": sorted(_core_names()),
            "ui_lower_modules": sorted(reached["protocol"] | reached["switch"]
                                       | reached["devices"])}


def _core_names() -> set[str]:
    names = set()
    for path in (ROOT / "terminal_agent" / "ui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "terminal_agent.core"):
                names |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                names |= {a.name for a in node.names if a.name.startswith("terminal_agent.core")}
    return names


# -- 2. one voucher sale, walked -------------------------------------------------------------------

class Walk:
    """A profile hook on every thread: the product files entered, decode and row-read calls."""

    def __init__(self) -> None:
        self.recording = False
        self.files: Counter[str] = Counter()
        self.decoded: list[str] = []  # the model each decode produced
        self.row_reads = 0
        self._lock = threading.Lock()
        self._roots = tuple(str(ROOT / p) + "/" for p in PRODUCT)
        self._sim = str(ROOT / "terminal_agent" / "sim") + "/"

    def hook(self, frame: Any, event: str, arg: Any) -> None:
        if not self.recording or event != "call":
            return
        name = frame.f_code.co_filename
        if not name.startswith(self._roots) or name.startswith(self._sim):
            return
        with self._lock:
            self.files[str(Path(name).relative_to(ROOT))] += 1
            func = frame.f_code.co_name
            if func == "decode" and name.endswith("protocol/codec.py"):
                model = frame.f_locals.get("model_type")
                self.decoded.append(getattr(model, "__name__", str(model)))
            elif func == "get" and name.endswith("core/journal.py"):
                self.row_reads += 1

    def install(self) -> None:
        sys.setprofile(self.hook)
        threading.setprofile(self.hook)

    def remove(self) -> None:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]


async def _sale(walk: Walk, state_dir: Path, sim_url: str) -> str:
    from functools import partial

    from tests import test_ui_support as support

    # a profiled client is slow: no read timeout may cut the sale short
    support.config_text = partial(support.config_text, read_timeout=60.0)  # type: ignore[assignment]
    async with support.till(state_dir, sim_url, run_forwarder=False,
                            status_interval=3600) as pilot:
        await support.login(pilot)
        await pilot.press("f1")
        await support.until(pilot, lambda: support.on(pilot, "VoucherScreen"))
        await support.sees(pilot, "Vodacom R29 Airtime")
        await pilot.press("down", "enter")
        await support.sees(pilot, "Sell R 29.00")
        walk.recording = True
        await pilot.press("enter")
        await support.until(pilot, lambda: support.on(pilot, "TenderModal"), 120, "tender")
        await pilot.press("enter")
        await support.sees(pilot, "Receipt printed", 120)
        walk.recording = False
        agent = support.agent_of(pilot)
        found = await agent.store.fetchall("SELECT op FROM transactions")
        from terminal_agent.protocol.operations import SPECS, Op

        model = SPECS[Op(found[0]["op"])].response
        return getattr(model, "__name__", str(model))


def sale_walk() -> dict[str, Any]:
    from bench.common import SimProcess

    walk = Walk()
    with tempfile.TemporaryDirectory(prefix="shape-") as tmp, SimProcess(Path(tmp)) as sim:
        walk.install()
        try:
            model = asyncio.run(_sale(walk, Path(tmp) / "till", sim.url))
        finally:
            walk.remove()
    return {"files": sorted(walk.files), "decodes_of_response": walk.decoded.count(model),
            "decodes_all": len(walk.decoded), "row_reads": walk.row_reads}


# -- 3. complexity ---------------------------------------------------------------------------------

def complexity(limit: int = 10) -> list[str]:
    from radon.complexity import cc_visit

    over = set()  # cc_visit lists a method both on its own and in its class's ``methods``
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            for block in cc_visit(path.read_text(encoding="utf-8")):
                for fn in getattr(block, "methods", None) or [block]:
                    if not hasattr(fn, "methods") and fn.complexity > limit:
                        where = path.relative_to(ROOT)
                        over.add(f"{where}:{fn.lineno} {fn.fullname} {fn.complexity}")
    return sorted(over)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.shape", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-sale", action="store_true", help="skip the walked sale (fast)")
    args = parser.parse_args(argv)
    out: dict[str, Any] = ui_imports()
    out["over_cc10"] = complexity()
    if not args.no_sale:
        out["sale"] = sale_walk()
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"UI -> core modules imported: {len(out['ui_core_modules'])}")
    for m in out["ui_core_modules"]:
        print(f"    {m}")
    print(f"UI -> core names imported:   {len(out['ui_core_names'])}")
    print(f"UI -> protocol/switch/devices modules: {len(out['ui_lower_modules'])} "
          f"{out['ui_lower_modules']}")
    print(f"functions over CC 10:        {len(out['over_cc10'])}")
    for line in out["over_cc10"]:
        print(f"    {line}")
    if "sale" in out:
        sale = out["sale"]
        print(f"voucher sale (Sell -> slip): {len(sale['files'])} product files crossed, "
              f"its response decoded {sale['decodes_of_response']} times "
              f"({sale['decodes_all']} decodes in all), journal row read {sale['row_reads']} times")
        for f in sale["files"]:
            print(f"    {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
