"""call-next looks only at the head of each queue and class: that must pick what a full look would."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from queue_server import policy
from queue_server.context import HallContext
from queue_server.services import halls as hall_svc
from queue_server.services import issuing
from queue_server.services import tickets as ticket_svc
from queue_server.services.auth import Principal
from queue_server.store import tickets as store

NOW = datetime(2030, 3, 4, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("seed", range(6))
def test_heads_choose_like_all_waiting(ctx: HallContext, seed: int) -> None:
    rnd = random.Random(seed)
    with ctx.transaction("t1", now=NOW) as tx:
        for i in range(60):
            tx.now = NOW - timedelta(minutes=rnd.randrange(0, 30), seconds=i)
            lane = rnd.choice(["normal"] * 4 + ["military", "special", "vip", "appointment"])
            slot = NOW + timedelta(minutes=rnd.choice([-20, -5, 10])) if lane == "appointment" else None
            queue = rnd.choice("ABC")
            if slot is None:
                out = issuing.issue(tx, queue=queue, lane=lane)
            else:
                out = issuing.issue_checked_in(tx, queue=queue, lane=lane, slot_start=slot, personal={})
            if rnd.random() < 0.1:
                store.update_ticket(tx.conn, out.ticket, target_window=rnd.choice([1, 2, 5]))
        tx.now = NOW
        for number, queues, strict in (
            (1, "A,B", False),
            (2, "B,A", False),
            (3, "C", False),
            (4, "A,B,C", True),
            (5, "A", False),
        ):
            for streak in (0, 3):
                view = policy.WindowView(number, tuple(queues.split(",")), strict, streak)
                full = policy.choose(view, store.all_waiting(tx.conn, "t1", view), NOW, policy.Rules(3))
                candidates, free = store.heads(tx.conn, "t1", view, NOW)
                heads = policy.choose(view, candidates, NOW, policy.Rules(3))
                assert (heads.id if heads else None) == (full.id if full else None), (number, streak)
                # the chosen one's row came with the heads: call-next reads nothing more
                assert heads is None or free[heads.id].id == heads.id, (number, streak)


CLERK = Principal("user", "clerk1", "clerk", "t1")


def test_heads_come_with_the_rows_a_call_may_take(ctx: HallContext) -> None:
    """heads answers each candidate's full row in the same statement (no read of the chosen one after it); a
    ticket another transaction holds (PostgreSQL: row-locked elsewhere) comes without its row, and call-next
    skips it for the next in line rather than waiting for it or calling it twice."""
    with ctx.transaction("t1", now=NOW) as tx:
        first, second = (issuing.issue(tx, queue="A").ticket for _ in range(2))
        hall_svc.set_window_status(tx, number=5, status="open", reason="", actor=CLERK)
    view = policy.WindowView(5, ("A",), False, 0)
    with ctx.transaction("t1", now=NOW) as tx:
        candidates, free = store.heads(tx.conn, "t1", view, NOW)
        assert [c.id for c in candidates] == [first.id]
        assert free == {first.id: first}
    if ctx.db.is_sqlite:
        return
    with ctx.db.write() as other:  # another transaction holds the first ticket's row
        other.connection().exec_driver_sql(f"SELECT id FROM ticket WHERE id = {first.id} FOR UPDATE")
        with ctx.transaction("t1", now=NOW) as tx:
            candidates, free = store.heads(tx.conn, "t1", view, NOW)
            assert [c.id for c in candidates] == [first.id] and free == {}
            called = ticket_svc.call_next(tx, number=5, actor=CLERK)
            assert called is not None and called.ticket.id == second.id
        other.rollback()


def test_heads_read_the_rows_of_the_first_of_each_class_only(ctx: HallContext) -> None:
    """Every waiting appointment is a candidate (its class depends on the clock), but only the first by arrival of
    each class can be called: only those rows are read (and locked on PostgreSQL)."""
    with ctx.transaction("t1", now=NOW) as tx:
        first = issuing.issue(tx, queue="A").ticket
        issuing.issue(tx, queue="A")
        early, begun, later = (
            issuing.issue_checked_in(tx, queue="A", lane="appointment", slot_start=NOW + delta, personal={}).ticket
            for delta in (timedelta(minutes=-5), timedelta(minutes=-20), timedelta(minutes=10))
        )
        candidates, free = store.heads(tx.conn, "t1", policy.WindowView(5, ("A",), False, 0), NOW)
    assert {c.id for c in candidates} == {first.id, early.id, begun.id, later.id}
    assert set(free) == {first.id, early.id}  # the first ordinary (a later appointment is one), the first begun


HEAD_OF_QUEUE = (
    "SELECT id, queue, lane, arrived_at, target_window, slot_start FROM ticket"
    " WHERE hall_code = 't1' AND status = 'waiting' AND queue = 'A' AND target_window IS NULL AND lane = 'normal'"
    " ORDER BY arrived_at, id LIMIT 1"
)
TRANSFERRED_HERE = (
    "SELECT id, queue, lane, arrived_at, target_window, slot_start FROM ticket"
    " WHERE hall_code = 't1' AND status = 'waiting' AND target_window = 2"
)


def _plan(ctx: HallContext, sql: str) -> list[str]:
    with ctx.db.write() as s:
        if ctx.db.is_sqlite:
            return [str(row[-1]) for row in s.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
        # ask whether the index can answer it: with 300 tickets a sequential scan would be as cheap
        s.connection().exec_driver_sql("SET LOCAL enable_seqscan = off")
        s.connection().exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        return [str(row[0]) for row in s.connection().exec_driver_sql("EXPLAIN " + sql)]


def test_a_queues_head_and_a_windows_transfers_are_index_lookups(ctx: HallContext) -> None:
    """call-next's heads (and the N-ahead message) read the first ordinary ticket of a queue by arrival with
    one index seek, not a sort of the whole waiting queue on every call; the tickets transferred to a
    window are found without reading every waiting ticket of the hall (migration 0009)."""
    with ctx.transaction("t1") as tx:
        for i in range(300):
            issuing.issue(tx, queue="ABC"[i % 3])
    if not ctx.db.is_sqlite:
        with ctx.db.write() as s:
            s.connection().exec_driver_sql("ANALYZE ticket")
    head = _plan(ctx, HEAD_OF_QUEUE)
    transfers = _plan(ctx, TRANSFERRED_HERE)
    assert any("ix_ticket_waiting" in step for step in head), head
    assert not any("TEMP B-TREE" in step or "Sort" in step for step in head), head
    assert any("ix_ticket_targeted" in step for step in transfers), transfers
