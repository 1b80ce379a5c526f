"""`terminal-agent certify`: every flow once, end to end, against the configured switch.

Against the simulator (it answers ``GET /_sim/health``) the failure scenarios of the seeds run
too, each provoked through the simulator's fault injection or its deterministic rules: decline,
timeout → reversal, unknown → status lookups, reversal answered 404, confirmation answered 404,
switch down then back. Prints scenario / expected / observed; exit status 0 only if all match.

Certification transactions are journaled in their own database beside the till's
(``certify.db``), forwarded by this command itself, and recovered on the next run if it is
interrupted: nothing is lost, and the till's own history stays clean.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec

from terminal_agent import config as config_mod
from terminal_agent.config import AgentConfig
from terminal_agent.core import AdviceKind, Agent, Offer, Person, Provider, State, create_database
from terminal_agent.errors import AgentError
from terminal_agent.sim.control import SimControl

CASHIER = "certify"
RECEIVER = Provider(id="30000001", name="Mukuru Money Transfer")
SENDER = Person(first_name="Thandiwe", last_name="Nkosi", id_number="9001015009087",
                phone="27821234567")
RECIPIENT = Person(first_name="Tendai", last_name="Moyo", phone="27841234567")


@dataclass
class Row:
    scenario: str
    expected: str
    observed: str = "not run"

    @property
    def passed(self) -> bool:
        return self.observed == self.expected


@dataclass
class Run:
    agent: Agent
    sim: SimControl | None
    rows: list[Row] = field(default_factory=list)
    memo: dict[str, Any] = field(default_factory=dict)

    async def fault(self, **spec: Any) -> None:
        assert self.sim is not None
        await self.sim.fault(**spec)

    async def clear(self) -> None:
        if self.sim is not None:
            await self.sim.clear()

    async def settle(self, txn_id: str, timeout: float = 20.0) -> State:
        """Forward until the transaction is final (or the timeout)."""
        end = time.monotonic() + timeout
        while not await self.agent.settled(txn_id) and time.monotonic() <= end:
            if not await self.agent.forward_once():
                await asyncio.sleep(0.05)
        return (await self.agent.transaction(txn_id)).state

    async def advice_status(self, txn_id: str, kind: AdviceKind) -> int | None:
        rows = await self.agent.advices(txn_id, kind)
        return rows[-1].last_status if rows else None


Step = Callable[[Run], Awaitable[str]]


async def _voucher_product(run: Run) -> Offer:
    if "voucher" not in run.memo:
        offers = await run.agent.offers()
        run.memo["voucher"] = next((o for o in offers if not o.direct_topup),
                                   Offer("VOD10", "VOD10", None, False))
        run.memo["topup"] = next((o for o in offers if o.direct_topup),
                                 Offer("VODDT", "VODDT", None, True))
    product: Offer = run.memo["voucher"]
    return product


def _value(product: Offer) -> int:
    return product.face_value or 1000


async def voucher_sale(run: Run) -> str:
    product = await _voucher_product(run)
    result = await run.agent.sell_voucher(product, _value(product), CASHIER)
    if not result.approved:
        return f"{result.verdict}: {result.error_type}"
    await run.agent.tender(result.txn_id, CASHIER)
    return str(await run.settle(result.txn_id))


async def voucher_declined(run: Run) -> str:
    result = await run.agent.sell_voucher("OUTOFSTOCK", 1000, CASHIER)
    pending = await run.agent.owed()
    return f"{result.state} {result.error_type}, {pending} advices"


async def voucher_timeout(run: Run) -> str:
    await run.fault(op="VOUCHER_PROVISION", type="hang", when="after", times=1, hang_ms=5000)
    product = await _voucher_product(run)
    result = await run.agent.sell_voucher(product, _value(product), CASHIER)
    state = await run.settle(result.txn_id)
    return f"{result.verdict} → {state}"


async def reversal_404(run: Run) -> str:
    await run.fault(op="VOUCHER_PROVISION", type="status", status=504, when="before", times=1)
    product = await _voucher_product(run)
    result = await run.agent.sell_voucher(product, _value(product), CASHIER)
    state = await run.settle(result.txn_id)
    return f"{state}, reversal answered {await run.advice_status(result.txn_id, AdviceKind.REVERSAL)}"


async def tender_cancelled(run: Run) -> str:
    product = await _voucher_product(run)
    result = await run.agent.sell_voucher(product, _value(product), CASHIER)
    if not result.approved:
        return result.verdict
    await run.agent.cancel(result.txn_id, CASHIER)
    return str(await run.settle(result.txn_id))


async def confirmation_404(run: Run) -> str:
    await run.fault(op="VOUCHER_CONFIRM", type="decline", status=404,
                    error_type="UNABLE_TO_LOCATE_RECORD", times=1)
    return await voucher_sale(run)


async def switch_down_then_back(run: Run) -> str:
    await run.fault(op="VOUCHER_CONFIRM", type="reset", times=3)
    product = await _voucher_product(run)
    result = await run.agent.sell_voucher(product, _value(product), CASHIER)
    await run.agent.tender(result.txn_id, CASHIER)
    state = await run.settle(result.txn_id)
    rows = await run.agent.advices(result.txn_id, AdviceKind.CONFIRMATION)
    return f"{state} after {rows[-1].attempts} attempts" if rows else str(state)


async def topup(run: Run, msisdn: str = "0821234567") -> str:
    await _voucher_product(run)
    result = await run.agent.top_up(run.memo["topup"], msisdn, 2900, CASHIER)
    if result.state == State.STATUS_PENDING:
        state = await run.settle(result.txn_id)
        lookups = await run.agent.advices(result.txn_id, AdviceKind.STATUS)
        return f"STATUS_PENDING → {state} after {lookups[-1].attempts} lookups"
    return f"{result.state} {result.error_type or ''}".strip()


async def topup_unknown(run: Run) -> str:
    return await topup(run, "0821230404")


async def topup_declined(run: Run) -> str:
    return await topup(run, "27000000000")


async def send_money(run: Run) -> str:
    result = await run.agent.send_money(10000, 1000, SENDER, RECIPIENT, CASHIER,
                                        provider=RECEIVER)
    if not result.approved:
        return f"{result.verdict}: {result.error_type}"
    await run.agent.tender(result.txn_id, CASHIER)
    state = await run.settle(result.txn_id)
    run.memo["order"] = result.data.get("order_redeem_ref")
    return str(state)


async def send_money_timeout(run: Run) -> str:
    await run.fault(op="MT_ORDER_CREATE", type="hang", when="after", times=1, hang_ms=5000)
    first = await run.agent.send_money(10000, 1000, SENDER, RECIPIENT, CASHIER,
                                       provider=RECEIVER)
    original = await run.settle(first.txn_id)
    retry = await run.agent.retry_order(first.txn_id, CASHIER)
    if retry.approved:
        await run.agent.tender(retry.txn_id, CASHIER)
    again = await run.settle(retry.txn_id)
    new_id = "new id" if retry.txn_id != first.txn_id else "same id"
    return f"{original}, retry ({new_id}) {again}"


async def pay_out(run: Run) -> str:
    ref = run.memo.get("order")
    if not ref:
        return "no order to pay out"
    result = await run.agent.pay_out(ref, 10000, CASHIER, provider=RECEIVER)
    if not result.approved:
        return f"{result.verdict}: {result.error_type}"
    await run.agent.tender(result.txn_id, CASHIER)
    return str(await run.settle(result.txn_id))


async def redeem_voucher(run: Run, code: str = "DV5000") -> str:
    result = await run.agent.redeem_voucher(code, 2000, CASHIER)
    if result.state == State.APPROVED:
        await run.agent.tender(result.txn_id, CASHIER)
    return str(await run.settle(result.txn_id))


async def redeem_timeout(run: Run) -> str:
    await run.fault(op="SUV_REDEEM", type="hang", when="after", times=1, hang_ms=5000)
    return await redeem_voucher(run, "DV3000")


async def fee_quote(run: Run) -> str:
    answer = await run.agent.fee_quote(RECEIVER, 10000)
    return answer.verdict


SCENARIOS: list[tuple[str, str, Step, bool]] = [
    # (scenario, expected, step, needs the simulator)
    ("voucher sale → tender → confirmation", "CONFIRMED", voucher_sale, False),
    ("voucher sale declined (out of stock)", "DECLINED OUT_OF_STOCK, 0 advices",
     voucher_declined, True),
    ("voucher sale timeout → reversal", "unknown → REVERSED", voucher_timeout, True),
    ("reversal answered 404 (original never arrived)", "REVERSED, reversal answered 404",
     reversal_404, True),
    ("tender cancelled → reversal CANCELLED", "REVERSED", tender_cancelled, False),
    ("confirmation answered 404", "CONFIRM_FAILED", confirmation_404, True),
    ("switch down then back (3 resets)", "CONFIRMED after 4 attempts", switch_down_then_back, True),
    ("direct top-up", "COMPLETED", topup, False),
    ("direct top-up unknown → status lookups", "STATUS_PENDING → COMPLETED after 2 lookups",
     topup_unknown, True),
    ("direct top-up declined → refund due", "REFUND_DUE INVALID_MSISDN", topup_declined, True),
    ("money transfer fee quote", "approved", fee_quote, False),
    ("send money → cash → confirmation", "CONFIRMED", send_money, False),
    ("send money timeout → reversal → retry as new order", "REVERSED, retry (new id) CONFIRMED",
     send_money_timeout, True),
    ("pay out → cash → confirmation", "CONFIRMED", pay_out, False),
    ("digital voucher redemption (dual messaging)", "CONFIRMED", redeem_voucher, False),
    ("digital voucher redemption timeout → reversal", "REVERSED", redeem_timeout, True),
]


def certify_config(cfg: AgentConfig, simulator: bool) -> AgentConfig:
    store = msgspec.structs.replace(cfg.store,
                                    path=str(Path(cfg.store.path).with_name("certify.db")))
    forwarder = msgspec.structs.replace(cfg.forwarder, backoff_initial=0.05, backoff_max=1.0,
                                        status_first_delay=0.1)
    switch = cfg.switch
    if simulator:  # hang scenarios need a short timeout; a real switch keeps its own
        switch = msgspec.structs.replace(cfg.switch, read_timeout=1.0)
    return msgspec.structs.replace(cfg, store=store, forwarder=forwarder, switch=switch)


async def certify(cfg: AgentConfig, *, password: str | None = None) -> list[Row]:
    secret = cfg.switch_password() if password is None else password
    async with SimControl(cfg.switch.base_url, cfg.switch.username, secret) as probe:
        simulator = cfg.switch.base_url.startswith("http://") and await probe.is_simulator()
        return await _scenarios(cfg, password, probe if simulator else None)


async def _scenarios(cfg: AgentConfig, password: str | None,
                     sim: SimControl | None) -> list[Row]:
    simulator = sim is not None
    run_cfg = certify_config(cfg, simulator)
    if not Path(run_cfg.store.path).exists():  # certify's own scratch database, made on purpose
        create_database(run_cfg.store.path, cfg.terminal.terminal_id)
    async with Agent.open(run_cfg, password=password, migrate=True,
                          role="certify") as agent:
        if not agent.lock.acquire():
            raise AgentError(f"another certify run is using {run_cfg.store.path}")
        try:
            agent.money.resend_pause = agent.money.payouts.resend_pause = 0.05
            await agent.recover()
            run = Run(agent, sim)
            for name, expected, step, needs_sim in SCENARIOS:
                row = Row(name, expected)
                run.rows.append(row)
                if needs_sim and not simulator:
                    row.observed = row.expected = "skipped (needs the simulator)"
                    continue
                try:
                    row.observed = await step(run)
                except (AgentError, httpx.HTTPError) as exc:
                    row.observed = f"error: {exc}"
                finally:
                    await run.clear()
            return run.rows
        finally:
            agent.lock.release()


def render(rows: list[Row]) -> str:
    widths = [max(len(r.scenario) for r in rows), max(len(r.expected) for r in rows),
              max(len(r.observed) for r in rows)]
    head = ("scenario".ljust(widths[0]), "expected".ljust(widths[1]),
            "observed".ljust(widths[2]), "result")
    lines = ["  ".join(head), "  ".join("-" * w for w in [*widths, 6])]
    for r in rows:
        lines.append("  ".join([r.scenario.ljust(widths[0]), r.expected.ljust(widths[1]),
                                r.observed.ljust(widths[2]), "ok" if r.passed else "FAIL"]))
    failed = sum(not r.passed for r in rows)
    lines.append(f"{len(rows) - failed} of {len(rows)} scenarios as expected")
    return "\n".join(lines)


def run_certify(args: argparse.Namespace) -> int:
    from terminal_agent.logs import setup_logging
    from terminal_agent.security import check_agent_security

    cfg = config_mod.load(args.config)
    check_agent_security(cfg)
    setup_logging(msgspec.structs.replace(cfg.logging, level="WARNING"), process="certify")
    rows = asyncio.run(certify(cfg))
    print(render(rows))
    return 0 if all(r.passed for r in rows) else 1


