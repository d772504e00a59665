"""The policy's ticket class in SQL and in Python, and estimated waits from a hall's load."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import and_, case, or_
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlmodel import col

from ..estimate import capacity, estimated_wait_s
from ..models import Ticket
from ..policy import APPOINTMENT_LANE, CLASS_APPOINTMENT, CLASS_ORDINARY, CLASS_PRIORITY, PRIORITY_LANES, lane_class
from ..store import halls as store


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


class Classed(Protocol):
    """What the class of a ticket depends on (a TicketRow, or a row with these columns)."""

    @property
    def lane(self) -> str: ...

    @property
    def slot_start(self) -> datetime | None: ...


def ticket_class(t: Classed, now: datetime) -> int:
    """The same class, computed in Python for one ticket (`policy.lane_class`)."""
    return lane_class(t.lane, t.slot_start, now)


class HallLoad:
    """Per-queue service averages and window capacity of one hall, read once per transaction."""

    def __init__(self, avg: dict[str, float], windows: list[tuple[tuple[str, ...], bool]]) -> None:
        self.avg = avg
        self.windows = windows

    @classmethod
    def read(cls, conn: Connection, hall: str) -> HallLoad:
        """The hall's load as stored now."""
        return cls(store.queue_avgs(conn, hall), store.window_loads(conn, hall))

    def estimate(self, queue: str, ahead: int, avg: float | None = None) -> int:
        """Seconds to wait behind `ahead` people in `queue`."""
        a = avg if avg is not None else self.avg.get(queue, 300.0)
        configured = sum(1 for qs, _ in self.windows if queue in qs)
        return estimated_wait_s(ahead, a, capacity(queue, self.windows), configured)
