"""The web pages' strings in gettext catalogues (issue 22): queue_server/locale/<lang>/LC_MESSAGES/web.po complete in
every language of the demo hall, web.pot what the pages name (Babel's JavaScript extractor), the catalogues served
to the pages (GET /web/i18n/web/<lang>.js|.json), and the pages with them in Chromium: the tracking page in Chinese
alone when its second language cannot be had, the board keeping its last catalogue, the windows' names on the
boards; screenshots of the board (1920×1080, portrait) and the tracking page (390×844) in 한국어 and Русский."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from queue_server import web_text
from queue_server.web_text import LANGS, WEB

from ..display_board.morning import CLERK, HALL, KIOSK_TOKEN, SHOT_TIME, serving_morning
from ..harness import Api
from .test_board import LANDSCAPE, MEASURE, PORTRAIT, SHOTS
from .test_track_page import PHONE, kiosk_takes


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_in_every_language_with_its_placeholders(lang: str) -> None:
    """Every (page, key) of web.pot has a text in the language, with the Chinese text's {placeholders}; the
    catalogue's header says how its terms were checked."""
    assert WEB.problems(lang) == []
    header = WEB.po_path(lang).read_text(encoding="utf-8").split("msgid", 1)[0]
    assert "How the terms were checked" in header


def test_the_template_is_what_the_pages_name() -> None:
    """web.pot lists exactly the keys the pages name (`python -m queue_server.web_text extract` rewrites it)."""
    assert web_text.template_problems() == []
    found = {key for key, _where in web_text.extracted()}
    assert ("board", "go_window") in found and ("track", "ahead") in found and ("pad", "noToken") in found
    assert ("track", "your_number") in found and ("board", "waiting_head") in found  # from index.html
    assert ("feedback", "filed") in found and ("feedback", "complain_head") in found


def test_a_new_string_or_a_missing_translation_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page naming a key web.pot lacks fails the template check; a .po without a text, or with another
    placeholder, fails its language's."""
    web = tmp_path / "queue_server" / "web"
    for page in web_text.PAGES:
        shutil.copytree(web_text.WEB_DIR / page, web / page)
    with (web / "track" / "track.js").open("a", encoding="utf-8") as f:
        f.write('\nput("x", say("brand_new").zh);\n')
    monkeypatch.setattr(web_text, "WEB_DIR", web)
    assert web_text.template_problems() == ["track/brand_new: named by the pages, not in web.pot"]

    locale = tmp_path / "locale"
    shutil.copytree(WEB.locale_dir, locale)
    ru = locale / "ru" / "LC_MESSAGES" / "web.po"
    text = ru.read_text(encoding="utf-8").replace('msgstr "Пройдите к окну {n}"', 'msgstr ""')
    ru.write_text(text.replace('"Перед вами: {n}"', '"Перед вами: {m}"'), encoding="utf-8")
    broken = replace(WEB, locale_dir=locale)
    assert broken.problems("ru") == ["ru: board/go_window missing", "ru: track/ahead has ['m'], not ['n']"]
    assert broken.problems("ko") == []


def test_the_catalogues_are_served_cacheable_and_bad_names_are_404(api: Api) -> None:
    r = api.http.get("/web/i18n/web/ko.js")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.text.lstrip("/ ").split("\n", 1)[1].startswith("export default {")
    assert '"go_window": "{n}번 창구로 오세요"' in r.text
    assert "public" in r.headers["cache-control"]
    again = api.http.get("/web/i18n/web/ko.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    j = api.http.get("/web/i18n/web/ru.json")
    assert j.status_code == 200 and j.headers["content-type"] == "application/json"
    assert j.json()["track"]["next"] == "Вы следующий" and j.json()["pad"]["window"] == "Окно {n}"
    assert j.headers["etag"] != r.headers["etag"]
    for url, word in (("/web/i18n/web/fr.json", "'fr'"), ("/web/i18n/kiosk/ko.js", "'kiosk'")):
        bad = api.http.get(url)
        assert bad.status_code == 404 and word in bad.json()["detail"], bad.text


def test_the_tracking_page_shows_chinese_alone_when_its_second_language_cannot_be_had(
    browser: Browser, api: Api
) -> None:
    mine = kiosk_takes(api, "A")
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    page.route("**/web/i18n/web/en.json", lambda route: route.abort())
    try:
        page.goto(mine["track_url"])
        page.wait_for_selector("body[data-ready]")
        expect(page.locator("#headline")).to_have_text("下一位就是您")
        expect(page.locator("#headline-en")).to_have_text("")
        expect(page.locator("#number-label .en")).to_have_text("")
        page.unroute("**/web/i18n/web/en.json")
        page.reload()
        page.wait_for_selector("body[data-ready]")
        expect(page.locator("#headline-en")).to_have_text("You are next")
        expect(page.locator("#number-label .en")).to_have_text("Your number")
    finally:
        page.close()


def test_the_feedback_page_takes_its_labels_from_the_catalogue(browser: Browser, api: Api) -> None:
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(f"{api.server.url}/feedback/t1")
        page.wait_for_selector("body[data-ready]")
        expect(page.locator("[data-t=complain_head]")).to_have_text("Tell us what went wrong")
        expect(page.locator("#hall-name")).to_contain_text("好差评与投诉")
        assert page.get_attribute("#proof", "placeholder") == "查询码或手机后四位 / Query code or phone's last 4"
        assert page.get_attribute("#code", "aria-label") == "编号 / Reference"
    finally:
        page.close()


# ---------------------------------------------------------------- the demo hall (zh, en, ko, ja, ru)


@pytest.fixture(scope="module")
def demo() -> Iterator[httpx.Client]:
    """The demo hall's live server after the morning (tests/display_board/morning.py)."""
    with serving_morning() as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
        yield http


def _board(http: httpx.Client) -> dict[str, Any]:
    r = http.get(f"/api/v1/halls/{HALL}/board")
    assert r.status_code == 200, r.text
    return dict(r.json()["data"])


def test_the_board_state_names_the_windows_in_the_hall_languages(demo: httpx.Client) -> None:
    names = _board(demo)["hall"]["window_names"]
    assert names["1"] == {
        "zh": "综合受理窗口",
        "en": "Comprehensive window",
        "ko": "종합 접수 창구",
        "ja": "総合受付窓口",
        "ru": "Окно комплексного приёма",
    }
    assert names["4"]["ko"] == "원스톱 일괄 처리 창구"


def test_the_web_board_shows_the_windows_names_in_the_second_line_language(
    browser: Browser, demo: httpx.Client
) -> None:
    state = _board(demo)
    newest = state["recent_calls"][0]["window"]
    name = state["hall"]["window_names"][str(newest)]
    page = browser.new_page(viewport=LANDSCAPE)
    try:
        page.goto(f"{demo.base_url}/board/{HALL}?page_s=0&lang=ru")
        page.wait_for_selector("body[data-seq]", timeout=10_000)
        latest = page.locator("#latest .call-window")
        expect(latest.locator(".zh")).to_have_text(f"请到 {newest} 号窗口")
        expect(latest.locator(".en")).to_have_text(f"Пройдите к окну {newest}")
        expect(latest.locator(".wname-zh")).to_have_text(name["zh"])
        expect(latest.locator(".wname-second")).to_have_text(name["ru"])  # " · " before it from the CSS
        expect(latest.locator(".call-window-name")).to_be_visible()
        page.goto(f"{demo.base_url}/board/{HALL}/window/4?lang=ko")
        page.wait_for_selector("body[data-seq]", timeout=10_000)
        expect(page.locator("#win-name")).to_have_text("一链办理窗口 · 원스톱 일괄 처리 창구")
    finally:
        page.close()


def test_the_board_keeps_its_last_catalogue(browser: Browser, demo: httpx.Client) -> None:
    """A board that has shown Korean once shows it after a restart while the catalogues cannot be fetched; one
    that never had them shows Chinese alone."""
    context = browser.new_context(viewport=LANDSCAPE)
    try:
        page = context.new_page()
        page.goto(f"{demo.base_url}/board/{HALL}?page_s=0&lang=ko")
        page.wait_for_selector("body[data-seq]", timeout=10_000)
        expect(page.locator("#rows li[data-queue=A] .queue-name .en")).to_have_text("시장 진입(사업자 등록)")
        expect(page.locator("[data-line=waiting_head]")).to_have_text("대기 인원")
        page.close()
        again = context.new_page()
        again.route("**/web/i18n/web/*.json", lambda route: route.abort())
        again.goto(f"{demo.base_url}/board/{HALL}?page_s=0&lang=ko")
        again.wait_for_selector("body[data-seq]", timeout=10_000)
        expect(again.locator("[data-line=waiting_head]")).to_have_text("대기 인원")
        expect(again.locator("#latest .call-window .en")).to_contain_text("번 창구로 오세요")
        expect(again.locator("#latest .call-window .zh")).to_contain_text("请到")
        fresh = browser.new_page(viewport=LANDSCAPE)  # a board that never had a catalogue: Chinese alone
        fresh.route("**/web/i18n/web/*.json", lambda route: route.abort())
        fresh.goto(f"{demo.base_url}/board/{HALL}?page_s=0&lang=ko")
        fresh.wait_for_selector("body[data-seq]", timeout=10_000)
        expect(fresh.locator("#latest .call-window .zh")).to_contain_text("请到")
        expect(fresh.locator("#latest .call-window .en")).to_have_text("")
        expect(fresh.locator("#latest .wname-second")).to_have_count(0)
        expect(fresh.locator("[data-line=waiting_head]")).to_have_text("")
        fresh.close()
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["ko", "ru"])
@pytest.mark.parametrize("size", ["1920x1080", "portrait"])
def test_web_board_screenshots_in_korean_and_russian(
    browser: Browser, demo: httpx.Client, lang: str, size: str
) -> None:
    page = browser.new_page(viewport=LANDSCAPE if size == "1920x1080" else PORTRAIT)
    try:
        page.clock.set_fixed_time(SHOT_TIME.timestamp())  # the clock in the screenshot; timers still run
        page.goto(f"{demo.base_url}/board/{HALL}?page_s=0&lang={lang}")
        page.wait_for_selector("body[data-seq]", timeout=10_000)
        page.evaluate("document.fonts.ready")
        expect(page.locator("#latest .call-window .wname-second")).not_to_have_text("")
        m = page.evaluate(MEASURE)
        assert m["clipped"] == [], m["clipped"]
        page.screenshot(path=str(SHOTS / f"web-board-lobby-{lang}-{size}.png"), animations="disabled")
    finally:
        page.close()


@pytest.mark.parametrize("lang", ["ko", "ru"])
def test_tracking_page_screenshots_called_in_korean_and_russian(
    browser: Browser, demo: httpx.Client, lang: str
) -> None:
    """A demo-hall ticket taken at the kiosk in the language, called to window 3 out of turn: the page says so in
    Chinese and in the language, with the window's name in both."""
    kiosk = {"Authorization": f"Bearer {KIOSK_TOKEN}", "Idempotency-Key": uuid.uuid4().hex}
    r = demo.post(f"/api/v1/halls/{HALL}/tickets", json={"queue": "A", "lang": lang, "channel": "kiosk"}, headers=kiosk)
    assert r.status_code == 201, r.text
    mine = r.json()
    r = demo.post("/api/v1/auth/token", data={"username": CLERK[0], "password": CLERK[1]})
    staff = {"Authorization": f"Bearer {r.json()['access_token']}"}
    window = 3  # open in the morning
    current = next(w for w in _board(demo)["windows"] if w["number"] == window)["current"]
    if current:
        r = demo.post(f"/api/v1/tickets/{current['id']}/complete", headers=staff)
        assert r.status_code == 200, r.text
    r = demo.post(f"/api/v1/halls/{HALL}/windows/{window}/call", json={"ticket_id": mine["id"]}, headers=staff)
    assert r.status_code == 200, r.text
    page: Page = browser.new_page(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    try:
        page.goto(mine["track_url"])
        page.wait_for_selector("body[data-ready]")
        page.evaluate("document.fonts.ready")
        expect(page.locator("#headline")).to_have_text(f"请到 {window} 号窗口")
        second = {"ko": f"{window}번 창구로 오세요", "ru": f"Пройдите к окну {window}"}[lang]
        expect(page.locator("#headline-en")).to_have_text(second)
        name = {"ko": "종합 접수 창구", "ru": "Окно комплексного приёма"}[lang]
        expect(page.locator("#window-name")).to_have_text(f"综合受理窗口 · {name}")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.wait_for_selector("#state:not(.flash)")
        page.screenshot(path=str(SHOTS / f"track-{lang}-390x844.png"))
    finally:
        page.close()
