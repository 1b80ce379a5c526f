"""What an operator command asks on the terminal (a new PIN): asked with ``getpass`` on a
terminal, read as a line from standard input with ``--pin-stdin``; checked by the core exactly
as the till checks it."""

from __future__ import annotations

import argparse
import getpass
import sys

from terminal_agent.core import check_pin
from terminal_agent.errors import ValidationError


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
