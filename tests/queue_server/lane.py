"""Running hall changes as one writer batch in tests: the hall's lane is held busy while they queue behind it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from queue_server.context import HallContext
from queue_server.services.tx import HallTx


async def in_one_batch(ctx: HallContext, submits: Callable[[], list[Awaitable[Any]]]) -> list[Any]:
    """Every submit of `submits()` queued while a change holds the hall t1's lane, then released together: the
    writer takes them as one batch (two batches in all, the holder's first). Their answers, exceptions too."""
    held, answers = await behind_holder(ctx, lambda tx: "held", submits)
    assert held == "held"
    return answers


async def behind_holder(
    ctx: HallContext, then: Callable[[HallTx], Any], submits: Callable[[], list[Awaitable[Any]]]
) -> tuple[Any, list[Any]]:
    """`in_one_batch` with the holder doing `then(tx)` once released: its answer and theirs, exceptions too. On
    PostgreSQL their batch goes out while the holder's waits for its `COMMIT`'s answer (writer.py `_run_ahead`)."""
    started, gate = threading.Event(), threading.Event()

    def hold(tx: HallTx) -> Any:
        started.set()
        gate.wait(10)
        return then(tx)

    held = asyncio.ensure_future(ctx.change("t1", hold))
    await asyncio.to_thread(started.wait, 10)
    tasks = [asyncio.ensure_future(s) for s in submits()]
    await asyncio.sleep(0)  # every submit has queued its job
    gate.set()
    (first,) = await asyncio.gather(held, return_exceptions=True)
    return first, list(await asyncio.gather(*tasks, return_exceptions=True))
