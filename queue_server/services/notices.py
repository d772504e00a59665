"""What the citizen's phone is told (silent calling): outbox messages written with each change."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from ..notify import enqueue, messages
from ..notify.bindings import bound_recipient
from ..notify.models import Notification
from ..store import tickets as store
from ..store.rows import TicketRow
from .stats import ticket_class
from .tx import HallTx


def _hall_names(tx: HallTx) -> tuple[str, str]:
    if tx.config is None:
        return tx.hall, ""
    return tx.config.name, tx.config.name_en


def recipient(tx: HallTx, t: Any) -> str | None:
    """Where a ticket's messages go (encrypted): its phone; with an official account's WeChat notices, the openid
    bound on its tracking page — or on an earlier ticket's of the same phone (notify/bindings.py) — else nowhere
    (a phone number is no WeChat recipient)."""
    if not tx.wechat_bindings:
        return str(t.phone_enc) if t.phone_enc else None
    return bound_recipient(tx, t.id, getattr(t, "phone_hash", None))


def issued(tx: HallTx, t: Any, ahead: int, wait_s: int) -> None:
    """Number, position and estimated wait, right after taking a number (with WeChat notices: to the openid its
    phone bound on an earlier ticket, if any)."""
    if not t.phone_enc:
        return
    to = recipient(tx, t) if tx.wechat_bindings else t.phone_enc
    if not to:
        return
    name, name_en = _hall_names(tx)
    minutes = (wait_s + 59) // 60
    text = messages.issued(name, t.number, ahead, minutes, hall_en=name_en, lang=t.lang)
    params = {"hall": name, "number": t.number, "ahead": ahead, "minutes": minutes}
    enqueue(tx, kind="issued", ticket=t.number, phone_enc=to, text=text, params=params)


def called(tx: HallTx, t: TicketRow, *, recall: bool = False) -> None:
    """The call itself: which window to go to."""
    if t.window is None:
        return
    kind, text = (
        ("recalled", messages.recalled(t.number, t.window, lang=t.lang))
        if recall
        else ("called", messages.called(t.number, t.window, lang=t.lang))
    )
    params = {"number": t.number, "window": t.window}
    enqueue(tx, kind=kind, ticket=t.number, phone_enc=recipient(tx, t), text=text, params=params)


def no_show(tx: HallTx, t: TicketRow) -> None:
    """The ticket was passed over (过号)."""
    text, params = messages.no_show(t.number, lang=t.lang), {"number": t.number}
    enqueue(tx, kind="no_show", ticket=t.number, phone_enc=recipient(tx, t), text=text, params=params)


def ahead_after_call(tx: HallTx, queue: str) -> None:
    """Tell the waiting ticket that now has exactly `notify_ahead` people before it (once per ticket)."""
    n = tx.config.notify_ahead if tx.config is not None else 0
    if n <= 0:
        return
    rows = store.next_in_line(tx.conn, tx.hall, queue, n)
    ordered = sorted(rows, key=lambda x: (ticket_class(x, tx.now), x.arrived_at, x.id))
    t = ordered[n] if len(ordered) > n else None
    to = recipient(tx, t) if t is not None else None
    if t is None or not to:
        return
    since = t.issued_at - timedelta(seconds=1)
    told = tx.session.execute(
        select(func.count()).where(
            col(Notification.hall_code) == tx.hall,
            col(Notification.kind) == "ahead",
            col(Notification.ticket) == t.number,
            col(Notification.created_at) >= since,
        )
    ).scalar_one()
    if not told:
        text, params = messages.ahead(t.number, n, lang=t.lang), {"number": t.number, "ahead": n}
        enqueue(tx, kind="ahead", ticket=t.number, phone_enc=to, text=text, params=params)


def appointment(tx: HallTx, kind: str, a: Any, slot_local: datetime) -> None:
    """Booked or cancelled: with the slot and the booking code (to the phone: no openid is bound to a booking)."""
    if tx.wechat_bindings:
        return
    name, name_en = _hall_names(tx)
    build = messages.appointment_booked if kind == "appointment_booked" else messages.appointment_cancelled
    text = build(name, slot_local, a.code, hall_en=name_en, lang=a.lang)
    params = {"hall": name, "time": messages.slot_param(slot_local), "code": messages.secret(a.code)}
    enqueue(tx, kind=kind, ticket=a.code, phone_enc=a.phone_enc, text=text, params=params)
