"""The general desk (总服务台, /console/desk) and the complaints desk (/console/complaints): pages and reads.

The desk's actions reuse the citizen-facing endpoints a clerk may call (take a number, book, check in,
home visits, rejoin); this module adds the pages and the desk's own reads: a day's appointments, today's
missed tickets, and a ticket's QR code.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import Session, col

from peripherals.documents.qr import qr_matrix

from ...models import Appointment, Ticket
from ...rejoin import RejoinRule
from ...services.auth import Principal
from ...services.desk_devices import agent_states
from ...store import tickets as store
from ...timeutil import service_day, utcnow
from ..deps import CtxDep, PrincipalDep
from .console import CONSOLE_DIR, PAGE_HEADERS

router = APIRouter(tags=["console"])
DESK_ROLES = ("clerk",)  # (admin always passes) who works the general desk: issues, books, checks in, rejoins
MAX_LISTED = 300


@router.get("/console/desk", include_in_schema=False)
def desk_page() -> Response:
    """总服务台: walk-in tickets, hotline bookings, appointment check-in, no-show rejoin, home visits."""
    return FileResponse(CONSOLE_DIR / "frontdesk.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/console/complaints", include_in_schema=False)
def complaints_page() -> Response:
    """投诉受理: complaints read, assigned, answered and closed, overdue first."""
    return FileResponse(CONSOLE_DIR / "complaints.html", media_type="text/html", headers=PAGE_HEADERS)


class DeskAppointment(BaseModel):
    """An appointment in the desk's list: personal data masked, the booking code to check it in."""

    code: str
    queue: str
    status: str
    channel: str
    start: datetime
    end: datetime
    name_masked: str
    id_number_masked: str
    phone_masked: str | None
    ticket_id: int | None


class MissedTicket(BaseModel):
    """A ticket of today that missed its call (过号), as the desk lists it for 重新排队."""

    id: int
    number: str
    queue: str
    lane: str
    window: int | None
    arrived_at: datetime
    called_at: datetime | None
    missed_at: datetime | None
    recalls: int
    phone_masked: str | None
    rejoins: int = 0
    rejoin_refusal: str | None = None  # why the hall's rule does not let it rejoin now (None: it may)


class DeskAgent(BaseModel):
    """A desk agent of the hall (its card reader and ticket printer) and whether it is connected now."""

    name: str
    online: bool
    status: str  # its last health report: ok, paper_out, unplugged, offline …
    detail: str


class DeskSetup(BaseModel):
    """What the desk page shows of the hall's setup: the rejoin rule's sentence ("中文 / English") and the hall's
    desk agents (`[[devices]]` with role desk), configured order."""

    rejoin_rule: str
    agents: list[DeskAgent] = []


class QrBody(BaseModel):
    """What the QR code should carry: a ticket's tracking URL (sent in the body: it is the citizen's link)."""

    text: str = Field(min_length=1, max_length=512)


class QrCode(BaseModel):
    """The QR code's modules, one string of 0/1 per row (drawn by the page; quiet zone not included)."""

    size: int
    rows: list[str]


def _desk(who: Principal, hall: str) -> None:
    who.require(hall, *DESK_ROLES)


@router.get("/api/v1/halls/{hall}/desk/appointments", response_model=list[DeskAppointment])
async def desk_appointments(
    hall: str,
    ctx: CtxDep,
    who: PrincipalDep,
    day: Annotated[date | None, Query(alias="date")] = None,
    q: Annotated[str, Query(max_length=32)] = "",
) -> list[DeskAppointment]:
    """A day's appointments (default today) by slot; `q` finds a booking code or the phone's last four digits."""
    ctx.hall(hall)
    _desk(who, hall)
    tz = ctx.zones[hall]
    wanted = day or service_day(utcnow(), tz)
    term = q.strip().upper()

    def read(s: Session) -> list[DeskAppointment]:
        stmt = select(Appointment).where(col(Appointment.hall_code) == hall, col(Appointment.service_day) == wanted)
        if len(term) == 4 and term.isdigit():  # the phone's last four digits (shown unmasked in "138****5678")
            stmt = stmt.where(col(Appointment.phone_masked).endswith(term))
        elif term:
            stmt = stmt.where(col(Appointment.code) == term)
        stmt = stmt.order_by(col(Appointment.slot_start), col(Appointment.id)).limit(MAX_LISTED)
        return [
            DeskAppointment(
                code=a.code,
                queue=a.queue,
                status=a.status,
                channel=a.channel,
                start=a.slot_start.astimezone(tz),
                end=a.slot_end.astimezone(tz),
                name_masked=a.name_masked,
                id_number_masked=a.id_masked,
                phone_masked=a.phone_masked,
                ticket_id=a.ticket_id,
            )
            for a in s.execute(stmt).scalars()
        ]

    return await ctx.read(read)


@router.get("/api/v1/halls/{hall}/desk/no-shows", response_model=list[MissedTicket])
async def desk_no_shows(hall: str, ctx: CtxDep, who: PrincipalDep) -> list[MissedTicket]:
    """Today's tickets that missed their call, latest first, each with whether the hall's rule lets it rejoin."""
    ctx.hall(hall)
    _desk(who, hall)
    tz = ctx.zones[hall]
    now = utcnow()
    today = service_day(now, tz)
    rule = RejoinRule.of(ctx.hall(hall))

    def read(s: Session) -> list[MissedTicket]:
        rows = store.select_tickets(
            s.connection(),
            col(Ticket.hall_code) == hall,
            col(Ticket.service_day) == today,
            col(Ticket.status) == "no_show",
            order=[col(Ticket.finished_at).desc(), col(Ticket.id).desc()],
            limit=MAX_LISTED,
        )
        return [
            MissedTicket(
                id=t.id,
                number=t.number,
                queue=t.queue,
                lane=t.lane,
                window=t.window,
                arrived_at=t.arrived_at.astimezone(tz),
                called_at=t.called_at.astimezone(tz) if t.called_at else None,
                missed_at=t.finished_at.astimezone(tz) if t.finished_at else None,
                recalls=t.recalls,
                phone_masked=t.phone_masked,
                rejoins=t.rejoins,
                rejoin_refusal=rule.refusal(  # the desk shows the citizen: in the ticket's language second
                    lane=t.lane, rejoins=t.rejoins, missed_at=t.finished_at, now=now, lang=t.lang
                ),
            )
            for t in rows
        ]

    return await ctx.read(read)


@router.get("/api/v1/halls/{hall}/desk/setup", response_model=DeskSetup)
async def desk_setup(hall: str, ctx: CtxDep, who: PrincipalDep) -> DeskSetup:
    """The hall's desk setup: its no-show rejoin rule (`rejoin_*` keys of `[[halls]]`) and its desk agents."""
    h = ctx.hall(hall)
    _desk(who, hall)
    names = [d.name for d in ctx.config.devices if d.role == "desk" and d.hall == hall]
    states = await ctx.read(lambda s: agent_states(s, names, utcnow())) if names else []
    agents = [DeskAgent(name=a.name, online=a.online, status=a.status, detail=a.detail) for a in states]
    return DeskSetup(rejoin_rule=RejoinRule.of(h).sentence(), agents=agents)


@router.post("/api/v1/halls/{hall}/desk/qr", response_model=QrCode)
async def desk_qr(hall: str, body: QrBody, ctx: CtxDep, who: PrincipalDep) -> QrCode:
    """The modules of a QR code for the desk to show or print (a ticket's tracking URL)."""
    ctx.hall(hall)
    _desk(who, hall)
    matrix = qr_matrix(body.text)
    return QrCode(size=len(matrix), rows=["".join("1" if m else "0" for m in row) for row in matrix])
