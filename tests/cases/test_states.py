"""The case state machine: every transition, every illegal one, every role (pure, exhaustive + hypothesis)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.cases import states as S

EXPECTED = {
    ("submitted", "accept"): ("accepted", {"clerk"}),
    ("submitted", "accept_shortfall"): ("accepted_pending_supplement", {"clerk"}),
    ("submitted", "accept_commitment"): ("accepted_on_commitment", {"clerk"}),
    ("submitted", "notify_missing"): ("needs_more", {"clerk"}),
    ("submitted", "reject"): ("rejected", {"clerk"}),
    ("needs_more", "resubmit"): ("submitted", {"clerk", "kiosk"}),
    ("accepted_pending_supplement", "supplement"): ("accepted", {"clerk"}),
    ("accepted", "review"): ("in_review", {"approver"}),
    ("accepted_on_commitment", "review"): ("in_review", {"approver"}),
    ("in_review", "approve"): ("approved", {"approver"}),
    ("in_review", "refuse"): ("refused", {"approver"}),
    ("approved", "ready"): ("result_ready", {"approver", "clerk"}),
    ("refused", "ready"): ("result_ready", {"approver", "clerk"}),
    ("result_ready", "deliver"): ("delivered", {"clerk", "kiosk"}),
    ("result_ready", "mail"): ("mailed", {"clerk"}),
    ("mailed", "sign"): ("delivered", {"clerk"}),
    **{
        (s, "withdraw"): ("withdrawn", {"clerk"})
        for s in ("submitted", "needs_more", "accepted", "accepted_pending_supplement", "accepted_on_commitment")
    },
    ("in_review", "withdraw"): ("withdrawn", {"clerk"}),
    # 网上预审: a web case is pre-reviewed, then taken in at the window like a submission
    ("prereview", "prereview_pass"): ("prereview_passed", {"clerk"}),
    ("prereview", "prereview_return"): ("prereview_returned", {"clerk"}),
    ("prereview_returned", "prereview_resubmit"): ("prereview", {"clerk", "kiosk"}),
    ("prereview_passed", "accept"): ("accepted", {"clerk"}),
    ("prereview_passed", "accept_shortfall"): ("accepted_pending_supplement", {"clerk"}),
    ("prereview_passed", "accept_commitment"): ("accepted_on_commitment", {"clerk"}),
    ("prereview_passed", "notify_missing"): ("needs_more", {"clerk"}),
    ("prereview_passed", "reject"): ("rejected", {"clerk"}),
    **{(s, "withdraw"): ("withdrawn", {"clerk"}) for s in ("prereview", "prereview_passed", "prereview_returned")},
}


@pytest.mark.parametrize(("status", "action", "role"), list(itertools.product(S.STATES, S.ACTIONS, S.ROLES)))
def test_every_combination(status: str, action: str, role: str) -> None:
    """Each (state, action, role): the expected target, 403 for a role never allowed, else 409."""
    target, roles = EXPECTED.get((status, action), (None, None))
    allowed_roles = {t.roles for t in S.TRANSITIONS if t.action == action}.pop() - {"admin"}
    if role != "admin" and role not in allowed_roles:
        with pytest.raises(S.RoleNotAllowed):
            S.next_state(status, action, role)
    elif target is None:
        with pytest.raises(S.IllegalTransition):
            S.next_state(status, action, role)
    else:
        assert roles is not None and (role == "admin" or role in roles)
        assert S.next_state(status, action, role) == target


def test_final_states_have_no_way_out() -> None:
    for status in S.FINAL:
        assert all(S.allowed_actions(status, role) == [] for role in S.ROLES)


def test_every_state_has_labels_and_is_reachable() -> None:
    reached = {"submitted", "prereview"}
    frontier = ["submitted", "prereview"]
    while frontier:
        s = frontier.pop()
        for a in S.allowed_actions(s, "admin"):
            t = S.next_state(s, a, "admin")
            if t not in reached:
                reached.add(t)
                frontier.append(t)
    assert reached == set(S.STATES)
    assert set(S.LABELS) == set(S.STATES)


def test_unknown_action_is_illegal() -> None:
    with pytest.raises(S.IllegalTransition):
        S.next_state("submitted", "teleport", "admin")


@given(st.lists(st.tuples(st.sampled_from(S.ACTIONS), st.sampled_from(S.ROLES)), max_size=30))
def test_random_walks_stay_in_the_graph(steps: list[tuple[str, str]]) -> None:
    """Any sequence of attempts: only listed transitions happen; a final state is never left."""
    status = S.SUBMITTED
    for action, role in steps:
        before = status
        try:
            status = S.next_state(status, action, role)
        except (S.IllegalTransition, S.RoleNotAllowed):
            assert action not in S.allowed_actions(before, role)
            continue
        assert action in S.allowed_actions(before, role)
        assert before not in S.FINAL
        assert status in S.STATES
