"""Appointments (预约办): slots from the calendar, booking under capacity, cancel, reschedule, check-in."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from ..calendar import Calendar
from ..citizen_text import both
from ..config import HallConfig
from ..errors import Conflict, Invalid, NotFound
from ..identity import IdType, document
from ..ids import InvalidIdNumber, InvalidPhone, mask_name, mask_phone, validate_phone
from ..languages import pick
from ..models import Appointment, SlotBooking
from ..timeutil import service_day
from . import notices
from .issuing import issue_checked_in
from .ticketing import TicketOut
from .tx import HallRead, HallTx

BOOKED, CHECKED_IN, CANCELLED, NO_SHOW = "booked", "checked_in", "cancelled", "no_show"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1: read aloud over the phone
BOOK_DAYS_AHEAD = 30


def new_code() -> str:
    """A booking code: 8 characters, about 40 bits, easy to read out and type on a keypad."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


@dataclass(frozen=True, slots=True)
class AppointmentInfo:
    """An appointment as a change returns it: a plain value, personal data only masked."""

    id: int
    code: str
    hall_code: str
    queue: str
    status: str
    channel: str
    slot_start: datetime
    slot_end: datetime
    name_masked: str
    id_masked: str
    phone_masked: str | None
    id_type: str = "resident"
    nationality: str | None = None
    lang: str | None = None  # the citizen's language (issue 22)

    @classmethod
    def of(cls, a: Appointment) -> AppointmentInfo:
        """The plain value of an appointment row (built inside the transaction that loaded it)."""
        assert a.id is not None
        return cls(
            a.id,
            a.code,
            a.hall_code,
            a.queue,
            a.status,
            a.channel,
            a.slot_start,
            a.slot_end,
            a.name_masked,
            a.id_masked,
            a.phone_masked,
            a.id_type,
            a.nationality,
            a.lang,
        )


@dataclass(frozen=True, slots=True)
class CheckIn:
    """The ticket a check-in produced, and why it is ordinary when it is (late arrival)."""

    ticket: TicketOut
    appointment: str  # its booking code
    note: str = ""


def _capacity(hall: HallConfig, queue: str, lang: str | None = None) -> int:
    try:
        q = hall.queue(queue)
    except KeyError:
        raise NotFound(f"没有这个业务队列 / No queue '{queue}' in this hall") from None
    if q.slot_capacity <= 0:
        name = pick(hall.names_of(queue), lang)
        raise NotFound(both(f"{q.name}不提供预约", f"{q.name_en} takes no appointments", lang, "appt_none", queue=name))
    return q.slot_capacity


def slots(r: HallRead, queue: str, day: Any) -> list[dict[str, Any]]:
    """The day's slots of a queue with capacity and how many are booked."""
    hall, cal, session = r.hall_config, r.hall_calendar, r.session
    cap = _capacity(hall, queue)
    spans = cal.slots(day, hall.slot_minutes)
    if not spans:
        return []
    booked = {
        s.replace(tzinfo=None) if s.tzinfo is None else s: n
        for s, n in session.execute(
            select(col(SlotBooking.slot_start), col(SlotBooking.booked)).where(
                col(SlotBooking.hall_code) == hall.code,
                col(SlotBooking.queue) == queue,
                col(SlotBooking.slot_start) >= spans[0][0],
                col(SlotBooking.slot_start) <= spans[-1][0],
            )
        ).all()
    }
    return [{"start": a, "end": b, "capacity": cap, "booked": booked.get(a, 0)} for a, b in spans]


def _slot_of(hall: HallConfig, cal: Calendar, start: datetime, lang: str | None = None) -> tuple[datetime, datetime]:
    local = start.astimezone(cal.tz)
    for a, b in cal.slots(local.date(), hall.slot_minutes):
        if a == local:
            return a, b
    at = f"{local:%Y-%m-%d %H:%M}"
    raise Invalid(both(f"{at} 不是可预约的时段", f"{at} is not a slot of this hall", lang, "appt_not_slot", time=at))


def _begun(lang: str | None) -> Invalid:
    return Invalid(both("不能预约已开始的时段", "That slot has already begun", lang, "appt_begun"))


def _take_seat(tx: HallTx, queue: str, start: datetime, capacity: int, lang: str | None = None) -> None:
    """Raise the slot's count by one only while it is below capacity (atomic on both databases)."""
    dialect = postgresql if tx.session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(SlotBooking).values(hall_code=tx.hall, queue=queue, slot_start=start, booked=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["hall_code", "queue", "slot_start"],
        set_={"booked": col(SlotBooking.booked) + 1},
        where=col(SlotBooking.booked) < bindparam("cap"),
    ).returning(col(SlotBooking.booked))
    if tx.session.execute(stmt, {"cap": capacity}).first() is None:
        raise Conflict(
            both("该时段已约满，请选择其他时段", "This slot is fully booked; choose another", lang, "appt_full")
        )


def _free_seat(tx: HallTx, a: Appointment) -> None:
    row = tx.session.get(SlotBooking, (tx.hall, a.queue, a.slot_start))
    if row is not None and row.booked > 0:
        row.booked -= 1


def _event(a: Appointment) -> dict[str, Any]:
    # Events are public (boards watch anonymously): never the booking code, which lets its holder act.
    return {"id": a.id, "queue": a.queue, "status": a.status, "start": a.slot_start.isoformat()}


def brief(a: Appointment) -> dict[str, Any]:
    """An appointment as events and public answers show it (masked)."""
    return {"code": a.code, "queue": a.queue, "status": a.status, "start": a.slot_start, "end": a.slot_end}


def book(
    tx: HallTx,
    *,
    queue: str,
    start: datetime,
    name: str,
    id_number: str,
    phone: str | None,
    channel: str,
    idempotency_key: str | None = None,
    id_type: IdType | None = None,
    nationality: str | None = None,
    lang: str | None = None,
) -> AppointmentInfo:
    """Book a slot: it must be a real future slot with room; one active appointment per person, queue and day.

    `lang`: the citizen's language (the kiosk's, the page's or the browser's): its messages, its check-in's ticket
    and its confirmation are in Chinese and that language.

    A repeated `idempotency_key` returns the first booking (`booked_with_key` tells them apart). The
    document is `id_type` (None: told by the number's shape) with `nationality` for a passport
    (`identity.document`). The hall's configuration, calendar and cipher come with the transaction.
    """
    hall, cal, cipher = tx.hall_config, tx.hall_calendar, tx.pii
    start = start.replace(tzinfo=cal.tz) if start.tzinfo is None else start
    cap = _capacity(hall, queue, lang)
    slot_start, slot_end = _slot_of(hall, cal, start, lang)
    if slot_start <= tx.now:
        raise _begun(lang)
    if slot_start - tx.now > timedelta(days=BOOK_DAYS_AHEAD):
        n = BOOK_DAYS_AHEAD
        raise Invalid(both(f"最多预约{n}天内的时段", f"Book at most {n} days ahead", lang, "appt_too_far", days=n))
    try:
        doc = document(id_type, id_number, nationality, today=tx.now.astimezone(cal.tz).date())
        ph = validate_phone(phone) if phone else None
    except (InvalidIdNumber, InvalidPhone) as exc:
        raise Invalid(str(exc)) from None
    name = name.strip()
    if not name:
        raise Invalid("请填写姓名 / Please give the name")
    day = service_day(slot_start, cal.tz)
    id_hash = cipher.keyed_hash(doc.key)
    dup = tx.session.execute(
        select(col(Appointment.id)).where(
            and_(
                col(Appointment.hall_code) == tx.hall,
                col(Appointment.queue) == queue,
                col(Appointment.service_day) == day,
                col(Appointment.id_hash) == id_hash,
                col(Appointment.status) == BOOKED,
            )
        )
    ).first()
    if dup is not None:
        en = "You already have an appointment for this service that day"
        raise Conflict(both("您当天已有该业务的预约", en, lang, "appt_twice"))
    _take_seat(tx, queue, slot_start, cap, lang)
    a = Appointment(
        code=new_code(),
        hall_code=tx.hall,
        queue=queue,
        service_day=day,
        slot_start=slot_start,
        slot_end=slot_end,
        channel=channel,
        name_enc=cipher.encrypt(name, context="name"),
        name_masked=mask_name(name),
        id_enc=cipher.encrypt(doc.number, context="id_number"),
        id_hash=id_hash,
        id_masked=doc.masked,
        id_type=doc.id_type,
        nationality=doc.nationality,
        phone_enc=cipher.encrypt(ph, context="phone") if ph else None,
        phone_masked=mask_phone(ph) if ph else None,
        idempotency_key=idempotency_key or None,
        lang=lang,
        created_at=tx.now,
        updated_at=tx.now,
    )
    tx.session.add(a)
    tx.session.flush()
    tx.emit("appointment.booked", _event(a))
    notices.appointment(tx, "appointment_booked", a, slot_start.astimezone(cal.tz))
    return AppointmentInfo.of(a)


def booked_with_key(tx: HallTx, *, queue: str, key: str) -> AppointmentInfo | None:
    """The booking an earlier request with this Idempotency-Key made (409 if it was for another service)."""
    prior = tx.session.execute(
        select(Appointment).where(col(Appointment.hall_code) == tx.hall, col(Appointment.idempotency_key) == key)
    ).scalar_one_or_none()
    if prior is not None and prior.queue != queue:
        raise Conflict("Idempotency-Key 已用于另一个预约 / This Idempotency-Key was used for another booking")
    return AppointmentInfo.of(prior) if prior is not None else None


def load(tx: HallTx | None, session: Session, code: str, lang: str | None = None) -> Appointment:
    """The appointment row with this booking code (of the transaction's hall), or NotFound (its second half in
    `lang`); for use inside the transaction only — a change returns `AppointmentInfo`, a read `find`."""
    a = session.execute(select(Appointment).where(col(Appointment.code) == code.strip().upper())).scalar_one_or_none()
    if a is None or (tx is not None and a.hall_code != tx.hall):
        raise NotFound(both("没有这个预约", "No appointment with this code", lang, "appt_not_found"))
    return a


def find(session: Session, code: str, lang: str | None = None) -> AppointmentInfo:
    """The appointment with this booking code, as a plain value (reads), or NotFound."""
    return AppointmentInfo.of(load(None, session, code, lang))


def _not_now(a: Appointment, lang: str | None, key: str, zh: str, en: str) -> Conflict:
    """An appointment that is no longer booked cannot be cancelled, moved or checked in: its status, Chinese first
    and then the request's language or the booking's."""
    return Conflict(both(f"预约当前为 {a.status}，{zh}", en, lang or a.lang, key, status=a.status))


def cancel(tx: HallTx, *, code: str, lang: str | None = None) -> AppointmentInfo:
    """Cancel a booked appointment and free its seat (`lang`: the refusals' second half, else the booking's)."""
    a = load(tx, tx.session, code, lang)
    if a.status != BOOKED:
        raise _not_now(a, lang, "appt_no_cancel", "不能取消", f"Cannot cancel an appointment that is {a.status}")
    a.status, a.updated_at = CANCELLED, tx.now
    _free_seat(tx, a)
    tx.emit("appointment.cancelled", _event(a))
    notices.appointment(tx, "appointment_cancelled", a, a.slot_start.astimezone(tx.tz))
    return AppointmentInfo.of(a)


def reschedule(tx: HallTx, *, code: str, start: datetime, lang: str | None = None) -> AppointmentInfo:
    """Move a booked appointment to another slot (with room) of the same queue (`start` without a zone: the
    hall's local time; `lang`: the refusals' second half, else the booking's)."""
    hall, cal = tx.hall_config, tx.hall_calendar
    start = start.replace(tzinfo=cal.tz) if start.tzinfo is None else start
    a = load(tx, tx.session, code, lang)
    lang = lang or a.lang
    if a.status != BOOKED:
        en = f"Cannot reschedule an appointment that is {a.status}"
        raise _not_now(a, lang, "appt_no_reschedule", "不能改期", en)
    slot_start, slot_end = _slot_of(hall, cal, start, lang)
    if slot_start <= tx.now:
        raise _begun(lang)
    if slot_start == a.slot_start:
        return AppointmentInfo.of(a)
    _take_seat(tx, a.queue, slot_start, _capacity(hall, a.queue, lang), lang)
    _free_seat(tx, a)
    a.slot_start, a.slot_end, a.service_day, a.updated_at = (
        slot_start,
        slot_end,
        service_day(slot_start, cal.tz),
        tx.now,
    )
    tx.emit("appointment.rescheduled", _event(a))
    return AppointmentInfo.of(a)


def check_in(
    tx: HallTx,
    *,
    a: Appointment,
    lang: str | None = None,
    interpreter: str | None = None,
    reply_lang: str | None = None,
) -> CheckIn:
    """Turn a booked appointment into a ticket: lane `appointment` in time, ordinary (with the reason) if late.

    `lang` (the kiosk's language) and `interpreter` (需要语言服务) go on the ticket as at take-a-number."""
    hall, tz = tx.hall_config, tx.tz
    reply = reply_lang or lang or a.lang
    if a.status != BOOKED:
        raise _not_now(a, reply, "appt_no_check_in", "不能签到", f"This appointment is {a.status}")
    early = a.slot_start - timedelta(minutes=hall.checkin_early_min)
    late = a.slot_start + timedelta(minutes=hall.checkin_late_min)
    local = a.slot_start.astimezone(tz)
    if tx.now < early:
        frm, at = f"{early.astimezone(tz):%H:%M}", f"{local:%Y-%m-%d %H:%M}"
        zh = f"签到过早：请于 {frm} 后签到（预约 {at}）"
        en = f"Too early: check in from {frm} (appointment {at})"
        raise Conflict(both(zh, en, reply, "appt_early", time=frm, slot=at))
    note = ""
    lane = "appointment"
    if tx.now > late:
        lane, n = "normal", hall.checkin_late_min
        en = f"You are more than {n} minutes late, so this is an ordinary ticket"
        note = both(f"您已迟到超过{n}分钟，已为您取普通号", en, reply, "appt_late", minutes=n)
    personal = {
        "phone_enc": a.phone_enc,
        "phone_masked": a.phone_masked,
        "id_enc": a.id_enc,
        "id_hash": a.id_hash,
        "id_masked": a.id_masked,
    }
    slot = a.slot_start if lane == "appointment" else None
    out = issue_checked_in(
        tx,
        queue=a.queue,
        lane=lane,
        slot_start=slot,
        personal=personal,
        lang=lang or a.lang,  # the kiosk's language at check-in, else the one booked in
        interpreter=interpreter,
        reply_lang=reply,
    )
    a.status, a.ticket_id, a.updated_at = CHECKED_IN, out.ticket.id, tx.now
    return CheckIn(out, a.code, note)


def find_for_person(tx: HallTx, *, id_hash: str, lang: str | None = None) -> Appointment:
    """The person's booked appointment to check in now (by the ID number's keyed hash), earliest slot first:
    one of today's, or one whose check-in window is already open though its slot is on the next day (a
    24-hour hall's 00:00 slot at 23:45)."""
    day, early_min = service_day(tx.now, tx.tz), tx.hall_config.checkin_early_min
    a = tx.session.execute(
        select(Appointment)
        .where(
            col(Appointment.hall_code) == tx.hall,
            col(Appointment.id_hash) == id_hash,
            col(Appointment.status) == BOOKED,
            or_(
                col(Appointment.service_day) == day,
                and_(
                    col(Appointment.service_day) > day,
                    col(Appointment.slot_start) <= tx.now + timedelta(minutes=early_min),
                ),
            ),
        )
        .order_by(col(Appointment.slot_start))
        .limit(1)
    ).scalar_one_or_none()
    if a is None:
        raise NotFound(both("今天没有找到您的预约", "No appointment found for you today", lang, "appt_none_today"))
    return a


def mark_no_shows(tx: HallTx, *, late_min: int) -> int:
    """Appointments whose slot is over (plus the late allowance) and never checked in become no_show."""
    rows = (
        tx.session.execute(
            select(Appointment).where(
                col(Appointment.hall_code) == tx.hall,
                col(Appointment.status) == BOOKED,
                col(Appointment.slot_end) < tx.now - timedelta(minutes=late_min),
            )
        )
        .scalars()
        .all()
    )
    for a in rows:
        a.status, a.updated_at = NO_SHOW, tx.now
        tx.emit("appointment.no_show", _event(a))
    return len(rows)
