"""Citizen-side case API: self-submission (idempotent, multipart), materials, receipt, query, pickup code."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, cast

import anyio.to_thread
import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import func, select
from sqlmodel import Session, col

from ..api.deps import CtxDep, OptionalPrincipalDep, PrincipalDep
from ..api.schemas import Text
from ..context import HallContext
from ..errors import Conflict, Forbidden, Invalid, Unauthorized
from ..identity import ID_TYPE_DOC, NATIONALITY_DOC, IdType, document
from ..ids import InvalidIdNumber, InvalidPhone, validate_phone
from ..languages import choose
from ..ratelimit import client_of, guard_proof
from ..services.auth import Principal
from ..services.tx import HallTx
from ..timeutil import utcnow
from . import chains, items, prereview, query, rules, smart, states, uploads
from . import documents as docs
from .models import CaseItem, CaseMaterial
from .output import pickup_with_code
from .service import Submission, add_files, check_files, item_of, load, submit
from .storage import Checked, MaterialStore

router = APIRouter(prefix="/api/v1", tags=["cases"])
pages = APIRouter(tags=["cases"])
WEB_DIR = Path(__file__).resolve().parent / "web"
pages.mount("/static/cases", StaticFiles(directory=WEB_DIR), name="cases-static")
T = TypeVar("T")


B = TypeVar("B", bound=BaseModel)
PICKUP_PER_KIOSK_HOUR = 60  # pickup codes tried at one 24-hour kiosk
PICKUP_PER_HALL_HOUR = 300  # … at all of a hall's kiosks together
NO_PROOF = (
    "网上申报须先验证手机号（X-Phone-Proof），或已过期，请重新获取验证码 / A web submission needs the proof of a "
    "phone code (X-Phone-Proof), or it expired: ask for a new code"
)


class Applicant(BaseModel):
    """The applicant, as read from the identity document (name and number) and typed (phone)."""

    name: Text = Field(min_length=1, max_length=64)
    id_number: Text = Field(max_length=32)
    id_type: IdType | None = Field(default=None, description=ID_TYPE_DOC)
    nationality: Text | None = Field(default=None, max_length=3, description=NATIONALITY_DOC)
    phone: Text | None = Field(default=None, max_length=32)


class SubmissionBody(BaseModel):
    """The JSON part (`data`) of a submission."""

    submission_id: str = Field(pattern=r"^[0-9a-fA-F-]{32,36}$", description="UUID made by the kiosk: idempotency key")
    item: str = Field(max_length=32)
    item_version: int | None = Field(default=None, ge=1, description="default: the current version")
    situation: str = Field(max_length=32)
    applicant: Applicant
    form: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    ticket_id: int | None = None
    lang: Literal["zh", "en", "ko", "ja", "ru"] | None = Field(
        default=None, description="the applicant's language (else Accept-Language): messages and receipt (issue 22)"
    )


class LookupBody(BaseModel):
    """A kiosk's look-up by the identity document it just read."""

    id_number: Text = Field(max_length=32)
    id_type: IdType | None = None
    nationality: Text | None = Field(default=None, max_length=3)


class PickupBody(BaseModel):
    """The pickup code typed at a 24-hour kiosk."""

    code: str = Field(min_length=4, max_length=16, pattern=r"^[0-9]+$")


def store_of(ctx: HallContext) -> MaterialStore:
    """The material store under the server's var directory."""
    return ctx.materials


def _may_submit(who: Principal | None, hall: str) -> str:
    if who is None:
        return "web"
    if not who.in_hall(hall):
        raise Forbidden("不能为其他大厅提交办件 / You belong to another hall")
    if who.role == "kiosk":
        return "kiosk"
    if who.role in ("clerk", "admin"):
        return "counter"
    raise Forbidden(f"角色 {who.role} 不能提交办件 / Role '{who.role}' may not submit cases")


async def staged_files(
    ctx: HallContext, request: Request, max_bytes: int
) -> tuple[dict[str, str], list[tuple[str, Checked]], list[str]]:
    """The multipart body streamed to staging, every file checked in a worker process: (fields, files, names).

    413/422 (naming the file) or 408; on any error the staged files are gone before the error goes up.
    """
    store = store_of(ctx)
    await ctx.checker.warm()  # the workers' start overlaps the upload
    got = await uploads.receive(request, store, max_file=max_bytes)
    try:
        return got.fields, await ctx.checker.check(store, got.files, max_bytes), got.names
    except BaseException:
        store.discard(got.names)
        raise


async def commit_files(
    ctx: HallContext, names: list[str], change: Callable[[], Awaitable[T]], kept: Callable[[T], bool] = lambda _: True
) -> T:
    """Await the change that writes the staged files' rows, then move them into place; remove them if it
    failed or wrote no rows (`kept` false for its result). Nothing is written to disk inside the change."""
    store = store_of(ctx)
    try:
        await anyio.to_thread.run_sync(store.sync, names)
        result = await change()
    except BaseException:
        store.discard(names)
        raise
    await anyio.to_thread.run_sync(store.commit if kept(result) else store.discard, names)
    return result


async def received(
    ctx: HallContext, request: Request, hall: str, who: Principal | None
) -> tuple[str, dict[str, str], list[tuple[str, Checked]], list[str]]:
    """A submission's caller checked (its channel; an anonymous one rate-limited) and its body staged:
    (channel, fields, checked files, staged names)."""
    h = ctx.hall(hall)
    channel = _may_submit(who, hall)
    if who is None:  # 网上申报: the phone proven by its one-time code (X-Phone-Proof), before the upload is read
        await ctx.limiter.check(f"case:{client_of(request)}", per_hour=20)
        proven = prereview.proven_phone(ctx.cipher, request.headers.get("x-phone-proof"), hall=hall, now=utcnow())
        if proven is None:
            raise Unauthorized(NO_PROOF)
        request.state.proven_phone = proven
    fields, files, names = await staged_files(ctx, request, h.case_upload_max_kb * 1024)
    return channel, fields, files, names


@router.post("/halls/{hall}/cases", tags=["public"])
async def create_case(hall: str, request: Request, ctx: CtxDep, who: OptionalPrincipalDep) -> Response:
    """Self-submission: multipart with `data` (JSON `SubmissionBody`) and files `file.<material>`.

    201 with the new case; 200 with the same case when the submission id was seen before (outbox replay).
    Without a login (网上申报): the header `X-Phone-Proof` (…/web-cases/proof) is required (401), the phone is the
    proven one, and the case starts in `prereview` (网上预审) with channel `web`.
    """
    channel, fields, files, names = await received(ctx, request, hall, who)
    try:
        body = parsed(SubmissionBody, fields, request)
        row = await ctx.read(
            lambda s: (
                items.version(s, body.item, body.item_version) if body.item_version else items.current(s, body.item)
            )
        )
    except BaseException as exc:
        store_of(ctx).discard(names)
        raise bad_data(exc) from None
    check = await smart_check(ctx, row, body, files)
    lang = choose(body.lang, request.headers.get("accept-language"))
    sub = Submission(item=row, situation=body.situation, lang=lang, **submitted(body, files, channel))

    def run(tx: HallTx) -> tuple[str, str, bool, bool]:
        c, created = submit(tx, s=sub, who=who, cipher=tx.pii, tz=tx.tz)
        at_once = created and check is not None and smart.settle(tx, c, check)
        return c.number, c.query_token, created, at_once

    # a replay stores nothing: the first submission's files are the case's
    number, token, created, at_once = await commit_files(ctx, names, lambda: ctx.change(hall, run), kept=lambda r: r[2])
    if at_once:  # 秒批秒办: the certificate of the approval, signed now (off the writer)
        from .api_certificates import sign_pending  # api_certificates imports this module

        await sign_pending(ctx, request, number)
    out = await ctx.read_hall(
        hall, lambda r: query.public(r.session, load(r.session, number), r.hall_calendar, r.now.date())
    )
    out |= {
        "query_token": token,
        "receipt_url": f"/api/v1/cases/{number}/receipt.pdf?proof={token}",
        "replayed": not created,
        "smart_approved": at_once,
    }
    return Response(orjson.dumps(out), status_code=201 if created else 200, media_type="application/json")


def bad_data(exc: BaseException) -> BaseException:
    """What a submission's unreadable JSON part answers (422 naming each field); any other error as it is."""
    if not isinstance(exc, ValidationError):
        return exc
    where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return Invalid(f"申报数据有误 / Invalid submission data: {where}")


def parsed(model: type[B], fields: dict[str, str], request: Request) -> B:
    """A submission's JSON part (`data`: a case's or a chain's), its applicant's phone the proven one when it
    comes from the web (`received`): ValidationError or 422 (call inside the try that discards the upload)."""
    body = model.model_validate_json(fields.get("data", ""))
    proven = getattr(request.state, "proven_phone", None)
    if proven is not None:
        applicant: Applicant = cast(Any, body).applicant  # SubmissionBody and ChainBody both have one
        applicant.phone = web_phone(applicant.phone, proven)
    return body


def submitted(body: Any, files: list[tuple[str, Checked]], channel: str) -> dict[str, Any]:
    """What a case's and a chain's submission take alike from their JSON part (`applicant`, `form`, ids); from
    the web it waits for 网上预审."""
    return {
        "prereview": channel == "web",
        "name": body.applicant.name,
        "id_number": body.applicant.id_number,
        "phone": body.applicant.phone,
        "form": dict(body.form),
        "files": files,
        "submission_id": body.submission_id.lower(),
        "channel": channel,
        "ticket_id": body.ticket_id,
        "id_type": body.applicant.id_type,
        "nationality": body.applicant.nationality,
    }


def web_phone(given: str | None, proven: str) -> str:
    """The applicant's phone of a web submission: the proven one (422 when the form gives another)."""
    try:
        if given and validate_phone(given) != proven:
            raise Invalid("联系电话须为已验证的手机号 / The phone must be the one the code proved")
    except InvalidPhone as exc:
        raise Invalid(str(exc)) from None
    return proven


async def smart_check(
    ctx: HallContext, row: CaseItem, body: SubmissionBody, files: list[tuple[str, Checked]]
) -> rules.SmartCheck | None:
    """The item's 秒批秒办 rules checked against the submission in a worker thread (data sources block); None
    when the item version has no rules for the situation."""
    item = items.as_item(row)
    if not item.rules or not any(r.applies_to(body.situation) for r in item.rules):
        return None
    return await anyio.to_thread.run_sync(
        functools.partial(
            rules.evaluate,
            item.rules,
            version=row.version,
            situation=body.situation,
            form=dict(body.form),
            materials={code for code, _ in files},
            id_number=body.applicant.id_number.strip().upper(),
            sources=ctx.sources,
        )
    )


async def hall_of(ctx: HallContext, number: str) -> str:
    """The hall a case belongs to (404 if none)."""
    return await ctx.read(lambda s: load(s, number).hall_code)


@router.post("/cases/{number}/materials", status_code=201)
async def add_materials(number: str, request: Request, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """More files for a case still at the front desk (submitted, needs_more, 容缺): kiosk or clerk of the hall."""
    hall = await hall_of(ctx, number)
    if not who.in_hall(hall) or who.role not in ("kiosk", "clerk", "admin"):
        raise Forbidden("无权为此办件上传材料 / You may not add materials to this case")
    _, files, names = await staged_files(ctx, request, ctx.hall(hall).case_upload_max_kb * 1024)
    if not files:
        raise Invalid("没有收到文件 / No files received")

    def run(tx: Any) -> list[dict[str, Any]]:
        c = load(tx.session, number, lock=True)
        if c.status not in (states.SUBMITTED, states.NEEDS_MORE, states.PENDING_SUPPLEMENT):
            raise Conflict(f"办件已受理，不能再补充材料 / Materials can no longer be added ({c.status})")
        check_files(item_of(tx, c)[1], c.situation, files)
        rows = add_files(tx, c, files, who=who)
        return [{"id": r.id, "material": r.material, "content_type": r.content_type, "size": r.size} for r in rows]

    return {"materials": await commit_files(ctx, names, lambda: ctx.change(hall, run))}


@router.get("/cases/{number}/receipt.pdf", tags=["public"])
async def receipt(number: str, request: Request, ctx: CtxDep, proof: Annotated[str, Query(max_length=32)]) -> Response:
    """The self-submission receipt (回执) as PDF, with the query code (only) as proof; rate-limited like status.

    The receipt prints the query code, so the ID number's last four (a guessable proof) do not open it.
    """
    await guard_proof(ctx.limiter, request, "case-query", number.strip().upper())

    def build(s: Session) -> dict[str, Any]:
        c = query.by_proof(s, ctx.cipher, number, proof, last4=False)
        row = items.version_by_id(s, c.item_id)
        sit = items.as_item(row).situation(c.situation)
        tz = ctx.zones[c.hall_code]
        n = s.execute(select(func.count()).where(col(CaseMaterial.case_id) == c.id)).scalar_one()
        return {
            "organ": ctx.hall(c.hall_code).name,
            "case_no": c.number,
            "query_token": c.query_token,
            "applicant": c.name_masked,
            "matter": row.name,
            "situation": sit.name if sit else c.situation,
            "submitted_on": c.submitted_at.astimezone(tz).replace(tzinfo=None),
            "material_count": int(n),
            "lang": c.lang,
        }

    fields = await ctx.read(build)
    lang = fields.pop("lang")  # the second lines' language, not a field of the template
    pdf = await anyio.to_thread.run_sync(lambda: docs.receipt_pdf(fields, lang))
    return pdf_response(pdf, f"{number}-receipt.pdf")


def pdf_response(pdf: bytes, filename: str) -> Response:
    """A PDF answer, shown inline, never cached."""
    headers = {"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"}
    return Response(pdf, media_type="application/pdf", headers=headers)


@pages.get("/cases/query", include_in_schema=False)
async def query_page() -> Response:
    """The public case-query page (办件查询): `?n=<case number>&p=<query code>` fills and sends the form."""
    return FileResponse(WEB_DIR / "query.html", media_type="text/html", headers={"Cache-Control": "no-cache"})


@router.get("/cases/{number}/status", tags=["public"])
async def case_status(
    number: str, request: Request, ctx: CtxDep, proof: Annotated[str, Query(min_length=4, max_length=32)]
) -> dict[str, Any]:
    """办件查询: the masked timeline, with the receipt's query code or the ID number's last four as proof.

    Rate-limited per address and per case number (a number alone opens nothing; its proof cannot be searched).
    """
    await guard_proof(ctx.limiter, request, "case-query", number.strip().upper())

    def run(s: Session) -> dict[str, Any]:
        c = query.by_proof(s, ctx.cipher, number, proof)
        tz = ctx.zones[c.hall_code]
        return query.public(s, c, ctx.calendars[c.hall_code], utcnow().astimezone(tz).date())

    return await ctx.read(run)


@router.post("/halls/{hall}/cases/lookup")
async def lookup(hall: str, body: LookupBody, ctx: CtxDep, who: PrincipalDep) -> list[dict[str, Any]]:
    """A kiosk (or clerk) looks up the cases of the ID card just read: masked timelines, newest first."""
    ctx.hall(hall)  # 404 for an unknown hall
    if not who.in_hall(hall) or who.role not in ("kiosk", "clerk", "admin"):
        raise Forbidden("无权查询此大厅的办件 / You may not look up cases of this hall")
    try:
        doc = document(body.id_type, body.id_number, body.nationality)
    except InvalidIdNumber as exc:
        raise Invalid(str(exc)) from None
    digest = ctx.cipher.keyed_hash(doc.key)
    return await ctx.read_hall(
        hall,
        lambda r: [
            query.public(r.session, c, r.hall_calendar, r.now.date()) for c in query.by_person(r.session, hall, digest)
        ],
    )


@router.post("/halls/{hall}/pickup")
async def pickup(hall: str, body: PickupBody, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """A 24-hour kiosk checks a pickup code (single use): the case is delivered; 404 when wrong or used."""
    ctx.hall(hall)  # 404 for an unknown hall
    if who.role not in ("kiosk", "admin") or not who.in_hall(hall):
        raise Forbidden("只有本大厅的自助终端可以核验取件码 / Only this hall's kiosks verify pickup codes")
    # Per kiosk, and per hall (however many kiosks): an 8-digit code cannot be searched at these rates.
    await ctx.limiter.check(f"pickup:{who.name}", per_hour=PICKUP_PER_KIOSK_HOUR)
    await ctx.limiter.check(f"pickup-hall:{hall}", per_hour=PICKUP_PER_HALL_HOUR)

    def run(tx: HallTx) -> dict[str, Any]:
        chain = chains.by_pickup_code(tx, body.code)  # 一链办理: one code hands over every member's result
        if chain is not None:
            chains.deliver(tx, number=chain.number, who=who, code=body.code)
            return {"number": chain.number, "status": chain.status, "status_label": states.label(chain.status)}
        c = pickup_with_code(tx, code=body.code, who=who, cipher=tx.pii)
        return {"number": c.number, "status": c.status, "status_label": states.label(c.status)}

    return await ctx.change(hall, run)
