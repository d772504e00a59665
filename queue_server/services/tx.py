"""The hall write transaction: lock the hall, change state, append events, commit, publish."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from typing import Any

import orjson
from sqlalchemy import bindparam, insert, select, text, update
from sqlmodel import Session, col

from ..config import HallConfig
from ..db import Database
from ..errors import NotFound
from ..events import HallEvent, Hub
from ..models import Event, Hall
from ..timeutil import utcnow


class HallTx:
    """One write transaction of one hall; `emit` appends an event committed with the change."""

    def __init__(self, session: Session, hall: str, last_seq: int, now: datetime) -> None:
        self.session = session
        self.hall = hall
        self.now = now
        self.first_seq = last_seq
        self.last_seq = last_seq
        self.events: list[HallEvent] = []
        # Memo of what the hall's changes read again and again (its load: service averages and windows).
        # The SQLite writer keeps it across the changes of a batch, so whatever changes the underlying
        # rows must update or drop its entry (see `_load` in tickets.py).
        self.cache: dict[str, object] = {}
        self.config: HallConfig | None = None  # the hall's configuration, when the caller has it

    def emit(self, type: str, data: dict[str, Any]) -> HallEvent:
        """Append an event with the next gap-free `seq` of this hall."""
        self.last_seq += 1
        ev = HallEvent.create(self.hall, self.last_seq, type, self.now, data)
        self.events.append(ev)
        return ev

    def _flush(self) -> None:
        if not self.events:
            return
        conn = self.session.connection()
        conn.execute(_SET_SEQ, {"h": self.hall, "seq": self.last_seq})
        conn.execute(
            _INSERT_EVENT,
            [
                {
                    "hall_code": ev.hall,
                    "seq": ev.seq,
                    "type": ev.type,
                    "at": ev.at,
                    "data": orjson.dumps(ev.data).decode(),
                }
                for ev in self.events
            ],
        )


    def _notify(self) -> None:
        """PostgreSQL: tell the other server processes, at commit, how far the hall got (pgnotify.py)."""
        if self.events:
            self.session.connection().execute(_NOTIFY, {"payload": f"{self.hall}:{self.last_seq}"})


_SET_SEQ = update(Hall).where(col(Hall.code) == bindparam("h")).values(last_seq=bindparam("seq"))
_INSERT_EVENT = insert(Event)
_HALL_SEQ = select(col(Hall.last_seq)).where(col(Hall.code) == bindparam("h"))
_HALL_SEQ_LOCK = _HALL_SEQ.with_for_update()
_NOTIFY = text("SELECT pg_notify('hall_events', :payload)")


@contextmanager
def hall_tx(
    db: Database, hub: Hub | None, hall: str, *, now: datetime | None = None, tz: tzinfo | None = None
) -> Iterator[HallTx]:
    """Run a change of one hall as one transaction; its events are published after commit.

    Every writer of a hall first locks the hall's row (PostgreSQL `SELECT … FOR UPDATE`; SQLite holds
    the database write lock from BEGIN IMMEDIATE), so a hall's transactions commit one after another
    and `seq` order is commit order: replaying the event table reproduces every decision.
    """
    with db.write() as session:
        tx = open_hall(session, hall, lock=not db.is_sqlite, now=now, tz=tz)
        yield tx
        tx._flush()
        if not db.is_sqlite:
            tx._notify()
        session.commit()
        # Still inside db.write(): on SQLite the process write lock is held, so events of this
        # process reach the hub in commit order; the hub reorders anything else.
        if hub is not None:
            hub.publish(tx.events)


def open_hall(
    session: Session, hall: str, *, lock: bool, now: datetime | None = None, tz: tzinfo | None = None
) -> HallTx:
    """Start changing a hall inside the session's transaction: read (and on PostgreSQL lock) its seq."""
    last_seq = session.connection().execute(_HALL_SEQ_LOCK if lock else _HALL_SEQ, {"h": hall}).scalar_one_or_none()
    if last_seq is None:
        raise NotFound(f"大厅不存在 / No hall '{hall}'")
    at = now or utcnow()
    return HallTx(session, hall, last_seq, at.astimezone(tz) if tz is not None else at)


def read_events(
    session: Session, hall: str, after: int, before: int | None = None, limit: int = 1000, tz: tzinfo | None = None
) -> list[HallEvent]:
    """Committed events of a hall with after < seq (< before), in order; times in `tz` as when sent live."""
    # Plain rows, not ORM objects: boards' replays and the other processes' events read many at a time.
    stmt = _EVENT_ROWS.where(col(Event.hall_code) == hall, col(Event.seq) > after)
    if before is not None:
        stmt = stmt.where(col(Event.seq) < before)
    rows = session.execute(stmt.order_by(col(Event.seq)).limit(limit)).all()
    return [
        HallEvent.create(hall, seq, kind, at.astimezone(tz) if tz else at, orjson.loads(data))
        for seq, kind, at, data in rows
    ]


_EVENT_ROWS = select(col(Event.seq), col(Event.type), col(Event.at), col(Event.data))
