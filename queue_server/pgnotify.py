"""Events across server processes on PostgreSQL: NOTIFY at commit, LISTEN in every process.

Each hall write transaction ends with `pg_notify('hall_events', '<hall>:<last seq>')`, which PostgreSQL
delivers at commit, in commit order. Every server process listens on one connection of its own and,
when it hears of a `seq` its hub has not delivered yet, reads the missing events from the event table
(the source of truth) and hands them to the hub, which drops what it already has. So a board connected
to any process sees every hall event once, in order, whichever process committed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg
from sqlalchemy.engine import make_url

from .context import HallContext
from .events import HallEvent
from .services.tx import read_events

log = logging.getLogger(__name__)
CHANNEL = "hall_events"


def libpq_url(sqlalchemy_url: str) -> str:
    """The SQLAlchemy URL as a libpq connection string (driver suffix removed)."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class Listener:
    """LISTENs for hall commits of any process and fills this process's hub from the event table."""

    def __init__(self, ctx: HallContext) -> None:
        self.ctx = ctx
        self._task: asyncio.Task[None] | None = None
        self.heard = 0

    def start(self) -> None:
        """Run in the background on the current event loop."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = 0.2
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(libpq_url(self.ctx.db.url), autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    delay = 0.2
                    await self._catch_up_all()  # anything committed while we were not listening
                    async for note in conn.notifies():
                        self.heard += 1
                        hall, _, seq = note.payload.rpartition(":")
                        if hall and seq.isdigit():
                            await self._catch_up(hall, int(seq))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: retry with backoff, never give up
                log.warning("event listener: %s; retrying in %.1fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _catch_up(self, hall: str, seq: int) -> None:
        hub = self.ctx.hub
        head = hub.head(hall)
        if seq <= head or hall not in self.ctx.zones:
            return

        def fetch() -> list[HallEvent]:
            with self.ctx.db.read() as s:
                return read_events(s, hall, head, seq + 1, limit=10_000, tz=self.ctx.zones[hall])

        hub.publish(await asyncio.to_thread(fetch))

    async def _catch_up_all(self) -> None:
        from .app import heads

        for hall, seq in (await asyncio.to_thread(heads, self.ctx)).items():
            await self._catch_up(hall, seq)
