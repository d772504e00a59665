"""call-next looks only at the head of each queue and class: that must pick what a full look would."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from queue_server import policy
from queue_server.app import build_context
from queue_server.context import HallContext
from queue_server.services import issuing, tickets
from queue_server.services.auth import Principal
from queue_server.store import halls as hall_store
from queue_server.store import tickets as store

from ..harness import runtime

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
                heads = policy.choose(view, store.heads(tx.conn, "t1", view), NOW, policy.Rules(3))
                assert (heads.id if heads else None) == (full.id if full else None), (number, streak)


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


def test_an_idle_windows_call_reads_no_heads_when_the_memo_knows_nobody_waits(
    ctx: HallContext, tmp_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """call-next answers "nobody" without reading the queue heads when the hall's memo of waiting counts, exact as
    of the hall's seq, says no ticket waits (the city's idle windows: a third of its morning requests); a ticket
    issued since, by this writer or (PostgreSQL) by another server process, is called all the same."""
    other = ctx
    if not ctx.db.is_sqlite:
        other = build_context(runtime(tmp_db, tmp_path / "b"))  # a second process's writer on the same hall
    reads: list[str] = []
    real = store.heads_pending  # `heads` and the heads read with the window (PostgreSQL) both go through it
    monkeypatch.setattr(store, "heads_pending", lambda conn, hall, *a: reads.append(hall) or real(conn, hall, *a))
    admin = Principal(kind="user", name="admin", role="admin", hall=None)

    def run(c: HallContext, fn: Any) -> Any:
        return asyncio.run(c.change("t1", fn))

    def call(number: int) -> int | None:
        out = run(ctx, lambda tx: tickets.call_next(tx, number=number, actor=admin))
        return None if out is None else out.ticket.id

    try:
        first = run(ctx, lambda tx: issuing.issue(tx, queue="A").ticket.id)
        assert call(1) == first
        reads.clear()
        assert call(2) is None
        assert reads == [], "the memo knew nobody waits, and the heads were read"
        second = run(other, lambda tx: issuing.issue(tx, queue="B").ticket.id)
        assert call(2) == second
        assert reads == ["t1"]
    finally:
        if other is not ctx:
            other.close()


def test_a_windows_call_reads_the_heads_of_its_rows_queues(ctx: HallContext) -> None:
    """The heads read with the window's row (PostgreSQL) are for the queues the configuration gives the window;
    when its row says others (the configuration changed since start-up), call-next and F9 read those of the row's."""
    with ctx.transaction("t1") as tx:
        issuing.issue(tx, queue="A")
        c = issuing.issue(tx, queue="C").ticket.id
        hall_store.update_window(tx.conn, hall_store.window(tx.conn, "t1", 1), queues="C")  # configured: A,B
    admin = Principal(kind="user", name="admin", role="admin", hall=None)
    out = asyncio.run(ctx.change("t1", lambda tx: tickets.call_next(tx, number=1, actor=admin)))
    assert out is not None and out.ticket.id == c
    with ctx.transaction("t1") as tx:  # F9 too: its heads are read with the window and the ticket it completes
        issuing.issue(tx, queue="A")
        c2 = issuing.issue(tx, queue="C").ticket.id
    out = asyncio.run(
        ctx.change("t1", lambda tx: tickets.complete_and_call_next(tx, number=1, ticket_id=c, actor=admin))
    )
    assert out is not None and out.ticket.id == c2
