"""Ticket lifecycle: issue, call (next or chosen), the window actions, transfer, day-end expiry."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, func, insert, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col

from .. import policy
from ..calendar import Calendar
from ..config import HallConfig
from ..crypto import PiiCipher
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..estimate import updated_average
from ..fastsql import Prepared
from ..ids import (
    InvalidIdNumber,
    InvalidPhone,
    age_on,
    mask_id_number,
    mask_phone,
    validate_id_number,
    validate_phone,
)
from ..models import (
    AT_WINDOW,
    CALLED,
    CANCELLED,
    DONE,
    EXPIRED,
    HELD,
    NO_SHOW,
    OPEN_STATUSES,
    SERVING,
    WAITING,
    Hall,
    Queue,
    Ticket,
    TicketCounter,
    TicketRow,
    Window,
)
from ..timeutil import service_day
from . import notices
from .auth import Principal
from .stats import HallLoad, class_expr, people_ahead, queue_heads, ticket_class, waiting_counts
from .tx import HallTx

CHANNELS = ("kiosk", "counter", "mobile", "web", "phone", "remote")


@dataclass(frozen=True, slots=True)
class TicketOut:
    """A ticket with what the citizen wants to know about it right now."""

    ticket: Ticket | TicketRow
    ahead: int
    estimated_wait_s: int
    created: bool = True


def brief(t: Ticket | TicketRow) -> dict[str, Any]:
    """The ticket as events carry it: never a name, phone or ID number."""
    d: dict[str, Any] = {"id": t.id, "number": t.number, "queue": t.queue, "lane": t.lane, "status": t.status}
    if t.window is not None:
        d["window"] = t.window
    return d


def _stats(tx: HallTx, queues: list[str]) -> list[dict[str, Any]]:
    load = _load(tx)
    counts = _waiting(tx)
    return [
        {"code": q, "waiting": counts.get(q, 0), "estimated_wait_s": load.estimate(q, counts.get(q, 0))} for q in queues
    ]


# Every change's event carries the waiting counts of its queues. Counting them in the database for each
# event costs more the longer the queues, so the hall's memo keeps them, stamped with the hall's `seq`:
# they are exact while the hall's last event is one whose change they were updated for. A change that
# moves tickets in or out of waiting says so (`moved`) before its event; any other event (another kind
# of change, another process's commit read by `open_hall`) leaves the stamp behind, and the next use
# counts again.


def _waiting_memo(tx: HallTx) -> dict[str, int] | None:
    memo = tx.cache.get("waiting")
    if isinstance(memo, tuple) and memo[0] == tx.last_seq:
        return memo[1]
    return None


def _waiting(tx: HallTx) -> dict[str, int]:
    """Waiting tickets per queue of the hall, as of now (this change included)."""
    counts = _waiting_memo(tx)
    if counts is None:
        counts = waiting_counts(tx.session, tx.hall)
        tx.cache["waiting"] = (tx.last_seq, counts)
    return counts


def _move(tx: HallTx, moved: dict[str, int] | None) -> None:
    """This change moved `moved[queue]` tickets into (+) or out of (−) waiting: update an exact memo."""
    counts = _waiting_memo(tx)
    if counts is not None and moved:
        for q, n in moved.items():
            counts[q] = counts.get(q, 0) + n


def _emit_counted(tx: HallTx, type: str, data: dict[str, Any]) -> None:
    """Emit an event whose change has been reported to the memo (`_move`), keeping an exact memo exact."""
    tx.emit(type, data)
    memo = tx.cache.get("waiting")
    if isinstance(memo, tuple) and memo[0] == tx.last_seq - 1:  # exact before this event: still exact
        tx.cache["waiting"] = (tx.last_seq, memo[1])


def announcement(number: str, window: int) -> str:
    """What a hall that is not silent says when it calls a ticket."""
    return f"请{number}号到{window}号窗口办理 / Ticket {number}, please go to window {window}"


def _emit(
    tx: HallTx,
    type: str,
    t: Ticket | TicketRow,
    queues: list[str] | None = None,
    *,
    moved: dict[str, int] | None = None,
    **extra: Any,
) -> None:
    """The ticket's event; `moved`: how its change moved tickets into (+) or out of (−) waiting, per queue."""
    data = brief(t) | extra
    if type in ("ticket.called", "ticket.recalled") and t.window is not None:
        silent = tx.config.silent if tx.config is not None else getattr(tx.session.get(Hall, tx.hall), "silent", True)
        if not silent:  # boards of this hall speak the call
            data["announce"] = announcement(t.number, t.window)
    _move(tx, moved)
    data["queues"] = _stats(tx, sorted(set(queues or [t.queue])))
    _emit_counted(tx, type, data)


def out(session: Session, t: Ticket | TicketRow, now: Any, *, created: bool = True) -> TicketOut:
    """Wrap a ticket with its people-ahead count and estimated wait."""
    ahead = people_ahead(session, t, now)
    wait = HallLoad(session, t.hall_code).estimate(t.queue, ahead) if t.status == WAITING else 0
    return TicketOut(t, ahead, wait, created)


def _counter_upsert(dialect: Any) -> Any:
    stmt = dialect.insert(TicketCounter).values(
        hall_code=bindparam("h"), service_day=bindparam("d"), queue_code=bindparam("q"), last=1
    )
    return stmt.on_conflict_do_update(
        index_elements=["hall_code", "service_day", "queue_code"],
        set_={"last": col(TicketCounter.last) + 1},
    ).returning(col(TicketCounter.last))


_NEXT_NUMBER = {"postgresql": Prepared(_counter_upsert(postgresql)), "sqlite": Prepared(_counter_upsert(sqlite))}


def _next_number(tx: HallTx, day: date, queue: str) -> int:
    """Increment the (hall, day, queue) counter atomically; rolled back with the transaction, so no gaps."""
    conn = tx.session.connection()
    return int(_NEXT_NUMBER[conn.dialect.name].scalar(conn, {"h": tx.hall, "d": day, "q": queue}))


# The issuance path is the hottest of the server: its statements are built once, with bind parameters,
# and the writer's run as `Prepared` (compiled once, executed on the driver's cursor: fastsql.py).
_AVG = Prepared(
    select(col(Queue.avg_service_s)).where(col(Queue.hall_code) == bindparam("h"), col(Queue.code) == bindparam("q"))
)
_BY_KEY = select(Ticket).where(col(Ticket.hall_code) == bindparam("h"), col(Ticket.idempotency_key) == bindparam("k"))
_TICKET_COLUMNS = [c.name for c in Ticket.__table__.columns if c.name != "id"]  # type: ignore[attr-defined]
_INSERT = Prepared(insert(Ticket).returning(col(Ticket.id)), column_keys=_TICKET_COLUMNS)
_SET_AVG = Prepared(
    update(Queue)
    .where(col(Queue.hall_code) == bindparam("h"), col(Queue.code) == bindparam("q"))
    .values(avg_service_s=bindparam("a"))
)
_WAITING = Prepared(
    select(func.count(), func.count(col(Ticket.target_window))).where(
        col(Ticket.hall_code) == bindparam("h"), col(Ticket.status) == WAITING, col(Ticket.queue) == bindparam("q")
    )
)
_COUNTS = Prepared(
    select(
        func.count(),
        func.coalesce(
            func.sum(
                case(
                    (and_(col(Ticket.target_window).is_(None), class_expr(bindparam("now")) <= bindparam("cls")), 1),
                    else_=0,
                )
            ),
            0,
        ),
    ).where(col(Ticket.hall_code) == bindparam("h"), col(Ticket.status) == WAITING, col(Ticket.queue) == bindparam("q"))
)


def issue(
    tx: HallTx,
    *,
    tz: tzinfo,
    queue: str,
    lane: str = "normal",
    channel: str = "kiosk",
    phone: str | None = None,
    id_number: str | None = None,
    idempotency_key: str | None = None,
    cipher: PiiCipher,
    hall: HallConfig | None = None,
    calendar: Calendar | None = None,
    phone_enc: str | None = None,
    phone_masked: str | None = None,
    id_enc: str | None = None,
    id_hash: str | None = None,
    id_masked: str | None = None,
    slot_start: datetime | None = None,
) -> TicketOut:
    """Issue the next number of `queue`; a repeated idempotency key returns the first ticket instead.

    With `calendar`, a closed hall refuses (409 naming the next opening); with `hall`, the queue's daily
    cap (放号上限) is enforced for walk-ins and a senior's ID number puts a `normal` ticket in lane
    `special`. Already encrypted personal data (from an appointment) may be passed as `*_enc`.
    """
    s = tx.session
    if idempotency_key:
        prior = s.execute(_BY_KEY, {"h": tx.hall, "k": idempotency_key}).scalar_one_or_none()
        if prior is not None:
            if prior.queue != queue and prior.issue_queue != queue:
                raise Conflict("Idempotency-Key 已用于另一张票 / This Idempotency-Key was used for another ticket")
            return out(s, prior, tx.now, created=False)
    load = _load(tx)  # the hall's queues come from the configuration at start: the memo knows them all
    avg = load.avg.get(queue)
    if avg is None:
        raise NotFound(f"没有这个业务队列 / No queue '{queue}' in this hall")
    if calendar is not None and not calendar.is_open(tx.now):
        raise Conflict(calendar.closed_sentence(tx.now))
    today = tx.now.astimezone(tz).date()
    try:
        phone_n = validate_phone(phone) if phone else None
        id_n = validate_id_number(id_number, today=today) if id_number else None
    except (InvalidIdNumber, InvalidPhone) as exc:
        raise Invalid(str(exc)) from None
    if id_n and hall is not None and hall.senior_age and lane == "normal" and age_on(id_n, today) >= hall.senior_age:
        lane = "special"  # 老弱病残 priority, decided from the birth date on the ID card
    day = service_day(tx.now, tz)
    seq = _next_number(tx, day, queue)
    if hall is not None and lane != "appointment" and slot_start is None:
        cap = hall.queue(queue).daily_cap
        if cap and seq > cap:  # raising rolls the counter back with the transaction: no gap
            name = hall.queue(queue)
            raise Conflict(
                f"今日{name.name}号已放完（{cap}个） / Today's {cap} tickets for {name.name_en} are all taken"
            )
    t = TicketRow(
        hall_code=tx.hall,
        service_day=day,
        issue_queue=queue,
        seq=seq,
        number=f"{queue}{seq:03d}",
        queue=queue,
        lane=lane,
        status=WAITING,
        channel=channel,
        arrived_at=tx.now,
        issued_at=tx.now,
        track_token=secrets.token_urlsafe(18),
        idempotency_key=idempotency_key or None,
        recalls=0,
        slot_start=slot_start,
        phone_enc=phone_enc,
        phone_masked=phone_masked,
        id_enc=id_enc,
        id_hash=id_hash,
        id_masked=id_masked,
    )
    if phone_n:
        t.phone_enc = cipher.encrypt(phone_n, context="phone")
        t.phone_masked = mask_phone(phone_n)
        t.phone_hash = cipher.keyed_hash("phone:" + phone_n)
    if channel == "remote":
        _one_remote_per_phone(tx, t.phone_hash)
    if id_n:
        t.id_enc = cipher.encrypt(id_n, context="id_number")
        t.id_hash = cipher.keyed_hash(id_n)
        t.id_masked = mask_id_number(id_n)
    # Core insert: the ORM's unit of work costs more than everything else here together.
    row = {c: getattr(t, c) for c in _TICKET_COLUMNS}
    conn = s.connection()
    t.id = _INSERT.scalar(conn, row)
    waiting, targeted = _WAITING.scalar_row(conn, {"h": tx.hall, "q": queue})
    mine = ticket_class(t, tx.now)
    if mine == 3:  # an ordinary newcomer: every other untargeted waiting ticket goes first
        ahead = int(waiting) - int(targeted) - 1
    else:  # count only the classes that go before it (a full look at each waiting ticket)
        params = {"h": tx.hall, "q": queue, "now": tx.now, "cls": mine}
        ahead = int(_COUNTS.scalar_row(conn, params)[1]) - 1
    stats = [{"code": queue, "waiting": int(waiting), "estimated_wait_s": load.estimate(queue, int(waiting), avg)}]
    _move(tx, {queue: 1})
    _emit_counted(tx, "ticket.issued", brief(t) | {"queues": stats})
    wait = load.estimate(queue, ahead, avg)
    notices.issued(tx, t, ahead, wait)
    return TicketOut(t, ahead, wait)


def _one_remote_per_phone(tx: HallTx, phone_hash: str | None) -> None:
    """通办取号: a phone holds at most one open remote ticket per hall."""
    if phone_hash is None:
        raise Invalid("远程取号需要手机号码 / A remote ticket needs a mobile number")
    held = tx.session.execute(
        select(col(Ticket.number)).where(
            col(Ticket.hall_code) == tx.hall,
            col(Ticket.phone_hash) == phone_hash,
            col(Ticket.channel) == "remote",
            col(Ticket.status).in_([WAITING, CALLED, HELD]),
        )
    ).first()
    if held is not None:
        raise Conflict(f"该手机号已有远程号 {held[0]} / This phone already holds remote ticket {held[0]}")


def _load(tx: HallTx) -> HallLoad:
    """The hall's window capacity and service averages, read once per transaction (or writer batch).

    Changes to them keep the memo right: `complete` updates the average in it, a window's status
    change drops it (`drop_load`).
    """
    load = tx.cache.get("load")
    if not isinstance(load, HallLoad):
        load = tx.cache["load"] = HallLoad(tx.session, tx.hall)
    return load


def drop_load(tx: HallTx) -> None:
    """Forget the memo of the hall's load: its windows changed."""
    tx.cache.pop("load", None)


_WINDOW = select(Window).where(col(Window.hall_code) == bindparam("h"), col(Window.number) == bindparam("n"))
_WINDOW_LOCKED = _WINDOW.with_for_update()

# The window actions (call, complete, …) are the other hot path: like issuance they read rows with Core
# statements into plain objects and write only the columns they change, instead of loading ORM objects
# and flushing them (the unit of work cost more than the SQL). An ORM object of the same row that an
# earlier change of the batch loaded is expired after such a write, so it never shows a stale value.


@dataclass(slots=True)
class WindowRow:
    """The columns of a window that calling reads and writes."""

    id: int
    number: int
    queues: str
    strict_order: bool
    status: str
    current_ticket_id: int | None
    priority_streak: int


_WINDOW_SELECT = select(
    col(Window.id),
    col(Window.number),
    col(Window.queues),
    col(Window.strict_order),
    col(Window.status),
    col(Window.current_ticket_id),
    col(Window.priority_streak),
).where(col(Window.hall_code) == bindparam("h"), col(Window.number) == bindparam("n"))
_WINDOW_ROW = Prepared(_WINDOW_SELECT)
_WINDOW_ROW_LOCKED = Prepared(_WINDOW_SELECT.with_for_update())
_TICKET_SELECT = select(*Ticket.__table__.columns).where(col(Ticket.id) == bindparam("id"))  # type: ignore[attr-defined]
_TICKET_ROW = Prepared(_TICKET_SELECT)
_WAITING_ROW = Prepared(_TICKET_SELECT.where(col(Ticket.status) == WAITING))
_WAITING_ROW_SKIP = Prepared(_TICKET_SELECT.where(col(Ticket.status) == WAITING).with_for_update(skip_locked=True))
_SETS: dict[tuple[type, tuple[str, ...]], Prepared] = {}


def _is_pg(tx: HallTx) -> bool:
    return bool(tx.session.get_bind().dialect.name == "postgresql")


def window_row(tx: HallTx, number: int) -> WindowRow:
    """The window of this hall as a plain row (row-locked on PostgreSQL), or NotFound."""
    conn = tx.session.connection()
    row = (_WINDOW_ROW_LOCKED if _is_pg(tx) else _WINDOW_ROW).one_or_none(conn, {"h": tx.hall, "n": number})
    if row is None:
        raise NotFound(f"没有这个窗口 / No window {number} in this hall")
    return WindowRow(*row)


def _ticket(tx: HallTx, stmt: Prepared, ticket_id: int) -> TicketRow | None:
    """The ticket row `stmt` (one of the `_TICKET_SELECT`s) finds by id, as a plain row."""
    row = stmt.one_or_none(tx.session.connection(), {"id": ticket_id})
    return None if row is None else TicketRow(**dict(zip(stmt.keys, row, strict=True)))


def ticket_row(tx: HallTx, ticket_id: int) -> TicketRow:
    """The ticket of this hall as a plain row, or NotFound."""
    tx.session.flush()  # changes of earlier ORM work in this transaction are visible to Core reads
    t = _ticket(tx, _TICKET_ROW, ticket_id)
    if t is None or t.hall_code != tx.hall:
        raise NotFound("没有这张票 / No such ticket")
    return t


def _set(tx: HallTx, model: type, obj: Any, **changes: Any) -> None:
    """UPDATE only the changed columns of one row (and of `obj`); expire an ORM copy of it in the session."""
    for k, v in changes.items():
        setattr(obj, k, v)
    keys = tuple(sorted(changes))
    stmt = _SETS.get((model, keys))
    if stmt is None:
        table = model.__table__  # type: ignore[attr-defined]
        stmt = _SETS[(model, keys)] = Prepared(
            update(table).where(table.c.id == bindparam("pk")).values({k: bindparam("v_" + k) for k in keys})
        )
    stmt.run(tx.session.connection(), {"pk": obj.id} | {"v_" + k: v for k, v in changes.items()})
    stale = tx.session.identity_map.get(identity_key(model, obj.id))
    if stale is not None:
        tx.session.expire(stale)


def lock_window(tx: HallTx, number: int) -> Window:
    """The window of this hall (row-locked on PostgreSQL), or NotFound."""
    stmt = _WINDOW_LOCKED if tx.session.get_bind().dialect.name == "postgresql" else _WINDOW
    w = tx.session.execute(stmt, {"h": tx.hall, "n": number}).scalar_one_or_none()
    if w is None:
        raise NotFound(f"没有这个窗口 / No window {number} in this hall")
    return w


def check_clerk_window(actor: Principal, number: int | None) -> None:
    """403 unless a clerk bound to windows is acting at one of them."""
    if actor.windows and number is not None and number not in actor.windows:
        raise Forbidden(f"您不在 {number} 号窗口 / You are not assigned to window {number}")


def check_reveal_window(actor: Principal, t: Ticket, hall: HallConfig) -> None:
    """403 unless a clerk bound to windows holds the ticket: at one of them, sent to one, or waiting in a
    queue that one of them serves (the rule of every route that shows a ticket's personal data)."""
    if not actor.windows:
        return
    at = t.window if t.window is not None else t.target_window
    if at is not None:
        check_clerk_window(actor, at)
    elif not any(w.number in actor.windows and t.queue in w.queues for w in hall.windows):
        raise Forbidden("此票不在您的窗口 / This ticket is not at your window")


def _ready(tx: HallTx, w: Window | WindowRow) -> None:
    if w.status != "open":
        raise Conflict(
            f"{w.number} 号窗口{'已暂停服务' if w.status == 'paused' else '未开放'} / Window {w.number} is {w.status}"
        )
    if w.current_ticket_id is not None:
        cur = tx.session.get(Ticket, w.current_ticket_id)
        num = cur.number if cur else "?"
        raise Conflict(f"请先办结 {num} / Window {w.number} still has {num}: finish it first")


def _lock_waiting(tx: HallTx, ticket_id: int) -> TicketRow | None:
    return _ticket(tx, _WAITING_ROW_SKIP if _is_pg(tx) else _WAITING_ROW, ticket_id)


def _call(tx: HallTx, w: WindowRow, t: TicketRow, now_streak: int) -> TicketOut:
    _set(tx, Ticket, t, status=CALLED, window=w.number, target_window=None, called_at=tx.now)
    _set(tx, Window, w, current_ticket_id=t.id, priority_streak=now_streak)
    _emit(tx, "ticket.called", t, moved={t.queue: -1})
    notices.called(tx, t)
    notices.ahead_after_call(tx, t.queue)
    return TicketOut(t, 0, 0)


def call_next(
    tx: HallTx, *, number: int, rules: policy.Rules, actor: Principal, window: WindowRow | None = None
) -> TicketOut | None:
    """Call the ticket the queue policy picks for this window, or None when nobody waits for it.

    `window` is the window's row when the caller has it, up to date, from this transaction."""
    check_clerk_window(actor, number)
    tx.session.flush()  # Core reads below see earlier ORM changes of this transaction
    w = window if window is not None and window.number == number else window_row(tx, number)
    _ready(tx, w)
    view = policy.WindowView(number, tuple(w.queues.split(",")), w.strict_order, w.priority_streak)
    candidates = _heads(tx, view)
    tried: set[int] = set()
    while candidates:
        chosen = policy.choose(view, candidates, tx.now, rules)
        if chosen is None:
            return None
        t = _lock_waiting(tx, chosen.id)  # another process may hold it: skip, never wait or double-call
        if t is not None:
            return _call(tx, w, t, policy.next_streak(w.priority_streak, chosen, tx.now))
        tried.add(chosen.id)  # rare (PostgreSQL, a row locked elsewhere): look at every waiting ticket
        candidates = [c for c in _all_waiting(tx, view) if c.id not in tried]
    return None


def complete_and_call_next(
    tx: HallTx, *, number: int, ticket_id: int, rules: policy.Rules, actor: Principal, tz: ZoneInfo
) -> TicketOut | None:
    """办结并叫下一位: complete the window's current ticket and call the next one, as one change.

    The ticket must be the one the window is serving (called or serving there), so a clerk never ends
    a ticket they do not see; the window is never idle between the two, and a failure undoes both.
    """
    check_clerk_window(actor, number)
    t = ticket_row(tx, ticket_id)
    if t.window != number or t.status not in (CALLED, SERVING):
        raise Conflict(
            f"{t.number} 不是 {number} 号窗口正在办理的号 / {t.number} is not the ticket window {number} is serving"
        )
    w = window_row(tx, number)
    act(tx, ticket_id=ticket_id, action="complete", actor=actor, tz=tz, answer=False, row=t, window=w)
    return call_next(tx, number=number, rules=rules, actor=actor, window=w)  # w as the completion left it


_CANDIDATE_COLUMNS = (
    col(Ticket.id),
    col(Ticket.queue),
    col(Ticket.lane),
    col(Ticket.arrived_at),
    col(Ticket.target_window),
    col(Ticket.slot_start),
)
_WAITING_HERE = (col(Ticket.hall_code) == bindparam("h"), col(Ticket.status) == WAITING)
_TARGETED = select(*_CANDIDATE_COLUMNS).where(*_WAITING_HERE, col(Ticket.target_window) == bindparam("w"))


def _heads(tx: HallTx, view: policy.WindowView) -> list[policy.Candidate]:
    """The only tickets the policy can pick: per queue, the first ordinary and the first priority ticket by
    arrival, every appointment ticket (their class depends on the clock), and the transfers to this window.

    Within one queue and class the earliest arrival beats the rest under either ordering of the policy,
    so choosing among these gives the same answer as choosing among all waiting tickets — without
    loading a long queue into Python on every call.
    """
    params: dict[str, Any] = {"h": tx.hall, "w": view.number} | {f"q{i}": q for i, q in enumerate(view.queues)}
    rows = _heads_statement(len(view.queues)).all(tx.session.connection(), params)
    return [policy.Candidate(int(r[0] or 0), r[1], r[2], r[3], r[4], r[5]) for r in rows]


_HEADS: dict[int, Prepared] = {}


def _heads_statement(n: int) -> Any:
    """`_heads` as one UNION ALL for a window of `n` queues (one round trip instead of 1 + 3n), built once per n."""
    stmt = _HEADS.get(n)
    if stmt is None:
        members: list[Any] = [_TARGETED]
        for i in range(n):
            members += queue_heads(_CANDIDATE_COLUMNS, bindparam(f"q{i}"), 1)
        stmt = _HEADS[n] = Prepared(union_all(*members))
    return stmt


def _all_waiting(tx: HallTx, view: policy.WindowView) -> list[policy.Candidate]:
    rows = tx.session.execute(
        select(*_CANDIDATE_COLUMNS).where(
            *_WAITING_HERE,
            (col(Ticket.queue).in_(view.queues) & col(Ticket.target_window).is_(None))
            | (col(Ticket.target_window) == view.number),
        ),
        {"h": tx.hall},
    ).all()
    return [policy.Candidate(*r) for r in rows]


def call_ticket(
    tx: HallTx, *, number: int, ticket_id: int | None, ticket_number: str | None, actor: Principal
) -> TicketOut:
    """Call one chosen waiting ticket out of order (the clerk picked it from the list)."""
    check_clerk_window(actor, number)
    tx.session.flush()
    w = window_row(tx, number)
    _ready(tx, w)
    stmt = select(*Ticket.__table__.columns).where(col(Ticket.hall_code) == tx.hall)  # type: ignore[attr-defined]
    if ticket_id is not None:
        stmt = stmt.where(col(Ticket.id) == ticket_id)
    elif ticket_number:
        stmt = (
            stmt.where(col(Ticket.number) == ticket_number.upper(), col(Ticket.status).in_(OPEN_STATUSES))
            .order_by(col(Ticket.id).desc())
            .limit(1)
        )
    else:
        raise Invalid("请指定票号 / Give ticket_id or number")
    row = tx.session.connection().execute(stmt).first()
    if row is None:
        raise NotFound("没有这张票 / No such ticket in this hall")
    t = TicketRow(**row._mapping)
    if t.status != WAITING:
        raise Conflict(f"{t.number} 当前状态为 {t.status}，不能叫号 / {t.number} is {t.status}, not waiting")
    c = policy.Candidate(t.id or 0, t.queue, t.lane, t.arrived_at, t.target_window, t.slot_start)
    return _call(tx, w, t, policy.next_streak(w.priority_streak, c, tx.now))


# action -> (statuses it applies to, status after, event type)
ACTIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "recall": (frozenset({CALLED}), CALLED, "ticket.recalled"),
    "no-show": (frozenset({CALLED}), NO_SHOW, "ticket.no_show"),
    "start": (frozenset({CALLED}), SERVING, "ticket.serving"),
    "complete": (frozenset({CALLED, SERVING}), DONE, "ticket.completed"),
    "hold": (frozenset({CALLED, SERVING}), HELD, "ticket.held"),
    "resume": (frozenset({HELD}), CALLED, "ticket.called"),
    "cancel": (frozenset({WAITING, CALLED, HELD}), CANCELLED, "ticket.cancelled"),
    "rejoin": (frozenset({NO_SHOW}), WAITING, "ticket.rejoined"),
}


def _release_window(tx: HallTx, t: Ticket | TicketRow, w: WindowRow | None = None) -> None:
    """Free the ticket's window if it is serving this ticket (`w`: that window's row, when the caller has it)."""
    if t.window is None:
        return
    if w is None or w.number != t.window:
        w = window_row(tx, t.window)
    if w.current_ticket_id == t.id:
        _set(tx, Window, w, current_ticket_id=None)


def load_ticket(tx: HallTx, ticket_id: int) -> Ticket:
    """The ticket of this hall, or NotFound."""
    t = tx.session.get(Ticket, ticket_id)
    if t is None or t.hall_code != tx.hall:
        raise NotFound("没有这张票 / No such ticket")
    return t


def act(
    tx: HallTx,
    *,
    ticket_id: int,
    action: str,
    actor: Principal,
    tz: ZoneInfo,
    answer: bool = True,
    row: TicketRow | None = None,
    window: WindowRow | None = None,
) -> TicketOut:
    """Apply one window action; 409 (Conflict) when it does not fit the ticket's status.

    `answer=False` skips the people-ahead count of the answer (the caller does not show it); `row` and
    `window` are the ticket and its window when the caller has just read them in this transaction.
    """
    if action not in ACTIONS:
        raise NotFound(f"没有这个操作 / No action '{action}'")
    allowed, after, event = ACTIONS[action]
    t = row if row is not None and row.id == ticket_id else ticket_row(tx, ticket_id)
    if actor.role == "kiosk" and not (action == "cancel" and t.status == WAITING):
        raise Forbidden("自助终端只能取消等候中的票 / A kiosk may only cancel a waiting ticket")
    if actor.role != "kiosk":
        check_clerk_window(actor, t.window)
    if t.status not in allowed:
        raise Conflict(f"{t.number} 当前为 {t.status}，不能{action} / Cannot {action} a ticket that is {t.status}")
    now = tx.now
    changes: dict[str, Any] = {"status": after}
    if action == "resume":
        assert t.window is not None
        w = window_row(tx, t.window)
        _ready(tx, w)
        _set(tx, Window, w, current_ticket_id=t.id)
        changes["called_at"] = now
    elif action == "recall":
        changes["recalls"], changes["called_at"] = t.recalls + 1, now
    elif action == "start":
        changes["serving_at"] = now
    elif action == "rejoin":
        if t.service_day != service_day(now, tz):
            raise Conflict("过号票只能当天重新排队 / A missed ticket can only rejoin on the same day")
        _release_window(tx, t)
        changes |= {"arrived_at": now, "window": None, "called_at": None}  # back of the queue: the rejoin rule
    if after in (DONE, NO_SHOW, CANCELLED, HELD):
        if t.status in AT_WINDOW:
            _release_window(tx, t, window)
        if after != HELD:
            changes["finished_at"] = now
    if action == "complete":
        if actor.kind == "user":
            changes["clerk"] = actor.name
        began = t.serving_at or t.called_at
        if began is not None:  # Core, not an ORM load and flush of the queue row (a hot path)
            conn = tx.session.connection()
            load = tx.cache.get("load")
            memo = load.avg.get(t.queue) if isinstance(load, HallLoad) else None
            # The memo holds the row's value (this change keeps it so); another process's update of
            # the last memo lifetime may be overwritten, which an exponential average hardly notices.
            avg = memo if memo is not None else float(_AVG.scalar(conn, {"h": tx.hall, "q": t.queue}))
            new = updated_average(avg, (now - began).total_seconds())
            _SET_AVG.run(conn, {"h": tx.hall, "q": t.queue, "a": new})
            if isinstance(load, HallLoad):  # estimates from here on use the new average
                load.avg[t.queue] = new
    moved = {t.queue: (after == WAITING) - (t.status == WAITING)}  # cancel of a waiting ticket, rejoin
    _set(tx, Ticket, t, **changes)
    _emit(tx, event, t, moved=moved)
    if action == "recall":
        notices.called(tx, t, recall=True)
    elif action == "no-show":
        notices.no_show(tx, t)
    return out(tx.session, t, now) if answer else TicketOut(t, 0, 0)


def transfer(tx: HallTx, *, ticket_id: int, queue: str | None, window: int | None, actor: Principal) -> TicketOut:
    """Send a ticket to another queue or window; it keeps its original arrival time (its place)."""
    if (queue is None) == (window is None):
        raise Invalid("请指定转往的队列或窗口之一 / Give exactly one of queue or window")
    t = load_ticket(tx, ticket_id)
    check_clerk_window(actor, t.window)
    if t.status not in (WAITING, CALLED, SERVING, HELD):
        raise Conflict(f"{t.number} 已结束，不能转移 / Cannot transfer a ticket that is {t.status}")
    from_queue, from_window, was_waiting = t.queue, t.window, t.status == WAITING
    if queue is not None:
        exists = tx.session.execute(
            select(col(Queue.id)).where(col(Queue.hall_code) == tx.hall, col(Queue.code) == queue)
        ).first()
        if exists is None:
            raise NotFound(f"没有这个业务队列 / No queue '{queue}' in this hall")
        t.queue, t.target_window = queue, None
    else:
        assert window is not None
        lock_window(tx, window)
        t.target_window = window
    if t.status in AT_WINDOW or t.status == HELD:
        _release_window(tx, t)
    t.status, t.window, t.called_at, t.serving_at = WAITING, window, None, None
    tx.session.flush()
    moved = {t.queue: 1}
    if was_waiting:
        moved[from_queue] = moved.get(from_queue, 0) - 1
    _emit(
        tx, "ticket.transferred", t, [from_queue, t.queue], moved=moved, from_queue=from_queue, from_window=from_window
    )
    return out(tx.session, t, tx.now)


def expire_before(tx: HallTx, day: date) -> int:
    """Close every ticket left open from service days before `day` as expired; returns how many."""
    rows = (
        tx.session.execute(
            select(Ticket)
            .where(
                col(Ticket.hall_code) == tx.hall,
                col(Ticket.service_day) < day,
                col(Ticket.status).in_(OPEN_STATUSES),
            )
            .order_by(col(Ticket.id))
        )
        .scalars()
        .all()
    )
    if not rows:
        return 0
    for w in tx.session.execute(select(Window).where(col(Window.hall_code) == tx.hall)).scalars():
        w.current_ticket_id, w.priority_streak = None, 0
    for t in rows:
        t.status, t.finished_at = EXPIRED, tx.now
    tx.session.flush()
    queues = sorted({t.queue for t in rows})
    for t in rows:
        tx.emit("ticket.expired", brief(t))
    tx.emit("queue.stats", {"queues": _stats(tx, queues)})
    return len(rows)
