"""Dependencies of the routes: the shared context and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel

from ..citizen_text import OTHER_LANGS
from ..context import HallContext
from ..languages import negotiate
from ..services.auth import Principal

# Dependencies are `async def`: FastAPI runs a plain `def` dependency in the thread pool, and two thread
# hops per request cost more than the work they do (a dict look-up, an HMAC check). The caller's own
# check awaits a database read only when its user's row was last read over a second ago.


async def get_ctx(request: Request) -> HallContext:
    """The application's shared context."""
    ctx: HallContext = request.app.state.ctx
    return ctx


CtxDep = Annotated[HallContext, Depends(get_ctx)]


class _Caller(OAuth2PasswordBearer):
    """The bearer token scheme (so OpenAPI shows it) that also resolves the caller.

    One dependency instead of three (the context, the token, the caller): FastAPI's solving of the
    dependency tree is a tenth of a request's time on the hot paths."""

    def __init__(self, *, optional: bool) -> None:
        super().__init__(tokenUrl="/api/v1/auth/token", auto_error=False, scheme_name="OAuth2PasswordBearer")
        self.optional = optional

    async def __call__(self, request: Request) -> Principal | None:  # type: ignore[override]
        token = await super().__call__(request)
        ctx: HallContext = request.app.state.ctx
        if self.optional and not token:
            return None
        return await ctx.tokens.principal(token)


# The caller from the bearer token (staff JWT or device token); 401 otherwise.
PrincipalDep = Annotated[Principal, Depends(_Caller(optional=False))]
# The caller, or None for an anonymous citizen; a token that is given must be valid (else 401).
OptionalPrincipalDep = Annotated[Principal | None, Depends(_Caller(optional=True))]


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """Serialise a response model once (pydantic's serializer), skipping FastAPI's re-validation."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


def asked_in(request: Request) -> str | None:
    """The language a request's refusals' second half is in (Accept-Language: 한국어, 日本語, Русский; None: English),
    after the Chinese (issue 22)."""
    return negotiate(request.headers.get("accept-language"), OTHER_LANGS)
