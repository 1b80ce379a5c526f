"""The write-ahead journal: one row per financial transaction, plus its timeline of events.

Every function that writes is synchronous and takes the open step (``db``, inside
``Store.step``) so a flow can put a state change, its advices and its events into one commit, in
one hand-off to the database thread. State changes go through ``states.check``; nothing else in
the agent writes the ``state`` column.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from terminal_agent.core import states
from terminal_agent.core.states import State
from terminal_agent.core.store import Db, Store
from terminal_agent.core.vault import Keeper, Vault
from terminal_agent.errors import AgentError


class Kind(StrEnum):
    VOUCHER_SALE = "voucher_sale"
    TOPUP = "topup"
    MT_SEND = "mt_send"
    MT_PAYOUT = "mt_payout"
    SUV_REDEEM = "suv_redeem"


KIND_LABELS = {
    Kind.VOUCHER_SALE: "Airtime voucher",
    Kind.TOPUP: "Direct top-up",
    Kind.MT_SEND: "Send money",
    Kind.MT_PAYOUT: "Pay out",
    Kind.SUV_REDEEM: "Voucher redemption",
}


class UnknownTransaction(AgentError):
    pass


@dataclass(frozen=True)
class Txn:
    id: str
    kind: Kind
    op: str
    state: State
    path: str
    request: bytes
    response: bytes | None
    http_status: int | None
    error_type: str | None
    amount: int
    fee: int
    currency: str
    cashier: str
    reference: str
    product: str | None
    detail: dict[str, Any]
    retry_of: str | None
    decision_deadline: float | None
    created_at: float
    updated_at: float
    owner: str | None = None   # the process that sent it (core/owners.py)

    @property
    def total(self) -> int:
        """What the customer pays (a send: the amount and its fee) or is paid, minor units."""
        return self.amount + self.fee

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Txn:
        return cls(
            id=row["id"], kind=Kind(row["kind"]), op=row["op"], state=State(row["state"]),
            path=row["path"], request=row["request"], response=row["response"],
            http_status=row["http_status"], error_type=row["error_type"], amount=row["amount"],
            fee=row["fee"], currency=row["currency"], cashier=row["cashier"],
            reference=row["reference"], product=row["product"],
            detail=json.loads(row["detail"] or "{}"), retry_of=row["retry_of"],
            decision_deadline=row["decision_deadline"], created_at=row["created_at"],
            updated_at=row["updated_at"],
            owner=row["owner"] if "owner" in row.keys() else None,  # noqa: SIM118 (sqlite3.Row)
        )


@dataclass
class NewTxn:
    id: str
    kind: Kind
    op: str
    path: str
    request: bytes
    amount: int
    currency: str
    cashier: str
    state: State = State.PREPARED
    fee: int = 0
    product: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    retry_of: str | None = None
    owner: str | None = None


@dataclass(frozen=True)
class Settlement:
    """An answer carried over to its transaction: move to ``target`` if the table allows it,
    otherwise (or with no target) just record ``note`` on the timeline as ``what``."""

    txn_id: str
    target: State | None
    note: str
    actor: str = "forwarder"
    what: str = "advice-answer"
    response: bytes | None = None
    http_status: int | None = None
    error_type: str | None = None


def short_reference(txn_id: str) -> str:
    """The reference printed on slips and typed for reprints: 8 hex characters of the id."""
    return txn_id.replace("-", "")[:8].upper()


# Told, inside the step that made it, that a transaction entered a state (``core/slips.py``:
# the sale's receipt and the drawer kick are committed with the change that calls for them).
Entered = Callable[[Db, str, Kind, State], None]


class Journal:
    """The transactions table. What it stores of a request or an answer goes through the
    ``Keeper`` (core/vault.py): PIN blocks dropped, voucher PINs and ID numbers sealed; what it
    returns has them back while they are kept."""

    def __init__(self, store: Store, clock: Any = time.time, vault: Vault | None = None, *,
                 on_entered: Entered | None = None) -> None:
        self.store = store
        self.clock = clock
        self.keeper = Keeper(vault)
        self.on_entered = on_entered

    def insert(self, db: Db, new: NewTxn) -> None:
        now = self.clock()
        request, sealed = self.keeper.keep(new.id, "request", new.request, None)
        db.execute(
            "INSERT INTO transactions (id, kind, op, state, path, request, amount, fee, currency,"
            " cashier, reference, product, detail, retry_of, owner, created_at, updated_at,"
            " sealed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (new.id, new.kind.value, new.op, new.state.value, new.path, request, new.amount,
             new.fee, new.currency, new.cashier, short_reference(new.id), new.product,
             json.dumps(new.detail), new.retry_of, new.owner, now, now, sealed),
        )
        self.event(db, new.id, "created", state=new.state, actor=new.cashier)
        self._entered(db, new.id, new.kind, new.state)

    def transition(self, db: Db, txn_id: str, new: State, *,
                         actor: str | None = None, note: str | None = None,
                         response: bytes | None = None, http_status: int | None = None,
                         error_type: str | None = None, detail: dict[str, Any] | None = None,
                         decision_deadline: float | None = None,
                         amount: int | None = None) -> State:
        """Move ``txn_id`` to ``new`` (checked against the table) and record the event.
        ``amount``: the amount the switch approved, where it differs from what was asked (it is
        what the till takes, hands over and reports from then on)."""
        row = db.execute("SELECT state, detail, sealed, kind FROM transactions WHERE id=?",
                         (txn_id,)).fetchone()
        if row is None:
            raise UnknownTransaction(f"no transaction {txn_id}")
        old = State(row[0])
        states.check(old, new)
        merged = json.loads(row[1] or "{}")
        if detail:
            merged.update(detail)
        response, sealed = self.keeper.keep(txn_id, "response", response, row[2])
        db.execute(
            "UPDATE transactions SET state=?, updated_at=?, detail=?,"
            " response=COALESCE(?, response), http_status=COALESCE(?, http_status),"
            " error_type=COALESCE(?, error_type), decision_deadline=?,"
            " amount=COALESCE(?, amount), sealed=COALESCE(?, sealed) WHERE id=?",
            (new.value, self.clock(), json.dumps(merged), response, http_status, error_type,
             decision_deadline, amount, sealed, txn_id),
        )
        self.event(db, txn_id, "state", state=new, actor=actor, note=note)
        self._entered(db, txn_id, Kind(row[3]), new)
        return old

    def settle_many(self, db: Db, items: list[Settlement]) -> None:
        """Many answers in a few statements (the forwarder's batch): one read of the current
        states, one update, one insert of events. Same rule as ``transition``: a change the
        state table does not allow is not made (it is recorded as an event instead)."""
        if not items:
            return
        ids = sorted({i.txn_id for i in items})
        marks = ",".join("?" * len(ids))
        cur = db.execute(
            f"SELECT id, state, sealed, kind FROM transactions WHERE id IN ({marks})",  # noqa: S608
            ids)
        rows = cur.fetchall()
        current = {row[0]: State(row[1]) for row in rows}
        sealed_now = {row[0]: row[2] for row in rows}
        kinds = {row[0]: Kind(row[3]) for row in rows}
        entered: list[tuple[str, State]] = []
        now = self.clock()
        updates: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        for item in items:
            old = current.get(item.txn_id)
            if item.target is not None and old is not None and states.allowed(old, item.target):
                current[item.txn_id] = item.target
                response, sealed = self.keeper.keep(item.txn_id, "response", item.response,
                                                    sealed_now.get(item.txn_id))
                sealed_now[item.txn_id] = sealed or sealed_now.get(item.txn_id)
                updates.append((item.target.value, now, response, item.http_status,
                                item.error_type, sealed, item.txn_id))
                events.append((item.txn_id, now, "state", item.target.value, item.actor, item.note))
                entered.append((item.txn_id, item.target))
            else:
                events.append((item.txn_id, now, item.what, None, item.actor, item.note))
        db.executemany(
            "UPDATE transactions SET state=?, updated_at=?, response=COALESCE(?, response),"
            " http_status=COALESCE(?, http_status), error_type=COALESCE(?, error_type),"
            " sealed=COALESCE(?, sealed) WHERE id=?", updates)
        db.executemany(
            "INSERT INTO events (txn_id, at, what, state, actor, note) VALUES (?,?,?,?,?,?)",
            events)
        for txn_id, state in entered:
            self._entered(db, txn_id, kinds[txn_id], state)

    def _entered(self, db: Db, txn_id: str, kind: Kind, state: State) -> None:
        if self.on_entered is not None:
            self.on_entered(db, txn_id, kind, state)

    def event(self, db: Db, txn_id: str, what: str, *, state: State | None = None,
              actor: str | None = None, note: str | None = None) -> None:
        db.execute(
            "INSERT INTO events (txn_id, at, what, state, actor, note) VALUES (?,?,?,?,?,?)",
            (txn_id, self.clock(), what, state.value if state else None, actor, note),
        )

    def load(self, db: Db, txn_id: str) -> Txn:
        """The transaction as this step sees it (inside ``Store.step``)."""
        row = db.execute("SELECT * FROM transactions WHERE id=?", (txn_id,)).fetchone()
        if row is None:
            raise UnknownTransaction(f"no transaction {txn_id}")
        return self._txn(row)

    def _txn(self, row: sqlite3.Row) -> Txn:
        """A row as the flows use it: the sealed values back in the messages while kept."""
        txn = Txn.from_row(row)
        if "sealed" not in row.keys() or not row["sealed"]:
            return txn
        request, response = self.keeper.restore(txn.id, txn.request, txn.response,
                                                row["sealed"])
        return replace(txn, request=request or b"", response=response)

    async def get(self, txn_id: str) -> Txn:
        row = await self.store.fetchone("SELECT * FROM transactions WHERE id=?", (txn_id,))
        if row is None:
            raise UnknownTransaction(f"no transaction {txn_id}")
        return self._txn(row)

    async def find(self, reference: str) -> Txn | None:
        ref = reference.strip()
        row = await self.store.fetchone(
            "SELECT * FROM transactions WHERE id=? OR reference=? ORDER BY created_at DESC LIMIT 1",
            (ref, ref.upper()),
        )
        return self._txn(row) if row else None

    async def in_states(self, wanted: set[State] | frozenset[State]) -> list[Txn]:
        marks = ",".join("?" * len(wanted))
        rows = await self.store.fetchall(
            f"SELECT * FROM transactions WHERE state IN ({marks}) ORDER BY created_at",  # noqa: S608
            [s.value for s in wanted],
        )
        return [self._txn(r) for r in rows]

    async def history(self, *, since: float | None = None, until: float | None = None,
                      kind: str | None = None, state: str | None = None,
                      reference: str | None = None, limit: int = 200) -> list[Txn]:
        clauses, params = ["1=1"], []
        for sql, value in [("created_at >= ?", since), ("created_at < ?", until),
                           ("kind = ?", kind), ("state = ?", state)]:
            if value is not None and value != "":
                clauses.append(sql)
                params.append(value)
        if reference:
            clauses.append("(reference LIKE ? OR id LIKE ?)")
            params += [f"%{reference.upper()}%", f"%{reference}%"]
        params.append(limit)
        rows = await self.store.fetchall(
            f"SELECT * FROM transactions WHERE {' AND '.join(clauses)}"  # noqa: S608
            " ORDER BY created_at DESC LIMIT ?", params)
        return [self._txn(r) for r in rows]

    async def timeline(self, txn_id: str) -> list[sqlite3.Row]:
        return await self.store.fetchall(
            "SELECT at, what, state, actor, note FROM events WHERE txn_id=? ORDER BY id", (txn_id,))
