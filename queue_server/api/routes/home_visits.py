"""预约上门: requests from citizens (web, phone, kiosk), scheduling and closing by clerks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import Session, col

from ...models import HomeVisit
from ...ratelimit import PER_ADDRESS_HOUR, client_of
from ...services import home_visits as svc
from ..deps import CtxDep, OptionalPrincipalDep, PrincipalDep
from ..schemas import Text

router = APIRouter(prefix="/api/v1", tags=["home visits"])
Code = Annotated[str, Path(min_length=4, max_length=16, pattern="^[A-Za-z0-9]+$")]


class VisitRequest(BaseModel):
    """A citizen's request for a home visit."""

    queue: Text = Field(min_length=1, max_length=8)
    name: Text = Field(min_length=1, max_length=64)
    id_number: Text = Field(max_length=32)
    phone: Text = Field(max_length=32)
    address: Text = Field(min_length=1, max_length=200)
    reason: Text = Field(default="", max_length=200)
    disabled: bool = False


class VisitOut(BaseModel):
    """A home-visit request as its holder and staff see it (masked; the address only to staff, by reveal)."""

    code: str
    hall: str
    queue: str
    status: str
    reason: str
    name_masked: str
    id_number_masked: str
    phone_masked: str
    visit_at: datetime | None = None
    note: str = ""


class ScheduleBody(BaseModel):
    """When the clerk will visit."""

    visit_at: datetime


class NoteBody(BaseModel):
    """The outcome or the reason."""

    note: Text = Field(default="", max_length=200)


def _out(v: HomeVisit, tz: Any) -> VisitOut:
    return VisitOut(
        code=v.code,
        hall=v.hall_code,
        queue=v.queue,
        status=v.status,
        reason=v.reason,
        name_masked=v.name_masked,
        id_number_masked=v.id_masked,
        phone_masked=v.phone_masked,
        visit_at=v.visit_at.astimezone(tz) if v.visit_at else None,
        note=v.note,
    )


@router.post("/halls/{hall}/home-visits", status_code=201, response_model=VisitOut)
async def request_visit(
    hall: str, body: VisitRequest, request: Request, ctx: CtxDep, who: OptionalPrincipalDep
) -> VisitOut:
    """Ask for a home visit (seniors by the ID number's birth date, or citizens who are disabled)."""
    ctx.hall(hall)
    if who is None:
        await ctx.limiter.check(f"visit:{client_of(request)}", per_hour=10)
    else:
        who.require(hall, "kiosk", "clerk")
    fields = body.model_dump(include={"queue", "name", "id_number", "phone", "address", "reason", "disabled"})
    return await ctx.change(hall, lambda tx: _out(svc.request(tx, **fields), tx.tz))


@router.get("/halls/{hall}/home-visits", response_model=list[VisitOut])
async def list_visits(
    hall: str, ctx: CtxDep, who: PrincipalDep, status: Annotated[str | None, Query(max_length=16)] = None
) -> list[VisitOut]:
    """The hall's requests for staff, oldest first."""
    ctx.hall(hall)
    who.require(hall, "clerk", "auditor")

    def read(s: Session) -> list[HomeVisit]:
        stmt = select(HomeVisit).where(col(HomeVisit.hall_code) == hall)
        if status:
            stmt = stmt.where(col(HomeVisit.status) == status)
        return list(s.execute(stmt.order_by(col(HomeVisit.created_at))).scalars())

    return [_out(v, ctx.zones[hall]) for v in await ctx.read(read)]


async def _hall_of(ctx: CtxDep, code: str) -> str:
    v = await ctx.read(lambda s: svc.load(s, code))
    return v.hall_code


@router.get("/home-visits/{code}", response_model=VisitOut, tags=["public"])
async def get_visit(code: Code, request: Request, ctx: CtxDep) -> VisitOut:
    """A request by its code (the holder's proof; rate-limited per address)."""
    await ctx.limiter.check(f"visit-code:{client_of(request)}", per_hour=PER_ADDRESS_HOUR)
    v = await ctx.read(lambda s: svc.load(s, code))
    return _out(v, ctx.zones[v.hall_code])


@router.post("/home-visits/{code}/schedule", response_model=VisitOut)
async def schedule_visit(code: Code, body: ScheduleBody, ctx: CtxDep, who: PrincipalDep) -> VisitOut:
    """A clerk sets (or moves) the visit."""
    hall = await _hall_of(ctx, code)
    who.require(hall, "clerk")
    tz = ctx.zones[hall]
    at = body.visit_at if body.visit_at.tzinfo else body.visit_at.replace(tzinfo=tz)
    return await ctx.change(hall, lambda tx: _out(svc.schedule(tx, code=code, visit_at=at, clerk=who.name), tx.tz))


@router.post("/home-visits/{code}/complete", response_model=VisitOut)
async def complete_visit(code: Code, body: NoteBody, ctx: CtxDep, who: PrincipalDep) -> VisitOut:
    """The clerk records that the visit took place."""
    hall = await _hall_of(ctx, code)
    who.require(hall, "clerk")
    return await ctx.change(hall, lambda tx: _out(svc.complete(tx, code=code, note=body.note), tx.tz))


@router.post("/home-visits/{code}/reject", response_model=VisitOut)
async def reject_visit(code: Code, body: NoteBody, ctx: CtxDep, who: PrincipalDep) -> VisitOut:
    """A clerk declines the request with the reason."""
    hall = await _hall_of(ctx, code)
    who.require(hall, "clerk")
    return await ctx.change(hall, lambda tx: _out(svc.reject(tx, code=code, reason=body.note), tx.tz))


@router.post("/home-visits/{code}/cancel", response_model=VisitOut)
async def cancel_visit(code: Code, request: Request, ctx: CtxDep, who: OptionalPrincipalDep) -> VisitOut:
    """The citizen (with the code) or a clerk withdraws the request."""
    if who is None:
        await ctx.limiter.check(f"visit-code:{client_of(request)}", per_hour=PER_ADDRESS_HOUR)
    hall = await _hall_of(ctx, code)
    if who is not None:
        who.require(hall, "clerk", "kiosk")
    return await ctx.change(hall, lambda tx: _out(svc.cancel(tx, code=code), tx.tz))
