"""Voucher PINs, PIN blocks and ID numbers at rest (finding: "kept in clear, for ever, in
transactions.request/response, print_jobs and preview files; nothing deletes them"). Real flows
against the real simulator, real SQLite files read back as bytes, the till key on disk."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest

from terminal_agent import config as config_mod
from terminal_agent.core import retention
from terminal_agent.core.agent import Agent
from terminal_agent.core.audit import AuditTrail
from terminal_agent.core.states import State
from terminal_agent.core.store import create_database
from terminal_agent.core.vault import (
    REDACTED,
    Vault,
    VaultError,
    key_path,
    new_key_text,
    redact,
    restore,
)
from terminal_agent.errors import ValidationError
from terminal_agent.protocol.airtime import Product
from terminal_agent.protocol.common import EncryptedPin, Institution
from terminal_agent.protocol.moneytransfer import PersonalDetails

from .conftest import make_config

MUKURU = Institution(id="30000001", name="Mukuru Money Transfer")
SETTLEMENT = Institution(id="60000001", name="Electrum Sim Settlement")
PIN_BLOCK = "0123456789ABCDEF"
SENDER_ID = "9001015009087"
SENDER = PersonalDetails(first_name="Thandiwe", last_name="Nkosi", id_number=SENDER_ID,
                         id_type="NATIONAL_ID", id_country_code="ZA", contact_number="27821234567")
RECIPIENT = PersonalDetails(first_name="Tendai", last_name="Moyo", contact_number="27841234567")


def database_bytes(path: Path) -> bytes:
    """The database and its WAL as they lie on disk."""
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


# -- what is kept of a message --------------------------------------------------------------------


def test_redact_drops_pin_blocks_and_takes_out_what_is_sealed():
    body = json.dumps({"id": "x", "pin": {"pinBlock": PIN_BLOCK, "format": "ISO_0"},
                       "sender": {"idNumber": SENDER_ID, "firstName": "T"},
                       "voucher": {"pin": "7319046682215509", "serialNumber": "S1"}}).encode()
    stored, found = redact(body)
    assert PIN_BLOCK.encode() not in stored and SENDER_ID.encode() not in stored
    assert b"7319046682215509" not in stored and b'"serialNumber":"S1"' in stored
    assert found == {"/sender/idNumber": SENDER_ID, "/voucher/pin": "7319046682215509"}
    back = json.loads(restore(stored, found))
    assert back["sender"]["idNumber"] == SENDER_ID and back["voucher"]["pin"] == "7319046682215509"
    assert back["pin"]["pinBlock"] == REDACTED  # never restored: it was never kept


def test_a_sealed_value_opens_only_with_its_key_and_in_its_row():
    vault = Vault(bytes(32))
    blob = vault.seal(b"7319046682215509", "txn:a")
    assert b"7319046682215509" not in blob and vault.open(blob, "txn:a") == b"7319046682215509"
    with pytest.raises(VaultError):
        vault.open(blob, "txn:b")
    with pytest.raises(VaultError):
        Vault(bytes([1]) * 32).open(blob, "txn:a")


# -- the till key ---------------------------------------------------------------------------------


async def test_the_key_is_made_0600_beside_the_database_and_checked_at_every_start(tmp_path, sim):
    cfg = make_config(tmp_path, sim.url)
    async with Agent.open(cfg, password=""):
        pass
    key = key_path(cfg.store.path)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    key.write_text(new_key_text() + "\n")  # another key: the sealed data would not open
    with pytest.raises(VaultError, match="not the one this database was sealed with"):
        async with Agent.open(cfg, password=""):
            pass
    key.unlink()                             # lost: never silently replaced by a new one
    with pytest.raises(VaultError, match="is missing"):
        async with Agent.open(cfg, password=""):
            pass
    assert not key.exists()


async def test_the_key_from_a_systemd_credential(tmp_path, sim, monkeypatch):
    creds = tmp_path / "creds"
    creds.mkdir(mode=0o700)
    (creds / "till-key").write_text(new_key_text())
    (creds / "till-key").chmod(0o600)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    cfg = config_mod.loads(f'[store]\npath = "{tmp_path / "agent.db"}"\nkey_credential = "till-key"\n'
                           f'[switch]\nbase_url = "{sim.url}"\n', str(tmp_path / "config.toml"))
    create_database(cfg.store.path, cfg.terminal.terminal_id)
    async with Agent.open(cfg, password=""):
        pass
    assert not key_path(cfg.store.path).exists()  # the credential, no file


# -- flows ---------------------------------------------------------------------------------------


async def test_a_voucher_pin_is_sealed_in_the_journal_and_back_for_the_till(tmp_path, sim):
    cfg = make_config(tmp_path, sim.url)
    async with Agent.open(cfg, password="") as agent:
        sold = await agent.vouchers.sell(Product(product_id="VOD29"), 2900, "1001")
        pin = str(sold.data["pin"])
        assert len(pin) >= 10
        await agent.vouchers.tender(sold.txn_id, "1001")
        txn = await agent.journal.get(sold.txn_id)
        assert pin in (txn.response or b"").decode()          # the till still has it ...
    raw = sqlite3.connect(cfg.store.path).execute(
        "SELECT response, sealed FROM transactions").fetchone()
    assert pin.encode() not in raw[0] and raw[1]             # ... the database only sealed
    assert pin.encode() not in database_bytes(Path(cfg.store.path))


async def test_pin_block_never_stored_id_number_sealed_and_a_retry_asks_for_the_pin(tmp_path, sim):
    cfg = make_config(tmp_path, sim.url, read_timeout=0.5)
    sim.reset()
    async with Agent.open(cfg, password="") as agent:
        agent.money.resend_pause = 0.0
        sim.add_faults({"op": "MT_ORDER_CREATE", "type": "hang", "when": "after", "times": 1})
        first = await agent.money.create_order(
            20000, 1500, SENDER, RECIPIENT, "alice", receiver=MUKURU,
            settlement_entity=SETTLEMENT, pin=EncryptedPin(pin_block=PIN_BLOCK))
        assert first.state == State.REVERSING
        stored = await agent.journal.get(first.txn_id)
        sent = json.loads(stored.request)
        assert sent["senderDetails"]["idNumber"] == SENDER_ID     # back for a retry
        with pytest.raises(ValidationError, match="enter it again"):
            await agent.money.retry_order(first.txn_id, "alice")
        again = await agent.money.retry_order(first.txn_id, "alice",
                                              pin=EncryptedPin(pin_block="FEDCBA9876543210"))
        assert again.approved
    on_disk = database_bytes(Path(cfg.store.path))
    for secret in (PIN_BLOCK, "FEDCBA9876543210", SENDER_ID):
        assert secret.encode() not in on_disk, secret


async def voucher_pin(agent: Agent, txn_id: str) -> str:
    response = (await agent.journal.get(txn_id)).response or b"{}"
    return str(json.loads(response)["voucher"]["pin"])


# -- retention ------------------------------------------------------------------------------------


async def test_retention_drops_secrets_then_rows_and_keeps_open_business(tmp_path, sim):
    cfg = make_config(tmp_path, sim.url)
    async with Agent.open(cfg, password="") as agent:
        done = await agent.vouchers.sell(Product(product_id="VOD29"), 2900, "1001")
        await agent.vouchers.tender(done.txn_id, "1001")
        waiting = await agent.vouchers.sell(Product(product_id="VOD10"), 1000, "1001")
        await AuditTrail(agent.store).record("9001", "override", "X", None)
        now = agent.clock()
        rules = cfg.retention
        kept = await retention.enforce(agent.store, rules, now)
        assert not kept.anything                               # nothing old enough yet
        later = now + rules.reprint_hours * 3600 + 60
        purged = await retention.enforce(agent.store, rules, later)
        assert purged.secrets == 1                             # the tendered sale only
        assert await voucher_pin(agent, done.txn_id) == REDACTED  # gone for good
        assert await voucher_pin(agent, waiting.txn_id) == waiting.data["pin"]  # still needed
        years = now + 2 * 365 * 86400
        gone = await retention.enforce(agent.store, rules, years)
        assert gone.transactions == 0                          # confirmation not delivered yet
        assert gone.audit == 2            # the override and the first retention pass
        await agent.forwarder.run_once()
        gone = await retention.enforce(agent.store, rules, years)
        assert gone.transactions == 1
        left = [t.id for t in await agent.journal.history(limit=10)]
        assert left == [waiting.txn_id]                        # the open decision stays
        report = await AuditTrail(agent.store).verify()
        assert report.intact, report.describe()                # the cut is anchored
        pragma = await agent.store.fetchone("PRAGMA secure_delete")
        assert pragma is not None and pragma[0] == 1


async def test_preview_receipts_are_owner_only(tmp_path):
    from devices.printers import PreviewPrinter

    printer = PreviewPrinter(tmp_path / "receipts", 42)
    await printer.write(b"VOUCHER PIN 7319 0466 8221 5509\n", label="AB12CD34")
    assert stat.S_IMODE((tmp_path / "receipts").stat().st_mode) == 0o700
    made = list((tmp_path / "receipts").iterdir())
    assert made and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in made)


async def test_a_pin_receipt_is_sealed_in_print_jobs_and_gone_after_the_window(tmp_path, sim):
    from devices.printers import DummyPrinter
    from terminal_agent.core.printing import PrintQueue, ReceiptDropped

    cfg = make_config(tmp_path, sim.url)
    pin = "7319046682215509"
    async with Agent.open(cfg, password="") as agent:
        queue = PrintQueue(agent.store, DummyPrinter("dummy://", 42))
        job = await queue.submit(None, "AB12CD34", "voucher_sale",
                                 f"PIN {pin}\n".encode(), f"PIN {pin}", contains_pin=True)
        assert pin in (await queue.job(job)).text               # the printer gets it ...
        copy = await queue.reprint("AB12CD34", "9001")
        assert pin.encode() in (await queue.job(copy)).content
        rows = sqlite3.connect(cfg.store.path).execute(
            "SELECT content, text FROM print_jobs").fetchall()
        assert rows and all(pin.encode() not in bytes(c) + bytes(t, "utf-8")
                            if isinstance(t, str) else pin.encode() not in bytes(c) + t
                            for c, t in rows)                   # ... the table only sealed
        later = agent.clock() + cfg.retention.reprint_hours * 3600 + 60
        assert (await retention.enforce(agent.store, cfg.retention, later)).receipts == 2
        with pytest.raises(ReceiptDropped, match="reprint window"):
            await queue.reprint("AB12CD34", "9001")


async def test_no_code_path_can_store_a_pin_receipt_in_clear(tmp_path, sim):
    """The net under every writer of print_jobs (the tender step's too): refused by SQLite."""
    from terminal_agent.errors import StoreError

    cfg = make_config(tmp_path, sim.url)
    async with Agent.open(cfg, password="") as agent:
        with pytest.raises(StoreError, match="must be sealed"):
            await agent.store.step(lambda db: db.execute(
                "INSERT INTO print_jobs (reference, kind, content, text, columns, contains_pin,"
                " created_at) VALUES ('AB12CD34', 'voucher_sale', ?, 'PIN', 42, 1, 0)",
                (b"PIN 7319 0466 8221 5509",)))
        await agent.store.step(lambda db: db.execute(
            "INSERT INTO print_jobs (reference, kind, content, text, columns, contains_pin,"
            " created_at) VALUES ('AB12CD35', 'mt_send', x'00', 'slip', 42, 0, 0)"))


async def test_the_service_reads_the_credential_and_sudo_the_same_key_from_its_file(
        tmp_path, sim, monkeypatch):
    """install.sh's set-up: key_credential for the services, key_file for admin commands."""
    key = new_key_text()
    etc, creds = tmp_path / "etc", tmp_path / "creds"
    for folder in (etc, creds):
        folder.mkdir(mode=0o700)
        (folder / "till-key").write_text(key + "\n")
        (folder / "till-key").chmod(0o600)
    cfg = config_mod.loads(
        f'[store]\npath = "{tmp_path / "agent.db"}"\nkey_credential = "till-key"\n'
        f'key_file = "{etc / "till-key"}"\n[switch]\nbase_url = "{sim.url}"\n',
        str(tmp_path / "config.toml"))
    create_database(cfg.store.path, cfg.terminal.terminal_id)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    async with Agent.open(cfg, password=""):                 # the service
        pass
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    async with Agent.open(cfg, password=""):                 # sudo terminal-agent ...
        pass
    (etc / "till-key").unlink()                              # a configured file is never made up
    with pytest.raises(VaultError, match="is missing"):
        async with Agent.open(cfg, password=""):
            pass
    assert not key_path(cfg.store.path).exists()


async def test_a_missing_cipher_library_is_said_at_start_not_at_the_first_sale(tmp_path,
                                                                               monkeypatch):
    """The vault imports ``cryptography`` at its first seal (issue 17: cold start); a till
    installed without it must refuse to start rather than fail when a PIN is first sealed
    (seen in a stale environment: a sale approved by the switch, then 'ModuleNotFoundError'
    at the cashier)."""
    from importlib.util import find_spec

    from terminal_agent.core import vault as vault_mod

    cfg = make_config(tmp_path, extra="")
    monkeypatch.setattr(vault_mod, "find_spec",
                        lambda name: None if name == "cryptography" else find_spec(name))
    with pytest.raises(vault_mod.VaultError, match="cryptography"):
        async with Agent.open(cfg, password="pw"):
            pass
