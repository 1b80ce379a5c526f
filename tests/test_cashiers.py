"""Cashier accounts: scrypt PINs, lockout, supervisor overrides and the audit trail, on real SQLite."""

from __future__ import annotations

import argparse
import io
import sqlite3

import pytest

from terminal_agent import security
from terminal_agent.commands.cashier import run_cashier
from terminal_agent.config import UiConfig
from terminal_agent.core.audit import cli_operator
from terminal_agent.core.cashiers import (
    WRONG,
    CashierError,
    Cashiers,
    Role,
    check_pin,
    weak_pin_reason,
)
from terminal_agent.core.store import Store, create_database
from terminal_agent.errors import ValidationError


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def accounts(tmp_path):
    store = await Store.create(tmp_path / "agent.db", "TILL0001")
    clock = Clock()
    yield Cashiers(store, UiConfig(max_pin_failures=3, lockout_seconds=300), clock), clock
    await store.close()


async def test_pin_is_stored_as_scrypt_hash_only(accounts, tmp_path):
    cashiers, _ = accounts
    await cashiers.add("1001", "5284", name="Thandi")
    row = sqlite3.connect(tmp_path / "agent.db").execute(
        "SELECT pin_hash FROM cashiers WHERE id='1001'").fetchone()
    assert row[0].startswith("scrypt$") and "5284" not in row[0]


async def test_login_right_and_wrong(accounts):
    cashiers, _ = accounts
    await cashiers.add("1001", "5284", name="Thandi")
    ok = await cashiers.login("1001", "5284")
    assert ok.ok and ok.cashier is not None and ok.cashier.role == Role.CASHIER
    bad = await cashiers.login("1001", "7391")
    assert not bad.ok and bad.message == WRONG
    unknown = await cashiers.login("7777", "5284")
    assert not unknown.ok and unknown.message == WRONG


async def test_lockout_after_repeated_wrong_pins_then_expiry(accounts):
    cashiers, clock = accounts
    await cashiers.add("1001", "5284")
    for _ in range(3):
        result = await cashiers.login("1001", "7391")
    assert "locked for 5 minutes" in result.message
    still = await cashiers.login("1001", "5284")
    assert not still.ok and "locked" in still.message
    clock.now += 301
    assert (await cashiers.login("1001", "5284")).ok


async def test_disabled_account_cannot_log_in(accounts):
    cashiers, _ = accounts
    await cashiers.add("1001", "5284")
    await cashiers.disable("1001", actor="cli:alice")
    result = await cashiers.login("1001", "5284")
    assert not result.ok and result.message == WRONG
    with pytest.raises(CashierError):
        await cashiers.disable("nobody", actor="cli:alice")


# -- finding: "PINs 0000/1234 are accepted" -----------------------------------------------------


@pytest.mark.parametrize("pin", ["0000", "1111", "1234", "4321", "2468", "8901", "9876", "1212",
                                 "123123", "1122", "1001", "1984", "2580", "012345678901"])
async def test_trivial_pins_are_refused(accounts, pin):
    cashiers, _ = accounts
    with pytest.raises(ValidationError, match="too easy to guess"):
        await cashiers.add("1001", pin)
    assert await cashiers.find("1001") is None


@pytest.mark.parametrize("pin", ["5284", "7391", "40917", "738204"])
def test_ordinary_pins_pass(pin):
    assert weak_pin_reason(pin, "1001") is None
    assert check_pin(pin, "1001") == pin


def test_own_number_is_refused_for_that_cashier_only():
    assert weak_pin_reason("4711", "4711") == "the cashier's own number"
    assert weak_pin_reason("1174", "4711") == "the cashier's own number"
    assert weak_pin_reason("4711", "5001") is None


# -- finding: "a disabled account answers in 1 ms and an unknown one in 36 ms" ------------------


async def test_unknown_wrong_disabled_and_locked_cost_one_full_check_and_say_the_same(
        accounts, monkeypatch):
    """The same work on every path: exactly one scrypt at today's cost (timing is not asserted:
    the work is counted). And the same words for unknown, wrong and disabled."""
    cashiers, _ = accounts
    await cashiers.add("1001", "5284")
    await cashiers.add("1002", "7391")
    await cashiers.disable("1002", actor="cli:alice")
    calls: list[tuple[int, int, int]] = []
    real = security._scrypt

    def counted(pin, salt, n, r, p, length):
        calls.append((n, r, p))
        return real(pin, salt, n, r, p, length)

    monkeypatch.setattr(security, "_scrypt", counted)
    today = (security.SCRYPT.n, security.SCRYPT.r, security.SCRYPT.p)
    answers = {}
    for case, (who, pin) in {"unknown": ("7777", "5284"), "wrong": ("1001", "7391"),
                             "disabled": ("1002", "7391")}.items():
        calls.clear()
        answers[case] = (await cashiers.login(who, pin)).message
        assert calls == [today], case
    assert set(answers.values()) == {WRONG}
    for _ in range(3):
        await cashiers.login("1001", "7391")
    calls.clear()
    assert "locked" in (await cashiers.login("1001", "5284")).message
    assert calls == [today]


@pytest.mark.real_scrypt
def test_new_hashes_use_the_cost_owasp_recommends():
    assert security.OWASP_SCRYPT == security.ScryptCost(n=2**17, r=8, p=1)
    assert security.SCRYPT == security.OWASP_SCRYPT
    stored = security.hash_pin("5284")
    assert stored.startswith("scrypt$131072$8$1$") and security.verify_pin("5284", stored)


@pytest.mark.real_scrypt
async def test_a_hash_made_at_the_old_cost_still_logs_in_and_is_upgraded(accounts, tmp_path,
                                                                         monkeypatch):
    cashiers, _ = accounts
    monkeypatch.setattr(security, "SCRYPT", security.ScryptCost(n=2**14, r=8, p=1))
    await cashiers.add("1001", "5284")
    monkeypatch.setattr(security, "SCRYPT", security.OWASP_SCRYPT)
    db = sqlite3.connect(tmp_path / "agent.db")
    assert db.execute("SELECT pin_hash FROM cashiers").fetchone()[0].startswith("scrypt$16384$")
    assert (await cashiers.login("1001", "5284")).ok
    upgraded = db.execute("SELECT pin_hash FROM cashiers").fetchone()[0]
    assert upgraded.startswith("scrypt$131072$8$1$")
    assert (await cashiers.login("1001", "5284")).ok
    assert "PIN hash upgraded" in ((await cashiers.audit_log())[1].note or "")


async def test_supervisor_override_is_audited(accounts, caplog):
    cashiers, _ = accounts
    caplog.set_level("INFO")
    await cashiers.add("1001", "5284")
    await cashiers.add("9001", "7391", role="supervisor")
    refused = await cashiers.authorise("1001", "5284", action="reprint", subject="AB12CD34",
                                       on_behalf_of="1001")
    assert not refused.ok and "not a supervisor" in refused.message
    ok = await cashiers.authorise("9001", "7391", action="reprint", subject="AB12CD34",
                                  on_behalf_of="1001")
    assert ok.ok
    log = await cashiers.audit_log()
    assert [e.action for e in log][:2] == ["override", "override-refused"]
    assert log[0].actor == "9001" and log[0].subject == "AB12CD34"
    assert "reprint" in (log[0].note or "")
    # the same trail reaches the journal as AUDIT=1 records, PINs nowhere
    audited = [r for r in caplog.records if str(getattr(r, "journal_fields", {}).get("AUDIT")) == "1"]
    assert {(r.journal_fields["ACTOR"], r.operation) for r in audited} >= {("9001", "override")}
    assert "7391" not in caplog.text


async def test_every_login_failure_is_audited(accounts):
    cashiers, _ = accounts
    await cashiers.add("1001", "5284")
    await cashiers.login("1001", "7391")
    await cashiers.login("7777", "7391")
    notes = [(e.actor, e.action, e.note) for e in await cashiers.audit_log()][:2]
    assert notes == [("7777", "login-failed", "unknown id"), ("1001", "login-failed", "wrong PIN")]


async def test_add_refuses_duplicates_and_bad_values(accounts):
    cashiers, _ = accounts
    await cashiers.add("1001", "5284")
    with pytest.raises(CashierError, match="--replace"):
        await cashiers.add("1001", "7391")
    with pytest.raises(ValidationError):
        await cashiers.add("1002", "12")
    with pytest.raises(ValidationError):
        await cashiers.add("bad id!", "5284")
    await cashiers.add("1001", "7391", replace=True, actor="cli:alice")
    assert (await cashiers.login("1001", "7391")).ok


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\npath = "{tmp_path / "agent.db"}"\n[logging]\ntarget = "stderr"\n')
    cfg.chmod(0o600)
    create_database(tmp_path / "agent.db", "TILL0001")
    monkeypatch.setattr("terminal_agent.commands.cashier.cli_operator", lambda: "cli:alice as root")

    def run(action: str, stdin: str = "", expect: int = 0, **kw: object) -> str:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        args = argparse.Namespace(config=str(cfg), action=action, **kw)
        assert main_exit(lambda: run_cashier(args)) == expect
        return capsys.readouterr().out

    return run


def main_exit(call) -> int:
    from terminal_agent.errors import AgentError

    try:
        return call()
    except AgentError:
        return 2


def audit_rows(tmp_path) -> list[tuple[str, str, str | None]]:
    db = sqlite3.connect(tmp_path / "agent.db")
    return db.execute("SELECT actor, action, subject FROM audit ORDER BY id").fetchall()


def test_cli_add_disable_list(cli, tmp_path):
    out = cli("add", "4937\n", cashier_id="2002", name="Lerato", role="supervisor",
              pin_stdin=True, replace=False)
    assert "added supervisor Lerato (2002)" in out
    assert "4937" not in out
    assert "2002" in cli("list") and "supervisor" in cli("list")
    assert "disabled" in cli("disable", cashier_id="2002")
    assert "disabled" in cli("list")
    assert audit_rows(tmp_path) == [
        ("cli:alice as root", "cashier-added", "2002"), ("cli:alice as root", "cashier-list", None),
        ("cli:alice as root", "cashier-list", None),
        ("cli:alice as root", "cashier-disabled", "2002"),
        ("cli:alice as root", "cashier-list", None)]


def test_cli_add_on_an_existing_id_needs_replace(cli, tmp_path):
    """Finding: `cashier add` on an existing id silently reset its PIN and role."""
    cli("add", "4937\n", cashier_id="2002", name="Lerato", role="supervisor", pin_stdin=True,
        replace=False)
    cli("add", "5284\n", expect=2, cashier_id="2002", name="", role="cashier", pin_stdin=True,
        replace=False)
    db = sqlite3.connect(tmp_path / "agent.db")
    assert db.execute("SELECT role, name FROM cashiers").fetchall() == [("supervisor", "Lerato")]
    out = cli("add", "5284\n", cashier_id="2002", name="", role="cashier", pin_stdin=True,
              replace=True)
    assert "updated cashier 2002" in out
    assert [a[1] for a in audit_rows(tmp_path)] == ["cashier-added", "cashier-add-refused",
                                                   "cashier-reset"]


def test_cli_refuses_a_trivial_pin(cli, tmp_path):
    cli("add", "1234\n", expect=2, cashier_id="2002", name="", role="cashier", pin_stdin=True,
        replace=False)
    assert audit_rows(tmp_path) == [("cli:alice as root", "cashier-add-refused", "2002")]


def test_cli_operator_is_the_person_behind_sudo(tmp_path):
    import os
    import pwd

    me = pwd.getpwuid(os.geteuid()).pw_name
    unset = tmp_path / "loginuid-unset"
    unset.write_text("4294967295")
    assert cli_operator({}, loginuid_path=str(unset)) == f"cli:{me}"
    sudo = cli_operator({"SUDO_USER": "alice"}, loginuid_path=str(unset))
    assert sudo == (f"cli:alice as {me}" if me != "alice" else "cli:alice")
    own = tmp_path / "loginuid"
    own.write_text(str(os.geteuid()))  # the kernel's login uid wins over the environment
    assert cli_operator({"SUDO_USER": "mallory"}, loginuid_path=str(own)) == f"cli:{me}"
