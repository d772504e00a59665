"""Halls: login, queues, board state, staff ticket lists, notices, device health, liveness."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Query, Request
from sqlmodel import col

from ...errors import Forbidden, Unauthorized
from ...models import OPEN_STATUSES, Ticket
from ...schemas import BoardSnapshot
from ...services.halls import board_state, report_health, set_notice
from ...services.logins import LoginThrottled
from ...services.ticketing import out, queue_stats
from ...store import tickets as store
from ...timeutil import utcnow
from ..deps import CtxDep, PrincipalDep
from ..schemas import HealthBody, NoticeBody, QueueInfo, TicketPublic, TokenOut

router = APIRouter()


@router.get("/healthz", tags=["public"])
def healthz(ctx: CtxDep) -> dict[str, str]:
    """200 once the server accepts requests and its database answers."""
    ctx.db.ping()
    return {"status": "ok"}


@router.post(
    "/api/v1/auth/token",
    response_model=TokenOut,
    tags=["auth"],
    responses={429: {"description": "Too many attempts for this user, from this address, or at once"}},
)
async def login(
    ctx: CtxDep,
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> TokenOut:
    """Exchange a staff username and password for a bearer token."""
    address = request.client.host if request.client else ""
    try:
        state = await ctx.logins.authenticate(username, password, address=address)
    except LoginThrottled as exc:
        raise HTTPException(429, exc.detail, headers={"Retry-After": str(exc.retry_after)}) from None
    if state is None:
        raise Unauthorized("用户名或密码错误 / Wrong username or password")
    user = state.principal
    return TokenOut(access_token=ctx.tokens.issue(user, state.generation), role=user.role, hall=user.hall)


@router.get("/api/v1/auth/me", tags=["auth"])
def me(who: PrincipalDep, ctx: CtxDep) -> dict[str, Any]:
    """Who the token belongs to (`display_name`: the staff user's name as configured, else the username)."""
    shown = next((u.display_name for u in ctx.config.users if u.username == who.name), "") if who.kind == "user" else ""
    return {
        "name": who.name,
        "display_name": shown or who.name,
        "kind": who.kind,
        "role": who.role,
        "hall": who.hall,
        "windows": sorted(who.windows),
    }


@router.get("/api/v1/halls", tags=["public"])
def list_halls(ctx: CtxDep) -> list[dict[str, Any]]:
    """The halls this server runs, whether each is open now, its next opening and the queues taking bookings."""
    now = utcnow()
    out: list[dict[str, Any]] = []
    for h in ctx.config.halls:
        cal = ctx.calendars[h.code]
        nxt = None if cal.is_open(now) else cal.next_opening(now)
        out.append(
            {"code": h.code, "name": h.name, "name_en": h.name_en, "timezone": h.timezone, "languages": h.languages}
            | {"open_now": cal.is_open(now), "next_open": nxt.isoformat() if nxt else None}
            | {"booking_queues": [q.code for q in h.queues if q.slot_capacity > 0]}
            | {"case_upload_max_kb": h.case_upload_max_kb}  # the largest material a submission may upload
        )
    return out


@router.get("/api/v1/halls/{hall}/queues", response_model=list[QueueInfo], tags=["public"])
def queues(hall: str, ctx: CtxDep) -> list[QueueInfo]:
    """Each queue with how many wait and the estimated wait (no login: no personal data)."""
    h = ctx.hall(hall)
    with ctx.db.read() as s:
        stats = {q["code"]: q for q in queue_stats(s.connection(), hall)}
    return [
        QueueInfo(
            code=q.code,
            name=q.name,
            name_en=q.name_en,
            names=h.names_of(q.code),
            waiting=stats[q.code]["waiting"],
            estimated_wait_s=stats[q.code]["estimated_wait_s"],
        )
        for q in h.queues
        if q.code in stats
    ]


@router.get(
    "/api/v1/halls/{hall}/board", response_model=BoardSnapshot, response_model_exclude_unset=True, tags=["public"]
)
def board(hall: str, ctx: CtxDep) -> dict[str, Any]:
    """The board state the websocket snapshot carries, with its `seq`."""
    with ctx.reading(hall) as r:
        seq, state = board_state(r)
    return {"seq": seq, "data": state}


@router.get("/api/v1/halls/{hall}/tickets", response_model=list[TicketPublic], tags=["tickets"])
def list_tickets(
    hall: str,
    ctx: CtxDep,
    who: PrincipalDep,
    status: Annotated[
        Literal["open", "waiting", "called", "serving", "held", "done", "no_show", "cancelled", "expired"],
        Query(),
    ] = "open",
    queue: Annotated[str | None, Query(max_length=8)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[TicketPublic]:
    """Today's tickets of the hall for staff, in arrival order (masked personal data)."""
    ctx.hall(hall)
    who.require(hall, "clerk", "approver", "auditor")
    tz = ctx.zones[hall]
    where = [col(Ticket.hall_code) == hall]
    where.append(col(Ticket.status).in_(OPEN_STATUSES) if status == "open" else col(Ticket.status) == status)
    if queue:
        where.append(col(Ticket.queue) == queue)
    now = utcnow()
    with ctx.db.read() as s:
        conn = s.connection()
        rows = store.select_tickets(conn, *where, order=[col(Ticket.arrived_at), col(Ticket.id)], limit=limit)
        return [TicketPublic.of(out(conn, t, now), tz) for t in rows]


@router.post("/api/v1/halls/{hall}/notice", tags=["halls"])
async def notice(hall: str, body: NoticeBody, ctx: CtxDep, who: PrincipalDep) -> dict[str, str]:
    """Replace the scrolling notice on the hall's boards."""
    ctx.hall(hall)
    who.require(hall, "clerk")
    await ctx.change(hall, lambda tx: set_notice(tx, body.text))
    return {"text": body.text}


@router.post("/api/v1/devices/health", tags=["devices"])
async def device_health(body: HealthBody, ctx: CtxDep, who: PrincipalDep) -> dict[str, str]:
    """A kiosk or display reports its health (paper out, reader unplugged …); staff see it live."""
    if who.kind != "device" or who.hall is None:
        raise Forbidden("只有设备可以上报状态 / Only devices report health")
    await ctx.change(who.hall, lambda tx: report_health(tx, device=who, status=body.status, detail=body.detail))
    return {"device": who.name, "status": body.status}
