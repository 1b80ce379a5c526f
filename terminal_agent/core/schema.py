"""Database schema as an append-only list of migrations (never edit a released entry)."""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: journal, timeline, outbox
    """
    CREATE TABLE transactions (
        id              TEXT PRIMARY KEY,      -- the original request's message id (uuid4)
        kind            TEXT NOT NULL,         -- voucher_sale, topup, mt_send, mt_payout, suv_redeem
        op              TEXT NOT NULL,         -- protocol Op of the original request
        state           TEXT NOT NULL,
        path            TEXT NOT NULL,
        request         BLOB NOT NULL,         -- the exact bytes sent (masked nowhere: local only)
        response        BLOB,                  -- body of the definite answer, if any
        http_status     INTEGER,
        error_type      TEXT,
        amount          INTEGER NOT NULL DEFAULT 0,  -- minor units
        fee             INTEGER NOT NULL DEFAULT 0,
        currency        TEXT NOT NULL,
        cashier         TEXT NOT NULL,
        reference       TEXT NOT NULL,         -- short reference for slips and reprints
        product         TEXT,
        detail          TEXT,                  -- JSON, non-secret facts for the UI and receipts
        retry_of        TEXT,                  -- money transfer: the timed-out original
        decision_deadline REAL,                -- APPROVED: auto-reverse after (NULL = never)
        created_at      REAL NOT NULL,
        updated_at      REAL NOT NULL
    );
    CREATE INDEX transactions_state ON transactions(state, updated_at);
    CREATE INDEX transactions_created ON transactions(created_at);
    CREATE INDEX transactions_reference ON transactions(reference);

    CREATE TABLE events (
        id          INTEGER PRIMARY KEY,
        txn_id      TEXT NOT NULL REFERENCES transactions(id),
        at          REAL NOT NULL,
        what        TEXT NOT NULL,           -- state change, request, advice answer, note
        state       TEXT,
        actor       TEXT,
        note        TEXT
    );
    CREATE INDEX events_txn ON events(txn_id, id);

    CREATE TABLE outbox (
        id              TEXT PRIMARY KEY,      -- advice message id, or a lookup's own id
        txn_id          TEXT NOT NULL REFERENCES transactions(id),
        seq             INTEGER NOT NULL,      -- order within the transaction
        kind            TEXT NOT NULL,         -- confirmation, reversal, status
        op              TEXT NOT NULL,
        method          TEXT NOT NULL,
        path            TEXT NOT NULL,
        query           TEXT,                  -- JSON object for GET lookups
        body            BLOB,                  -- identical on every retry
        state           TEXT NOT NULL,         -- held, pending, delivered, parked, void
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        lease_until     REAL,
        last_status     INTEGER,
        last_error      TEXT,
        created_at      REAL NOT NULL,
        delivered_at    REAL,
        resolved_note   TEXT,
        UNIQUE (txn_id, seq)
    );
    CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
    CREATE INDEX outbox_txn ON outbox(txn_id, seq);
    CREATE INDEX outbox_delivered ON outbox(state, delivered_at);

    CREATE TABLE kv (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: cashier accounts and the audit trail of supervisor actions (core/cashiers.py)
    """
    CREATE TABLE cashiers (
        id            TEXT PRIMARY KEY,       -- what the cashier types at login
        name          TEXT NOT NULL DEFAULT '',
        role          TEXT NOT NULL,          -- cashier | supervisor
        pin_hash      TEXT NOT NULL,          -- security.hash_pin (scrypt$n$r$p$salt$hash)
        enabled       INTEGER NOT NULL DEFAULT 1,
        failures      INTEGER NOT NULL DEFAULT 0,   -- wrong PINs in a row
        locked_until  REAL,                   -- no login before this time (NULL = not locked)
        last_login_at REAL,
        created_at    REAL NOT NULL,
        updated_at    REAL NOT NULL
    );

    CREATE TABLE audit (
        id       INTEGER PRIMARY KEY,
        at       REAL NOT NULL,
        actor    TEXT NOT NULL,               -- who did it (the supervisor for an override)
        action   TEXT NOT NULL,               -- login, login-failed, override, override-refused, ...
        subject  TEXT,                        -- transaction reference, advice id, cashier id
        note     TEXT
    );
    CREATE INDEX audit_at ON audit(at);
    """,
    # 3: the durable print queue (core/printing.py)
    """
    CREATE TABLE print_jobs (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        txn_id        TEXT,                    -- journal transaction id (NULL for reports)
        reference     TEXT NOT NULL,           -- the short reference printed on the slip
        kind          TEXT NOT NULL,           -- voucher_sale, topup, mt_send, ..., shift_report
        content       BLOB NOT NULL,           -- ESC/POS bytes exactly as sent to the printer
        text          TEXT NOT NULL,           -- plain-text rendering of content
        columns       INTEGER NOT NULL,        -- paper width the content was rendered for
        contains_pin  INTEGER NOT NULL DEFAULT 0,
        copy_of       INTEGER REFERENCES print_jobs(id),  -- a reprint: the original job
        copy_number   INTEGER NOT NULL DEFAULT 0,
        authorised_by TEXT,                    -- supervisor who allowed a PIN reprint
        reprints      INTEGER NOT NULL DEFAULT 0,         -- on originals: copies made so far
        state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'printed')),
        attempts      INTEGER NOT NULL DEFAULT 0,
        last_status   TEXT,                    -- PrinterStatus at the last attempt
        last_error    TEXT,                    -- why it is still waiting (for the cashier)
        created_at    REAL NOT NULL,
        printed_at    REAL
    );
    CREATE INDEX print_jobs_pending ON print_jobs(state, id);
    CREATE INDEX print_jobs_reference ON print_jobs(reference);
    """,
    # 4: the audit trail as a hash chain (core/audit.py); rows from before are chained by the
    # first entry written after the upgrade
    """
    ALTER TABLE audit ADD COLUMN prev_hash TEXT;
    ALTER TABLE audit ADD COLUMN hash TEXT;
    """,
    # 5: ownership of in-flight work (core/owners.py) and a sale's receipt found by its
    # transaction (the step that records the tender commits the print job)
    """
    ALTER TABLE transactions ADD COLUMN owner TEXT;  -- owner id of the process that sent it
    CREATE INDEX print_jobs_txn ON print_jobs(txn_id, id);
    """,
    # 6: sends of an outbox row whose outcome is not known (counted up when claimed, down when a
    # definite answer is committed): a DUPLICATE_RECORD is "delivered" only if one was (issue 10)
    """
    ALTER TABLE outbox ADD COLUMN unanswered INTEGER NOT NULL DEFAULT 0;
    """,
    # 7: secrets at rest (core/vault.py): voucher PINs and ID numbers sealed with the till key,
    # per transaction, dropped after the reprint window; print jobs holding a PIN likewise
    """
    ALTER TABLE transactions ADD COLUMN sealed BLOB;
    ALTER TABLE print_jobs ADD COLUMN purged_at REAL;
    """,
    # 8: the metrics count the journal by kind and state from this index alone
    # (core/metrics.py; a million transactions took 2.2 s by table scan)
    """
    CREATE INDEX transactions_kind_state ON transactions(kind, state);
    """,
    # 9: closed shifts (core/cashup.py): each Z report's figures, numbered, never changed
    """
    CREATE TABLE shift_reports (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,  -- the Z number
        opened_at  REAL,                               -- the previous close (NULL: the first)
        closed_at  REAL NOT NULL,
        closed_by  TEXT NOT NULL,                      -- the supervisor who closed it
        figures    TEXT NOT NULL                       -- CashUp as JSON
    );
    CREATE INDEX events_state_at ON events(state, at);
    """,
    # 10: retention finds each batch by an index (core/retention.py, rule 5): sealed details and
    # PIN receipts still held, events by age, copies of a print job (a deleted original's
    # foreign key check scanned the whole table: a year's first purge held the lock for hours)
    """
    CREATE INDEX transactions_sealed ON transactions(created_at) WHERE sealed IS NOT NULL;
    CREATE INDEX print_jobs_pin_held ON print_jobs(created_at)
        WHERE contains_pin = 1 AND purged_at IS NULL;
    CREATE INDEX print_jobs_copy_of ON print_jobs(copy_of) WHERE copy_of IS NOT NULL;
    CREATE INDEX events_at ON events(at);
    """,
]

OWNER_SINCE = 5  # the schema version that added transactions.owner
