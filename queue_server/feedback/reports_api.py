"""HTTP routes of the statistics (R15): summaries by grouping and range, charts' series, CSV/XLSX export."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Query, Response

from ..api.deps import CtxDep, PrincipalDep
from ..context import HallContext
from ..errors import Invalid
from ..timeutil import service_day, utcnow
from . import reports
from .cases_report import cases_by_colour
from .export import LANES, to_csv, to_xlsx
from .figures import Figures

router = APIRouter(prefix="/api/v1/halls/{hall}/reports", tags=["reports"])
Group = Literal["hall", "queue", "window", "clerk", "lane", "hour", "day"]
From = Annotated[date | None, Query(alias="from", description="first service day (default: today)")]
To = Annotated[date | None, Query(alias="to", description="last service day, inclusive (default: from)")]
READERS = ("approver", "auditor")  # and admin


def _range(ctx: HallContext, hall: str, start: date | None, end: date | None) -> tuple[date, date, date]:
    today = service_day(utcnow(), ctx.zones[hall])
    start = start or today
    end = end or start
    if end < start:
        raise Invalid("结束日期早于开始日期 / 'to' is before 'from'")
    if (end - start).days >= reports.MAX_DAYS:
        raise Invalid(f"日期范围过长（最多{reports.MAX_DAYS}天）/ Range longer than {reports.MAX_DAYS} days")
    return start, end, today


async def _summary(ctx: HallContext, hall: str, start: date, end: date, group: str, today: date) -> dict[str, Any]:
    tz = ctx.zones[hall]
    missing = 0
    if (end - start).days >= reports.EXACT_DAYS:
        missing = await anyio.to_thread.run_sync(
            lambda: reports.ensure_rollups(ctx.db, hall, start, end, today, tz, report=True)
        )
    # rollups just built on the primary may not be on the replica yet: then this report reads the primary
    return await ctx.read(
        lambda s: reports.summary(s, hall=hall, start=start, end=end, group=group, tz=tz, today=today),
        report=not missing,
    )


@router.get("/summary")
async def summary(
    hall: str, ctx: CtxDep, who: PrincipalDep, date_from: From = None, date_to: To = None, group: Group = "hall"
) -> dict[str, Any]:
    """Tickets, abandonment, wait and service mean/median/p90, evaluations and satisfaction by one grouping."""
    ctx.hall(hall)
    who.require(hall, *READERS)
    start, end, today = _range(ctx, hall, date_from, date_to)
    return await _summary(ctx, hall, start, end, group, today) | {"labels": _labels(ctx, hall, group)}


@router.get("/summary.{fmt}", response_class=Response)
async def export(
    hall: str,
    fmt: Literal["csv", "xlsx"],
    ctx: CtxDep,
    who: PrincipalDep,
    date_from: From = None,
    date_to: To = None,
    group: Group = "hall",
) -> Response:
    """The same summary as a CSV or XLSX download."""
    ctx.hall(hall)
    who.require(hall, *READERS)
    start, end, today = _range(ctx, hall, date_from, date_to)
    report = await _summary(ctx, hall, start, end, group, today) | {"labels": _labels(ctx, hall, group)}
    name = f"report-{hall}-{group}-{start}-{end}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return Response(to_csv(report), media_type="text/csv; charset=utf-8", headers=headers)
    body = await anyio.to_thread.run_sync(lambda: to_xlsx(report))
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=xlsx, headers=headers)


def _labels(ctx: HallContext, hall: str, group: str) -> dict[str, str]:
    """How the page names each group's key, for the export to read like the page (1号窗口, not "1")."""
    h = ctx.hall(hall)
    if group == "window":
        return {str(w.number): f"{w.number}号窗口 / Window {w.number}" for w in h.windows}
    if group == "queue":
        return {q.code: f"{q.code} {q.name} / {q.name_en}" for q in h.queues}
    if group == "clerk":
        return {u.username: u.display_name or u.username for u in ctx.config.users}
    if group == "hour":
        return {str(n): f"{n:02d}:00" for n in range(24)}
    if group == "lane":
        return dict(LANES)
    return {}


@router.get("/queue-length")
async def queue_length(
    hall: str,
    ctx: CtxDep,
    who: PrincipalDep,
    day: Annotated[date | None, Query(alias="date")] = None,
    step: Annotated[int, Query(ge=5, le=60)] = 15,
) -> dict[str, Any]:
    """How many were waiting through one day (chart: queue length through the day)."""
    ctx.hall(hall)
    who.require(hall, *READERS)
    tz = ctx.zones[hall]
    d = day or service_day(utcnow(), tz)
    points = await ctx.read(lambda s: reports.queue_length(s, hall=hall, day=d, tz=tz, step_min=step), report=True)
    return {"hall": hall, "date": d.isoformat(), "step_min": step, "points": points}


@router.get("/utilisation")
async def utilisation(
    hall: str, ctx: CtxDep, who: PrincipalDep, date_from: From = None, date_to: To = None
) -> dict[str, Any]:
    """Share of the hall's open time each window spent serving."""
    ctx.hall(hall)
    who.require(hall, *READERS)
    start, end, today = _range(ctx, hall, date_from, date_to)
    report = await _summary(ctx, hall, start, end, "window", today)
    open_s = reports.open_seconds(ctx.calendars[hall], start, end, utcnow())
    return {
        "hall": hall,
        "from": start,
        "to": end,
        "open_s": open_s,
        "windows": reports.utilisation(report["rows"], open_s),
    }


@router.get("/cases")
async def cases(
    hall: str, ctx: CtxDep, who: PrincipalDep, date_from: From = None, date_to: To = None
) -> dict[str, Any]:
    """Running cases by deadline colour (亮灯) today, and cases submitted in the range by status."""
    ctx.hall(hall)
    who.require(hall, *READERS)
    start, end, today = _range(ctx, hall, date_from, date_to)
    return await ctx.read_hall(
        hall,
        lambda r: cases_by_colour(
            r.session, hall=hall, cal=r.hall_calendar, today=today, start=start, end=end, tz=r.tz
        ),
        report=True,
    ) | {"hall": hall, "from": start.isoformat(), "to": end.isoformat()}


@router.get("/overview")
async def overview(hall: str, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """At a glance: today's and the last 30 days' totals, and open follow-ups and complaints."""
    ctx.hall(hall)
    who.require(hall, *READERS)
    _, _, today = _range(ctx, hall, None, None)
    month_start = today - timedelta(days=29)  # 近30天: the last 30 days, today included
    day = await _summary(ctx, hall, today, today, "hall", today)
    month = await _summary(ctx, hall, month_start, today, "hall", today)
    work = await ctx.read(lambda s: reports.open_work(s, hall=hall, now=utcnow()), report=True)
    return {
        "hall": hall,
        "today": {"date": today, "figures": day["total"]},
        "last_30_days": {"from": month_start, "to": today, "figures": month["total"]},
        "open": work,
    }


@router.get("/mine")
async def mine(hall: str, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """A clerk's own figures: today and this week (Monday to today) — served, handling time, ratings; nobody
    else's (the hall's reports are the supervisors')."""
    ctx.hall(hall)
    who.require(hall, "clerk")
    _, _, today = _range(ctx, hall, None, None)
    monday = today - timedelta(days=today.weekday())
    empty = Figures().row()

    async def own(start: date) -> dict[str, Any]:
        rows = (await _summary(ctx, hall, start, today, "clerk", today))["rows"]
        figures = next((r for r in rows if r["key"] == who.name), {"key": who.name} | empty)
        return {"from": start, "to": today, "figures": figures}

    return {"hall": hall, "clerk": who.name, "today": await own(today), "week": await own(monday)}
