"""The queue policy in SQL is the policy: `services.stats.class_expr`, and the call order built on it, run
against random queues on each database and compared with `queue_server/policy.py`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select
from sqlmodel import Session, col

from queue_server.context import HallContext
from queue_server.models import WAITING, Ticket
from queue_server.policy import LANES, Candidate, Rules, WindowView, choose, ticket_class
from queue_server.services import stats

NOW = datetime(2026, 5, 6, 2, 0, 0, 500_000, tzinfo=UTC)  # microseconds: the boundary is exact, not rounded
WINDOW = WindowView(number=1, queues=("A",))

# One waiting ticket: lane, arrival and slot start in seconds from NOW (the slot may begin exactly now;
# arrivals may tie, then the id decides).
TICKET = st.tuples(
    st.sampled_from(LANES),
    st.integers(-7200, 0),
    st.one_of(st.none(), st.integers(-3600, 3600), st.just(0)),
)


def _insert(s: Session, tickets: list[tuple[str, int, int | None]]) -> list[Candidate]:
    """Store the tickets in hall t1's queue A; the policy's view of each."""
    out = []
    for i, (lane, arrived, slot) in enumerate(tickets, start=1):
        row: dict[str, Any] = {
            "hall_code": "t1",
            "service_day": date(2026, 5, 6),
            "issue_queue": "A",
            "seq": i,
            "number": f"A{i:03d}",
            "queue": "A",
            "lane": lane,
            "status": WAITING,
            "channel": "kiosk",
            "arrived_at": NOW + timedelta(seconds=arrived),
            "issued_at": NOW + timedelta(seconds=arrived),
            "slot_start": None if slot is None else NOW + timedelta(seconds=slot),
            "track_token": f"policy-sql-{i}",
        }
        tid = s.execute(insert(Ticket).values(**row).returning(col(Ticket.id))).scalar_one()
        out.append(Candidate(tid, "A", lane, row["arrived_at"], None, row["slot_start"]))
    return out


def _policy_order(candidates: list[Candidate]) -> list[int]:
    """The order in which the policy calls the queue (a window never past its priority streak)."""
    left, order = list(candidates), []
    rules = Rules(max_priority_streak=len(candidates) + 1)
    while (c := choose(WINDOW, left, NOW, rules)) is not None:
        order.append(c.id)
        left.remove(c)
    return order


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tickets=st.lists(TICKET, min_size=1, max_size=12))
def test_sql_class_and_call_order_are_the_policys(ctx: HallContext, tickets: list[tuple[str, int, int | None]]) -> None:
    with Session(ctx.db.engine) as s:
        try:
            candidates = _insert(s, tickets)
            cls = stats.class_expr(NOW)
            rows = s.execute(
                select(col(Ticket.id), cls, col(Ticket.lane), col(Ticket.slot_start))
                .where(col(Ticket.hall_code) == "t1", col(Ticket.status) == WAITING)
                .order_by(cls, col(Ticket.arrived_at), col(Ticket.id))
            ).all()
        finally:
            s.rollback()
    by_id = {c.id: c for c in candidates}
    for tid, sql_class, lane, slot in rows:
        want = ticket_class(by_id[tid], WINDOW, NOW)
        assert sql_class == want, (lane, slot)
        assert stats.ticket_class(by_id[tid], NOW) == want
    assert [r[0] for r in rows] == _policy_order(candidates)
