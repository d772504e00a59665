"""Binding a ticket to the citizen's WeChat openid from the tracking page (用微信接收通知 / Get notices in WeChat).

The page links to `GET /wechat/bind/{track_token}`, which sends the phone to WeChat's OAuth page with scope
`snsapi_base` (no consent screen: only the openid) and a `state` that

- names the ticket and an expiry (STATE_TTL_S) and carries a random nonce,
- is signed with the server's keyed hash over those and the ticket's tracking token, so only someone holding
  the tracking token can make one, and no state can be altered or made up,
- works once (the nonce is stored with the binding, unique), and only in the browser that started it: the
  nonce is also set in a cookie the callback must bring back (OAuth's CSRF defence, RFC 6749 §10.12).

WeChat sends the phone back to `GET /wechat/oauth?code=&state=`: the state is checked, then the code is
exchanged for the openid with wechatpy's `WeChatOAuth` against the configured app (`[notify] key_id` and
`secret`; `url` for a stand-in of api.weixin.qq.com), and the openid is stored encrypted for the ticket — and,
for a ticket taken with a phone, for that phone's later tickets in the hall (bindings.py). From then on their
messages go to that openid (`services/notices.py`, `recipient`) until the citizen stops them on a tracking page
(`POST /api/v1/track/{token}/wechat/unbind`, api/routes/track.py).

Only with `[notify] provider = "wechat"` and `wechat_account = "official_account"`: web OAuth gives the
official account's openid, which is what its subscription notices (订阅通知, bizsend) are addressed to. Both
routes are rate-limited per address. The openid never reaches a log line.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from ..api.deps import CtxDep
from ..config import NotifyConfig
from ..context import HallContext
from ..crypto import PiiCipher
from ..errors import Conflict, Forbidden, NotFound, Unavailable
from ..models import FINAL_STATUSES
from ..ratelimit import PER_ADDRESS_HOUR, client_of
from ..services.tracking import NO_TICKET
from ..store import tickets as store
from ..timeutil import utcnow
from .bindings import USED, bind, used

__all__ = ["enabled", "make_state", "router"]

STATE_TTL_S = 600  # from tapping the button to coming back from WeChat
COOKIE = "hall_wx_nonce"
OAUTH_PATH = "/wechat/oauth"
WECHAT_API = "https://api.weixin.qq.com/"

router = APIRouter(tags=["public"])
TrackToken = Annotated[str, Path(max_length=64)]

REFUSED = "绑定链接无效，请回到排队页重新点击 / This link is not valid: tap the button on your ticket page again"
EXPIRED = "绑定链接已过期，请回到排队页重新点击 / This link has expired: tap the button on your ticket page again"
NOT_CONFIRMED = "微信授权未成功，请回到排队页重新点击 / WeChat did not confirm you: tap the button again"
OTHER_BROWSER = "请在开始绑定的微信窗口中完成 / Please finish in the WeChat window where you started"


def enabled(config: NotifyConfig) -> bool:
    """Whether the tracking page offers the WeChat binding (the official account's subscription notices)."""
    return config.wechat_bindings


def _config(ctx: HallContext) -> NotifyConfig:
    cfg = ctx.config.notify
    if not enabled(cfg):
        raise NotFound("本大厅未开通微信通知 / WeChat notices are not set up in this hall")
    return cfg


def _mac(cipher: PiiCipher, ticket_id: int, expires: int, nonce: str, track_token: str) -> str:
    return cipher.keyed_hash(f"wechat-state\0{ticket_id}\0{expires}\0{nonce}\0{track_token}")[:32]


def make_state(cipher: PiiCipher, ticket_id: int, track_token: str, expires: int, nonce: str) -> str:
    """`<ticket id>.<expiry, epoch s>.<nonce>.<signature>`: at most ~70 characters (WeChat allows 128)."""
    return f"{ticket_id}.{expires}.{nonce}.{_mac(cipher, ticket_id, expires, nonce, track_token)}"


def _parse(state: str) -> tuple[int, int, str, str]:
    parts = state.split(".")
    if len(parts) != 4 or not (parts[0].isdigit() and parts[1].isdigit()) or len(parts[0]) > 9:
        raise Forbidden(REFUSED)  # (an id of 9 digits at most fits the ticket table's integer column)
    return int(parts[0]), int(parts[1][:12]), parts[2], parts[3]


@router.get("/wechat/bind/{track_token}", include_in_schema=False)
async def start_binding(track_token: TrackToken, request: Request, ctx: CtxDep) -> Response:
    """The tracking page's button: a signed, single-use state and the redirect to WeChat's OAuth page."""
    cfg = _config(ctx)
    await ctx.limiter.check(f"wechat-bind:{client_of(request)}", per_hour=PER_ADDRESS_HOUR)
    t = await ctx.read(lambda s: store.ticket_by_track(s.connection(), track_token))
    if t is None:
        raise NotFound(NO_TICKET)
    if t.status in FINAL_STATUSES:
        raise Conflict("这张票已结束，无需接收通知 / This ticket is finished: there is nothing to tell you")
    from wechatpy.oauth import WeChatOAuth

    from ..api.routes.track import public_url  # the routes package imports the notify package

    nonce = secrets.token_hex(8)
    expires = int(utcnow().timestamp()) + STATE_TTL_S
    state = make_state(ctx.cipher, t.id, track_token, expires, nonce)
    back = public_url(ctx.hall(t.hall_code), request).rstrip("/") + OAUTH_PATH
    oauth = WeChatOAuth(cfg.key_id, _secret(cfg), back, scope="snsapi_base", state=state)
    answer = RedirectResponse(oauth.authorize_url, status_code=302)
    answer.set_cookie(
        COOKIE,
        nonce,
        max_age=STATE_TTL_S,
        path="/wechat",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return answer


def _secret(cfg: NotifyConfig) -> str:
    assert cfg.secret is not None  # NotifyConfig requires it for the wechat provider
    return cfg.secret.get_secret_value()


def _exchange(cfg: NotifyConfig, code: str) -> str:
    """The openid for an OAuth code (blocking: run in a worker thread)."""
    from wechatpy.oauth import WeChatOAuth

    timeout = cfg.timeout_s

    class OAuth(WeChatOAuth):
        """wechatpy's OAuth client with the configured address and a timeout on every request."""

        API_BASE_URL = (cfg.url.rstrip("/") + "/") if cfg.url else WECHAT_API

        def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", timeout)
            return super()._request(method, url_or_endpoint, **kwargs)

    got = OAuth(cfg.key_id, _secret(cfg), "").fetch_access_token(code)
    openid = str(got.get("openid") or "")
    if not openid or len(openid) > 64:
        raise ValueError("no openid in WeChat's answer")
    return openid


async def _openid(cfg: NotifyConfig, code: str) -> str:
    from requests import RequestException
    from wechatpy.exceptions import WeChatOAuthException

    try:
        return await asyncio.wait_for(asyncio.to_thread(_exchange, cfg, code), 2 * cfg.timeout_s + 1)
    except (WeChatOAuthException, ValueError):
        raise Forbidden(
            "微信授权未成功，请回到排队页重新点击 / WeChat did not confirm you: tap the button again"
        ) from None
    except (RequestException, TimeoutError):
        raise Unavailable("暂时无法连接微信，请稍后再试 / WeChat cannot be reached now; try again later") from None


@router.get(OAUTH_PATH, include_in_schema=False)
async def oauth_callback(
    request: Request,
    ctx: CtxDep,
    code: Annotated[str, Query(min_length=1, max_length=128)],
    state: Annotated[str, Query(min_length=1, max_length=128)],
) -> Response:
    """WeChat's redirect back: check the state, exchange the code for the openid, bind it to the ticket."""
    cfg = _config(ctx)
    await ctx.limiter.check(f"wechat-oauth:{client_of(request)}", per_hour=PER_ADDRESS_HOUR)
    ticket_id, expires, nonce, mac = _parse(state)
    t = await ctx.read(lambda s: store.ticket(s.connection(), ticket_id))
    if t is None or not hmac.compare_digest(mac, _mac(ctx.cipher, ticket_id, expires, nonce, t.track_token)):
        raise Forbidden(REFUSED)
    if not hmac.compare_digest(request.cookies.get(COOKIE, ""), nonce):
        raise Forbidden(OTHER_BROWSER)
    if expires < utcnow().timestamp():
        raise Forbidden(EXPIRED)
    if await ctx.read(lambda s: used(s, nonce)):  # before asking WeChat: a replay costs it nothing
        raise Forbidden(USED)
    openid = await _openid(cfg, code)
    phone_hash = t.phone_hash  # the phone's later tickets in this hall get the notices too (bindings.py)
    await ctx.change(
        t.hall_code, lambda tx: bind(tx, ticket_id=ticket_id, nonce=nonce, openid=openid, phone_hash=phone_hash)
    )
    answer = RedirectResponse(f"/track/{t.track_token}", status_code=303)
    answer.delete_cookie(COOKIE, path="/wechat")
    return answer
