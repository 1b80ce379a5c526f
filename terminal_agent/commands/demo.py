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

from terminal_agent.config import AgentConfig
from terminal_agent.demo import DEMO_CASHIER, write_demo_config


async def scripted_sale(cfg: AgentConfig, out: object = sys.stdout) -> int:
    """One airtime voucher sale end to end: provision, tender, confirmation delivered."""
    from terminal_agent.core import Agent

    def say(text: str) -> None:
        print(text, file=out)  # type: ignore[call-overload]

    async with Agent.open(cfg, password="") as agent:
        await agent.recover()
        offers = await agent.offers(direct_topup=False)
        if not offers:
            say("The simulator offered no voucher products.")
            return 1
        offer = offers[0]
        value = offer.face_value or 1000
        say(f"Selling {offer.name} for {cfg.terminal.currency_symbol} {value / 100:.2f} ...")
        result = await agent.sell_voucher(offer, value, DEMO_CASHIER[0])
        say(f"  switch: {result.verdict} - {result.message}")
        if not result.approved:
            return 1
        result = await agent.tender(result.txn_id, DEMO_CASHIER[0])
        say(f"  tender recorded: {result.message}")
        for _ in range(50):
            await agent.forward_once()
            if await agent.settled(result.txn_id):
                break
            await asyncio.sleep(0.1)
        txn = await agent.transaction(result.txn_id)
        say(f"  final state: {txn.state} (reference {txn.reference})")
        serial = result.data.get("serial", "")
        say(f"  voucher serial {serial}, PIN printed on the slip only")
        printed = await agent.print_receipt(result.txn_id)
        say(f"  receipt preview: {printed.where}" if printed.printed
            else f"  receipt not printed yet: {printed.reason}")
        return 0 if txn.state.value == "CONFIRMED" else 1


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
