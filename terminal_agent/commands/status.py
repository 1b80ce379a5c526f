"""`terminal-agent status [--json | --owed]`: the outbox, the transactions waiting for someone,
who forwards and the audit chain, read without migrating anything."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from terminal_agent import config as config_mod
from terminal_agent.config import AgentConfig
from terminal_agent.core import Agent, AuditTrail, ChainReport, StatusSnapshot


def _load(args: argparse.Namespace) -> AgentConfig:
    from terminal_agent.security import check_agent_security

    cfg = config_mod.load(args.config)
    check_agent_security(cfg)
    return cfg


async def _status(cfg: AgentConfig) -> tuple[StatusSnapshot, ChainReport]:
    async with Agent.open(cfg, password="", read_only=True,
                          role="status") as agent:  # looks, never migrates
        return await agent.status(), await AuditTrail(agent.store).verify()


def owed(snap: StatusSnapshot) -> list[str]:
    """What deleting this database would lose (empty: nothing is owed to anyone)."""
    o = snap.outbox
    lines = []
    if o.pending or o.parked or o.held:
        lines.append(f"{o.pending + o.parked + o.held} advices not yet delivered to the switch "
                     f"({o.pending} pending, {o.parked} parked, {o.held} in flight)")
    if snap.awaiting_decision:
        lines.append(f"{snap.awaiting_decision} approved sales awaiting the cashier's decision")
    if snap.needs_attention:
        lines.append(f"{snap.needs_attention} transactions needing a supervisor (refund due or "
                     "confirmation failed)")
    return lines


def run_status(args: argparse.Namespace) -> int:
    cfg = _load(args)
    snap, chain = asyncio.run(_status(cfg))
    if args.owed:
        return _say_owed(snap)
    if args.json:
        json.dump({**snap.as_dict(), "audit_chain": {"intact": chain.intact, "rows": chain.rows,
                                                     "detail": chain.describe()}},
                  sys.stdout, indent=2)
        print()
        return 0
    print("\n".join(table(snap, chain)))
    return 0


def _say_owed(snap: StatusSnapshot) -> int:
    """``--owed``: what is still owed, exit 1 if anything."""
    lost = owed(snap)
    for line in lost:
        print(line)
    if not lost:
        print("nothing is owed: no advice pending or parked, no decision or refund open")
    return 1 if lost else 0


def table(snap: StatusSnapshot, chain: ChainReport) -> list[str]:
    """The status as an operator reads it, one line per figure, arrows where to act."""
    o = snap.outbox
    return [
        f"forwarder:            {_forwarder(snap)}",
        f"outbox pending:       {o.pending}{_oldest(snap)}",
        f"outbox parked:        {o.parked}" + ("  <- supervisor attention" if o.parked else ""),
        f"outbox delivered:     {o.delivered}",
        f"last delivery:        {_when(o.last_delivery_at)}",
        f"awaiting decision:    {snap.awaiting_decision}",
        f"status lookups:       {snap.status_pending}",
        f"in flight:            {snap.in_flight}" + ("  (sent by a running till, awaiting the "
                                                      "answer)" if snap.in_flight else ""),
        f"orphaned:             {snap.orphaned}{_orphan_hint(snap)}",
        f"needs attention:      {snap.needs_attention}",
        f"audit chain:          {chain.describe()}"
        + ("" if chain.intact else "  <- run `terminal-agent audit verify`"),
    ]


def _forwarder(snap: StatusSnapshot) -> str:
    running = "running" if snap.forwarder_running else "NOT RUNNING"
    if snap.forwarder_note:
        running += f" ({snap.forwarder_note})"
    if snap.forwarder_role:
        running += "; forwarding: " + {"ui": "the cashier UI (the service is down)"}.get(
            snap.forwarder_role, f"the {snap.forwarder_role}")
    return running


def _oldest(snap: StatusSnapshot) -> str:
    return f" ({snap.oldest_phrase})" if snap.oldest_phrase else ""


def _when(at: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)) if at else "never"


def _orphan_hint(snap: StatusSnapshot) -> str:
    if not snap.orphaned:
        return ""
    return ("  <- the forwarder recovers these within seconds" if snap.forwarder_running
            else "  <- no forwarder running: start the service")
