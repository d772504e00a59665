"""A writer batch run ahead of the lock's answer (writer.py `_Lane._run_ahead`, PostgreSQL): its staged changes'
first steps go out with `BEGIN` and the lock, in one network wait, and the hall's memo comes with the lock's
answer: the lane's own when it committed the hall last, else what the last writer (a second server process, a
`hall_tx` outside the writer) stored in the hall row. When the row lacks it, the batch is rolled back and runs
again the ordinary way. In every case the answers are those of the ordinary way: numbers, people ahead, waiting
counts and estimates."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from sqlmodel import col, select

from queue_server.app import build_context, prepare
from queue_server.context import HallContext
from queue_server.models import Event
from queue_server.services import issuing as svc
from queue_server.services.ticketing import TicketOut
from queue_server.services.tx import HallTx

from ..harness import runtime
from .lane import in_one_batch
from .test_writer import _last_queues, _truth


@pytest.fixture
def two(tmp_db: str, tmp_path: Path) -> Iterator[tuple[HallContext, HallContext]]:
    """Two server processes' contexts (two writers) on one database."""
    if not tmp_db.startswith("postgresql"):
        pytest.skip("a batch runs ahead of the lock's answer on PostgreSQL only (SQLite's writer holds the file)")
    ctxs = (build_context(runtime(tmp_db, tmp_path / "a")), build_context(runtime(tmp_db, tmp_path / "b")))
    prepare(ctxs[0], migrate=False)
    yield ctxs
    for c in ctxs:
        c.close()


def _walk_in(tx: HallTx) -> Callable[[], TicketOut]:
    return svc.issue_staged(tx, queue="A")


def _issue(ctx: HallContext) -> TicketOut:
    """One walk-in of queue A, as the route takes it (staged), alone in its batch."""
    out = asyncio.run(ctx.change_staged("t1", _walk_in))
    assert isinstance(out, TicketOut)
    return out


def _issued_waiting(ctx: HallContext) -> list[int]:
    """Queue A's waiting count in each ticket.issued event, in order."""
    with ctx.db.read() as s:
        rows = s.exec(
            select(Event)
            .where(col(Event.hall_code) == "t1", col(Event.type) == "ticket.issued")
            .order_by(col(Event.seq))
        ).all()
    return [next(q["waiting"] for q in orjson.loads(e.data)["queues"] if q["code"] == "A") for e in rows]


def _ahead(ctx: HallContext) -> tuple[int, int]:
    assert ctx.writer is not None
    return ctx.writer.ahead


def _exact(ctx: HallContext, out: TicketOut, n: int) -> None:
    """The n-th ticket of queue A (only ordinary A tickets are waiting): its number, everyone before it ahead,
    and the event's waiting count and estimate as the database has them."""
    assert (out.ticket.number, out.ahead) == (f"A{n:03d}", n - 1)
    queues = _last_queues(ctx)
    truth = _truth(ctx, [q["code"] for q in queues])
    assert {q["code"]: (q["waiting"], q["estimated_wait_s"]) for q in queues} == truth


def test_two_writers_taking_turns_run_ahead_with_the_memo_from_the_hall_row(
    two: tuple[HallContext, HallContext],
) -> None:
    a, b = two
    n = 0

    def step(ctx: HallContext, tried: int, foreign: int) -> None:
        nonlocal n
        before = _ahead(ctx)
        n += 1
        _exact(ctx, _issue(ctx), n)
        after = _ahead(ctx)
        assert (after[0] - before[0], after[1] - before[1]) == (tried, foreign), (n, before, after)

    step(a, 0, 0)  # no memo yet: the ordinary way
    step(a, 1, 0)  # a committed last: run ahead with its memo, kept
    step(a, 1, 0)
    step(b, 0, 0)  # the other process, the ordinary way (no memo yet)
    step(a, 1, 0)  # b committed since: the memo from the row b stored
    step(b, 1, 0)  # the same for b
    step(a, 1, 0)  # the two take turns
    step(b, 1, 0)
    step(a, 1, 0)
    step(a, 1, 0)  # found as a left it: its own memo again
    step(a, 1, 0)

    def uncounted(tx: HallTx) -> str:
        tx.emit("test.mark", {})  # an event whose change does not keep the waiting counts: none stored
        return "marked"

    assert asyncio.run(b.change("t1", uncounted)) == "marked"
    before = _ahead(a)
    # run ahead without a memo, the row has no waiting counts: rolled back, the ordinary way (three tickets: a
    # count read after their statement would count them all for the first)
    got = asyncio.run(in_one_batch(a, lambda: [a.change_staged("t1", _walk_in) for _ in range(3)]))
    assert [(o.ticket.number, o.ahead) for o in got] == [(f"A{k:03d}", k - 1) for k in range(n + 1, n + 4)]
    after = _ahead(a)
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
    n += 3
    step(a, 1, 0)
    step(b, 1, 0)
    # every ticket's event counted the waiting tickets as the database had them: the n-th, n waiting
    assert _issued_waiting(a) == list(range(1, n + 1))


def test_a_hall_tx_outside_the_writer_between_two_batches(ctx: HallContext) -> None:
    """The same with the other writer a `hall_tx` of the same process (housekeeping, start-up)."""
    if ctx.db.is_sqlite:
        pytest.skip("a batch runs ahead of the lock's answer on PostgreSQL only")
    _exact(ctx, _issue(ctx), 1)
    _exact(ctx, _issue(ctx), 2)
    assert _ahead(ctx) == (1, 0)
    with ctx.transaction("t1") as tx:
        assert svc.issue(tx, queue="A").ticket.number == "A003"
    _exact(ctx, _issue(ctx), 4)  # run ahead: the memo from the row the hall_tx stored
    assert _ahead(ctx) == (2, 0)
    _exact(ctx, _issue(ctx), 5)
    assert _ahead(ctx) == (3, 0)


def test_a_batch_of_issues_run_ahead_pipelines_them_all(ctx: HallContext) -> None:
    """Several staged issues at the batch's head all go out with the lock; plain changes after them the ordinary
    way, in the same transaction; ordinary and priority tickets count who is ahead as one at a time would."""
    if ctx.db.is_sqlite:
        pytest.skip("a batch runs ahead of the lock's answer on PostgreSQL only")
    _exact(ctx, _issue(ctx), 1)
    before = _ahead(ctx)

    def staged(queue: str, lane: str = "normal") -> object:
        return ctx.change_staged("t1", lambda tx: svc.issue_staged(tx, queue=queue, lane=lane))

    got = asyncio.run(
        in_one_batch(
            ctx,
            lambda: [
                staged("A"),
                staged("A", "special"),
                staged("B"),
                staged("A"),
                ctx.change("t1", lambda tx: svc.issue(tx, queue="B")),
                staged("A", "special"),
            ],
        )
    )
    assert all(isinstance(o, TicketOut) for o in got), got
    answers = [(o.ticket.number, o.ahead) for o in got]
    # A001 waits; the first special ticket goes before it, the second after the first special
    assert answers == [("A002", 1), ("A003", 0), ("B001", 0), ("A004", 3), ("B002", 1), ("A005", 1)]
    after = _ahead(ctx)
    # the holder's batch (a plain change: the ordinary way), then the batch run ahead
    assert (after[0] - before[0], after[1] - before[1]) == (1, 0)
    queues = _last_queues(ctx)
    assert {q["code"]: (q["waiting"], q["estimated_wait_s"]) for q in queues} == _truth(
        ctx, [q["code"] for q in queues]
    )
