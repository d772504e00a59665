"""Queue policy: which waiting ticket a window calls next (pure, no I/O, stdlib only).

Eligibility: a ticket is eligible at window ``w`` if ``c.target_window == w.number``, or if
``c.target_window is None and c.queue in w.queues``. A ticket transferred to another window is never
eligible here.

Classes (lower is called first):

0. transferred to this window explicitly (``target_window == w.number``);
1. priority lane (``military`` 军人, ``special`` 老弱病残, ``vip`` key projects);
2. lane ``appointment`` whose ``slot_start`` is set and ``<= now`` (the slot has begun);
3. everything else (ordinary); an appointment whose slot has not begun waits as ordinary.

A ticket is *ordinary* if its lane is not a priority lane and it is not an appointment whose slot has
begun. A class-0 ticket is ordinary or not by this same rule.

Within a class the order key is ``(arrived_at, queue_rank, id)``, or ``(queue_rank, arrived_at, id)``
when the window has ``strict_order``; ``queue_rank`` is the index of the ticket's queue in ``w.queues``,
or ``len(w.queues)`` if absent (possible for class 0). ``arrived_at`` is the original arrival, kept across
transfers and recalls. Ticket ids are unique.

Fairness (no starvation): class 0 is always first. Otherwise, if ``w.priority_streak >=
rules.max_priority_streak`` and an eligible class-3 ticket exists, the first class-3 ticket by the order
key is called even if class 1/2 tickets wait. After a call the streak becomes ``streak + 1`` if the
called ticket is not ordinary, else 0 (see ``next_streak``).

``choose`` returns None when nothing is eligible, never mutates its input, and its result does not
depend on the order of the candidates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

PRIORITY_LANES: frozenset[str] = frozenset({"military", "special", "vip"})
APPOINTMENT_LANE = "appointment"
LANES: tuple[str, ...] = ("normal", "military", "special", "vip", APPOINTMENT_LANE)

CLASS_TRANSFERRED = 0
CLASS_PRIORITY = 1
CLASS_APPOINTMENT = 2
CLASS_ORDINARY = 3


@dataclass(frozen=True, slots=True)
class Candidate:
    """A waiting ticket as the policy sees it."""

    id: int
    queue: str
    lane: str
    arrived_at: datetime
    target_window: int | None = None
    slot_start: datetime | None = None


@dataclass(frozen=True, slots=True)
class WindowView:
    """The calling window: its number, ordered queues and current priority streak."""

    number: int
    queues: tuple[str, ...]
    strict_order: bool = False
    priority_streak: int = 0


@dataclass(frozen=True, slots=True)
class Rules:
    """Hall rules for the policy."""

    max_priority_streak: int = 3


def eligible(c: Candidate, w: WindowView) -> bool:
    """Return True if window ``w`` may call ticket ``c``."""
    if c.target_window is not None:
        return c.target_window == w.number
    return c.queue in w.queues


def lane_class(lane: str, slot_start: datetime | None, now: datetime) -> int:
    """Return the class (1 priority, 2 appointment due, 3 ordinary) of a ticket not transferred to the window.

    The one statement of the rule: ``ticket_class`` and ``services.stats`` (in Python and as SQL,
    ``class_expr``, pinned by tests/queue_server/test_policy_sql.py) are built on it.
    """
    if lane in PRIORITY_LANES:
        return CLASS_PRIORITY
    if lane == APPOINTMENT_LANE and slot_start is not None and slot_start <= now:
        return CLASS_APPOINTMENT
    return CLASS_ORDINARY


def is_ordinary(c: Candidate, now: datetime) -> bool:
    """Return True if ``c`` is neither a priority-lane ticket nor an appointment whose slot has begun."""
    return lane_class(c.lane, c.slot_start, now) == CLASS_ORDINARY


def ticket_class(c: Candidate, w: WindowView, now: datetime) -> int:
    """Return the class (0 transferred here, 1 priority, 2 appointment due, 3 ordinary) of ``c`` at ``w``."""
    if c.target_window == w.number:
        return CLASS_TRANSFERRED
    return lane_class(c.lane, c.slot_start, now)


def _order_key(c: Candidate, w: WindowView) -> tuple[int, datetime, int, int]:
    """Order within a class; the leading element is the queue rank only under ``strict_order``."""
    rank = w.queues.index(c.queue) if c.queue in w.queues else len(w.queues)
    return (rank if w.strict_order else 0, c.arrived_at, rank, c.id)


def choose(w: WindowView, candidates: Iterable[Candidate], now: datetime, rules: Rules) -> Candidate | None:
    """Return the ticket window ``w`` calls next, or None if no candidate is eligible."""
    pool = [c for c in candidates if eligible(c, w)]
    if not pool:
        return None
    best = min(pool, key=lambda c: (ticket_class(c, w, now), _order_key(c, w)))
    if ticket_class(best, w, now) == CLASS_TRANSFERRED or w.priority_streak < rules.max_priority_streak:
        return best
    ordinary = [c for c in pool if ticket_class(c, w, now) == CLASS_ORDINARY]
    return min(ordinary, key=lambda c: _order_key(c, w)) if ordinary else best


def next_streak(streak: int, chosen: Candidate, now: datetime) -> int:
    """Return the window's priority streak after calling ``chosen``."""
    return 0 if is_ordinary(chosen, now) else streak + 1
