"""The core's public surface, pinned (STYLE 15): the UI and the commands use these names of
``terminal_agent.core`` and nothing else of the core (an import contract keeps them out of its
modules). A change here is a change of the core's API: on purpose, with this list."""

from __future__ import annotations

import inspect

import terminal_agent.core as core

EXPORTED = {
    # the façade and what it answers
    "Agent", "StatusSnapshot", "FlowResult", "SaleVerdict", "sale_verdict", "Answer", "Offer",
    "Person", "Provider", "Printed", "Txn", "Kind", "KIND_LABELS", "State", "FINAL", "OutboxRow",
    "AdviceKind", "RowState", "short_reference", "REVERSAL_DONE", "needs_registration",
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
}

USE_CASES = {  # the façade's methods (core/usecases.py), each typed
    "offers", "sell_voucher", "top_up", "send_money", "retry_order", "pay_out",
    "redeem_voucher", "fee_quote", "tender", "cancel", "transaction", "settled", "advices",
    "owed", "forward_once", "recover", "print_receipt",
}


def test_the_exported_members_are_pinned():
    assert set(core.__all__) == EXPORTED
    assert len(core.__all__) == len(EXPORTED)  # no name twice
    for name in EXPORTED:
        assert getattr(core, name) is not None, name


def test_the_facade_offers_its_use_cases_typed():
    for name in USE_CASES:
        method = getattr(core.Agent, name)
        assert inspect.iscoroutinefunction(method), name
        hints = inspect.get_annotations(method)
        assert "return" in hints, f"{name} has no return type"
        assert all(p in hints for p in inspect.signature(method).parameters if p != "self"), name


def test_verdicts_are_an_enum_of_what_sales_come_to():
    assert {v.value for v in core.SaleVerdict} == {
        "approved", "declined", "unknown", "pending", "reversed", "cancelled"}
