"""Taking a number: walk-ins (kiosk, counter, remote) and appointment check-ins."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any, ParamSpec, TypeVar

from ..citizen_text import both
from ..errors import Conflict, Invalid, NotFound
from ..ids import (
    InvalidIdNumber,
    InvalidPhone,
    age_on,
    mask_id_number,
    mask_phone,
    validate_identity_number,
    validate_phone,
)
from ..languages import LANGS
from ..models import WAITING
from ..policy import CLASS_ORDINARY, lane_class
from ..store import tickets as store
from ..store.rows import TicketRow
from ..timeutil import service_day
from . import notices
from .ticketing import TicketOut, brief, emit_counted, load, move, out, waiting
from .tx import HallTx

CHANNELS = ("kiosk", "counter", "mobile", "web", "phone", "remote")
P = ParamSpec("P")
T = TypeVar("T")


def _in_one_go(staged: Callable[P, Callable[[], T]]) -> Callable[P, T]:
    """A change in two steps (`issue_staged`) run in one go: its first step, then its second."""

    @functools.wraps(staged)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return staged(*args, **kwargs)()

    return run


def issue_staged(
    tx: HallTx,
    *,
    queue: str,
    lane: str = "normal",
    channel: str = "kiosk",
    phone: str | None = None,
    id_number: str | None = None,
    idempotency_key: str | None = None,
    personal: dict[str, Any] | None = None,
    while_closed: bool = False,
    lang: str | None = None,
    interpreter: str | None = None,
    reply_lang: str | None = None,
) -> Callable[[], TicketOut]:
    """Issue the next number of `queue` to a walk-in; a repeated idempotency key returns the first ticket.

    In two steps, for the writer's pipeline (writer.py, `BatchWriter.submit(staged=…)`): this call checks the
    request and sends the ticket's statement; the function it answers reads the statement's answer and
    finishes the change (event, notice). On PostgreSQL the writer sends the statements of a batch's issues
    back to back and reads their answers together (one network wait, not one per ticket), so between the two
    steps the statements of the changes after this one may have run: every read of the database this change
    needs happens in the first step, before its own statement.

    A closed hall refuses (409 naming the next opening) unless `while_closed`; the queue's daily cap
    (放号上限) is enforced and a senior's ID number puts a `normal` ticket in lane `special` (from the
    hall's configuration the transaction carries). `personal`: already encrypted personal data (e.g. a
    case's `phone_enc`, `id_hash`, …). `lang`: the citizen's language (the kiosk's); `interpreter`: the language
    a clerk needs an interpreter for (需要语言服务), one of the hall's; a refusal's second half is in `reply_lang`
    (else `lang`; else English).
    """
    tz, hall, calendar = tx.tz, tx.config, None if while_closed else tx.calendar
    if idempotency_key:
        prior = store.ticket_by_key(tx.conn, tx.hall, idempotency_key)
        if prior is not None:
            if prior.queue != queue and prior.issue_queue != queue:
                raise Conflict("Idempotency-Key 已用于另一张票 / This Idempotency-Key was used for another ticket")
            found = out(tx.conn, prior, tx.now, created=False)
            return lambda: found
    if not tx.memo_later:  # else checked in the second step (`_issue`)
        _known_queue(tx, queue)
    reply = reply_lang or lang
    if calendar is not None and not calendar.is_open(tx.now):
        raise Conflict(calendar.closed_sentence(tx.now, reply))
    today = tx.now.astimezone(tz).date()
    try:
        phone_n = validate_phone(phone) if phone else None
        id_n = validate_identity_number(id_number, today=today) if id_number else None
    except (InvalidIdNumber, InvalidPhone) as exc:
        raise Invalid(str(exc)) from None
    if id_n and hall is not None and hall.senior_age and lane == "normal" and age_on(id_n, today) >= hall.senior_age:
        lane = "special"  # 老弱病残 priority, decided from the birth date on the ID card
    personal = dict(personal or {}) | _languages(tx, lang, interpreter)
    cipher = tx.pii if phone_n or id_n else None
    if phone_n and cipher is not None:
        personal |= {
            "phone_enc": cipher.encrypt(phone_n, context="phone"),
            "phone_masked": mask_phone(phone_n),
            "phone_hash": cipher.keyed_hash("phone:" + phone_n),
        }
    if channel == "remote":
        _one_remote_per_phone(tx, personal.get("phone_hash"))
    if id_n and cipher is not None:
        personal |= {
            "id_enc": cipher.encrypt(id_n, context="id_number"),
            "id_hash": cipher.keyed_hash(id_n),
            "id_masked": mask_id_number(id_n),
        }
    cap = hall.queue(queue) if hall is not None and lane != "appointment" else None
    return _issue(tx, tz, queue, lane, channel, idempotency_key, personal, cap_of=cap, lang=reply)


def issue_checked_in(
    tx: HallTx,
    *,
    queue: str,
    lane: str,
    slot_start: datetime | None,
    personal: dict[str, Any],
    lang: str | None = None,
    interpreter: str | None = None,
    reply_lang: str | None = None,
) -> TicketOut:
    """Issue the ticket of an appointment checked in, without the opening check (the slot was booked).

    `slot_start` None (a late arrival's ordinary ticket): the daily cap applies. `personal`: the
    appointment's already encrypted `phone_enc`, `phone_masked`, `id_enc`, `id_hash`, `id_masked`. `lang`,
    `interpreter` and `reply_lang` as for `issue` (checked against the hall's languages the same way).
    """
    _known_queue(tx, queue)
    hall = tx.config
    personal = personal | _languages(tx, lang, interpreter)
    cap = hall.queue(queue) if hall is not None and slot_start is None and lane != "appointment" else None
    return _issue(
        tx, tx.tz, queue, lane, "kiosk", None, personal, cap_of=cap, slot_start=slot_start, lang=reply_lang or lang
    )()


issue = _in_one_go(issue_staged)
"""`issue_staged` in one go: the `TicketOut`."""


def _languages(tx: HallTx, lang: str | None, interpreter: str | None) -> dict[str, Any]:
    """The ticket's `lang` and `interpreter` columns, checked against the languages the hall speaks."""
    if lang is not None and lang not in LANGS:
        raise Invalid(f"不支持的语言 / Unknown language '{lang}' (one of {', '.join(LANGS)})")
    if interpreter is not None:
        offered = [x for x in (tx.config.languages if tx.config is not None else LANGS) if x != "zh"]
        if interpreter not in offered:
            has = ", ".join(offered)
            raise Invalid(f"本厅不提供该语言服务 / This hall offers no interpreter in '{interpreter}' ({has})")
    return {"lang": lang, "interpreter": interpreter}


def _known_queue(tx: HallTx, queue: str) -> None:
    if queue not in load(tx).avg:  # the hall's queues come from the configuration: the memo knows them all
        raise NotFound(f"没有这个业务队列 / No queue '{queue}' in this hall")


def _issue(
    tx: HallTx,
    tz: tzinfo,
    queue: str,
    lane: str,
    channel: str,
    idempotency_key: str | None,
    personal: dict[str, Any],
    *,
    cap_of: Any = None,
    slot_start: datetime | None = None,
    lang: str | None = None,
) -> Callable[[], TicketOut]:
    conn = tx.conn
    day = service_day(tx.now, tz)
    cap = cap_of.daily_cap if cap_of is not None else 0
    values: dict[str, Any] = {
        "hall_code": tx.hall,
        "service_day": day,
        "issue_queue": queue,
        "queue": queue,
        "lane": lane,
        "status": WAITING,
        "channel": channel,
        "arrived_at": tx.now,
        "issued_at": tx.now,
        "called_at": None,
        "serving_at": None,
        "finished_at": None,
        "slot_start": slot_start,
        "window": None,
        "target_window": None,
        "recalls": 0,
        "rejoins": 0,
        "phone_enc": None,
        "phone_masked": None,
        "phone_hash": None,
        "id_enc": None,
        "id_hash": None,
        "id_masked": None,
        "track_token": secrets.token_urlsafe(18),
        "idempotency_key": idempotency_key or None,
        "clerk": None,
        "lang": None,
        "interpreter": None,
    } | personal
    if not tx.memo_later:  # else the memo comes exact with the lock's answer, before the second step
        waiting(tx)  # the memo of the waiting counts made exact now, before this ticket's statement (see above)
    mine = lane_class(lane, slot_start, tx.now)
    # An ordinary newcomer: every other untargeted waiting ticket goes first (counted from the memo and the
    # statement's answer); else count the waiting tickets of the classes that go before it, or with it (a
    # full look at each waiting ticket), read now: it is not stored yet.
    before = None if mine == CLASS_ORDINARY else store.waiting_up_to_class(conn, tx.hall, queue, tx.now, mine)
    if conn.dialect.name == "postgresql":  # number, row and transferred count: one statement with the batch's others
        answer = store.issue_ticket_pending(conn, values, cap)
    else:
        seq = store.next_number(conn, tx.hall, day, queue)
        row = (
            None
            if cap and seq > cap
            else store.insert_ticket(conn, values | {"seq": seq, "number": f"{queue}{seq:03d}"})
        )
        targeted = 0 if row is None or before is not None else store.targeted_in_queue(conn, tx.hall, queue)

        def answer() -> tuple[TicketRow | None, int, int]:
            return row, seq, targeted

    def finish() -> TicketOut:
        _known_queue(tx, queue)  # from the memo, as the first step does when it has it
        memo = load(tx)
        avg = memo.avg[queue]
        t, _, targeted = answer()
        if t is None:  # raising rolls the counter back with the transaction: no gap
            names = tx.config.names_of(queue) if tx.config is not None else {}
            name = names.get(lang or "en", cap_of.name_en)
            en = f"Today's {cap} tickets for {cap_of.name_en} are all taken"
            raise Conflict(both(f"今日{cap_of.name}号已放完（{cap}个）", en, lang, "daily_cap", queue=name, cap=cap))
        move(tx, {queue: 1})
        waiting_now = waiting(tx)[queue]  # the hall's memo of the waiting counts (counted once, then kept exact)
        ahead = waiting_now - targeted - 1 if before is None else before
        stats = [{"code": queue, "waiting": waiting_now, "estimated_wait_s": memo.estimate(queue, waiting_now, avg)}]
        emit_counted(tx, "ticket.issued", brief(t) | {"queues": stats})
        wait = memo.estimate(queue, ahead, avg)
        notices.issued(tx, t, ahead, wait)
        return TicketOut(t, ahead, wait)

    return finish


def _one_remote_per_phone(tx: HallTx, phone_hash: str | None) -> None:
    """通办取号: a phone holds at most one open remote ticket per hall."""
    if phone_hash is None:
        raise Invalid("远程取号需要手机号码 / A remote ticket needs a mobile number")
    held = store.open_remote_ticket(tx.conn, tx.hall, phone_hash)
    if held is not None:
        raise Conflict(f"该手机号已有远程号 {held} / This phone already holds remote ticket {held}")
