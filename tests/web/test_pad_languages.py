"""The evaluation pad speaks the rated citizen's language (issue 22), in headless Chromium against a live server
whose hall t1 offers zh, en, ko, ja: a ticket taken in 한국어 is rated with Korean second lines (prompts, levels,
reasons, thanks), a ticket without a language with English ones; the pending-evaluation answer names the language."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from ..feedback.helpers import PAD
from ..harness import Api
from .test_board import SHOTS
from .test_languages_pages import lapi, server  # noqa: F401  (the hall speaking zh, en, ko, ja)
from .test_track_page import kiosk_takes

PAD_SIZE = {"width": 1280, "height": 800}  # the window display in touch mode (tests/web/test_pad.py)


def open_pad(browser: Browser, api: Api) -> Page:
    page = browser.new_page(viewport=PAD_SIZE, locale="zh-CN")
    page.goto(f"{api.server.url}/pad/t1/window/1?token={PAD}")
    page.wait_for_selector("body[data-ready]", timeout=10_000)
    return page


def served(api: Api, **body: str) -> dict[str, object]:
    """A number taken at the kiosk, called at window 1 and completed there."""
    t = kiosk_takes(api, "A", **body)
    assert api.call_next(1).status_code == 200
    assert api.act(t["id"], "complete").status_code == 200
    return t


def stored(api: Api) -> list[tuple[object, ...]]:
    got = api.http.get("/api/v1/halls/t1/evaluations", headers=api.auth("approver1")).json()
    return sorted((e["ticket_id"], e["level"], e["reasons"], e["channel"]) for e in got)


def test_a_korean_ticket_is_rated_in_korean_then_an_english_one(browser: Browser, lapi: Api) -> None:  # noqa: F811
    pad = open_pad(browser, lapi)
    try:
        expect(pad.locator("#idle [data-t=welcome]")).to_have_text(
            "Welcome. You can rate the service when it is complete."
        )
        ko = served(lapi, lang="ko")
        expect(pad.locator("#ask-number")).to_have_text(str(ko["number"]))
        expect(pad.locator("body")).to_have_attribute("data-second", "ko")
        expect(pad.locator("#ask [data-t=ask]")).to_have_text("방금 받으신 서비스를 평가해 주세요")
        expect(pad.locator("#ask .question")).to_contain_text("请您对本次服务进行评价")  # Chinese stays first
        expect(pad.locator("#window-name")).to_have_text("1号窗口 · 1번 창구")
        best = pad.locator("#levels button[data-level='5']")
        expect(best).to_contain_text("非常满意")
        expect(best.locator(".en")).to_have_text("매우 만족")
        expect(pad.locator("#countdown")).to_contain_text("초 후 자동으로 닫힙니다")
        pending = lapi.http.get("/api/v1/halls/t1/windows/1/evaluation", headers={"Authorization": f"Bearer {PAD}"})
        assert (pending.json()["ticket_id"], pending.json()["lang"]) == (ko["id"], "ko")
        pad.locator("#levels button[data-level='1']").click()
        expect(pad.locator("#recorded .en")).to_have_text("평가가 저장되었습니다. 감사합니다!")
        attitude = pad.locator("#reasons button[data-reason='attitude']")
        expect(attitude.locator(".en")).to_have_text("불친절한 응대")
        attitude.click()
        pad.evaluate("document.fonts.ready")
        pad.screenshot(path=str(SHOTS / "pad-ko.png"))
        pad.locator("#submit").click()
        expect(pad.locator("#thanks [data-t=thanks]")).to_have_text("평가해 주셔서 감사합니다!")
        expect(pad.locator("#thanks-followup .en")).to_have_text("2근무일 이내에 확인하여 답변드리겠습니다.")
        assert stored(lapi) == [(ko["id"], 1, ["attitude"], "pad")]

        expect(pad.locator("#idle")).to_be_visible(timeout=8000)  # nobody to speak to: English again
        expect(pad.locator("body")).to_have_attribute("data-second", "en")
        plain = served(lapi)
        expect(pad.locator("#ask-number")).to_have_text(str(plain["number"]))
        expect(pad.locator("#ask [data-t=ask]")).to_have_text("Please rate the service you just received")
        expect(pad.locator("#levels button[data-level='5'] .en")).to_have_text("Very satisfied")
        pad.locator("#levels button[data-level='5']").click()
        expect(pad.locator("#reasons button[data-reason='fast'] .en")).to_have_text("Quick service")
        pad.locator("#submit").click()
        expect(pad.locator("#thanks [data-t=thanks]")).to_have_text("Thank you for your feedback!")
        assert stored(lapi) == [(ko["id"], 1, ["attitude"], "pad"), (plain["id"], 5, [], "pad")]
    finally:
        pad.close()


def test_after_a_reload_the_pad_asks_in_the_tickets_language(browser: Browser, lapi: Api) -> None:  # noqa: F811
    ja = served(lapi, lang="ja")
    pad = open_pad(browser, lapi)  # the question comes from the pending-evaluation answer, with its `lang`
    try:
        expect(pad.locator("#ask-number")).to_have_text(str(ja["number"]))
        expect(pad.locator("#ask [data-t=ask]")).to_have_text("ただいまのサービスを評価してください")
        expect(pad.locator("#levels button[data-level='4'] .en")).to_have_text("満足")
        pad.locator("#levels button[data-level='4']").click()
        expect(pad.locator("#recorded")).to_be_visible()
        assert stored(lapi) == [(ja["id"], 4, [], "pad")]
    finally:
        pad.close()
