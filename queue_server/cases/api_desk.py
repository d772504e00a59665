"""Staff case API: the case view, actions (acceptance outcomes, decision, output), documents, hand-over lists,
the back-office worklist, and material downloads."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import anyio.to_thread
import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from ..api.deps import CtxDep, PrincipalDep
from ..api.routes.track import ticket_track_url
from ..api.schemas import Text
from ..context import HallContext
from ..errors import Forbidden, HallError, Invalid, NotFound
from ..identity import IdType, document
from ..ids import InvalidIdNumber
from ..models import AuditLog, Ticket
from ..services.auth import Principal
from ..services.tx import HallTx
from ..timeutil import utcnow
from . import chains, items, output, prereview, query, states
from . import documents as docs
from .api_certificates import sign_pending
from .api_submit import hall_of, pdf_response, store_of
from .models import CaseDocument, CaseMaterial
from .outcomes import DEFAULT_VERIFICATION_DAYS, Outcome, apply, commitment_fields, plain_move
from .service import check_staff, load, texts

router = APIRouter(prefix="/api/v1", tags=["cases"])
VIEWERS = ("clerk", "approver", "auditor")
WITH_DOCUMENT = frozenset(
    {"accept", "accept_shortfall", "accept_commitment", "notify_missing", "reject", "supplement", "approve", "refuse"}
)


class Problem(BaseModel):
    """One line of a one-time notice (一次性告知)."""

    material: Text = Field(max_length=64, description="material code (or a name for something not in the list)")
    problem: Text = Field(default="", max_length=200)
    requirement: Text = Field(default="", max_length=300)


class Pending(BaseModel):
    """One material to follow under 容缺受理."""

    material: Text = Field(max_length=64)
    requirement: Text = Field(default="", max_length=300)


class ActionBody(BaseModel):
    """What an action needs; each action reads only its own fields."""

    note: Text = Field(default="", max_length=500)
    window: Text = Field(default="", max_length=64, description="the window's name, printed on documents")
    problems: list[Problem] = Field(default_factory=list, max_length=50)
    reason: Text = Field(default="", max_length=1000)
    legal_basis: Text = Field(default="", max_length=300)
    competent_authority: Text = Field(default="", max_length=100)
    pending: list[Pending] = Field(default_factory=list, max_length=20)
    supplement_by: date | None = None
    commitments: list[str] = Field(default_factory=list, max_length=20)
    signed: bool = False
    verification_days: int = Field(default=DEFAULT_VERIFICATION_DAYS, ge=1, le=365)
    recipient: Text = Field(default="", max_length=64)
    address: Text = Field(default="", max_length=300)
    waybill: Text = Field(default="", max_length=32, pattern=r"^[A-Za-z0-9]*$")
    signed_by: Text = Field(default="", max_length=64)
    card_id_number: Text | None = Field(
        default=None, max_length=32, description="accepting a web case: the ID number of the card read at the window"
    )


Action = Literal[
    "accept",
    "accept_shortfall",
    "accept_commitment",
    "notify_missing",
    "reject",
    "resubmit",
    "supplement",
    "review",
    "approve",
    "refuse",
    "ready",
    "deliver",
    "mail",
    "sign",
    "withdraw",
]


def outcome_of(action: str, body: ActionBody) -> Outcome:
    """The outcome an action's body describes (a case's, or a chain's for all its members)."""
    return Outcome(
        action=action,
        note=body.note,
        window=body.window,
        problems=[p.model_dump() for p in body.problems],
        reason=body.reason,
        legal_basis=body.legal_basis,
        competent_authority=body.competent_authority,
        pending=[p.model_dump() for p in body.pending],
        supplement_by=body.supplement_by,
        commitments=body.commitments,
        signed=body.signed,
        verification_days=body.verification_days,
    )


def _today(ctx: HallContext, hall: str) -> date:
    return utcnow().astimezone(ctx.zones[hall]).date()


async def _view(ctx: HallContext, number: str, who: Principal) -> dict[str, Any]:
    hall = await hall_of(ctx, number)
    check_staff(who, hall, *VIEWERS)
    return await ctx.read_hall(
        hall, lambda r: query.staff(r.session, load(r.session, number), r.hall_calendar, r.now.date(), who.role)
    )


@router.get("/cases/{number}")
async def get_case(number: str, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """The case for staff of its hall: masked applicant, history (who, when), materials, documents, actions."""
    return await _view(ctx, number, who)


@router.post("/cases/{number}/reveal")
async def reveal(number: str, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """The applicant's name, ID number, phone and form answers in clear, for reviewing them (clerk, approver).

    Every reveal is written to the audit log; nothing of it is ever cached or broadcast.
    """
    hall = await hall_of(ctx, number)
    check_staff(who, hall, "clerk", "approver")

    def run(tx: HallTx) -> dict[str, Any]:
        c = load(tx.session, number)
        tx.session.add(AuditLog(at=tx.now, actor=who.name, action="reveal", hall_code=hall, subject=f"case:{number}"))
        decrypt = ctx.cipher.decrypt
        return {
            "number": c.number,
            "name": decrypt(c.name_enc, context="name"),
            "id_number": decrypt(c.id_enc, context="id_number"),
            "phone": decrypt(c.phone_enc, context="phone") if c.phone_enc else None,
            "form": orjson.loads(decrypt(c.form_enc, context="case_form")),
        }

    return await ctx.change(hall, run)


@router.get("/halls/{hall}/cases")
async def list_cases(
    hall: str,
    ctx: CtxDep,
    who: PrincipalDep,
    status: Annotated[list[str] | None, Query()] = None,
    id_number: Annotated[str | None, Query(max_length=32, deprecated=True)] = None,
) -> list[dict[str, Any]]:
    """Cases of the hall (staff), optionally by status; deadline first. By ID number: POST …/cases/search."""
    ctx.hall(hall)  # 404 for an unknown hall
    check_staff(who, hall, *VIEWERS)
    if id_number is not None:  # a URL ends up in access logs and browser histories: never an ID number
        raise HallError(
            f"证件号码请放在 POST /api/v1/halls/{hall}/cases/search 的请求体中 / "
            f"Send the ID number in the body of POST /api/v1/halls/{hall}/cases/search"
        )
    wanted = _statuses(status)
    statuses = wanted or frozenset(states.STATES)
    return await ctx.read_hall(hall, lambda r: query.worklist(r.session, hall, r.hall_calendar, r.now.date(), statuses))


class PersonQuery(BaseModel):
    """Whose cases: the applicant's ID number (in the body, never in a URL), optionally of these statuses."""

    id_number: Text = Field(max_length=32)
    id_type: IdType | None = None  # the document (identity.document); None: told by the number's shape
    nationality: Text | None = Field(default=None, max_length=3)
    status: list[str] | None = Field(default=None, max_length=20)


@router.post("/halls/{hall}/cases/search")
async def search_cases(hall: str, body: PersonQuery, ctx: CtxDep, who: PrincipalDep) -> list[dict[str, Any]]:
    """Cases of the hall by the applicant's ID number (staff), deadline first."""
    ctx.hall(hall)  # 404 for an unknown hall
    check_staff(who, hall, *VIEWERS)
    wanted = _statuses(body.status)
    try:
        digest = ctx.cipher.keyed_hash(document(body.id_type, body.id_number, body.nationality).key)
    except InvalidIdNumber as exc:
        raise Invalid(str(exc)) from None
    return await ctx.read_hall(
        hall,
        lambda r: [
            query.listing(r.session, c, r.hall_calendar, r.now.date())
            for c in query.by_person(r.session, hall, digest)
            if wanted is None or c.status in wanted
        ],
    )


def _statuses(status: list[str] | None) -> frozenset[str] | None:
    bad = [s for s in status or [] if s not in states.STATES]
    if bad:
        raise Invalid(f"未知状态 / Unknown status: {', '.join(bad)} (known: {', '.join(states.STATES)})")
    return frozenset(status) if status else None


@router.get("/halls/{hall}/worklist")
async def worklist(hall: str, ctx: CtxDep, who: PrincipalDep) -> list[dict[str, Any]]:
    """The back-office worklist: cases whose time limit runs, nearest deadline first, with the traffic light."""
    ctx.hall(hall)  # 404 for an unknown hall
    check_staff(who, hall, *VIEWERS)
    return await ctx.read_hall(hall, lambda r: query.worklist(r.session, hall, r.hall_calendar, r.now.date()))


@router.get("/tickets/{ticket_id}/cases")
async def cases_of_ticket(ticket_id: int, ctx: CtxDep, who: PrincipalDep) -> list[dict[str, Any]]:
    """A called ticket's citizen's cases (by the ID number's keyed hash), for the clerk at the window."""

    def run(s: Session) -> list[dict[str, Any]]:
        t = s.get(Ticket, ticket_id)
        if t is None:
            raise NotFound("没有这张票 / No such ticket")
        check_staff(who, t.hall_code, "clerk")
        if not t.id_hash:
            return []
        cal, today = ctx.calendars[t.hall_code], _today(ctx, t.hall_code)
        return [query.listing(s, c, cal, today) for c in query.by_person(s, t.hall_code, t.id_hash)]

    return await ctx.read(run)


@router.post("/cases/{number}/actions/{action}")
async def act(
    number: str, action: Action, body: ActionBody, request: Request, ctx: CtxDep, who: PrincipalDep
) -> dict[str, Any]:
    """Take an action on a case: 403 for a role that may never take it, 409 when the state does not allow it."""
    hall = await hall_of(ctx, number)
    if not who.in_hall(hall):
        raise Forbidden("不能操作其他大厅的办件 / This case belongs to another hall")
    if who.kind != "user" and action not in ("resubmit",):
        raise Forbidden("此操作需要工作人员登录 / Staff only")

    def run(tx: HallTx) -> dict[str, Any]:
        """The action; what its answer adds to the case view (documents issued, the pickup code)."""
        chains.locked(tx.session, load(tx.session, number), action)  # 一链办理: 409 naming the chain's route
        if action in prereview.CARD_CHECKED:  # a web case is bound to the ID number it was given
            prereview.check_card(tx.pii, load(tx.session, number), action, body.card_id_number)
        if action in WITH_DOCUMENT:
            o = outcome_of(action, body)
            _, issued = apply(tx, number=number, o=o, who=who, cal=tx.hall_calendar, tz=tx.tz)
            return {"documents": [{"id": d.id, "kind": d.kind, "document_no": d.document_no} for d in issued]}
        if action == "ready":
            _, code = output.ready(tx, number=number, who=who, cipher=tx.pii)
            return {"pickup_code": code}
        if action == "deliver":
            output.deliver_at_window(tx, number=number, who=who, note=body.note)
        elif action == "mail":
            output.mail(
                tx,
                number=number,
                who=who,
                cipher=tx.pii,
                recipient=body.recipient,
                address=body.address,
                waybill=body.waybill,
            )
        elif action == "sign":
            output.sign(tx, number=number, who=who, signed_by=body.signed_by)
        else:
            plain_move(tx, number=number, action=action, who=who, note=body.note)
        return {}

    extra = await ctx.change(hall, run)
    if action == "approve":  # the 电子证照 the approval issued, drawn and signed now (off the writer)
        await sign_pending(ctx, request, number)
    for d in extra.get("documents", []):
        d["url"] = f"/api/v1/cases/{number}/documents/{d['id']}.pdf"
    view = await ctx.read_hall(
        hall, lambda r: query.staff(r.session, load(r.session, number), r.hall_calendar, r.now.date(), who.role)
    )
    return view | extra


@router.get("/cases/{number}/documents/{doc_id}.pdf")
async def document_pdf(number: str, doc_id: int, ctx: CtxDep, who: PrincipalDep) -> Response:
    """A document of the case as PDF (staff of the hall; ID numbers in full only for clerks and approvers).
    Every download is written to the audit log."""
    hall = await hall_of(ctx, number)
    check_staff(who, hall, *VIEWERS)

    full = docs.full_id_for(who)

    def run(tx: HallTx) -> docs.Printable:
        c = load(tx.session, number)
        d = tx.session.get(CaseDocument, doc_id)
        if d is None or d.case_id != c.id:
            raise NotFound("没有这份文书 / No such document")
        tx.session.add(docs.downloaded(who, hall, f"case:{number}", d.kind, tx.now))
        return docs.printable(d, None if d.kind == "handover_list" else c, tx.pii, full_id=full)

    p = await ctx.change(hall, run)
    pdf = await anyio.to_thread.run_sync(lambda: docs.render(p))
    return pdf_response(pdf, f"{number}-{p.kind}.pdf")


@router.get("/cases/{number}/commitment-letter.pdf")
async def commitment_preview(
    number: str,
    ctx: CtxDep,
    who: PrincipalDep,
    commitments: Annotated[list[str], Query(min_length=1, max_length=20)],
    verification_days: Annotated[int, Query(ge=1, le=365)] = DEFAULT_VERIFICATION_DAYS,
) -> Response:
    """The 告知承诺书 to print for the applicant to sign, before `accept_commitment` (clerk; nothing is stored)."""
    hall = await hall_of(ctx, number)
    check_staff(who, hall, "clerk")
    h, tz = ctx.hall(hall), ctx.zones[hall]

    def run(s: Session) -> CaseDocument:
        c = load(s, number)
        item = items.as_item(items.version_by_id(s, c.item_id))
        fields = docs.base_fields(h, c, item.name, tz) | {"issue_date": _today(ctx, hall)}
        fields |= commitment_fields(item, c, commitments, verification_days)
        data = orjson.dumps(texts(fields)).decode()
        return CaseDocument(
            case_id=c.id or 0,
            kind="commitment_letter",
            document_no="（待编号）",
            data=data,
            created_at=utcnow(),
            created_by=who.name,
        )

    d = await ctx.read(run)

    full = docs.full_id_for(who)

    def audited(tx: HallTx) -> docs.Printable:
        tx.session.add(docs.downloaded(who, hall, f"case:{number}", "commitment_letter", tx.now))
        return docs.printable(d, load(tx.session, number), tx.pii, full_id=full)

    p = await ctx.change(hall, audited)
    pdf = await anyio.to_thread.run_sync(lambda: docs.render(p))
    return pdf_response(pdf, f"{number}-commitment-letter.pdf")


@router.get("/cases/{number}/materials/{material_id}")
async def material_file(number: str, material_id: int, ctx: CtxDep, who: PrincipalDep) -> FileResponse:
    """An uploaded material (clerk, approver, auditor of the hall); every read is written to the audit log."""
    hall = await hall_of(ctx, number)
    check_staff(who, hall, *VIEWERS)

    def run(tx: HallTx) -> tuple[str, str, str]:
        c = load(tx.session, number)
        m = tx.session.get(CaseMaterial, material_id)
        if m is None or m.case_id != c.id:
            raise NotFound("没有这份材料 / No such material")
        tx.session.add(
            AuditLog(at=tx.now, actor=who.name, action="case.material", hall_code=hall, subject=f"case:{number}")
        )
        return m.storage_name, m.content_type, m.material

    storage_name, content_type, material = await ctx.change(hall, run)
    path = store_of(ctx).path(storage_name)
    if not path.is_file():
        raise NotFound("材料文件缺失 / The stored file is missing")
    ext = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}[content_type]
    return FileResponse(
        path,
        media_type=content_type,
        filename=f"{number}-{material}-{material_id}.{ext}",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/cases/{number}/pickup-ticket", status_code=201)
async def pickup_ticket(number: str, request: Request, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """A ticket of the hall's 统一出件 queue for a ready result (kiosk or clerk); a repeat the same day returns it."""
    hall = await hall_of(ctx, number)
    if not who.in_hall(hall) or who.role not in ("kiosk", "clerk", "admin"):
        raise Forbidden("无权为此办件取出件号 / You may not take a pickup ticket for this case")

    def run(tx: HallTx) -> Any:
        chains.locked(tx.session, load(tx.session, number), "pickup_ticket")  # 一链办理: the chain hands over as one
        return output.pickup_ticket(tx, number=number, who=who)

    t = await ctx.change(hall, run)
    return {
        "case": number,
        "ticket": {"id": t.ticket.id, "number": t.ticket.number, "queue": t.ticket.queue, "ahead": t.ahead},
        "track_token": t.ticket.track_token,
        "track_url": ticket_track_url(ctx.hall(hall), request, t.ticket.track_token),
    }
