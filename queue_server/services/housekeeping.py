"""Periodic work of a hall: staff alerts on long queues, appointment reminders."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlmodel import col

from ..config import HallConfig
from ..models import WAITING, Appointment, Ticket
from ..notify import enqueue, messages
from .tx import HallTx

REMINDER_LEAD = timedelta(minutes=60)


def queue_alerts(tx: HallTx, hall: HallConfig, active: set[tuple[str, str, str]]) -> int:
    """Raise (and clear) `queue.alert` events for queues past their wait or length threshold.

    `active` remembers the alerts already raised, so each is sent once when it starts and once when it
    clears; it lives in the server process (after a restart a standing alert is raised again).
    """
    sent = 0
    rows = {
        q: (int(n), oldest)
        for q, n, oldest in tx.session.execute(
            select(col(Ticket.queue), func.count(), func.min(col(Ticket.arrived_at)))
            .where(col(Ticket.hall_code) == tx.hall, col(Ticket.status) == WAITING)
            .group_by(col(Ticket.queue))
        ).all()
    }
    for q in hall.queues:
        n, oldest = rows.get(q.code, (0, None))
        wait_min = int((tx.now - oldest).total_seconds() // 60) if oldest is not None else 0
        for kind, value, limit in (("length", n, q.alert_length), ("wait", wait_min, q.alert_wait_min)):
            if not limit:
                continue
            key = (tx.hall, q.code, kind)
            over = value >= limit
            if over and key not in active:
                active.add(key)
                tx.emit(
                    "queue.alert", {"queue": q.code, "kind": kind, "value": value, "threshold": limit, "cleared": False}
                )
                sent += 1
            elif not over and key in active:
                active.discard(key)
                tx.emit(
                    "queue.alert", {"queue": q.code, "kind": kind, "value": value, "threshold": limit, "cleared": True}
                )
                sent += 1
    return sent


def appointment_reminders(tx: HallTx, hall: HallConfig, lead: timedelta = REMINDER_LEAD) -> int:
    """Remind each booked appointment with a phone once, about an hour before its slot."""
    # Marked on the appointment: the outbox cannot tell, since it keeps the booking code (a secret) masked.
    due = (
        tx.session.execute(
            select(Appointment).where(
                col(Appointment.hall_code) == tx.hall,
                col(Appointment.status) == "booked",
                col(Appointment.phone_enc).is_not(None),
                col(Appointment.reminded_at).is_(None),
                col(Appointment.slot_start) > tx.now,
                col(Appointment.slot_start) <= tx.now + lead,
            )
        )
        .scalars()
        .all()
    )
    sent = 0
    for a in due:
        slot = a.slot_start.astimezone(tx.now.tzinfo)
        text = messages.appointment_reminder(hall.name, slot, a.code, hall_en=hall.name_en, lang=a.lang)
        params = {"hall": hall.name, "time": messages.slot_param(slot), "code": messages.secret(a.code)}
        enqueue(tx, kind="appointment_reminder", ticket=a.code, phone_enc=a.phone_enc, text=text, params=params)
        a.reminded_at = tx.now
        sent += 1
    tx.session.flush()
    return sent
