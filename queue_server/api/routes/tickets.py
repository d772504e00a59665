"""Tickets: take a number, window actions, transfer (the public tracking routes: track.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from ...citizen_text import OTHER_LANGS
from ...config import HallConfig
from ...context import HallContext
from ...errors import Forbidden, Invalid, NotFound
from ...forward import Forwarding, issued
from ...ids import mask_phone
from ...languages import choose, negotiate
from ...models import AuditLog
from ...notify.verify import CODE_TTL, guard_phone
from ...ratelimit import client_of
from ...rejoin import RejoinRule
from ...services import issuing, remote
from ...services import tickets as svc
from ...services.auth import Principal
from ...services.ticketing import check_reveal_window, out, ticket_row
from ...services.tx import HallTx
from ...store import tickets as store
from ...timeutil import utcnow
from ..deps import CtxDep, PrincipalDep, json_response
from ..schemas import Revealed, Text, TicketCreate, TicketId, TicketIssued, TicketPublic, TransferBody
from .track import public_url, ticket_track_url

router = APIRouter(prefix="/api/v1", tags=["tickets"])
REMOTE_PER_IP_HOUR = 30
REMOTE_PER_PHONE_HOUR = 6
ActionName = Annotated[str, Path(pattern="^(recall|no-show|start|complete|hold|resume|cancel|rejoin)$")]


@router.post("/halls/{hall}/tickets", status_code=201, response_model=TicketIssued)
async def take_number(
    hall: str,
    body: TicketCreate,
    request: Request,
    who: PrincipalDep,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> Response:
    """Take a number (取号). Repeating the same `Idempotency-Key` returns the first ticket (200).

    409 when the hall is closed (the detail names the next opening) or the queue's tickets for today
    are all taken. An ID number of a senior puts the ticket in lane `special`.
    """
    # Served by the fast path (api/middleware.py) whenever the request is well-formed; this route answers the rest
    # (a body that does not validate, another content type) and keeps the OpenAPI entry.
    return await issue_ticket(request, hall, body, who, idempotency_key)


async def issue_ticket(
    request: Request, hall: str, body: TicketCreate, who: Principal, idempotency_key: str | None
) -> Response:
    """Take a number for a caller already known: the route's work, shared by the route and the fast path."""
    ctx: HallContext = request.app.state.ctx
    h = ctx.hall(hall)
    who.require(hall, "kiosk", "clerk")
    if body.lane == "vip" and who.role not in ("clerk", "admin"):
        raise Forbidden("重点项目通道由窗口工作人员指定 / The key-project lane is assigned by staff")
    kwargs: dict[str, Any] = {
        "queue": body.queue,
        "lane": body.lane,
        "channel": body.channel,
        "phone": body.phone,
        "id_number": body.id_number,
        "idempotency_key": idempotency_key,
        "lang": body.lang,
        "interpreter": body.interpreter,
        "reply_lang": body.lang or negotiate(request.headers.get("accept-language"), OTHER_LANGS),
    }
    forward: Forwarding | None = request.app.state.forward
    if forward is not None and not forward.owns(hall):  # the hall's owner process writes it (forward.py)
        forwarded = await forward.issue(hall, public_url(h, request), kwargs)
        if forwarded is not None:
            return forwarded
    o = await ctx.change_staged(hall, lambda tx: issuing.issue_staged(tx, **kwargs))
    status, answer = issued(o, ctx.zones[hall], public_url(h, request))
    return Response(answer, status_code=status, media_type="application/json")


class RemoteCodeSent(BaseModel):
    """The code is on its way."""

    phone_masked: str
    expires_in_s: int


class RemoteCodeBody(BaseModel):
    """通办取号, step 1: the phone to prove (a one-time code is sent to it) and the queue wanted."""

    queue: Text = Field(min_length=1, max_length=8)
    phone: Text = Field(
        max_length=32, description="mainland mobile number: the code, then the 'N ahead' and call messages"
    )
    lang: str | None = Field(
        default=None,
        pattern=r"^(zh|en|ko|ja|ru)$",
        description="the citizen's language (else Accept-Language): the messages' and refusals' second half",
    )


class RemoteTicketBody(RemoteCodeBody):
    """通办取号, step 2: a number taken from web or mobile, for any hall of the city, with the phone's code."""

    code: str = Field(
        pattern=r"^[0-9]{6}$", description="the one-time code sent to the phone (…/remote-tickets/verify)"
    )


def _remote_lang(h: HallConfig, request: Request, body: RemoteCodeBody) -> str | None:
    """The remote citizen's language among the hall's: `lang`, else the browser's (None: Chinese and English)."""
    lang = choose(body.lang, request.headers.get("accept-language"), h.languages)
    return lang if lang in OTHER_LANGS else None


async def _remote_phone(ctx: HallContext, request: Request, raw: str, step: str) -> str:
    """The valid phone of a remote-ticket step, counted per client address and per phone (429)."""
    return await guard_phone(
        ctx.limiter,
        ctx.cipher,
        raw,
        step=step,
        client=client_of(request),
        per_ip=REMOTE_PER_IP_HOUR,
        per_phone=REMOTE_PER_PHONE_HOUR,
    )


@router.post("/halls/{hall}/remote-tickets/verify", status_code=202, response_model=RemoteCodeSent, tags=["public"])
async def remote_ticket_code(hall: str, body: RemoteCodeBody, request: Request, ctx: CtxDep) -> RemoteCodeSent:
    """通办取号, step 1: send the phone a one-time code (valid 5 minutes, 5 tries) through the silent-calling
    channel. 409 while the hall is closed or the queue's remote share of today's cap is taken; rate-limited
    per client address and per phone (429)."""
    lang = _remote_lang(ctx.hall(hall), request, body)
    phone = await _remote_phone(ctx, request, body.phone, "remote-code")
    await ctx.change(hall, lambda tx: remote.send_code(tx, queue=body.queue, phone=phone, lang=lang))
    return RemoteCodeSent(phone_masked=mask_phone(phone), expires_in_s=int(CODE_TTL.total_seconds()))


@router.post("/halls/{hall}/remote-tickets", status_code=201, response_model=TicketIssued, tags=["public"])
async def remote_ticket(hall: str, body: RemoteTicketBody, request: Request, ctx: CtxDep) -> Response:
    """通办取号, step 2: take a number with the phone's code: only while the hall is open, one open remote
    ticket per phone, and within the queue's remote share of its daily cap (`remote_share`).

    The ticket joins the queue at once, marked `channel: "remote"`; its holder times the trip by the
    "N ahead" messages. 422 for a wrong or expired code; rate-limited per client address and per phone (429).
    """
    h = ctx.hall(hall)
    lang = _remote_lang(h, request, body)
    phone = await _remote_phone(ctx, request, body.phone, "remote")
    o = await ctx.change(hall, lambda tx: remote.issue(tx, queue=body.queue, phone=phone, code=body.code, lang=lang))
    if o is None:
        raise Invalid(remote.wrong_code(lang))
    url = ticket_track_url(h, request, o.ticket.track_token)
    return json_response(TicketIssued.issued(o, ctx.zones[hall], url), 201)


async def _hall_of(ctx: CtxDep, ticket_id: int) -> str:
    hall = await ctx.read(lambda s: store.hall_of_ticket(s.connection(), ticket_id))
    if hall is None:
        raise NotFound("没有这张票 / No such ticket")
    return hall


@router.get("/tickets/{ticket_id}", response_model=TicketPublic)
async def get_ticket(ticket_id: TicketId, ctx: CtxDep, who: PrincipalDep) -> Response:
    """One ticket (staff and kiosks of its hall); personal data masked."""
    hall = await _hall_of(ctx, ticket_id)
    who.require(hall, "clerk", "kiosk", "approver", "auditor")

    def read(s: Session) -> TicketPublic:
        conn = s.connection()
        t = store.ticket(conn, ticket_id)
        if t is None:
            raise NotFound("没有这张票 / No such ticket")
        return TicketPublic.of(out(conn, t, utcnow()), ctx.zones[hall])

    return json_response(await ctx.read(read))


@router.post("/tickets/{ticket_id}/transfer", response_model=TicketPublic)
async def transfer(ticket_id: TicketId, body: TransferBody, ctx: CtxDep, who: PrincipalDep) -> Response:
    """Transfer to another queue or window, keeping the citizen's place (arrival time)."""
    hall = await _hall_of(ctx, ticket_id)
    who.require(hall, "clerk")
    o = await ctx.change(
        hall, lambda tx: svc.transfer(tx, ticket_id=ticket_id, queue=body.queue, window=body.window, actor=who)
    )
    return json_response(TicketPublic.of(o, ctx.zones[hall]))


@router.post("/tickets/{ticket_id}/reveal", response_model=Revealed)
async def reveal(ticket_id: TicketId, ctx: CtxDep, who: PrincipalDep) -> Revealed:
    """The unmasked phone and ID number, for a clerk (at the ticket's window, when bound to windows) or an
    approver of the hall; every read is audited."""
    hall = await _hall_of(ctx, ticket_id)
    who.require(hall, "clerk", "approver")

    def run(tx: HallTx) -> Revealed:
        t = ticket_row(tx, ticket_id)
        check_reveal_window(who, t, tx.hall_config)
        tx.session.add(
            AuditLog(at=tx.now, actor=who.name, action="reveal", hall_code=hall, subject=f"ticket:{ticket_id}")
        )
        phone = tx.pii.decrypt(t.phone_enc, context="phone") if t.phone_enc else None
        idn = tx.pii.decrypt(t.id_enc, context="id_number") if t.id_enc else None
        return Revealed(id=ticket_id, phone=phone, id_number=idn)

    return await ctx.change(hall, run)


@router.post("/tickets/{ticket_id}/{action}", response_model=TicketPublic)
async def ticket_action(ticket_id: TicketId, action: ActionName, ctx: CtxDep, who: PrincipalDep) -> Response:
    """recall 重呼 · no-show 过号 · start · complete · hold · resume · cancel · rejoin 过号重排; 409 if unfit."""
    guess = ctx.ticket_halls.get(ticket_id)
    if guess is not None:  # the hall this server saw the ticket in: no read before the change
        try:
            return await _act(ctx, who, guess, ticket_id, action)
        except (NotFound, Forbidden):  # not a ticket of that hall (any more): ask the database
            ctx.ticket_halls.pop(ticket_id, None)
    return await _act(ctx, who, await _hall_of(ctx, ticket_id), ticket_id, action)


async def _act(ctx: HallContext, who: Principal, hall: str, ticket_id: int, action: str) -> Response:
    who.require(hall, "clerk", "kiosk")
    tz = ctx.zones[hall]
    rule = RejoinRule.of(ctx.hall(hall))
    o = await ctx.change(hall, lambda tx: svc.act(tx, ticket_id=ticket_id, action=action, actor=who, rejoin=rule))
    return json_response(TicketPublic.of(o, tz))
