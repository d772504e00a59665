"""Hand-over lists (移交清单): a batch of accepted cases from the front desk to the back office, with its PDF."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import Session, col

from ..api.deps import CtxDep, PrincipalDep
from ..errors import Conflict, NotFound
from ..services.ticketing import staff_names
from ..services.tx import HallTx
from . import documents as docs
from .api_submit import pdf_response
from .models import Case, CaseDocument, CaseHandover
from .outcomes import handover
from .service import check_staff

router = APIRouter(prefix="/api/v1", tags=["cases"])
VIEWERS = ("clerk", "approver", "auditor")


class HandoverBody(BaseModel):
    """The cases of one hand-over list."""

    cases: list[str] = Field(min_length=1, max_length=200)


@router.post("/halls/{hall}/handovers", status_code=201)
async def create_handover(hall: str, body: HandoverBody, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """A hand-over list (移交清单) of accepted cases to the back office, with its PDF."""
    ctx.hall(hall)  # 404 for an unknown hall

    def run(tx: HallTx) -> tuple[str, int | None]:
        h, d = handover(tx, numbers=body.cases, who=who)
        return h.number, d.id

    number, doc_id = await ctx.change(hall, run)
    return {"number": number, "cases": body.cases, "url": f"/api/v1/halls/{hall}/handovers/{number}.pdf", "id": doc_id}


def _handover_out(s: Session, h: CaseHandover, cases: list[str]) -> dict[str, Any]:
    """A list as the pages show it; staff by username and by display name (`*_name`: 王芳)."""
    names = staff_names(s.connection())
    return {
        "number": h.number,
        "created_at": h.created_at.isoformat(),
        "created_by": h.created_by,
        "received_at": h.received_at.isoformat() if h.received_at else None,
        "received_by": h.received_by,
        "created_by_name": names.get(h.created_by, h.created_by),
        "received_by_name": names.get(h.received_by, h.received_by) if h.received_by else None,
        "cases": cases,
        "url": f"/api/v1/halls/{h.hall_code}/handovers/{h.number}.pdf",
    }


def _handover_cases(s: Session, h: CaseHandover) -> list[str]:
    stmt = select(col(Case.number)).where(col(Case.handover_id) == h.id).order_by(col(Case.number))
    return list(s.execute(stmt).scalars())


@router.get("/halls/{hall}/handovers")
async def list_handovers(hall: str, ctx: CtxDep, who: PrincipalDep) -> list[dict[str, Any]]:
    """The hall's hand-over lists, newest first, with their cases and whether the back office signed for them."""
    ctx.hall(hall)  # 404 for an unknown hall
    check_staff(who, hall, *VIEWERS)

    def run(s: Session) -> list[dict[str, Any]]:
        stmt = select(CaseHandover).where(col(CaseHandover.hall_code) == hall).order_by(col(CaseHandover.id).desc())
        return [_handover_out(s, h, _handover_cases(s, h)) for h in s.execute(stmt).scalars()]

    return await ctx.read(run)


@router.post("/halls/{hall}/handovers/{number}/receive")
async def receive_handover(hall: str, number: str, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """The back office signs for a hand-over list (approver); 409 when it was already received."""
    ctx.hall(hall)  # 404 for an unknown hall
    check_staff(who, hall, "approver")

    def run(tx: HallTx) -> dict[str, Any]:
        h = tx.session.execute(
            select(CaseHandover)
            .where(col(CaseHandover.hall_code) == hall, col(CaseHandover.number) == number)
            .with_for_update()
        ).scalar_one_or_none()
        if h is None:
            raise NotFound("没有这份移交清单 / No such hand-over list")
        if h.received_at is not None:
            by = staff_names(tx.session.connection()).get(h.received_by, h.received_by)
            raise Conflict(f"移交清单已由 {by} 签收 / Already received by {by}")
        h.received_at, h.received_by = tx.now, who.name
        tx.session.add(h)
        tx.session.flush()
        return _handover_out(tx.session, h, _handover_cases(tx.session, h))

    return await ctx.change(hall, run)


@router.get("/halls/{hall}/handovers/{number}.pdf")
async def handover_pdf(hall: str, number: str, ctx: CtxDep, who: PrincipalDep) -> Response:
    """The hand-over list as PDF (staff of the hall; every download is audited)."""
    ctx.hall(hall)  # 404 for an unknown hall
    check_staff(who, hall, *VIEWERS)

    def run(tx: HallTx) -> docs.Printable:
        s = tx.session
        h = s.execute(
            select(CaseHandover).where(col(CaseHandover.hall_code) == hall, col(CaseHandover.number) == number)
        ).scalar_one_or_none()
        d = s.get(CaseDocument, h.document_id) if h is not None and h.document_id is not None else None
        if d is None:
            raise NotFound("没有这份移交清单 / No such hand-over list")
        s.add(docs.downloaded(who, hall, f"handover:{number}", d.kind, tx.now))
        return docs.printable(d, None, tx.pii)

    p = await ctx.change(hall, run)
    pdf = await anyio.to_thread.run_sync(lambda: docs.render(p))
    return pdf_response(pdf, f"{number}.pdf")
