"""Cashier accounts: scrypt PINs, lockout, supervisor overrides and the audit trail, on real SQLite."""

from __future__ import annotations

import argparse
import io
import sqlite3

import pytest

from terminal_agent.config import UiConfig
from terminal_agent.core.cashiers import CashierError, Cashiers, Role, run_cashier
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
    await cashiers.add("1001", "1234", name="Thandi")
    row = sqlite3.connect(tmp_path / "agent.db").execute(
        "SELECT pin_hash FROM cashiers WHERE id='1001'").fetchone()
    assert row[0].startswith("scrypt$") and "1234" not in row[0]


async def test_login_right_and_wrong(accounts):
    cashiers, _ = accounts
    await cashiers.add("1001", "1234", name="Thandi")
    ok = await cashiers.login("1001", "1234")
    assert ok.ok and ok.cashier is not None and ok.cashier.role == Role.CASHIER
    bad = await cashiers.login("1001", "9999")
    assert not bad.ok and "2 tries left" in bad.message
    unknown = await cashiers.login("7777", "1234")
    assert not unknown.ok and unknown.message.startswith("Wrong cashier number or PIN.")


async def test_lockout_after_repeated_wrong_pins_then_expiry(accounts):
    cashiers, clock = accounts
    await cashiers.add("1001", "1234")
    for _ in range(3):
        result = await cashiers.login("1001", "0000")
    assert "locked for 5 minutes" in result.message
    still = await cashiers.login("1001", "1234")
    assert not still.ok and "locked" in still.message
    clock.now += 301
    assert (await cashiers.login("1001", "1234")).ok


async def test_disabled_account_cannot_log_in(accounts):
    cashiers, _ = accounts
    await cashiers.add("1001", "1234")
    await cashiers.disable("1001")
    result = await cashiers.login("1001", "1234")
    assert not result.ok and "disabled" in result.message
    with pytest.raises(CashierError):
        await cashiers.disable("nobody")


async def test_supervisor_override_is_audited(accounts, caplog):
    cashiers, _ = accounts
    caplog.set_level("INFO")
    await cashiers.add("1001", "1234")
    await cashiers.add("9001", "9999", role="supervisor")
    refused = await cashiers.authorise("1001", "1234", action="reprint", subject="AB12CD34",
                                       on_behalf_of="1001")
    assert not refused.ok and "not a supervisor" in refused.message
    ok = await cashiers.authorise("9001", "9999", action="reprint", subject="AB12CD34",
                                  on_behalf_of="1001")
    assert ok.ok
    log = await cashiers.audit_log()
    assert [e.action for e in log][:2] == ["override", "override-refused"]
    assert log[0].actor == "9001" and log[0].subject == "AB12CD34"
    assert "reprint" in (log[0].note or "")
    # the same trail reaches the journal as AUDIT=1 records, PINs nowhere
    audited = [r for r in caplog.records if getattr(r, "journal_fields", {}).get("AUDIT") == 1]
    assert {(r.journal_fields["ACTOR"], r.operation) for r in audited} >= {("9001", "override")}
    assert "9999" not in caplog.text


async def test_add_refuses_duplicates_and_bad_values(accounts):
    cashiers, _ = accounts
    await cashiers.add("1001", "1234")
    with pytest.raises(CashierError):
        await cashiers.add("1001", "5678")
    with pytest.raises(ValidationError):
        await cashiers.add("1002", "12")
    with pytest.raises(ValidationError):
        await cashiers.add("bad id!", "1234")
    await cashiers.add("1001", "5678", replace=True)
    assert (await cashiers.login("1001", "5678")).ok


def test_cli_add_disable_list(tmp_path, monkeypatch, capsys):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\npath = "{tmp_path / "agent.db"}"\n')
    cfg.chmod(0o600)
    create_database(tmp_path / "agent.db", "TILL0001")

    def run(action: str, **kw: object) -> str:
        args = argparse.Namespace(config=str(cfg), action=action, **kw)
        assert run_cashier(args) == 0
        return capsys.readouterr().out

    monkeypatch.setattr("sys.stdin", io.StringIO("4321\n"))
    out = run("add", cashier_id="2002", name="Lerato", role="supervisor", pin_stdin=True)
    assert "added supervisor Lerato (2002)" in out
    assert "4321" not in out
    assert "2002" in run("list") and "supervisor" in run("list")
    assert "disabled" in run("disable", cashier_id="2002")
    assert "disabled" in run("list")
