"""The durable print queue: a receipt is a committed row before the printer sees a byte.

Rules:
1. ``submit`` commits the job (its exact ESC/POS bytes and a plain-text copy) before anything
   is sent, so a crash, a power cut or a dead printer loses no receipt.
2. A job is marked ``printed`` only after the write succeeded *and* the printer reported no
   error afterwards (paper running out mid-job, cover opened). A printer that cannot report
   (``UNKNOWN``) counts as fine once the write went through.
3. Jobs print in the order they were submitted; the first one that cannot print stops the pump,
   records why (``last_status``, ``last_error``) and waits for the next pump. Nothing is dropped.
4. A job that reached paper just before a crash, unmarked, prints again after restart: a
   duplicate original is better than a lost one.
5. A reprint is a new job copying the original's bytes with a ``COPY`` banner at both ends,
   counted on the original (``reprints``). A receipt holding a voucher PIN is reprinted only
   with the name of the supervisor who authorised it (stored on the copy).
6. Receipt contents (PINs) never reach a log line: logs name the job id, kind and reference.
7. A receipt holding a voucher PIN is stored sealed with the till key (core/vault.py), bytes and
   text, and its content is dropped after the reprint window (core/retention.py); only the
   paper shows the PIN.
8. A sale's receipt and its cash-drawer kick (``kind='drawer'``, the ``ESC p`` bytes) are
   committed by the sale's own step (``core/slips.py``, through ``enqueue``); the queue prints
   them in order like any job. A drawer kick is never reprinted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from devices.printers import Printer, drawer_args, open_printer
from devices.status import PrinterError, PrinterStatus
from terminal_agent.config import AgentConfig, PrinterConfig
from terminal_agent.core.states import JobState, job_move
from terminal_agent.core.store import Db
from terminal_agent.core.vault import Vault, open_receipt, seal_receipt
from terminal_agent.errors import AgentError
from terminal_agent.receipts.model import Receipt
from terminal_agent.receipts.preview import preview_files, to_text
from terminal_agent.receipts.render import mark_copy, render

log = logging.getLogger(__name__)

# The print_jobs table is migration 3 in core/schema.py.
# kv row where the process that owns the printer leaves its last status for the forwarding
# process's metrics: {"status": PrinterStatus value, "at": unix time of the change}.
PRINTER_KEY = "printer.status"


class UnknownReceipt(AgentError):
    """No receipt was ever printed under that reference."""


class ReceiptDropped(AgentError):
    """The receipt showed a voucher PIN and the reprint window has passed: it is gone."""


class ReprintNeedsSupervisor(AgentError):
    """The receipt carries a voucher PIN: a supervisor must authorise the reprint."""


@dataclass(frozen=True)
class PrintJob:
    id: int
    txn_id: str | None
    reference: str
    kind: str
    columns: int
    contains_pin: bool
    copy_of: int | None
    copy_number: int
    authorised_by: str | None
    reprints: int
    state: str
    attempts: int
    last_status: str | None
    last_error: str | None
    created_at: float
    printed_at: float | None
    content: bytes = field(repr=False)
    text: str = field(repr=False)

    @classmethod
    def from_row(cls, row: sqlite3.Row, vault: Vault | None = None) -> PrintJob:
        """A stored job; a sealed PIN receipt is opened with ``vault`` (rule 7)."""
        content, text = open_receipt(vault, row["reference"], row["content"], row["text"])
        return cls(
            id=row["id"], txn_id=row["txn_id"], reference=row["reference"], kind=row["kind"],
            columns=row["columns"], contains_pin=bool(row["contains_pin"]),
            copy_of=row["copy_of"], copy_number=row["copy_number"],
            authorised_by=row["authorised_by"], reprints=row["reprints"], state=row["state"],
            attempts=row["attempts"], last_status=row["last_status"],
            last_error=row["last_error"], created_at=row["created_at"],
            printed_at=row["printed_at"], content=content, text=text,
        )


@dataclass(frozen=True)
class PumpResult:
    """What one pump did: the jobs printed, how many still wait, and why."""

    printed: tuple[int, ...]
    waiting: int
    status: PrinterStatus
    reason: str | None = None

    @property
    def all_printed(self) -> bool:
        return self.waiting == 0


StatusListener = Callable[[PrinterStatus, str | None], None]


DRAWER = "drawer"  # print_jobs.kind of a cash-drawer kick


@dataclass(frozen=True)
class NewJob:
    """A job to commit: the exact bytes for the printer and their plain-text copy."""

    txn_id: str | None
    reference: str
    kind: str
    content: bytes = field(repr=False)
    text: str = field(repr=False)
    columns: int = 48
    contains_pin: bool = False


def kept(vault: Vault | None, reference: str, content: bytes, text: str,
         contains_pin: bool) -> tuple[bytes, bytes | str]:
    """What the table holds of a receipt: a PIN receipt only sealed (rule 7)."""
    if contains_pin:
        return seal_receipt(vault, reference, content, text)
    return bytes(content), text


def enqueue(db: Db, job: NewJob, now: float, vault: Vault | None) -> int:
    """Commit ``job`` inside the caller's step (the sale's own step, rule 8); returns its id."""
    content, text = kept(vault, job.reference, job.content, job.text, job.contains_pin)
    cur = db.execute(
        "INSERT INTO print_jobs (txn_id, reference, kind, content, text, columns, contains_pin,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (job.txn_id, job.reference, job.kind, content, text, job.columns,
         int(job.contains_pin), now))
    return int(cur.lastrowid or 0)


_ORIGINAL_SQL = ("SELECT * FROM print_jobs WHERE reference=? COLLATE NOCASE AND copy_of IS NULL"
                 " AND kind != ? ORDER BY id DESC LIMIT 1")

# Renders a paid transaction's receipt again when it has no original job (core/slips.py).
RenderMissing = Callable[[str], Awaitable["NewJob | None"]]


class PrintQueue:
    def __init__(self, store: Any, printer: Printer, *, clock: Callable[[], float] = time.time,
                 on_status: StatusListener | None = None, vault: Vault | None = None,
                 render_missing: RenderMissing | None = None) -> None:
        self.store = store
        self.vault = vault or getattr(store, "vault", None)  # set by open_vault
        self.render_missing = render_missing
        self.printer = printer
        self.clock = clock
        self.on_status = on_status
        self.status = PrinterStatus.UNKNOWN
        self.reason: str | None = None
        self._pump_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self.went: dict[int, str] = {}  # where each job printed here went (URL, preview file)

    async def submit(self, txn_id: str | None, reference: str, kind: str, receipt_bytes: bytes,
                     text: str, contains_pin: bool = False, *, pump: bool = True) -> int:
        """Commit a job, then (unless ``pump=False``) try to print everything waiting.
        Returns the job id; printer trouble never raises here (see ``status``/``reason``)."""
        job = NewJob(txn_id, reference, kind, bytes(receipt_bytes), text, self.printer.columns,
                     contains_pin)
        job_id: int = await self.store.step(lambda db: enqueue(db, job, self.clock(),
                                                                  self.vault))
        log.info("print job %d queued (%s, ref %s)", job_id, kind, reference)
        self._wake.set()
        if pump:
            await self.pump()
        return job_id

    def _job(self, row: sqlite3.Row) -> PrintJob:
        return PrintJob.from_row(row, self.vault)

    async def submit_receipt(self, receipt: Receipt, *, txn_id: str | None = None,
                             pump: bool = True) -> int:
        """Render ``receipt`` for this printer's width and submit it."""
        data = render(receipt, self.printer.columns, profile=self.printer.profile)
        text = to_text(data, self.printer.columns, profile=self.printer.profile)
        return await self.submit(txn_id, receipt.reference, receipt.kind, data, text,
                                 receipt.contains_pin, pump=pump)

    async def receipt_of(self, txn_id: str) -> PrintJob | None:
        """The original receipt of a transaction (committed by its tender or completion)."""
        row = await self.store.fetchone(
            "SELECT * FROM print_jobs WHERE txn_id=? AND copy_of IS NULL AND kind != ?"
            " ORDER BY id LIMIT 1", (txn_id, DRAWER))
        return self._job(row) if row else None

    async def pending(self) -> list[PrintJob]:
        rows = await self.store.fetchall(
            f"SELECT * FROM print_jobs WHERE state='{JobState.PENDING}' ORDER BY id")  # noqa: S608
        return [self._job(r) for r in rows]

    async def job(self, job_id: int) -> PrintJob | None:
        row = await self.store.fetchone("SELECT * FROM print_jobs WHERE id=?", (job_id,))
        return self._job(row) if row else None

    async def last_receipt(self) -> tuple[str, bool] | None:
        """The reference of the latest original receipt of a sale (for "reprint last"), and
        whether it shows a voucher PIN (then a supervisor authorises the copy)."""
        row = await self.store.fetchone(
            "SELECT reference, contains_pin FROM print_jobs WHERE copy_of IS NULL"
            " AND txn_id IS NOT NULL AND kind != 'drawer' ORDER BY id DESC LIMIT 1")
        return (str(row["reference"]), bool(row["contains_pin"])) if row else None

    async def history(self, reference: str) -> list[PrintJob]:
        rows = await self.store.fetchall(
            "SELECT * FROM print_jobs WHERE reference=? COLLATE NOCASE ORDER BY id",
            (reference.strip(),))
        return [self._job(r) for r in rows]

    async def pump(self, only: Sequence[int] | None = None) -> PumpResult:
        """Print waiting jobs in order (or just the jobs ``only``), stopping at the first one the
        printer cannot take."""
        async with self._pump_lock:
            jobs = await self.pending()
            if only is not None:
                jobs = [j for j in jobs if j.id in set(only)]
            if not jobs:
                return PumpResult((), 0, self.status, self.reason)
            before = await self.printer.status()
            if not before.can_print:
                await self._wait(jobs[0], before, before.message)
                return PumpResult((), len(jobs), before, before.message)
            printed: list[int] = []
            for job in jobs:
                outcome = await self._print_one(job)
                if outcome is not None:
                    status, reason = outcome
                    return PumpResult(tuple(printed), len(jobs) - len(printed), status, reason)
                printed.append(job.id)
            self._report(self.status, None)
            return PumpResult(tuple(printed), 0, self.status, None)

    async def _print_one(self, job: PrintJob) -> tuple[PrinterStatus, str] | None:
        """None when printed; else the status and reason it is still waiting."""
        label = f"{job.reference}-copy{job.copy_number}" if job.copy_of else job.reference
        try:
            if job.kind == DRAWER:
                await self.printer.kick_drawer(*drawer_args(job.content))
            else:
                self.went[job.id] = await self.printer.write(job.content, label=label)
        except PrinterError as exc:
            await self._wait(job, exc.status, str(exc), attempted=True)
            return exc.status, str(exc)
        after = await self.printer.status()
        if not after.can_print:
            reason = f"{after.message} (the receipt will print again in full)"
            await self._wait(job, after, reason, attempted=True)
            return after, reason
        await self.store.step(lambda db: db.execute(
            f"UPDATE print_jobs SET state='{JobState.PRINTED}', printed_at=?,"  # noqa: S608
            " attempts=attempts+1, last_status=?, last_error=NULL"
            f" WHERE id=? AND {job_move(JobState.PRINTED)}", (self.clock(), after.value, job.id)))
        log.info("print job %d printed (%s, ref %s)", job.id, job.kind, job.reference)
        self.status = after
        return None

    async def _wait(self, job: PrintJob, status: PrinterStatus, reason: str, *,
                    attempted: bool = False) -> None:
        await self.store.step(lambda db: db.execute(
            "UPDATE print_jobs SET attempts=attempts+?, last_status=?, last_error=?"
            " WHERE id=?", (int(attempted), status.value, reason, job.id)))
        log.warning("print job %d waiting: %s", job.id, status.value)
        self._report(status, reason)

    def _report(self, status: PrinterStatus, reason: str | None) -> None:
        changed = (status, reason) != (self.status, self.reason)
        self.status, self.reason = status, reason
        if changed and self.on_status is not None:
            self.on_status(status, reason)

    async def reprint(self, reference: str, authorised_by: str | None, *,
                      pump: bool = True) -> int:
        """Queue a ``COPY`` of the latest original receipt under ``reference``; returns the new
        job id. A receipt with a voucher PIN needs ``authorised_by`` (a supervisor's id). A paid
        transaction whose original was never queued (before printing was a step of the sale,
        or its rendering failed) has it rendered now from the stored answer
        (``render_missing``) and kept as the original, marked never printed."""
        ref = reference.strip()
        missing = None
        if self.render_missing is not None and await self.store.fetchone(
                _ORIGINAL_SQL, (ref, DRAWER)) is None:
            missing = await self.render_missing(ref)
        now = self.clock()

        def copy(db: Db) -> tuple[int, PrintJob, int]:
            row = db.execute(_ORIGINAL_SQL, (ref, DRAWER)).fetchone()
            if row is None and missing is not None:
                kept_id = enqueue(db, missing, now, self.vault)
                db.execute(f"UPDATE print_jobs SET state='{JobState.PRINTED}', last_error=?"  # noqa: S608
                           f" WHERE id=? AND {job_move(JobState.PRINTED)}",
                           ("rendered for a reprint; the original was never printed", kept_id))
                row = db.execute(_ORIGINAL_SQL, (ref, DRAWER)).fetchone()
            if row is None:
                raise UnknownReceipt(f"no receipt with reference {ref!r}")
            if row["contains_pin"] and "purged_at" in row.keys() and row["purged_at"]:
                raise ReceiptDropped(
                    f"receipt {row['reference']} showed a voucher PIN, which the till keeps only "
                    "for the reprint window ([retention] reprint_hours): it can no longer be "
                    "printed; the provider can tell the customer the PIN")
            original = self._job(row)
            if original.contains_pin and not authorised_by:
                raise ReprintNeedsSupervisor(
                    f"receipt {original.reference} shows a voucher PIN: a supervisor must "
                    "authorise the reprint")
            number = original.reprints + 1
            content = mark_copy(original.content, original.columns, number,
                                profile=self.printer.profile)
            text = to_text(content, original.columns, profile=self.printer.profile)
            stored, stored_text = kept(self.vault, original.reference, content, text,
                                       original.contains_pin)
            db.execute("UPDATE print_jobs SET reprints=? WHERE id=?", (number, original.id))
            cur = db.execute(
                "INSERT INTO print_jobs (txn_id, reference, kind, content, text, columns,"
                " contains_pin, copy_of, copy_number, authorised_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (original.txn_id, original.reference, original.kind, stored, stored_text,
                 original.columns, int(original.contains_pin), original.id, number,
                 authorised_by or None, now))
            return int(cur.lastrowid or 0), original, number

        job_id, original, number = await self.store.step(copy)
        log.info("reprint %d of ref %s queued as job %d (authorised by %s)", number,
                 original.reference, job_id, authorised_by or "-")
        self._wake.set()
        if pump:
            await self.pump()
        return job_id

    def wake(self) -> None:
        self._wake.set()

    async def run(self, interval: float = 5.0) -> None:
        """Pump whenever a job is submitted here, and every ``interval`` seconds (the printer
        coming back prints what waits; jobs committed by the other process, such as a top-up
        settled by the service's status lookup, print too). Runs until cancelled."""
        while True:
            self._wake.clear()
            try:
                await self.pump()
            except AgentError as exc:  # a busy or full database: try again later
                log.warning("print queue: %s", exc)
            try:
                await asyncio.wait_for(self._wake.wait(), interval)
            except TimeoutError:
                pass


async def record_printer_status(store: Any, status: PrinterStatus,
                                clock: Callable[[], float] = time.time) -> None:
    """Leave the printer's status for the metrics (one small kv row; call it on changes)."""
    value = json.dumps({"status": status.value, "at": clock()})
    await store.step(lambda db: db.execute(
        "INSERT INTO kv (key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value=excluded.value", (PRINTER_KEY, value)))


def open_configured_printer(p: PrinterConfig) -> Printer:
    """The ``[printer]`` of the configuration; a ``preview://`` printer draws its jobs with the
    receipts' previewer (devices take bytes and render nothing themselves)."""
    return open_printer(p.url, p.columns, profile=p.profile or None, timeout=p.timeout,
                        preview=preview_files)


async def kick_drawer(printer: Printer, cfg: Any) -> bool:
    """Open the cash drawer after cash was taken or paid out, if ``[printer] open_drawer``.
    Returns False (and logs) when the printer would not take it: the sale goes on."""
    if not cfg.open_drawer:
        return False
    try:
        await printer.kick_drawer(cfg.drawer_pin, cfg.drawer_pulse_ms)
    except PrinterError as exc:
        log.warning("cash drawer did not open: %s", exc)
        return False
    return True


async def reprint_now(cfg: AgentConfig, store: Any, reference: str, supervisor: str,
                      operator: str) -> tuple[int, PumpResult]:
    """A COPY of ``reference`` queued and printed now on the configured printer, authorised by
    ``supervisor`` (already checked) for ``operator``, and audited; (job id, what the pump
    did)."""
    from terminal_agent.core.audit import AuditTrail
    from terminal_agent.core.vault import open_vault

    await open_vault(cfg, store)  # PIN receipts are sealed with the till key
    printer = open_configured_printer(cfg.printer)
    try:
        queue = PrintQueue(store, printer)
        job_id = await queue.reprint(reference, supervisor, pump=False)
        await AuditTrail(store).record(operator, "reprint", reference,
                                       f"job {job_id}, authorised by supervisor {supervisor}")
        return job_id, await queue.pump(only=[job_id])
    finally:
        printer.close()
