"""The SQLite group-commit writer: a failing change in a batch is undone alone, nothing else is lost."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from queue_server.app import build_context, prepare
from queue_server.context import HallContext
from queue_server.models import Event, Ticket
from queue_server.services import tickets as svc
from queue_server.services.tx import HallTx

from ..harness import fresh_database, runtime


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[HallContext]:
    c = build_context(runtime(fresh_database("sqlite", tmp_path), tmp_path / "var"))
    prepare(c, migrate=False)
    assert c.writer is not None
    yield c
    c.close()


class Boom(Exception):
    pass


def test_failed_change_is_undone_alone(ctx: HallContext) -> None:
    tz = ctx.zones["t1"]

    def change(i: int):  # type: ignore[no-untyped-def]
        def fn(tx: HallTx) -> str:
            out = svc.issue(tx, tz=tz, queue="A", cipher=ctx.cipher)
            if i % 3 == 1:
                raise Boom(i)  # after writing the ticket and its event
            return out.ticket.number

        return fn

    async def run() -> list[object]:
        return await asyncio.gather(*(ctx.change("t1", change(i)) for i in range(30)), return_exceptions=True)

    results = asyncio.run(run())
    assert ctx.writer is not None
    assert ctx.writer.batches < 30  # changes were batched
    failed = [r for r in results if isinstance(r, Boom)]
    numbers = [r for r in results if isinstance(r, str)]
    assert len(failed) == 10
    assert sorted(numbers) == [f"A{n:03d}" for n in range(1, 21)]  # gap-free: failed ones used no number
    with ctx.db.read() as s:
        assert sorted(t.number for t in s.exec(select(Ticket)).all()) == sorted(numbers)
        seqs = [e.seq for e in s.exec(select(Event).where(Event.hall_code == "t1").order_by(Event.seq)).all()]
    assert seqs == list(range(1, 21))
