"""帮办代办 ledger routes: records (the window's clerks write, supervisors read), key projects with milestones,
the month's statistics, and the ledger as CSV or XLSX."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from ..api.deps import CtxDep, PrincipalDep
from ..api.routes.console import CONSOLE_DIR, PAGE_HEADERS
from ..api.schemas import Text
from ..context import HallContext
from ..errors import Invalid, NotFound
from ..services.tx import HallTx
from ..timeutil import utcnow
from . import ledger
from .items import current
from .service import check_staff

router = APIRouter(prefix="/api/v1", tags=["cases"])
pages = APIRouter(tags=["pages"])
WRITERS = ("clerk",)
READERS = ("clerk", "approver", "auditor")
Month = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM (default: this month)")]


class RecordBody(BaseModel):
    """One assisted case."""

    day: date | None = None  # default: today
    kind: Literal["assist", "proxy"]
    person: Text = Field(min_length=1, max_length=64)
    phone: Text | None = Field(default=None, max_length=32)
    organisation: Text = Field(default="", max_length=100)
    item: str | None = Field(default=None, max_length=32, description="catalogue item code")
    project_id: int | None = None
    case_number: str | None = Field(default=None, max_length=24, pattern=r"^[0-9]+$")
    minutes: int = Field(ge=1, le=24 * 60)
    outcome: Literal["done", "referred", "pending", "advice"]
    note: Text = Field(default="", max_length=500)


class ProjectBody(BaseModel):
    """A key project under full-process proxy service."""

    name: Text = Field(min_length=1, max_length=100)
    organisation: Text = Field(min_length=1, max_length=100)
    owner: str | None = Field(default=None, max_length=64)


class MilestoneBody(BaseModel):
    """A milestone of a key project."""

    name: Text = Field(min_length=1, max_length=100)
    due: date
    note: Text = Field(default="", max_length=300)


class DoneBody(BaseModel):
    """When a milestone was reached (default: today)."""

    day: date | None = None


def _today(ctx: HallContext, hall: str) -> date:
    return utcnow().astimezone(ctx.zones[hall]).date()


@router.post("/halls/{hall}/assist/records", status_code=201)
async def add_record(hall: str, body: RecordBody, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """Record an assisted or proxy-served case (a clerk of the hall: the 帮办代办 window)."""
    ctx.hall(hall)
    check_staff(who, hall, *WRITERS)
    day = body.day or _today(ctx, hall)

    def run(tx: HallTx) -> dict[str, Any]:
        name = ""
        if body.item:
            name = current(tx.session, body.item).name  # 404 for an unknown item
        fields = body.model_dump(exclude={"day", "item"})  # the rest are RecordIn's own fields
        r = ledger.RecordIn(day=day, item_code=body.item, item_name=name, **fields)
        return ledger.record_view(ledger.add_record(tx, r=r, who=who, cipher=tx.pii), {})

    return await ctx.change(hall, run)


def _views(s: Session, hall: str, month: str) -> list[dict[str, Any]]:
    first, last = ledger.month_range(month)
    names = {p.id or 0: p.name for p in ledger.projects(s, hall)}
    return [ledger.record_view(r, names) for r in ledger.records(s, hall, first, last)]


@router.get("/halls/{hall}/assist/records")
async def list_records(hall: str, ctx: CtxDep, who: PrincipalDep, month: Month = None) -> list[dict[str, Any]]:
    """The month's ledger (persons masked)."""
    ctx.hall(hall)
    check_staff(who, hall, *READERS)
    m = month or _today(ctx, hall).strftime("%Y-%m")
    return await ctx.read(lambda s: _views(s, hall, m))


@router.get("/halls/{hall}/assist/stats")
async def stats(hall: str, ctx: CtxDep, who: PrincipalDep, month: Month = None) -> dict[str, Any]:
    """The month's statistics the hall reports."""
    ctx.hall(hall)
    check_staff(who, hall, *READERS)
    today = _today(ctx, hall)
    m = month or today.strftime("%Y-%m")
    return await ctx.read(lambda s: ledger.month_stats(s, hall, m, today), report=True)


@router.get("/halls/{hall}/assist/records.{fmt}", response_class=Response)
async def export(
    hall: str, fmt: Literal["csv", "xlsx"], ctx: CtxDep, who: PrincipalDep, month: Month = None
) -> Response:
    """The month's ledger as CSV, or as XLSX with a sheet of statistics."""
    ctx.hall(hall)
    check_staff(who, hall, *READERS)
    today = _today(ctx, hall)
    m = month or today.strftime("%Y-%m")
    views, st = await ctx.read(lambda s: (_views(s, hall, m), ledger.month_stats(s, hall, m, today)), report=True)
    headers = {"Content-Disposition": f'attachment; filename="assist-ledger-{hall}-{m}.{fmt}"'}
    if fmt == "csv":
        return Response(ledger.to_csv(views), media_type="text/csv; charset=utf-8", headers=headers)
    body = await anyio.to_thread.run_sync(lambda: ledger.to_xlsx(views, st))
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=xlsx, headers=headers)


@router.post("/halls/{hall}/assist/projects", status_code=201)
async def add_project(hall: str, body: ProjectBody, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """A key project under full-process proxy service (a clerk of the hall)."""
    ctx.hall(hall)
    check_staff(who, hall, *WRITERS)
    today = _today(ctx, hall)

    def run(tx: HallTx) -> dict[str, Any]:
        p = ledger.add_project(tx, name=body.name, organisation=body.organisation, owner=body.owner, who=who)
        return ledger.project_view(tx.session, p, today)

    return await ctx.change(hall, run)


@router.get("/halls/{hall}/assist/projects")
async def list_projects(hall: str, ctx: CtxDep, who: PrincipalDep) -> list[dict[str, Any]]:
    """The hall's key projects with their milestones (late ones marked)."""
    ctx.hall(hall)
    check_staff(who, hall, *READERS)
    today = _today(ctx, hall)
    return await ctx.read(lambda s: [ledger.project_view(s, p, today) for p in ledger.projects(s, hall)])


@router.post("/assist/projects/{project_id}/milestones", status_code=201)
async def add_milestone(project_id: int, body: MilestoneBody, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """A milestone of a key project (a clerk of its hall)."""
    hall = await ctx.read(lambda s: ledger.project_of(s, project_id).hall_code)
    check_staff(who, hall, *WRITERS)
    today = _today(ctx, hall)

    def run(tx: HallTx) -> dict[str, Any]:
        ledger.add_milestone(tx, project_id=project_id, name=body.name, due=body.due, note=body.note)
        return ledger.project_view(tx.session, ledger.project_of(tx.session, project_id), today)

    return await ctx.change(hall, run)


@router.post("/assist/projects/{project_id}/milestones/{milestone_id}/done")
async def reach_milestone(
    project_id: int, milestone_id: int, body: DoneBody, ctx: CtxDep, who: PrincipalDep
) -> dict[str, Any]:
    """A milestone reached (a clerk of the project's hall); the project is done with its last one."""
    hall = await ctx.read(lambda s: ledger.project_of(s, project_id).hall_code)
    check_staff(who, hall, *WRITERS)
    today = _today(ctx, hall)

    def run(tx: HallTx) -> dict[str, Any]:
        if body.day is not None and body.day > today:
            raise Invalid("完成日期不能晚于今天 / The day cannot be in the future")
        m = ledger.reach_milestone(tx, milestone_id=milestone_id, day=body.day or today)
        if m.project_id != project_id:
            raise NotFound("没有这个节点 / No such milestone")
        return ledger.project_view(tx.session, ledger.project_of(tx.session, project_id), today)

    return await ctx.change(hall, run)


@pages.get("/console/assist", include_in_schema=False)
async def ledger_page() -> Response:
    """The ledger's staff page (its data comes from the routes above with the user's token)."""
    return FileResponse(CONSOLE_DIR / "assist.html", media_type="text/html", headers=PAGE_HEADERS)
