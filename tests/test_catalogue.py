"""The product list (core/catalogue.py): issue 16, defect 1 (an unreachable switch at first load
left the till without products until restart). Against the real simulator on 127.0.0.1, started
after the till, on the port the till was configured with."""

from __future__ import annotations

import asyncio

import pytest

from terminal_agent.core.agent import Agent
from terminal_agent.core.catalogue import TOPUPS, VOUCHERS, Catalogue, fixed_amount
from terminal_agent.sim import SimServer
from terminal_agent.sim.options import SimOptions

from .conftest import free_port, make_config

FAST = """
[airtime]
products_retry_seconds = 1
products_ttl_seconds = 10
"""


async def test_unreachable_switch_at_boot_is_retried_in_the_background(tmp_path):
    port = free_port()
    cfg = make_config(tmp_path, f"http://127.0.0.1:{port}", extra=FAST, read_timeout=2.0)
    async with Agent.open(cfg, password="") as agent:
        first = await agent.catalogue.offer(VOUCHERS)
        # the defect: "The switch offers no products for this service" for ever
        assert first.products == () and first.unreachable
        assert "cannot be reached" in first.problem and "offers no products" not in first.problem
        assert first.retry_at is not None
        stop = asyncio.Event()
        keeper = asyncio.create_task(agent.catalogue.keep_fresh(stop))
        try:
            with SimServer(SimOptions(), port=port):
                for _ in range(200):  # the keeper retries every second; generous on a busy box
                    if agent.catalogue.peek(VOUCHERS).products:
                        break
                    await asyncio.sleep(0.05)
                offer = agent.catalogue.peek(VOUCHERS)
                assert offer.products and not offer.problem and not offer.unreachable
                assert agent.catalogue.peek(TOPUPS).products
                assert all(p.direct_topup for p in agent.catalogue.peek(TOPUPS).products)
        finally:
            stop.set()
            await keeper


async def test_stale_list_is_kept_while_the_switch_is_down_and_reload_asks_again(tmp_path):
    port = free_port()
    cfg = make_config(tmp_path, f"http://127.0.0.1:{port}", extra=FAST, read_timeout=2.0)
    async with Agent.open(cfg, password="") as agent:
        with SimServer(SimOptions(), port=port):
            loaded = await agent.catalogue.offer(VOUCHERS)
        assert loaded.products
        again = await agent.catalogue.offer(VOUCHERS, refresh=True)   # the reload key, switch down
        assert again.products == loaded.products                       # stale beats empty
        assert again.unreachable and "loaded earlier" in again.problem


async def test_empty_answer_says_nothing_offered_and_search_finds_by_words():
    class Ctx:  # an approved empty list is an answer, not a failure
        class config:  # noqa: N801
            class airtime:  # noqa: N801
                products_ttl_seconds, products_retry_seconds = 60.0, 5.0

            class terminal:  # noqa: N801
                channel_name = "x"

        class switch:  # noqa: N801
            @staticmethod
            async def exchange(*_, **__):
                from terminal_agent.protocol.outcome import Outcome, Verdict
                from terminal_agent.switch.client import Exchange
                return Exchange(Outcome(Verdict.APPROVED, 200, [], None, None, "ok"))

    catalogue = Catalogue(Ctx())
    offer = await catalogue.offer(VOUCHERS)
    assert offer.products == () and "offers no products" in offer.problem


@pytest.fixture(scope="module")
def sim_products():
    with SimServer(SimOptions()) as sim:
        yield sim


async def test_search_by_words_and_fixed_amounts(tmp_path, sim_products):
    cfg = make_config(tmp_path, sim_products.url)
    async with Agent.open(cfg, password="") as agent:
        offer = await agent.catalogue.offer(VOUCHERS)
        found = offer.matching("voda 29")
        assert [p.name for p in found] == ["Vodacom R29 Airtime"]
        assert fixed_amount(found[0]) == 2900
        assert offer.matching("") == offer.products
        assert offer.matching("no such thing") == ()
