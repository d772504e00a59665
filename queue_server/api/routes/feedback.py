"""好差评 evaluations, bad-review follow-ups and complaints; the reports and pages are included from feedback/."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import Session, col

from ...citizen_text import OTHER_LANGS
from ...errors import Forbidden, Invalid
from ...feedback import evaluations as eval_svc
from ...feedback import followups as fu_svc
from ...feedback.catalogue import catalogue
from ...feedback.complaints_api import router as complaints_router
from ...feedback.models import Evaluation, FollowUp
from ...feedback.pages import router as pages_router
from ...feedback.reports_api import router as reports_router
from ...ratelimit import guard_proof
from ...services.tx import HallTx
from ...timeutil import utcnow
from ..deps import CtxDep, OptionalPrincipalDep, PrincipalDep, asked_in
from ..schemas import MAX_ID, Text, WindowNo

api = APIRouter(prefix="/api/v1", tags=["feedback"])
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
SUPERVISORS = ("approver", "auditor")  # (admin always passes) who reads feedback and reports
PUBLIC_PER_HOUR = 20


class EvaluationIn(BaseModel):
    """An evaluation: a device names the ticket, the citizen online gives the ticket's track token or a case."""

    level: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    reasons: list[Annotated[str, Field(max_length=16)]] = Field(default_factory=list, max_length=10)
    comment: Text = Field(default="", max_length=500)
    ticket_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    track_token: Text | None = Field(default=None, max_length=64)
    case_number: Text | None = Field(default=None, min_length=1, max_length=32)
    case_token: Text = Field(default="", max_length=32, description="the query code on the case's receipt")
    channel: Literal["pad", "evaluator"] | None = None


class ReasonsIn(BaseModel):
    """The optional reasons after a one-tap rating at the window (the level stays as tapped)."""

    reasons: list[Annotated[str, Field(max_length=16)]] = Field(default_factory=list, max_length=10)
    comment: Text = Field(default="", max_length=500)


class EvaluationOut(BaseModel):
    """A stored evaluation (no personal data)."""

    id: int
    hall: str
    ticket_id: int | None
    ticket_number: str
    case_number: str | None
    window: int | None
    clerk: str | None
    level: int
    reasons: list[str]
    comment: str
    channel: str
    service_day: date
    created_at: datetime
    followup_id: int | None = None


class FollowUpOut(BaseModel):
    """A bad review's follow-up with who did each step and when."""

    id: int
    status: str
    deadline: datetime
    overdue: bool
    opened_at: datetime
    evaluation: EvaluationOut
    steps: list[dict[str, Any]]


class NoteIn(BaseModel):
    """The note of a follow-up step (what was found, done, or told to the citizen)."""

    note: Text = Field(default="", max_length=500)


def _eval_out(e: Evaluation, tz: Any, followup_id: int | None = None) -> EvaluationOut:
    assert e.id is not None
    return EvaluationOut(
        id=e.id,
        hall=e.hall_code,
        ticket_id=e.ticket_id,
        ticket_number=e.ticket_number,
        case_number=e.case_number,
        window=e.window,
        clerk=e.clerk,
        level=e.level,
        reasons=[r for r in e.reasons.split(",") if r],
        comment=e.comment,
        channel=e.channel,
        service_day=e.service_day,
        created_at=e.created_at.astimezone(tz),
        followup_id=followup_id,
    )


def _followup_id(s: Session, evaluation_id: int | None) -> int | None:
    return s.execute(select(col(FollowUp.id)).where(col(FollowUp.evaluation_id) == evaluation_id)).scalar()


def _evaluated(tx: HallTx, e: Evaluation) -> EvaluationOut:
    """The answer to an evaluation, built inside its transaction (with the follow-up a bad one opened)."""
    return _eval_out(e, tx.tz, _followup_id(tx.session, e.id))


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


@api.get("/feedback/catalogue", tags=["public"])
def get_catalogue() -> dict[str, object]:
    """Levels, reason codes, complaint categories and states, in Chinese and English."""
    return catalogue()


@api.post("/halls/{hall}/evaluations", status_code=201, response_model=EvaluationOut)
async def evaluate(
    hall: str, body: EvaluationIn, request: Request, ctx: CtxDep, who: OptionalPrincipalDep
) -> EvaluationOut:
    """一次一评 at the window (pad or evaluator device) or online by track token; 一事一评 by case number."""
    ctx.hall(hall)
    if who is not None and who.kind == "device":
        who.require(hall, "display", "kiosk")
        if body.ticket_id is None:
            raise Invalid("请指定票号 / ticket_id is required")
        ticket_id, window = body.ticket_id, who.window
        channel = body.channel or "pad"
        return await ctx.change(
            hall,
            lambda tx: _evaluated(tx, eval_svc.evaluate_ticket(
                tx, level=body.level, reasons=body.reasons, comment=body.comment,
                channel=channel, ticket_id=ticket_id, window=window,
            )),
        )  # fmt: skip
    elif who is not None:
        raise Forbidden("评价由群众本人提交 / Evaluations come from citizens, not staff")
    else:
        await ctx.limiter.check(f"evaluate:{_client(request)}", per_hour=PUBLIC_PER_HOUR)
        lang = asked_in(request)
        if (body.track_token is None) == (body.case_number is None):
            raise Invalid("请提供票据链接或办件编号之一 / Give exactly one of track_token or case_number")
        if body.track_token is not None:
            token = body.track_token
            return await ctx.change(
                hall,
                lambda tx: _evaluated(tx, eval_svc.evaluate_ticket(
                    tx, level=body.level, reasons=body.reasons, comment=body.comment,
                    channel="web", track_token=token, lang=lang,
                )),
            )  # fmt: skip
        else:
            number = body.case_number or ""
            await guard_proof(ctx.limiter, request, "case-query", number.strip().upper())
            return await ctx.change(
                hall,
                lambda tx: _evaluated(tx, eval_svc.evaluate_case(
                    tx, case_number=number, case_token=body.case_token,
                    level=body.level, reasons=body.reasons, comment=body.comment, lang=lang,
                )),
            )  # fmt: skip


@api.post("/halls/{hall}/evaluations/{item}/reasons", response_model=EvaluationOut)
async def evaluation_reasons(hall: str, item: ItemId, body: ReasonsIn, ctx: CtxDep, who: PrincipalDep) -> EvaluationOut:
    """The optional reasons of a rating the window's pad recorded with one tap (same device, shortly after)."""
    ctx.hall(hall)
    who.require(hall, "display", "kiosk")
    return await ctx.change(
        hall,
        lambda tx: _evaluated(tx, eval_svc.add_reasons(
            tx, evaluation_id=item, window=who.window, reasons=body.reasons, comment=body.comment
        )),
    )  # fmt: skip


@api.get("/halls/{hall}/windows/{number}/evaluation", responses={204: {"description": "nothing to evaluate"}})
async def pending_evaluation(hall: str, number: WindowNo, ctx: CtxDep, who: PrincipalDep) -> Response:
    """The oldest service this window completed within the pad's asking time and not yet rated (`remaining_s`
    of that time left): what the pad asks about after a reload, or next after a rating. `lang` is the ticket's
    language when the hall offers it besides Chinese and English (the pad's second line), else null."""
    h = ctx.hall(hall)
    who.require(hall, "display", "kiosk")
    tz = ctx.zones[hall]
    now = utcnow()
    t = await ctx.read(lambda s: eval_svc.pending_at_window(s, hall, number, now, tz))
    if t is None or t.finished_at is None:
        return Response(status_code=204)
    left = max(1, round((t.finished_at + eval_svc.ASK - now).total_seconds()))
    lang = t.lang if t.lang in OTHER_LANGS and t.lang in h.languages else None
    return JSONResponse({"ticket_id": t.id, "number": t.number, "window": number, "remaining_s": left, "lang": lang})


@api.get("/halls/{hall}/evaluations", response_model=list[EvaluationOut])
async def list_evaluations(
    hall: str,
    ctx: CtxDep,
    who: PrincipalDep,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    level: Annotated[int | None, Query(ge=1, le=5)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[EvaluationOut]:
    """Evaluations of the hall, newest first (supervisors)."""
    ctx.hall(hall)
    who.require(hall, *SUPERVISORS)
    tz = ctx.zones[hall]

    def read(s: Session) -> list[EvaluationOut]:
        stmt = select(Evaluation).where(col(Evaluation.hall_code) == hall)
        if date_from:
            stmt = stmt.where(col(Evaluation.service_day) >= date_from)
        if date_to:
            stmt = stmt.where(col(Evaluation.service_day) <= date_to)
        if level:
            stmt = stmt.where(col(Evaluation.level) == level)
        rows = s.execute(stmt.order_by(col(Evaluation.id).desc()).limit(limit)).scalars()
        return [_eval_out(e, tz) for e in rows]

    return await ctx.read(read)


def _fu_out(f: FollowUp, e: Evaluation, tz: Any, now: datetime) -> FollowUpOut:
    assert f.id is not None
    steps = [
        {"step": name, "at": at.astimezone(tz) if at else None, "by": by, "note": note}
        for name, at, by, note in (
            ("verified", f.verified_at, f.verified_by, f.verify_note),
            ("rectified", f.rectified_at, f.rectified_by, f.rectify_note),
            ("replied", f.replied_at, f.replied_by, f.reply_text),
            ("closed", f.closed_at, f.closed_by, ""),
        )
        if at is not None
    ]
    return FollowUpOut(
        id=f.id,
        status=f.status,
        deadline=f.deadline.astimezone(tz),
        overdue=fu_svc.is_overdue(f, now),
        opened_at=f.opened_at.astimezone(tz),
        evaluation=_eval_out(e, tz, f.id),
        steps=steps,
    )


@api.get("/halls/{hall}/followups", response_model=list[FollowUpOut])
async def list_followups(
    hall: str, ctx: CtxDep, who: PrincipalDep, open_only: Annotated[bool, Query(alias="open")] = True
) -> list[FollowUpOut]:
    """差评跟进: the hall's bad-review follow-ups, earliest deadline first, with overdue flags."""
    ctx.hall(hall)
    who.require(hall, *SUPERVISORS)
    tz, now = ctx.zones[hall], utcnow()
    rows = await ctx.read(lambda s: fu_svc.list_followups(s, hall, open_only=open_only))
    return [_fu_out(f, e, tz, now) for f, e in rows]


@api.post("/halls/{hall}/followups/{item}/{step}", response_model=FollowUpOut)
async def followup_step(
    hall: str, item: ItemId, step: Literal["verify", "rectify", "reply", "close"], body: NoteIn,
    ctx: CtxDep, who: PrincipalDep,
) -> FollowUpOut:  # fmt: skip
    """Verify 核实 · rectify 整改 · reply 反馈 · close 办结, in this order (409 otherwise)."""
    ctx.hall(hall)
    who.require(hall, "approver")

    def run(tx: HallTx) -> FollowUpOut:
        f = fu_svc.advance(tx, followup_id=item, step=step, actor=who.name, note=body.note)
        e = tx.session.get(Evaluation, f.evaluation_id)
        assert e is not None
        return _fu_out(f, e, tx.tz, tx.now)

    return await ctx.change(hall, run)


router = APIRouter()
router.include_router(api)
router.include_router(complaints_router)
router.include_router(reports_router)
router.include_router(pages_router)
