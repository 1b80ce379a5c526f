"""`terminal-agent cashier add|disable|list`: cashier accounts from the command line. Every run
is an audit row naming the operator, a refused one too (core/cashiers.py, core/audit.py)."""

from __future__ import annotations

import argparse
import asyncio
import time

from terminal_agent.commands.prompts import read_new_pin
from terminal_agent.core import Cashier, CashierError, Cashiers, admin_store, check_id, cli_operator
from terminal_agent.errors import AgentError


def run_cashier(args: argparse.Namespace) -> int:
    return asyncio.run(_cashier_command(args))


async def _cashier_command(args: argparse.Namespace) -> int:
    operator = cli_operator()
    async with admin_store(args.config) as (cfg, store):
        accounts = Cashiers(store, cfg.ui)
        try:
            for line in await _cashier_action(accounts, args, operator):
                print(line)
        except AgentError as exc:
            await accounts.audit(operator, f"cashier-{args.action}-refused",
                                 getattr(args, "cashier_id", None), str(exc))
            raise
    return 0


async def _cashier_action(accounts: Cashiers, args: argparse.Namespace,
                          operator: str) -> list[str]:
    if args.action == "add":
        return await _add(accounts, args, operator)
    if args.action == "disable":
        gone = await accounts.disable(args.cashier_id, actor=operator)
        return [f"disabled {gone.label}"]
    await accounts.audit(operator, "cashier-list")
    return [_line(c) for c in await accounts.all()]


async def _add(accounts: Cashiers, args: argparse.Namespace, operator: str) -> list[str]:
    cashier_id = check_id(args.cashier_id)
    replace = bool(getattr(args, "replace", False))
    existed = await accounts.find(cashier_id) is not None
    if existed and not replace:
        raise CashierError(f"cashier {cashier_id} already exists; add --replace to reset "
                           "its PIN, role and name")
    added = await accounts.add(cashier_id, read_new_pin(args), role=args.role, name=args.name,
                               replace=replace, actor=operator)
    return [f"{'updated' if existed else 'added'} {added.role.value} {added.label}"]


def _line(c: Cashier) -> str:
    state = "enabled" if c.enabled else "disabled"
    if c.locked_until and c.locked_until > time.time():
        state = "locked"
    return f"{c.id:<16} {c.role.value:<10} {state:<9} {c.name}"
