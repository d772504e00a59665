"""The citizen's tracking page behind every ticket's QR code: the page, its JSON, its cancel, its own stream.

`track_url` (on every ticket answer) is `<public_url>/track/<token>`: `public_url` is the hall's config key, or
the server's own base URL of the request. The page follows `/ws/track/<token>`, a stream of that one ticket's
public state (the shared follower's protocol: a "snapshot" message at every change, heartbeats between), so a
phone learns nothing the board does not show and nothing about other tickets.

Tracking tokens are 144-bit random strings; still, an address that keeps asking for unknown ones is refused
(429) after PER_ADDRESS_HOUR misses an hour, and one ticket's stream opens at most STREAM_OPENS_HOUR times.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path as FilePath
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request, WebSocket
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from ...config import HallConfig
from ...context import HallContext
from ...errors import NotFound, TooManyRequests
from ...events import HallEvent, Subscriber
from ...notify import bindings, wechat_bind
from ...ratelimit import PER_ADDRESS_HOUR, client_of
from ...schemas.events import envelope
from ...schemas.ticket import track_url
from ...schemas.track import TrackState
from ...services import tickets as svc
from ...services.auth import Principal
from ...services.tracking import NO_TICKET, Tracked, tracked
from ...store import tickets as store
from ...timeutil import utcnow
from ..deps import CtxDep
from .ws import Stream, heartbeat_every, serve

TRACK_DIR = FilePath(__file__).resolve().parents[2] / "web" / "track"
STREAM_OPENS_HOUR = 240  # one ticket's stream: a phone that reconnects every 15 s for an hour
OTHERS_EVERY_S = 2.0  # other tickets' events update "people ahead" at most this often; the ticket's own at once
TrackToken = Annotated[str, Path(max_length=64)]
MAX_BASES = 64
_BASES: dict[tuple[object, ...], str] = {}  # (scheme, Host, server, root path) -> the base URL they make

router = APIRouter(tags=["public"])
router.mount("/static/track", StaticFiles(directory=TRACK_DIR), name="track-static")
log = logging.getLogger(__name__)


def public_url(hall: HallConfig, request: Request) -> str:
    """Where phones reach this server: the hall's `public_url`, else the base URL the request came to."""
    if hall.public_url:
        return hall.public_url
    scope = request.scope
    host = next((v for k, v in scope["headers"] if k == b"host"), b"")
    key = (scope.get("scheme", "http"), host, scope.get("server"), scope.get("root_path", ""))
    base = _BASES.get(key)
    if base is None:  # Starlette's base_url parses the request's URL: ~0.1 ms, once per address, not per ticket
        base = str(request.base_url)
        if len(_BASES) < MAX_BASES:  # a caller's made-up Host headers cannot grow it
            _BASES[key] = base
    return base


def ticket_track_url(hall: HallConfig, request: Request, token: str) -> str:
    """The `track_url` of a ticket answer: built from configuration alone (no database read)."""
    return track_url(public_url(hall, request), token)


def _wechat(ctx: HallContext) -> bool:
    return wechat_bind.enabled(ctx.config.notify)


async def _look_up(ctx: HallContext, address: str, token: str) -> Tracked:
    """The ticket's state; an address spent on misses is refused before the look-up, and a miss counts."""
    key = f"track-miss:{address}"
    await ctx.limiter.check(key, per_hour=PER_ADDRESS_HOUR, count=False)
    try:
        return await ctx.read(lambda s: tracked(s, token, utcnow(), ctx.hall, wechat=_wechat(ctx)))
    except NotFound:
        await ctx.limiter.check(key, per_hour=PER_ADDRESS_HOUR)
        raise


@router.get("/api/v1/track/{track_token}", response_model=TrackState)
async def track_ticket(track_token: TrackToken, request: Request, ctx: CtxDep) -> TrackState:
    """Follow a ticket from the QR code on it (no login): number, queue, people ahead, wait, window, notice."""
    return (await _look_up(ctx, client_of(request), track_token)).state


@router.post("/api/v1/track/{track_token}/cancel", response_model=TrackState)
async def cancel_by_citizen(track_token: TrackToken, request: Request, ctx: CtxDep) -> TrackState:
    """The citizen gives up a waiting ticket from the tracking page (rate-limited per address)."""
    await ctx.limiter.check(f"track-cancel:{client_of(request)}", per_hour=PER_ADDRESS_HOUR)

    t = await ctx.read(lambda s: store.ticket_by_track(s.connection(), track_token))
    if t is None:
        raise NotFound(NO_TICKET)
    ticket_id, hall = t.id, t.hall_code
    citizen = Principal("device", "citizen", "kiosk", hall)
    await ctx.change(hall, lambda tx: svc.act(tx, ticket_id=ticket_id, action="cancel", actor=citizen))
    return (await ctx.read(lambda s: tracked(s, track_token, utcnow(), ctx.hall, wechat=_wechat(ctx)))).state


@router.post("/api/v1/track/{track_token}/wechat/unbind", response_model=TrackState)
async def unbind_wechat(track_token: TrackToken, request: Request, ctx: CtxDep) -> TrackState:
    """The citizen stops the WeChat notices from the tracking page: for this ticket and for the later tickets of
    the phone it was taken with (notify/bindings.py); rate-limited per address. 404 where the hall sends none."""
    if not _wechat(ctx):
        raise NotFound("本大厅未开通微信通知 / WeChat notices are not set up in this hall")
    await ctx.limiter.check(f"track-unbind:{client_of(request)}", per_hour=PER_ADDRESS_HOUR)
    t = await ctx.read(lambda s: store.ticket_by_track(s.connection(), track_token))
    if t is None:
        raise NotFound(NO_TICKET)
    ticket_id, phone_hash = t.id, t.phone_hash
    await ctx.change(t.hall_code, lambda tx: bindings.unbind(tx, ticket_id=ticket_id, phone_hash=phone_hash))
    return (await ctx.read(lambda s: tracked(s, track_token, utcnow(), ctx.hall, wechat=True))).state


@router.get("/track/{track_token}", response_class=HTMLResponse, include_in_schema=False)
def track_page(track_token: TrackToken, ctx: CtxDep) -> Response:
    """The tracking page (跟踪页): static, the same for every token — its script reads the state by the token;
    marked `data-wechat` where the hall's WeChat notices go to an openid bound from it (notify/wechat_bind.py)."""
    page = TRACK_DIR / "index.html"
    if not wechat_bind.enabled(ctx.config.notify):
        return FileResponse(page, media_type="text/html", headers={"Cache-Control": "no-cache"})
    html = page.read_text(encoding="utf-8").replace("<body ", '<body data-wechat="1" ', 1)
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


def _relevant(ev: HallEvent, t: Any) -> bool:
    """Whether another ticket's event can change this ticket's people ahead, wait or notice."""
    if ev.type == "notice":
        return True
    if t.status != "waiting" or not (ev.type.startswith("ticket.") or ev.type == "queue.stats"):
        return False
    d = ev.data
    loads = d.get("queues") or []
    return t.queue in (d.get("queue"), d.get("from_queue")) or any(q.get("code") == t.queue for q in loads)


def _own(ev: HallEvent, ticket_id: int) -> bool:
    return ev.data.get("id") == ticket_id if ev.type.startswith("ticket.") else ev.data.get("ticket") == ticket_id


class TicketStream(Stream):
    """One phone following one ticket: a snapshot of its public state whenever that state changes."""

    def __init__(self, ws: WebSocket, ctx: HallContext, token: str, first: Tracked, sub: Subscriber) -> None:
        super().__init__(ws, ctx, first.ticket.hall_code, sub)
        self.token = token
        self.current = first
        self.sent: dict[str, Any] | None = None

    def read(self, s: Any) -> Tracked:
        """The ticket's state now (in a read session)."""
        return tracked(s, self.token, utcnow(), self.ctx.hall, wechat=_wechat(self.ctx))

    async def snapshot(self) -> None:
        """Read the ticket again and send it."""
        self.current = await self.ctx.read(
            lambda s: tracked(s, self.token, utcnow(), self.ctx.hall, wechat=_wechat(self.ctx))
        )
        await self.send(force=True)

    async def send(self, *, force: bool = False) -> None:
        """Send the current state when it differs from the last one sent (or when asked to)."""
        data = self.current.state.model_dump(mode="json")
        if data == self.sent and not force:
            return
        at = utcnow().astimezone(self.ctx.zones[self.hall]).isoformat()
        self.last = max(self.last, self.current.seq)
        await self.ws.send_text(orjson.dumps(envelope(self.last, "snapshot", at, self.hall, data)).decode())
        self.sent = data

    async def refresh(self) -> None:
        """Read the ticket again; send it if it changed."""
        self.current = await self.ctx.read(
            lambda s: tracked(s, self.token, utcnow(), self.ctx.hall, wechat=_wechat(self.ctx))
        )
        await self.send()

    async def run(self, heartbeat_s: float) -> None:
        """Refresh at once on the ticket's own events, at most every OTHERS_EVERY_S on others' that matter;
        close (4404) if the ticket is gone (a database emptied or rebuilt)."""
        try:
            await self._follow(heartbeat_s)
        except NotFound:
            await self.ws.close(code=4404, reason="no such ticket")

    async def _follow(self, heartbeat_s: float) -> None:
        loop = asyncio.get_running_loop()
        due: float | None = None  # when a refresh for others' events is due
        while True:
            if self.want_snapshot:
                self.want_snapshot = False
                await self.snapshot()
            wait = heartbeat_s if due is None else max(0.0, due - loop.time())
            ev = await self.sub.next(wait) if wait > 0 else None
            if ev is None:
                if self.sub.overflowed:  # events were dropped: start a fresh mailbox and read the ticket again
                    self.ctx.hub.unsubscribe(self.sub)
                    self.sub = self.ctx.hub.subscribe(self.hall)
                    due = loop.time()
                if due is not None and loop.time() >= due:
                    due = None
                    await self.refresh()
                elif not self.want_snapshot:
                    at = utcnow().astimezone(self.ctx.zones[self.hall]).isoformat()
                    await self.ws.send_text(orjson.dumps(envelope(self.last, "heartbeat", at, self.hall, {})).decode())
                continue
            if _own(ev, self.current.ticket.id):
                due = None
                await self.refresh()
            elif due is None and _relevant(ev, self.current.ticket):
                due = loop.time() + OTHERS_EVERY_S


@router.websocket("/ws/track/{token}")
async def track_events(ws: WebSocket, token: str, heartbeat: float | None = None) -> None:
    """Websocket: the ticket's public state now, then again at each change; heartbeats when idle (`heartbeat`:
    as for the hall's stream). Closes 4404 for an unknown token, 4429 when the address or the ticket is over
    its budget."""
    ctx: HallContext = ws.app.state.ctx
    await ws.accept()
    address = ws.client.host if ws.client else "?"
    try:
        await ctx.limiter.check(f"track-stream:{token[:64]}", per_hour=STREAM_OPENS_HOUR)
        first = await _look_up(ctx, address, token[:64] if len(token) <= 64 else "")
    except TooManyRequests:
        await ws.close(code=4429, reason="too many requests")
        return
    except NotFound:
        await ws.close(code=4404, reason="no such ticket")
        return
    stream = TicketStream(ws, ctx, token, first, ctx.hub.subscribe(first.ticket.hall_code))
    await serve(stream, stream.send(force=True), heartbeat_every(ws, heartbeat))
