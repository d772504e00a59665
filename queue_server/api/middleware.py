"""The server's one middleware (pure ASGI): the security headers of every HTML page, each request timed into
the metrics, and the fast routes (api/fast.py: take a number, call next, complete, F9, check in) served
without FastAPI's request machinery."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .fast import FastRoutes
from .headers import PAGE_HEADERS

if TYPE_CHECKING:
    from ..metrics import Metrics

_ADD = [(k.lower().encode(), v.encode()) for k, v in PAGE_HEADERS.items()]


class HallMiddleware:
    """The server's one middleware: each HTTP request timed into the metrics (`observe_request`), page
    headers on every `text/html` answer that does not set them itself, and the fast routes."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics | None = None, fast: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.fast = fast  # False: every request through FastAPI (for comparisons)
        self.fast_routes = FastRoutes()

    @property
    def fast_served(self) -> int:
        """Requests the fast routes answered (tests see the fast path is taken)."""
        return self.fast_routes.served

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a fast route, or pass the request on (HTML answers get the page headers); time either."""
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
            found = self.fast_routes.match(scope) if self.fast else None
            if found is not None:
                await self.fast_routes.serve(*found, scope, receive, send_on, self.app)
            else:
                await self.app(scope, receive, send_on)
        finally:
            if self.metrics is not None:
                self.metrics.observe_request(scope, status, time.perf_counter() - started)
