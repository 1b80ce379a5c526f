"""`terminal-agent demo`: the simulator, the forwarder and the cashier UI in one process, on a
throw-away state directory (``terminal_agent/demo.py``), printing to ``preview://`` files.
Nothing to configure.

Without a terminal (or with ``--scripted``) it runs one scripted airtime voucher sale against the
simulator and prints the outcome and the receipt instead of starting the UI.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

from terminal_agent.config import AgentConfig
from terminal_agent.demo import DEMO_CASHIER, write_demo_config


async def scripted_sale(cfg: AgentConfig, out: object = sys.stdout) -> int:
    """One airtime voucher sale end to end: provision, tender, confirmation delivered."""
    from terminal_agent.core.agent import Agent
    from terminal_agent.core.states import FINAL

    def say(text: str) -> None:
        print(text, file=out)  # type: ignore[call-overload]

    async with Agent.open(cfg, password="") as agent:
        await agent.recovery.run()
        products = [p for p in await agent.catalogue.products() if not p.is_direct_topup]
        if not products:
            say("The simulator offered no voucher products.")
            return 1
        product = products[0]
        value = product.product_values[0].amount if product.product_values else 1000
        say(f"Selling {product.name} for {cfg.terminal.currency_symbol} {value / 100:.2f} ...")
        result = await agent.vouchers.sell(product, value, cashier=DEMO_CASHIER[0])
        say(f"  switch: {result.verdict} - {result.message}")
        if not result.approved:
            return 1
        result = await agent.vouchers.tender(result.txn_id, DEMO_CASHIER[0])
        say(f"  tender recorded: {result.message}")
        for _ in range(50):
            await agent.forwarder.run_once()
            txn = await agent.journal.get(result.txn_id)
            if txn.state in FINAL:
                break
            await asyncio.sleep(0.1)
        say(f"  final state: {txn.state} (reference {txn.reference})")
        serial = result.data.get("serial", "")
        say(f"  voucher serial {serial}, PIN printed on the slip only")
        receipt = await _print_receipt(agent, cfg, result)
        if receipt:
            say(f"  receipt preview: {receipt}")
        return 0 if txn.state.value == "CONFIRMED" else 1


async def _print_receipt(agent: Any, cfg: AgentConfig, result: Any) -> str:
    """Print the sale's slip through the durable print queue (preview:// in the demo)."""
    from terminal_agent.ui.desk import CoreDesk

    desk = CoreDesk.open(cfg, agent)
    try:
        report = await desk.print_result(result, DEMO_CASHIER[0])
    finally:
        await desk.aclose()
    return report.where or report.message


def run_demo(args: argparse.Namespace) -> int:
    from terminal_agent.sim.options import SimOptions
    from terminal_agent.sim.server import SimServer

    state_dir = Path(args.state_dir or tempfile.mkdtemp(prefix="terminal-agent-demo-"))
    state_dir.mkdir(parents=True, exist_ok=True)
    with SimServer(SimOptions(state_path=str(state_dir / "sim.db"))) as sim:
        cfg = write_demo_config(state_dir, sim.url)
        print(f"Demo state in {state_dir}; simulator at {sim.url}", file=sys.stderr)
        if args.scripted or not sys.stdout.isatty():
            return asyncio.run(scripted_sale(cfg))
        from terminal_agent.commands.ui import run_demo_ui

        return run_demo_ui(cfg, state_dir)
