"""Halls and windows: configuration sync, window status, notices, device health, board state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from ..config import AppConfig
from ..errors import Conflict, Invalid, NotFound
from ..models import DeviceStatus, Hall, Queue, Ticket, Window
from ..store import halls as hall_store
from ..store import tickets as store
from ..store.rows import HallRow, WindowRow
from .auth import Principal
from .ticketing import (
    brief,
    check_clerk_window,
    check_holder,
    drop_load,
    queue_stats,
    staff_name,
    window_row,
)
from .tx import HallRead, HallTx
from .users import sync_users

WINDOW_STATUSES = ("open", "paused", "closed")
RECENT_CALLS = 10


def sync_config(session: Session, config: AppConfig, *, fp_key: bytes) -> None:
    """Make halls, queues, windows and users in the database match the configuration file.

    State (event seq, window status, current tickets, service averages) is kept across restarts;
    names and window-queue assignments follow the file. Queues and windows dropped from the file stay
    in the database (old tickets refer to them) but no window serves a dropped queue.
    """
    for hall in config.halls:
        h = session.get(Hall, hall.code) or Hall(code=hall.code, name=hall.name)
        h.name, h.name_en, h.timezone, h.silent = hall.name, hall.name_en, hall.timezone, hall.silent
        h.load_seq = None  # the windows' queues may change below, without an event: the stored load is void
        session.add(h)
        session.flush()
        queues = {q.code: q for q in session.execute(select(Queue).where(col(Queue.hall_code) == hall.code)).scalars()}
        for pos, qc in enumerate(hall.queues):
            q = queues.get(qc.code) or Queue(
                hall_code=hall.code, code=qc.code, name=qc.name, avg_service_s=qc.default_service_s
            )
            q.name, q.name_en, q.position = qc.name, qc.name_en, pos
            session.add(q)
        windows = {
            w.number: w for w in session.execute(select(Window).where(col(Window.hall_code) == hall.code)).scalars()
        }
        for wc in hall.windows:
            w = windows.get(wc.number)
            if w is None:
                w = Window(hall_code=hall.code, number=wc.number, status="open" if wc.open else "closed")
            w.name, w.name_en, w.queues, w.strict_order = (
                wc.name,
                wc.name_en,
                ",".join(wc.queues),
                wc.strict_order,
            )
            session.add(w)
    sync_users(session, config.users, fp_key=fp_key)
    for dev in config.devices:
        d = session.get(DeviceStatus, dev.name) or DeviceStatus(name=dev.name, hall_code=dev.hall, role=dev.role)
        d.hall_code, d.role = dev.hall, dev.role
        session.add(d)


def set_window_status(
    tx: HallTx, *, number: int, status: str, reason: str, actor: Principal, take_over: bool = False
) -> WindowRow:
    """Open, pause (with a reason shown on the boards) or close a window.

    A window another staff user holds (opened in their name, not closed since) is taken over only when
    `take_over` says the clerk confirmed it (else 409); its old console is told by `window.taken_over`
    and from then on refused (check_holder). Closing a window frees it."""
    if status not in WINDOW_STATUSES:
        raise Invalid(f"窗口状态只能是 open/paused/closed / Unknown window status '{status}'")
    check_clerk_window(actor, number)
    w = window_row(tx, number)
    taken = actor.kind == "user" and w.clerk and w.clerk != actor.name and w.status != "closed"
    if taken and not (take_over and status == "open"):
        by = staff_name(tx.conn, w.clerk or "")
        if status == "open":
            raise Conflict(
                f"{number} 号窗口正由 {by} 使用，接管前请确认 / Window {number} is held by {by}: "
                "confirm to take it over"
            )
        check_holder(tx.conn, actor, w)
    holder = (actor.name if status == "open" else w.clerk) if actor.kind == "user" else w.clerk
    w = hall_store.update_window(
        tx.conn,
        w,
        status=status,
        status_reason=reason if status != "open" else "",
        clerk=None if status == "closed" else holder,
    )
    drop_load(tx)  # window capacity changed
    if taken:
        tx.emit("window.taken_over", {"number": number})
    tx.emit("window.status", window_public(w))
    tx.emit("queue.stats", {"queues": queue_stats(tx.conn, tx.hall, w.queues.split(","))})
    return w


def set_notice(tx: HallTx, text: str) -> None:
    """Replace the scrolling notice line of the boards."""
    hall_store.set_notice(tx.conn, tx.hall, text)
    tx.emit("notice", {"text": text})


def report_health(tx: HallTx, *, device: Principal, status: str, detail: str) -> None:
    """Record a device's health and raise it to staff as a `device.health` event."""
    d = tx.session.get(DeviceStatus, device.name) or DeviceStatus(name=device.name, hall_code=tx.hall, role=device.role)
    d.status, d.detail, d.at = status, detail, tx.now
    tx.session.add(d)
    tx.emit("device.health", {"device": device.name, "role": device.role, "status": status, "detail": detail})


def window_public(w: WindowRow) -> dict[str, Any]:
    """A window as boards and consoles see it."""
    return {
        "number": w.number,
        "name": w.name,
        "name_en": w.name_en,
        "queues": w.queues.split(","),
        "status": w.status,
        "reason": w.status_reason,
    }


def hall_row(conn: Connection, code: str) -> HallRow:
    """The hall's row (plain, from the store), or NotFound."""
    h = hall_store.hall(conn, code)
    if h is None:
        raise NotFound(f"大厅不存在 / No hall '{code}'")
    return h


def board_state(r: HallRead) -> tuple[int, dict[str, Any]]:
    """The board state and the `seq` it reflects, read from one snapshot."""
    hall, conn = r.hall_config, r.conn
    h = hall_row(conn, hall.code)
    qnames = {q.code: q for q in hall.queues}
    stats = queue_stats(conn, hall.code)
    queues = [
        {
            "code": s["code"],
            "name": qnames[s["code"]].name,
            "name_en": qnames[s["code"]].name_en,
            "names": hall.names_of(s["code"]),
            "waiting": s["waiting"],
            "estimated_wait_s": s["estimated_wait_s"],
        }
        for s in stats
        if s["code"] in qnames
    ]
    windows = hall_store.windows(conn, hall.code)
    current = store.tickets(conn, [w.current_ticket_id for w in windows if w.current_ticket_id is not None])
    wins = []
    for w in windows:
        d = window_public(w)
        cur = current.get(w.current_ticket_id) if w.current_ticket_id is not None else None
        d["current"] = brief(cur) if cur is not None else None
        wins.append(d)
    recent = store.select_tickets(
        conn,
        col(Ticket.hall_code) == hall.code,
        col(Ticket.called_at).is_not(None),
        col(Ticket.window).is_not(None),
        order=[col(Ticket.called_at).desc()],
        limit=RECENT_CALLS,
    )
    state = {
        "hall": {
            "code": h.code,
            "name": h.name,
            "name_en": h.name_en,
            "timezone": h.timezone,
            "silent": h.silent,
            "languages": list(hall.languages),
            # the names of the windows the hall names in its languages (config `names`), by window number
            "window_names": {str(w.number): hall.window_names(w.number) for w in hall.windows if w.names},
        },
        "queues": queues,
        "windows": wins,
        "recent_calls": [brief(t) | {"at": t.called_at.isoformat() if t.called_at else None} for t in recent],
        "notice": h.notice,
    }
    return h.last_seq, state
