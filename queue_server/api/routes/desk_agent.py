"""The general desk's card reader and ticket printer: the desk page's 读卡 / 打印 and the desk agent's answers.

The desk agent (`python -m peripherals.desk_agent`, a `[[devices]]` entry with `role = "desk"`) drives the
desk's SAM or PC/SC reader and its ESC/POS printer and follows the hall's event stream with its device token.
Requests and answers travel as events (services/desk_devices.py); a card's data only through
`GET …/desk/cards/{id}`, once, by staff of the hall.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from ...errors import Conflict, Forbidden, NotFound
from ...ids import InvalidIdNumber, validate_identity_number
from ...services import desk_devices as svc
from ...services.auth import Principal
from ...services.ticketing import out, ticket_row
from ...services.tx import HallRead
from ...store import tickets as store
from ...timeutil import utcnow
from ..deps import CtxDep, PrincipalDep
from .track import ticket_track_url

router = APIRouter(tags=["desk"])
AGENT_ROLE = "desk"
NO_AGENT = (
    "总服务台读卡器和打印机未连接（设备程序未运行） / The desk's card reader and printer are not connected "
    "(the desk agent is not running)"
)
Name = Annotated[str, Field(min_length=1, max_length=64)]


class DeviceBody(BaseModel):
    """Which desk agent should act (a `[[devices]]` name with `role = "desk"` of the hall)."""

    device: Name


class PrintBody(DeviceBody):
    """Print this ticket on the desk agent's printer."""

    ticket_id: int = Field(ge=1)


class CardBody(BaseModel):
    """What a SAM reader read from a resident ID card (the photo and address stay on the desk)."""

    name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=15, max_length=18)
    sex: Literal["男", "女"] | None = None
    birth_date: date | None = None


class CardReadBody(BaseModel):
    """The agent's answer to a 读卡 request: a resident ID card, a card's UID (PC/SC), or an error."""

    request: Name
    card: CardBody | None = None
    uid: str | None = Field(default=None, pattern=r"^[0-9A-F]{8,20}$")
    error: str | None = Field(default=None, max_length=200)


class PrintedBody(BaseModel):
    """The agent's answer to a print job."""

    job: Name
    ticket_id: int = Field(ge=1)
    ok: bool
    detail: str = Field(default="", max_length=200)


def _agent(who: Principal) -> str:
    """The hall of a desk agent's token (403 for anyone else)."""
    if who.kind != "device" or who.role != AGENT_ROLE or who.hall is None:
        raise Forbidden("只有总服务台设备可以调用 / Only a desk agent may call this")
    return who.hall


def _desk_device(ctx: Any, hall: str, name: str) -> None:
    """404 unless `name` is a desk agent of the hall."""
    if not any(d.name == name and d.role == AGENT_ROLE and d.hall == hall for d in ctx.config.devices):
        raise NotFound(f"本厅没有总服务台设备 {name} / No desk agent '{name}' in this hall")


async def _online(ctx: Any, hall: str, name: str) -> None:
    """409 (the page falls back to the keyboard reader or the browser's print) unless the agent is connected."""
    _desk_device(ctx, hall, name)
    states = await ctx.read(lambda s: svc.agent_states(s, [name], utcnow()))
    if not states[0].online:
        raise Conflict(NO_AGENT)


@router.post("/api/v1/halls/{hall}/desk/read", status_code=202)
async def desk_read(hall: str, body: DeviceBody, ctx: CtxDep, who: PrincipalDep) -> dict[str, str]:
    """读卡: ask the desk agent to read the card on its reader; the answer comes as `desk.card_read`."""
    ctx.hall(hall)
    who.require(hall, "clerk")
    await _online(ctx, hall, body.device)
    request = await ctx.change(hall, lambda tx: svc.ask_read(tx, device=body.device))
    return {"request": request, "device": body.device}


@router.get("/api/v1/halls/{hall}/desk/cards/{card_id}")
async def desk_card(hall: str, card_id: Annotated[int, Path(ge=1)], ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """The card of a `desk.card_read`, once (then deleted; the look is audited); 404 after that or 2 minutes."""
    ctx.hall(hall)
    who.require(hall, "clerk")
    return await ctx.change(hall, lambda tx: svc.take_card(tx, card_id=card_id, actor=who.name))


@router.post("/api/v1/halls/{hall}/desk/print", status_code=202)
async def desk_print(hall: str, body: PrintBody, ctx: CtxDep, who: PrincipalDep) -> dict[str, str]:
    """打印: send a ticket of the hall to the desk agent's printer; the answer comes as `desk.printed`."""
    ctx.hall(hall)
    who.require(hall, "clerk")
    await _online(ctx, hall, body.device)

    def run(tx: Any) -> str:
        ticket_row(tx, body.ticket_id)  # a ticket of this hall (NotFound otherwise)
        return svc.ask_print(tx, device=body.device, ticket_id=body.ticket_id)

    return {"job": await ctx.change(hall, run), "device": body.device}


@router.post("/api/v1/desk-agent/cards", tags=["devices"])
async def agent_card(body: CardReadBody, ctx: CtxDep, who: PrincipalDep) -> dict[str, int | None]:
    """The desk agent's answer to a 读卡 request (its device token): the card, held for the page's fetch."""
    hall = _agent(who)
    card: dict[str, Any] | None = None
    kind: str | None = None
    error = body.error
    if body.card is not None:
        try:
            idn = validate_identity_number(body.card.id_number)
        except InvalidIdNumber:
            idn, error = None, "读到的证件号码无效 / The card's ID number is not valid"
        if idn is not None:
            birth = body.card.birth_date.isoformat() if body.card.birth_date else None
            kind = "id_card"
            card = {"name": body.card.name, "id_number": idn, "sex": body.card.sex, "birth_date": birth}
    elif body.uid is not None:
        card, kind = {"uid": body.uid}, "uid"
    elif error is None:
        error = "未读到卡 / No card was read"
    read = await ctx.change(
        hall,
        lambda tx: svc.card_read(tx, device=who.name, request=body.request, card=card, kind=kind, error=error),
    )
    return {"read": read}


@router.get("/api/v1/desk-agent/tickets/{ticket_id}", tags=["devices"])
async def agent_ticket(
    ticket_id: Annotated[int, Path(ge=1)], request: Request, ctx: CtxDep, who: PrincipalDep
) -> dict[str, Any]:
    """What the desk agent prints for a ticket of its hall: number, domain, people ahead, time, tracking URL."""
    hall = _agent(who)
    h = ctx.hall(hall)
    tz = ctx.zones[hall]

    def read(r: HallRead) -> dict[str, Any]:
        t = store.ticket(r.conn, ticket_id)
        if t is None or t.hall_code != hall:
            raise NotFound("没有这张票 / No such ticket")
        o = out(r.conn, t, r.now)
        q = next((x for x in h.queues if x.code == t.queue), None)
        return {
            "id": t.id,
            "number": t.number,
            "queue": t.queue,
            "queue_name": q.name if q else t.queue,
            "queue_name_en": q.name_en if q else "",
            "lane": t.lane,
            "ahead": o.ahead,
            "estimated_wait_s": o.estimated_wait_s,
            "issued_at": t.issued_at.astimezone(tz).isoformat(),
            "track_token": t.track_token,
        }

    data = await ctx.read_hall(hall, read)
    token = data.pop("track_token")
    return {"hall_name": h.name, "hall_name_en": h.name_en, **data, "track_url": ticket_track_url(h, request, token)}


@router.post("/api/v1/desk-agent/printed", tags=["devices"])
async def agent_printed(body: PrintedBody, ctx: CtxDep, who: PrincipalDep) -> dict[str, str]:
    """The desk agent's answer to a print job: printed, or failed with the printer's reason."""
    hall = _agent(who)

    def run(tx: Any) -> str:
        t = ticket_row(tx, body.ticket_id)
        svc.printed(tx, device=who.name, job=body.job, number=t.number, ok=body.ok, detail=body.detail)
        return t.number

    return {"number": await ctx.change(hall, run)}
