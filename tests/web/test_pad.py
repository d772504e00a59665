"""The window's evaluation pad in headless Chromium, end to end: complete → pad asks → tap → stored → stats."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from ..feedback.helpers import PAD, evaluate, served
from ..harness import DISPLAY, Api
from .test_board import SHOTS
from .test_console import log_in


@pytest.fixture
def pad(browser: Browser, api: Api) -> Iterator[Page]:
    """Window 1's pad (the window display in touch mode), signed in with its device token."""
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page.goto(f"{api.server.url}/pad/t1/window/1?token={PAD}")
    page.wait_for_selector("body[data-ready]", timeout=10_000)
    expect(page.locator("#offline")).to_be_hidden()
    yield page
    page.close()


def test_complete_pad_tap_stored_and_counted(api: Api, pad: Page) -> None:
    assert "token=" not in pad.url  # the token moved to sessionStorage, out of the address bar
    expect(pad.locator("#idle")).to_be_visible()
    t = api.take("A")
    assert api.call_next(1).status_code == 200
    expect(pad.locator("#idle")).to_be_visible()  # nothing to rate while being served
    assert api.act(t["id"], "complete").status_code == 200
    expect(pad.locator("#ask")).to_be_visible(timeout=2000)
    expect(pad.locator("#ask-number")).to_have_text(t["number"])
    buttons = pad.locator("#levels button")
    expect(buttons).to_have_count(5)
    expect(buttons.nth(0)).to_contain_text("非常满意")
    expect(buttons.nth(4)).to_contain_text("Very dissatisfied")
    pad.locator("#levels button[data-level='5']").click()
    expect(pad.locator("#recorded")).to_be_visible()  # one tap records it; the reasons are optional after
    stored = api.http.get("/api/v1/halls/t1/evaluations", headers=api.auth("approver1")).json()
    assert [(e["ticket_id"], e["level"], e["reasons"]) for e in stored] == [(t["id"], 5, [])]
    pad.locator("#reasons button[data-reason='fast']").click()
    pad.locator("#reasons button[data-reason='friendly']").click()
    pad.screenshot(path=str(SHOTS / "pad-ask.png"))
    pad.locator("#submit").click()
    expect(pad.locator("#thanks")).to_be_visible()
    expect(pad.locator("#thanks-followup")).to_be_hidden()
    pad.screenshot(path=str(SHOTS / "pad-thanks.png"))
    stored = api.http.get("/api/v1/halls/t1/evaluations", headers=api.auth("approver1")).json()
    assert [(e["ticket_id"], e["level"], e["reasons"], e["window"], e["channel"]) for e in stored] == [
        (t["id"], 5, ["fast", "friendly"], 1, "pad")
    ]
    stats = api.http.get(
        "/api/v1/halls/t1/reports/summary", params={"group": "window"}, headers=api.auth("approver1")
    ).json()
    w1 = next(r for r in stats["rows"] if r["key"] == "1")
    assert (w1["evaluations"], w1["satisfied"], w1["levels"]["5"]) == (1, 1, 1)
    expect(pad.locator("#idle")).to_be_visible(timeout=8000)  # back to idle after thanking


def test_bad_review_mentions_the_follow_up_and_other_windows_are_ignored(api: Api, pad: Page) -> None:
    other = api.take("B")
    assert api.call_next(2, who="clerk2").status_code == 200
    assert api.act(other["id"], "complete", who="clerk2").status_code == 200
    t = api.take("A")
    assert api.call_next(1).status_code == 200
    pad.wait_for_timeout(300)
    expect(pad.locator("#idle")).to_be_visible()  # window 2's completion is not ours
    assert api.act(t["id"], "complete").status_code == 200
    pad.locator("#levels button[data-level='1']").click()
    expect(pad.locator("#reasons button[data-reason='attitude']")).to_be_visible()
    pad.locator("#reasons button[data-reason='attitude']").click()
    pad.locator("#submit").click()
    expect(pad.locator("#thanks-followup")).to_be_visible()
    pad.screenshot(path=str(SHOTS / "pad-bad-review.png"))
    fus = api.http.get("/api/v1/halls/t1/followups", headers=api.auth("approver1")).json()
    assert [f["evaluation"]["ticket_id"] for f in fus] == [t["id"]]


def test_pad_after_reload_still_asks_and_a_second_rating_is_refused(api: Api, pad: Page) -> None:
    t = api.take("A")
    assert api.call_next(1).status_code == 200
    assert api.act(t["id"], "complete").status_code == 200
    pad.reload()
    expect(pad.locator("#ask")).to_be_visible(timeout=3000)  # from the pending-evaluation endpoint
    expect(pad.locator("#ask-number")).to_have_text(t["number"])
    # meanwhile the citizen rated online: the pad's post is refused (one evaluation per service)
    r = api.http.post("/api/v1/halls/t1/evaluations", json={"track_token": t["track_token"], "level": 4})
    assert r.status_code == 201
    expect(pad.locator("#thanks")).to_be_visible(timeout=2000)  # the evaluation.created event closes the question


def ask_number(pad: Page) -> str:
    expect(pad.locator("#ask")).to_be_visible(timeout=3000)
    return str(pad.locator("#ask-number").text_content())


def test_a_rating_survives_the_next_calls_and_lands_on_its_ticket(api: Api, pad: Page, browser: Browser) -> None:
    """The clerk presses F9 and F1 while the citizen rates: the question stays on the completed ticket."""
    t1, t2, t3 = api.take("A"), api.take("A"), api.take("A")
    console = log_in(browser, api, "clerk1", "/console?window=1")
    try:
        console.keyboard.press("F1")
        expect(console.locator("#current .cur-number")).to_have_text(t1["number"])
        console.keyboard.press("F9")  # 办结并叫下一位: t1 done, t2 called
        expect(console.locator("#current .cur-number")).to_have_text(t2["number"])
        assert ask_number(pad) == t1["number"]
        console.keyboard.press("F9")  # t2 done, t3 called: the question about t1 stays
        expect(console.locator("#current .cur-number")).to_have_text(t3["number"])
        pad.wait_for_timeout(400)
        assert ask_number(pad) == t1["number"]
        pad.locator("#levels button[data-level='2']").click()  # 不满意: recorded with one tap
        expect(pad.locator("#recorded")).to_be_visible()
        console.keyboard.press("F5")  # t3 done
        expect(console.locator("#current")).not_to_contain_text(t3["number"])
        t4 = api.take("A")
        console.keyboard.press("F1")  # the next citizen is called while t1's citizen picks reasons
        expect(console.locator("#current .cur-number")).to_have_text(t4["number"])
        pad.wait_for_timeout(400)
        assert ask_number(pad) == t1["number"]
        pad.locator("#reasons button[data-reason='slow']").click()
        pad.screenshot(path=str(SHOTS / "pad-reasons-after-calls.png"))
        pad.locator("#submit").click()
        expect(pad.locator("#thanks")).to_be_visible()
        expect(pad.locator("#thanks-followup")).to_be_visible()
        # then the services completed meanwhile, oldest first, each while its 60 s last
        expect(pad.locator("#ask-number")).to_have_text(t2["number"], timeout=8000)
        pad.locator("#levels button[data-level='5']").click()
        expect(pad.locator("#recorded")).to_be_visible()
        pad.locator("#submit").click()
        expect(pad.locator("#ask-number")).to_have_text(t3["number"], timeout=8000)
    finally:
        console.close()
    stored = api.http.get("/api/v1/halls/t1/evaluations", headers=api.auth("approver1")).json()
    got = sorted((e["ticket_id"], e["level"], e["reasons"], e["window"], e["channel"]) for e in stored)
    assert got == [(t1["id"], 2, ["slow"], 1, "pad"), (t2["id"], 5, [], 1, "pad")]


def test_the_server_binds_a_rating_to_its_window_and_ticket(api: Api) -> None:
    """A window's device rates only tickets completed at its window, once; only it adds the reasons, soon after."""
    elsewhere = served(api, window=2, who="clerk2")
    assert evaluate(api, ticket_id=elsewhere["id"], level=5).status_code == 403  # not completed at window 1
    mine = served(api)
    waiting = api.take("A")
    assert evaluate(api, ticket_id=waiting["id"], level=5).status_code == 409  # not completed at all
    pending = api.http.get("/api/v1/halls/t1/windows/1/evaluation", headers=api.auth(PAD))
    assert pending.status_code == 200 and pending.json()["ticket_id"] == mine["id"]
    assert 0 < pending.json()["remaining_s"] <= 60
    r = evaluate(api, ticket_id=mine["id"], level=1)
    assert r.status_code == 201, r.text
    assert evaluate(api, ticket_id=mine["id"], level=5).status_code == 409  # rated once
    ev = r.json()["id"]
    url = f"/api/v1/halls/t1/evaluations/{ev}/reasons"
    assert api.http.post(url, json={"reasons": ["slow"]}, headers=api.auth(DISPLAY)).status_code == 403
    assert api.http.post(url, json={"reasons": ["nope"]}, headers=api.auth(PAD)).status_code == 422
    done = api.http.post(url, json={"reasons": ["slow", "attitude"]}, headers=api.auth(PAD))
    assert done.status_code == 200 and done.json()["reasons"] == ["slow", "attitude"] and done.json()["level"] == 1
    assert api.http.get("/api/v1/halls/t1/windows/1/evaluation", headers=api.auth(PAD)).status_code == 204


def test_a_pad_without_its_token_says_it_cannot_save(api: Api, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        page.goto(f"{api.server.url}/pad/t1/window/1")
        expect(page.locator("#no-token")).to_be_visible(timeout=5000)
        expect(page.locator("#no-token-why")).to_contain_text("设备令牌")
        expect(page.locator("#idle")).to_be_hidden()
        page.screenshot(path=str(SHOTS / "pad-no-token.png"))
    finally:
        page.close()
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        page.goto(f"{api.server.url}/pad/t1/window/1?token=not-a-real-token-000000")
        expect(page.locator("#no-token-why")).to_contain_text("无效", timeout=5000)
    finally:
        page.close()
