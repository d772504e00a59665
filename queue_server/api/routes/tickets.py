"""Tickets: take a number, window actions, transfer, public tracking."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response, status
from sqlalchemy import select
from sqlmodel import col

from ...errors import NotFound
from ...models import AuditLog, Ticket
from ...services import tickets as svc
from ...services.halls import track
from ...services.tx import hall_tx
from ...timeutil import utcnow
from ..deps import CtxDep, PrincipalDep
from ..schemas import Revealed, TicketCreate, TicketPublic, TrackInfo, TransferBody

router = APIRouter(prefix="/api/v1", tags=["tickets"])
ActionName = Annotated[str, Path(pattern="^(recall|no-show|start|complete|hold|resume|cancel|rejoin)$")]


@router.post("/halls/{hall}/tickets", status_code=201, response_model=TicketPublic)
def take_number(
    hall: str,
    body: TicketCreate,
    ctx: CtxDep,
    who: PrincipalDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> TicketPublic:
    """Take a number (取号). Repeating the same `Idempotency-Key` returns the first ticket (200)."""
    ctx.hall(hall)
    who.require(hall, "kiosk", "clerk")
    tz = ctx.zones[hall]
    with hall_tx(ctx.db, ctx.hub, hall, tz=tz) as tx:
        o = svc.issue(
            tx,
            tz=tz,
            queue=body.queue,
            lane=body.lane,
            channel=body.channel,
            phone=body.phone,
            id_number=body.id_number,
            idempotency_key=idempotency_key,
            cipher=ctx.cipher,
        )
    if not o.created:
        response.status_code = status.HTTP_200_OK
    return TicketPublic.of(o, tz)


def _hall_of(ctx: CtxDep, ticket_id: int) -> str:
    with ctx.db.read() as s:
        hall = s.execute(select(col(Ticket.hall_code)).where(col(Ticket.id) == ticket_id)).scalar_one_or_none()
    if hall is None:
        raise NotFound("没有这张票 / No such ticket")
    return str(hall)


@router.get("/tickets/{ticket_id}", response_model=TicketPublic)
def get_ticket(ticket_id: int, ctx: CtxDep, who: PrincipalDep) -> TicketPublic:
    """One ticket (staff and kiosks of its hall); personal data masked."""
    hall = _hall_of(ctx, ticket_id)
    who.require(hall, "clerk", "kiosk", "approver", "auditor")
    with ctx.db.read() as s:
        t = s.get(Ticket, ticket_id)
        assert t is not None
        return TicketPublic.of(svc.out(s, t, utcnow()), ctx.zones[hall])


@router.post("/tickets/{ticket_id}/transfer", response_model=TicketPublic)
def transfer(ticket_id: int, body: TransferBody, ctx: CtxDep, who: PrincipalDep) -> TicketPublic:
    """Transfer to another queue or window, keeping the citizen's place (arrival time)."""
    hall = _hall_of(ctx, ticket_id)
    who.require(hall, "clerk")
    tz = ctx.zones[hall]
    with hall_tx(ctx.db, ctx.hub, hall, tz=tz) as tx:
        o = svc.transfer(tx, ticket_id=ticket_id, queue=body.queue, window=body.window, actor=who)
    return TicketPublic.of(o, tz)


@router.post("/tickets/{ticket_id}/reveal", response_model=Revealed)
def reveal(ticket_id: int, ctx: CtxDep, who: PrincipalDep) -> Revealed:
    """The unmasked phone and ID number, for a clerk or approver of the hall; every read is audited."""
    hall = _hall_of(ctx, ticket_id)
    who.require(hall, "clerk", "approver")
    with hall_tx(ctx.db, None, hall) as tx:
        t = svc.load_ticket(tx, ticket_id)
        tx.session.add(
            AuditLog(at=tx.now, actor=who.name, action="reveal", hall_code=hall, subject=f"ticket:{ticket_id}")
        )
        phone = ctx.cipher.decrypt(t.phone_enc, context="phone") if t.phone_enc else None
        idn = ctx.cipher.decrypt(t.id_enc, context="id_number") if t.id_enc else None
    return Revealed(id=ticket_id, phone=phone, id_number=idn)


@router.post("/tickets/{ticket_id}/{action}", response_model=TicketPublic)
def ticket_action(ticket_id: int, action: ActionName, ctx: CtxDep, who: PrincipalDep) -> TicketPublic:
    """recall 重呼 · no-show 过号 · start · complete · hold · resume · cancel · rejoin 过号重排; 409 if unfit."""
    hall = _hall_of(ctx, ticket_id)
    who.require(hall, "clerk", "kiosk")
    tz = ctx.zones[hall]
    with hall_tx(ctx.db, ctx.hub, hall, tz=tz) as tx:
        o = svc.act(tx, ticket_id=ticket_id, action=action, actor=who, tz=tz)
    return TicketPublic.of(o, tz)


@router.get("/track/{track_token}", response_model=TrackInfo, tags=["public"])
def track_ticket(track_token: Annotated[str, Path(max_length=64)], ctx: CtxDep) -> TrackInfo:
    """Follow a ticket from the QR code on it (no login)."""
    with ctx.db.read() as s:
        d = track(s, track_token, utcnow())
    d["issued_at"] = d["issued_at"]
    return TrackInfo(**d)


@router.post("/track/{track_token}/cancel", response_model=TrackInfo, tags=["public"])
def cancel_by_citizen(track_token: Annotated[str, Path(max_length=64)], ctx: CtxDep) -> TrackInfo:
    """The citizen gives up a waiting ticket from the tracking page."""
    with ctx.db.read() as s:
        t = s.execute(select(Ticket).where(col(Ticket.track_token) == track_token)).scalar_one_or_none()
    if t is None or t.id is None:
        raise NotFound("没有这张票 / No ticket for this link")
    from ...services.auth import Principal

    citizen = Principal("device", "citizen", "kiosk", t.hall_code)
    tz = ctx.zones[t.hall_code]
    with hall_tx(ctx.db, ctx.hub, t.hall_code, tz=tz) as tx:
        svc.act(tx, ticket_id=t.id, action="cancel", actor=citizen, tz=tz)
    with ctx.db.read() as s:
        return TrackInfo(**track(s, track_token, utcnow()))
