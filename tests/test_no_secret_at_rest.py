"""The proof of issue 13's first item: after a full `certify` against the simulator and
money-transfer flows carrying PIN blocks and ID numbers, plus voucher sales printed and
reprinted, nothing on disk but the paper holds a PIN block, an ID number or a voucher PIN in
clear: not the databases, not their WAL files, not the print jobs, not the logs (at DEBUG).

The secrets looked for are taken from what we did not write: every voucher PIN the simulator
issued (its own state file), every PIN block and ID number we sent (our inputs)."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

from terminal_agent.commands.certify import certify
from terminal_agent.config import LoggingConfig
from terminal_agent.core.agent import Agent
from terminal_agent.logs import setup_logging
from terminal_agent.protocol.airtime import Product
from terminal_agent.protocol.common import EncryptedPin, Institution
from terminal_agent.protocol.moneytransfer import PersonalDetails
from terminal_agent.sim import SimOptions, SimServer
from terminal_agent.ui.desk import CoreDesk

from .conftest import make_config

MUKURU = Institution(id="30000001", name="Mukuru Money Transfer")
SETTLEMENT = Institution(id="60000001", name="Electrum Sim Settlement")
PIN_BLOCKS = ["0123456789ABCDEF", "FEDCBA9876543210", "13579BDF02468ACE"]
ID_NUMBERS = ["9001015009087", "8505055800083"]
SENDER = PersonalDetails(first_name="Thandiwe", last_name="Nkosi", id_number=ID_NUMBERS[0],
                         id_type="NATIONAL_ID", id_country_code="ZA", contact_number="27821234567")
RECIPIENT = PersonalDetails(first_name="Tendai", last_name="Moyo", id_number=ID_NUMBERS[1],
                            id_type="NATIONAL_ID", id_country_code="ZA",
                            contact_number="27841234567")


def issued_voucher_pins(sim_db: Path) -> set[str]:
    """Every voucher PIN in the simulator's stored answers (its own record, not ours)."""
    pins: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "pin" and isinstance(value, str) and len(value) >= 8:
                    pins.add(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for (response,) in sqlite3.connect(sim_db).execute(
            "SELECT response FROM originals WHERE response IS NOT NULL"):
        walk(json.loads(response))
    return pins


def written_forms(secret: str) -> set[str]:
    """The secret as it may be written: whole, or in groups of 3 or 4 (slips, screens)."""
    forms = {secret}
    for size in (3, 4):
        groups = [secret[i:i + size] for i in range(0, len(secret), size)]
        forms |= {" ".join(groups), "-".join(groups)}
    return forms


def on_disk(folder: Path, *, skip: Path) -> dict[Path, bytes]:
    """Every file under ``folder`` except the simulator's own and the paper (``skip``)."""
    return {p: p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and skip not in p.parents and not p.name.startswith("sim.db")}


async def till_work(cfg, sim_url: str) -> dict[str, bytes]:
    """The till's own work; returns the database files as they lie on disk while it is still
    open (the WAL is removed when the last connection closes)."""
    async with Agent.open(cfg, password="") as agent:
        agent.money.resend_pause = agent.money.payouts.resend_pause = 0.0
        desk = CoreDesk.open(cfg, agent)
        try:
            for product, amount in (("VOD29", 2900), ("MTN10", 1000)):
                sold = await agent.vouchers.sell(Product(product_id=product), amount, "1001")
                paid = await agent.vouchers.tender(sold.txn_id, "1001")
                assert (await desk.print_result(paid, "1001")).printed
                await desk.reprint(paid.reference, "1001", "9001")
            await agent.money.customer_info(MUKURU, ID_NUMBERS[0])
            order = await agent.money.create_order(
                20000, 1500, SENDER, RECIPIENT, "1001", receiver=MUKURU,
                settlement_entity=SETTLEMENT, pin=EncryptedPin(pin_block=PIN_BLOCKS[0]))
            assert order.approved
            await agent.money.tender(order.txn_id, "1001")
            await agent.forwarder.run_once()              # confirmed: now redeemable
            ref = str(order.data["order_redeem_ref"])
            wrong = await agent.money.redeem(ref, 20000, "1001", receiver=MUKURU,
                                             pin=EncryptedPin(pin_block=PIN_BLOCKS[1]))
            assert wrong.error_type == "INCORRECT_PIN", wrong.message
            payout = await agent.money.redeem(ref, 20000, "1001", receiver=MUKURU,
                                              pin=EncryptedPin(pin_block=PIN_BLOCKS[0]))
            assert payout.approved, payout.message
            await agent.money.paid_out(payout.txn_id, "1001")
            await agent.forwarder.run_once()
            db = Path(cfg.store.path)
            return {f"open:{p.name}": p.read_bytes() for p in db.parent.glob(db.name + "*")
                    if p.is_file()}
        finally:
            await desk.aclose()


async def test_no_pin_block_id_number_or_voucher_pin_in_clear_after_certify_and_transfers(
        tmp_path):
    log_file = tmp_path / "till.log"
    handler = setup_logging(LoggingConfig(level="DEBUG", target=str(log_file)), "test")
    paper = tmp_path / "receipts"
    try:
        with SimServer(SimOptions(state_path=tmp_path / "sim.db")) as sim:
            cfg = _with_preview(make_config(tmp_path, sim.url, read_timeout=1.0), paper)
            rows = await certify(cfg, password="")
            assert all(r.passed for r in rows), [r for r in rows if not r.passed]
            while_open = await till_work(cfg, sim.url)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    pins = issued_voucher_pins(tmp_path / "sim.db")
    assert len(pins) >= 4, pins                       # certify's sales and ours
    secrets = {form for s in (*pins, *PIN_BLOCKS[:2], *ID_NUMBERS) for form in written_forms(s)}
    files = {**on_disk(tmp_path, skip=paper), **{Path(k): v for k, v in while_open.items()}}
    assert len(files[Path("open:agent.db-wal")]) > 0          # the WAL, scanned as it was
    assert any(p.name == "agent.db" for p in files) and any(p.name == "certify.db" for p in files)
    assert log_file in files and len(files[log_file]) > 10_000   # DEBUG: a lot was said
    found = {(p.name, s) for p, data in files.items() for s in secrets if s.encode() in data}
    print(f"proof: {len(pins)} voucher PINs issued, {len(PIN_BLOCKS[:2])} PIN blocks and "
          f"{len(ID_NUMBERS)} ID numbers sent; {len(files)} files, "
          f"{sum(map(len, files.values()))} bytes scanned (log {len(files[log_file])} bytes); "
          f"found in clear: {len(found)}; {sorted(p.name for p in files)}")
    assert found == set()
    printed = [p.read_text() for p in paper.glob("*.txt")]
    shown = {form for pin in pins for form in written_forms(pin)}
    assert sum(any(form in text for form in shown) for text in printed) >= 4  # the paper has them


def _with_preview(cfg, folder: Path):
    import msgspec

    return msgspec.structs.replace(cfg, printer=msgspec.structs.replace(
        cfg.printer, url=f"preview://{folder}", columns=42))
