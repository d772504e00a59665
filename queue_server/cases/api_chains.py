"""一链办理 API: the chains of the catalogue (public), one submission, one acceptance, the chain's view and status,
and its one hand-over. Each member case's decision goes through the ordinary case actions (并联审批)."""

from __future__ import annotations

import hmac
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from ..api.deps import CtxDep, OptionalPrincipalDep, PrincipalDep
from ..context import HallContext
from ..errors import Forbidden, Invalid, NotFound
from ..ids import InvalidIdNumber, InvalidPhone
from ..ratelimit import guard_proof
from ..services.auth import Principal
from ..services.tx import HallTx
from ..timeutil import utcnow
from . import chains, query, states
from .api_desk import VIEWERS, ActionBody, outcome_of
from .api_submit import Applicant, bad_data, commit_files, received, store_of, submitted
from .service import check_staff

router = APIRouter(prefix="/api/v1", tags=["chains"])


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
    with the same chain when the submission id was seen before (outbox replay)."""
    channel, fields, files, names = await received(ctx, request, hall, who)
    try:
        body = ChainBody.model_validate_json(fields.get("data", ""))
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
    first = next(iter(chains.members_of(s, chain)), None)
    view = query.chain_view(s, chain.id, cal, utcnow().astimezone(tz).date()) or {}
    definition = chains.chain_of(chain.data)
    return view | {
        "channel": chain.channel,
        "applicant_masked": chain.name_masked,
        "id_number_masked": chain.id_masked,
        "submitted_at": chain.submitted_at.isoformat(),
        "result": orjson.loads(chain.result) if chain.result else None,
        "materials": [
            {"code": m.code, "name": m.name, "name_en": m.name_en, "uses": m.uses} for m in definition.materials
        ],
        "actions": _actions(chain.status, who.role, first.status if first else None),
    }


def _actions(status: str, role: str, first: str | None) -> list[str]:
    """What staff may do with the chain as a whole in its state."""
    if role not in ("clerk", "admin"):
        return []
    if status == states.SUBMITTED:
        return ["accept", "accept_shortfall", "accept_commitment", "notify_missing", "reject", "withdraw"]
    if status == states.NEEDS_MORE:
        return ["resubmit", "withdraw"]
    if status == states.RESULT_READY:
        return ["deliver"]
    return []


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
        chains.chain_action(tx, number=number, o=outcome_of(action, body), who=who)

    await ctx.change(hall, run)
    return await ctx.read(lambda s: _staff_view(s, ctx, number, who))
