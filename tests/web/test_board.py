"""The web boards in headless Chromium (Debian's, driven by Playwright), against live servers on both backends."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    Dialog,
    Page,
    ViewportSize,
    WebSocketRoute,
    expect,
)

from ..conftest import sqlite_only
from ..display_board.blackhole import Blackhole
from ..display_board.morning import NOTICE, PAUSED, SHOT_TIME, TAKEN, serving_morning
from ..harness import DISPLAY, Api, free_port, runtime, serving, shots_dir

SHOTS = shots_dir()  # a temporary folder unless HALL_SHOTS_DIR says (tests/harness.py)
LANDSCAPE: ViewportSize = {"width": 1920, "height": 1080}
PORTRAIT: ViewportSize = {"width": 1080, "height": 1920}


def open_page(browser: Browser, url: str, viewport: ViewportSize = LANDSCAPE) -> Page:
    """A page at `url`, once it has rendered the snapshot."""
    page = browser.new_page(viewport=viewport)
    page.goto(url)
    page.wait_for_selector("body[data-seq]", timeout=10_000)
    return page


@pytest.fixture
def board(browser: Browser, api: Api) -> Iterator[Page]:
    """The lobby board of hall t1 on the live server."""
    page = open_page(browser, f"{api.server.url}/board/t1")
    yield page
    page.close()


def _post(api: Api, path: str, body: dict[str, object]) -> None:
    r = api.http.post(path, json=body, headers=api.auth("clerk1"))
    assert r.status_code == 200, r.text


def test_lobby_shows_a_call_with_its_window_within_a_second(api: Api, board: Page) -> None:
    t = api.take("A")
    expect(board.locator("li.queue[data-queue=A] .queue-waiting")).to_contain_text("等候 1 人")
    r = api.call_next(1)
    assert r.status_code == 200, r.text
    start = time.monotonic()
    latest = board.locator("#latest .call-big")
    expect(latest.locator(".call-number")).to_have_text(t["number"], timeout=1000)
    expect(latest.locator(".call-window")).to_contain_text("请到 1 号窗口", timeout=1000)
    assert time.monotonic() - start < 1.0
    expect(latest).to_have_class("call call-big flash")  # the newest call flashes
    expect(board.locator("li.queue[data-queue=A] .queue-waiting")).to_contain_text("无人等候")
    assert board.locator("#offline").is_hidden()


def test_a_transferred_or_rejoined_call_leaves_the_lobby(api: Api, board: Page) -> None:
    first, second, third = api.take("A"), api.take("A"), api.take("A")
    for window in (1, 2, 5):
        assert api.call_next(window).status_code == 200
    expect(board.locator("#latest .call-number")).to_have_text(third["number"])
    assert api.act(third["id"], "transfer", queue="B").status_code == 200
    expect(board.locator("#latest .call-number")).to_have_text(second["number"])
    assert api.act(second["id"], "no-show").status_code == 200
    assert api.act(second["id"], "rejoin").status_code == 200
    expect(board.locator("#latest .call-number")).to_have_text(first["number"])
    expect(board.locator("#calls .call-number")).to_have_count(0)


def test_paused_window_shows_paused_on_lobby_and_window_display(api: Api, board: Page, browser: Browser) -> None:
    t = api.take("B")
    assert api.call_next(2).status_code == 200
    assert api.act(t["id"], "start").status_code == 200
    win = open_page(browser, f"{api.server.url}/board/t1/window/2")
    try:
        expect(win.locator("#win-ticket")).to_have_text(t["number"])
        expect(win.locator("#win-label")).to_contain_text("正在办理")
        row = board.locator("#rows li.paused-window[data-window='2']")
        assert row.count() == 0
        _post(api, "/api/v1/halls/t1/windows/2/status", {"status": "paused", "reason": "系统维护"})
        expect(row).to_contain_text("暂停服务")
        expect(row).to_contain_text("系统维护")
        # the window display says it is paused, not "now serving" the ticket it still holds
        expect(win.locator("#win-status")).to_contain_text("暂停服务")
        expect(win.locator("#win-label")).to_have_text("")
        expect(win.locator("#win-ticket")).to_be_hidden()
        _post(api, "/api/v1/halls/t1/windows/2/status", {"status": "open", "reason": ""})
        expect(row).to_have_count(0)
        expect(win.locator("#win-status")).to_have_text("")
        expect(win.locator("#win-ticket")).to_have_text(t["number"])
    finally:
        win.close()


def test_notice_with_markup_shows_as_text(api: Api, board: Page) -> None:
    dialogs: list[str] = []

    def on_dialog(d: Dialog) -> None:
        dialogs.append(d.message)
        d.dismiss()

    board.on("dialog", on_dialog)
    text = "<script>alert(1)</script> 午休 12:00-13:30 <b>暂停取号</b>"
    _post(api, "/api/v1/halls/t1/notice", {"text": text})
    expect(board.locator("#notice")).to_have_text(text)
    assert board.locator("#notice script, #notice b").count() == 0
    board.reload()  # and from the snapshot too
    board.wait_for_selector("body[data-seq]")
    expect(board.locator("#notice")).to_have_text(text)
    assert dialogs == []


def test_window_display_shows_its_current_ticket(api: Api, browser: Browser) -> None:
    page = open_page(browser, f"{api.server.url}/board/t1/window/3")
    try:
        expect(page.locator("#win-title")).to_contain_text("3 号窗口")
        expect(page.locator("#win-ticket")).to_have_text("—")
        t = api.take("C")
        assert api.call_next(3).status_code == 200
        expect(page.locator("#win-ticket")).to_have_text(t["number"], timeout=1000)
        expect(page.locator("#win-label")).to_contain_text("请到本窗口")
        assert api.act(t["id"], "start").status_code == 200
        expect(page.locator("#win-label")).to_contain_text("正在办理")
        assert api.act(t["id"], "complete").status_code == 200
        expect(page.locator("#win-ticket")).to_have_text("—")
        page.reload()  # a fresh snapshot agrees
        page.wait_for_selector("body[data-seq]")
        expect(page.locator("#win-ticket")).to_have_text("—")
    finally:
        page.close()


def test_unknown_hall_or_window_is_404_and_assets_are_served(api: Api) -> None:
    r = api.http.get("/board/nope")
    assert r.status_code == 404 and "No such hall" in r.text and "没有这个大厅" in r.text
    r = api.http.get("/board/t1/window/99")
    assert r.status_code == 404 and "No such window" in r.text
    r = api.http.get("/board/t1")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    r = api.http.get("/static/board/board.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert api.http.get("/static/board/board.css").status_code == 200
    assert "http" not in api.http.get("/board/t1").text  # nothing on the page comes from outside the server


def test_board_reconnects_after_server_restart(browser: Browser, tmp_db: str, tmp_path: Path) -> None:
    rt = runtime(tmp_db, tmp_path / "var")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serving(rt, port=port, heartbeat_s=1.0) as srv:
        api = Api(srv)
        lobby = open_page(browser, f"{url}/board/t1")
        win = open_page(browser, f"{url}/board/t1/window/1")
        first = api.take("A")
        assert api.call_next(1).status_code == 200
        expect(lobby.locator("#latest .call-number")).to_have_text(first["number"], timeout=1000)
        expect(win.locator("#win-ticket")).to_have_text(first["number"], timeout=1000)
        api.close()
    try:
        expect(lobby.locator("body")).to_have_attribute("data-connected", "false", timeout=5000)
        with serving(rt, port=port, heartbeat_s=1.0) as srv:
            api = Api(srv)
            assert api.act(first["id"], "complete").status_code == 200
            second = api.take("A")
            assert api.call_next(1).status_code == 200
            latest = lobby.locator("#latest .call-big")
            expect(latest.locator(".call-number")).to_have_text(second["number"], timeout=8000)
            expect(latest.locator(".call-window")).to_contain_text("请到 1 号窗口")
            expect(win.locator("#win-ticket")).to_have_text(second["number"], timeout=8000)
            expect(lobby.locator("#calls .call-number").first).to_have_text(first["number"])
            assert lobby.locator("#offline").is_hidden()
            api.close()
    finally:
        lobby.close()
        win.close()


def _frame(seq: int, type: str, data: dict[str, Any]) -> str:
    return json.dumps({"seq": seq, "type": type, "at": "2026-11-27T09:00:00+08:00", "hall": "t1", "data": data})


def test_stale_mark_gap_and_resync_with_a_scripted_stream(api: Api, browser: Browser) -> None:
    """The stream is played by the test: silence shows the mark, a gap asks for a snapshot, resync reconnects."""
    state = api.http.get("/api/v1/halls/t1/board").json()["data"]
    sockets: list[WebSocketRoute] = []
    received: list[str] = []

    def handler(ws: WebSocketRoute) -> None:
        sockets.append(ws)
        ws.on_message(lambda m: received.append(str(m)))
        if "since=" not in ws.url:
            ws.send(_frame(5, "snapshot", state))

    page = browser.new_page(viewport=LANDSCAPE)
    try:
        page.clock.install()
        page.route_web_socket("**/ws/halls/t1/events*", handler)
        page.goto(f"{api.server.url}/board/t1")
        page.wait_for_selector("body[data-seq='5']")
        assert page.locator("#offline").is_hidden()
        assert "heartbeat=1.5" in sockets[0].url  # the board asks for heartbeats every 1.5 s …
        sockets[0].send(_frame(5, "heartbeat", {}))
        expect(page.locator("body")).to_have_attribute("data-connected", "true")
        page.clock.fast_forward(2500)  # (the page's clock also runs on: leave room for a slow machine)
        expect(page.locator("#offline")).to_be_hidden()
        page.clock.fast_forward(2000)  # … and 4.5 s without any message means the connection is lost
        expect(page.locator("#offline")).to_be_visible()
        expect(page.locator("#offline")).to_have_text("连接中断 / Connection lost")
        # the silent socket was given up for a new one, resuming after the last event
        deadline = time.monotonic() + 5
        while len(sockets) < 2 and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        assert len(sockets) == 2 and "since=5" in sockets[1].url
        sockets.pop(0)
        sockets[0].send(_frame(5, "heartbeat", {}))
        expect(page.locator("#offline")).to_be_hidden()

        called = {"id": 99, "number": "B042", "queue": "B", "lane": "normal", "status": "called", "window": 2}
        sockets[0].send(_frame(7, "ticket.called", called | {"queues": []}))  # seq 6 is missing
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        assert [json.loads(m) for m in received] == [{"type": "snapshot"}]
        assert page.locator("#latest .call-number").count() == 0  # the event after the gap was not applied
        fresh = state | {"recent_calls": [called | {"at": "2026-11-27T09:00:00+08:00"}]}
        sockets[0].send(_frame(7, "snapshot", fresh))
        expect(page.locator("#latest .call-number")).to_have_text("B042")

        sockets[0].send(_frame(7, "resync", {"reason": "slow consumer"}))
        deadline = time.monotonic() + 5
        while len(sockets) < 2 and time.monotonic() < deadline:
            page.clock.fast_forward(500)
            page.wait_for_timeout(50)
        assert len(sockets) == 2 and "?since=7&" in sockets[1].url
        sockets[1].send(_frame(8, "ticket.completed", called | {"status": "done", "queues": []}))
        expect(page.locator("body")).to_have_attribute("data-seq", "8")
        expect(page.locator("#latest .call-number")).to_have_text("B042")
    finally:
        page.close()


# --- The demo hall (twelve domains) after a morning, at every screen size --------------------------------------

SIZES: dict[str, ViewportSize] = {
    "1366x768": {"width": 1366, "height": 768},
    "1600x900": {"width": 1600, "height": 900},
    "1920x1080": LANDSCAPE,
    "portrait": PORTRAIT,
}

# What a screen shows, measured in the page: every visible row and text inside its list and the viewport,
# the font sizes of the waiting list and the calls, the codes on the current page.
MEASURE = """() => {
  const inside = (r, b) => r.left >= b.left - 0.5 && r.right <= b.right + 0.5 && r.top >= b.top - 0.5
    && r.bottom <= b.bottom + 0.5 && r.width > 0 && r.height > 0;
  const view = { left: 0, top: 0, right: innerWidth, bottom: innerHeight };
  const clipped = [];
  const check = (row, box) => {
    const rb = row.getBoundingClientRect();
    if (!inside(rb, box) || !inside(rb, view)) clipped.push(row.textContent);
    for (const t of row.querySelectorAll("span")) {
      if (t.textContent && t.offsetParent !== null && !inside(t.getBoundingClientRect(), box))
        clipped.push(t.textContent);
    }
  };
  for (const row of document.querySelectorAll("#rows > li:not([hidden]), #calls > li:not([hidden])"))
    check(row, row.parentElement.getBoundingClientRect());
  for (const el of document.querySelectorAll("#latest .call, .side-head, .top > *, .notice-label"))
    check(el, (el.closest(".panel") || el.parentElement).getBoundingClientRect());
  const px = (sel) => [...document.querySelectorAll(sel)].filter((e) => e.offsetParent !== null)
    .map((e) => parseFloat(getComputedStyle(e).fontSize));
  const hall = document.querySelector(".hall").getBoundingClientRect();
  const clock = document.querySelector("#clock").getBoundingClientRect();
  return {
    clipped,
    overlap: hall.right > clock.left,
    waiting: px("#rows li.queue .queue-waiting .zh"),
    names: px("#rows li.queue .queue-name .zh"),
    calls: px("#latest .call-number, #calls li:not([hidden]) .call-number"),
    shown: [...document.querySelectorAll("#rows > li.queue:not([hidden])")].map((e) => e.dataset.queue),
    paused: [...document.querySelectorAll("#rows > li.paused-window:not([hidden])")].map((e) => e.dataset.window),
    earlier: document.querySelectorAll("#calls li:not([hidden])").length,
    page: document.body.dataset.page,
  };
}"""


def _scale(viewport: ViewportSize) -> float:
    """Pixels of this screen per pixel of 1920×1080 (of 1080×1920 in portrait)."""
    w, h = viewport["width"], viewport["height"]
    return min(w / 1920, h / 1080) if w >= h else min(w / 1080, h / 1920)


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    """The demo hall's live server after the morning (tests/display_board/morning.py)."""
    with serving_morning() as srv:
        yield srv.url


@pytest.mark.parametrize("size", list(SIZES))
def test_lobby_shows_every_domain_in_whole_rows_readable_from_far(browser: Browser, demo_url: str, size: str) -> None:
    viewport = SIZES[size]
    u = _scale(viewport)
    page = browser.new_page(viewport=viewport)
    try:
        page.clock.set_fixed_time(SHOT_TIME.timestamp())  # the clock in the screenshot; timers still run
        page.goto(f"{demo_url}/board/demo?page_s=0.6")
        page.wait_for_selector("body[data-seq]", timeout=10_000)
        page.evaluate("document.fonts.ready")
        seen: set[str] = set()
        paused: set[str] = set()
        pages: set[str] = set()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (len(seen) < len(TAKEN) or len(pages) < 2):
            m = page.evaluate(MEASURE)
            assert m["clipped"] == [], f"{size}, page {m['page']}: cut off: {m['clipped']}"
            assert not m["overlap"], "the clock covers the hall's name"
            assert m["shown"] or m["paused"], "an empty page"
            assert min(m["waiting"]) >= 48 * u - 0.5 and min(m["names"]) >= 48 * u - 0.5, m
            assert min(m["calls"]) >= 120, m  # the called numbers: never below 120 px
            assert m["earlier"] >= 2, "fewer than two earlier calls under the newest"
            seen.update(m["shown"])
            paused.update(m["paused"])
            pages.add(m["page"])
            page.wait_for_timeout(100)
        assert seen == set(TAKEN), f"{size}: domains never shown: {set(TAKEN) - seen}"
        assert paused == {str(w) for w in PAUSED}
        assert len(pages) >= 2 and all(p.endswith(f"/{len(pages)}") for p in pages), pages
        expect(page.locator("#pager")).to_be_visible()
        # the notice without a second "通知：" (the staff typed one; the footer has its own label)
        assert NOTICE.startswith("通知：")
        expect(page.locator("#notice")).to_have_text(NOTICE.removeprefix("通知："))
        expect(page.locator(".notice-label")).to_have_text("通知 Notice")
    finally:
        page.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_lobby_screenshots(browser: Browser, demo_url: str, size: str) -> None:
    """docs/screenshots/web-board-lobby-<size>.png (`scripts/screenshots`), first page; at 1080p the second too."""
    pages = [1, 2] if size == "1920x1080" else [1]
    for n in pages:
        page = browser.new_page(viewport=SIZES[size])
        try:
            page.clock.set_fixed_time(SHOT_TIME.timestamp())
            page.goto(f"{demo_url}/board/demo?page_s=0&page={n}")
            page.wait_for_selector("body[data-seq]", timeout=10_000)
            page.evaluate("document.fonts.ready")
            expect(page.locator("body")).to_have_attribute("data-page", f"{n}/2")
            name = f"web-board-lobby-{size}" + (f"-page{n}" if n > 1 else "") + ".png"
            page.screenshot(path=str(SHOTS / name), animations="disabled")
            assert (SHOTS / name).stat().st_size > 20_000, name
        finally:
            page.close()


@pytest.mark.parametrize("window", [1, 4])
def test_window_display_screenshots(browser: Browser, demo_url: str, window: int) -> None:
    """docs/screenshots/web-board-window.png (serving) and web-board-window-paused.png (window 4, at lunch)."""
    page = browser.new_page(viewport=LANDSCAPE)
    try:
        page.clock.set_fixed_time(SHOT_TIME.timestamp())
        page.goto(f"{demo_url}/board/demo/window/{window}")
        page.wait_for_selector("body[data-seq]", timeout=10_000)
        page.evaluate("document.fonts.ready")
        if window == 4:
            expect(page.locator("#win-status")).to_contain_text("暂停服务")
            expect(page.locator("#win-status")).to_contain_text("午休")
            expect(page.locator("#win-ticket")).to_be_hidden()
        else:
            expect(page.locator("#win-label")).to_contain_text("正在办理")
        name = "web-board-window.png" if window == 1 else "web-board-window-paused.png"
        page.screenshot(path=str(SHOTS / name), animations="disabled")
    finally:
        page.close()


@sqlite_only
def test_lost_network_shows_within_5_s_and_the_board_catches_up(api: Api, browser: Browser, tmp_path: Path) -> None:
    """The network between board and server goes silent (nothing closes): "连接中断" within 5 s; when it comes
    back the board resumes and shows what was called meanwhile."""
    hole = Blackhole(api.server.port)
    page = open_page(browser, f"{hole.url}/board/t1")
    try:
        first = api.take("A")
        assert api.call_next(1).status_code == 200
        expect(page.locator("#latest .call-number")).to_have_text(first["number"])
        hole.hold()
        expect(page.locator("#offline")).to_be_visible(timeout=5000)
        expect(page.locator("#offline")).to_have_text("连接中断 / Connection lost")
        second = api.take("B")
        assert api.call_next(2).status_code == 200
        assert page.locator("#latest .call-number").text_content() == first["number"]
        hole.release()
        expect(page.locator("#latest .call-number")).to_have_text(second["number"], timeout=10_000)
        expect(page.locator("#calls .call-number").first).to_have_text(first["number"])
        expect(page.locator("#offline")).to_be_hidden()
    finally:
        page.close()
        hole.close()


@sqlite_only
def test_a_board_with_a_display_token_reports_its_health(api: Api, browser: Browser) -> None:
    """The supervisor sees the board as a device that is fine, not one that never reported."""
    page = open_page(browser, f"{api.server.url}/board/t1?token={DISPLAY}")
    try:
        assert "token" not in page.url  # the token leaves the address bar
        expect(page.locator("body")).to_have_attribute("data-health", "200")
        r = api.http.get("/api/v1/halls/t1/console/overview", headers=api.auth("clerk1"))
        assert r.status_code == 200, r.text
        dev = next(d for d in r.json()["devices"] if d["name"] == "display-t1")
        assert dev["status"] == "ok" and dev["online"], dev
        assert dev["detail"].startswith("web lobby board 1920×1080")
    finally:
        page.close()
