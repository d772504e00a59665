"""一链办理 API: the chains of the catalogue (public), one submission, one acceptance, the chain's view and status,
and its one hand-over; from the web, its pre-review as one (the clerk's pass and return, the applicant's view,
fix and slot). Each member case's decision goes through the ordinary case actions (并联审批)."""

from __future__ import annotations

import hmac
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from ..api.deps import CtxDep, OptionalPrincipalDep, PrincipalDep
from ..context import HallContext
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..ids import InvalidIdNumber, InvalidPhone
from ..ratelimit import guard_proof
from ..services.auth import Principal
from ..services.tx import HallTx
from ..timeutil import utcnow
from . import chains, prereview, prereview_chain, query, states
from .api_desk import VIEWERS, ActionBody, outcome_of
from .api_prereview import WRONG, BookBody, CaseProof, PassBody, PhoneProof, ReturnBody, booked_view, fixed, opened
from .api_submit import Applicant, bad_data, commit_files, parsed, received, store_of, submitted
from .models import CaseChain
from .service import check_staff
from .storage import Checked

router = APIRouter(prefix="/api/v1", tags=["chains"])
CHAIN_OWN_SKIPS = frozenset({states.IN_REVIEW, states.APPROVED, states.REFUSED})  # each member's, not the chain's


class ChainBody(BaseModel):
    """The JSON part (`data`) of a chain submission; files are `file.<chain material>`."""

    submission_id: str = Field(pattern=r"^[0-9a-fA-F-]{32,36}$", description="UUID made by the client: idempotency key")
    chain: str = Field(max_length=32)
    applicant: Applicant
    form: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    ticket_id: int | None = None


@router.get("/chains", tags=["public"])
async def list_chains(ctx: CtxDep) -> list[dict[str, Any]]:
    """The chains (一件事) the hall offers: code, names, summary, member items."""
    return [chains.summary(c) for c in chains.catalogue(ctx.items_dir)]


@router.get("/chains/{code}", tags=["public"])
async def get_chain(code: str, ctx: CtxDep) -> dict[str, Any]:
    """A chain's one form (shared fields) and one material list, with its members (current item versions)."""
    chain = chains.find(ctx.items_dir, code)
    return await ctx.read(lambda s: chains.detail(chain, chains.member_rows(s, chain)))


def _view(s: Session, ctx: HallContext, chain: Any) -> dict[str, Any]:
    """The chain with every member's public timeline (for the citizen) — masked, no staff names."""
    cal, tz = ctx.calendars[chain.hall_code], ctx.zones[chain.hall_code]
    today = utcnow().astimezone(tz).date()
    result = orjson.loads(chain.result) if chain.result else None
    return {
        "number": chain.number,
        "hall": chain.hall_code,
        "chain": {"code": chain.code, "name": chain.name, "name_en": chain.name_en},
        "status": chain.status,
        "status_label": states.label(chain.status),
        "applicant_masked": chain.name_masked,
        "submitted_at": chain.submitted_at.isoformat(),
        "accepted_at": chain.accepted_at.isoformat() if chain.accepted_at else None,
        "ready_at": chain.ready_at.isoformat() if chain.ready_at else None,
        "delivered_at": chain.delivered_at.isoformat() if chain.delivered_at else None,
        "result": result,
        "members": [query.public(s, c, cal, today) for c in chains.members_of(s, chain)],
    }


@router.post("/halls/{hall}/chains", tags=["public"])
async def create_chain(hall: str, request: Request, ctx: CtxDep, who: OptionalPrincipalDep) -> Response:
    """One application for a chain: multipart with `data` (JSON `ChainBody`) and files `file.<material>`, each
    uploaded once and stored once for every member that needs it. 201 with the chain and its member cases; 200
    with the same chain when the submission id was seen before (outbox replay). Without a login (网上申报), as
    for one item: `X-Phone-Proof` is required (401), the phone is the proven one, and the chain with every
    member starts in `prereview` (网上预审 of the chain as one: …/chain-cases/{number}/prereview/…)."""
    channel, fields, files, names = await received(ctx, request, hall, who)
    try:
        body = parsed(ChainBody, fields, request)
        chain = chains.find(ctx.items_dir, body.chain)
        rows = await ctx.read(lambda s: chains.member_rows(s, chain))
    except BaseException as exc:
        store_of(ctx).discard(names)
        raise bad_data(exc) from None
    sub = chains.ChainSubmission(chain=chain, rows=rows, **submitted(body, files, channel))

    def run(tx: HallTx) -> tuple[str, str, bool]:
        try:
            c, created = chains.submit_chain(tx, s=sub, who=who, cipher=tx.pii, tz=tx.tz)
        except (InvalidIdNumber, InvalidPhone) as exc:
            raise Invalid(str(exc)) from None
        return c.number, c.query_token, created

    # a replay stores nothing: the first submission's files are the chain's
    number, token, created = await commit_files(ctx, names, lambda: ctx.change(hall, run), kept=lambda r: r[2])
    out = await ctx.read(lambda s: _view(s, ctx, chains.load_chain(s, number)))
    out |= {"query_token": token, "query_url": f"/cases/query?n={number}&p={token}", "replayed": not created}
    return Response(orjson.dumps(out), status_code=201 if created else 200, media_type="application/json")


@router.get("/chain-cases/{number}/status", tags=["public"])
async def chain_status(
    number: str, request: Request, ctx: CtxDep, proof: Annotated[str, Query(min_length=4, max_length=32)]
) -> dict[str, Any]:
    """The chain's query page data: every member's masked timeline, with the receipt's query code as proof.

    Rate-limited like a case's status (per address and per number)."""
    await guard_proof(ctx.limiter, request, "case-query", number.strip().upper())

    def run(s: Session) -> dict[str, Any]:
        try:
            chain = chains.load_chain(s, number)
        except NotFound:
            chain = None
        if chain is None or not hmac.compare_digest(chain.query_token, proof.strip().upper()):
            raise NotFound("办件编号或查询码不正确 / Wrong number or query code")
        return _view(s, ctx, chain)

    return await ctx.read(run)


async def _hall_of(ctx: HallContext, number: str, who: Principal, *roles: str) -> str:
    """The chain's hall, for staff of it with one of `roles` (403 before 404: a guess of a number says nothing)."""
    if who.kind != "user" or (who.role not in roles and who.role != "admin"):
        raise Forbidden("需要工作人员登录 / Staff only")
    hall = await ctx.read(lambda s: chains.load_chain(s, number).hall_code)
    check_staff(who, hall, *roles)
    return hall


def _staff_view(s: Session, ctx: HallContext, number: str, who: Principal) -> dict[str, Any]:
    chain = chains.load_chain(s, number)
    cal, tz = ctx.calendars[chain.hall_code], ctx.zones[chain.hall_code]
    members = chains.members_of(s, chain)
    first = members[0] if members else None
    view = query.chain_view(s, chain.id, cal, utcnow().astimezone(tz).date()) or {}
    definition = chains.chain_of(chain.data)
    files = chains.shared_files(s, definition, members)
    return view | {
        "channel": chain.channel,
        "applicant_masked": chain.name_masked,
        "id_number_masked": chain.id_masked,
        "phone_masked": first.phone_masked if first else None,
        "submitted_at": chain.submitted_at.isoformat(),
        "updated_at": chain.updated_at.isoformat(),
        "result": orjson.loads(chain.result) if chain.result else None,
        "fields": [{"code": f.code, "label": f.label, "label_en": f.label_en} for f in definition.fields],
        "materials": [
            {"code": m.code, "name": m.name, "name_en": m.name_en, "uses": m.uses, "files": files.get(m.code, [])}
            for m in definition.materials
        ],
        "prereview_notice": orjson.loads(first.prereview_notice) if first and first.prereview_notice else None,
        "appointment_code": first.appointment_code if first else None,
        "actions": _actions(chain.status, who.role),
    }


def _actions(status: str, role: str) -> list[str]:
    """What staff may do with the chain as a whole in its state."""
    if role not in ("clerk", "admin"):
        return []
    acceptance = ["accept", "accept_shortfall", "accept_commitment", "notify_missing", "reject", "withdraw"]
    return {
        states.PREREVIEW: ["prereview_pass", "prereview_return", "withdraw"],
        states.PREREVIEW_PASSED: acceptance,
        states.PREREVIEW_RETURNED: ["withdraw"],
        states.SUBMITTED: acceptance,
        states.NEEDS_MORE: ["resubmit", "withdraw"],
        states.RESULT_READY: ["deliver"],
    }.get(status, [])


@router.get("/chain-cases/{number}")
async def get_chain_case(number: str, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """The chain for staff of its hall: its members with their states and deadline lights, what it shares."""
    await _hall_of(ctx, number, who, *VIEWERS)
    return await ctx.read(lambda s: _staff_view(s, ctx, number, who))


ChainAction = Literal[
    "accept", "accept_shortfall", "accept_commitment", "notify_missing", "reject", "resubmit", "withdraw", "deliver"
]


@router.post("/chain-cases/{number}/actions/{action}")
async def chain_act(
    number: str, action: ChainAction, body: ActionBody, ctx: CtxDep, who: PrincipalDep
) -> dict[str, Any]:
    """One acceptance outcome for the whole chain (every member case, one transaction), or its one hand-over
    (`deliver`: every ready member at the window). Decisions are taken on each member case."""
    hall = await _hall_of(ctx, number, who, "clerk")

    def run(tx: HallTx) -> None:
        if action == "deliver":
            chains.deliver(tx, number=number, who=who, note=body.note)
            return
        chains.chain_action(tx, number=number, o=outcome_of(action, body), who=who, card_id=body.card_id_number)

    await ctx.change(hall, run)
    return await ctx.read(lambda s: _staff_view(s, ctx, number, who))


@router.post("/chain-cases/{number}/prereview/pass")
async def pass_chain(number: str, body: PassBody, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """Pass a web chain's pre-review (clerk): every member passes at once; the citizen books one slot and comes
    with the card. 409 unless the chain waits for pre-review."""
    hall = await _hall_of(ctx, number, who, "clerk")
    await ctx.change(hall, lambda tx: prereview_chain.pass_chain(tx, number=number, who=who, note=body.note))
    return await ctx.read(lambda s: _staff_view(s, ctx, number, who))


@router.post("/chain-cases/{number}/prereview/return")
async def return_chain(number: str, body: ReturnBody, ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """Return a web chain (clerk) with ONE notice covering every member: the chain's shared materials and form
    fields to fix (its own codes, `GET /api/v1/chain-cases/{number}`), and free text. 422 for an empty notice
    or an unknown code; 409 unless in pre-review."""
    hall = await _hall_of(ctx, number, who, "clerk")
    fixes = [prereview.Fix(f.kind, f.code, f.problem) for f in body.fixes]
    got = await ctx.change(
        hall, lambda tx: prereview_chain.return_chain(tx, number=number, who=who, fixes=fixes, note=body.note)
    )
    return await ctx.read(lambda s: _staff_view(s, ctx, number, who)) | {"notice": got}


# --- 一链办理 from the web: the applicant's chain (网上预审 of the chain as one) ----------------------------


def web_chain(s: Session, ctx: HallContext, number: str, case_proof: str | None, phone_proof: str | None) -> CaseChain:
    """A web chain opened by its applicant: with the receipt's query code, or a live proof of its phone."""
    try:
        row = chains.load_chain(s, number)
    except NotFound:
        raise NotFound(WRONG) from None
    if row.channel == "web":
        if case_proof:
            if hmac.compare_digest(row.query_token, case_proof.strip().upper()):
                return row
        else:
            phone = prereview.proven_phone(ctx.cipher, phone_proof, hall=row.hall_code, now=utcnow())
            if phone is not None and row.phone_enc and ctx.cipher.decrypt(row.phone_enc, context="phone") == phone:
                return row
    raise NotFound(WRONG)


def citizen_chain(s: Session, ctx: HallContext, row: CaseChain) -> dict[str, Any]:
    """A web chain as its applicant sees it: the chain's state, each member's public timeline, the shared
    answers and files (by the chain's codes), the one notice of a return, the queue to book and the slot."""
    members = chains.members_of(s, row)
    definition = chains.chain_of(row.data)
    rows = chains.rows_of(s, members, definition)
    first = members[0]
    cal, tz = ctx.calendars[row.hall_code], ctx.zones[row.hall_code]
    today = utcnow().astimezone(tz).date()
    booked = booked_view(s, first, tz)
    passed = row.status == states.PREREVIEW_PASSED and booked is None
    # the chain's own steps: its first member's, without the members' own decisions (shown with each member)
    timeline: list[dict[str, Any]] = []
    for t in query.public(s, first, cal, today)["timeline"]:
        if t["status"] not in CHAIN_OWN_SKIPS and (not timeline or timeline[-1]["status"] != t["status"]):
            timeline.append(t)
    return {
        "kind": "chain",
        "number": row.number,
        "hall": row.hall_code,
        "chain": {"code": row.code, "name": row.name, "name_en": row.name_en},
        "status": row.status,
        "status_label": states.label(row.status),
        "channel": row.channel,
        "applicant_masked": row.name_masked,
        "id_number_masked": row.id_masked,
        "phone_masked": first.phone_masked,
        "query_token": row.query_token,
        "submitted_at": row.submitted_at.isoformat(),
        "form": prereview_chain.answers(s, ctx.cipher, row, members),
        "materials": [
            {"material": code, "content_type": f["content_type"], "size": f["size"], "at": f["at"]}
            for code, got in chains.shared_files(s, definition, members).items()
            for f in got
        ],
        "notice": prereview.shown_notice(first),
        "queue": prereview.queue_of(ctx.hall(row.hall_code), rows[0][2]) if passed and rows else None,
        "appointment": booked,
        "timeline": timeline,
        "members": [query.public(s, c, cal, today) for c in members],
        "chain_detail": chains.detail(definition, rows),
    }


@router.get("/web-chains/{number}", tags=["public"])
async def get_web_chain(
    number: str, request: Request, ctx: CtxDep, case_proof: CaseProof = None, phone_proof: PhoneProof = None
) -> dict[str, Any]:
    """A web chain (一链办理) for its applicant (`X-Case-Proof`: the receipt's query code, or `X-Phone-Proof` of
    its phone): its state and members, the one notice of a return, the shared answers and files, the slot.
    Rate-limited like the case query."""
    await opened(ctx, request, number, chain=True)
    return await ctx.read(lambda s: citizen_chain(s, ctx, web_chain(s, ctx, number, case_proof, phone_proof)))


@router.post("/web-chains/{number}/resubmit", tags=["public"])
async def resubmit_chain(
    number: str, request: Request, ctx: CtxDep, case_proof: CaseProof = None, phone_proof: PhoneProof = None
) -> dict[str, Any]:
    """The fixed application of a returned web chain: multipart `data` (JSON: `form`, the chain's shared answers,
    optional) and files `file.<chain material>`, each once for every member using it (the same checks and
    limits as a submission); every member back to pre-review."""
    hall = await opened(ctx, request, number, chain=True)

    def check(s: Session) -> None:
        row = web_chain(s, ctx, number, case_proof, phone_proof)
        if row.status != states.PREREVIEW_RETURNED:
            raise Conflict(f"一链办理件未被退回，不能重新提交 / Only a returned chain is resubmitted ({row.status})")

    def fix(tx: HallTx, form: dict[str, Any] | None, files: list[tuple[str, Checked]]) -> None:
        check(tx.session)
        prereview_chain.resubmit_chain(tx, number=number, answers=form, files=files, cipher=tx.pii)

    await fixed(ctx, request, hall, check, fix)
    return await ctx.read(lambda s: citizen_chain(s, ctx, chains.load_chain(s, number)))


@router.post("/web-chains/{number}/appointment", status_code=201, tags=["public"])
async def book_chain(
    number: str,
    body: BookBody,
    request: Request,
    ctx: CtxDep,
    case_proof: CaseProof = None,
    phone_proof: PhoneProof = None,
) -> dict[str, Any]:
    """One slot for a web chain that passed pre-review, of its first member's queue, in the bound applicant's
    name (409 when not passed, booked already, full, or the queue takes no appointments)."""
    hall = await opened(ctx, request, number, chain=True)

    def run(tx: HallTx) -> None:
        row = web_chain(tx.session, ctx, number, case_proof, phone_proof)
        prereview_chain.book_chain(tx, number=row.number, start=body.start, cipher=tx.pii)

    await ctx.change(hall, run)
    return await ctx.read(lambda s: citizen_chain(s, ctx, chains.load_chain(s, number)))
