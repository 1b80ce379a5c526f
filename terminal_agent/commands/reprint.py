"""`terminal-agent reprint REFERENCE [--supervisor ID]`: a supervisor's number and PIN (asked, or
lines on standard input), then a COPY printed now; audited with the operator."""

from __future__ import annotations

import argparse
import asyncio

from terminal_agent.commands.prompts import cli_supervisor
from terminal_agent.core import Cashiers, admin_store, cli_operator, reprint_now


def run_reprint(args: argparse.Namespace) -> int:
    return asyncio.run(_reprint(args))


async def _reprint(args: argparse.Namespace) -> int:
    operator, reference = cli_operator(), args.reference.strip()
    async with admin_store(args.config) as (cfg, store):
        supervisor = await cli_supervisor(Cashiers(store, cfg.ui), args.supervisor.strip(),
                                          action="reprint", subject=reference,
                                          operator=operator)
        job_id, result = await reprint_now(cfg, store, reference, supervisor.id, operator)
    if job_id in result.printed:
        print(f"reprinted {reference} (job {job_id}, marked COPY)")
        return 0
    print(f"copy of {reference} is queued as job {job_id} but not printed yet: {result.reason}")
    return 1
