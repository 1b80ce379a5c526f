"""Transaction states and the only table of allowed changes between them.

Theory of operation
-------------------
Everything that affects a transaction's state lives here (docs/DESIGN.md §4), and so do the
smaller tables of outbox rows (§5) and print jobs. A flow, the forwarder,
recovery or a supervisor asks ``check(old, new)`` before writing a state; a change that the table
does not list raises ``IllegalTransition`` and nothing is written.

Rules the table encodes:

1. ``PREPARED`` is the write-ahead state: the request and its ready-built reversal (or status
   lookup) are committed before the first byte goes out. From there only a definite answer
   (``APPROVED``/``DECLINED``) or the release of the reversal (``REVERSING``) can follow.
2. A transaction that reached ``TENDERED`` or ``CONFIRMING`` can never move to ``REVERSING``:
   one final advice per original (invariant 4). The only way back from a confirmed sale is a
   supervisor's explicit money-transfer cancellation, which is its own transaction.
3. Direct top-up never reverses: ``TENDER_TAKEN`` → purchase → ``COMPLETED`` / ``REFUND_DUE`` /
   ``STATUS_PENDING`` (status lookups until final) → ``ABANDONED`` only by a supervisor.
4. Final states have no way out except the supervisor's resolution of money owed
   (``REFUND_DUE`` → ``REFUNDED``; ``CONFIRM_FAILED`` → ``RESOLVED``).
5. A parked advice the switch will never accept is settled outside the till by a supervisor,
   with a note: its transaction becomes ``RESOLVED`` (from ``CONFIRM_FAILED`` or ``REVERSING``).

``COMPLETED`` (final success with no advice owed: approved top-up, single-messaging voucher
redemption) and ``REFUNDED``/``RESOLVED`` extend docs/DESIGN.md §4 for those outcomes.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from terminal_agent.errors import IllegalTransition


class State(StrEnum):
    PREPARED = "PREPARED"
    DECLINED = "DECLINED"
    APPROVED = "APPROVED"
    TENDERED = "TENDERED"
    CONFIRMING = "CONFIRMING"
    REVERSING = "REVERSING"
    CONFIRMED = "CONFIRMED"
    REVERSED = "REVERSED"
    CONFIRM_FAILED = "CONFIRM_FAILED"
    # direct top-up
    TENDER_TAKEN = "TENDER_TAKEN"
    STATUS_PENDING = "STATUS_PENDING"
    REFUND_DUE = "REFUND_DUE"
    ABANDONED = "ABANDONED"
    # extensions (see module docstring)
    COMPLETED = "COMPLETED"
    REFUNDED = "REFUNDED"
    RESOLVED = "RESOLVED"


S = State

TRANSITIONS: dict[State, frozenset[State]] = {
    S.PREPARED: frozenset({S.APPROVED, S.DECLINED, S.REVERSING, S.COMPLETED}),
    S.APPROVED: frozenset({S.TENDERED, S.CONFIRMING, S.REVERSING, S.COMPLETED}),
    S.TENDERED: frozenset({S.CONFIRMED, S.CONFIRM_FAILED}),
    S.CONFIRMING: frozenset({S.CONFIRMED, S.CONFIRM_FAILED}),
    S.REVERSING: frozenset({S.REVERSED, S.RESOLVED}),
    S.CONFIRM_FAILED: frozenset({S.CONFIRMED, S.RESOLVED}),
    S.TENDER_TAKEN: frozenset({S.COMPLETED, S.REFUND_DUE, S.STATUS_PENDING}),
    S.STATUS_PENDING: frozenset({S.COMPLETED, S.REFUND_DUE, S.ABANDONED}),
    S.REFUND_DUE: frozenset({S.REFUNDED}),
    S.DECLINED: frozenset(),
    S.CONFIRMED: frozenset(),
    S.REVERSED: frozenset(),
    S.ABANDONED: frozenset(),
    S.COMPLETED: frozenset(),
    S.REFUNDED: frozenset(),
    S.RESOLVED: frozenset(),
}

FINAL: frozenset[State] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)

# The questions the rest of the till asks about a state, answered here once.
# What recovery acts on (docs/DESIGN.md §4, right-hand column):
UNKNOWN_OUTCOME: frozenset[State] = frozenset({S.PREPARED, S.TENDER_TAKEN})
AWAITING_DECISION: frozenset[State] = frozenset({S.APPROVED})
NEEDS_ATTENTION: frozenset[State] = frozenset({S.CONFIRM_FAILED, S.REFUND_DUE})
# What the cashier is told: approved (value may be or was handed over), declined:
SUCCEEDED: frozenset[State] = frozenset({S.APPROVED, S.TENDERED, S.CONFIRMING, S.CONFIRMED,
                                         S.COMPLETED})
FAILED: frozenset[State] = frozenset({S.DECLINED, S.REFUND_DUE})
# Being or been reversed (after an approval, when the answer is stored: reversed before tender):
REVERSED_STATES: frozenset[State] = frozenset({S.REVERSING, S.REVERSED})
# Nothing more happens without a person: final, held for the cashier, or a failed confirmation:
SETTLED: frozenset[State] = FINAL | AWAITING_DECISION | frozenset({S.CONFIRM_FAILED})


def allowed(old: State, new: State) -> bool:
    """Does the table allow ``old`` → ``new``?"""
    return new in TRANSITIONS[old]


def check(old: State, new: State) -> None:
    """Raise ``IllegalTransition`` unless the table allows ``old`` → ``new``."""
    if not allowed(old, new):
        raise IllegalTransition(f"transaction state {old} cannot become {new}")


def sql_set(states: Iterable[StrEnum]) -> str:
    """``('A', 'B')`` for ``state IN ...``: the values are this module's constants, never input."""
    return "(" + ", ".join(f"'{s.value}'" for s in sorted(states)) + ")"


# -- outbox rows (core/outbox.py, docs/DESIGN.md §5) ----------------------------------------------
#
# A row is written ``held`` (the ready reversal or status lookup of a request in flight) or
# ``pending`` (due). Every writer moves rows only by one of the moves below: its SQL updates only
# rows in the move's "from" states (a compare-and-set) to one of its "to" states.


class RowState(StrEnum):
    HELD = "held"
    PENDING = "pending"
    DELIVERED = "delivered"
    PARKED = "parked"
    VOID = "void"
    RESOLVED = "resolved"  # a parked row settled outside the till by a supervisor


class RowMove(StrEnum):
    RELEASE = "release"    # the outcome is unknown: the held reversal or lookup becomes due
    VOID = "void"          # a definite answer or the tender: the held row is never needed
    ABANDON = "abandon"    # a supervisor stops a top-up's status lookups
    ANSWER = "answer"      # the forwarder commits the switch's answer (or its absence)
    RETRY = "retry"        # a supervisor's "retry now"
    RESOLVE = "resolve"    # a parked row settled outside the till


R = RowState
ROW_MOVES: dict[RowMove, tuple[frozenset[RowState], frozenset[RowState]]] = {
    RowMove.RELEASE: (frozenset({R.HELD}), frozenset({R.PENDING})),
    RowMove.VOID: (frozenset({R.HELD}), frozenset({R.VOID})),
    RowMove.ABANDON: (frozenset({R.HELD, R.PENDING}), frozenset({R.VOID})),
    RowMove.ANSWER: (frozenset({R.PENDING}), frozenset({R.PENDING, R.DELIVERED, R.PARKED})),
    RowMove.RETRY: (frozenset({R.PENDING, R.PARKED}), frozenset({R.PENDING})),
    RowMove.RESOLVE: (frozenset({R.PARKED}), frozenset({R.RESOLVED})),
}

OWED_ROWS: frozenset[RowState] = frozenset({R.HELD, R.PENDING, R.PARKED})  # the switch is owed
BLOCKING_ROWS: frozenset[RowState] = frozenset({R.PENDING, R.PARKED})  # later rows wait (rule 4)
SCHEDULED_ROWS: frozenset[RowState] = frozenset({R.HELD, R.PENDING})  # carry a due time


def row_move(move: RowMove, new: RowState) -> str:
    """The ``state IN (...)`` guard of a writer doing ``move`` to ``new``; raises
    ``IllegalTransition`` when the table has no such move."""
    sources, targets = ROW_MOVES[move]
    if new not in targets:
        raise IllegalTransition(f"outbox move {move} cannot make a row {new}")
    return f"state IN {sql_set(sources)}"


# -- print jobs (core/printing.py) ----------------------------------------------------------------


class JobState(StrEnum):
    PENDING = "pending"    # committed, not yet on paper (retried until it is)
    PRINTED = "printed"


JOB_MOVES: dict[JobState, frozenset[JobState]] = {
    JobState.PENDING: frozenset({JobState.PRINTED}),
    JobState.PRINTED: frozenset(),
}


def job_move(new: JobState) -> str:
    """The ``state IN (...)`` guard of a print-job writer making a job ``new``."""
    sources = frozenset(s for s, targets in JOB_MOVES.items() if new in targets)
    if not sources:
        raise IllegalTransition(f"no print job can become {new}")
    return f"state IN {sql_set(sources)}"
