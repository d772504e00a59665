"""The server's one middleware (pure ASGI): the security headers of every HTML page, and the fast path of
the busiest route, taking a number.

Why a hand-written path: FastAPI's request machinery (its middleware layers, the solving of a route's
dependencies and parameters, the response wrapper) took about half of the event loop's time per ticket
(bench/README.md, issue 19). `POST /api/v1/halls/{hall}/tickets` is served here when the request is what
a kiosk sends: a JSON body that validates with the route's own schema (`TicketCreate`) and an
`Idempotency-Key` within the route's limit. The work after that is the route's own function
(`tickets.issue_ticket`), and its errors are answered by the application's own exception handlers. Any
other request to it (a body that does not validate, another content type, a long key) goes on to the
FastAPI route with its body replayed, so every error answer is FastAPI's. The route stays in the app for
the OpenAPI document and the route table (tests/security/test_route_table.py).
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

from fastapi.security.utils import get_authorization_scheme_param
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .headers import PAGE_HEADERS
from .routes.tickets import issue_ticket, router, take_number
from .schemas import TicketCreate

if TYPE_CHECKING:
    from ..metrics import Metrics

_ADD = [(k.lower().encode(), v.encode()) for k, v in PAGE_HEADERS.items()]
_TAKE_NUMBER = re.compile(r"/api/v1/halls/([^/]+)/tickets")
_JSON = (b"application/json", b"application/json; charset=utf-8")
MAX_FAST_BODY = 4096  # a kiosk's body is < 200 bytes; a larger one goes the FastAPI way
MAX_IDEMPOTENCY_KEY = 128  # the route's `Header(max_length=128)`
_ROUTE = next(r for r in router.routes if getattr(r, "endpoint", None) is take_number)


class HallMiddleware:
    """The server's one middleware: each HTTP request timed into the metrics (`observe_request`), page
    headers on every `text/html` answer that does not set them itself, and take-a-number's fast path."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics | None = None, fast: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.fast = fast
        self.fast_served = 0  # requests the fast path answered (tests see it is taken)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve take-a-number, or pass the request on (HTML answers get the page headers); time either."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_on(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", ())
                kind = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if kind.startswith(b"text/html"):
                    names = {k.lower() for k, _ in headers}
                    message = {**message, "headers": [*headers, *((k, v) for k, v in _ADD if k not in names)]}
            await send(message)

        try:
            m = _TAKE_NUMBER.fullmatch(scope["path"]) if self.fast and scope["method"] == "POST" else None
            if m is not None and not scope.get("root_path"):
                await self._take_number(scope, receive, send_on, m.group(1))
            else:
                await self.app(scope, receive, send_on)
        finally:
            if self.metrics is not None:
                self.metrics.observe_request(scope, status, time.perf_counter() - started)

    async def _take_number(self, scope: Scope, receive: Receive, send: Send, hall: str) -> None:
        auth = ctype = key = None
        for name, value in scope["headers"]:
            if name == b"authorization" and auth is None:
                auth = value.decode("latin-1")
            elif name == b"content-type" and ctype is None:
                ctype = value
            elif name == b"idempotency-key" and key is None:
                key = value.decode("latin-1")
        messages: list[Message] = []
        body = await _read_body(receive, messages)
        parsed = _parse(body) if body is not None and ctype in _JSON else None
        if parsed is None or (key is not None and len(key) > MAX_IDEMPOTENCY_KEY):
            await self.app(scope, _replay(messages, receive), send)  # FastAPI answers
            return
        scope["route"], scope["path_params"] = _ROUTE, {"hall": hall}  # as the router sets them (metrics read it)
        request = Request(scope, receive)
        scheme, token = get_authorization_scheme_param(auth)  # as the route's OAuth2PasswordBearer reads it
        try:
            who = await scope["app"].state.ctx.tokens.principal(token if auth and scheme.lower() == "bearer" else None)
            response = await issue_ticket(request, hall, parsed, who, key)
        except Exception as exc:
            handler = _handler(scope["app"], exc)
            if handler is None:
                raise  # to Starlette's ServerErrorMiddleware: 500, as for any route
            response = await handler(request, exc)
        self.fast_served += 1
        await response(scope, receive, send)


def _parse(body: bytes) -> TicketCreate | None:
    """The body as the route would take it (FastAPI: `json.loads`, then the model in Python mode), or None."""
    try:
        return TicketCreate.model_validate(json.loads(body))
    except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None


async def _read_body(receive: Receive, messages: list[Message]) -> bytes | None:
    """The request's body (the messages read are kept in `messages`), or None past MAX_FAST_BODY."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FAST_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks) if len(chunks) != 1 else chunks[0]


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that gives the messages already read again, then the connection's own."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def _handler(app: Any, exc: Exception) -> Any:
    """The application's exception handler for `exc` (the nearest class), as Starlette looks it up."""
    handlers = app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers and cls is not Exception:  # Exception's is the 500 page: ServerErrorMiddleware's
            return handlers[cls]
    return None
