"""The SQLite group-commit writer: a failing change in a batch is undone alone, nothing else is lost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from queue_server.app import build_context, prepare
from queue_server.context import HallContext
from queue_server.models import Event, Ticket
from queue_server.services import tickets as svc
from queue_server.services.tx import HallTx
from queue_server.writer import BatchWriter

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


@pytest.mark.parametrize("hold", [True, False])
def test_a_batch_holds_its_callers_event_loop_when_told(ctx: HallContext, hold: bool) -> None:
    """Several processes on one SQLite file: while a batch holds the file's write lock, its own process's
    event loop waits instead of competing for the GIL (writer.py, `hold_loops`). Without it the loop runs on."""
    writer = BatchWriter(ctx.db, None, hold_loops=hold)
    ran: list[float] = []

    def slow(tx: HallTx) -> str:
        ran.append(time.monotonic())
        time.sleep(0.2)  # the change's work, in the writer thread, with the write lock held
        ran.append(time.monotonic())
        return svc.issue(tx, tz=ctx.zones["t1"], queue="A", cipher=ctx.cipher).ticket.number

    async def run() -> tuple[str, list[float]]:
        ticks: list[float] = []

        async def tick() -> None:
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.005)

        ticker = asyncio.create_task(tick())
        number = await writer.submit("t1", slow)
        await asyncio.sleep(0.05)
        ticker.cancel()
        return number, ticks

    try:
        number, ticks = asyncio.run(run())
    finally:
        writer.close()
    assert number == "A001"  # the change itself is unaffected
    start, end = ran
    during = [t for t in ticks if start + 0.02 < t < end]  # the loop takes up to one tick to get to the hold
    if hold:
        assert during == []
        assert any(t >= end for t in ticks)  # and goes on after the commit
    else:
        assert len(during) > 10
