"""The simulator's control endpoints (``/_sim/health``, ``/_sim/faults``) from the client side:
what `terminal-agent certify` uses to provoke the seeds' failure scenarios. Never the switch's
API: the agent speaks to the switch through ``switch.SwitchClient`` only."""

from __future__ import annotations

from typing import Any

import httpx


class SimControl:
    """``async with SimControl(base_url, username, password) as sim``: ``await sim.is_simulator()``,
    ``await sim.fault(**spec)``, ``await sim.clear()``."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=5.0, trust_env=False,
                                       auth=httpx.BasicAuth(username, password))

    async def __aenter__(self) -> SimControl:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def is_simulator(self) -> bool:
        """True when the switch at ``base_url`` is this simulator (it answers its health)."""
        try:
            return (await self._http.get("/_sim/health")).status_code == 200
        except httpx.HTTPError:
            return False

    async def fault(self, **spec: Any) -> None:
        (await self._http.post("/_sim/faults", json=spec)).raise_for_status()

    async def clear(self) -> None:
        await self._http.delete("/_sim/faults")
