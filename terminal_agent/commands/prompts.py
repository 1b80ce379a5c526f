"""What an operator command asks on the terminal: a new PIN, a supervisor's number and PIN.
Asked with ``getpass`` on a terminal, read as lines from standard input otherwise; checked by
the core exactly as the till checks them (role, lock-out, audit)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from terminal_agent.core import Cashier, Cashiers, check_pin
from terminal_agent.errors import AgentError, ValidationError


def read_new_pin(args: argparse.Namespace) -> str:
    """A new PIN for ``args.cashier_id``: one line of standard input with ``--pin-stdin``, else
    asked twice without echo."""
    cashier_id = args.cashier_id
    if getattr(args, "pin_stdin", False):
        return check_pin(sys.stdin.readline().strip(), cashier_id)
    first = getpass.getpass("New PIN (4 to 12 digits): ")
    check_pin(first, cashier_id)
    if getpass.getpass("Same PIN again: ") != first:
        raise ValidationError("pin", "the two PINs differ; nothing was changed")
    return first


class NotAuthorised(AgentError):
    """A supervisor's number and PIN were asked for and not given (or not a supervisor's)."""


async def cli_supervisor(accounts: Cashiers, supervisor_id: str, *, action: str, subject: str,
                         operator: str) -> Cashier:
    """A supervisor's number (unless given) and PIN, asked on the terminal or read as lines from
    standard input, checked like the till checks them (role, lockout, audit)."""
    supervisor_id, pin = await asyncio.to_thread(_ask_supervisor, supervisor_id)
    result = await accounts.authorise(supervisor_id, pin, action=action, subject=subject,
                                      on_behalf_of=operator)
    if result.cashier is None:
        raise NotAuthorised(f"not authorised: {result.message}")
    return result.cashier


def _ask_supervisor(supervisor_id: str) -> tuple[str, str]:
    interactive = sys.stdin.isatty()
    if not supervisor_id:
        supervisor_id = (input("Supervisor number: ") if interactive
                         else sys.stdin.readline()).strip()
    pin = getpass.getpass("Supervisor PIN: ") if interactive else sys.stdin.readline().strip()
    return supervisor_id, pin
