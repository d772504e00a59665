"""The web boards in headless Chromium (Debian's, driven by Playwright), against live servers on both backends."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import CI, sqlite_only
from ..harness import Api, free_port, runtime, serving, shots_dir

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]

if not os.path.exists(CHROMIUM):
    if CI:
        pytest.fail(f"{CHROMIUM} is required in CI", pytrace=False)
    pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)", allow_module_level=True)

from playwright.sync_api import (  # noqa: E402
    Browser,
    Dialog,
    Page,
    ViewportSize,
    WebSocketRoute,
    expect,
    sync_playwright,
)

SHOTS = shots_dir()  # a temporary folder unless HALL_SHOTS_DIR says (tests/harness.py)
LANDSCAPE: ViewportSize = {"width": 1920, "height": 1080}
PORTRAIT: ViewportSize = {"width": 1080, "height": 1920}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


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
    expect(board.locator("li.queue[data-queue=A] .queue-waiting")).to_contain_text("等候 0 人")
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
    win = open_page(browser, f"{api.server.url}/board/t1/window/2")
    try:
        assert board.locator("#paused-box").is_hidden()
        _post(api, "/api/v1/halls/t1/windows/2/status", {"status": "paused", "reason": "系统维护"})
        row = board.locator("#paused li[data-window='2']")
        expect(row).to_contain_text("暂停服务")
        expect(row).to_contain_text("系统维护")
        expect(win.locator("#win-status")).to_contain_text("暂停服务")
        _post(api, "/api/v1/halls/t1/windows/2/status", {"status": "open", "reason": ""})
        expect(board.locator("#paused-box")).to_be_hidden()
        expect(win.locator("#win-status")).to_have_text("")
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
        page.clock.fast_forward("00:41")  # 41 s without a message
        expect(page.locator("#offline")).to_be_visible()
        expect(page.locator("#offline")).to_have_text("连接中断 / Connection lost")
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
        assert len(sockets) == 2 and sockets[1].url.endswith("?since=7")
        sockets[1].send(_frame(8, "ticket.completed", called | {"status": "done", "queues": []}))
        expect(page.locator("body")).to_have_attribute("data-seq", "8")
        expect(page.locator("#latest .call-number")).to_have_text("B042")
    finally:
        page.close()


@sqlite_only
def test_screenshots(api: Api, browser: Browser, tmp_path: Path) -> None:
    """Screenshots of a busy hall, as in docs/screenshots/web-board-*.png (once, on SQLite; into a temporary folder)."""
    for q, n in (("A", 9), ("B", 4), ("C", 6)):
        for _ in range(n):
            api.take(q)
    for w in (3, 2, 5, 1):
        assert api.call_next(w).status_code == 200
    _post(api, "/api/v1/halls/t1/windows/4/status", {"status": "paused", "reason": "午休 Lunch break"})
    _post(
        api,
        "/api/v1/halls/t1/notice",
        {"text": "本中心周六上午 9:00-12:00 提供延时服务 · Open Saturday 9:00-12:00 · 请保管好您的号票"},
    )
    shots = [
        ("web-board-lobby-landscape.png", "/board/t1", LANDSCAPE),
        ("web-board-lobby-portrait.png", "/board/t1", PORTRAIT),
        ("web-board-window.png", "/board/t1/window/1", LANDSCAPE),
        ("web-board-window-paused.png", "/board/t1/window/4", LANDSCAPE),
    ]
    for name, path, viewport in shots:
        page = open_page(browser, f"{api.server.url}{path}", viewport)
        try:
            page.evaluate("document.fonts.ready")
            page.screenshot(path=str(tmp_path / name))
        finally:
            page.close()
    for name, _, _ in shots:
        assert (tmp_path / name).stat().st_size > 20_000, name  # a rendered board, not a blank page
    if os.environ.get("HALL_SHOTS_DIR"):  # by hand: HALL_SHOTS_DIR=docs/screenshots pytest -k screenshots
        for name, _, _ in shots:
            shutil.copyfile(tmp_path / name, Path(os.environ["HALL_SHOTS_DIR"]) / name)
    assert "http" not in api.http.get("/board/t1").text  # nothing on the page comes from outside the server
