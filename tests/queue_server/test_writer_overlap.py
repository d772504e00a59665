"""A writer batch sent while the lane's batch before waits for its `COMMIT`'s answer (writer.py `_Lane._run_ahead`,
PostgreSQL): its `BEGIN`, lock and first steps go out on the lane's other connection, the hall's lock is granted at
that `COMMIT`. The batch before is answered first, its events published first; when it fails at its `COMMIT`, the
batch sent after it is rolled back, the one before runs again with savepoints, then the other the ordinary way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from queue_server.app import build_context, prepare
from queue_server.context import HallContext
from queue_server.events import HallEvent
from queue_server.models import Ticket
from queue_server.services import issuing as svc
from queue_server.services.ticketing import TicketOut
from queue_server.services.tx import HallTx

from ..harness import runtime
from .lane import behind_holder
from .test_writer_ahead import _exact, _issue
from .test_writer_behind import _clashing


@pytest.fixture
def ctx(tmp_db: str, tmp_path: Path) -> Iterator[HallContext]:
    if not tmp_db.startswith("postgresql"):
        pytest.skip("batches overlap on PostgreSQL only (SQLite's writer has one connection, the file's lock)")
    c = build_context(runtime(tmp_db, tmp_path / "var"))
    prepare(c, migrate=False)
    yield c
    c.close()


def _walk_in(queue: str) -> Callable[[HallTx], Callable[[], TicketOut]]:
    return lambda tx: svc.issue_staged(tx, queue=queue)


def _issued_in_one_go(tx: HallTx) -> str:
    """A walk-in of queue B issued by a plain change (both steps at once): the holder's batch has an event too."""
    return svc.issue_staged(tx, queue="B")().ticket.number


def _overlapped(ctx: HallContext, then: Callable[[HallTx], Any], queues: str) -> tuple[Any, list[Any]]:
    """A holder doing `then`, and a walk-in of each of `queues` in the batch after it, sent before its answer."""
    assert ctx.writer is not None
    before = ctx.writer.overlapped
    out = asyncio.run(behind_holder(ctx, then, lambda: [ctx.change_staged("t1", _walk_in(q)) for q in queues]))
    assert ctx.writer.overlapped - before == 1
    return out


def _numbers(answers: list[Any]) -> list[str]:
    assert all(isinstance(a, TicketOut) for a in answers), answers
    return [a.ticket.number for a in answers]


def test_overlapped_batches_number_gap_free_in_order(ctx: HallContext) -> None:
    for n in range(3):
        held, answers = _overlapped(ctx, _issued_in_one_go, "ABAC")
        assert held == f"B{2 * n + 1:03d}"
        assert _numbers(answers) == [f"A{2 * n + 1:03d}", f"B{2 * n + 2:03d}", f"A{2 * n + 2:03d}", f"C{n + 1:03d}"]
    _exact(ctx, _issue(ctx), 7)  # the memo the overlapped batches left is the database's


def test_a_batch_failing_at_its_commit_is_answered_and_the_batch_after_commits(ctx: HallContext) -> None:
    """The holder's written-behind UPDATE fails with its `COMMIT`, after the next batch went out: that one is rolled
    back (its lock was granted at the failure), the holder's runs again with savepoints (only its change fails),
    then the next one again, ordinary: nothing lost, nothing answered twice, numbers gap-free."""
    assert ctx.writer is not None
    batches = ctx.writer.batches
    held, answers = _overlapped(ctx, _clashing, "AAB")

    assert isinstance(held, IntegrityError)
    assert _numbers(answers) == ["A001", "A002", "B001"]
    assert ctx.writer.batches - batches == 2  # each answered once
    _exact(ctx, _issue(ctx), 3)  # the memo was dropped with the failure, then read again


def test_events_are_published_in_commit_order(ctx: HallContext, monkeypatch: pytest.MonkeyPatch) -> None:
    published: list[int] = []
    publish = ctx.hub.publish

    def recorded(events: list[HallEvent]) -> None:
        published.extend(ev.seq for ev in events)
        publish(events)

    monkeypatch.setattr(ctx.hub, "publish", recorded)
    for _ in range(3):
        _overlapped(ctx, _issued_in_one_go, "AB")
    assert published == sorted(published)
    assert len(published) == len(set(published)) >= 9  # every issue's event, each once


def test_close_answers_a_batch_in_flight(ctx: HallContext) -> None:
    """`close()` right after the release: the batch sent last is answered and stored before the lane stops."""
    assert ctx.writer is not None
    writer = ctx.writer

    async def run() -> tuple[Any, list[Any]]:
        submits = lambda: [ctx.change_staged("t1", _walk_in("A")) for _ in range(4)]  # noqa: E731
        task = asyncio.ensure_future(behind_holder(ctx, _issued_in_one_go, submits))
        while not writer.overlapped:  # the second batch has gone out
            await asyncio.sleep(0.001)
        writer.close()
        return await task

    held, answers = asyncio.run(run())
    assert held == "B001"
    assert _numbers(answers) == ["A001", "A002", "A003", "A004"]
    with ctx.db.read() as s:
        assert len(s.exec(select(Ticket)).all()) == 5  # the holder's and the four
