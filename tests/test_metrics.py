"""Prometheus metrics: every metric present in the textfile and on /metrics, parsed by
prometheus_client's own parser; nothing secret or personal in any of it; a real `forward`
process writes the file atomically and serves the endpoint on loopback."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devices.status import PrinterStatus
from terminal_agent.core.agent import Agent
from terminal_agent.core.metrics import TillMetrics, attach, listen_address
from terminal_agent.core.printing import record_printer_status
from terminal_agent.core.store import create_database
from terminal_agent.errors import ConfigError
from terminal_agent.protocol.airtime import Product
from terminal_agent.protocol.operations import Op

from .conftest import make_config
from .mockswitch import MockSwitch, error

PRODUCT = Product(product_id="VODA10", name="Vodacom R10")
TOPUP = Product(product_id="MTNDT", name="MTN top-up", is_direct_topup=True)
PASSWORD = "s3cr3t-Pa55word"
MSISDN = "0821234567"

EVERY_METRIC = {
    "terminal_agent_info", "terminal_agent_outbox_advices",
    "terminal_agent_outbox_oldest_pending_age_seconds", "terminal_agent_transactions",
    "terminal_agent_money_owed", "terminal_agent_money_owed_amount",
    "terminal_agent_printer_status", "terminal_agent_printer_status_timestamp_seconds",
    "terminal_agent_print_jobs_waiting", "terminal_agent_forwarder_heartbeat_timestamp_seconds",
    "terminal_agent_forwarder_watchdog_seconds",
    "terminal_agent_switch_last_answer_timestamp_seconds", "terminal_agent_database_size_bytes",
    "terminal_agent_switch_requests", "terminal_agent_switch_request_seconds",
    "terminal_agent_forwarder_answers",
}
# label values must come from these small sets (or the till's identity)
ALLOWED_LABELS = {"terminal", "store", "version", "state", "kind", "operation", "outcome",
                  "decision", "currency", "status", "le", "process"}


def parse(text: str) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    out: dict[str, list[tuple[str, dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        out[family.name] = [(s.name, s.labels, s.value) for s in family.samples]
    return out


def samples(families, name, **labels):
    return [v for _, lab, v in families[name] if all(lab.get(k) == x for k, x in labels.items())]


async def drain(agent: Agent) -> None:
    for _ in range(100):
        await agent.forwarder.run_once()
        if (await agent.outbox.counts()).pending == 0:
            return
        await __import__("asyncio").sleep(0.02)


async def test_every_metric_present_and_nothing_secret(tmp_path):
    switch = MockSwitch()
    prom = tmp_path / "textfile" / "terminal_agent.prom"
    prom.parent.mkdir()
    cfg = make_config(tmp_path, extra=f'[metrics]\ntextfile = "{prom}"\n')
    async with Agent.open(cfg, password=PASSWORD, transport=switch.transport()) as agent:
        metrics = attach(cfg, agent, watchdog_usec=90_000_000)
        # a confirmed sale, a confirmation the switch refuses (parked, money owed), an
        # approved sale not tendered, a refund due, a reversal still pending
        switch.answer(Op.VOUCHER_CONFIRM, (202, {}), (404, error("UNABLE_TO_LOCATE_RECORD")))
        pins = []
        for _ in range(2):
            sale = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
            pins.append(sale.data["pin"])
            await agent.vouchers.tender(sale.txn_id, "c1")
            await drain(agent)
        await agent.vouchers.sell(PRODUCT, 1500, cashier="c1")
        switch.answer(Op.PURCHASE, (400, error("INVALID_MSISDN")))
        await agent.topups.purchase(TOPUP, MSISDN, 2900, cashier="c1")
        switch.answer(Op.VOUCHER_PROVISION, (504, b""))
        switch.answer(Op.VOUCHER_REVERSE, (503, b"busy"), (503, b"busy"))
        await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
        await agent.forwarder.run_once()
        await record_printer_status(agent.store, PrinterStatus.PAPER_OUT)
        await agent.store.step(lambda db: db.execute(
            "INSERT INTO print_jobs (reference, kind, content, text, columns, created_at)"
            " VALUES ('R1', 'voucher_sale', x'00', 'PIN 1', 48, 0)"))
        agent.forwarder.beat()
        # the sales' own steps queued their receipts and drawer kicks too (core/slips.py)
        waiting = len(await agent.store.fetchall("SELECT id FROM print_jobs WHERE state='pending'"))
        await metrics.refresh(agent.store, slow=True)
        metrics.write_textfile(prom)
        refs = [t["reference"] for t in await agent.store.fetchall("SELECT reference FROM transactions")]
        ids = [t["id"] for t in await agent.store.fetchall("SELECT id FROM transactions")]

    text = prom.read_text()
    families = parse(text)
    assert EVERY_METRIC <= set(families), EVERY_METRIC - set(families)
    assert oct(prom.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in prom.parent.iterdir()] == ["terminal_agent.prom"]  # no temp left

    # the figures say what happened
    assert samples(families, "terminal_agent_info", terminal="TILL0001", version="0.1.0") == [1]
    assert samples(families, "terminal_agent_outbox_advices", state="parked",
                   kind="confirmation", operation=str(Op.VOUCHER_CONFIRM)) == [1]
    assert samples(families, "terminal_agent_outbox_advices", state="delivered",
                   kind="confirmation") == [1]
    assert samples(families, "terminal_agent_outbox_advices", state="pending",
                   kind="reversal") == [1]
    assert samples(families, "terminal_agent_outbox_oldest_pending_age_seconds")[0] >= 0
    assert samples(families, "terminal_agent_money_owed", decision="approved_not_tendered") == [1]
    assert samples(families, "terminal_agent_money_owed_amount",
                   decision="approved_not_tendered", currency="710") == [1500]
    assert samples(families, "terminal_agent_money_owed", decision="refund_due") == [1]
    assert samples(families, "terminal_agent_money_owed", decision="confirm_failed") == [1]
    assert samples(families, "terminal_agent_transactions", kind="voucher_sale",
                   state="CONFIRMED") == [1]
    assert samples(families, "terminal_agent_printer_status", status="paper_out") == [1]
    assert samples(families, "terminal_agent_printer_status", status="online") == [0]
    assert samples(families, "terminal_agent_print_jobs_waiting") == [waiting] and waiting > 1
    assert samples(families, "terminal_agent_forwarder_watchdog_seconds") == [90]
    assert abs(samples(families, "terminal_agent_forwarder_heartbeat_timestamp_seconds")[0]
               - time.time()) < 60
    assert samples(families, "terminal_agent_switch_last_answer_timestamp_seconds")[0] > 0
    assert samples(families, "terminal_agent_database_size_bytes")[0] > 4096
    assert samples(families, "terminal_agent_switch_requests", operation=str(Op.VOUCHER_REVERSE),
                   outcome="503") == [1]
    assert samples(families, "terminal_agent_forwarder_answers", kind="confirmation",
                   outcome="parked") == [1]
    assert samples(families, "terminal_agent_forwarder_answers", kind="reversal",
                   outcome="retry") == [1]
    count = [v for n, lab, v in families["terminal_agent_switch_request_seconds"]
             if n.endswith("_count") and lab["operation"] == str(Op.VOUCHER_PROVISION)]
    assert count == [4]
    assert "terminal_agent_backup_age_seconds" not in families  # no backup ever made

    # nothing secret or personal: no password, PIN, phone number, reference or message id
    for needle in [PASSWORD, MSISDN, MSISDN[-4:] + '"', *pins, *refs, *ids]:
        assert needle not in text, needle
    for family in families.values():
        for _, labels, _ in family:
            assert set(labels) <= ALLOWED_LABELS, labels
            for value in labels.values():
                assert not re.search(r"\d{6,}", value) or value == "000000000000001", value


async def test_backup_age_appears_once_a_backup_is_recorded(tmp_path):
    cfg = make_config(tmp_path, extra='[metrics]\nlisten = "9"\n')
    async with Agent.open(cfg, password="") as agent:
        metrics = TillMetrics(cfg, clock=lambda: 1_000_000.0)
        await agent.store.step(lambda db: db.execute(
            "INSERT INTO kv (key, value) VALUES ('backup.last_at', '999400')"))
        await metrics.refresh(agent.store, slow=False)
    families = parse(metrics.exposition().decode())
    assert samples(families, "terminal_agent_backup_age_seconds") == [600]


def test_listen_defaults_to_loopback_and_bad_values_are_refused(tmp_path):
    assert listen_address("9464") == ("127.0.0.1", 9464)
    assert listen_address(":9464") == ("127.0.0.1", 9464)
    assert listen_address("0.0.0.0:9100") == ("0.0.0.0", 9100)
    assert listen_address("[::1]:9100") == ("::1", 9100)
    for bad, key in [('listen = "localhost"', "metrics.listen"), ("interval = 0", "metrics.interval"),
                     ('store = "a b"', "metrics.store")]:
        with pytest.raises(ConfigError, match=re.escape(key)):
            make_config(tmp_path, extra=f"[metrics]\n{bad}\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_forward_process_writes_the_textfile_and_serves_loopback(tmp_path, sim):
    prom = tmp_path / "terminal_agent.prom"
    port = _free_port()
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[switch]\nbase_url = "{sim.url}"\n[store]\npath = "{tmp_path / "a.db"}"\n'
                   f'[forwarder]\npoll_interval = 0.05\n[logging]\ntarget = "stderr"\n'
                   f'[metrics]\ntextfile = "{prom}"\nlisten = "{port}"\ninterval = 0.2\n')
    cfg.chmod(0o600)
    create_database(tmp_path / "a.db", "TILL0001")
    err = (tmp_path / "forward.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "terminal_agent.cli", "forward", "--config",
                             str(cfg)], stdout=err, stderr=err)
    try:
        deadline = time.monotonic() + 60
        while not prom.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert prom.exists(), (tmp_path / "forward.log").read_text()
        families = parse(prom.read_text())
        beat = samples(families, "terminal_agent_forwarder_heartbeat_timestamp_seconds")[0]
        assert abs(beat - time.time()) < 30
        served = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert served.status_code == 200
        assert {"terminal_agent_info", "terminal_agent_outbox_advices"} <= set(parse(served.text))
        # refreshed: the file is replaced every interval
        first = prom.stat().st_mtime_ns
        deadline = time.monotonic() + 30
        while prom.stat().st_mtime_ns == first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert prom.stat().st_mtime_ns != first
    finally:
        proc.terminate()
        assert proc.wait(timeout=60) == 0
        err.close()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert os.stat(prom).st_size > 0


async def wait_for_file(prom, wanted, timeout: float = 60.0):
    """The textfile's families once ``wanted(families)`` holds (it is rewritten every
    interval); the last ones seen otherwise."""
    import asyncio

    families: dict = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if prom.exists():
            families = parse(prom.read_text())
            if wanted(families):
                break
        await asyncio.sleep(0.05)
    return families


def ui_sales(families) -> list[float]:
    return samples(families, "terminal_agent_switch_requests", process="ui",
                   operation=str(Op.VOUCHER_PROVISION)) if families.get(
        "terminal_agent_switch_requests") else []


async def test_a_ui_that_forwards_writes_the_metrics_with_its_own_sales(tmp_path):
    """The service is down: the UI's runtime forwards, so it writes the metrics too (the file
    goes stale otherwise, and the fleet's alert on its age fires for a till that works)."""
    from terminal_agent.core.runtime import Duty, Role, Runtime

    switch = MockSwitch()
    prom = tmp_path / "terminal_agent.prom"
    cfg = make_config(tmp_path, extra=f'[metrics]\ntextfile = "{prom}"\ninterval = 0.1\n')
    async with Agent.open(cfg, password="", transport=switch.transport(), role="ui") as agent:
        async with Runtime(agent, Role.UI) as runtime:
            assert runtime.duty == Duty.FORWARDING
            sale = await agent.vouchers.sell(PRODUCT, 1000, cashier="c1")
            await agent.vouchers.tender(sale.txn_id, "c1")
            families = await wait_for_file(prom, lambda f: ui_sales(f) == [1] and samples(
                f, "terminal_agent_forwarder_answers", process="ui", kind="confirmation",
                outcome="delivered") == [1])
    assert ui_sales(families) == [1], families.get("terminal_agent_switch_requests")
    beat = samples(families, "terminal_agent_forwarder_heartbeat_timestamp_seconds")[0]
    assert abs(beat - time.time()) < 60


def test_the_forwarding_process_counts_the_sales_the_ui_sent(tmp_path, sim):
    """The service forwards and writes the metrics; the cashier's sale went from the UI
    process: its request and latency reach the file through the database (process="ui")."""
    import asyncio

    from terminal_agent.core.runtime import Duty, Role, Runtime

    prom = tmp_path / "terminal_agent.prom"
    extra = f'[metrics]\ntextfile = "{prom}"\ninterval = 0.2\n'
    cfg = make_config(tmp_path, sim.url, extra=extra)
    config = tmp_path / "config.toml"
    config.write_text(f'[switch]\nbase_url = "{sim.url}"\n[store]\npath = "{cfg.store.path}"\n'
                      f'[forwarder]\npoll_interval = 0.05\n[logging]\ntarget = "stderr"\n{extra}')
    config.chmod(0o600)
    log = (tmp_path / "forward.log").open("wb")
    service = subprocess.Popen([sys.executable, "-m", "terminal_agent.cli", "forward",
                                "--config", str(config)], stdout=log, stderr=log)

    async def till() -> dict:
        assert await wait_for_file(prom, lambda f: bool(f)), (tmp_path / "forward.log").read_text()
        async with Agent.open(cfg, password="", role="ui") as agent:
            async with Runtime(agent, Role.UI) as runtime:
                assert runtime.duty == Duty.STANDBY  # the service forwards
                sale = await agent.vouchers.sell(Product(product_id="VOD10"), 1000, "1001")
                await agent.vouchers.tender(sale.txn_id, "1001")
                return await wait_for_file(prom, lambda f: ui_sales(f) == [1])

    try:
        families = asyncio.run(till())
    finally:
        service.terminate()
        assert service.wait(timeout=60) == 0
        log.close()
    assert ui_sales(families) == [1], families.get("terminal_agent_switch_requests")
    count = [v for n, lab, v in families["terminal_agent_switch_request_seconds"]
             if n.endswith("_count") and lab["process"] == "ui"
             and lab["operation"] == str(Op.VOUCHER_PROVISION)]
    assert count == [1]
