"""Writes sent behind (fastsql `write_behind`, writer.py `_run_all`): on PostgreSQL an UPDATE nobody reads back is
sent with the next statement, maybe the next change's, so its failure surfaces there. The batch then runs again,
each change in its own savepoint with every statement sent at once: the failure is its own change's, the other
changes commit, whether the change that met the error let it through or caught it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from queue_server.app import build_context, prepare
from queue_server.context import HallContext
from queue_server.services.ticketing import window_row
from queue_server.services.tx import HallTx
from queue_server.store import halls as hall_store

from ..harness import runtime
from .lane import in_one_batch


@pytest.fixture
def ctx(tmp_db: str, tmp_path: Path) -> Iterator[HallContext]:
    c = build_context(runtime(tmp_db, tmp_path / "var"))
    prepare(c, migrate=False)
    yield c
    c.close()


def _clashing(tx: HallTx) -> str:
    """Renumber window 5 as 1, which exists: the UPDATE fails (unique), and nothing after it in this change reads."""
    hall_store.update_window(tx.conn, window_row(tx, 5), number=1)
    return "renumbered"


def _reason(text: str) -> Callable[[HallTx], str]:
    def change(tx: HallTx) -> str:
        w = window_row(tx, 2)  # on PostgreSQL the statement that sends the write queued before it
        return hall_store.update_window(tx.conn, w, status_reason=text).status_reason

    return change


def _swallowing(tx: HallTx) -> str:
    """A change that catches a database error as its own (the queued write's, here) and goes on."""
    try:
        window_row(tx, 3)
    except DBAPIError:
        return "caught"
    return "read"


def _in_one_batch(ctx: HallContext, changes: list[Callable[[HallTx], Any]]) -> list[Any]:
    assert ctx.writer is not None
    before = ctx.writer.batches
    out = asyncio.run(in_one_batch(ctx, lambda: [ctx.change("t1", fn) for fn in changes]))
    assert ctx.writer.batches - before == 2  # the holder's batch, then the changes in one
    return out


def _window(ctx: HallContext, number: int) -> Any:
    with ctx.db.read() as s:
        return hall_store.window(s.connection(), "t1", number)


@pytest.mark.parametrize("after", ["reads", "swallows"])
def test_a_written_behind_failure_is_its_own_changes_error(ctx: HallContext, after: str) -> None:
    # the one that swallows comes last: after it no statement of the batch would fail in the aborted transaction
    changes = [_reason("first"), _clashing, _reason("after")] if after == "reads" else [_reason("first"), _clashing]
    got = _in_one_batch(ctx, [*changes, _swallowing] if after == "swallows" else changes)

    assert got[0] == "first"
    assert isinstance(got[1], IntegrityError)  # the renumbering's own error
    assert got[2] == ("after" if after == "reads" else "read")  # not the error its statement carried
    assert _window(ctx, 5) is not None  # renumbering undone
    assert _window(ctx, 2).status_reason == ("after" if after == "reads" else "first")  # the others committed


def test_a_failure_of_the_last_written_behind_update_is_its_own_changes_error(ctx: HallContext) -> None:
    """The batch's last queued writes go out with its end (events and COMMIT, one round trip): when one of them
    fails there, nothing commits, and the batch runs again with savepoints: only its change fails."""
    got = _in_one_batch(ctx, [_reason("first"), _clashing])

    assert got[0] == "first"
    assert isinstance(got[1], IntegrityError)
    assert _window(ctx, 5) is not None  # renumbering undone
    assert _window(ctx, 2).status_reason == "first"  # the other change committed


def test_written_behind_updates_are_read_back_in_order(ctx: HallContext) -> None:
    def write_then_read(tx: HallTx) -> tuple[str, str]:
        w = window_row(tx, 2)
        hall_store.update_window(tx.conn, w, status_reason="one")  # queued on PostgreSQL
        hall_store.update_window(tx.conn, w, status_reason="two")
        return "wrote", window_row(tx, 2).status_reason  # the read sends both first

    def read(tx: HallTx) -> str:
        return window_row(tx, 2).status_reason

    got = _in_one_batch(ctx, [write_then_read, read, _reason("three")])
    assert got == [("wrote", "two"), "two", "three"]
    assert _window(ctx, 2).status_reason == "three"  # the last queued write went out before the commit
