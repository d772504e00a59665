"""Hall rows (event seqs), events, windows and queue averages (Core only, plain rows)."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
import psycopg
from psycopg import pq
from sqlalchemy import Text, any_, bindparam, insert, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlmodel import col

from ..fastsql import Prepared, UpdateById, driver_error, flush_behind
from ..models import Event, Hall, Queue, Window
from ..pgchannel import NOTIFY_BODIES_SQL, NOTIFY_SQL
from .rows import HallRow, WindowRow

# Run by the writer for every batch.
_SET_SEQ = Prepared(update(Hall).where(col(Hall.code) == bindparam("h")).values(last_seq=bindparam("seq")))
_INSERT_EVENT = Prepared(insert(Event), column_keys=["hall_code", "seq", "type", "at", "data"])
_HALL_SEQ_SELECT = select(col(Hall.code), col(Hall.last_seq)).where(col(Hall.code) == bindparam("h"))
_HALL_SEQ = Prepared(_HALL_SEQ_SELECT)
_OPEN_COLUMNS = (
    col(Hall.code),
    col(Hall.last_seq),
    col(Hall.waiting_seq),
    col(Hall.waiting_counts),
    col(Hall.load_seq),
    col(Hall.queue_load),
)
_HALL_OPEN_SELECT = select(*_OPEN_COLUMNS).where(col(Hall.code) == bindparam("h"))
_HALL_OPEN = Prepared(_HALL_OPEN_SELECT)
_HALL_OPEN_LOCK = Prepared(_HALL_OPEN_SELECT.with_for_update())
_HALL_SEQS = (
    select(*_OPEN_COLUMNS).where(col(Hall.code).in_(bindparam("codes", expanding=True))).order_by(col(Hall.code))
)
# Rows are locked in the order the sort returns them, so every writer locks halls in the order of their
# codes and two transactions locking several halls cannot deadlock.
_HALL_SEQS_LOCK = _HALL_SEQS.with_for_update()
# PostgreSQL: the same for a batch of several halls, their codes bound as one array, so its SQL is the same at
# every execution (compiled once, prepared by psycopg) where the expanding IN is rendered afresh each time:
# the writer's batches in the city are mostly of several halls, and that rendering through SQLAlchemy was
# 3-4 % of the server's time.
_HALLS_OPEN_LOCK_PG = Prepared(
    select(*_OPEN_COLUMNS)
    .where(col(Hall.code) == any_(bindparam("codes", type_=postgresql.ARRAY(Text))))
    .order_by(col(Hall.code))
    .with_for_update()
)
_NOTIFY = text(NOTIFY_SQL)  # on the schema's own channel (pgchannel.py)


_HALL = select(*Hall.__table__.columns).where(col(Hall.code) == bindparam("h"))  # type: ignore[attr-defined]


def hall(conn: Connection, code: str) -> HallRow | None:
    """The hall's row (its names, notice and last event seq), or None."""
    row = conn.execute(_HALL, {"h": code}).one_or_none()
    return None if row is None else HallRow(**row._mapping)


def set_notice(conn: Connection, code: str, text: str) -> None:
    """Replace the hall's scrolling notice."""
    conn.execute(update(Hall).where(col(Hall.code) == code).values(notice=text))


# A hall's load as stored in its row: each queue's average service time, and each window's queues and
# whether it is open (services/stats.py `HallLoad`).
Load = tuple[dict[str, float], list[tuple[tuple[str, ...], bool]]]


class Opened:
    """A hall opened for a write transaction: its last seq, and what the last writer stored stamped with it.

    The stored waiting counts and load are JSON in the hall row; they are parsed when first asked for, since
    the writer needs them only when another process wrote the hall last (writer.py `_hall_memo`): parsing
    them at every open was a percent of the city's server time."""

    __slots__ = ("_counts", "_load", "_load_seq", "_waiting_seq", "code", "last_seq")

    def __init__(
        self,
        code: str,
        last_seq: int,
        waiting_seq: int | None = None,
        counts: str | None = None,
        load_seq: int | None = None,
        load: str | None = None,
    ) -> None:
        self.code = code
        self.last_seq = int(last_seq)
        self._waiting_seq, self._counts, self._load_seq, self._load = waiting_seq, counts, load_seq, load

    @property
    def waiting(self) -> tuple[int, dict[str, int]] | None:
        """(seq, {queue: waiting tickets}) when exact as of `last_seq`, else None."""
        return _stored(self.last_seq, self._waiting_seq, self._counts)

    @property
    def load(self) -> Load | None:
        """The hall's load when exact as of `last_seq`, else None."""
        return _stored_load(self.last_seq, self._load_seq, self._load)


def hall_seqs(conn: Connection, codes: Sequence[str], *, lock: bool) -> list[Opened]:
    """The halls of `codes` that exist; with `lock`, row-locked in the order of their codes."""
    if len(codes) == 1:  # the usual case; an expanding IN re-renders its SQL at every execution
        rows: Any = (_HALL_OPEN_LOCK if lock else _HALL_OPEN).all(conn, {"h": codes[0]})
    else:
        rows = conn.execute(_HALL_SEQS_LOCK if lock else _HALL_SEQS, {"codes": list(codes)})
    return [Opened(*row) for row in rows]


def begin_and_lock(conn: Connection, codes: Sequence[str]) -> list[Opened]:
    """PostgreSQL, on a connection in autocommit mode: `BEGIN` and `hall_seqs(lock=True)` in one round trip.

    psycopg's pipeline mode sends both and one Sync, then reads both answers (psycopg would otherwise wait
    for its own `BEGIN` before sending the statement). The caller ends the transaction with `end_and_commit`
    or a rollback. A broken connection is invalidated (the next checkout opens a new one) and raised as
    SQLAlchemy's `DBAPIError` with `connection_invalidated`: nothing had run, so the caller may retry.
    """
    with begun_and_locked(conn, codes) as opened:
        pass
    return opened()


@contextlib.contextmanager
def begun_and_locked(conn: Connection, codes: Sequence[str]) -> Iterator[Callable[[], list[Opened]]]:
    """`begin_and_lock` with its pipeline left open for the statements sent inside the block: `BEGIN`, the lock
    and they go out back to back, one network wait for all (the server runs them once the locks are granted);
    what the block yields reads the halls' rows after it. Errors as `begin_and_lock`'s, for any of them: the
    writer runs a batch's first steps there, before the lock's answer, when its memo of the hall can only be
    wrong if another writer committed (writer.py `_run_ahead`)."""
    raw = _driver(conn)
    one = len(codes) == 1
    stmt = _HALL_OPEN_LOCK if one else _HALLS_OPEN_LOCK_PG
    try:
        with raw.pipeline():
            raw.execute(b"BEGIN")
            fetch = stmt.pending(conn, {"h": codes[0]} if one else {"codes": list(codes)})
            yield lambda: [Opened(*row) for row in fetch()]
    except psycopg.Error as err:
        raise driver_error(conn, err, "BEGIN; " + stmt.sql(conn)) from err


@contextlib.contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """PostgreSQL: the statements sent inside go out back to back, their answers read at the end (one Sync,
    one network wait; psycopg's pipeline mode). A statement's answer is read after the block (`Prepared.pending`);
    a read inside (`Prepared.all`) waits for the answers before it. The first failure is raised at the end."""
    raw = _driver(conn)
    try:
        with raw.pipeline():
            yield
    except psycopg.Error as err:
        raise driver_error(conn, err, "pipelined statements") from err


def refuse_inside_pipeline(_conn: Any, cursor: Any, *_: Any) -> None:
    """A SQLAlchemy `before_cursor_execute` listener (the writer lanes' engines): a statement run through
    SQLAlchemy inside `pipelined` raises. SQLAlchemy reads the cursor's description as soon as it has executed,
    and in pipeline mode it is not there yet: the result would read as empty. Raising fails the batch's
    pipelined run, which the writer then runs again change by change."""
    if cursor.connection.pgconn.pipeline_status != pq.PipelineStatus.OFF:
        raise RuntimeError("a statement run through SQLAlchemy inside a pipeline (store.halls `pipelined`)")


def _driver(conn: Connection) -> psycopg.Connection[Any]:
    raw = conn.connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)
    return raw


def _stored(last_seq: int, waiting_seq: int | None, counts: str | None) -> tuple[int, dict[str, int]] | None:
    if counts is None or waiting_seq != last_seq:
        return None
    return last_seq, {str(q): int(n) for q, n in orjson.loads(counts).items()}


def _stored_load(last_seq: int, load_seq: int | None, load: str | None) -> Load | None:
    if load is None or load_seq != last_seq:
        return None
    stored = orjson.loads(load)
    avg = {str(q): float(a) for q, a in stored["avg"].items()}
    return avg, [(tuple(qs.split(",")), bool(is_open)) for qs, is_open in stored["windows"]]


def dump_load(load: Load) -> str:
    """The hall row's form of a load (`Load`): JSON, the queues in their order."""
    avg, windows = load
    return orjson.dumps({"avg": avg, "windows": [(",".join(qs), is_open) for qs, is_open in windows]}).decode()


def hall_seq(conn: Connection, hall: str) -> int | None:
    """The hall's last event seq."""
    rows = _HALL_SEQ.all(conn, {"h": hall})
    return int(rows[0][1]) if rows else None


def append_events(conn: Connection, seqs: Sequence[tuple[str, int]], events: Sequence[dict[str, Any]]) -> None:
    """Store new events (`hall_code`, `seq`, `type`, `at`, `data` as JSON text) and the halls' new last seqs."""
    params = [{"h": h, "seq": s} for h, s in seqs]
    if len(params) == 1:
        _SET_SEQ.run(conn, params[0])
    else:
        _SET_SEQ.many(conn, params)
    _INSERT_EVENT.many(conn, events)


# PostgreSQL: the halls' new seqs, their events and the notifications in one statement (one round trip while
# the batch holds the halls' locks, not three). Data-modifying WITH members run once whether read or not.
_WRITE_AND_NOTIFY = text(  # constants only (NOTIFY_SQL is pgchannel's); the values are bound
    "WITH s AS (UPDATE hall SET last_seq = v.seq, waiting_seq = v.wseq, waiting_counts = v.counts,"  # noqa: S608
    " load_seq = v.lseq, queue_load = v.load FROM unnest(CAST(:halls AS text[]), CAST(:seqs AS int[]),"
    " CAST(:wseqs AS int[]), CAST(:counts AS text[]), CAST(:lseqs AS int[]), CAST(:loads AS text[]))"
    " AS v(code, seq, wseq, counts, lseq, load) WHERE hall.code = v.code),"
    " e AS (INSERT INTO hall_event (hall_code, seq, type, at, data) SELECT * FROM unnest(CAST(:eh AS text[]),"
    " CAST(:es AS int[]), CAST(:et AS text[]), CAST(:ea AS timestamp[]), CAST(:ed AS text[]))) "
    + NOTIFY_BODIES_SQL
    + " UNION ALL "  # the events first, then how far each hall got (pgchannel.py)
    + NOTIFY_SQL
)
_WRITE_AND_NOTIFY_SQL: dict[str, str] = {}  # its SQL in the driver's parameter style, per dialect name


class HallEnd(NamedTuple):
    """A hall's end of a write transaction: its new last seq, and its waiting counts and load when exact then."""

    code: str
    seq: int
    waiting: dict[str, int] | None
    load: Load | None


def _end_params(
    ends: Sequence[HallEnd], events: Sequence[dict[str, Any]], payloads: list[str], bodies: list[str]
) -> dict[str, Any]:
    return {
        "bodies": bodies,
        "halls": [h.code for h in ends],
        "seqs": [h.seq for h in ends],
        "wseqs": [None if h.waiting is None else h.seq for h in ends],
        "counts": [None if h.waiting is None else orjson.dumps(h.waiting).decode() for h in ends],
        "lseqs": [None if h.load is None else h.seq for h in ends],
        "loads": [None if h.load is None else dump_load(h.load) for h in ends],
        "eh": [e["hall_code"] for e in events],
        "es": [e["seq"] for e in events],
        "et": [e["type"] for e in events],
        "ea": [e["at"].astimezone(UTC).replace(tzinfo=None) for e in events],
        "ed": [e["data"] for e in events],
        "payloads": payloads,
    }


def append_events_notify(
    conn: Connection,
    ends: Sequence[HallEnd],
    events: Sequence[dict[str, Any]],
    payloads: list[str],
    bodies: list[str] | None = None,
) -> None:
    """PostgreSQL: `append_events` and `notify` (`bodies`: the events' notifications, pgchannel.py) as one
    statement, and each hall's waiting counts and load when
    they are exact as of its new last seq (else none: the next reader reads them). Event times are aware;
    stored naive UTC."""
    conn.execute(_WRITE_AND_NOTIFY, _end_params(ends, events, payloads, bodies or []))


@contextlib.contextmanager
def end_and_commit(
    conn: Connection,
    ends: Sequence[HallEnd],
    events: Sequence[dict[str, Any]],
    payloads: list[str],
    bodies: list[str] | None = None,
) -> Iterator[None]:
    """PostgreSQL, after `begin_and_lock`: the writes still queued by a `write_behind` (fastsql), `append_events_notify`
    (when there are `ends`) and `COMMIT` in one round trip (pipeline mode, one Sync): the halls' locks are released
    one network wait earlier, and the last queued writes cost none of their own. All is sent on entering the block,
    the answers are read on leaving it: the writer begins its next batch inside, on its other connection, so that
    the batch's locks are granted at this `COMMIT` with no wait of the client between (writer.py `_Lane`). The first
    failure aborts the rest (no `COMMIT`) and is raised on leaving, whichever statement's it is."""
    raw = _driver(conn)
    sql = _WRITE_AND_NOTIFY_SQL.get(conn.dialect.name)
    if sql is None:
        # Every parameter (each an array) in binary format (`%(name)b`): psycopg's text-format array dumper
        # escapes each element in Python (re.sub per quote, and the events' JSON is full of them), about
        # 0.4 ms of CPU for three events, a tenth of the server's time in the city's day (bench/README.md).
        text_style = _WRITE_AND_NOTIFY.compile(dialect=conn.dialect).string
        sql = _WRITE_AND_NOTIFY_SQL[conn.dialect.name] = re.sub(r"%\((\w+)\)s", r"%(\1)b", text_style)
    try:
        with raw.pipeline():
            flush_behind(conn)
            if ends:
                raw.execute(sql, _end_params(ends, events, payloads, bodies or []))
            raw.execute(b"COMMIT")
            yield
    except psycopg.Error as err:
        raise driver_error(conn, err, "hall batch end; COMMIT") from err


def notify(conn: Connection, payloads: list[str]) -> None:
    """PostgreSQL: one `pg_notify` on the schema's channel per payload, in one statement."""
    conn.execute(_NOTIFY, {"payloads": payloads})


_EVENT_ROWS = select(col(Event.seq), col(Event.type), col(Event.at), col(Event.data))


def events(
    conn: Connection, hall: str, after: int, before: int | None = None, limit: int = 1000
) -> list[tuple[int, str, datetime, str]]:
    """Committed events of a hall with after < seq (< before), in order: (seq, type, at, data as JSON text)."""
    stmt = _EVENT_ROWS.where(col(Event.hall_code) == hall, col(Event.seq) > after)
    if before is not None:
        stmt = stmt.where(col(Event.seq) < before)
    return [tuple(r) for r in conn.execute(stmt.order_by(col(Event.seq)).limit(limit)).all()]  # type: ignore[misc]


_WINDOW_SELECT = select(*Window.__table__.columns)  # type: ignore[attr-defined]
_WINDOW_BY_NUMBER = _WINDOW_SELECT.where(col(Window.hall_code) == bindparam("h"), col(Window.number) == bindparam("n"))
_WINDOW = Prepared(_WINDOW_BY_NUMBER)
_WINDOW_LOCKED = Prepared(_WINDOW_BY_NUMBER.with_for_update())
_WINDOWS = _WINDOW_SELECT.where(col(Window.hall_code) == bindparam("h")).order_by(col(Window.number))
_UPDATE_WINDOW = UpdateById(Window.__table__)  # type: ignore[attr-defined]


def window(conn: Connection, hall: str, number: int) -> WindowRow | None:
    """The hall's window with this number (row-locked on PostgreSQL: a write transaction changes it)."""
    return window_pending(conn, hall, number)()


def window_pending(conn: Connection, hall: str, number: int) -> Callable[[], WindowRow | None]:
    """`window`, sent now (inside `pipelined`: queued) and read by the function it answers."""
    stmt = _WINDOW_LOCKED if conn.dialect.name == "postgresql" else _WINDOW
    rows = stmt.pending(conn, {"h": hall, "n": number})
    return lambda: next((WindowRow(**dict(zip(stmt.keys, row, strict=True))) for row in rows()), None)


def windows(conn: Connection, hall: str) -> list[WindowRow]:
    """Every window of the hall, by number."""
    return [WindowRow(**r._mapping) for r in conn.execute(_WINDOWS, {"h": hall}).all()]


def update_window(conn: Connection, w: WindowRow, **changes: Any) -> WindowRow:
    """UPDATE only the changed columns of the window; the row as it is now."""
    _UPDATE_WINDOW.run(conn, w.id, changes)
    return dataclasses.replace(w, **changes)


def release_windows(conn: Connection, hall: str) -> None:
    """Free every window of the hall and reset their priority streaks (day's end)."""
    conn.execute(update(Window).where(col(Window.hall_code) == hall).values(current_ticket_id=None, priority_streak=0))


_AVG = Prepared(
    select(col(Queue.avg_service_s)).where(col(Queue.hall_code) == bindparam("h"), col(Queue.code) == bindparam("q"))
)
_SET_AVG = Prepared(
    update(Queue)
    .where(col(Queue.hall_code) == bindparam("h"), col(Queue.code) == bindparam("q"))
    .values(avg_service_s=bindparam("a"))
)
_QUEUE_AVGS = Prepared(
    select(col(Queue.code), col(Queue.avg_service_s))
    .where(col(Queue.hall_code) == bindparam("h"))
    .order_by(col(Queue.position))
)
_WINDOW_LOADS = Prepared(select(col(Window.queues), col(Window.status)).where(col(Window.hall_code) == bindparam("h")))


def queue_avg(conn: Connection, hall: str, queue: str) -> float:
    """The queue's moving average of service times (seconds)."""
    return float(_AVG.scalar(conn, {"h": hall, "q": queue}))


def set_queue_avg(conn: Connection, hall: str, queue: str, avg: float) -> None:
    """Store the queue's new moving average of service times (in a `write_behind`: with the next statement)."""
    _SET_AVG.defer(conn, {"h": hall, "q": queue, "a": avg})


def queue_avgs(conn: Connection, hall: str) -> dict[str, float]:
    """Every queue's average service time, in the hall's queue order."""
    return {code: float(a) for code, a in _QUEUE_AVGS.all(conn, {"h": hall})}


def window_loads(conn: Connection, hall: str) -> list[tuple[tuple[str, ...], bool]]:
    """Each window's queues and whether it is open (what estimates depend on)."""
    return [(tuple(qs.split(",")), st == "open") for qs, st in _WINDOW_LOADS.all(conn, {"h": hall})]
