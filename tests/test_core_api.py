"""The core's public surface, pinned (STYLE 15): the UI and the commands use these names of
``terminal_agent.core`` and nothing else of the core (an import contract keeps them out of its
modules). A change here is a change of the core's API: on purpose, with this list."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

import terminal_agent.core as core

EXPORTED = {
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
}

USE_CASES = {  # the façade's methods (core/usecases.py), each typed
    "offers", "sell_voucher", "top_up", "send_money", "retry_order", "pay_out",
    "redeem_voucher", "fee_quote", "tender", "cancel", "transaction", "settled", "advices",
    "owed", "forward_once", "recover", "print_receipt", "product_offer", "network_of",
    "check_top_up", "retry_payout", "find_order", "find_customer", "register_customer",
    "check_voucher", "as_it_stands", "ask_top_up_again", "stop_lookups", "refund_given",
    "open_decisions", "history", "timeline", "x_report", "close_shift", "closed_shifts",
    "z_report", "advices_waiting", "retry_advice", "resolve_advice", "note_printer_status",
}


def test_the_exported_members_are_pinned():
    assert set(core.__all__) == EXPORTED
    assert len(core.__all__) == len(EXPORTED)  # no name twice
    for name in EXPORTED:
        assert getattr(core, name) is not None, name


def test_each_name_loads_what_the_type_checker_sees():
    """The façade loads its names on first use (issue 17, cold start): each one is the object
    its ``if TYPE_CHECKING:`` import names, so mypy and the running code agree."""
    checked = _checking_names(core)
    assert set(checked) - {"__builtins__"} == EXPORTED
    for name in EXPORTED:
        assert getattr(core, name) is checked[name], name


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
    assert typing.get_type_hints(core.FlowResult)["verdict"] is core.SaleVerdict
    given = core.FlowResult("t", "REF", core.Kind.VOUCHER_SALE, core.State.APPROVED, "approved",
                            "Approved.")
    assert given.verdict is core.SaleVerdict.APPROVED and given.approved
    with pytest.raises(ValueError):
        core.FlowResult("t", "REF", core.Kind.VOUCHER_SALE, core.State.APPROVED, "done", "?")


def test_every_verdict_has_its_banner():
    from terminal_agent.ui.screens.outcome import BANNERS

    assert set(BANNERS) == set(core.SaleVerdict)


# What the façade hands out is the till's own: no protocol model or switch type in an exported
# value's fields or a use case's signature (the UI imports neither, by contract, and must not
# receive them through the core either). The printer types are the devices' (the UI process's
# composition root opens the configured printer).
FOREIGN = ("terminal_agent.protocol", "terminal_agent.switch")


def _types_in(hint: object) -> Iterator[type]:
    if isinstance(hint, type):
        yield hint
    for arg in typing.get_args(hint):
        yield from _types_in(arg)
    origin = typing.get_origin(hint)
    if isinstance(origin, type):
        yield origin


def _checking_names(owner: object) -> dict[str, object]:
    """The names a module imports for type checking only (``if TYPE_CHECKING:``), as mypy
    sees them."""
    module = inspect.getmodule(owner)
    names: dict[str, object] = {}
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            exec(compile(ast.Module(node.body, []), "<type checking>", "exec"), names)
    return names


def _hints(owner: object) -> dict[str, object]:
    try:
        return typing.get_type_hints(owner)
    except NameError:  # a name imported for type checking only
        return typing.get_type_hints(owner, localns=_checking_names(owner))


def _exposed(name: str) -> Iterator[tuple[str, object]]:
    value = getattr(core, name)
    if dataclasses.is_dataclass(value) or isinstance(value, type) and hasattr(
            value, "__struct_fields__"):
        for field, hint in _hints(value).items():
            yield f"{name}.{field}", hint
    elif inspect.isfunction(value):
        for part, hint in _hints(value).items():
            yield f"{name}({part})", hint


def _foreign(hint: object) -> list[str]:
    return [f"{t.__module__}.{t.__qualname__}" for t in _types_in(hint)
            if t.__module__.startswith(FOREIGN)]


def test_the_facade_hands_out_no_protocol_value():
    found = []
    for name in EXPORTED:
        value = getattr(core, name)
        if isinstance(value, type) and value.__module__.startswith(FOREIGN):
            found.append(f"{name} is {value.__module__}.{value.__qualname__}")
        found += [f"{where}: {f}" for where, hint in _exposed(name) for f in _foreign(hint)]
    for method in USE_CASES:
        hints = _hints(getattr(core.Agent, method))
        found += [f"Agent.{method}({part}): {f}" for part, hint in hints.items()
                  for f in _foreign(hint)]
    assert not found, "\n".join(found)


# The UI asks the core through the façade's methods: the agent's flows (and the catalogue) are
# the core's business, never called from a screen. The parts a screen still reaches are listed
# here: the list only shrinks (issue 15, left: the configuration's settings).
FLOWS = {"vouchers", "topups", "money", "suv", "catalogue", "cashups", "outbox", "forwarder",
         "switch", "lock", "journal", "store", "slips", "recovery"}
UI_PARTS_LEFT = {"config"}
ROOT = Path(__file__).resolve().parents[1]


def _agent_parts_used(package: str) -> dict[str, list[str]]:
    """``agent.<part>`` (on any ``agent`` or ``….agent``) in ``terminal_agent/<package>`` that
    is not one of the façade's methods, with where."""
    used: dict[str, list[str]] = {}
    for path in sorted((ROOT / "terminal_agent" / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute):
                continue
            base = node.value
            owner = base.id if isinstance(base, ast.Name) else getattr(base, "attr", None)
            if owner == "agent" and not inspect.isroutine(getattr(core.Agent, node.attr, None)):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                used.setdefault(node.attr, []).append(where)
    return used


def test_the_ui_calls_no_flow_only_the_facades_methods():
    used = _agent_parts_used("ui")
    assert not {p: w for p, w in used.items() if p in FLOWS}
    assert set(used) <= UI_PARTS_LEFT, {p: w for p, w in used.items() if p not in UI_PARTS_LEFT}
