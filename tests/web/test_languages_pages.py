"""The hall's languages on the pages citizens and clerks see (issue 22), in headless Chromium against live servers:
the tracking page in 한국어 at a phone's size (from the ticket's language, from the phone's, switched by hand), the
web board's second line going round en → ko → ja → ru (and held in Korean for the screenshot), and the clerk's
需要语言服务 badge after calling such a ticket. Screenshots go to tests/harness.py shots_dir()."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from ..api.test_languages import lang_config
from ..harness import PASSWORDS, Api, LiveServer, fresh_database, runtime, serving
from .test_board import LANDSCAPE, MEASURE, SHOTS, demo_url  # noqa: F401  (the demo morning)
from .test_track_page import PHONE, kiosk_takes

CONSOLE = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The test hall t1 speaking zh, en, ko, ja (tests/api/test_languages.py)."""
    tmp = tmp_path_factory.mktemp(f"langpages-{backend}")
    with serving(runtime(fresh_database(backend, tmp, name="langpages"), tmp / "var", config=lang_config(tmp))) as srv:
        yield srv


@pytest.fixture
def lapi(server: LiveServer) -> Iterator[Api]:
    server.reset()
    a = Api(server)
    yield a
    a.close()


def phone(chromium: Browser, url: str, locale: str) -> Page:
    page = chromium.new_page(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True, locale=locale)
    page.goto(url)
    page.wait_for_selector("body[data-ready]")
    page.evaluate("document.fonts.ready")
    return page


def test_tracking_page_in_korean_from_the_ticket_then_japanese_by_hand(browser: Browser, lapi: Api) -> None:
    ahead = kiosk_takes(lapi, "A")
    mine = kiosk_takes(lapi, "A", lang="ko")
    page = phone(browser, mine["track_url"], "zh-CN")  # a Chinese phone: the ticket's language wins
    try:
        expect(page.locator("#headline")).to_have_text("前面还有 1 人")  # Chinese first, always
        expect(page.locator("#headline-en")).to_have_text("앞에 1명 대기 중")
        expect(page.locator("#queue-name")).to_have_text("市场准入")
        expect(page.locator("#queue-name-en")).to_have_text("시장 진입")
        expect(page.locator("#number-label .en")).to_have_text("내 번호")
        expect(page.locator("#cancel .en")).to_have_text("대기 취소")
        expect(page.locator("#langs button")).to_have_text(["English", "한국어", "日本語"])
        expect(page.locator("#langs button[data-lang=ko]")).to_have_attribute("aria-pressed", "true")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        font = page.evaluate("getComputedStyle(document.getElementById('headline-en')).fontFamily")
        assert font.startswith('"Noto Sans CJK KR"'), font
        page.screenshot(path=str(SHOTS / "track-ko-waiting.png"))

        assert lapi.call_next(1).json()["id"] == ahead["id"]
        assert lapi.act(ahead["id"], "complete").status_code == 200
        assert lapi.call_next(1).json()["id"] == mine["id"]
        expect(page.locator("#headline")).to_have_text("请到 1 号窗口")
        expect(page.locator("#headline-en")).to_have_text("1번 창구로 오세요")
        page.wait_for_selector("#state:not(.flash)")
        page.screenshot(path=str(SHOTS / "track-ko-called.png"))

        page.click("#langs button[data-lang=ja]")
        expect(page.locator("#headline-en")).to_have_text("1番窓口へお越しください")
        expect(page.locator("#queue-name-en")).to_have_text("市場参入")
        page.reload()
        page.wait_for_selector("body[data-ready]")
        expect(page.locator("#headline-en")).to_have_text("1番窓口へお越しください")  # the choice is kept
    finally:
        page.close()


def test_tracking_page_follows_the_phone_language_without_one_on_the_ticket(browser: Browser, lapi: Api) -> None:
    mine = kiosk_takes(lapi, "B")
    korean = phone(browser, mine["track_url"], "ko-KR")
    russian = phone(browser, mine["track_url"], "ru-RU")  # t1 has no Русский: English
    try:
        expect(korean.locator("#headline")).to_have_text("下一位就是您")
        expect(korean.locator("#headline-en")).to_have_text("다음 차례입니다")
        expect(korean.locator("#queue-name-en")).to_have_text("투자·건설")
        expect(russian.locator("#headline-en")).to_have_text("You are next")
        expect(russian.locator("#langs button[data-lang=en]")).to_have_attribute("aria-pressed", "true")
    finally:
        korean.close()
        russian.close()


def test_the_clerk_sees_the_interpreter_badge_of_the_ticket_called(browser: Browser, lapi: Api) -> None:
    t = lapi.take("A", lang="ko", interpreter="ko")
    other = lapi.take("A")
    page = browser.new_page(viewport=CONSOLE)
    try:
        page.goto(f"{lapi.server.url}/console")
        page.fill("#login-user", "clerk1")
        page.fill("#login-pass", PASSWORDS["clerk1"])
        page.click("#login-form button[type=submit]")
        page.click("#window-list button[data-window='5']")
        page.wait_for_selector("body[data-seq]")
        waiting = page.locator(f"#queues li.ticket[data-id='{t['id']}'] .interpreter")
        expect(waiting).to_have_text("需要语言服务（韩语）")  # in the waiting list already
        expect(page.locator(f"#queues li.ticket[data-id='{other['id']}'] .interpreter")).to_have_count(0)
        page.keyboard.press("F1")
        expect(page.locator("#current .cur-number")).to_have_text(t["number"])
        badge = page.locator("#current .cur-head .interpreter")
        expect(badge).to_be_visible()
        expect(badge).to_contain_text("需要语言服务（韩语）")
        expect(badge).to_contain_text("Interpreter: Korean · 한국어")
        assert badge.get_attribute("data-lang") == "ko"
        page.screenshot(path=str(SHOTS / "console-interpreter.png"))
        page.keyboard.press("F9")  # complete and call the next: no badge
        expect(page.locator("#current .cur-number")).to_have_text(other["number"])
        expect(page.locator("#current .interpreter")).to_have_count(0)
    finally:
        page.close()


def test_the_web_board_goes_round_the_hall_languages(browser: Browser, demo_url: str) -> None:  # noqa: F811
    """The demo hall speaks zh, en, ko, ja, ru: Chinese stays, the second line turns en → ko → ja → ru → en."""
    page = browser.new_page(viewport=LANDSCAPE)
    try:
        page.goto(f"{demo_url}/board/demo?page_s=0&lang_s=1")
        page.wait_for_selector("body[data-seq]", timeout=10_000)
        seen: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(seen) < 5:
            lang = page.evaluate("document.body.dataset.lang")
            if not seen or seen[-1] != lang:
                seen.append(lang)
            page.wait_for_timeout(50)
        cycle = ["en", "ko", "ja", "ru"]  # where it starts depends on how long the page took to load
        steps = [(cycle.index(b) - cycle.index(a)) % 4 for a, b in itertools.pairwise(seen)]
        assert len(seen) >= 5 and set(seen) == set(cycle) and steps == [1] * len(steps), seen
        expect(page.locator("#rows li[data-queue=A] .queue-name .zh")).to_have_text("市场准入")
    finally:
        page.close()


@pytest.mark.parametrize("lang", ["ko", "ja", "ru"])
def test_the_web_board_in_each_language_fits_and_the_korean_one_is_pictured(
    browser: Browser,
    demo_url: str,  # noqa: F811
    lang: str,
) -> None:
    expected = {"ko": ("시장 진입(사업자 등록)", "번 창구로 오세요"), "ja": ("市場参入（事業登録）", "番窓口へどうぞ")}
    expected["ru"] = ("Регистрация бизнеса", "Пройдите к окну")
    page = browser.new_page(viewport=LANDSCAPE)
    try:
        page.goto(f"{demo_url}/board/demo?page_s=0&lang={lang}")
        page.wait_for_selector("body[data-seq]", timeout=10_000)
        page.evaluate("document.fonts.ready")
        expect(page.locator("body")).to_have_attribute("data-lang", lang)
        expect(page.locator("#rows li[data-queue=A] .queue-name .en")).to_have_text(expected[lang][0])
        expect(page.locator("#latest .call-window .en")).to_contain_text(expected[lang][1])
        expect(page.locator("#rows li[data-queue=A] .queue-name .zh")).to_have_text("市场准入")
        m = page.evaluate(MEASURE)
        assert m["clipped"] == [], m["clipped"]
        if lang == "ko":
            page.screenshot(path=str(SHOTS / "web-board-lobby-ko-1920x1080.png"), animations="disabled")
    finally:
        page.close()


def test_a_window_display_in_korean(browser: Browser, demo_url: str) -> None:  # noqa: F811
    page = browser.new_page(viewport=LANDSCAPE)
    try:
        page.goto(f"{demo_url}/board/demo/window/4?lang=ko")
        page.wait_for_selector("body[data-seq]", timeout=10_000)
        expect(page.locator("#win-title .zh")).to_have_text("4 号窗口")
        expect(page.locator("#win-title .en")).to_have_text("4번 창구")
        expect(page.locator("#win-status .en")).to_have_text("업무 일시 중지")  # window 4 is at lunch in the morning
    finally:
        page.close()


def test_the_general_desk_marks_a_walk_in_who_needs_an_interpreter(browser: Browser, lapi: Api) -> None:
    page = browser.new_page(viewport=CONSOLE)
    try:
        page.goto(f"{lapi.server.url}/console/desk")
        page.fill("#login-user", "clerk1")
        page.fill("#login-pass", PASSWORDS["clerk1"])
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("body[data-ready]", timeout=10_000)
        options = page.locator("#walkin-interpreter option")
        expect(options).to_have_count(4)  # no, and the hall's English, 한국어, 日本語
        assert options.evaluate_all("os => os.map((o) => o.value)") == ["", "en", "ko", "ja"]
        page.click("#walkin-queues button[data-queue='B']")
        page.select_option("#walkin-interpreter", "ko")
        page.click("#walkin-take")
        expect(page.locator("#issued .fd-ticket-number")).to_have_text("B001")
        expect(page.locator("#walkin-interpreter")).to_have_value("")  # back to "no" for the next citizen
        listed = lapi.http.get("/api/v1/halls/t1/tickets", params={"status": "waiting"}, headers=lapi.auth("clerk1"))
        (ticket,) = [t for t in listed.json() if t["number"] == "B001"]
        assert ticket["interpreter"] == "ko" and ticket["channel"] == "counter"
    finally:
        page.close()
