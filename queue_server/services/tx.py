"""The hall write transaction: lock the hall, change state, append events, commit, publish."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, tzinfo
from typing import Any

import orjson
from sqlalchemy.engine import Connection
from sqlmodel import Session

from ..calendar import Calendar
from ..config import HallConfig
from ..crypto import PiiCipher
from ..db import Database
from ..errors import NotFound
from ..events import HallEvent, Hub
from ..pgchannel import BODIES_LIMIT, BODY_LIMIT
from ..policy import Rules
from ..store import halls as store
from ..timeutil import utcnow
from .stats import HallLoad


class HallRead:
    """One hall as a database snapshot sees it, with what its functions need to know of the hall besides the
    database: configuration, timezone, calendar, cipher. `HallContext` attaches them (`attach`), so routes
    never assemble them into service arguments. A read (`HallContext.read_hall`) gets a `HallRead`; a
    change gets a `HallTx`, which is one too, so a read function also runs inside a change."""

    def __init__(self, session: Session, hall: str, now: datetime) -> None:
        self.session = session
        self.hall = hall
        self.now = now
        self.config: HallConfig | None = None
        self.tz: tzinfo = now.tzinfo or UTC
        self.calendar: Calendar | None = None
        self.cipher: PiiCipher | None = None
        self.wechat_bindings = False  # messages go to the openid bound on the tracking page (notify/wechat_bind.py)

    @property
    def rules(self) -> Rules:
        """The hall's queue-policy rules."""
        return Rules(max_priority_streak=self.config.max_priority_streak) if self.config else Rules()

    @property
    def hall_config(self) -> HallConfig:
        """The hall's configuration (NotFound for a hall the configuration does not have)."""
        if self.config is None:
            raise NotFound(f"大厅不存在 / No hall '{self.hall}'")
        return self.config

    @property
    def hall_calendar(self) -> Calendar:
        """The hall's opening calendar (NotFound for a hall the configuration does not have)."""
        if self.calendar is None:
            raise NotFound(f"大厅不存在 / No hall '{self.hall}'")
        return self.calendar

    @property
    def pii(self) -> PiiCipher:
        """The cipher for personal data (a change that stores or reveals it runs under HallContext)."""
        if self.cipher is None:
            raise RuntimeError("this hall transaction has no cipher: run it through HallContext")
        return self.cipher

    @property
    def conn(self) -> Connection:
        """The transaction's connection, for the store's statements (queue_server/store)."""
        return self.session.connection()


class HallTx(HallRead):
    """One write transaction of one hall; `emit` appends an event committed with the change."""

    def __init__(self, session: Session, hall: str, last_seq: int, now: datetime) -> None:
        super().__init__(session, hall, now)
        self.first_seq = last_seq
        self.last_seq = last_seq
        self.events: list[HallEvent] = []
        # Memo of what the hall's changes read again and again (its load: service averages and windows).
        # The SQLite writer keeps it across the changes of a batch, so whatever changes the underlying
        # rows must update or drop its entry (see `_load` in tickets.py).
        self.cache: dict[str, object] = {}
        # PostgreSQL: the hall row as opened, with the waiting counts and the load stored in it, if stamped with
        # `first_seq` (store.hall_seqs); the writer starts a hall's memo from them after another process's commit.
        self.stored: store.Opened | None = None
        # The writer runs a staged change's first step before the lock's answer, and the memo (`cache`) and
        # `last_seq` come with that answer, before its second step (writer.py `_run_ahead`): the first step uses
        # neither (services/issuing.py `issue_staged`).
        self.memo_later = False

    def exact_waiting(self) -> dict[str, int] | None:
        """The memo's waiting counts if they are exact as of `last_seq` (services/ticketing.py), else None."""
        memo = self.cache.get("waiting")
        if isinstance(memo, tuple) and memo[0] == self.last_seq:
            return dict(memo[1])
        return None

    def exact_load(self) -> store.Load | None:
        """The memo's load (queue averages, windows), which whatever changes it keeps exact, else None."""
        memo = self.cache.get("load")
        if isinstance(memo, HallLoad):
            return dict(memo.avg), list(memo.windows)
        return None

    def emit(self, type: str, data: dict[str, Any]) -> HallEvent:
        """Append an event with the next gap-free `seq` of this hall."""
        self.last_seq += 1
        ev = HallEvent.create(self.hall, self.last_seq, type, self.now, data)
        self.events.append(ev)
        return ev


def write_events(
    session: Session, txs: list[HallTx], db: Database, hub: Hub | None, *, commit: ExitStack | None = None
) -> None:
    """Store the halls' new events and `seq`s in the session's transaction, a few statements for all.

    On PostgreSQL the server processes hear, at commit, how far each hall got (pgnotify.py): one
    `pg_notify` per hall, sent by one statement, as `<hall>:<seq>:<origin>`. When the caller publishes
    the events to its `hub` after the commit, `origin` names this process so that its own listener skips
    them; without a hub it is empty and every listener reads them.

    `commit` (PostgreSQL, a transaction begun by `open_halls(begin=True)`): send the `COMMIT` with that
    statement, in one round trip, its answer read when `commit` closes (store.halls `end_and_commit`); pending
    ORM changes are flushed first.
    """
    changed = [tx for tx in txs if tx.events]
    if commit is not None:
        session.flush()
    if not changed:
        if commit is not None:
            commit.enter_context(store.end_and_commit(session.connection(), [], [], []))
        return
    conn = session.connection()
    rows = [
        {"hall_code": ev.hall, "seq": ev.seq, "type": ev.type, "at": ev.at, "data": orjson.dumps(ev.data).decode()}
        for tx in changed
        for ev in tx.events
    ]
    if db.is_sqlite:
        store.append_events(conn, [(tx.hall, tx.last_seq) for tx in changed], rows)
        return
    # one round trip for the seqs, the events, the waiting counts, the loads and the notifications
    origin = db.origin if hub is not None else ""
    ends = [store.HallEnd(tx.hall, tx.last_seq, tx.exact_waiting(), tx.exact_load()) for tx in changed]
    payloads = [f"{tx.hall}:{tx.last_seq}:{origin}" for tx in changed]
    bodies = [body for tx in changed for body in carried(origin, tx.hall, tx.events)]
    if commit is not None:
        commit.enter_context(store.end_and_commit(conn, ends, rows, payloads, bodies))
    else:
        store.append_events_notify(conn, ends, rows, payloads, bodies)


def carried(origin: str, hall: str, events: list[HallEvent]) -> list[str]:
    """A hall's new events as notification payloads (`<origin>`, `<hall>`, then one event's wire text a line;
    pgchannel.py): the other processes' listeners hand them to their hubs without reading the event table.
    In order, as many as fit (BODY_LIMIT a payload, BODIES_LIMIT in all); the rest are read from the table."""
    out: list[str] = []
    head = f"{origin}\n{hall}"
    lines, size, total = [head], len(head), 0
    for ev in events:
        n = len(ev.text) if ev.text.isascii() else len(ev.text.encode())
        total += n + 1
        if total > BODIES_LIMIT or len(head) + 1 + n > BODY_LIMIT:
            break
        if size + 1 + n > BODY_LIMIT:
            out.append("\n".join(lines))
            lines, size = [head], len(head)
        lines.append(ev.text)
        size += 1 + n
    if len(lines) > 1:
        out.append("\n".join(lines))
    return out


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
        tx.now, tx.tz = tx.now.astimezone(tz), tz
    return tx


def open_halls(
    session: Session, halls: Iterable[str], *, lock: bool, now: datetime | None = None, begin: bool = False
) -> dict[str, HallTx]:
    """Start changing several halls in one transaction: read (and lock, in the order of their codes) their seqs.

    `begin` (PostgreSQL, the session's connection in autocommit mode): send the `BEGIN` too, in the same
    round trip (the batch writer; it ends the transaction with `write_events(commit=...)`).
    Halls that do not exist are missing from the answer.
    """
    at = now or utcnow()
    opened = {}
    codes = sorted(set(halls))
    conn = session.connection()
    rows = store.begin_and_lock(conn, codes) if begin else store.hall_seqs(conn, codes, lock=lock)
    for row in rows:
        opened[row.code] = opened_tx(session, row, at)
    return opened


def opened_tx(session: Session, row: store.Opened, now: datetime) -> HallTx:
    """The transaction of a hall whose row the session's transaction has read (and locked): `store.hall_seqs`."""
    tx = HallTx(session, row.code, row.last_seq, now)
    tx.stored = row
    return tx


def read_events(
    session: Session, hall: str, after: int, before: int | None = None, limit: int = 1000, tz: tzinfo | None = None
) -> list[HallEvent]:
    """Committed events of a hall with after < seq (< before), in order; times in `tz` as when sent live."""
    rows = store.events(session.connection(), hall, after, before, limit)
    return [
        HallEvent.create(hall, seq, kind, at.astimezone(tz) if tz else at, orjson.loads(data))
        for seq, kind, at, data in rows
    ]
