"""The hall write transaction: lock the hall, change state, append events, commit, publish."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
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
from ..fastsql import Prepared
from ..models import Event, Hall
from ..pgchannel import NOTIFY_SQL
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


def write_events(session: Session, txs: list[HallTx], db: Database, hub: Hub | None) -> None:
    """Store the halls' new events and `seq`s in the session's transaction, a few statements for all.

    On PostgreSQL the server processes hear, at commit, how far each hall got (pgnotify.py): one
    `pg_notify` per hall, sent by one statement, as `<hall>:<seq>:<origin>`. When the caller publishes
    the events to its `hub` after the commit, `origin` names this process so that its own listener skips
    them; without a hub it is empty and every listener reads them.
    """
    changed = [tx for tx in txs if tx.events]
    if not changed:
        return
    conn = session.connection()
    seqs = [{"h": tx.hall, "seq": tx.last_seq} for tx in changed]
    if len(seqs) == 1:
        _SET_SEQ.run(conn, seqs[0])
    else:
        _SET_SEQ.many(conn, seqs)
    _INSERT_EVENT.many(
        conn,
        [
            {"hall_code": ev.hall, "seq": ev.seq, "type": ev.type, "at": ev.at, "data": orjson.dumps(ev.data).decode()}
            for tx in changed
            for ev in tx.events
        ],
    )
    if not db.is_sqlite:
        origin = db.origin if hub is not None else ""
        conn.execute(_NOTIFY, {"payloads": [f"{tx.hall}:{tx.last_seq}:{origin}" for tx in changed]})


# Run by the writer for every batch: `Prepared` (compiled once, executed on the driver's cursor, fastsql.py).
_SET_SEQ = Prepared(update(Hall).where(col(Hall.code) == bindparam("h")).values(last_seq=bindparam("seq")))
_INSERT_EVENT = Prepared(insert(Event), column_keys=["hall_code", "seq", "type", "at", "data"])
_HALL_SEQ_SELECT = select(col(Hall.code), col(Hall.last_seq)).where(col(Hall.code) == bindparam("h"))
_HALL_SEQ = Prepared(_HALL_SEQ_SELECT)
_HALL_SEQ_LOCK = Prepared(_HALL_SEQ_SELECT.with_for_update())
_HALL_SEQS = (
    select(col(Hall.code), col(Hall.last_seq))
    .where(col(Hall.code).in_(bindparam("codes", expanding=True)))
    .order_by(col(Hall.code))
)
# Rows are locked in the order the sort returns them, so every writer locks halls in the order of their
# codes and two transactions locking several halls cannot deadlock.
_HALL_SEQS_LOCK = _HALL_SEQS.with_for_update()
_NOTIFY = text(NOTIFY_SQL)  # on the schema's own channel (pgchannel.py)


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
        write_events(session, [tx], db, hub)
        session.commit()
        # Still inside db.write(): on SQLite the process write lock is held, so events of this
        # process reach the hub in commit order; the hub reorders anything else.
        if hub is not None:
            hub.publish(tx.events)


def open_hall(
    session: Session, hall: str, *, lock: bool, now: datetime | None = None, tz: tzinfo | None = None
) -> HallTx:
    """Start changing a hall inside the session's transaction: read (and on PostgreSQL lock) its seq."""
    tx = open_halls(session, [hall], lock=lock, now=now).get(hall)
    if tx is None:
        raise NotFound(f"大厅不存在 / No hall '{hall}'")
    if tz is not None:
        tx.now = tx.now.astimezone(tz)
    return tx


def open_halls(session: Session, halls: Iterable[str], *, lock: bool, now: datetime | None = None) -> dict[str, HallTx]:
    """Start changing several halls in one transaction: read (and lock, in the order of their codes) their seqs.

    Halls that do not exist are missing from the answer.
    """
    codes = sorted(set(halls))
    conn = session.connection()
    rows: Any
    if len(codes) == 1:  # the usual case; an expanding IN re-renders its SQL at every execution
        rows = (_HALL_SEQ_LOCK if lock else _HALL_SEQ).all(conn, {"h": codes[0]})
    else:
        rows = conn.execute(_HALL_SEQS_LOCK if lock else _HALL_SEQS, {"codes": codes}).all()
    at = now or utcnow()
    return {code: HallTx(session, code, last_seq, at) for code, last_seq in rows}


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
