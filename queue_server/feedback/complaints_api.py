"""HTTP routes of complaints (吐槽找茬 / 投诉受理): submit, follow by code, route, answer, close."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import Session, col

from ..api.deps import CtxDep, OptionalPrincipalDep, PrincipalDep, asked_in, json_response
from ..api.schemas import MAX_ID, Text
from ..calendar import Calendar
from ..models import UserAccount
from ..ratelimit import guard_proof
from ..services.auth import Principal
from ..services.tx import HallRead, HallTx
from . import complaints as complaints_svc
from .deadlines import deadline_day, working_days_left
from .models import Complaint

router = APIRouter(prefix="/api/v1", tags=["complaints"])
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
PUBLIC_PER_HOUR = 20


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


class ComplaintIn(BaseModel):
    """A complaint; leave name and phone empty to stay anonymous."""

    category: Text = Field(max_length=16)
    content: Text = Field(min_length=1, max_length=2000)
    name: Text = Field(default="", max_length=64)
    phone: Text = Field(default="", max_length=32)


class ComplaintOut(BaseModel):
    """A complaint as staff see it (name and phone masked)."""

    id: int
    code: str
    hall: str
    channel: str
    category: str
    content: str
    anonymous: bool
    name_masked: str | None
    phone_masked: str | None
    status: str
    handler: str | None
    answer: str
    deadline: datetime
    deadline_day: date = Field(description="the last working day to answer, on the hall's calendar")
    working_days_left: int = Field(description="working days after today until the deadline; < 0: overdue")
    overdue: bool
    reply_via: str = Field(description='"sms": the answer goes to the phone left; "code": read with the reference')
    created_at: datetime
    answered_at: datetime | None
    closed_at: datetime | None


class Handler(BaseModel):
    """A staff user a complaint may be routed to."""

    username: str
    display_name: str
    role: str


class ComplaintStatus(BaseModel):
    """What the citizen sees by the reference code and the query code."""

    code: str
    category: str
    status: str
    answer: str
    created_at: datetime
    deadline: datetime
    query_code: str | None = Field(
        default=None, description="only in the submission's answer: with the code, the proof to read the answer"
    )


class AssignIn(BaseModel):
    """Whom to route the complaint to."""

    handler: Text = Field(min_length=1, max_length=64)


class AnswerIn(BaseModel):
    """The answer to the citizen."""

    answer: Text = Field(min_length=1, max_length=1000)


def _complaint_out(c: Complaint, tz: Any, now: datetime, cal: Calendar) -> ComplaintOut:
    assert c.id is not None
    return ComplaintOut(
        id=c.id, code=c.code, hall=c.hall_code, channel=c.channel, category=c.category, content=c.content,
        anonymous=c.anonymous, name_masked=c.name_masked, phone_masked=c.phone_masked, status=c.status,
        handler=c.handler, answer=c.answer, deadline=c.deadline.astimezone(tz),
        deadline_day=deadline_day(cal, c.deadline), working_days_left=working_days_left(cal, now, c.deadline),
        overdue=c.status in complaints_svc.OPEN and now > c.deadline, created_at=c.created_at.astimezone(tz),
        reply_via="sms" if c.phone_enc else "code",
        answered_at=c.answered_at.astimezone(tz) if c.answered_at else None,
        closed_at=c.closed_at.astimezone(tz) if c.closed_at else None,
    )  # fmt: skip


def _changed(tx: HallTx, c: Complaint) -> ComplaintOut:
    """A changed complaint as staff see it, built inside its transaction."""
    return _complaint_out(c, tx.tz, tx.now, tx.hall_calendar)


def _worklist_order(c: ComplaintOut) -> tuple[int, datetime, int]:
    """Overdue first, then open ones by deadline, then closed ones (latest first is not needed: by id)."""
    rank = 0 if c.overdue else 1 if c.status in complaints_svc.OPEN else 2
    return rank, c.deadline if rank < 2 else c.created_at, c.id


def _status(c: Complaint, tz: Any) -> ComplaintStatus:
    return ComplaintStatus(
        code=c.code, category=c.category, status=c.status, answer=c.answer,
        created_at=c.created_at.astimezone(tz), deadline=c.deadline.astimezone(tz),
    )  # fmt: skip


@router.post("/halls/{hall}/complaints", status_code=201, response_model=ComplaintStatus)
async def submit_complaint(
    hall: str,
    body: ComplaintIn,
    request: Request,
    ctx: CtxDep,
    who: OptionalPrincipalDep,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> Response:
    """吐槽找茬 / 投诉: from the kiosk (its token) or the web (rate-limited); anonymous unless name/phone given.

    Repeating the same `Idempotency-Key` returns the first complaint's status (200), not a second complaint.
    """
    ctx.hall(hall)
    if who is None:
        await ctx.limiter.check(f"complaint:{_client(request)}", per_hour=PUBLIC_PER_HOUR)
        channel = "web"
    else:
        who.require(hall, "kiosk")
        channel = "kiosk"

    def once(tx: HallTx) -> tuple[ComplaintStatus, bool]:
        prior = complaints_svc.submitted_with_key(tx, idempotency_key) if idempotency_key else None
        created = prior is None
        c = prior or complaints_svc.submit(
            tx, channel=channel, category=body.category, content=body.content, name=body.name, phone=body.phone,
            idempotency_key=idempotency_key, lang=asked_in(request),
        )  # fmt: skip
        proof = complaints_svc.proof_of(tx.pii, c.code)
        return _status(c, tx.tz).model_copy(update={"query_code": proof}), created

    out, created = await ctx.change(hall, once)
    return json_response(out, 201 if created else 200)


@router.get("/complaints/{code}", response_model=ComplaintStatus, tags=["public"])
async def complaint_status(
    code: Annotated[str, Path(min_length=4, max_length=16)],
    request: Request,
    ctx: CtxDep,
    proof: Annotated[str, Query(min_length=4, max_length=16)],
) -> ComplaintStatus:
    """The citizen follows a complaint: its reference code and their proof (the query code given at
    submission, or the last four digits of the phone they left). Rate-limited per address and per code."""
    await guard_proof(ctx.limiter, request, "complaint-query", code.strip().upper())
    c = await ctx.read(lambda s: complaints_svc.by_proof(s, ctx.cipher, code, proof, asked_in(request)))
    return _status(c, ctx.zones.get(c.hall_code))


# Who may see complaints: the hall's supervisors (approver, auditor; admin everywhere) see them all; a clerk
# sees only those routed to them (the assignee). Routing and closing: approver (and admin); answering: the
# assignee, an approver or admin. The auditor reads only.
SUPERVISORS = ("approver", "auditor")
ROUTERS = ("approver",)
HANDLER_ROLES = complaints_svc.HANDLER_ROLES


def _can_see_complaints(who: Principal, hall: str) -> None:
    who.require(hall, *SUPERVISORS, "clerk")


@router.get("/halls/{hall}/complaints", response_model=list[ComplaintOut])
async def list_complaints(
    hall: str, ctx: CtxDep, who: PrincipalDep, status: Annotated[str | None, Query(max_length=16)] = None
) -> list[ComplaintOut]:
    """The hall's complaints for staff (a clerk sees those routed to them): overdue first, then open ones by
    deadline (working days of the hall's calendar), then closed ones."""
    ctx.hall(hall)
    _can_see_complaints(who, hall)

    def read(r: HallRead) -> list[ComplaintOut]:
        stmt = select(Complaint).where(col(Complaint.hall_code) == hall)
        if status:
            stmt = stmt.where(col(Complaint.status) == status)
        if who.role == "clerk":
            stmt = stmt.where(col(Complaint.handler) == who.name)
        found = r.session.execute(stmt.order_by(col(Complaint.id))).scalars()
        return sorted((_complaint_out(c, r.tz, r.now, r.hall_calendar) for c in found), key=_worklist_order)

    return await ctx.read_hall(hall, read)


@router.post("/halls/{hall}/complaints/{item}/assign", response_model=ComplaintOut)
async def assign_complaint(hall: str, item: ItemId, body: AssignIn, ctx: CtxDep, who: PrincipalDep) -> ComplaintOut:
    """Route a complaint to a handler (a staff user of the hall)."""
    ctx.hall(hall)
    who.require(hall, *ROUTERS)
    return await ctx.change(
        hall, lambda tx: _changed(tx, complaints_svc.assign(tx, complaint_id=item, handler=body.handler))
    )


@router.post("/halls/{hall}/complaints/{item}/answer", response_model=ComplaintOut)
async def answer_complaint(hall: str, item: ItemId, body: AnswerIn, ctx: CtxDep, who: PrincipalDep) -> ComplaintOut:
    """The handler answers; a citizen who left a phone number gets the answer by message."""
    ctx.hall(hall)
    who.require(hall, "approver", "clerk")
    is_admin = who.role in ("admin", "approver")

    def run(tx: HallTx) -> ComplaintOut:
        return _changed(
            tx, complaints_svc.answer(tx, complaint_id=item, text=body.answer, actor=who.name, is_admin=is_admin)
        )

    return await ctx.change(hall, run)


@router.post("/halls/{hall}/complaints/{item}/close", response_model=ComplaintOut)
async def close_complaint(hall: str, item: ItemId, ctx: CtxDep, who: PrincipalDep) -> ComplaintOut:
    """Close an answered complaint (办结)."""
    ctx.hall(hall)
    who.require(hall, *ROUTERS)
    return await ctx.change(hall, lambda tx: _changed(tx, complaints_svc.close(tx, complaint_id=item)))


@router.get("/halls/{hall}/complaint-handlers", response_model=list[Handler])
async def complaint_handlers(hall: str, ctx: CtxDep, who: PrincipalDep) -> list[Handler]:
    """The staff a complaint may be routed to (clerks and approvers of the hall, admins), for the router."""
    ctx.hall(hall)
    who.require(hall, *ROUTERS)

    def read(s: Session) -> list[Handler]:
        stmt = (
            select(UserAccount)
            .where(col(UserAccount.active), col(UserAccount.role).in_(HANDLER_ROLES))
            .order_by(col(UserAccount.role), col(UserAccount.username))
        )
        users = [u for u in s.execute(stmt).scalars() if u.role == "admin" or u.hall_code == hall]
        users.sort(key=lambda u: (HANDLER_ROLES.index(u.role), u.username))  # clerks first, admins last
        return [Handler(username=u.username, display_name=u.display_name, role=u.role) for u in users]

    return await ctx.read(read)
