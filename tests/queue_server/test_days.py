"""Service days: numbering restarts each local day; what is left open at day's end expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from queue_server.app import prepare
from queue_server.context import HallContext
from queue_server.errors import NotFound
from queue_server.models import Event, Ticket, Window
from queue_server.services import issuing
from queue_server.services import tickets as svc
from queue_server.services.auth import Principal
from queue_server.services.ticketing import TicketOut
from queue_server.services.tickets import expire_before
from queue_server.timeutil import service_day

CLERK = Principal("user", "clerk1", "clerk", "t1")


def issue_at(ctx: HallContext, at: datetime, queue: str = "A") -> TicketOut:
    with ctx.transaction("t1", now=at) as tx:
        return issuing.issue(tx, queue=queue)


def test_service_day_follows_the_hall_timezone(ctx: HallContext) -> None:
    tz = ctx.zones["t1"]  # Asia/Shanghai, UTC+8
    late = datetime(2026, 11, 27, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    early = datetime(2026, 11, 27, 16, 1, tzinfo=UTC)  # 00:01 the next day in Shanghai
    assert service_day(late, tz).isoformat() == "2026-11-27"
    assert service_day(early, tz).isoformat() == "2026-11-28"
    a = issue_at(ctx, late)
    b = issue_at(ctx, late + timedelta(seconds=30))
    c = issue_at(ctx, early)
    assert [a.ticket.number, b.ticket.number, c.ticket.number] == ["A001", "A002", "A001"]
    assert c.ticket.service_day.isoformat() == "2026-11-28"


def test_day_end_expires_what_is_left(ctx: HallContext) -> None:
    tz = ctx.zones["t1"]
    day1 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 local
    waiting = issue_at(ctx, day1)
    called = issue_at(ctx, day1 + timedelta(minutes=1))
    done = issue_at(ctx, day1 + timedelta(minutes=2), queue="C")
    with ctx.transaction("t1", now=day1 + timedelta(minutes=3)) as tx:
        first = svc.call_next(tx, number=3, actor=CLERK)
        assert first is not None
        assert first.ticket.id == done.ticket.id
        svc.act(tx, ticket_id=first.ticket.id, action="complete", actor=CLERK)
        second = svc.call_ticket(tx, number=1, ticket_id=called.ticket.id, ticket_number=None, actor=CLERK)
        assert second.ticket.status == "called"
    next_day = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    with ctx.transaction("t1", now=next_day) as tx:
        n = expire_before(tx, service_day(tx.now, tz))
    assert n == 2
    with ctx.db.read() as s:
        status = {t.id: t.status for t in s.exec(select(Ticket)).all()}
        windows = {w.number: w.current_ticket_id for w in s.exec(select(Window).where(Window.hall_code == "t1")).all()}
        types = [e.type for e in s.exec(select(Event).where(Event.hall_code == "t1").order_by(Event.seq)).all()]
    assert status == {waiting.ticket.id: "expired", called.ticket.id: "expired", done.ticket.id: "done"}
    assert windows[1] is None  # the window is free for the new day
    assert types.count("ticket.expired") == 2
    assert types[-1] == "queue.stats"
    # running it again changes nothing and emits nothing
    with ctx.transaction("t1", now=next_day) as tx:
        assert expire_before(tx, service_day(tx.now, tz)) == 0
        assert tx.events == []


def test_startup_closes_earlier_days(ctx: HallContext) -> None:
    issue_at(ctx, datetime(2020, 1, 2, 3, 0, tzinfo=UTC))
    prepare(ctx, migrate=False)  # what a server start does
    with ctx.db.read() as s:
        assert [t.status for t in s.exec(select(Ticket)).all()] == ["expired"]


def test_seq_is_gap_free_across_halls_and_failures(ctx: HallContext) -> None:
    at = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    issue_at(ctx, at)

    def two_then_fail() -> None:
        with ctx.transaction("t1", now=at) as tx:
            issuing.issue(tx, queue="A")  # succeeds inside …
            issuing.issue(tx, queue="Z")  # … then the transaction fails: all rolled back

    with pytest.raises(NotFound, match="No queue"):
        two_then_fail()
    issue_at(ctx, at)
    with ctx.db.read() as s:
        seqs = [e.seq for e in s.exec(select(Event).where(Event.hall_code == "t1").order_by(Event.seq)).all()]
        numbers = sorted(t.number for t in s.exec(select(Ticket)).all())
    assert seqs == [1, 2]
    assert numbers == ["A001", "A002"]
