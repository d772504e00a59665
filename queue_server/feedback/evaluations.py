"""好差评: store one evaluation per ticket (一次一评) or per case (一事一评); a bad review opens a follow-up."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from ..citizen_text import both
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..models import DONE, Ticket
from ..services.tx import HallTx
from ..store import tickets
from ..store.rows import TicketRow
from ..timeutil import service_day
from .catalogue import BAD_LEVELS, CHANNELS, LEVELS, REASONS
from .deadlines import working_days_after
from .models import Evaluation, FollowUp
from .rollups import invalidate

FOLLOWUP_WORKING_DAYS = 2
# How long after completion the window's pad asks about a ticket (whatever the clerk does meanwhile).
ASK = timedelta(seconds=60)
# How long after a pad's or evaluator's rating the same device may still add its optional reasons.
PAD_WINDOW = timedelta(minutes=10)


def check_choice(level: int, reasons: list[str], lang: str | None = None) -> str:
    """Validate a level and reason codes; returns the reasons as stored (comma-separated, deduplicated)."""
    if level not in LEVELS:
        en = "Level must be 1 (very dissatisfied) to 5 (very satisfied)"
        raise Invalid(both("评价等级应为 1 至 5", en, lang, "ev_level"))
    unknown = [r for r in reasons if r not in REASONS]
    if unknown:
        raise Invalid(f"未知的评价原因 / Unknown reason code(s): {', '.join(unknown)}")
    return ",".join(dict.fromkeys(reasons))


def _existing(session: Session, *, ticket_id: int | None = None, hall: str = "", case: str | None = None) -> bool:
    stmt = select(col(Evaluation.id))
    if ticket_id is not None:
        stmt = stmt.where(col(Evaluation.ticket_id) == ticket_id)
    else:
        stmt = stmt.where(col(Evaluation.hall_code) == hall, col(Evaluation.case_number) == case)
    return session.execute(stmt).first() is not None


def _store(tx: HallTx, ev: Evaluation) -> Evaluation:
    cal = tx.hall_calendar
    tx.session.add(ev)
    tx.session.flush()
    assert ev.id is not None
    data: dict[str, Any] = {"id": ev.id, "level": ev.level, "channel": ev.channel}
    if ev.ticket_id is not None:
        data |= {"ticket": ev.ticket_id, "number": ev.ticket_number, "window": ev.window}
    if ev.case_number:
        data["case"] = ev.case_number
    tx.emit("evaluation.created", data)
    if ev.level in BAD_LEVELS:
        fu = FollowUp(
            hall_code=tx.hall,
            evaluation_id=ev.id,
            deadline=working_days_after(cal, tx.now, FOLLOWUP_WORKING_DAYS),
            opened_at=tx.now,
        )
        tx.session.add(fu)
        tx.session.flush()
        tx.emit("followup.changed", {"id": fu.id, "evaluation": ev.id, "status": fu.status})
    # A late evaluation of an earlier day: that day's rollup is rebuilt on the next report.
    today = service_day(tx.now, cal.tz)
    if ev.service_day < today:
        invalidate(tx.session, tx.hall, ev.service_day)
    return ev


def evaluate_ticket(
    tx: HallTx,
    *,
    level: int,
    reasons: list[str],
    comment: str,
    channel: str,
    ticket_id: int | None = None,
    track_token: str | None = None,
    window: int | None = None,
    lang: str | None = None,
) -> Evaluation:
    """Evaluate a completed ticket, found by id (a device of the hall) or by its track token (the citizen).
    A refusal's second half is in `lang`, else the ticket's language, else English.

    `window`: the window the evaluating device belongs to; the ticket must have been served there. The
    hall's calendar (a bad review's follow-up deadline) comes with the transaction; the row is for use
    inside it (the route builds its answer there).
    """
    stored = check_choice(level, reasons, lang)
    if channel not in CHANNELS:
        raise Invalid(f"未知渠道 / Unknown channel '{channel}'")
    if track_token is not None:
        t = tickets.ticket_by_track(tx.conn, track_token)
    else:
        t = tickets.ticket(tx.conn, ticket_id) if ticket_id is not None else None
    if t is None or t.hall_code != tx.hall:
        raise NotFound(both("没有这张票", "No such ticket", lang, "ev_no_ticket"))
    lang = lang or t.lang
    if t.status != DONE:
        en = "Only a completed service can be evaluated"
        raise Conflict(both("业务办结后才能评价", en, lang, "ev_not_done"))
    if window is not None and t.window != window:
        raise Forbidden(f"该票不是在 {window} 号窗口办理的 / This ticket was not served at window {window}")
    if _existing(tx.session, ticket_id=t.id):
        zh, en = f"{t.number} 已评价，一次服务只能评价一次", f"{t.number} has already been evaluated"
        raise Conflict(both(zh, en, lang, "ev_twice", number=t.number))
    ev = Evaluation(
        hall_code=tx.hall,
        ticket_id=t.id,
        ticket_number=t.number,
        queue=t.queue,
        window=t.window,
        clerk=t.clerk,
        level=level,
        reasons=stored,
        comment=comment.strip(),
        channel=channel,
        service_day=t.service_day,
        created_at=tx.now,
    )
    return _store(tx, ev)


# A case is rated once it is decided or over (一事一评 after 办结), not while it is running.
CASE_RATEABLE = frozenset({"approved", "refused", "result_ready", "mailed", "delivered", "rejected", "withdrawn"})


def _check_case(session: Session, hall: str, number: str, token: str, lang: str | None = None) -> str | None:
    """The case must exist in the hall, the token must be its receipt's query token, and it must be decided;
    the language of the refusals (`lang`, else the case's), which it returns."""
    from ..cases.models import Case

    c = session.execute(
        select(Case).where(col(Case.hall_code) == hall, col(Case.number) == number)
    ).scalar_one_or_none()
    if c is None or not hmac.compare_digest(c.query_token, token):
        en = "No such case, or the query code does not match"
        raise NotFound(both("没有这个办件，或查询码不对", en, lang, "ev_no_case"))
    lang = lang or c.lang
    if c.status not in CASE_RATEABLE:
        en = "A case can be rated once it is decided"
        raise Conflict(both("办件办结后才能评价", en, lang, "ev_case_open"))
    return lang


def evaluate_case(
    tx: HallTx,
    *,
    case_number: str,
    case_token: str,
    level: int,
    reasons: list[str],
    comment: str,
    lang: str | None = None,
) -> Evaluation:
    """一事一评: evaluate a decided case once, online, by its number and the query code on its receipt (a refusal's
    second half in `lang`, else the case's language, else English)."""
    stored = check_choice(level, reasons, lang)
    lang = _check_case(tx.session, tx.hall, case_number, case_token, lang)
    if _existing(tx.session, hall=tx.hall, case=case_number):
        raise Conflict(both("该办件已评价", "This case has already been evaluated", lang, "ev_case_twice"))
    ev = Evaluation(
        hall_code=tx.hall,
        case_number=case_number,
        level=level,
        reasons=stored,
        comment=comment.strip(),
        channel="web",
        service_day=service_day(tx.now, tx.tz),
        created_at=tx.now,
    )
    return _store(tx, ev)


def pending_at_window(session: Session, hall: str, window: int, now: datetime, tz: tzinfo) -> TicketRow | None:
    """The oldest ticket this window completed within the pad's asking time (ASK) and not yet rated.

    The pad keeps asking about a completed service until it is rated or ASK passes, whatever the clerk
    does next: a later completion waits its turn instead of replacing the question."""
    done = tickets.select_tickets(
        session.connection(),
        col(Ticket.hall_code) == hall,
        col(Ticket.service_day) == service_day(now, tz),
        col(Ticket.window) == window,
        col(Ticket.status) == DONE,
        col(Ticket.finished_at) >= now - ASK,
        order=[col(Ticket.finished_at), col(Ticket.id)],
        limit=20,
    )
    for t in done:
        if not _existing(session, ticket_id=t.id):
            return t
    return None


def add_reasons(tx: HallTx, *, evaluation_id: int, window: int | None, reasons: list[str], comment: str) -> Evaluation:
    """The optional reasons (and comment) after a one-tap rating, from the device that recorded it, shortly after."""
    ev = tx.session.get(Evaluation, evaluation_id)
    if ev is None or ev.hall_code != tx.hall or ev.ticket_id is None:
        raise NotFound("没有这条评价 / No such evaluation")
    if ev.channel not in ("pad", "evaluator") or window is None or ev.window != window:
        raise Forbidden("只能补充本窗口评价器的评价 / Only this window's own rating can be completed here")
    if tx.now - ev.created_at > PAD_WINDOW:
        raise Conflict("评价已提交，不能再修改 / The rating is closed and can no longer be changed")
    ev.reasons = check_choice(ev.level, reasons)
    if comment.strip():
        ev.comment = comment.strip()
    tx.session.add(ev)
    if ev.service_day < service_day(tx.now, tx.tz):
        invalidate(tx.session, tx.hall, ev.service_day)
    return ev
