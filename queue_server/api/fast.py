"""The fast routes: the requests every kiosk and window sends all day, served without FastAPI's request machinery.

Why by hand: FastAPI's middleware layers, route matching, dependency solving and response wrapper took about
half of the event loop's time per request (bench/README.md, issues 19 and 23). A fast route is an ordinary
route of the app (it stays there for the OpenAPI document, the route table and every request served here
not); what it takes is read from the route itself (FastAPI's `Dependant`): its path parameters and
headers are validated by the route's own fields, its body (JSON, within `MAX_FAST_BODY`) by its own body
field, its dependencies (the context, the caller from the bearer token) are its own functions called with
the request, and the route function is called with them. Its answer must be a `Response` (the function
serialises its model itself, `deps.json_response`), so nothing of FastAPI's response handling is skipped.
An exception is answered by the application's own exception handlers, as FastAPI's route would.

Whatever does not fit goes on to FastAPI with the body replayed, so every answer to a malformed request is
FastAPI's: a parameter, header or body that does not validate, another content type, a larger body, a
`root_path`. A path that an earlier route of the app also matches (`/tickets/{id}/transfer` before
`/tickets/{id}/{action}`) goes on too: the app's route order decides, as in Starlette's router.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import re
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import Message, Receive, Scope, Send

from .routes import appointments, tickets, windows

MAX_FAST_BODY = 4096  # a kiosk's or a window's body is < 200 bytes; a larger one goes the FastAPI way
_JSON = (b"application/json", b"application/json; charset=utf-8")
# The routes served here, in no particular order (each is found in its router by its function).
FAST_ENDPOINTS: tuple[Callable[..., Any], ...] = (
    tickets.take_number,
    tickets.ticket_action,  # complete, recall, no-show, ... (the city's windows: complete without F9)
    windows.call_next,
    windows.complete_and_call_next,  # the console's F9
    appointments.check_in,
)
_ROUTERS = (tickets.router, windows.router, appointments.router)


class NotFast(Exception):
    """A route that cannot be served here (a parameter kind or dependency this module does not resolve)."""


@dataclass(frozen=True, slots=True)
class FastRoute:
    """One route of the app and how to call its function from a raw request."""

    route: APIRoute
    method: str
    path: list[Any]  # the path parameters' fields (FastAPI's ModelField)
    headers: list[tuple[Any, bytes]]  # (field, lower-case header name)
    body: Any | None  # the body's field, or None: the route takes no body
    request_name: str | None  # the parameter that gets the Request itself
    deps: list[tuple[str, str, Callable[..., Any]]]  # (parameter, its request parameter, the dependency)
    shadows: tuple[re.Pattern[str], ...] = ()  # earlier routes of the app that may match the same paths

    @classmethod
    def of(cls, route: APIRoute) -> FastRoute:
        """The route's parameters as FastAPI's dependant lists them; NotFast for anything else."""
        d, methods = route.dependant, route.methods or set()
        if d.query_params or d.cookie_params or len(d.body_params) > 1 or len(methods) != 1:
            raise NotFast(f"{route.path}: query or cookie parameters, several bodies or methods")
        if d.response_param_name or d.background_tasks_param_name or d.security_scopes_param_name:
            raise NotFast(f"{route.path}: a Response, BackgroundTasks or SecurityScopes parameter")
        if d.websocket_param_name or d.http_connection_param_name or not inspect.iscoroutinefunction(d.call):
            raise NotFast(f"{route.path}: not an async HTTP route")
        if typing.get_type_hints(route.endpoint).get("return") is not Response:
            raise NotFast(f"{route.path}: its function must return a Response")
        if any(getattr(f.field_info, "embed", False) for f in d.body_params):
            raise NotFast(f"{route.path}: an embedded body")
        deps = []
        for sub in d.dependencies:
            plain = not (sub.path_params or sub.query_params or sub.header_params or sub.cookie_params)
            if not plain or sub.body_params or sub.dependencies or not sub.request_param_name or not sub.name:
                raise NotFast(f"{route.path}: dependency {sub.name} takes more than the request")
            if sub.call is None or not _is_async(sub.call):
                raise NotFast(f"{route.path}: dependency {sub.name} is not async (FastAPI runs it in a thread)")
            deps.append((sub.name, sub.request_param_name, sub.call))
        headers = [(f, f.alias.lower().encode("latin-1")) for f in d.header_params]
        body = d.body_params[0] if d.body_params else None
        return cls(route, next(iter(methods)), list(d.path_params), headers, body, d.request_param_name, deps)

    def arguments(
        self, groups: dict[str, str], headers: dict[bytes, bytes], body: bytes | None
    ) -> dict[str, Any] | None:
        """The route function's arguments from the path, headers and body, validated by the route's own fields;
        None when any does not validate (FastAPI answers then)."""
        args: dict[str, Any] = {}
        for f in self.path:
            if not _valid(f, groups[f.alias], ("path", f.alias), args):
                return None
        for f, name in self.headers:
            raw = headers.get(name)
            if not _valid(f, _MISSING if raw is None else raw.decode("latin-1"), ("header", f.alias), args):
                return None
        if self.body is not None:
            if body is None:  # too large
                return None
            data: Any = _MISSING  # as FastAPI: an empty body is a missing one
            if body:
                if headers.get(b"content-type") not in _JSON:
                    return None
                try:
                    data = json.loads(body)  # as FastAPI reads a JSON body (`Request.json`)
                except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                    return None
            if not _valid(self.body, data, ("body",), args):
                return None
        return args


class FastRoutes:
    """The table of fast routes and the serving of a request by one of them."""

    def __init__(self, endpoints: Sequence[Callable[..., Any]] = FAST_ENDPOINTS) -> None:
        routes = [r for router in _ROUTERS for r in router.routes if isinstance(r, APIRoute)]
        self.routes = [FastRoute.of(next(r for r in routes if r.endpoint is e)) for e in endpoints]
        self.served = 0  # requests answered here (tests see the fast path is taken)
        self._ready: Any = None  # the app whose route order `shadows` were computed for

    def match(self, scope: Scope) -> tuple[FastRoute, dict[str, str]] | None:
        """The fast route of this request and its path's parameters, or None: FastAPI routes it."""
        if scope.get("root_path"):
            return None
        if self._ready is not scope["app"]:
            self._prepare(scope["app"])
        path, method = scope["path"], scope["method"]
        for fr in self.routes:
            if fr.method != method:
                continue
            m = fr.route.path_regex.match(path)
            if m is not None:
                if any(s.match(path) for s in fr.shadows):
                    return None
                return fr, m.groupdict()
        return None

    def _prepare(self, app: Any) -> None:
        """Each route's shadows in `app`: the earlier routes (same method, or a mount) whose paths may overlap."""
        order = list(_in_order(app.routes))
        prepared = []
        for fr in self.routes:
            at = next((i for i, (full, r) in enumerate(order) if r is fr.route and full == fr.route.path), None)
            if at is None:  # not in this app at its own path: never served here
                continue
            shadows = tuple(
                _regex(full, r)
                for full, r in order[:at]
                if (isinstance(r, Mount) or fr.method in (getattr(r, "methods", None) or ()))
                and _may_overlap(full, fr.route.path, prefix=isinstance(r, Mount))
            )
            prepared.append(dataclasses.replace(fr, shadows=shadows))
        self.routes, self._ready = prepared, app

    async def serve(
        self, fr: FastRoute, groups: dict[str, str], scope: Scope, receive: Receive, send: Send, app: Any
    ) -> None:
        """Answer the request by the route's function, or pass it on to `app` (FastAPI) when it does not fit."""
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, value)  # the first of a repeated header, as Starlette's `Headers.get`
        messages: list[Message] = []
        body = await _read_body(receive, messages) if fr.body is not None else None
        args = fr.arguments(groups, headers, body)
        if args is None:
            await app(scope, _replay(messages, receive), send)  # FastAPI answers
            return
        scope["route"], scope["path_params"] = fr.route, groups  # as the router sets them (metrics read it)
        request = Request(scope, receive)
        if fr.request_name:
            args[fr.request_name] = request
        try:
            for name, param, dep in fr.deps:
                args[name] = await dep(**{param: request})
            response = await fr.route.endpoint(**args)
        except Exception as exc:
            handler = _handler(scope["app"], exc)
            if handler is None:
                raise  # to Starlette's ServerErrorMiddleware: 500, as for any route
            response = await handler(request, exc)
        self.served += 1
        await response(scope, receive, send)


_MISSING = object()


def _valid(f: Any, value: Any, loc: tuple[str, ...], args: dict[str, Any]) -> bool:
    """Validate `value` (or `_MISSING`) with a route's field as FastAPI does (`_validate_value_with_model_field`):
    a missing value takes the field's default, validated only when the field asks; into `args` when valid."""
    if value is _MISSING:
        if f.field_info.is_required():
            return False
        value = copy.deepcopy(f.default)
        if not f.field_info.validate_default:
            args[f.name] = value
            return True
    value, errors = f.validate(value, {}, loc=loc)
    if errors:
        return False
    args[f.name] = value
    return True


def _is_async(call: Any) -> bool:
    """A coroutine function, or an object whose `__call__` is one (a security scheme instance)."""
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004


def _in_order(routes: Sequence[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """The app's routes in matching order with their full paths (FastAPI's included routers walked)."""
    for r in routes:
        inner = getattr(r, "original_router", None)  # FastAPI's included router: its routes keep their paths
        if inner is not None:
            yield from _in_order(inner.routes, prefix + r.include_context.prefix)
        else:
            yield prefix + str(getattr(r, "path", "")), r


def _may_overlap(a: str, b: str, *, prefix: bool = False) -> bool:
    """Whether a path could match both templates: segment by segment, equal or a parameter in either
    (`prefix`: `a` is a mount, matching what begins with it; a `:path` parameter matches the rest)."""
    sa, sb = a.strip("/").split("/"), b.strip("/").split("/")
    for i, (x, y) in enumerate(zip(sa, sb, strict=False)):
        if ":path}" in x or ":path}" in y:
            return True
        if "{" not in x and "{" not in y and x != y:
            return False
        if i == len(sa) - 1 and prefix:
            return True
    return len(sa) == len(sb)


def _regex(full: str, route: Any) -> re.Pattern[str]:
    if full == getattr(route, "path", None) and hasattr(route, "path_regex"):
        return typing.cast(re.Pattern[str], route.path_regex)
    from starlette.routing import compile_path

    return compile_path(full + ("/{path:path}" if isinstance(route, Mount) else ""))[0]


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
