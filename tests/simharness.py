"""A till's agent next to the real simulator: fault injection, the ledger, draining."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from terminal_agent.core.agent import Agent
from terminal_agent.core.states import State


class SimHarness:
    def __init__(self, agent: Agent, url: str) -> None:
        self.agent = agent
        self.url = url

    def fault(self, **spec: Any) -> None:
        response = httpx.post(self.url + "/_sim/faults", json=spec)
        assert response.status_code < 300, response.text

    def ledger(self, txn_id: str) -> dict[str, Any]:
        data = httpx.get(self.url + "/_sim/ledger").json()
        return next(o for o in data["originals"] if o["id"] == txn_id)

    def known_to_sim(self, txn_id: str) -> bool:
        data = httpx.get(self.url + "/_sim/ledger").json()
        return any(o["id"] == txn_id for o in data["originals"])

    async def drain(self) -> None:
        for _ in range(200):
            await self.agent.forwarder.run_once()
            if (await self.agent.outbox.counts()).pending == 0:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the outbox did not drain")

    async def state(self, txn_id: str) -> State:
        return (await self.agent.journal.get(txn_id)).state
