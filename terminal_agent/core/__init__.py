"""The core: everything the till owns (journal, outbox, flows, forwarder, recovery, store).

The UI and the commands use the core through this package's exported names only (an import
contract keeps them out of its modules): the façade ``Agent`` with its use cases (sell, tender,
cancel, pay out, redeem...: ``core/usecases.py``) and the typed values they take and return,
the cashier accounts and the audit trail, the database's life (init, check, backup, restore,
migrate) and the printer of the configuration. ``tests/test_core_api.py`` pins the list.

The names are loaded on first use (PEP 562): starting the cashier UI up to its login screen
needs neither the switch client (httpx) nor the flows, which load right after it is drawn
(issue 17, cold start).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from terminal_agent.core.admin import CheckReport, Comparison
    from terminal_agent.core.admin import backup as backup_database
    from terminal_agent.core.admin import check as check_database
    from terminal_agent.core.admin import migrate as migrate_database
    from terminal_agent.core.admin import restore as restore_database
    from terminal_agent.core.agent import Agent, StatusSnapshot
    from terminal_agent.core.audit import AuditTrail, ChainReport, admin_store, cli_operator, record_admin_act
    from terminal_agent.core.backups import newest as newest_backup
    from terminal_agent.core.cashiers import (
        Cashier,
        CashierError,
        Cashiers,
        LoginResult,
        Role,
        check_id,
        check_pin,
    )
    from terminal_agent.core.cashup import CashUp, ClosedShift
    from terminal_agent.core.catalogue import TOPUPS, VOUCHERS, Offer, ProductOffer, fixed_amount
    from terminal_agent.core.entries import (
        change_due,
        id_number,
        normalise_msisdn,
        order_reference,
        parse_amount,
        person_name,
        txn_reference,
        voucher_code,
    )
    from terminal_agent.core.flows.base import FlowResult, SaleVerdict
    from terminal_agent.core.flows.money import Person
    from terminal_agent.core.flows.requests import Answer
    from terminal_agent.core.journal import KIND_LABELS, Kind, Txn, short_reference
    from terminal_agent.core.messages import REVERSAL_DONE, needs_registration
    from terminal_agent.core.outbox import AdviceKind, OutboxRow
    from terminal_agent.core.printing import (
        Printer,
        PrinterStatus,
        PrintQueue,
        open_configured_printer,
        record_printer_status,
        reprint_now,
    )
    from terminal_agent.core.runtime import Duty, Runtime
    from terminal_agent.core.service import forward
    from terminal_agent.core.states import FINAL, RowState, State
    from terminal_agent.core.store import backup_folder, create_database
    from terminal_agent.core.usecases import Link, Printed, Provider

__all__ = [
    # the façade and what it answers
    "Agent", "StatusSnapshot", "FlowResult", "SaleVerdict", "Answer", "Offer",
    "Person", "Provider", "Link", "Printed", "Txn", "Kind", "KIND_LABELS", "State", "FINAL",
    "OutboxRow", "AdviceKind", "RowState", "short_reference", "REVERSAL_DONE", "needs_registration",
    # what the cashier types, read as the till means it (core/entries.py)
    "parse_amount", "order_reference", "voucher_code", "txn_reference", "id_number",
    "person_name", "normalise_msisdn", "change_due",
    # products, cash-up, the runtime, the receipt printer
    "ProductOffer", "VOUCHERS", "TOPUPS", "fixed_amount", "CashUp", "ClosedShift", "Runtime",
    "Duty", "PrintQueue", "Printer", "PrinterStatus", "open_configured_printer",
    "record_printer_status",
    # the headless service (terminal-agent forward), a reprint from the command line
    "forward", "reprint_now",
    # cashier accounts and the audit trail
    "Cashiers", "Cashier", "CashierError", "LoginResult", "Role", "check_id", "check_pin",
    "AuditTrail", "ChainReport", "admin_store", "cli_operator", "record_admin_act",
    # the database's life
    "create_database", "backup_folder", "newest_backup", "check_database", "backup_database",
    "restore_database", "migrate_database", "CheckReport", "Comparison",
]

# where each exported name lives: module (under terminal_agent.core) -> its names
_HOMES: dict[str, tuple[str, ...]] = {
    "admin": (
        "CheckReport", "Comparison", "backup_database", "check_database", "migrate_database",
        "restore_database"),
    "agent": ("Agent", "StatusSnapshot"),
    "audit": ("AuditTrail", "ChainReport", "admin_store", "cli_operator", "record_admin_act"),
    "backups": ("newest_backup",),
    "cashiers": (
        "Cashier", "CashierError", "Cashiers", "LoginResult", "Role", "check_id", "check_pin"),
    "cashup": ("CashUp", "ClosedShift"),
    "catalogue": ("TOPUPS", "VOUCHERS", "Offer", "ProductOffer", "fixed_amount"),
    "flows.money": ("Person",),
    "entries": (
        "change_due", "id_number", "order_reference", "parse_amount", "person_name", "txn_reference",
        "voucher_code", "normalise_msisdn"),
    "flows.base": ("FlowResult", "SaleVerdict"),
    "flows.requests": ("Answer",),
    "journal": ("KIND_LABELS", "Kind", "Txn", "short_reference"),
    "messages": ("REVERSAL_DONE", "needs_registration"),
    "outbox": ("AdviceKind", "OutboxRow"),
    "printing": (
        "Printer", "PrinterStatus", "PrintQueue", "open_configured_printer", "record_printer_status",
        "reprint_now"),
    "runtime": ("Duty", "Runtime"),
    "service": ("forward",),
    "states": ("FINAL", "RowState", "State"),
    "store": ("backup_folder", "create_database"),
    "usecases": ("Link", "Printed", "Provider"),
}
_RENAMED = {"backup_database": "backup", "check_database": "check",
            "migrate_database": "migrate", "restore_database": "restore", "newest_backup": "newest"}
_WHERE = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    """An exported name, imported from its module the first time it is asked for."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
