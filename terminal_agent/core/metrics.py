"""Prometheus metrics of one till, for a chain that watches hundreds of them.

The process that forwards (the service, or the cashier UI while the service is down) writes
them every ``[metrics] interval`` seconds to ``[metrics] textfile`` (node_exporter's textfile
collector) and, if ``[metrics] listen`` is set, serves them on that address (loopback unless a
host is named): one of the forwarding role's background tasks (core/runtime.py).

Rules:
1. Written atomically: a temporary file in the same folder, then ``rename``; node_exporter
   never reads half a file. The file is mode 0644 (node_exporter runs as another user) and
   holds nothing secret.
2. Labels carry only names from small fixed sets (kind, state, operation, outcome, printer
   status) and the till's identity (terminal id, store = merchant id, agent version). Never a
   reference, a message id, a phone number, a PIN, an amount or a cashier.
3. What the database says is read in one read step per refresh; counting the whole journal
   (transactions by kind and state, delivered advices) happens only every ``slow_every``
   refreshes, so an idle till stays idle.
4. Counters (switch requests and their latency, forwarder answers) are each process's own
   ``RequestTally`` (core/tally.py), labelled ``process`` (service, ui): this process's from
   memory, the other one's as it left them in ``kv``. They start at zero with their process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, disable_created_metrics, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from terminal_agent import __version__
from terminal_agent.config import AgentConfig
from terminal_agent.core.printing import PRINTER_KEY
from terminal_agent.core.states import OWED_ROWS, State, sql_set
from terminal_agent.core.store import Db, Store
from terminal_agent.core.tally import KEY_PREFIX, RequestTally

log = logging.getLogger("terminal_agent.metrics")

BACKUP_KEY = "backup.last_at"  # kv: unix time of the last good backup (written by backups)
PRINTER_STATES = ("online", "paper_near_end", "cover_open", "paper_out", "offline", "unknown")
OWED = {  # decision label -> the journal state that holds it
    "approved_not_tendered": State.APPROVED,
    "refund_due": State.REFUND_DUE,
    "confirm_failed": State.CONFIRM_FAILED,
}
DEFAULT_WATCHDOG = 90.0  # the unit's WatchdogSec= when not run under systemd


@dataclass(frozen=True)
class Reading:
    """One refresh of what the database says (rule 3)."""

    outbox: list[tuple[str, str, str, int]] = field(default_factory=list)  # state, kind, op, n
    oldest_pending_at: float | None = None
    last_delivery_at: float | None = None
    transactions: list[tuple[str, str, int]] = field(default_factory=list)  # kind, state, n
    owed: dict[str, tuple[int, int]] = field(default_factory=dict)  # decision -> n, amount
    print_jobs_waiting: int = 0
    printer: dict[str, Any] | None = None
    backup_at: float | None = None
    tallies: dict[str, RequestTally] = field(default_factory=dict)  # other processes' (rule 4)


_OPEN_OUTBOX_SQL = ("SELECT state, kind, op, COUNT(*) FROM outbox"  # noqa: S608
                    f" WHERE state IN {sql_set(OWED_ROWS)} GROUP BY state, kind, op")
_DELIVERED_SQL = ("SELECT 'delivered', kind, op, COUNT(*) FROM outbox WHERE state='delivered'"
                  " GROUP BY kind, op")
_TXN_SQL = "SELECT kind, state, COUNT(*) FROM transactions GROUP BY kind, state"


def read_database(db: Db, *, slow: bool, previous: Reading, role: str = "") -> Reading:
    """Everything the metrics need from the database, in one read step (``role``: this
    process's, whose own tally is read from memory)."""
    outbox = [(r[0], r[1], r[2], int(r[3])) for r in db.execute(_OPEN_OUTBOX_SQL)]
    oldest, last = db.execute(
        "SELECT (SELECT MIN(created_at) FROM outbox WHERE state='pending'),"
        " (SELECT MAX(delivered_at) FROM outbox WHERE state='delivered')").fetchone()
    if slow:
        delivered = [(r[0], r[1], r[2], int(r[3])) for r in db.execute(_DELIVERED_SQL)]
        transactions = [(r[0], r[1], int(r[2])) for r in db.execute(_TXN_SQL)]
    else:
        delivered = [row for row in previous.outbox if row[0] == "delivered"]
        transactions = previous.transactions
    by_state = {r[0]: (int(r[1]), int(r[2] or 0)) for r in db.execute(
        "SELECT state, COUNT(*), SUM(amount) FROM transactions WHERE state IN (?, ?, ?)"
        " GROUP BY state", [s.value for s in OWED.values()])}
    waiting = db.execute("SELECT COUNT(*) FROM print_jobs WHERE state='pending'").fetchone()[0]
    kv = dict(db.execute("SELECT key, value FROM kv WHERE key IN (?, ?)",
                         (PRINTER_KEY, BACKUP_KEY)).fetchall())
    tallies = {str(key)[len(KEY_PREFIX):]: RequestTally.from_json(value) for key, value in
               db.execute("SELECT key, value FROM kv WHERE key >= ? AND key < ?",
                          (KEY_PREFIX, KEY_PREFIX[:-1] + "/"))
               if str(key) != KEY_PREFIX + role}
    return Reading(
        outbox=outbox + delivered, oldest_pending_at=oldest, last_delivery_at=last,
        transactions=transactions,
        owed={name: by_state.get(state.value, (0, 0)) for name, state in OWED.items()},
        print_jobs_waiting=int(waiting), printer=_json(kv.get(PRINTER_KEY)),
        backup_at=float(kv[BACKUP_KEY]) if kv.get(BACKUP_KEY) else None, tallies=tallies)


def _json(text: str | None) -> dict[str, Any] | None:
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class TillMetrics:
    """The registry of one till: live counters plus a collector over the latest ``Reading``."""

    def __init__(self, cfg: AgentConfig, *, clock: Callable[[], float] = time.time,
                 watchdog_seconds: float | None = None, tally: RequestTally | None = None,
                 role: str = "service") -> None:
        self.cfg = cfg
        self.tally = tally if tally is not None else RequestTally()
        self.role = role
        self.clock = clock
        self.terminal = cfg.terminal.terminal_id
        self.store_label = cfg.metrics.store or cfg.terminal.merchant_id
        self.watchdog_seconds = watchdog_seconds or DEFAULT_WATCHDOG
        self.reading = Reading()
        self.heartbeat: Callable[[], float | None] = lambda: None  # wall time of the last beat
        self.database_path: str | None = None
        disable_created_metrics()  # no *_created series: noise for a textfile
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_ReadingCollector(self))
        self.registry.register(_TallyCollector(self))

    def tallies(self) -> dict[str, RequestTally]:
        """Each process's counts by its role: this one's live, the other's from ``kv``."""
        return {**self.reading.tallies, self.role: self.tally}

    # -- output ----------------------------------------------------------------------------------

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def write_textfile(self, path: str | os.PathLike[str]) -> None:
        """Rule 1: a temporary file beside the target, then an atomic rename."""
        target = Path(path)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")  # not *.prom: never read
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.fchmod(fd, 0o644)
            os.write(fd, self.exposition())
        finally:
            os.close(fd)
        os.replace(tmp, target)

    def serve(self) -> Any:
        """Start the HTTP endpoint of ``[metrics] listen`` in a thread; returns the server (call
        ``shutdown()``), or None when not configured."""
        if not self.cfg.metrics.listen:
            return None
        from prometheus_client import start_http_server

        host, port = listen_address(self.cfg.metrics.listen)
        try:
            server, _thread = start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:  # the forwarder goes on without its endpoint
            log.error("metrics not served on %s:%d: %s", host, port, exc)
            return None
        log.info("metrics served on http://%s:%d/metrics", host, port)
        return server

    async def refresh(self, store: Store, *, slow: bool) -> None:
        previous = self.reading
        self.reading = await store.read(lambda db: read_database(db, slow=slow, previous=previous,
                                                                 role=self.role))
        self.database_path = str(store.path)

    async def run(self, store: Store, stop: asyncio.Event) -> None:
        """Refresh and write every ``interval`` seconds until ``stop``; a failed refresh or write
        is logged and tried again (metrics never stop the forwarder)."""
        m = self.cfg.metrics
        count = 0
        while not stop.is_set():
            try:
                await self.refresh(store, slow=count % max(1, m.slow_every) == 0)
                if m.textfile:
                    self.write_textfile(m.textfile)
            except Exception as exc:  # noqa: BLE001 - a metrics hiccup must not stop forwarding
                log.warning("metrics not written: %s", exc)
            count += 1
            try:
                await asyncio.wait_for(stop.wait(), timeout=m.interval)
            except TimeoutError:
                pass


def attach(cfg: AgentConfig, agent: Any, *, watchdog_usec: int | None = None,
           tally: RequestTally | None = None, role: str = "service") -> TillMetrics:
    """Metrics for the forwarding process of ``agent`` (its requests counted in ``tally``;
    a new one hooked to its switch client and forwarder if none is given)."""
    if tally is None:
        tally = RequestTally().hook(agent)
    metrics = TillMetrics(cfg, watchdog_seconds=watchdog_usec / 1e6 if watchdog_usec else None,
                          tally=tally, role=role)
    forwarder = agent.forwarder
    metrics.heartbeat = lambda: time.time() - (time.monotonic() - forwarder.last_beat)
    return metrics


def listen_address(text: str) -> tuple[str, int]:
    """``"9464"``, ``":9464"`` -> loopback; ``"HOST:PORT"`` / ``"[::1]:PORT"`` as given."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


class _ReadingCollector:
    """Gauges over the latest ``Reading`` and the process's own clocks."""

    def __init__(self, metrics: TillMetrics) -> None:
        self.m = metrics

    def collect(self) -> Iterator[Metric]:
        m, r = self.m, self.m.reading
        ident = [m.terminal, m.store_label]
        now = m.clock()

        def gauge(name: str, doc: str, labels: tuple[str, ...] = (),
                  rows: list[tuple[list[str], float]] | None = None,
                  value: float | None = None) -> GaugeMetricFamily:
            g = GaugeMetricFamily(name, doc, labels=["terminal", "store", *labels])
            for extra, v in rows if rows is not None else [([], value or 0.0)]:
                g.add_metric([*ident, *extra], v)
            return g

        yield gauge("terminal_agent_info", "The till's identity and agent version (always 1).",
                    ("version",), [([__version__], 1.0)])
        yield gauge("terminal_agent_outbox_advices", "Advices and status lookups in the outbox "
                    "by state (pending, held, parked, delivered within retention), kind and "
                    "operation.", ("state", "kind", "operation"),
                    [([s, k, op], n) for s, k, op, n in r.outbox])
        age = max(0.0, now - r.oldest_pending_at) if r.oldest_pending_at else 0.0
        yield gauge("terminal_agent_outbox_oldest_pending_age_seconds",
                    "Age of the oldest pending advice (0 when none is pending).", value=age)
        yield gauge("terminal_agent_transactions", "Transactions in the journal by kind and "
                    "state.", ("kind", "state"), [([k, s], n) for k, s, n in r.transactions])
        yield gauge("terminal_agent_money_owed", "Transactions waiting for a money decision: "
                    "approved_not_tendered, refund_due, confirm_failed.", ("decision",),
                    [([d], n) for d, (n, _) in r.owed.items()])
        yield gauge("terminal_agent_money_owed_amount", "Their total amount in minor units of "
                    "the till's currency.", ("decision", "currency"),
                    [([d, m.cfg.terminal.currency], a) for d, (_, a) in r.owed.items()])
        printer = (r.printer or {}).get("status", "unknown")
        yield gauge("terminal_agent_printer_status", "The printer's last reported status "
                    "(1 for the current one; paper_out, paper_near_end...).", ("status",),
                    [([s], float(s == printer)) for s in PRINTER_STATES])
        yield gauge("terminal_agent_printer_status_timestamp_seconds", "When the printer status "
                    "last changed (0: never reported).",
                    value=float((r.printer or {}).get("at") or 0.0))
        yield gauge("terminal_agent_print_jobs_waiting", "Receipts committed but not printed yet.",
                    value=r.print_jobs_waiting)
        yield gauge("terminal_agent_forwarder_heartbeat_timestamp_seconds",
                    "Last time the forwarder loop beat.", value=m.heartbeat() or 0.0)
        yield gauge("terminal_agent_forwarder_watchdog_seconds", "How stale the heartbeat may "
                    "get before systemd's watchdog kills the forwarder.", value=m.watchdog_seconds)
        last = max([t.last_answer_at or 0.0 for t in m.tallies().values()]
                   + [r.last_delivery_at or 0.0])
        yield gauge("terminal_agent_switch_last_answer_timestamp_seconds",
                    "Last time the switch answered (any HTTP status; 0: never).", value=last)
        yield gauge("terminal_agent_database_size_bytes", "The SQLite database and its WAL.",
                    value=_size(m.database_path))
        if r.backup_at is not None:
            yield gauge("terminal_agent_backup_age_seconds", "Age of the last good backup.",
                        value=max(0.0, now - r.backup_at))


class _TallyCollector:
    """Switch requests, their latency and the forwarder's answers of each process (rule 4)."""

    def __init__(self, metrics: TillMetrics) -> None:
        self.m = metrics

    def collect(self) -> Iterator[Metric]:
        ident = [self.m.terminal, self.m.store_label]
        labels = ["terminal", "store", "process"]
        requests = CounterMetricFamily(
            "terminal_agent_switch_requests", "Requests to the switch by operation and outcome "
            "(HTTP status, or timeout / unreachable / broken), by the process that sent them.",
            labels=[*labels, "operation", "outcome"])
        latency = HistogramMetricFamily(
            "terminal_agent_switch_request_seconds", "Time from sending a request to the switch "
            "to its answer (or failure).", labels=[*labels, "operation"])
        answers = CounterMetricFamily(
            "terminal_agent_forwarder_answers", "Advices and status lookups sent by the "
            "forwarder, by what became of them (delivered, parked, retry).",
            labels=[*labels, "kind", "operation", "outcome"])
        for process, tally in sorted(self.m.tallies().items()):
            for (op, outcome), n in sorted(tally.requests.items()):
                requests.add_metric([*ident, process, op, outcome], n)
            for op, hist in sorted(tally.latency.items()):
                latency.add_metric([*ident, process, op], hist.cumulative(), hist.total)
            for (kind, op, outcome), n in sorted(tally.answers.items()):
                answers.add_metric([*ident, process, kind, op, outcome], n)
        yield from (requests, latency, answers)


def _size(path: str | None) -> float:
    if path is None:
        return 0.0
    return float(sum(os.path.getsize(p) for p in (str(path), f"{path}-wal") if os.path.exists(p)))
