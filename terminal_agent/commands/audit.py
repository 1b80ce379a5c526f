"""`terminal-agent audit verify`: walk the audit trail's hash chain (core/audit.py)."""

from __future__ import annotations

import argparse
import asyncio

from terminal_agent.core import AuditTrail, admin_store, cli_operator


def run_audit(args: argparse.Namespace) -> int:
    """``terminal-agent audit verify``: exit 0 when the chain is intact, 1 when broken."""
    return asyncio.run(_verify(args.config))


async def _verify(config_path: str) -> int:
    async with admin_store(config_path) as (_, store):
        trail = AuditTrail(store)
        report = await trail.verify()
        await trail.record(cli_operator(), "audit-verify", None, report.describe())
    print(f"audit chain: {report.describe()}")
    return 0 if report.intact else 1
