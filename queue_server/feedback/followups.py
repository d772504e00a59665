"""差评核实、整改、反馈: the follow-up of a bad review, opened → verified → rectified → replied → closed."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlmodel import Session, col

from ..errors import Conflict, Invalid, NotFound
from ..models import Ticket
from ..notify import enqueue, messages
from ..services.tx import HallTx
from .models import Evaluation, FollowUp

# step -> (status it applies to, status after)
STEPS: Final[dict[str, tuple[str, str]]] = {
    "verify": ("opened", "verified"),
    "rectify": ("verified", "rectified"),
    "reply": ("rectified", "replied"),
    "close": ("replied", "closed"),
}
OPEN: Final = ("opened", "verified", "rectified", "replied")


def advance(tx: HallTx, *, followup_id: int, step: str, actor: str, note: str) -> FollowUp:
    """Take one step of the follow-up; 409 when it does not follow the current status."""
    if step not in STEPS:
        raise NotFound(f"没有这个步骤 / No step '{step}'")
    fu = tx.session.get(FollowUp, followup_id)
    if fu is None or fu.hall_code != tx.hall:
        raise NotFound("没有这条差评跟进 / No such follow-up")
    before, after = STEPS[step]
    if fu.status != before:
        raise Conflict(f"当前状态为 {fu.status}，不能执行 {step} / Cannot {step} a follow-up that is {fu.status}")
    note = note.strip()
    if step in ("verify", "rectify", "reply") and not note:
        raise Invalid("请填写说明 / A note is required for this step")
    now = tx.now
    if step == "verify":
        fu.verified_at, fu.verified_by, fu.verify_note = now, actor, note
    elif step == "rectify":
        fu.rectified_at, fu.rectified_by, fu.rectify_note = now, actor, note
    elif step == "reply":
        fu.replied_at, fu.replied_by, fu.reply_text = now, actor, note
        _tell_citizen(tx, fu, note)
    else:
        fu.closed_at, fu.closed_by = now, actor
    fu.status = after
    tx.session.flush()
    tx.emit("followup.changed", {"id": fu.id, "evaluation": fu.evaluation_id, "status": fu.status})
    return fu


def _tell_citizen(tx: HallTx, fu: FollowUp, text: str) -> None:
    """Send the reply to the phone the ticket was taken with, if any (silent-calling outbox)."""
    ev = tx.session.get(Evaluation, fu.evaluation_id)
    if ev is None or ev.ticket_id is None:
        return
    t = tx.session.get(Ticket, ev.ticket_id)
    if t is None or not t.phone_enc:
        return
    body = messages.feedback_reply(t.number, text, lang=t.lang)
    params = {"reference": t.number, "answer": text}
    enqueue(tx, kind="feedback_reply", ticket=t.number, phone_enc=t.phone_enc, text=body, params=params)


def list_followups(session: Session, hall: str, *, open_only: bool) -> list[tuple[FollowUp, Evaluation]]:
    """The hall's follow-ups with their evaluations, oldest deadline first."""
    stmt = (
        select(FollowUp, Evaluation)
        .join(Evaluation, col(Evaluation.id) == col(FollowUp.evaluation_id))
        .where(col(FollowUp.hall_code) == hall)
    )
    if open_only:
        stmt = stmt.where(col(FollowUp.status).in_(OPEN))
    return [(f, e) for f, e in session.execute(stmt.order_by(col(FollowUp.deadline), col(FollowUp.id))).all()]


def is_overdue(fu: FollowUp, now: datetime) -> bool:
    """Open past its deadline (a closed one is overdue if it was closed late: shown, not flagged)."""
    return fu.status in OPEN and now > fu.deadline
