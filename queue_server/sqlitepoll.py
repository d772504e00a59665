"""Events across server processes on one SQLite file (`hall serve --workers N`): poll the halls' heads.

SQLite has no NOTIFY. Each hall row carries `last_seq`, written in the same transaction as the
hall's events, so one small read (`SELECT code, last_seq FROM hall`) tells a process which halls
another process has changed since. A thread of each process does that read every `every_s` seconds
and, for every hall whose head is past what this process's hub has delivered, reads the missing
events in the same snapshot and hands them to the hub, which delivers them in `seq` order and drops
what it already has (its own commits reach it directly). A board connected to any process so sees
every event of its hall once and in order, at most one poll interval after the commit. Halls that no
board of this process follows are not read at all; their head just moves on. Reads are WAL
snapshots: the poll never waits for a writer, nor a writer for it.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select
from sqlmodel import col

from .context import HallContext
from .events import HallEvent
from .models import Hall
from .services.tx import read_events

log = logging.getLogger(__name__)
PAGE = 5_000  # events read per query; a hall further behind is read in several pages
_HEADS = select(col(Hall.code), col(Hall.last_seq))


class Poller:
    """A thread that fills this process's hub with the events other processes committed."""

    def __init__(self, ctx: HallContext, every_s: float = 0.01) -> None:
        self.ctx = ctx
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sqlite-event-poll", daemon=True)
        self.polls = 0  # reads of the halls' heads
        self.delivered = 0  # events handed to the hub

    def start(self) -> None:
        """Start polling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and wait for the thread."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                events = self.poll()
            except Exception:  # a database blip: the next round tries again
                log.exception("event poll failed")
                continue
            if events:
                self.delivered += len(events)
                self.ctx.hub.publish(events)

    def poll(self) -> list[HallEvent]:
        """One round: the events of every followed hall past the hub's head, in `seq` order per hall.

        Halls that no board of this process follows are not read: the hub just moves their head on.
        """
        hub, zones = self.ctx.hub, self.ctx.zones
        out: list[HallEvent] = []
        skipped: dict[str, int] = {}
        with self.ctx.db.read() as s:
            self.polls += 1
            for hall, last in s.execute(_HEADS).all():
                after = hub.head(hall)
                if hall not in zones or last <= after:
                    continue
                if not hub.subscriber_count(hall):
                    skipped[hall] = last
                    continue
                while after < last:
                    page = read_events(s, hall, after, last + 1, limit=PAGE, tz=zones[hall])
                    if not page:  # cannot happen (the head is written with its events); never spin
                        break
                    out.extend(page)
                    after = page[-1].seq
        hub.advance(skipped)
        return out
