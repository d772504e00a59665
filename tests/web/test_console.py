"""The clerk console and the supervisor view in headless Chromium (Debian's, driven by Playwright).

Against a live server of their own on each database (appointments, a queue alert and a failing SMS gateway need a
configuration of their own); issue 21 asks the staff's browser tests to run on both databases.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from ..api.test_console_api import SCRIPT_NAME, book_and_check_in, console_config
from ..harness import PASSWORDS, Api, LiveServer, free_port, fresh_database, runtime, serving, shots_dir

SHOTS = shots_dir()  # a temporary folder unless HALL_SHOTS_DIR says (tests/harness.py)


from playwright.sync_api import Browser, Dialog, Page, ViewportSize, expect  # noqa: E402

CONSOLE: ViewportSize = {"width": 1366, "height": 768}
HALL: ViewportSize = {"width": 1920, "height": 1080}


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server on the backend with appointments, a queue alert and an SMS gateway that never answers."""
    tmp = tmp_path_factory.mktemp(f"console-{backend}")
    cfg = console_config(tmp)
    dead_port = free_port()  # nothing listens there: every message fails and, with one attempt, is dead
    cfg.write_text(
        cfg.read_text(encoding="utf-8")
        + f'\n[notify]\nprovider = "webhook"\nurl = "http://127.0.0.1:{dead_port}/sms"\nmax_attempts = 1\n'
        + "timeout_s = 1\n",
        encoding="utf-8",
    )
    with serving(
        runtime(fresh_database(backend, tmp, name="console"), tmp / "var", config=cfg), heartbeat_s=1.0
    ) as srv:
        yield srv


@pytest.fixture
def api(server: LiveServer) -> Iterator[Api]:
    """A client of the module's server, whose database was just emptied."""
    server.reset()
    server.ctx.alerts.clear()
    client = Api(server)
    yield client
    client.close()


def log_in(
    browser: Browser, api: Api, user: str, path: str, viewport: ViewportSize = CONSOLE, *, clock: bool = False
) -> Page:
    """A fresh tab (own sessionStorage) logged in as `user` at `path`, once its data has loaded."""
    page = browser.new_page(viewport=viewport)
    if clock:
        page.clock.install()  # the test may move the page's time forward
    page.goto(f"{api.server.url}{path}")
    page.fill("#login-user", user)
    page.fill("#login-pass", PASSWORDS[user])
    page.click("#login-form button[type=submit]")
    if "window=" in path or path.startswith("/console/hall"):
        page.wait_for_selector("body[data-seq]", timeout=10_000)
    return page


def current(page: Page) -> str:
    return str(page.locator("#current .cur-number").text_content(timeout=5000))


def board_window(api: Api, n: int) -> dict[str, Any]:
    """Window `n` as the public board state shows it."""
    r = api.http.get("/api/v1/halls/t1/board")
    assert r.status_code == 200
    return next(w for w in r.json()["data"]["windows"] if w["number"] == n)


def test_a_clerk_calls_recalls_transfers_and_completes(api: Api, browser: Browser) -> None:
    a1, a2, b1 = api.take("A"), api.take("A"), api.take("B")
    page = log_in(browser, api, "clerk1", "/console")
    page.click("#window-list button[data-window='1']")  # clerk1 may sit at any window: picks one
    page.wait_for_selector("body[data-seq]")
    hall = log_in(browser, api, "admin", "/console/hall", HALL)
    try:
        expect(page.locator("#win-title")).to_contain_text("1 号窗口")
        expect(page.locator("#queues li.ticket")).to_have_count(3)
        expect(page.locator(f"#queues li.ticket.next[data-id='{a1['id']}']")).to_be_visible()
        card = hall.locator("#windows [data-window='1']")
        expect(card).to_contain_text("clerk1")  # sitting down opened the window in the clerk's name

        page.keyboard.press("F1")
        expect(page.locator("#current .cur-number")).to_have_text(a1["number"])
        expect(page.locator("#current")).to_have_attribute("data-status", "called")
        assert board_window(api, 1)["current"]["number"] == a1["number"]
        expect(card).to_have_attribute("data-current", a1["number"])
        expect(page.locator("#queues li.ticket")).to_have_count(2)

        page.keyboard.press("F2")  # recall
        expect(page.locator("#current")).to_contain_text("重呼次数")
        expect(page.locator("#current .fact", has_text="Recalls").locator("dd")).to_have_text("1")

        page.keyboard.press("F6")  # transfer: to window 3, chosen with one key
        expect(page.locator("#transfer-dialog")).to_be_visible()
        page.keyboard.press("3")
        expect(page.locator("#current .cur-idle")).to_be_visible()
        expect(card).to_have_attribute("data-current", "")
        assert board_window(api, 1)["current"] is None
        t = api.http.get(f"/api/v1/tickets/{a1['id']}", headers=api.auth("clerk1")).json()
        assert (t["status"], t["target_window"]) == ("waiting", 3)
        expect(page.locator("#counts [data-count=transferred] dd")).to_have_text("1")

        page.locator("[data-action=call-next]").click()  # the mouse works as well as the key
        expect(page.locator("#current .cur-number")).to_have_text(a2["number"])
        page.keyboard.press("F4")  # start
        expect(page.locator("#current")).to_have_attribute("data-status", "serving")
        expect(page.locator("#current")).to_contain_text("办理用时")
        expect(card.locator(".badge")).to_contain_text("办理中")
        page.keyboard.press("F9")  # complete and call the next in one go
        expect(page.locator("#current .cur-number")).to_have_text(b1["number"])
        page.keyboard.press("F5")  # complete
        expect(page.locator("#current .cur-idle")).to_be_visible()
        expect(page.locator("#counts [data-count=completed] dd")).to_have_text("2")
        expect(page.locator("#counts [data-count=called] dd")).to_have_text("3")
        expect(card).to_contain_text("办结 2")
        assert api.http.get(f"/api/v1/tickets/{b1['id']}", headers=api.auth("clerk1")).json()["status"] == "done"
        page.keyboard.press("F1")  # nobody left for window 1 (A001 waits for window 3)
        expect(page.locator("#flash")).to_contain_text("Nobody is waiting")
    finally:
        page.close()
        hall.close()


def test_hold_resume_no_show_and_pause_with_a_reason(api: Api, browser: Browser) -> None:
    a1, a2 = api.take("A"), api.take("A")
    page = log_in(browser, api, "clerk2", "/console")  # bound to window 2: no choice to make
    page.wait_for_selector("body[data-seq]")
    try:
        expect(page.locator("#win-title")).to_contain_text("2 号窗口")
        page.keyboard.press("F1")
        expect(page.locator("#current .cur-number")).to_have_text(a1["number"])
        page.keyboard.press("F7")  # hold
        expect(page.locator(f"#held li[data-id='{a1['id']}']")).to_be_visible()
        page.keyboard.press("F1")
        expect(page.locator("#current .cur-number")).to_have_text(a2["number"])
        expect(page.locator(f"#held button[data-resume='{a1['id']}']")).to_be_disabled()  # window busy
        page.keyboard.press("F3")  # no-show
        expect(page.locator("#current .cur-idle")).to_be_visible()
        page.click(f"#held button[data-resume='{a1['id']}']")
        expect(page.locator("#current .cur-number")).to_have_text(a1["number"])
        page.keyboard.press("F5")
        expect(page.locator("#current .cur-idle")).to_be_visible()  # keys pressed while a request runs are dropped
        page.keyboard.press("F8")  # pause, with a reason the boards show
        page.locator("#pause-reasons button", has_text="午休").click()
        expect(page.locator("#win-status")).to_contain_text("暂停服务")
        expect(page.locator("#win-status")).to_contain_text("午休")
        w = board_window(api, 2)
        assert w["status"] == "paused" and w["reason"] == "午休 Lunch break"
        expect(page.locator("[data-action=call-next]")).to_be_disabled()
        page.keyboard.press("F8")  # resume
        expect(page.locator("#win-status")).to_contain_text("服务中")
        assert board_window(api, 2)["status"] == "open"
    finally:
        page.close()


def test_typing_is_not_the_keypad_and_the_keypad_calls_a_number(api: Api, browser: Browser) -> None:
    tickets = [api.take("A") for _ in range(3)]
    page = log_in(browser, api, "clerk1", "/console?window=5")
    try:
        page.click("#call-number")
        page.keyboard.type("2")
        expect(page.locator("#keypad")).to_be_hidden()  # typing in the field is not the keypad
        page.keyboard.press("F1")  # but the F-keys act from the 叫指定号 field (no trap): call next
        expect(page.locator("#current .cur-number")).to_have_text(tickets[0]["number"])
        page.keyboard.press("*")  # keypad: complete
        expect(page.locator("#current .cur-idle")).to_be_visible()
        page.locator("#call-number").fill("")
        page.locator("#call-number").blur()
        page.keyboard.type("3")  # USB keypad: digits, then Enter
        expect(page.locator("#keypad")).to_have_text("3")
        page.keyboard.press("Enter")
        expect(page.locator("#current .cur-number")).to_have_text(tickets[2]["number"])
        page.keyboard.press("*")  # keypad: complete
        expect(page.locator("#current .cur-idle")).to_be_visible()
        page.fill("#call-number", tickets[1]["number"].lower())
        page.press("#call-number", "Enter")  # typed number: call that one
        expect(page.locator("#current .cur-number")).to_have_text(tickets[1]["number"])
    finally:
        page.close()


def test_two_clerks_pressing_call_next_at_once_get_different_tickets(api: Api, browser: Browser) -> None:
    one = log_in(browser, api, "clerk1", "/console?window=1")
    two = log_in(browser, api, "clerk2", "/console")
    two.wait_for_selector("body[data-seq]")
    auth = api.auth("clerk1")
    press_at = "at => setTimeout(() => document.querySelector('[data-action=call-next]').click(), at - Date.now())"
    try:
        for round_ in range(4):
            waiting = [api.take("A") for _ in range(2 if round_ < 3 else 1)]
            for p in (one, two):
                expect(p.locator("#queues li.ticket")).to_have_count(len(waiting))
            at = int(time.time() * 1000) + 400
            one.evaluate(press_at, at)
            two.evaluate(press_at, at)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                states = [api.http.get(f"/api/v1/tickets/{t['id']}", headers=auth).json() for t in waiting]
                if all(st["status"] == "called" for st in states):
                    break
                time.sleep(0.05)
            assert sorted(st["window"] for st in states) == [1, 2][: len(waiting)] or len(waiting) == 1
            at_window = {w: board_window(api, w)["current"] for w in (1, 2)}
            got = [c["number"] for c in at_window.values() if c]
            assert sorted(got) == sorted(t["number"] for t in waiting), (round_, at_window)  # each called once
            for p, w in ((one, 1), (two, 2)):
                c = at_window[w]
                if c:
                    expect(p.locator("#current .cur-number")).to_have_text(c["number"])
                else:
                    expect(p.locator("#flash")).to_contain_text("Nobody is waiting")
                    expect(p.locator("#current .cur-idle")).to_be_visible()
            for p in (one, two):
                if p.locator("#current .cur-number").count():
                    p.keyboard.press("F5")
                    expect(p.locator("#current .cur-idle")).to_be_visible()
    finally:
        one.close()
        two.close()


def test_a_clerk_cannot_reach_another_hall(api: Api, browser: Browser) -> None:
    api.take("A", hall="t2", who="kiosk-t2-token-0123456789")
    r = api.http.get("/api/v1/halls/t2/console/windows/1", headers=api.auth("clerk1"))
    assert r.status_code == 403
    for path in ("/console?hall=t2&window=1", "/console/hall?hall=t2"):
        page = browser.new_page(viewport=CONSOLE)
        try:
            page.goto(f"{api.server.url}{path}")
            page.fill("#login-user", "clerk1")
            page.fill("#login-pass", PASSWORDS["clerk1"])
            page.click("#login-form button[type=submit]")
            expect(page.locator("#fatal-text")).to_contain_text("another hall")
            assert page.locator("#desk, #hall").first.is_hidden()
            assert "另一个中心" not in page.locator("body").inner_text()  # t2's name never shows
            assert "A001" not in page.locator("body").inner_text()
        finally:
            page.close()
    # and a staff page without a login shows the form, nothing else
    page = browser.new_page(viewport=CONSOLE)
    try:
        page.goto(f"{api.server.url}/console/hall")
        expect(page.locator("#login-form")).to_be_visible()
        assert page.locator("#hall").is_hidden()
        page.fill("#login-user", "clerk1")
        page.fill("#login-pass", "wrong-password")
        page.click("#login-form button[type=submit]")
        expect(page.locator("#login-error")).to_contain_text("Wrong username or password")
    finally:
        page.close()


def test_a_name_with_markup_shows_as_text(api: Api, browser: Browser) -> None:
    dialogs: list[str] = []

    def on_dialog(d: Dialog) -> None:
        dialogs.append(d.message)
        d.dismiss()

    t = book_and_check_in(api, SCRIPT_NAME)
    page = log_in(browser, api, "clerk1", "/console?window=1")
    hall = log_in(browser, api, "admin", "/console/hall", HALL)
    page.on("dialog", on_dialog)
    hall.on("dialog", on_dialog)
    try:
        page.keyboard.press("F1")
        expect(page.locator("#current .cur-number")).to_have_text(t["number"])
        expect(page.locator("#current")).to_contain_text("预约时段")
        masked = page.locator("#current .fact", has_text="Name").locator(".pii")
        expect(masked).to_have_text("<" + "*" * (len(SCRIPT_NAME) - 1))
        page.click("#reveal")
        expect(masked).to_have_text(SCRIPT_NAME)
        expect(page.locator("#current .audit-note")).to_contain_text("recorded")
        assert page.locator("#current script").count() == 0
        page.click("#reveal")  # hide again
        expect(masked).not_to_have_text(SCRIPT_NAME)
        # the supervisor's notice editor: markup is published and shown as text
        text = "<img src=x onerror=alert(2)> 午休 12:00-13:30 <b>暂停取号</b>"
        hall.fill("#notice-text", text)
        hall.click("#notice-save")
        expect(hall.locator("#notice-current")).to_have_text(text)
        assert hall.locator("#notice-current img, #notice-current b").count() == 0
        assert api.http.get("/api/v1/halls/t1/board").json()["data"]["notice"] == text
        page.wait_for_timeout(300)
        assert dialogs == []
    finally:
        page.close()
        hall.close()
