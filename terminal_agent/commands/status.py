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
        lost = owed(snap)
        for line in lost:
            print(line)
        if not lost:
            print("nothing is owed: no advice pending or parked, no decision or refund open")
        return 1 if lost else 0
    if args.json:
        json.dump({**snap.as_dict(), "audit_chain": {"intact": chain.intact, "rows": chain.rows,
                                                     "detail": chain.describe()}},
                  sys.stdout, indent=2)
        print()
        return 0
    o = snap.outbox
    age = snap.oldest_pending_age
    last = (time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(o.last_delivery_at))
            if o.last_delivery_at else "never")
    running = "running" if snap.forwarder_running else "NOT RUNNING"
    if snap.forwarder_note:
        running += f" ({snap.forwarder_note})"
    if snap.forwarder_role:
        running += "; forwarding: " + {"ui": "the cashier UI (the service is down)"}.get(
            snap.forwarder_role, f"the {snap.forwarder_role}")
    if snap.clock_went_back and age is not None:
        age_txt = f" (oldest dated {-age:.0f} s in the future: the clock went back)"
    else:
        age_txt = f" (oldest {age:.0f} s)" if age is not None else ""
    lines = [
        f"forwarder:            {running}",
        f"outbox pending:       {o.pending}{age_txt}",
        f"outbox parked:        {o.parked}" + ("  <- supervisor attention" if o.parked else ""),
        f"outbox delivered:     {o.delivered}",
        f"last delivery:        {last}",
        f"awaiting decision:    {snap.awaiting_decision}",
        f"status lookups:       {snap.status_pending}",
        f"in flight:            {snap.in_flight}" + ("  (sent by a running till, awaiting the "
                                                      "answer)" if snap.in_flight else ""),
        f"orphaned:             {snap.orphaned}" + (
            ("  <- the forwarder recovers these within seconds" if snap.forwarder_running else
             "  <- no forwarder running: start the service") if snap.orphaned else ""),
        f"needs attention:      {snap.needs_attention}",
        f"audit chain:          {chain.describe()}"
        + ("" if chain.intact else "  <- run `terminal-agent audit verify`"),
    ]
    print("\n".join(lines))
    return 0
