"""Waiting counts, people ahead and estimated waits, read inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlmodel import Session, col

from ..estimate import capacity, estimated_wait_s
from ..models import WAITING, Queue, Ticket, TicketRow, Window
from ..policy import APPOINTMENT_LANE, CLASS_APPOINTMENT, CLASS_ORDINARY, CLASS_PRIORITY, PRIORITY_LANES, lane_class


def _priority_lane() -> ColumnElement[bool]:
    """`lane` is a priority lane. Equalities, not `IN (…)`: a list IN is an expanding parameter, whose SQL
    SQLAlchemy renders again at every execution (a tenth of call-next's heads query, measured)."""
    return or_(*(col(Ticket.lane) == lane for lane in sorted(PRIORITY_LANES)))


def class_expr(now: datetime | BindParameter[datetime]) -> ColumnElement[int]:
    """SQL for the policy's ticket class (`policy.lane_class`), without the per-window class 0 (transfers to
    a window). Pinned to the policy on both databases by tests/queue_server/test_policy_sql.py."""
    return case(
        (_priority_lane(), CLASS_PRIORITY),
        (and_(col(Ticket.lane) == APPOINTMENT_LANE, col(Ticket.slot_start) <= now), CLASS_APPOINTMENT),
        else_=CLASS_ORDINARY,
    )


def queue_heads(cols: Iterable[Any], queue: Any, limit: Any) -> list[Any]:
    """UNION ALL members over a hall's waiting queue (not the tickets transferred to a window): the first
    `limit` ordinary and the first `limit` priority tickets by arrival, and every appointment ticket (their
    class depends on the clock). Within a class the earlier arrival comes first, so these hold the queue's
    first `limit` in call order without sorting the whole queue (call-next, the N-ahead message).

    `queue` and `limit` are bound parameters or values; the hall is the parameter `h`.
    """
    cols = tuple(cols)
    here = (
        col(Ticket.hall_code) == bindparam("h"),
        col(Ticket.status) == WAITING,
        col(Ticket.queue) == queue,
        col(Ticket.target_window).is_(None),
    )
    members: list[Any] = []
    for lanes in (col(Ticket.lane) == "normal", _priority_lane()):
        first = select(*cols).where(*here, lanes).order_by(col(Ticket.arrived_at), col(Ticket.id)).limit(limit)
        members.append(select(*first.subquery().c))  # LIMIT inside a UNION member needs a subquery
    members.append(select(*cols).where(*here, col(Ticket.lane) == "appointment"))
    return members


class Classed(Protocol):
    """What the class of a ticket depends on (a Ticket, a TicketRow, or a row with these columns)."""

    @property
    def lane(self) -> str: ...

    @property
    def slot_start(self) -> datetime | None: ...


def ticket_class(t: Classed, now: datetime) -> int:
    """The same class, computed in Python for one ticket (`policy.lane_class`)."""
    return lane_class(t.lane, t.slot_start, now)


def people_ahead(session: Session, t: Ticket | TicketRow, now: datetime) -> int:
    """Waiting tickets of the same queue that the policy would call before this one."""
    if t.status != WAITING:
        return 0
    cls = class_expr(now)
    mine = ticket_class(t, now)
    same_class_earlier = and_(
        cls == mine,
        or_(
            col(Ticket.arrived_at) < t.arrived_at,
            and_(col(Ticket.arrived_at) == t.arrived_at, col(Ticket.id) < t.id),
        ),
    )
    stmt = select(func.count()).where(
        col(Ticket.hall_code) == t.hall_code,
        col(Ticket.status) == WAITING,
        col(Ticket.queue) == t.queue,
        col(Ticket.target_window).is_(None),
        col(Ticket.id) != t.id,
        or_(cls < mine, same_class_earlier),
    )
    return int(session.execute(stmt).scalar_one())


_QUEUE_AVGS = (
    select(col(Queue.code), col(Queue.avg_service_s))
    .where(col(Queue.hall_code) == bindparam("h"))
    .order_by(col(Queue.position))
)
_WINDOWS = select(col(Window.queues), col(Window.status)).where(col(Window.hall_code) == bindparam("h"))


class HallLoad:
    """Per-queue service averages and window capacity of one hall, read once per transaction."""

    def __init__(self, session: Session, hall: str) -> None:
        self.avg = {code: float(a) for code, a in session.execute(_QUEUE_AVGS, {"h": hall}).all()}
        self.windows = [(tuple(qs.split(",")), st == "open") for qs, st in session.execute(_WINDOWS, {"h": hall}).all()]

    def estimate(self, queue: str, ahead: int, avg: float | None = None) -> int:
        """Seconds to wait behind `ahead` people in `queue`."""
        a = avg if avg is not None else self.avg.get(queue, 300.0)
        configured = sum(1 for qs, _ in self.windows if queue in qs)
        return estimated_wait_s(ahead, a, capacity(queue, self.windows), configured)


# Built once with bind parameters (every change's event carries these counts): SQLAlchemy reuses the
# compiled statement and its cache key instead of rebuilding them on each call.
_WAITING_ALL = (
    select(col(Ticket.queue), func.count())
    .where(col(Ticket.hall_code) == bindparam("h"), col(Ticket.status) == WAITING)
    .group_by(col(Ticket.queue))
)
_WAITING_IN = _WAITING_ALL.where(col(Ticket.queue).in_(bindparam("qs", expanding=True)))


def waiting_counts(session: Session, hall: str, queues: Iterable[str] | None = None) -> dict[str, int]:
    """Waiting tickets per queue code (tickets transferred to a window count in their queue too)."""
    wanted = None if queues is None else list(queues)
    params: dict[str, Any] = {"h": hall}
    if wanted is not None:
        params["qs"] = wanted
    rows = session.execute(_WAITING_ALL if wanted is None else _WAITING_IN, params).all()
    counts = {code: int(n) for code, n in rows}
    if wanted is not None:
        return {code: counts.get(code, 0) for code in wanted}
    return counts


def queue_stats(session: Session, hall: str, queues: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """`[{"code", "waiting", "estimated_wait_s"}]` for the given queues (all of the hall by default)."""
    load = HallLoad(session, hall)
    codes = list(queues) if queues is not None else list(load.avg)
    counts = waiting_counts(session, hall, codes)
    return [
        {"code": c, "waiting": counts.get(c, 0), "estimated_wait_s": load.estimate(c, counts.get(c, 0))} for c in codes
    ]
