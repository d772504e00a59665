"""Ticket rows: read, insert, update, and the counts and candidates calling needs (Core only, plain rows)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import orjson
from psycopg import pq
from sqlalchemy import Integer, String, and_, bindparam, case, column, func, insert, or_, select, text, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import col

from .. import policy
from ..fastsql import Prepared, UpdateById, held, hold, send_held
from ..models import OPEN_STATUSES, WAITING, Ticket, TicketCounter, Window
from ..services.stats import _priority_lane, class_expr, ticket_class
from .rows import TicketRow, WindowRow

_COLUMNS = list(Ticket.__table__.columns)  # type: ignore[attr-defined]
_NEW_COLUMNS = [c.name for c in _COLUMNS if c.name != "id"]
_SELECT = select(*_COLUMNS)
_BY_ID = _SELECT.where(col(Ticket.id) == bindparam("id"))
_TICKET = Prepared(_BY_ID)
_WAITING = Prepared(_BY_ID.where(col(Ticket.status) == WAITING))
_WAITING_SKIP_LOCKED = Prepared(_BY_ID.where(col(Ticket.status) == WAITING).with_for_update(skip_locked=True))
_BY_KEY = Prepared(
    _SELECT.where(col(Ticket.hall_code) == bindparam("h"), col(Ticket.idempotency_key) == bindparam("k"))
)
_BY_TRACK = Prepared(_SELECT.where(col(Ticket.track_token) == bindparam("t")))
_BY_NUMBER = Prepared(
    _SELECT.where(
        col(Ticket.hall_code) == bindparam("h"),
        col(Ticket.number) == bindparam("n"),
        or_(*(col(Ticket.status) == s for s in sorted(OPEN_STATUSES))),
    )
    .order_by(col(Ticket.id).desc())
    .limit(1)
)
_HALL_OF = Prepared(select(col(Ticket.hall_code)).where(col(Ticket.id) == bindparam("id")))
_INSERT = Prepared(insert(Ticket).returning(col(Ticket.id)), column_keys=_NEW_COLUMNS)
_UPDATE_TICKET = UpdateById(Ticket.__table__)  # type: ignore[attr-defined]


def _row(keys: Sequence[str], values: Sequence[Any]) -> TicketRow:
    return TicketRow(**dict(zip(keys, values, strict=True)))


def _one(conn: Connection, stmt: Prepared, params: dict[str, Any]) -> TicketRow | None:
    row = stmt.one_or_none(conn, params)
    return None if row is None else _row(stmt.keys, row)


def _is_pg(conn: Connection) -> bool:
    return bool(conn.dialect.name == "postgresql")


def ticket(conn: Connection, ticket_id: int) -> TicketRow | None:
    """The ticket with this id."""
    return _one(conn, _TICKET, {"id": ticket_id})


def waiting_ticket(conn: Connection, ticket_id: int) -> TicketRow | None:
    """The ticket if it is waiting; on PostgreSQL row-locked, or None when another transaction holds it."""
    return _one(conn, _WAITING_SKIP_LOCKED if _is_pg(conn) else _WAITING, {"id": ticket_id})


_WINDOW_COLUMNS = list(Window.__table__.columns)  # type: ignore[attr-defined]
# A window (row-locked on PostgreSQL, as store.halls `window`) and a ticket, in one statement: F9 reads both
# first, and each read was a network wait while the hall is locked. The ticket is not locked (as `ticket`).
_WINDOW_AND_TICKET = Prepared(
    select(*_WINDOW_COLUMNS, *_COLUMNS)
    .select_from(Window.__table__.outerjoin(Ticket.__table__, col(Ticket.id) == bindparam("t")))  # type: ignore[attr-defined]
    .where(col(Window.hall_code) == bindparam("h"), col(Window.number) == bindparam("n"))
    .with_for_update(of=Window.__table__)  # type: ignore[attr-defined]
)


def window_and_ticket(
    conn: Connection, hall: str, number: int, ticket_id: int
) -> tuple[WindowRow, TicketRow | None] | None:
    """The hall's window with this number (row-locked on PostgreSQL) and the ticket with this id (any hall's),
    in one round trip; None when there is no such window."""
    return window_and_ticket_pending(conn, hall, number, ticket_id)()


def window_and_ticket_pending(
    conn: Connection, hall: str, number: int, ticket_id: int
) -> Callable[[], tuple[WindowRow, TicketRow | None] | None]:
    """`window_and_ticket`, sent now (inside store.halls `pipelined`: queued) and read by the function it answers."""
    rows = _WINDOW_AND_TICKET.pending(conn, {"h": hall, "n": number, "t": ticket_id})

    def read() -> tuple[WindowRow, TicketRow | None] | None:
        row = next(iter(rows()), None)
        if row is None:
            return None
        split = len(_WINDOW_COLUMNS)
        w = WindowRow(**{c.name: v for c, v in zip(_WINDOW_COLUMNS, row[:split], strict=True)})
        t = None if row[split] is None else TicketRow(**{c.name: v for c, v in zip(_COLUMNS, row[split:], strict=True)})
        return w, t

    return read


def ticket_by_key(conn: Connection, hall: str, key: str) -> TicketRow | None:
    """The hall's ticket issued with this Idempotency-Key."""
    return _one(conn, _BY_KEY, {"h": hall, "k": key})


def ticket_by_track(conn: Connection, token: str) -> TicketRow | None:
    """The ticket with this tracking token."""
    return _one(conn, _BY_TRACK, {"t": token})


def open_ticket_by_number(conn: Connection, hall: str, number: str) -> TicketRow | None:
    """The hall's newest open ticket with this number (A023)."""
    return _one(conn, _BY_NUMBER, {"h": hall, "n": number})


def hall_of_ticket(conn: Connection, ticket_id: int) -> str | None:
    """The hall a ticket belongs to."""
    row = _HALL_OF.one_or_none(conn, {"id": ticket_id})
    return None if row is None else str(row[0])


def tickets(conn: Connection, ids: Iterable[int]) -> dict[int, TicketRow]:
    """The tickets with these ids, by id."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = conn.execute(_SELECT.where(col(Ticket.id).in_(wanted))).all()
    return {r.id: _row(r._fields, r) for r in rows}


def select_tickets(
    conn: Connection, *where: Any, order: Sequence[Any] = (), limit: int | None = None
) -> list[TicketRow]:
    """Tickets matching the conditions (columns of `models.Ticket`), in `order` (cold reads: lists, boards)."""
    stmt = _SELECT.where(*where).order_by(*order)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_row(r._fields, r) for r in conn.execute(stmt).all()]


def insert_ticket(conn: Connection, values: dict[str, Any]) -> TicketRow:
    """Insert a new ticket (every column but `id`); the stored row."""
    new_id = int(_INSERT.scalar(conn, values))
    return TicketRow(id=new_id, **values)


def update_ticket(conn: Connection, t: TicketRow, **changes: Any) -> TicketRow:
    """UPDATE only the changed columns of the ticket; the row as it is now."""
    _UPDATE_TICKET.run(conn, t.id, changes)
    return dataclasses.replace(t, **changes)


def _counter_upsert(dialect: Any) -> Any:
    stmt = dialect.insert(TicketCounter).values(
        hall_code=bindparam("h"), service_day=bindparam("d"), queue_code=bindparam("q"), last=1
    )
    return stmt.on_conflict_do_update(
        index_elements=["hall_code", "service_day", "queue_code"],
        set_={"last": col(TicketCounter.last) + 1},
    ).returning(col(TicketCounter.last))


_NEXT_NUMBER = {"postgresql": Prepared(_counter_upsert(postgresql)), "sqlite": Prepared(_counter_upsert(sqlite))}


def next_number(conn: Connection, hall: str, day: date, queue: str) -> int:
    """Increment the (hall, day, queue) counter atomically; rolled back with the transaction, so no gaps."""
    return int(_NEXT_NUMBER[conn.dialect.name].scalar(conn, {"h": hall, "d": day, "q": queue}))


def _issue_statement() -> Prepared:
    """PostgreSQL: a batch's walk-ins (one or more, of any halls and queues) numbered and inserted in one statement.

    The tickets come as one JSON array (`rows`: each ticket's columns but `id`, `seq` and `number`, its place `o`
    and daily cap `cap`, 0 for none). Each (hall, day, queue) counter is raised once by its tickets' count (an
    upsert cannot touch a row twice), each ticket takes the next of its queue's numbers in its place's order, is
    inserted when within its cap, and counts the queue's waiting tickets transferred to a window (the new ones
    are not). One statement, not one per ticket: a ticket's own `execute` and its ~30 parameters were a quarter
    of the server's CPU per ticket (psycopg's Python side), and one SQL text whatever the batch's size is
    prepared once. SQLite (no DML in a WITH) runs `next_number` and `insert_ticket` in-process.
    Answers per ticket, in place order: (o, seq, new id or None past the cap, transferred count).

    Written as SQL text: a function's column definition list, window functions and an ordered INSERT … SELECT
    with ON CONFLICT are clumsy in Core; the columns and their types come from the model.
    """
    dialect = postgresql.psycopg.dialect()
    t = Ticket.__table__  # type: ignore[attr-defined]
    q = dialect.identifier_preparer.quote
    given = [n for n in _NEW_COLUMNS if n not in ("seq", "number")]
    defs = ", ".join(f"{q(n)} {t.c[n].type.compile(dialect=dialect)}" for n in given)
    number = "n.queue || CASE WHEN n.seq < 1000 THEN lpad(n.seq::text, 3, '0') ELSE n.seq::text END"
    picked = ", ".join({"seq": "n.seq", "number": number}.get(c, f"n.{q(c)}") for c in _NEW_COLUMNS)
    sql = f"""WITH given AS (
    SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS g(o integer, cap integer, {defs})
), per_queue AS (
    SELECT hall_code, service_day, queue, count(*) AS k FROM given GROUP BY hall_code, service_day, queue
), counter AS (
    INSERT INTO ticket_counter (hall_code, service_day, queue_code, last)
    SELECT hall_code, service_day, queue, k FROM per_queue ORDER BY hall_code, service_day, queue
    ON CONFLICT (hall_code, service_day, queue_code) DO UPDATE SET last = ticket_counter.last + excluded.last
    RETURNING hall_code, service_day, queue_code, last
), numbered AS (
    SELECT g.*, CAST(c.last - count(*) OVER w + row_number() OVER (w ORDER BY g.o) AS integer) AS seq
    FROM given AS g
    JOIN counter AS c ON c.hall_code = g.hall_code AND c.service_day = g.service_day AND c.queue_code = g.queue
    WINDOW w AS (PARTITION BY g.hall_code, g.service_day, g.queue)
), inserted AS (
    INSERT INTO ticket ({", ".join(q(c) for c in _NEW_COLUMNS)})
    SELECT {picked} FROM numbered AS n WHERE n.cap = 0 OR n.seq <= n.cap ORDER BY n.o
    RETURNING id, hall_code, service_day, issue_queue, seq
)
SELECT n.o, n.seq, i.id, (
    SELECT count(*) FROM ticket AS t
    WHERE t.hall_code = n.hall_code AND t.target_window IS NOT NULL AND t.status || '' = '{WAITING}'
    AND t.queue = n.queue
)
FROM numbered AS n
LEFT JOIN inserted AS i
ON i.hall_code = n.hall_code AND i.service_day = n.service_day AND i.issue_queue = n.issue_queue AND i.seq = n.seq
ORDER BY n.o"""  # noqa: S608 (names and constants of the model only; the tickets are a parameter)
    stmt = (
        text(sql)
        .bindparams(bindparam("rows", type_=String))
        .columns(column("o", Integer), column("seq", Integer), column("id", Integer), column("targeted", Integer))
    )
    return Prepared(stmt)


_ISSUE_PG = _issue_statement()


Issued = tuple[TicketRow | None, int, int]


def _json_value(value: Any) -> Any:
    """A ticket's date or datetime for the JSON of `_issue_statement` (a datetime as `UTCDateTime` stores it)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to UTCDateTime")
        return value.astimezone(UTC).replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in a ticket's columns")


class _IssueBatch:
    """Tickets held back on a connection (fastsql `hold`), sent as one statement before its next statement or
    at the first answer read."""

    __slots__ = ("answers", "rows", "sent")

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.sent: Callable[[], list[tuple[Any, ...]]] | None = None
        self.answers: list[tuple[Any, ...]] | None = None

    def send(self, conn: Connection) -> None:
        rows = orjson.dumps(self.rows, default=_json_value, option=orjson.OPT_PASSTHROUGH_DATETIME)
        self.sent = _ISSUE_PG.pending(conn, {"rows": rows.decode()})

    def answer(self, conn: Connection, place: int) -> tuple[Any, ...]:
        if self.answers is None:
            if self.sent is None:  # still held: this batch is what `send_held` sends
                send_held(conn)
            assert self.sent is not None
            self.answers = self.sent()
            if len(self.answers) != len(self.rows):
                raise ValueError(f"expected {len(self.rows)} rows, got {len(self.answers)}")
        return self.answers[place]


def issue_ticket_pending(conn: Connection, values: dict[str, Any], cap: int) -> Callable[[], Issued]:
    """PostgreSQL: number and insert a new ticket of `values` (every column but `id`, `seq` and `number`) within
    its daily `cap` (0: none) with `_issue_statement`; the function this answers reads (the row, or None when
    `seq` is past `cap`; `seq`; the queue's waiting tickets transferred to a window).

    Sent at once, except in psycopg's pipeline mode (store.halls `pipelined`: a batch's issues, writer.py): there
    it is held back with the tickets issued next (fastsql `hold`), and they all go as one statement before the
    connection's next statement, at the pipeline's end (writer.py `_pipelined`) or when an answer is first read.
    Only there: outside a pipeline a ticket held, never read, then rolled back to a savepoint would be sent later
    (in the transaction of the changes after it)."""
    pipeline = _driver(conn).pgconn.pipeline_status != pq.PipelineStatus.OFF
    batch = held(conn) if pipeline else None
    if not isinstance(batch, _IssueBatch):
        batch = _IssueBatch()
        if pipeline:
            hold(conn, batch)
    place = len(batch.rows)
    batch.rows.append(values | {"o": place, "cap": cap})
    if not pipeline:
        batch.send(conn)

    def answer() -> Issued:
        o, seq, new_id, targeted = batch.answer(conn, place)
        if o != place:
            raise ValueError(f"expected the answer of ticket {place}, got {o}")
        if new_id is None:
            return None, int(seq), int(targeted)
        q = values["queue"]
        return TicketRow(id=int(new_id), seq=int(seq), number=f"{q}{int(seq):03d}", **values), int(seq), int(targeted)

    return answer


def _driver(conn: Connection) -> Any:
    return conn.connection.dbapi_connection


_WAITING_HERE = (col(Ticket.hall_code) == bindparam("h"), col(Ticket.status) == WAITING)
# The transferred tickets of a queue, read from the partial index that holds only them. `status || ''` keeps
# SQLite from choosing ix_ticket_waiting instead (three equal columns there), which walks the queue's whole
# waiting range: that count grew with the queue and took a third of the writer's time in issuance.
_TARGETED_IN_QUEUE = Prepared(
    select(func.count()).where(
        col(Ticket.hall_code) == bindparam("h"),
        col(Ticket.target_window).is_not(None),
        col(Ticket.status).concat("") == WAITING,
        col(Ticket.queue) == bindparam("q"),
    )
)
_BEFORE_CLASS = Prepared(
    select(
        func.coalesce(
            func.sum(
                case(
                    (and_(col(Ticket.target_window).is_(None), class_expr(bindparam("now")) <= bindparam("cls")), 1),
                    else_=0,
                )
            ),
            0,
        ),
    ).where(*_WAITING_HERE, col(Ticket.queue) == bindparam("q"))
)


def targeted_in_queue(conn: Connection, hall: str, queue: str) -> int:
    """Waiting tickets of the queue that are transferred to a window (few: read from their own index)."""
    return int(_TARGETED_IN_QUEUE.scalar(conn, {"h": hall, "q": queue}))


def waiting_up_to_class(conn: Connection, hall: str, queue: str, now: datetime, cls: int) -> int:
    """Waiting tickets of the queue (not transferred to a window) whose class is `cls` or before."""
    return int(_BEFORE_CLASS.scalar(conn, {"h": hall, "q": queue, "now": now, "cls": cls}))


_WAITING_ALL = select(col(Ticket.queue), func.count()).where(*_WAITING_HERE).group_by(col(Ticket.queue))
_WAITING_COUNTS = Prepared(_WAITING_ALL)


def waiting_counts(conn: Connection, hall: str, queues: Iterable[str] | None = None) -> dict[str, int]:
    """Waiting tickets per queue code (tickets transferred to a window count in their queue too)."""
    counts = {code: int(n) for code, n in _WAITING_COUNTS.all(conn, {"h": hall})}
    return counts if queues is None else {q: counts.get(q, 0) for q in queues}


def people_ahead(conn: Connection, t: TicketRow, now: datetime) -> int:
    """Waiting tickets of the same queue that the policy would call before this one."""
    if t.status != WAITING:
        return 0
    cls = class_expr(now)
    mine = ticket_class(t, now)
    same_class_earlier = and_(
        cls == mine,
        or_(
            col(Ticket.arrived_at) < t.arrived_at,
            and_(col(Ticket.arrived_at) == t.arrived_at, col(Ticket.id) < t.id),
        ),
    )
    stmt = select(func.count()).where(
        col(Ticket.hall_code) == t.hall_code,
        col(Ticket.status) == WAITING,
        col(Ticket.queue) == t.queue,
        col(Ticket.target_window).is_(None),
        col(Ticket.id) != t.id,
        or_(cls < mine, same_class_earlier),
    )
    return int(conn.execute(stmt).scalar_one())


def queue_heads(cols: Iterable[Any], queue: Any, limit: Any) -> list[Any]:
    """UNION ALL members over a hall's waiting queue (not the tickets transferred to a window): the first
    `limit` ordinary and the first `limit` priority tickets by arrival, and every appointment ticket (their
    class depends on the clock). Within a class the earlier arrival comes first, so these hold the queue's
    first `limit` in call order without sorting the whole queue (call-next, the N-ahead message).

    `queue` and `limit` are bound parameters or values; the hall is the parameter `h`.
    """
    cols = tuple(cols)
    here = (*_WAITING_HERE, col(Ticket.queue) == queue, col(Ticket.target_window).is_(None))
    members: list[Any] = []
    for lanes in (col(Ticket.lane) == "normal", _priority_lane()):
        first = select(*cols).where(*here, lanes).order_by(col(Ticket.arrived_at), col(Ticket.id)).limit(limit)
        members.append(select(*first.subquery().c))  # LIMIT inside a UNION member needs a subquery
    members.append(select(*cols).where(*here, col(Ticket.lane) == "appointment"))
    return members


_CANDIDATE_COLUMNS = (
    col(Ticket.id),
    col(Ticket.queue),
    col(Ticket.lane),
    col(Ticket.arrived_at),
    col(Ticket.target_window),
    col(Ticket.slot_start),
)
_TARGETED = select(*_CANDIDATE_COLUMNS).where(*_WAITING_HERE, col(Ticket.target_window) == bindparam("w"))
_HEADS: dict[int, Prepared] = {}


def _heads_statement(n: int) -> Prepared:
    """`heads` as one UNION ALL for a window of `n` queues (one round trip instead of 1 + 3n), built once per n."""
    stmt = _HEADS.get(n)
    if stmt is None:
        members: list[Any] = [_TARGETED]
        for i in range(n):
            members += queue_heads(_CANDIDATE_COLUMNS, bindparam(f"q{i}"), 1)
        stmt = _HEADS[n] = Prepared(union_all(*members))
    return stmt


def heads(conn: Connection, hall: str, view: policy.WindowView) -> list[policy.Candidate]:
    """The only tickets the policy can pick: per queue, the first ordinary and the first priority ticket by
    arrival, every appointment ticket (their class depends on the clock), and the transfers to this window.

    Within one queue and class the earliest arrival beats the rest under either ordering of the policy,
    so choosing among these gives the same answer as choosing among all waiting tickets — without
    loading a long queue into Python on every call.
    """
    return heads_pending(conn, hall, view.number, view.queues)()


def heads_pending(
    conn: Connection, hall: str, number: int, queues: Sequence[str]
) -> Callable[[], list[policy.Candidate]]:
    """`heads` of window `number` serving `queues`, sent now (inside store.halls `pipelined`: queued) and read by
    the function it answers."""
    params: dict[str, Any] = {"h": hall, "w": number} | {f"q{i}": q for i, q in enumerate(queues)}
    rows = _heads_statement(len(queues)).pending(conn, params)
    return lambda: [policy.Candidate(int(r[0] or 0), r[1], r[2], r[3], r[4], r[5]) for r in rows()]


def all_waiting(conn: Connection, hall: str, view: policy.WindowView) -> list[policy.Candidate]:
    """Every waiting ticket the window may call."""
    rows = conn.execute(
        select(*_CANDIDATE_COLUMNS).where(
            *_WAITING_HERE,
            (col(Ticket.queue).in_(view.queues) & col(Ticket.target_window).is_(None))
            | (col(Ticket.target_window) == view.number),
        ),
        {"h": hall},
    ).all()
    return [policy.Candidate(int(r[0] or 0), r[1], r[2], r[3], r[4], r[5]) for r in rows]


# Who is n-th: the first n+1 of each class by arrival and the appointments, one statement (not three).
_NEXT_IN_LINE = Prepared(
    union_all(
        *queue_heads(
            (
                col(Ticket.id),
                col(Ticket.lane),
                col(Ticket.slot_start),
                col(Ticket.arrived_at),
                col(Ticket.issued_at),
                col(Ticket.number),
                col(Ticket.phone_enc),
                col(Ticket.lang),
            ),
            bindparam("q"),
            bindparam("n", type_=Integer),
        )
    )
)


def next_in_line(conn: Connection, hall: str, queue: str, n: int) -> list[Any]:
    """Enough of the queue's first tickets to know who is n-th (named rows: id, lane, slot_start, arrived_at,
    issued_at, number, phone_enc, lang), unsorted."""
    return _NEXT_IN_LINE.named(conn, {"h": hall, "q": queue, "n": n + 1})


_OPEN_REMOTE = Prepared(
    select(col(Ticket.number)).where(
        col(Ticket.hall_code) == bindparam("h"),
        col(Ticket.phone_hash) == bindparam("p"),
        col(Ticket.channel) == "remote",
        or_(*(col(Ticket.status) == s for s in ("waiting", "called", "held"))),
    )
)


def open_remote_ticket(conn: Connection, hall: str, phone_hash: str) -> str | None:
    """The number of an open remote ticket of this phone in the hall, if any."""
    rows = _OPEN_REMOTE.all(conn, {"h": hall, "p": phone_hash})
    return str(rows[0][0]) if rows else None


def open_before(conn: Connection, hall: str, day: date) -> list[TicketRow]:
    """The hall's tickets still open from service days before `day`, by id."""
    return select_tickets(
        conn,
        col(Ticket.hall_code) == hall,
        col(Ticket.service_day) < day,
        col(Ticket.status).in_(OPEN_STATUSES),
        order=[col(Ticket.id)],
    )
