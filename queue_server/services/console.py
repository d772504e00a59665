"""Read models of the clerk console and the hall supervisor view: windows, waiting lists, counts, devices."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from .. import policy
from ..errors import NotFound
from ..models import DONE, HELD, WAITING, Appointment, DeviceStatus, Event, Ticket
from ..store import halls as hall_store
from ..store import tickets as store
from ..store.rows import TicketRow, WindowRow
from ..timeutil import service_day
from .halls import hall_row, window_public
from .ticketing import queue_stats, staff_name, staff_names
from .tx import HallRead

OFFLINE_AFTER = timedelta(minutes=3)  # a kiosk heartbeats every 60 s: three missed beats is offline
WAITING_LIMIT = 500  # waiting tickets listed per window (the counts stay exact)
EVENT_SCAN = 100_000  # look at most this many recent events for today's counts (a busy day is ~20 000)
# event type -> the count it adds to, and the data key naming the window it counts for
COUNTED = {
    "ticket.called": ("called", "window"),
    "ticket.recalled": ("recalled", "window"),
    "ticket.completed": ("completed", "window"),
    "ticket.no_show": ("no_show", "window"),
    "ticket.held": ("held", "window"),
    "ticket.transferred": ("transferred", "from_window"),
}
COUNT_KEYS = ("called", "recalled", "completed", "no_show", "held", "transferred")


def _iso(at: datetime | None, tz: tzinfo) -> str | None:
    return at.astimezone(tz).isoformat() if at is not None else None


def day_start(now: datetime, tz: tzinfo) -> datetime:
    """Midnight of the hall's current service day, as an aware datetime."""
    return datetime.combine(service_day(now, tz), time(0), tz)


def window_counts(session: Session, hall: str, now: datetime, tz: tzinfo) -> dict[int, dict[str, Any]]:
    """Today's calls, completions, no-shows, holds and transfers out per window, and the mean service time.

    Counted from the event stream (the record of every decision), so a transfer out is counted at the
    window it left; service times come from today's completed tickets.
    """
    last = hall_store.hall_seq(session.connection(), hall) or 0
    start = day_start(now, tz)
    rows = session.execute(
        select(col(Event.type), col(Event.data)).where(
            col(Event.hall_code) == hall,
            col(Event.seq) > last - EVENT_SCAN,
            col(Event.at) >= start,
            col(Event.type).in_(list(COUNTED)),
        )
    ).all()
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for type_, data in rows:
        key, field = COUNTED[type_]
        n = orjson.loads(data).get(field)
        if isinstance(n, int):
            counts[n][key] += 1
    served: dict[int, list[float]] = defaultdict(list)
    for n, began, serving, ended in session.execute(
        select(col(Ticket.window), col(Ticket.called_at), col(Ticket.serving_at), col(Ticket.finished_at)).where(
            col(Ticket.hall_code) == hall,
            col(Ticket.service_day) == service_day(now, tz),
            col(Ticket.status) == DONE,
            col(Ticket.window).is_not(None),
        )
    ).all():
        first = serving or began
        if first is not None and ended is not None:
            served[int(n)].append((ended - first).total_seconds())
    out: dict[int, dict[str, Any]] = {}
    for n in set(counts) | set(served):
        d: dict[str, Any] = {k: counts[n][k] for k in COUNT_KEYS}
        times = served.get(n, [])
        d["avg_service_s"] = round(sum(times) / len(times)) if times else None
        out[n] = d
    return out


def _empty_counts() -> dict[str, Any]:
    return {k: 0 for k in COUNT_KEYS} | {"avg_service_s": None}


def ticket_row(t: TicketRow, tz: tzinfo) -> dict[str, Any]:
    """A ticket as the console lists it: times and lane, personal data only masked."""
    return {
        "id": t.id,
        "number": t.number,
        "queue": t.queue,
        "lane": t.lane,
        "status": t.status,
        "channel": t.channel,
        "window": t.window,
        "target_window": t.target_window,
        "recalls": t.recalls,
        "arrived_at": _iso(t.arrived_at, tz),
        "issued_at": _iso(t.issued_at, tz),
        "called_at": _iso(t.called_at, tz),
        "serving_at": _iso(t.serving_at, tz),
        "slot_start": _iso(t.slot_start, tz),
        "phone_masked": t.phone_masked,
        "id_number_masked": t.id_masked,
        "interpreter": t.interpreter,  # 需要语言服务: the language (the clerk's badge)
    }


def appointment_of(session: Session, ticket_id: int, tz: tzinfo) -> dict[str, Any] | None:
    """The appointment a ticket was checked in from: its slot and the holder's masked data."""
    a = session.execute(select(Appointment).where(col(Appointment.ticket_id) == ticket_id)).scalars().first()
    if a is None:
        return None
    return {
        "start": _iso(a.slot_start, tz),
        "end": _iso(a.slot_end, tz),
        "channel": a.channel,
        "name_masked": a.name_masked,
        "id_number_masked": a.id_masked,
        "phone_masked": a.phone_masked,
    }


def _window(conn: Connection, hall: str, number: int) -> WindowRow:
    w = hall_store.window(conn, hall, number)
    if w is None:
        raise NotFound(f"没有这个窗口 / No window {number} in this hall")
    return w


def window_desk(r: HallRead, number: int, *, with_counts: bool = True) -> dict[str, Any]:
    """Everything a clerk's console shows for one window, read from one snapshot.

    The window and its current ticket (with appointment details), the tickets it may call by domain
    (and which one call-next would pick now), tickets held at it, and today's counts (None unless
    `with_counts`: the console asks for them only when an event concerned its window).
    """
    session, conn, hall, now, tz = r.session, r.conn, r.hall_config, r.now, r.tz
    w = _window(conn, hall.code, number)
    seq = hall_store.hall_seq(conn, hall.code)
    queues = w.queues.split(",") if w.queues else []
    current = None
    if w.current_ticket_id is not None:
        t = store.ticket(conn, w.current_ticket_id)
        if t is not None:
            current = ticket_row(t, tz) | {"appointment": appointment_of(session, t.id, tz)}
    mine = (col(Ticket.queue).in_(queues) & col(Ticket.target_window).is_(None)) | (col(Ticket.target_window) == number)
    waiting = store.select_tickets(
        conn,
        col(Ticket.hall_code) == hall.code,
        col(Ticket.status) == WAITING,
        mine,
        order=[col(Ticket.arrived_at), col(Ticket.id)],
        limit=WAITING_LIMIT,
    )
    view = policy.WindowView(number, tuple(queues), w.strict_order, w.priority_streak)
    pick = policy.choose(
        view,
        [policy.Candidate(t.id, t.queue, t.lane, t.arrived_at, t.target_window, t.slot_start) for t in waiting],
        now,
        r.rules,
    )
    held = store.select_tickets(
        conn,
        col(Ticket.hall_code) == hall.code,
        col(Ticket.status) == HELD,
        col(Ticket.window) == number,
        order=[col(Ticket.arrived_at)],
    )
    names = {q.code: q for q in hall.queues}
    stats = {s["code"]: s for s in queue_stats(conn, hall.code, queues)}
    return {
        "seq": seq,
        "now": now.astimezone(tz).isoformat(),
        "window": window_public(w)
        | {"clerk": w.clerk, "clerk_name": staff_name(conn, w.clerk) if w.clerk else None}
        | {"strict_order": w.strict_order},
        "current": current,
        "next_id": pick.id if pick is not None else None,
        "queues": [
            {
                "code": q,
                "name": names[q].name if q in names else q,
                "name_en": names[q].name_en if q in names else "",
                "waiting": stats.get(q, {}).get("waiting", 0),
                "estimated_wait_s": stats.get(q, {}).get("estimated_wait_s", 0),
            }
            for q in queues
        ],
        "waiting": [ticket_row(t, tz) for t in waiting],
        "held": [ticket_row(t, tz) for t in held],
        "counts": window_counts(session, hall.code, now, tz).get(number, _empty_counts()) if with_counts else None,
        "targets": {
            "queues": [{"code": q.code, "name": q.name, "name_en": q.name_en} for q in hall.queues],
            "windows": [{"number": x.number, "name": x.name, "queues": x.queues} for x in hall.windows],
        },
    }


def devices(session: Session, hall: str, *, now: datetime, tz: tzinfo) -> list[dict[str, Any]]:
    """The hall's configured devices with their last reported health; silent too long means offline."""
    stmt = select(DeviceStatus).where(col(DeviceStatus.hall_code) == hall).order_by(col(DeviceStatus.name))
    rows = session.execute(stmt).scalars().all()
    out = []
    for d in rows:
        online = d.at is not None and now - d.at <= OFFLINE_AFTER
        out.append(
            {
                "name": d.name,
                "role": d.role,
                "status": d.status if online else "offline",
                "reported": d.status,
                "detail": d.detail,
                "last_seen": _iso(d.at, tz),
                "online": online,
            }
        )
    return out


def hall_overview(r: HallRead, *, alerts: set[tuple[str, str, str]]) -> dict[str, Any]:
    """The supervisor's picture of a hall: every window, every queue's load, devices, alerts, notice."""
    session, conn, hall, now, tz = r.session, r.conn, r.hall_config, r.now, r.tz
    h = hall_row(conn, hall.code)
    windows = hall_store.windows(conn, hall.code)
    current = store.tickets(conn, [w.current_ticket_id for w in windows if w.current_ticket_id is not None])
    counts = window_counts(session, hall.code, now, tz)
    held = dict(
        session.execute(
            select(col(Ticket.window), func.count())
            .where(col(Ticket.hall_code) == hall.code, col(Ticket.status) == HELD)
            .group_by(col(Ticket.window))
        ).all()
    )
    wins = []
    names = staff_names(conn)
    for w in windows:
        cur = current.get(w.current_ticket_id) if w.current_ticket_id is not None else None
        wins.append(
            window_public(w)
            | {
                "clerk": w.clerk,
                "clerk_name": names.get(w.clerk, w.clerk) if w.clerk else None,
                "current": ticket_row(cur, tz) if cur is not None else None,
                "held": int(held.get(w.number, 0)),
                "counts": counts.get(w.number, _empty_counts()),
            }
        )
    oldest = dict(
        session.execute(
            select(col(Ticket.queue), func.min(col(Ticket.arrived_at)))
            .where(col(Ticket.hall_code) == hall.code, col(Ticket.status) == WAITING)
            .group_by(col(Ticket.queue))
        ).all()
    )
    stats = {s["code"]: s for s in queue_stats(conn, hall.code)}
    queues = [
        {
            "code": q.code,
            "name": q.name,
            "name_en": q.name_en,
            "waiting": stats.get(q.code, {}).get("waiting", 0),
            "estimated_wait_s": stats.get(q.code, {}).get("estimated_wait_s", 0),
            "oldest_arrived_at": _iso(oldest.get(q.code), tz),
            "alert_wait_min": q.alert_wait_min,
            "alert_length": q.alert_length,
            "windows": [w.number for w in hall.windows if q.code in w.queues],
        }
        for q in hall.queues
    ]
    limits = {(q.code, "length"): q.alert_length for q in hall.queues} | {
        (q.code, "wait"): q.alert_wait_min for q in hall.queues
    }
    raised = [
        {"queue": q, "kind": kind, "threshold": limits.get((q, kind), 0)}
        for (code, q, kind) in sorted(alerts)
        if code == hall.code
    ]
    return {
        "seq": h.last_seq,
        "now": now.astimezone(tz).isoformat(),
        "hall": {"code": h.code, "name": h.name, "name_en": h.name_en, "timezone": h.timezone},
        "windows": wins,
        "queues": queues,
        "devices": devices(session, hall.code, now=now, tz=tz),
        "offline_after_s": int(OFFLINE_AFTER.total_seconds()),
        "alerts": raised,
        "notice": h.notice,
        # a year the hall counts days in without the State Council's arrangement (weekday rules there)
        "calendar_notice": r.hall_calendar.national_gap_notice(now.astimezone(tz).date()),
    }
