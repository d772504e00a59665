"""Events across server processes on PostgreSQL: NOTIFY at commit, LISTEN in every process.

Each hall write transaction ends with `pg_notify(<the schema's channel>, '<hall>:<last seq>:<origin>')`, which
PostgreSQL delivers at commit, in commit order. Every server process listens on one connection of its
own and skips its own commits (`origin`: its writer hands them to its hub already). A commit's events come
in notifications of their own first (pgchannel.py, as many as fit), which go straight to the hub; a hall
whose events did not all come that way is read from the table. The listener drains
every other notification that has arrived into "highest `seq` heard per hall", and a second task reads
what the hub has not delivered yet — each followed hall's missing events at once, all halls in one
thread hop and one session — and hands them to the hub in `seq` order, which drops what it already
has; halls that no board of this process follows are not read, their head just moves on. While that
read runs, new notifications pile up into the next batch, so the listener never falls further behind
than one batch however fast the other processes commit. A board connected to any process sees every
hall event once, in order, whichever process committed it.

The same connection hears which staff users' rows another process changed (`<channel>_users`, pgchannel.py)
and makes this process's token check read them again; on every (re)connection it forgets all users it
remembered, since notifications sent while it was not listening are lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

import orjson
import psycopg
from sqlalchemy.engine import make_url

from .context import HallContext
from .events import HallEvent
from .pgchannel import BODIES_SUFFIX, CHANNEL_QUERY, USERS_SUFFIX
from .services.tx import read_events

log = logging.getLogger(__name__)
PAGE = 5_000  # events read per query; a hall further behind is read in several pages of one batch


def libpq_url(sqlalchemy_url: str) -> str:
    """The SQLAlchemy URL as a libpq connection string (driver suffix removed)."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class Listener:
    """LISTENs for hall commits of any process and fills this process's hub from the event table."""

    def __init__(self, ctx: HallContext) -> None:
        self.ctx = ctx
        self._task: asyncio.Task[None] | None = None
        self._heard: dict[str, int] = {}  # highest seq heard per hall, not yet read
        self._wake = asyncio.Event()
        self.heard = 0  # commits heard of (`<hall>:<seq>:<origin>` notifications)
        self.batches = 0  # reads of the event table
        self.delivered = 0  # events read and handed to the hub
        self.carried = 0  # events that came in notifications and were handed to the hub
        self.users_heard = 0  # staff users' changes heard of (`<channel>_users`)
        self._bodies_channel = ""
        self._users_channel = ""

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
                    cur = await conn.execute(CHANNEL_QUERY)  # this schema's channel (pgchannel.py)
                    row = await cur.fetchone()
                    assert row is not None
                    self._bodies_channel = row[0] + BODIES_SUFFIX
                    await conn.execute(f'LISTEN "{row[0]}"')
                    await conn.execute(f'LISTEN "{self._bodies_channel}"')
                    self._users_channel = row[0] + USERS_SUFFIX
                    await conn.execute(f'LISTEN "{self._users_channel}"')
                    # Changes of users' rows until now went unheard: read each again (from here on, heard).
                    self.ctx.tokens.forget_users()
                    delay = 0.2
                    self._heard.clear()
                    await self._catch_up(await asyncio.to_thread(_heads, self.ctx))  # what we missed unheard
                    async with asyncio.TaskGroup() as tasks:  # either failing stops both: reconnect
                        tasks.create_task(self._listen(conn))
                        tasks.create_task(self._deliver())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: retry with backoff, never give up
                cause = exc.exceptions[0] if isinstance(exc, ExceptionGroup) else exc
                log.warning("event listener: %s; retrying in %.1fs", type(cause).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _listen(self, conn: psycopg.AsyncConnection[object]) -> None:
        own = self.ctx.db.origin
        async for note in conn.notifies():
            if note.channel == self._bodies_channel:
                self._carried(note.payload, own)
                continue
            if note.channel == self._users_channel:  # this process's own changes too: one more read, harmless
                self.users_heard += 1
                self.ctx.tokens.revoked(note.payload)
                continue
            self.heard += 1
            hall, seq, origin = _parse(note.payload)
            if origin == own:
                continue
            if hall and seq.isdigit() and int(seq) > self._heard.get(hall, 0):
                self._heard[hall] = int(seq)
                self._wake.set()
        raise ConnectionError("notification stream ended")

    def _carried(self, payload: str, own: str) -> None:
        """Events another process's commit carried in a notification (pgchannel.py): straight to the hub, on
        this loop, without a thread hop or a read of the event table. The hub puts them in `seq` order and
        drops what it has; what was not carried is read when the `<hall>:<seq>` notification follows. A hall
        that no board of this process follows is not even parsed: that notification moves its head on."""
        origin, _, rest = payload.partition("\n")
        hall, _, lines = rest.partition("\n")
        if origin == own or not lines or hall not in self.ctx.zones or not self.ctx.hub.subscriber_count(hall):
            return
        events = []
        for line in lines.split("\n"):
            try:
                m = orjson.loads(line)
                at = datetime.fromisoformat(m["at"])
                events.append(HallEvent(hall, int(m["seq"]), m["type"], at, m["data"], line))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                log.warning("event listener: a carried event could not be read; it is read from the table")
                return
        self.carried += len(events)
        self.ctx.hub.publish(events)

    async def _deliver(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            heard, self._heard = self._heard, {}
            await self._catch_up(heard)

    async def _catch_up(self, heard: dict[str, int]) -> None:
        """Read and publish every event after the hub's head up to the `seq` heard, for each hall."""
        hub = self.ctx.hub
        todo: dict[str, tuple[int, int]] = {}
        skipped: dict[str, int] = {}
        for h, seq in heard.items():
            if h not in self.ctx.zones or seq <= hub.head(h):
                continue
            if hub.subscriber_count(h):
                todo[h] = (hub.head(h), seq)
            else:
                skipped[h] = seq
        hub.advance(skipped)
        if not todo:
            return
        self.batches += 1

        def fetch() -> list[HallEvent]:
            out: list[HallEvent] = []
            with self.ctx.db.read() as s:
                for hall, (after, upto) in todo.items():
                    while after < upto:
                        page = read_events(s, hall, after, upto + 1, limit=PAGE, tz=self.ctx.zones[hall])
                        if not page:  # cannot happen (committed before the notice); never spin
                            break
                        out.extend(page)
                        after = page[-1].seq
            return out

        events = await asyncio.to_thread(fetch)
        self.delivered += len(events)
        hub.publish(events)


def _parse(payload: str) -> tuple[str, str, str]:
    """`<hall>:<seq>:<origin>` (or `<hall>:<seq>` from an older server) as (hall, seq, origin)."""
    head, _, last = payload.rpartition(":")
    if last.isdigit():
        return head, last, ""
    hall, _, seq = head.rpartition(":")
    return hall, seq, last


def _heads(ctx: HallContext) -> dict[str, int]:
    from .app import heads

    return heads(ctx)
