"""The clerk console (/console) and the hall supervisor view (/console/hall): pages and their read models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from sqlmodel import Session, col, select

from ...crypto import PiiDecryptError
from ...errors import NotFound
from ...models import Appointment, AuditLog, Ticket
from ...services import console as svc
from ...services.ticketing import check_clerk_window, check_reveal_window, ticket_row
from ...services.tx import HallTx
from ..deps import CtxDep, PrincipalDep
from ..schemas import TicketId, WindowNo

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "web" / "console"
# The pages hold no data (it comes from the API with a bearer token); their CSP and framing rules are
# every page's (api/headers.py, added by the app's middleware).
PAGE_HEADERS = {"Cache-Control": "no-cache"}

router = APIRouter(tags=["console"])
router.mount("/static/console", StaticFiles(directory=CONSOLE_DIR), name="console-static")


@router.get("/console", include_in_schema=False)
def console_page() -> Response:
    """The clerk console: log in, pick a window, call and serve."""
    return FileResponse(CONSOLE_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/console/hall", include_in_schema=False)
def hall_page() -> Response:
    """The hall supervisor view: windows, queues, devices, alerts, notice, failed messages."""
    return FileResponse(CONSOLE_DIR / "hall.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/console/cases", include_in_schema=False)
def backoffice_page() -> Response:
    """The back office and output page: hand-over lists, deadline worklist, decisions, delivery of results."""
    return FileResponse(CONSOLE_DIR / "backoffice.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/api/v1/halls/{hall}/console/windows/{number}")
async def window_desk(
    hall: str, number: WindowNo, ctx: CtxDep, who: PrincipalDep, counts: bool = True
) -> dict[str, Any]:
    """One window's desk for its clerk: current ticket, waiting list by domain, held tickets, today's counts.

    `counts=false` leaves today's counts out (`null`): cheaper, for a refresh caused by another window.
    """
    ctx.hall(hall)
    who.require(hall, "clerk")
    check_clerk_window(who, number)
    return await ctx.read_hall(hall, lambda r: svc.window_desk(r, number, with_counts=counts))


@router.get("/api/v1/halls/{hall}/console/overview")
async def hall_overview(hall: str, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """The supervisor view of a hall (any staff role of the hall; no personal data); `replica`: where the
    reports read and how far behind it is (db.py, `Replica.status`), null without one."""
    ctx.hall(hall)
    who.require(hall, "clerk", "approver", "auditor")
    alerts = set(ctx.alerts)
    replica = ctx.db.replica
    return await ctx.read_hall(
        hall, lambda r: svc.hall_overview(r, alerts=alerts) | {"replica": replica.status() if replica else None}
    )


class Unmasked(BaseModel):
    """A ticket holder's personal data in full (audited): name only when it came from an appointment."""

    id: int
    name: str | None
    phone: str | None
    id_number: str | None


@router.post("/api/v1/console/tickets/{ticket_id}/reveal", response_model=Unmasked)
async def reveal(ticket_id: TicketId, ctx: CtxDep, who: PrincipalDep) -> Unmasked:
    """Show the name, phone and ID number of a ticket at the clerk's window; every look is audited."""

    def hall_of(s: Session) -> str | None:
        return s.execute(select(col(Ticket.hall_code)).where(col(Ticket.id) == ticket_id)).scalar_one_or_none()

    hall = await ctx.read(hall_of)
    if hall is None:
        raise NotFound("没有这张票 / No such ticket")
    who.require(hall, "clerk")

    def run(tx: HallTx) -> Unmasked:
        t = ticket_row(tx, ticket_id)
        check_reveal_window(who, t, tx.hall_config)
        tx.session.add(
            AuditLog(at=tx.now, actor=who.name, action="reveal", hall_code=hall, subject=f"ticket:{ticket_id}")
        )
        a = tx.session.execute(select(Appointment).where(col(Appointment.ticket_id) == ticket_id)).scalars().first()

        def plain(token: str | None, context: str) -> str | None:
            if not token:
                return None
            try:
                return tx.pii.decrypt(token, context=context)
            except PiiDecryptError:
                return None

        return Unmasked(
            id=ticket_id,
            name=plain(a.name_enc, "name") if a is not None else None,
            phone=plain(t.phone_enc or (a.phone_enc if a else None), "phone"),
            id_number=plain(t.id_enc or (a.id_enc if a else None), "id_number"),
        )

    return await ctx.change(hall, run)
