"""The state table: every listed change is allowed, every other one refused."""

import itertools

import pytest

from terminal_agent.core import states
from terminal_agent.core.states import FINAL, TRANSITIONS, State
from terminal_agent.errors import IllegalTransition


def test_table_covers_every_state():
    assert set(TRANSITIONS) == set(State)


@pytest.mark.parametrize("old,new", list(itertools.product(State, State)))
def test_walk_the_table(old, new):
    if new in TRANSITIONS[old]:
        states.check(old, new)
    else:
        with pytest.raises(IllegalTransition):
            states.check(old, new)


def test_no_reversal_after_a_confirmation_is_queued():
    for confirmed in (State.TENDERED, State.CONFIRMING, State.CONFIRMED, State.CONFIRM_FAILED):
        assert State.REVERSING not in TRANSITIONS[confirmed]


def test_direct_topup_never_reverses():
    for s in (State.TENDER_TAKEN, State.STATUS_PENDING, State.REFUND_DUE):
        assert State.REVERSING not in TRANSITIONS[s]


def test_every_state_reaches_a_final_state():
    for start in State:
        seen, todo = set(), [start]
        while todo:
            s = todo.pop()
            if s in seen:
                continue
            seen.add(s)
            todo.extend(TRANSITIONS[s])
        assert seen & FINAL, start


# -- outbox rows and print jobs ------------------------------------------------------------------

ROW_WRITES = {  # what each writer of core/outbox.py does, as (from, to) sets
    "release": ({states.RowState.HELD}, states.RowState.PENDING),
    "void_held": ({states.RowState.HELD}, states.RowState.VOID),
    "retry_now": ({states.RowState.PENDING, states.RowState.PARKED}, states.RowState.PENDING),
    "resolve": ({states.RowState.PARKED}, states.RowState.RESOLVED),
}


@pytest.mark.parametrize("move", list(states.RowMove))
def test_row_moves_name_real_states_and_refuse_others(move):
    sources, targets = states.ROW_MOVES[move]
    assert sources and targets
    for new in states.RowState:
        if new in targets:
            assert states.row_move(move, new) == f"state IN {states.sql_set(sources)}"
        else:
            with pytest.raises(IllegalTransition):
                states.row_move(move, new)


def test_nothing_leaves_a_final_row():
    moved = set().union(*(sources for sources, _ in states.ROW_MOVES.values()))
    for final in (states.RowState.DELIVERED, states.RowState.VOID, states.RowState.RESOLVED):
        assert final not in moved


def test_every_owed_row_can_still_reach_delivery_or_a_supervisor():
    owed = states.OWED_ROWS
    assert states.BLOCKING_ROWS <= owed and states.SCHEDULED_ROWS <= owed
    assert states.RowState.DELIVERED not in owed


def test_print_jobs_go_one_way():
    assert states.JOB_MOVES[states.JobState.PENDING] == {states.JobState.PRINTED}
    assert not states.JOB_MOVES[states.JobState.PRINTED]


async def test_outbox_writers_only_move_rows_the_table_allows(tmp_path):
    """Each writer, run on every row state, changes only rows in its move's "from" states."""
    from terminal_agent.config import ForwarderConfig
    from terminal_agent.core.outbox import AdviceKind, Outbox
    from terminal_agent.core.store import Store

    store = await Store.create(tmp_path / "agent.db", "TILL0001")
    outbox = Outbox(store, ForwarderConfig())
    try:
        for writer, (sources, target) in ROW_WRITES.items():
            for start in states.RowState:
                txn, row = f"t-{writer}-{start}", f"a-{writer}-{start}"

                def put(db, txn=txn, row=row, start=start):
                    db.execute("INSERT INTO transactions (id, reference, kind, op, path, request,"
                               " amount, currency, cashier, state, created_at, updated_at)"
                               " VALUES (?, ?, 'voucher_sale', 'x', '/x', x'00', 1, '710', 'c',"
                               " 'REVERSING', 0, 0)", (txn, txn[-12:]))
                    outbox.add(db, id=row, txn_id=txn, kind=AdviceKind.REVERSAL, op="x",
                               method="POST", path="/x")
                    db.execute("UPDATE outbox SET state=? WHERE id=?", (start.value, row))

                await store.step(put)
                changed = None
                if writer == "release":
                    changed = await store.step(
                        lambda db, t=txn: outbox.release(db, t, AdviceKind.REVERSAL)) == 1
                elif writer == "void_held":
                    await store.step(lambda db, t=txn: outbox.void_held(db, t))
                elif writer == "retry_now":
                    changed = await outbox.retry_now(row)
                else:
                    changed = await outbox.resolve(row, note="settled by phone", actor="9001")
                now = (await outbox.for_txn(txn))[0].state
                assert now == (target if start in sources else start), (writer, start)
                assert changed in (None, start in sources), (writer, start)
    finally:
        await store.close()


def test_the_state_questions_have_one_answer_each():
    """Every state is told to the cashier one way at most, and what is settled waits for no
    machine (final, or a person's decision)."""
    assert not states.SUCCEEDED & states.FAILED
    assert not (states.SUCCEEDED | states.FAILED) & states.REVERSED_STATES
    assert not states.UNKNOWN_OUTCOME & states.SETTLED
    assert states.FINAL <= states.SETTLED and states.AWAITING_DECISION <= states.SETTLED
    for old, new in itertools.product(State, State):
        assert states.allowed(old, new) == (new in TRANSITIONS[old])
