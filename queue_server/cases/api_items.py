"""Items catalog API: public browse and search for kiosks, admin versions."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query
from pydantic import ValidationError

from ..api.deps import CtxDep, PrincipalDep
from ..errors import Forbidden, Invalid
from . import items as svc
from .catalog import Item

router = APIRouter(prefix="/api/v1/items", tags=["items"])


@router.get("", tags=["public"])
async def list_items(
    ctx: CtxDep,
    domain: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    """Current items, by domain then code; `domain` filters (Chinese or English name), `q` searches text."""
    return await ctx.read(lambda s: svc.browse(s, domain=domain, q=q))


@router.get("/domains", tags=["public"])
async def list_domains(ctx: CtxDep) -> list[dict[str, Any]]:
    """The domains of the catalog with their item counts."""
    return await ctx.read(svc.domains)


@router.get("/{code}", tags=["public"])
async def get_item(code: str, ctx: CtxDep, version: Annotated[int | None, Query(ge=1)] = None) -> dict[str, Any]:
    """An item's zero-basis template (零基础模板): the current version, or `version`."""
    row = await ctx.read(lambda s: svc.version(s, code, version) if version else svc.current(s, code))
    return svc.detail(row)


@router.get("/{code}/versions")
async def item_versions(code: str, ctx: CtxDep, who: PrincipalDep) -> list[dict[str, Any]]:
    """Every version of an item (admin)."""
    if who.role != "admin":
        raise Forbidden("只有管理员可以查看事项版本 / Admins only")

    def run(s: Any) -> list[dict[str, Any]]:
        top = svc.current(s, code)
        return [
            {"version": r.version, "source": r.source, "created_at": r.created_at.isoformat(), "by": r.created_by}
            for r in (svc.version(s, code, n) for n in range(1, top.version + 1))
        ]

    return await ctx.read(run)


@router.post("", status_code=201)
async def create_version(body: dict[str, Any], ctx: CtxDep, who: PrincipalDep) -> dict[str, Any]:
    """Add a new version of an item (or a new item) from its whole definition (admin); 422 names the field."""
    if who.role != "admin":
        raise Forbidden("只有管理员可以编辑事项 / Admins only")
    body = {k: v for k, v in body.items() if k != "form_fields"}  # derived from the rules (GET's answer): not data
    try:
        item = Item.model_validate(body, strict=False)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
        )
        raise Invalid(f"事项定义有误 / Invalid item: {problems}") from None

    def write() -> dict[str, Any]:
        with ctx.db.write() as s:
            return svc.detail(svc.add_version(s, item, source="admin", actor=who.name))

    return await anyio.to_thread.run_sync(write)
