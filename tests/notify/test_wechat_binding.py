"""Binding a ticket to the citizen's WeChat openid from the tracking page, over real HTTP on both databases,
against a loopback stand-in of WeChat (OAuth code exchange, access_token, the official account's bizsend).

The phone's part is played by an httpx client that keeps cookies: it taps the page's link, reads where the
server sends it (WeChat's authorize page, which would send it back with a code), and comes back to the
callback with a code the stand-in knows. The call notice reaches the bound openid exactly once; a forged,
altered, expired, replayed or other-browser state is refused without binding anything.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, expect

from queue_server.notify.wechat_bind import COOKIE, make_state

from ..harness import Api, LiveServer, fresh_database, runtime, serving
from ..web.test_board import SHOTS
from .cloud_services import WECHAT_APPID, WECHAT_SECRET, CloudService, wechat_oauth_check

OPENID = "oXyZ_official_account_user_0123"  # the official account's openid of the citizen
ANOTHER = "oAnother_user_4567"
CODES = {"code-1": OPENID, "code-2": ANOTHER, "code-3": OPENID}
CODES |= {"code-p1": OPENID, "code-p2": ANOTHER, "code-p3": OPENID}  # the phone's bindings (each code good once)
KIOSK = "kiosk-w-token-0123456789"
CALLED_TEMPLATE = "bizsend-called-template-0123456789"
ISSUED_TEMPLATE = "bizsend-issued-template-0123456789"
PHONE, OTHER_PHONE = "13912345678", "13800001111"
CONFIG = f"""
[server]
demo = true

[notify]
provider = "wechat"
wechat_account = "official_account"
url = "{{url}}"
key_id = "{WECHAT_APPID}"
secret = "{WECHAT_SECRET}"
timeout_s = 3

  [notify.templates.called]
  code = "{CALLED_TEMPLATE}"
  params = {{ character_string1 = "number", character_string2 = "window" }}

  [notify.templates.issued]
  code = "{ISSUED_TEMPLATE}"
  params = {{ character_string1 = "number", number2 = "ahead" }}

[[halls]]
code = "w1"
name = "微信测试中心"
name_en = "WeChat Test Centre"
national_holidays = false

  [[halls.queues]]
  code = "A"
  name = "综合"
  name_en = "General"

  [[halls.windows]]
  number = 1
  queues = ["A"]

[[users]]
username = "clerk-w"
password = "clerk-w-password-0123"
role = "clerk"
hall = "w1"

[[devices]]
name = "kiosk-w"
role = "kiosk"
hall = "w1"
token = "{KIOSK}"
"""


@pytest.fixture(scope="module")
def wechat(backend: str) -> Iterator[CloudService]:
    """WeChat's stand-in, one per database run (its codes are good once, as WeChat's are)."""
    svc = CloudService(wechat_oauth_check(CODES)).start()
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def live_w(backend: str, tmp_path_factory: pytest.TempPathFactory, wechat: CloudService) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp(f"wechat-{backend}")
    cfg = tmp / "hall.toml"
    cfg.write_text(CONFIG.replace("{url}", wechat.url), encoding="utf-8")
    with serving(runtime(fresh_database(backend, tmp, name="wx"), tmp / "var", config=cfg)) as srv:
        yield srv


def take(http: httpx.Client, phone: str | None = None) -> dict[str, str]:
    body = {"queue": "A"} | ({"phone": phone} if phone else {})
    r = http.post("/api/v1/halls/w1/tickets", json=body, headers={"Authorization": f"Bearer {KIOSK}"})
    assert r.status_code == 201, r.text
    return dict(r.json())


def tap_button(phone: httpx.Client, track_token: str) -> str:
    """The tracking page's link: where the server sends the phone (WeChat's OAuth page); the state it carries."""
    r = phone.get(f"/wechat/bind/{track_token}")
    assert r.status_code == 302, r.text
    where = r.headers["location"]
    parts = urlsplit(where)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://open.weixin.qq.com/connect/oauth2/authorize"
    assert parts.fragment == "wechat_redirect"
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q["appid"] == WECHAT_APPID and q["scope"] == "snsapi_base" and q["response_type"] == "code"
    assert q["redirect_uri"] == f"{phone.base_url}".rstrip("/") + "/wechat/oauth"
    assert track_token not in where  # the tracking token never goes to WeChat
    return q["state"]


def clerk(http: httpx.Client) -> dict[str, str]:
    r = http.post("/api/v1/auth/token", data={"username": "clerk-w", "password": "clerk-w-password-0123"})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def wait_for(cond: object, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_the_call_notice_reaches_the_bound_openid_exactly_once(live_w: LiveServer, wechat: CloudService) -> None:
    live_w.reset()
    live_w.ctx.limiter.clear()
    before = len(wechat.requests)
    with httpx.Client(base_url=live_w.url, timeout=30) as phone:
        bound, unbound = take(phone), take(phone)
        state = tap_button(phone, bound["track_token"])
        assert phone.cookies.get(COOKIE)
        r = phone.get("/wechat/oauth", params={"code": "code-1", "state": state})
        assert r.status_code == 303, r.text
        assert r.headers["location"] == f"/track/{bound['track_token']}"
        staff = clerk(phone)
        # the bound ticket is called, then the other one (no phone, no openid: nothing to send)
        for t in (bound, unbound):
            r = phone.post("/api/v1/halls/w1/windows/1/call-next", headers=staff)
            assert r.status_code == 200 and r.json()["number"] == t["number"], r.text
            assert phone.post(f"/api/v1/tickets/{t['id']}/complete", headers=staff).status_code == 200
        wait_for(lambda: len(wechat.sends()) >= 1)
        time.sleep(0.5)  # a second send would come now
        (send,) = wechat.sends()
        assert send.path == "/cgi-bin/message/subscribe/bizsend"
        body = send.json
        assert body["touser"] == OPENID and body["template_id"] == CALLED_TEMPLATE
        assert body["data"] == {"character_string1": {"value": bound["number"]}, "character_string2": {"value": "1"}}
        exchanges = [x for x in wechat.requests[before:] if x.path == "/sns/oauth2/access_token"]
        assert len(exchanges) == 1 and dict(exchanges[0].query)["code"] == "code-1"
        assert all(not x.errors for x in wechat.requests), [x.errors for x in wechat.requests]
        rows = phone.get("/api/v1/halls/w1/notifications", headers=staff).json()
        assert [(n["kind"], n["ticket"], n["status"]) for n in rows] == [("called", bound["number"], "sent")]
        assert OPENID not in str(rows)
        assert unbound["number"] not in str(rows)


def bind_on_page(phone: httpx.Client, track_token: str, code: str) -> None:
    state = tap_button(phone, track_token)
    r = phone.get("/wechat/oauth", params={"code": code, "state": state})
    assert r.status_code == 303, r.text


def bound(http: httpx.Client, t: dict[str, str]) -> bool:
    return bool(http.get(f"/api/v1/track/{t['track_token']}").json()["wechat_bound"])


def test_a_phone_bound_once_gets_its_later_tickets_notices_in_wechat_until_unbound(
    live_w: LiveServer, wechat: CloudService
) -> None:
    """Bound on one ticket's page: the same phone's later tickets (same hall, PHONE_BINDING_DAYS) get their
    notices at the openid without binding again; another phone's do not; stopping them on a later ticket's page
    stops every ticket of the phone; a binding older than PHONE_BINDING_DAYS serves no new ticket. The phone is
    kept only as its keyed hash, the openid only encrypted, and neither reaches the notification list."""
    from sqlalchemy import select, update

    from queue_server.models import Event
    from queue_server.notify.bindings import PHONE_BINDING_DAYS
    from queue_server.notify.models import WeChatPhoneBinding

    live_w.reset()
    live_w.ctx.limiter.clear()
    before = len(wechat.sends())
    with httpx.Client(base_url=live_w.url, timeout=30) as phone:
        first = take(phone, PHONE)
        bind_on_page(phone, first["track_token"], "code-p1")
        later, stranger = take(phone, PHONE), take(phone, OTHER_PHONE)  # the later one: its "issued" notice
        assert bound(phone, later) and not bound(phone, stranger)
        staff = clerk(phone)
        for t in (first, later):
            r = phone.post("/api/v1/halls/w1/windows/1/call-next", headers=staff)
            assert r.json()["number"] == t["number"], r.text
            assert phone.post(f"/api/v1/tickets/{t['id']}/complete", headers=staff).status_code == 200
        fourth = take(phone, PHONE)  # bound too: its "issued" notice
        wait_for(lambda: len(wechat.sends()) >= before + 4)
        # the citizen stops it on the newest ticket's page: that ticket, the earlier ones, and the next ones
        r = phone.post(f"/api/v1/track/{fourth['track_token']}/wechat/unbind")
        assert r.status_code == 200 and r.json()["wechat_bound"] is False, r.text
        assert not bound(phone, first) and not bound(phone, fourth)
        for t in (stranger, fourth):
            r = phone.post("/api/v1/halls/w1/windows/1/call-next", headers=staff)
            assert r.json()["number"] == t["number"], r.text
            assert phone.post(f"/api/v1/tickets/{t['id']}/complete", headers=staff).status_code == 200
        fifth = take(phone, PHONE)
        assert not bound(phone, fifth)
        time.sleep(0.5)  # a late send would come now
        sends = wechat.sends()[before:]
        assert [(x.json["template_id"], x.json["touser"]) for x in sends] == [
            (ISSUED_TEMPLATE, OPENID),
            (CALLED_TEMPLATE, OPENID),
            (CALLED_TEMPLATE, OPENID),
            (ISSUED_TEMPLATE, OPENID),
        ]
        numbers = [x.json["data"]["character_string1"]["value"] for x in sends]
        assert numbers == [later["number"], first["number"], later["number"], fourth["number"]]
        rows = phone.get("/api/v1/halls/w1/notifications", headers=staff).json()
        assert sorted((n["kind"], n["ticket"]) for n in rows) == sorted(
            [
                ("issued", later["number"]),
                ("called", first["number"]),
                ("called", later["number"]),
                ("issued", fourth["number"]),
            ]
        )
        assert OPENID not in str(rows) and PHONE not in str(rows)

        # bound again (another WeChat user this time): it replaces the phone's binding; once it is older than
        # PHONE_BINDING_DAYS, a new ticket of the phone is on its own again
        bind_on_page(phone, fifth["track_token"], "code-p2")
        sixth = take(phone, PHONE)
        assert bound(phone, sixth)
        with live_w.ctx.db.write() as s:
            (row,) = s.execute(select(WeChatPhoneBinding)).scalars()
            assert PHONE not in row.phone_hash and OPENID not in row.openid_enc and ANOTHER not in row.openid_enc
            s.execute(
                update(WeChatPhoneBinding).values(created_at=row.created_at - timedelta(days=PHONE_BINDING_DAYS + 1))
            )
        seventh = take(phone, PHONE)
        assert not bound(phone, seventh) and bound(phone, fifth)  # the ticket bound on its own page keeps it
        with live_w.ctx.db.read() as s:
            events = str([(e.type, e.data) for e in s.execute(select(Event)).scalars()])
        assert "wechat" not in events and OPENID not in events and PHONE not in events


def test_unbinding_is_refused_where_the_hall_sends_no_wechat_notices(api: Api) -> None:
    t = api.take("A")
    r = api.http.post(f"/api/v1/track/{t['track_token']}/wechat/unbind")
    assert r.status_code == 404 and "WeChat" in r.json()["detail"]


def test_forged_replayed_expired_and_other_browser_states_are_refused(live_w: LiveServer, wechat: CloudService) -> None:
    live_w.reset()
    live_w.ctx.limiter.clear()
    with httpx.Client(base_url=live_w.url, timeout=30) as phone, httpx.Client(base_url=live_w.url) as other:
        mine, theirs = take(phone), take(phone)
        state = tap_button(phone, mine["track_token"])
        ticket_id, expires, nonce, mac = state.split(".")
        assert ticket_id == str(mine["id"])
        refused = {
            "altered ticket": f"{theirs['id']}.{expires}.{nonce}.{mac}",
            "altered expiry": f"{ticket_id}.{int(expires) + 3600}.{nonce}.{mac}",
            "made up": f"{ticket_id}.{expires}.{nonce}.{'0' * 32}",
            "not a state": "hello",
        }
        before = len(wechat.requests)
        for why, forged in refused.items():
            r = phone.get("/wechat/oauth", params={"code": "code-2", "state": forged})
            assert r.status_code == 403, (why, r.text)
            assert "tap the button" in r.json()["detail"], why
        # the right state in another browser (no cookie: a link sent to someone else)
        r = other.get("/wechat/oauth", params={"code": "code-2", "state": state})
        assert r.status_code == 403 and "WeChat window where you started" in r.json()["detail"]
        # expired: signed by the server but past its time
        old = make_state(live_w.ctx.cipher, int(mine["id"]), mine["track_token"], int(time.time()) - 1, nonce)
        r = phone.get("/wechat/oauth", params={"code": "code-2", "state": old})
        assert r.status_code == 403 and "expired" in r.json()["detail"]
        assert len(wechat.requests) == before  # WeChat was never asked
        # used once, then replayed (the cookie put back as a replaying browser would)
        assert phone.get("/wechat/oauth", params={"code": "code-3", "state": state}).status_code == 303
        phone.cookies.set(COOKIE, nonce, path="/wechat")
        r = phone.get("/wechat/oauth", params={"code": "code-2", "state": state})
        assert r.status_code == 403 and "already used" in r.json()["detail"]
        exchanges = [x for x in wechat.requests[before:] if x.path == "/sns/oauth2/access_token"]
        assert [dict(x.query)["code"] for x in exchanges] == ["code-3"]
        # a finished ticket offers no binding; an unknown token is 404
        staff = clerk(phone)
        phone.post(f"/api/v1/tickets/{theirs['id']}/cancel", headers=staff)
        assert phone.get(f"/wechat/bind/{theirs['track_token']}").status_code == 409
        assert phone.get("/wechat/bind/no-such-token").status_code == 404


def test_the_callback_is_rate_limited_per_address(live_w: LiveServer) -> None:
    live_w.ctx.limiter.clear()
    with httpx.Client(base_url=live_w.url, timeout=30) as phone:
        codes = [phone.get("/wechat/oauth", params={"code": "x", "state": f"1.1.n.{i}"}).status_code for i in range(61)]
    assert set(codes[:60]) == {403} and codes[60] == 429
    live_w.ctx.limiter.clear()


WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile "
    "Safari/537.36 MicroMessenger/8.0.47.2560(0x28002F35) NetType/WIFI Language/zh_CN"
)


def test_the_tracking_page_offers_the_button_inside_wechat(
    live_w: LiveServer,
    browser: Browser,
) -> None:
    live_w.reset()
    with httpx.Client(base_url=live_w.url, timeout=30) as http:
        t = take(http)
    url = f"{live_w.url}/track/{t['track_token']}"
    for ua, shown in ((WECHAT_UA, True), (None, False)):
        page = browser.new_page(viewport={"width": 390, "height": 844}, user_agent=ua, locale="zh-CN")
        try:
            page.goto(url)
            page.wait_for_selector("body[data-ready]")
            link = page.locator("#wechat")
            if shown:
                expect(link).to_be_visible()
                expect(link).to_have_text("用微信接收通知 Get notices in WeChat")
                assert link.get_attribute("href") == f"/wechat/bind/{t['track_token']}"
                page.screenshot(path=str(SHOTS / "track-wechat.png"))
            else:
                expect(link).to_be_hidden()  # outside WeChat its OAuth cannot work
        finally:
            page.close()


def test_the_tracking_page_of_a_bound_phone_offers_to_stop_the_notices(
    live_w: LiveServer, wechat: CloudService, browser: Browser
) -> None:
    """A later ticket of a bound phone: its page says the notices come in WeChat (no second binding offered) and
    stops them with one tap; then it offers binding again inside WeChat and nothing outside it."""
    live_w.reset()
    live_w.ctx.limiter.clear()
    with httpx.Client(base_url=live_w.url, timeout=30) as phone:
        first = take(phone, PHONE)
        bind_on_page(phone, first["track_token"], "code-p3")
        later = take(phone, PHONE)
    for ua in (WECHAT_UA, None):
        page = browser.new_page(viewport={"width": 390, "height": 844}, user_agent=ua, locale="zh-CN")
        try:
            page.goto(f"{live_w.url}/track/{later['track_token']}")
            page.wait_for_selector("body[data-ready]")
            if ua is None:  # stopped in WeChat already: nothing to offer outside it
                expect(page.locator("#wechat-box")).to_be_hidden()
                continue
            expect(page.locator("#wechat")).to_be_hidden()
            expect(page.locator("#wechat-on")).to_contain_text("已通过微信接收通知")
            expect(page.locator("#wechat-on")).to_contain_text("also for this phone's later numbers")
            page.screenshot(path=str(SHOTS / "track-wechat-bound.png"))
            page.locator("#wechat-off").click()
            expect(page.locator("#wechat-result")).to_have_text("已停止微信通知 / WeChat notices stopped")
            expect(page.locator("#wechat-off")).to_be_hidden()
            expect(page.locator("#wechat")).to_be_visible()  # in WeChat: it can be bound again
        finally:
            page.close()
    with httpx.Client(base_url=live_w.url, timeout=30) as http:
        assert not bound(http, later) and not bound(http, first)
