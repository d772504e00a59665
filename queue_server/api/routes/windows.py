"""Windows: call next, call a chosen ticket, status (open / pause with reason / close)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Response

from ...services import tickets as svc
from ...services.halls import set_window_status, window_public
from ...services.ticketing import TicketOut
from ...services.tx import HallTx
from ...store import halls as hall_store
from ..deps import CtxDep, PrincipalDep, json_response
from ..schemas import CallBody, CompleteAndCallBody, TicketPublic, WindowInfo, WindowNo, WindowStatusBody

router = APIRouter(prefix="/api/v1/halls/{hall}/windows", tags=["windows"])


@router.post(
    "/{number}/call-next",
    response_model=TicketPublic,
    responses={
        204: {"description": "nobody is waiting for this window"},
        409: {"description": "window busy or paused"},
    },
)
async def call_next(hall: str, number: WindowNo, ctx: CtxDep, who: PrincipalDep) -> Response:
    """Call the next ticket by the hall's queue policy (叫号)."""
    ctx.hall(hall)
    who.require(hall, "clerk")
    o = await ctx.change(hall, lambda tx: svc.call_next(tx, number=number, actor=who))
    return _called(o, ctx.zones[hall])


@router.post(
    "/{number}/complete-and-call-next",
    response_model=TicketPublic,
    responses={
        204: {"description": "the ticket was completed; nobody is waiting for this window"},
        409: {"description": "the ticket is not the one this window is serving, or the window is paused"},
    },
)
async def complete_and_call_next(
    hall: str, number: WindowNo, body: CompleteAndCallBody, ctx: CtxDep, who: PrincipalDep
) -> Response:
    """办结并叫下一位: complete the window's current ticket and call the next, in one change."""
    ctx.hall(hall)
    who.require(hall, "clerk")
    o = await ctx.change(
        hall, lambda tx: svc.complete_and_call_next(tx, number=number, ticket_id=body.ticket_id, actor=who)
    )
    return _called(o, ctx.zones[hall])


def _called(o: TicketOut | None, tz: ZoneInfo) -> Response:
    """200 with the ticket just called, or 204: nobody waits for this window."""
    return Response(status_code=204) if o is None else json_response(TicketPublic.of(o, tz))


@router.post("/{number}/call", response_model=TicketPublic)
async def call_ticket(hall: str, number: WindowNo, body: CallBody, ctx: CtxDep, who: PrincipalDep) -> Response:
    """Call one waiting ticket out of order, picked by the clerk from the list."""
    ctx.hall(hall)
    who.require(hall, "clerk")
    o = await ctx.change(
        hall,
        lambda tx: svc.call_ticket(tx, number=number, ticket_id=body.ticket_id, ticket_number=body.number, actor=who),
    )
    return json_response(TicketPublic.of(o, ctx.zones[hall]))


@router.post("/{number}/status", response_model=WindowInfo)
async def window_status(
    hall: str, number: WindowNo, body: WindowStatusBody, ctx: CtxDep, who: PrincipalDep
) -> WindowInfo:
    """Open, pause (暂停服务, with a reason for the boards) or close a window; `take_over` to open one that
    another clerk holds (409 without it)."""
    ctx.hall(hall)
    who.require(hall, "clerk")

    def run(tx: HallTx) -> WindowInfo:
        w = set_window_status(
            tx, number=number, status=body.status, reason=body.reason, actor=who, take_over=body.take_over
        )
        return WindowInfo(**window_public(w))

    return await ctx.change(hall, run)


@router.get("", response_model=list[WindowInfo], tags=["public"])
def list_windows(hall: str, ctx: CtxDep) -> list[WindowInfo]:
    """Every window of the hall with its status (no personal data)."""
    ctx.hall(hall)
    with ctx.db.read() as s:
        return [WindowInfo(**window_public(w)) for w in hall_store.windows(s.connection(), hall)]
