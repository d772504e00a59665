"""Dependencies of the routes: the shared context and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel

from ..context import HallContext
from ..services.auth import Principal

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# Dependencies are `async def` although they never await: FastAPI runs a plain `def` dependency in
# the thread pool, and two thread hops per request cost more than the work they do (a dict look-up,
# an HMAC check).


async def get_ctx(request: Request) -> HallContext:
    """The application's shared context."""
    ctx: HallContext = request.app.state.ctx
    return ctx


CtxDep = Annotated[HallContext, Depends(get_ctx)]


async def get_principal(ctx: CtxDep, token: Annotated[str | None, Depends(oauth2)]) -> Principal:
    """The caller from the bearer token (staff JWT or device token); 401 otherwise."""
    return ctx.tokens.principal(token)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_optional_principal(ctx: CtxDep, token: Annotated[str | None, Depends(oauth2)]) -> Principal | None:
    """The caller, or None for an anonymous citizen; a token that is given must be valid (else 401)."""
    return ctx.tokens.principal(token) if token else None


OptionalPrincipalDep = Annotated[Principal | None, Depends(get_optional_principal)]


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """Serialise a response model once (pydantic's serializer), skipping FastAPI's re-validation."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
