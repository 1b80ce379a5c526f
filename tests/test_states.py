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
