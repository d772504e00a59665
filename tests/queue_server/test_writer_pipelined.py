"""Staged changes (writer.py `BatchWriter.submit(staged=True)`, services/issuing.py `issue_staged`): on
PostgreSQL the issues of a batch send their statements back to back and read the answers together. A batch of
issues mixed with plain changes, priority tickets, a repeated Idempotency-Key, an unknown queue and a change
that fails after its statement answers exactly what the same changes answer one at a time: the same numbers,
people ahead, estimates, failures, and the same events in the same order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlmodel import col, select

from queue_server.app import build_context, prepare
from queue_server.context import HallContext
from queue_server.models import Event
from queue_server.services import issuing as svc
from queue_server.services.ticketing import TicketOut
from queue_server.services.tx import HallTx

from ..harness import fresh_database, runtime
from .lane import in_one_batch


class Boom(Exception):
    pass


def _staged(queue: str, lane: str = "normal", key: str | None = None) -> Callable[[HallTx], Callable[[], TicketOut]]:
    return lambda tx: svc.issue_staged(tx, queue=queue, lane=lane, idempotency_key=key)


def _fails_after_its_statement(tx: HallTx) -> Callable[[], TicketOut]:
    svc.issue_staged(tx, queue="A")  # sent; its answer is never read

    def second() -> TicketOut:
        raise Boom("after the statement")

    return second


def _plain_issue(tx: HallTx) -> TicketOut:
    return svc.issue(tx, queue="B")


def _mark(tx: HallTx) -> str:
    tx.emit("test.mark", {})  # not counted: the next issue reads the waiting counts afresh
    return "marked"


# (staged?, change): ordinary and priority tickets, plain changes between them, a repeated key
IN_TURN: list[tuple[bool, Any]] = [
    (True, _staged("A")),
    (True, _staged("A")),
    (True, _staged("A", "special")),
    (True, _staged("A", "special")),  # its statement follows the one before: not ahead of it
    (True, _staged("B", key="k-1")),
    (True, _staged("A")),
    (True, _staged("B", key="k-2")),
    (False, _plain_issue),
    (True, _staged("A", "military")),
    (True, _staged("A", "special")),
    (True, _staged("A")),
    (False, _mark),
    (True, _staged("A")),
    (True, _staged("C", "appointment")),
    (True, _staged("A")),
    (True, _staged("B")),
]
# the same with changes that fail (the batch then runs again, each change in its own savepoint), and a repeated
# key (its first step reads the first ticket through SQLAlchemy, which a pipeline refuses: the batch runs again)
FAILING: list[tuple[bool, Any]] = [
    *IN_TURN[:6],
    (True, _staged("B", key="k-1")),  # the same key in the same batch: the first ticket, not a new one
    *IN_TURN[7:9],
    (True, _staged("Z")),  # no such queue: fails in its first step
    *IN_TURN[9:13],
    (True, _fails_after_its_statement),
    *IN_TURN[13:],
]


def _answers(results: list[Any]) -> list[Any]:
    out: list[Any] = []
    for r in results:
        if isinstance(r, TicketOut):
            out.append((r.ticket.number, r.ticket.lane, r.ahead, r.estimated_wait_s, r.created))
        elif isinstance(r, BaseException):
            out.append(type(r).__name__)
        else:
            out.append(r)
    return out


def _submit(ctx: HallContext, staged: bool, fn: Any) -> Any:
    return ctx.change_staged("t1", fn) if staged else ctx.change("t1", fn)


def _events(ctx: HallContext) -> list[tuple[int, str, Any]]:
    """The hall's events in order, without ticket ids (a rolled-back insert may use up an id, not a number)."""
    with ctx.db.read() as s:
        rows = s.exec(select(Event).where(col(Event.hall_code) == "t1").order_by(col(Event.seq))).all()
        return [(e.seq, e.type, orjson.loads(e.data) | {"id": None}) for e in rows]


@pytest.fixture
def two(backend: str, tmp_db: str, tmp_path: Path) -> Iterator[tuple[HallContext, HallContext]]:
    other = fresh_database(backend, tmp_path, name=f"seq_{abs(hash(str(tmp_path))) % 10**8}")
    ctxs = (build_context(runtime(tmp_db, tmp_path / "a")), build_context(runtime(other, tmp_path / "b")))
    for c in ctxs:
        prepare(c, migrate=False)
    yield ctxs
    for c in ctxs:
        c.close()


@pytest.mark.parametrize("changes", [IN_TURN, FAILING], ids=["in-turn", "failing"])
def test_a_batch_of_staged_issues_answers_as_one_at_a_time(
    two: tuple[HallContext, HallContext], changes: list[tuple[bool, Any]]
) -> None:
    batched, one_by_one = two
    assert batched.writer is not None

    async def in_turn() -> list[Any]:
        out = []
        for staged, fn in changes:
            try:
                out.append(await _submit(one_by_one, staged, fn))
            except Exception as exc:
                out.append(exc)
        return out

    before, ahead = batched.writer.batches, batched.writer.ahead
    together = asyncio.run(in_one_batch(batched, lambda: [_submit(batched, staged, fn) for staged, fn in changes]))
    assert batched.writer.batches - before == 2  # the holder's batch, then all the changes in one
    # PostgreSQL: the holder's commit left the lane's memo: the first issues went out with the lock (writer.py
    # `_run_ahead`); FAILING's then ran again, each change in its savepoint
    assert batched.writer.ahead[0] - ahead[0] == (0 if batched.db.is_sqlite else 1)
    alone = asyncio.run(in_turn())

    assert _answers(together) == _answers(alone)
    created = [a for a in _answers(together) if isinstance(a, tuple) and a[4]]
    for q in "ABC":  # gap-free: a failed change's number was rolled back
        mine = [int(a[0][1:]) for a in created if a[0][0] == q]
        assert mine == list(range(1, len(mine) + 1))
    assert len(created) == (14 if changes is FAILING else 15)
    failed = ["NotFound", "marked", "Boom"] if changes is FAILING else ["marked"]
    assert [a for a in _answers(together) if isinstance(a, str)] == failed
    again = [a for a in _answers(together) if isinstance(a, tuple) and not a[4]]
    assert [a[0] for a in again] == (["B001"] if changes is FAILING else [])
    # ahead: the special tickets go first (0, then 1), before the ordinary ones
    assert [a[2] for a in _answers(together)[:4]] == [0, 1, 0, 1]
    assert _events(batched) == _events(one_by_one)
    assert [t for _, t, _ in _events(batched)].count("ticket.issued") == len(created)
