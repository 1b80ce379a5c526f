"""The switch's product list (``GET /products``), kept fresh for the till.

Rules:
1. A list the switch gave is kept for ``[airtime] products_ttl_seconds``; after that it is asked
   for again, and the old list is still offered while the switch does not answer (stale beats
   empty at a counter).
2. A failure is never kept: a till that boots before its network is up retries in the
   background (``keep_fresh``) every ``[airtime] products_retry_seconds`` until the switch
   answers, and the cashier reads why the list is empty ("the switch cannot be reached"), not
   that nothing is offered.
3. The cashier may ask again at once (``offer(..., refresh=True)``: the screen's reload key).
4. What a product costs the customer, and finding one by name or number, are answered here
   (``fixed_amount``, ``ProductOffer.matching``), not in a screen.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from terminal_agent.core.flows.airtime import normalise_msisdn
from terminal_agent.protocol.airtime import MsisdnInfoResponse, Product
from terminal_agent.protocol.common import Institution
from terminal_agent.protocol.operations import Op
from terminal_agent.protocol.outcome import SWITCH_UNREACHABLE, Outcome, Verdict

log = logging.getLogger("terminal_agent.catalogue")

VOUCHERS = "voucher"
TOPUPS = "topup"


@dataclass(frozen=True)
class Offer:
    """A product the switch offers, as the till's own plain value (the screens and the commands
    never see the protocol's ``Product``): ``name`` as the cashier reads it (the id where the
    switch gives none), ``face_value`` in minor units (None: the cashier types the amount),
    ``network`` the operator's name ("" where the switch names none)."""

    product_id: str
    name: str
    face_value: int | None
    direct_topup: bool
    network: str = ""


def fixed_amount(offer: Offer) -> int | None:
    """The product's one face value (minor units), or None when the cashier types the amount."""
    return offer.face_value


def _face_value(product: Product) -> int | None:
    values = product.product_values or []
    return int(values[0].amount) if len(values) == 1 and values[0].amount else None


def network_of(product: Product) -> str:
    return getattr(product.operator, "name", "") or "" if product.operator else ""


def offer_of(product: Product) -> Offer:
    """The switch's product as the till's plain value."""
    return Offer(product.product_id, product.name or product.product_id, _face_value(product),
                 bool(product.is_direct_topup), network_of(product))


@dataclass(frozen=True)
class ProductOffer:
    """The products of one service as the till knows them now, and why the list may be empty
    or old (``problem``: one sentence; ``unreachable``: the switch could not be reached)."""

    products: tuple[Offer, ...] = ()
    problem: str = ""
    unreachable: bool = False
    loaded_at: float | None = None     # when the switch gave this list (None: never)
    retry_at: float | None = None      # next try in the background, if one is due

    def matching(self, text: str) -> tuple[Offer, ...]:
        """Products whose name, id or network contains every word of ``text`` (any case)."""
        words = text.lower().split()
        if not words:
            return self.products
        return tuple(p for p in self.products
                     if all(w in _haystack(p) for w in words))

    def for_network(self, network: str) -> ProductOffer:
        if not network:
            return self
        mine = tuple(p for p in self.products if p.network == network)
        return ProductOffer(mine or self.products, self.problem, self.unreachable,
                            self.loaded_at, self.retry_at)


def _haystack(offer: Offer) -> str:
    return " ".join(filter(None, [offer.name, offer.product_id, offer.network])).lower()


@dataclass
class _Cache:
    products: tuple[Product, ...] = ()
    loaded_at: float | None = None
    failed_at: float | None = None
    problem: str = ""
    unreachable: bool = False
    failures: int = 0


class Catalogue:
    """Products from the switch, cached with expiry and retried in the background (rules 1-3)."""

    def __init__(self, ctx: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self.ctx = ctx
        self.clock = clock
        self._cache = _Cache()
        self._loading: asyncio.Future[None] | None = None

    @property
    def _ttl(self) -> float:
        return float(self.ctx.config.airtime.products_ttl_seconds)

    @property
    def _retry(self) -> float:
        return float(self.ctx.config.airtime.products_retry_seconds)

    # -- what the screens ask -------------------------------------------------------------------

    async def offer(self, service: str, *, refresh: bool = False) -> ProductOffer:
        """The products of ``service`` (``VOUCHERS`` or ``TOPUPS``), loading them if the list is
        missing, expired or ``refresh`` is asked."""
        if refresh or self._due():
            await self._load()
        return self.peek(service)

    def peek(self, service: str) -> ProductOffer:
        """What the till has now, without asking the switch."""
        c = self._cache
        wanted = tuple(offer_of(p) for p in c.products
                       if bool(p.is_direct_topup) == (service == TOPUPS))
        problem = c.problem
        if not problem and c.loaded_at is not None and not wanted:
            problem = "The switch offers no products for this service right now."
        retry_at = (c.failed_at + self._retry) if c.failed_at is not None else None
        return ProductOffer(wanted, problem, c.unreachable, c.loaded_at, retry_at)

    async def products(self, refresh: bool = False) -> list[Product]:
        """Every product (both services), for the commands and the demo's scripted sale."""
        if refresh or self._due():
            await self._load()
        return list(self._cache.products)

    def product(self, offer: Offer | str) -> Product:
        """The switch's product behind ``offer`` (or its id) as the list last gave it; a product
        no longer listed (or never loaded) is sold by what the offer says of it."""
        product_id = offer if isinstance(offer, str) else offer.product_id
        for product in self._cache.products:
            if product.product_id == product_id:
                return product
        if isinstance(offer, str):
            return Product(product_id=offer)
        return Product(product_id=offer.product_id, name=offer.name,
                       is_direct_topup=offer.direct_topup,
                       operator=Institution(id="", name=offer.network) if offer.network else None)

    async def network_of(self, msisdn: str) -> str:
        """The mobile network of ``msisdn`` as the switch names it ("" when it does not say)."""
        info = await self.msisdn_info(msisdn)
        operator = getattr(getattr(info, "msisdn", None), "operator", None) if info else None
        return getattr(operator, "name", "") or ""

    async def msisdn_info(self, msisdn: str) -> MsisdnInfoResponse | None:
        number = normalise_msisdn(msisdn)
        outcome = (await self.ctx.switch.exchange(Op.MSISDN_LOOKUP,
                                                  query={"msisdn": number})).outcome
        if outcome.verdict == Verdict.APPROVED and isinstance(outcome.message,
                                                              MsisdnInfoResponse):
            return outcome.message
        return None

    # -- the background keeper (rule 2) --------------------------------------------------------

    async def keep_fresh(self, stop: asyncio.Event) -> None:
        """Load the list at start and whenever it expires; after a failure, try again every
        ``products_retry_seconds`` until the switch answers. Ends when ``stop`` is set."""
        while not stop.is_set():
            if self._due():
                await self._load()
            wait = min(self._next_due() - self.clock(), self._ttl)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(0.05, wait))

    def _due(self) -> bool:
        return self.clock() >= self._next_due()

    def _next_due(self) -> float:
        c = self._cache
        if c.failed_at is not None:
            return c.failed_at + self._retry
        if c.loaded_at is None:
            return float("-inf")
        return c.loaded_at + self._ttl

    async def _load(self) -> None:
        """One request to the switch at a time; callers arriving meanwhile share its answer."""
        if self._loading is None or self._loading.done():
            self._loading = asyncio.ensure_future(self._fetch())
        await asyncio.shield(self._loading)

    async def _fetch(self) -> None:
        outcome = (await self.ctx.switch.exchange(
            Op.LIST_PRODUCTS, query={"channelName": self.ctx.config.terminal.channel_name})).outcome
        c = self._cache
        if outcome.verdict == Verdict.APPROVED and isinstance(outcome.message, list):
            c.products = tuple(p for p in outcome.message if isinstance(p, Product))
            c.loaded_at, c.failed_at, c.failures = self.clock(), None, 0
            c.problem, c.unreachable = "", False
            return
        c.failed_at, c.failures = self.clock(), c.failures + 1
        c.unreachable = not outcome.sent or outcome.error_type == SWITCH_UNREACHABLE
        c.problem = _why(outcome, had_list=bool(c.products), retry=self._retry)
        log.warning("product list not loaded (%s); trying again in %g s", outcome.reason,
                    self._retry, extra={"operation": Op.LIST_PRODUCTS.value,
                                        "outcome": "retry"})


def _why(outcome: Outcome, *, had_list: bool, retry: float) -> str:
    again = f"The till tries again every {retry:g} s."
    if not outcome.sent or outcome.error_type == SWITCH_UNREACHABLE:
        cause = "The switch cannot be reached (network or switch down)."
    elif outcome.status is None:
        cause = "The switch did not answer in time."
    else:
        cause = f"The switch could not give its product list (answer {outcome.status})."
    if had_list:
        return f"{cause} Showing the list loaded earlier. {again}"
    return f"{cause} No products to show yet. {again}"


__all__ = ["TOPUPS", "VOUCHERS", "Catalogue", "Offer", "ProductOffer", "fixed_amount",
           "network_of", "offer_of"]
