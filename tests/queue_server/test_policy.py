"""Tests for the call-next queue policy."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_server.policy import (
    LANES,
    PRIORITY_LANES,
    Candidate,
    Rules,
    WindowView,
    choose,
    eligible,
    is_ordinary,
    next_streak,
    ticket_class,
)

NOW = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
RULES = Rules()
HERE, OTHER = 1, 2


def at(minutes: int) -> datetime:
    """Return NOW shifted by ``minutes``."""
    return NOW + timedelta(minutes=minutes)


def ticket(
    id: int,
    queue: str = "A",
    lane: str = "normal",
    arrived: int = -30,
    target: int | None = None,
    slot: int | None = None,
) -> Candidate:
    """Build a candidate; times are minutes relative to NOW."""
    return Candidate(
        id=id,
        queue=queue,
        lane=lane,
        arrived_at=at(arrived),
        target_window=target,
        slot_start=None if slot is None else at(slot),
    )


def window(
    queues: tuple[str, ...] = ("A", "B"), strict: bool = False, streak: int = 0, number: int = HERE
) -> WindowView:
    """Build the calling window."""
    return WindowView(number=number, queues=queues, strict_order=strict, priority_streak=streak)


def pick(w: WindowView, *cands: Candidate, rules: Rules = RULES) -> int | None:
    """Return the id of the chosen ticket, or None."""
    chosen = choose(w, cands, NOW, rules)
    return None if chosen is None else chosen.id


# --- reference implementation, written independently of the module ----------------------------------


def ref_class(c: Candidate, w: WindowView, now: datetime = NOW) -> int:
    """Class of an eligible candidate, straight from the spec."""
    if c.target_window == w.number:
        return 0
    if c.lane in ("military", "special", "vip"):
        return 1
    if c.lane == "appointment" and c.slot_start is not None and not c.slot_start > now:
        return 2
    return 3


def ref_key(c: Candidate, w: WindowView) -> tuple[Any, ...]:
    """Within-class order key, straight from the spec."""
    rank = len(w.queues)
    for i, q in enumerate(w.queues):
        if q == c.queue:
            rank = i
            break
    return (rank, c.arrived_at, c.id) if w.strict_order else (c.arrived_at, rank, c.id)


def ref_eligible(c: Candidate, w: WindowView) -> bool:
    """Eligibility, straight from the spec."""
    return c.target_window == w.number or (c.target_window is None and c.queue in w.queues)


def ref_fairness_applies(w: WindowView, cands: Sequence[Candidate], rules: Rules) -> bool:
    """True when the fairness rule forces an ordinary (class 3) ticket."""
    classes = {ref_class(c, w) for c in cands if ref_eligible(c, w)}
    return w.priority_streak >= rules.max_priority_streak and 0 not in classes and 3 in classes


def ref_choose(w: WindowView, cands: Sequence[Candidate], rules: Rules) -> Candidate | None:
    """Brute force: sort every eligible ticket by an explicit tuple and take the head."""
    fair = ref_fairness_applies(w, cands, rules)

    def sort_tuple(c: Candidate) -> tuple[Any, ...]:
        cls = ref_class(c, w)
        rank_of_class = (0 if cls == 3 else 1) if fair else cls
        return (rank_of_class, *ref_key(c, w))

    ordered = sorted((c for c in cands if ref_eligible(c, w)), key=sort_tuple)
    return ordered[0] if ordered else None


# --- examples -----------------------------------------------------------------------------------------


def test_empty_is_none() -> None:
    assert choose(window(), [], NOW, RULES) is None
    assert pick(window(), ticket(1, queue="C")) is None
    assert pick(window(), ticket(1, target=OTHER)) is None


def test_eligibility() -> None:
    w = window(queues=("A",))
    assert eligible(ticket(1, queue="A"), w)
    assert not eligible(ticket(1, queue="B"), w)
    assert eligible(ticket(1, queue="B", target=HERE), w)
    assert not eligible(ticket(1, queue="A", target=OTHER), w)


def test_transferred_here_beats_priority() -> None:
    w = window()
    assert pick(w, ticket(1, lane="military", arrived=-60), ticket(2, target=HERE, arrived=-1)) == 2


def test_transferred_here_from_foreign_queue_is_called() -> None:
    assert pick(window(queues=("A",)), ticket(1, queue="A"), ticket(2, queue="Z", target=HERE)) == 2


def test_transferred_to_other_window_is_excluded() -> None:
    w = window()
    assert pick(w, ticket(1, lane="vip", target=OTHER, arrived=-90), ticket(2, arrived=-1)) == 2


@pytest.mark.parametrize("lane", sorted(PRIORITY_LANES))
def test_priority_beats_due_appointment(lane: str) -> None:
    w = window()
    assert pick(w, ticket(1, lane="appointment", slot=-5, arrived=-60), ticket(2, lane=lane, arrived=-1)) == 2


def test_due_appointment_beats_ordinary() -> None:
    w = window()
    assert pick(w, ticket(1, arrived=-60), ticket(2, lane="appointment", slot=-5, arrived=-1)) == 2


def test_appointment_slot_boundary_counts_as_begun() -> None:
    c = ticket(2, lane="appointment", slot=0, arrived=-1)
    assert ticket_class(c, window(), NOW) == 2
    assert not is_ordinary(c, NOW)
    assert pick(window(), ticket(1, arrived=-60), c) == 2


def test_appointment_before_slot_waits_as_ordinary() -> None:
    early = ticket(2, lane="appointment", slot=10, arrived=-40)
    assert ticket_class(early, window(), NOW) == 3
    assert is_ordinary(early, NOW)
    assert pick(window(), ticket(1, arrived=-60), early) == 1
    assert pick(window(), ticket(1, arrived=-20), early) == 2
    assert ticket_class(ticket(3, lane="appointment"), window(), NOW) == 3


def test_classes_and_ordinariness() -> None:
    w = window()
    assert [ticket_class(ticket(i, lane=lane), w, NOW) for i, lane in enumerate(LANES)] == [3, 1, 1, 1, 3]
    assert ticket_class(ticket(1, lane="vip", target=HERE), w, NOW) == 0
    assert is_ordinary(ticket(1, target=HERE), NOW)
    assert not is_ordinary(ticket(1, lane="special", target=HERE), NOW)


def test_earliest_arrival_across_queues() -> None:
    w = window(queues=("A", "B"))
    assert pick(w, ticket(1, queue="A", arrived=-10), ticket(2, queue="B", arrived=-20)) == 2


def test_queue_order_breaks_exact_ties() -> None:
    a, b = ticket(1, queue="A", arrived=-10), ticket(2, queue="B", arrived=-10)
    assert pick(window(queues=("A", "B")), a, b) == 1
    assert pick(window(queues=("B", "A")), a, b) == 2


def test_id_breaks_remaining_ties() -> None:
    assert pick(window(), ticket(7, arrived=-10), ticket(3, arrived=-10)) == 3


def test_strict_order_takes_queue_before_arrival() -> None:
    a, b = ticket(1, queue="A", arrived=-10), ticket(2, queue="B", arrived=-20)
    assert pick(window(queues=("A", "B"), strict=True), a, b) == 1
    assert pick(window(queues=("B", "A"), strict=True), a, b) == 2
    assert pick(window(queues=("A", "B"), strict=True), ticket(3, queue="A", arrived=-5), a) == 1


def test_strict_order_still_respects_classes() -> None:
    w = window(queues=("A", "B"), strict=True)
    assert pick(w, ticket(1, queue="A"), ticket(2, queue="B", lane="military", arrived=-1)) == 2


def test_transferred_here_ranks_foreign_queue_last_in_strict_order() -> None:
    w = window(queues=("A",), strict=True)
    assert pick(w, ticket(1, queue="Z", target=HERE, arrived=-50), ticket(2, queue="A", target=HERE)) == 2


def test_fairness_after_k_priority_calls() -> None:
    cands = (ticket(1, arrived=-60), ticket(2, arrived=-70), ticket(3, lane="military", arrived=-1))
    assert pick(window(streak=2), *cands) == 3
    assert pick(window(streak=3), *cands) == 2
    assert pick(window(streak=5), *cands) == 2
    assert pick(window(streak=1), *cands, rules=Rules(max_priority_streak=1)) == 2
    assert pick(window(streak=0), *cands, rules=Rules(max_priority_streak=0)) == 2


def test_fairness_also_beats_due_appointment() -> None:
    cands = (ticket(1, arrived=-60), ticket(2, lane="appointment", slot=-1, arrived=-1))
    assert pick(window(streak=3), *cands) == 1


def test_fairness_never_beats_transferred_here() -> None:
    cands = (ticket(1, arrived=-60), ticket(2, lane="vip", target=HERE, arrived=-1))
    assert pick(window(streak=9), *cands) == 2


def test_fairness_without_ordinary_ticket_keeps_priority_order() -> None:
    cands = (ticket(1, lane="appointment", slot=-5, arrived=-60), ticket(2, lane="vip", arrived=-1))
    assert pick(window(streak=9), *cands) == 2


def test_fairness_picks_first_ordinary_by_strict_key() -> None:
    cands = (ticket(1, queue="B", arrived=-90), ticket(2, queue="A", arrived=-10), ticket(3, lane="vip"))
    assert pick(window(strict=True, streak=3), *cands) == 2


def test_next_streak() -> None:
    assert next_streak(2, ticket(1, lane="military"), NOW) == 3
    assert next_streak(2, ticket(1, lane="appointment", slot=-1), NOW) == 3
    assert next_streak(2, ticket(1, lane="appointment", slot=1), NOW) == 0
    assert next_streak(2, ticket(1), NOW) == 0
    assert next_streak(2, ticket(1, target=HERE), NOW) == 0
    assert next_streak(2, ticket(1, lane="vip", target=HERE), NOW) == 3


def test_choose_does_not_mutate_input() -> None:
    cands = [ticket(2, lane="vip"), ticket(1)]
    before = list(cands)
    choose(window(), cands, NOW, RULES)
    assert cands == before


def test_choose_accepts_a_generator() -> None:
    assert choose(window(), (ticket(i, arrived=-i) for i in range(3)), NOW, RULES) == ticket(2, arrived=-2)


# --- properties ---------------------------------------------------------------------------------------

QUEUES = ("A", "B", "C")
SLOTS = (None, -5, 0, 5)


@st.composite
def candidate_lists(draw: st.DrawFn) -> list[Candidate]:
    """Small lists of candidates with unique ids and many ties."""
    n = draw(st.integers(min_value=0, max_value=6))
    ids = draw(st.lists(st.integers(0, 50), min_size=n, max_size=n, unique=True))
    return [
        ticket(
            i,
            queue=draw(st.sampled_from(QUEUES)),
            lane=draw(st.sampled_from(LANES)),
            arrived=-draw(st.integers(0, 3)),
            target=draw(st.sampled_from((None, None, HERE, OTHER))),
            slot=draw(st.sampled_from(SLOTS)),
        )
        for i in ids
    ]


windows = st.builds(
    window,
    queues=st.lists(st.sampled_from(QUEUES), min_size=1, max_size=3, unique=True).map(tuple),
    strict=st.booleans(),
    streak=st.integers(0, 5),
)
rules_st = st.builds(Rules, max_priority_streak=st.integers(0, 4))


@settings(max_examples=500)
@given(windows, candidate_lists(), rules_st)
def test_chosen_is_best_eligible_unless_fairness(w: WindowView, cands: list[Candidate], rules: Rules) -> None:
    chosen = choose(w, cands, NOW, rules)
    pool = [c for c in cands if ref_eligible(c, w)]
    assert (chosen is None) == (not pool)
    if chosen is None:
        return
    assert chosen in pool
    assert eligible(chosen, w)
    assert ticket_class(chosen, w, NOW) == ref_class(chosen, w)
    rank = (ref_class(chosen, w), ref_key(chosen, w))
    if ref_fairness_applies(w, cands, rules):
        assert ref_class(chosen, w) == 3
        assert all(ref_key(chosen, w) <= ref_key(c, w) for c in pool if ref_class(c, w) == 3)
    else:
        assert all(rank <= (ref_class(c, w), ref_key(c, w)) for c in pool)


@settings(max_examples=500)
@given(windows, candidate_lists().flatmap(lambda cs: st.tuples(st.just(cs), st.permutations(cs))), rules_st)
def test_permutation_invariance(w: WindowView, lists: tuple[list[Candidate], list[Candidate]], rules: Rules) -> None:
    cands, shuffled = lists
    assert choose(w, shuffled, NOW, rules) == choose(w, cands, NOW, rules)
    assert choose(w, reversed(cands), NOW, rules) == choose(w, cands, NOW, rules)


@settings(max_examples=500)
@given(windows, candidate_lists(), rules_st)
def test_matches_reference(w: WindowView, cands: list[Candidate], rules: Rules) -> None:
    assert choose(w, cands, NOW, rules) == ref_choose(w, cands, rules)


@settings(max_examples=300)
@given(
    st.booleans(),
    st.integers(0, 4),
    st.integers(0, 6),
    st.lists(st.lists(st.sampled_from((*LANES, "appointment-due")), max_size=3), min_size=1, max_size=25),
)
def test_simulation_oldest_ordinary_waits_at_most_k_priority_calls(
    strict: bool, k: int, streak: int, arrivals: list[list[str]]
) -> None:
    rules = Rules(max_priority_streak=k)
    waiting: list[Candidate] = []
    tracked: Candidate | None = None
    skipped = 0
    next_id = 0
    for step, batch in enumerate(arrivals):
        now = NOW + timedelta(minutes=step)
        for j, kind in enumerate(batch):
            lane, slot = kind, None
            if kind == "appointment-due":
                lane, slot = "appointment", now
            elif kind == "appointment":
                slot = now + timedelta(minutes=2)  # begins two calls later
            queue = QUEUES[(next_id + j) % 2]
            waiting.append(Candidate(next_id, queue, lane, now, slot_start=slot))
            next_id += 1
        w = window(queues=("A", "B"), strict=strict, streak=streak)
        ordinary = [c for c in waiting if ref_class(c, w, now) == 3]
        oldest = min(ordinary, key=lambda c: ref_key(c, w), default=None)
        if oldest != tracked:
            tracked, skipped = oldest, 0
        chosen = choose(w, waiting, now, rules)
        if chosen is None:
            continue
        waiting.remove(chosen)
        streak = next_streak(streak, chosen, now)
        if tracked is not None and not is_ordinary(chosen, now):
            skipped += 1
            assert skipped <= k, f"oldest ordinary {tracked} passed over {skipped} times (K={k})"


def test_simulation_example_priority_flood() -> None:
    """Two VIP tickets arrive before every call; the waiting ordinary ticket goes fourth with K=3."""
    waiting = [ticket(0, arrived=-10)]
    streak, calls = 0, []
    for step in range(6):
        waiting += [ticket(10 + 2 * step + j, lane="vip", arrived=step) for j in range(2)]
        chosen = choose(window(streak=streak), waiting, NOW, RULES)
        assert chosen is not None
        waiting.remove(chosen)
        streak = next_streak(streak, chosen, NOW)
        calls.append(chosen.id)
    assert calls == [10, 11, 12, 0, 13, 14]


# --- exhaustive ---------------------------------------------------------------------------------------

LANE_VARIANTS: tuple[tuple[str, int | None], ...] = (
    ("normal", None),
    ("military", None),
    ("special", None),
    ("vip", None),
    ("appointment", 0),  # slot begins exactly now
    ("appointment", 5),  # slot not yet begun
)
UNIVERSE = [
    (queue, lane, slot, arrived, target)
    for queue in ("A", "B")
    for lane, slot in LANE_VARIANTS
    for arrived in (-2, -1)
    for target in (None, HERE, OTHER)
]
EXHAUSTIVE_WINDOWS = [
    window(queues=("A", "B"), strict=False, streak=3),
    window(queues=("B", "A"), strict=True, streak=0),
    window(queues=("A",), strict=False, streak=3),
    window(queues=("B", "A"), strict=False, streak=2),
]


def test_exhaustive_small_universe() -> None:
    """Every multiset of up to 3 tickets from the universe (ids by position), on several windows."""
    checked = 0
    for size in range(4):
        for combo in itertools.combinations_with_replacement(UNIVERSE, size):
            cands = [
                Candidate(i, q, lane, at(arr), target, None if slot is None else at(slot))
                for i, (q, lane, slot, arr, target) in enumerate(combo)
            ]
            for w in EXHAUSTIVE_WINDOWS:
                assert choose(w, cands, NOW, RULES) == ref_choose(w, cands, RULES), (w, cands)
                checked += 1
    assert checked > 100_000


def test_exhaustive_four_tickets_reduced_universe() -> None:
    """Every multiset of exactly 4 tickets from a universe with one lane per class behaviour."""
    universe = [
        t
        for t in UNIVERSE
        if t[1] in ("normal", "vip", "appointment") and (t[4] != OTHER or (t[0], t[1], t[3]) == ("A", "vip", -2))
    ]
    for combo in itertools.combinations_with_replacement(universe, 4):
        cands = [
            Candidate(i, q, lane, at(arr), target, None if slot is None else at(slot))
            for i, (q, lane, slot, arr, target) in enumerate(combo)
        ]
        for w in EXHAUSTIVE_WINDOWS:
            assert choose(w, cands, NOW, RULES) == ref_choose(w, cands, RULES), (w, cands)


def test_candidate_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ticket(1).id = 2  # type: ignore[misc]
