"""The window's evaluation pad in headless Chromium, end to end: complete → pad asks → tap → stored → stats."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from ..feedback.helpers import PAD
from ..harness import Api
from .test_board import ARGS, CHROMIUM, SHOTS


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


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
