"""Staff accounts: ending a user's sessions without a restart (admin only)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Path

from ...errors import Forbidden, NotFound
from ...services.users import revoke_user
from ..deps import CtxDep, PrincipalDep

router = APIRouter()


@router.post("/api/v1/admin/users/{username}/revoke", tags=["auth"])
async def revoke(username: Annotated[str, Path(max_length=64)], who: PrincipalDep, ctx: CtxDep) -> dict[str, Any]:
    """Refuse every token the user holds, at once in every server process (admin only).

    The user may log in again: to lock them out, remove them from the configuration file and restart."""
    if who.role != "admin":
        raise Forbidden("只有管理员可以注销用户会话 / Only an admin may end a user's sessions")
    if not await anyio.to_thread.run_sync(lambda: revoke_user(ctx.db, username, actor=who.name)):
        raise NotFound(f"没有该用户 / No user '{username}'")
    ctx.tokens.revoked(username)
    return {"username": username, "revoked": True}
