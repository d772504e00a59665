"""网上预审 routes: the web applicant's phone code and proof, the case as its applicant sees it, the fix and
resubmission, the slot of a passed case (public, rate-limited); the clerk's pre-review list, pass and return;
the application page `/cases/apply`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlmodel import Session, col

from ..api.deps import CtxDep, PrincipalDep
from ..api.schemas import Text
from ..context import HallContext
from ..errors import Invalid, NotFound
from ..ids import mask_phone
from ..notify import verify
from ..ratelimit import client_of, guard_proof
from ..services import appointments, remote
from ..services.tx import HallTx
from ..timeutil import utcnow
from . import chains, items, prereview, query, states
from .api_certificates import sign_pending
from .api_submit import WEB_DIR, bad_data, commit_files, hall_of, staged_files
from .models import Case, CaseChain, CaseMaterial
from .service import check_move, check_staff, load
from .storage import Checked

router = APIRouter(prefix="/api/v1", tags=["cases"])
pages = APIRouter(tags=["cases"])
CODE_PER_IP_HOUR = 20  # codes asked for (and spent) from one address in an hour
CODE_PER_PHONE_HOUR = 6  # … for one phone
WRONG = "办件编号或查询凭证不正确 / Wrong case number or proof"
PhoneProof = Annotated[str | None, Header(alias="X-Phone-Proof", max_length=512)]
CaseProof = Annotated[str | None, Header(alias="X-Case-Proof", max_length=32)]


class CodeBody(BaseModel):
    """Step 1: the phone to prove (a one-time code is sent to it)."""

    phone: Text = Field(max_length=32, description="mainland mobile number")


class ProofBody(CodeBody):
    """Step 2: the code the phone got, for a proof the page sends with each step (`X-Phone-Proof`)."""

    code: str = Field(pattern=r"^[0-9]{6}$")


class CodeSent(BaseModel):
    """The code is on its way."""

    phone_masked: str
    expires_in_s: int


class Proven(BaseModel):
    """The phone's proof: sent as `X-Phone-Proof` to submit, open, fix and book (until it expires)."""

    proof: str
    phone_masked: str
    expires_in_s: int


class FixLine(BaseModel):
    """One line of a return's notice: a material or form field of the case (or `other`) and what to fix."""

    kind: Literal["material", "field", "other"]
    code: Text = Field(default="", max_length=32)
    problem: Text = Field(default="", max_length=300)


class ReturnBody(BaseModel):
    """The one-time notice of a return: every material and field to fix, and free text."""

    fixes: list[FixLine] = Field(default_factory=list, max_length=60)
    note: Text = Field(default="", max_length=prereview.NOTICE_NOTE_MAX)


class PassBody(BaseModel):
    """A pass, with an optional note for the history."""

    note: Text = Field(default="", max_length=500)


class ResubmitBody(BaseModel):
    """The JSON part (`data`) of a fix: the form's answers again (omitted: unchanged)."""

    form: dict[str, str | int | float | bool | None] | None = None


class BookBody(BaseModel):
    """A slot of the item's queue (`GET /api/v1/halls/{hall}/slots`)."""

    start: datetime


async def _phone(ctx: HallContext, request: Request, raw: str, step: str) -> str:
    return await verify.guard_phone(
        ctx.limiter,
        ctx.cipher,
        raw,
        step=step,
        client=client_of(request),
        per_ip=CODE_PER_IP_HOUR,
        per_phone=CODE_PER_PHONE_HOUR,
    )


@router.post("/halls/{hall}/web-cases/code", status_code=202, response_model=CodeSent, tags=["public"])
async def send_code(hall: str, body: CodeBody, request: Request, ctx: CtxDep) -> CodeSent:
    """网上申报, step 1: send the phone a one-time code (5 minutes, 5 tries) through the silent-calling channel;
    at any hour (the hall need not be open). Rate-limited per client address and per phone (429)."""
    ctx.hall(hall)
    phone = await _phone(ctx, request, body.phone, "web-code")
    await ctx.change(hall, lambda tx: verify.send_code(tx, cipher=tx.pii, phone=phone, purpose="case"))
    return CodeSent(phone_masked=mask_phone(phone), expires_in_s=int(verify.CODE_TTL.total_seconds()))


@router.post("/halls/{hall}/web-cases/proof", response_model=Proven, tags=["public"])
async def prove(hall: str, body: ProofBody, request: Request, ctx: CtxDep) -> Proven:
    """网上申报, step 2: spend the phone's code for a proof valid 30 minutes. 422 for a wrong or expired code (a
    wrong try counts: five kill the code); rate-limited per client address and per phone (429)."""
    ctx.hall(hall)
    phone = await _phone(ctx, request, body.phone, "web-proof")
    ok = await ctx.change(hall, lambda tx: verify.use_code(tx, cipher=tx.pii, phone=phone, code=body.code))
    if not ok:
        raise Invalid(remote.WRONG_CODE)
    proof = prereview.make_proof(ctx.cipher, hall=hall, phone=phone, now=utcnow())
    return Proven(proof=proof, phone_masked=mask_phone(phone), expires_in_s=int(prereview.PROOF_TTL.total_seconds()))


def web_case(s: Session, ctx: HallContext, number: str, case_proof: str | None, phone_proof: str | None) -> Case:
    """A web case opened by its applicant: with the receipt's query code, or a live proof of the case's phone."""
    try:
        c = load(s, number)
    except NotFound:
        raise NotFound(WRONG) from None
    if c.channel == "web":
        if case_proof:
            return query.by_proof(s, ctx.cipher, number, case_proof, last4=False)
        phone = prereview.proven_phone(ctx.cipher, phone_proof, hall=c.hall_code, now=utcnow())
        if phone is not None and prereview.phone_of(ctx.cipher, c) == phone:
            return c
    raise NotFound(WRONG)


def citizen(s: Session, ctx: HallContext, c: Case) -> dict[str, Any]:
    """The case as its applicant sees it: the public timeline, the form's answers, the files sent, the notice of
    a return, the queue to book and the appointment booked."""
    row = items.version_by_id(s, c.item_id)
    item = items.as_item(row)
    tz = ctx.zones[c.hall_code]
    mats = s.execute(select(CaseMaterial).where(col(CaseMaterial.case_id) == c.id).order_by(col(CaseMaterial.id)))
    booked = c.appointment_code is not None
    queue = prereview.queue_of(ctx.hall(c.hall_code), item) if c.status == states.PREREVIEW_PASSED else None
    return query.public(s, c, ctx.calendars[c.hall_code], utcnow().astimezone(tz).date()) | {
        "channel": c.channel,
        "situation": c.situation,
        "id_number_masked": c.id_masked,
        "phone_masked": c.phone_masked,
        "query_token": c.query_token,
        "form": orjson.loads(ctx.cipher.decrypt(c.form_enc, context="case_form")),
        "materials": [
            {"material": m.material, "content_type": m.content_type, "size": m.size, "at": m.uploaded_at.isoformat()}
            for m in mats.scalars()
        ],
        "notice": prereview.shown_notice(c),
        "prereview_output": item.prereview_output,
        "queue": None if booked else queue,
        "appointment": booked_view(s, c, tz),
        "item_detail": items.detail(row),
    }


def booked_view(s: Session, c: Case, tz: Any) -> dict[str, Any] | None:
    """The slot a passed web case (or its chain) booked, on the hall's clock."""
    booked = appointments.find(s, c.appointment_code) if c.appointment_code else None
    if booked is None:
        return None
    return {
        "code": booked.code,
        "status": booked.status,
        "queue": booked.queue,
        "start": booked.slot_start.astimezone(tz).isoformat(),
        "end": booked.slot_end.astimezone(tz).isoformat(),
    }


async def opened(ctx: HallContext, request: Request, number: str, *, chain: bool = False) -> str:
    """Count one try at a case's (or a chain's) proof (per address, per number: 429), and its hall (404 as a
    wrong proof would, so a number alone tells nothing)."""
    await guard_proof(ctx.limiter, request, "case-query", number.strip().upper())
    try:
        if chain:
            return await ctx.read(lambda s: chains.load_chain(s, number).hall_code)
        return await hall_of(ctx, number)
    except NotFound:
        raise NotFound(WRONG) from None


async def fixed(
    ctx: HallContext, request: Request, hall: str, check: Callable[[Session], object], fix: Callable[..., None]
) -> None:
    """A citizen's fix of a returned case or chain: `check` (the proof and the state) before the upload is read,
    then the multipart `data` (JSON `ResubmitBody`) and files, then `fix(tx, form, files)` in the change."""
    await ctx.read(check)
    fields, files, names = await staged_files(ctx, request, ctx.hall(hall).case_upload_max_kb * 1024)
    try:
        body = ResubmitBody.model_validate_json(fields.get("data") or "{}")
    except ValidationError as exc:
        ctx.materials.discard(names)
        raise bad_data(exc) from None
    form = dict(body.form) if body.form is not None else None
    await commit_files(ctx, names, lambda: ctx.change(hall, lambda tx: fix(tx, form, files)))


@router.get("/web-cases/{number}", tags=["public"])
async def get_web_case(
    number: str, request: Request, ctx: CtxDep, case_proof: CaseProof = None, phone_proof: PhoneProof = None
) -> dict[str, Any]:
    """A web case for its applicant (`X-Case-Proof`: the receipt's query code, or `X-Phone-Proof` of the case's
    phone): status, the notice of a return, the answers and files, the slot. Rate-limited like the case query."""
    await opened(ctx, request, number)
    return await ctx.read(lambda s: citizen(s, ctx, web_case(s, ctx, number, case_proof, phone_proof)))


@router.post("/web-cases/{number}/resubmit", tags=["public"])
async def resubmit(
    number: str, request: Request, ctx: CtxDep, case_proof: CaseProof = None, phone_proof: PhoneProof = None
) -> dict[str, Any]:
    """The fixed application of a returned web case: multipart `data` (JSON: `form`, optional) and files
    `file.<material>` (the same checks and limits as a submission); back to pre-review."""
    hall = await opened(ctx, request, number)

    def check(s: Session) -> str:
        c = web_case(s, ctx, number, case_proof, phone_proof)
        chains.locked(s, c, "prereview_resubmit")  # a chain's member is fixed with its chain
        return check_move(c, "prereview_resubmit", None)

    def fix(tx: HallTx, form: dict[str, Any] | None, files: list[tuple[str, Checked]]) -> None:
        check(tx.session)
        prereview.resubmit(tx, c=load(tx.session, number, lock=True), form=form, files=files, cipher=tx.pii)

    await fixed(ctx, request, hall, check, fix)
    return await ctx.read(lambda s: citizen(s, ctx, load(s, number)))


@router.post("/web-cases/{number}/appointment", status_code=201, tags=["public"])
async def book_slot(
    number: str,
    body: BookBody,
    request: Request,
    ctx: CtxDep,
    case_proof: CaseProof = None,
    phone_proof: PhoneProof = None,
) -> dict[str, Any]:
    """A slot of the item's queue for a web case that passed pre-review, in the bound applicant's name (409 when
    not passed, booked already, full, or the item takes no appointments)."""
    hall = await opened(ctx, request, number)

    def run(tx: HallTx) -> None:
        c = web_case(tx.session, ctx, number, case_proof, phone_proof)
        chains.locked(tx.session, c, "appointment")  # a chain books one slot for all its members
        prereview.book(tx, c=load(tx.session, c.number, lock=True), start=body.start, cipher=tx.pii)

    await ctx.change(hall, run)
    return await ctx.read(lambda s: citizen(s, ctx, load(s, number)))


# --- staff ---------------------------------------------------------------------------------------------------


@router.get("/halls/{hall}/prereview")
async def prereview_list(
    hall: str,
    ctx: CtxDep,
    who: PrincipalDep,
    status: Annotated[list[Literal["prereview", "prereview_returned", "prereview_passed"]] | None, Query()] = None,
) -> list[dict[str, Any]]:
    """The 网上预审 list (clerk): web cases waiting for pre-review (or `status`), oldest first, masked."""
    ctx.hall(hall)  # 404 for an unknown hall
    check_staff(who, hall, "clerk")
    wanted = frozenset(status or [states.PREREVIEW])

    def line(r: Any, c: Case) -> dict[str, Any]:
        return query.listing(r.session, c, r.hall_calendar, r.now.date()) | {
            "kind": "case",
            "phone_masked": c.phone_masked,
            "id_number_masked": c.id_masked,
            "updated_at": c.updated_at.isoformat(),
        }

    def run(r: Any) -> list[dict[str, Any]]:
        where = (col(Case.hall_code) == hall, col(Case.status).in_(sorted(wanted)))
        singles = r.session.execute(select(Case).where(*where, col(Case.chain_id).is_(None))).scalars()
        out = [(c.updated_at, c.id or 0, line(r, c)) for c in singles]
        # 一链办理: the chain is pre-reviewed as one: one entry, with its members
        rows = select(CaseChain).where(col(CaseChain.hall_code) == hall, col(CaseChain.status).in_(sorted(wanted)))
        for row in r.session.execute(rows).scalars():
            members = [line(r, c) for c in chains.members_of(r.session, row)]
            if not members:
                continue
            entry = members[0] | {
                "kind": "chain",
                "number": row.number,
                "item": row.code,
                "item_name": row.name,
                "item_name_en": row.name_en,
                "status": row.status,
                "status_label": states.label(row.status),
                "applicant_masked": row.name_masked,
                "id_number_masked": row.id_masked,
                "submitted_at": row.submitted_at.isoformat(),
                "updated_at": row.updated_at.isoformat(),
                "smart_failed": [],
                "chain": None,
                "members": members,
            }
            out.append((row.updated_at, -(row.id or 0), entry))
        return [e for _, _, e in sorted(out, key=lambda t: (t[0], t[1]))]

    return await ctx.read_hall(hall, run)


async def _staff_view(ctx: HallContext, number: str, role: str) -> dict[str, Any]:
    hall = await hall_of(ctx, number)
    return await ctx.read_hall(
        hall, lambda r: query.staff(r.session, load(r.session, number), r.hall_calendar, r.now.date(), role)
    )


@router.post("/cases/{number}/prereview/pass")
async def pass_prereview(
    number: str, body: PassBody, request: Request, ctx: CtxDep, who: PrincipalDep
) -> dict[str, Any]:
    """Pass the pre-review (clerk): the citizen books a slot, or (`prereview_output` items) the result is ready at
    once. 409 unless the case waits for pre-review."""
    hall = await hall_of(ctx, number)
    check_staff(who, hall, "clerk")

    def run(tx: HallTx) -> bool:
        chains.locked(tx.session, load(tx.session, number), "prereview_pass")  # a chain is passed as one
        return prereview.pass_case(tx, number=number, who=who, note=body.note)

    output = await ctx.change(hall, run)
    if output:  # a licence item's certificate, signed now (off the writer)
        await sign_pending(ctx, request, number)
    return await _staff_view(ctx, number, who.role) | {"output": output}


@router.post("/cases/{number}/prereview/return")
async def return_prereview(number: str, body: ReturnBody, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """Return the case (clerk) with the one-time notice of everything to fix: materials and form fields of the
    case, and free text. 422 for an empty notice or an unknown material or field; 409 unless in pre-review."""
    hall = await hall_of(ctx, number)
    check_staff(who, hall, "clerk")
    fixes = [prereview.Fix(f.kind, f.code, f.problem) for f in body.fixes]

    def run(tx: HallTx) -> dict[str, Any]:
        chains.locked(tx.session, load(tx.session, number), "prereview_return")  # a chain is returned as one
        return prereview.return_case(tx, number=number, who=who, fixes=fixes, note=body.note)

    got = await ctx.change(hall, run)
    return await _staff_view(ctx, number, who.role) | {"notice": got}


@pages.get("/cases/apply", include_in_schema=False)
async def apply_page() -> Response:
    """The citizen's online application page (网上申报 · 网上预审); `?n=<case number>` opens a case to fix."""
    return FileResponse(WEB_DIR / "apply.html", media_type="text/html", headers={"Cache-Control": "no-cache"})
