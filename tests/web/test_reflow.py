"""Staff pages below 1366 px (1280×720 and 1024×768) in Chromium: the clerk console, supervisor view, back
office, general desk and reports reflow — nothing scrolls sideways and no visible element sticks out past
the window's right edge. Screenshots of each (`staff-<page>-<width>.png`)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from ..cases.helpers import act, new_case
from ..feedback.helpers import evaluate, served
from ..harness import PASSWORDS, Api
from .test_console import SHOTS

SIZES: list[ViewportSize] = [{"width": 1280, "height": 720}, {"width": 1024, "height": 768}]

# What sticks out: visible elements whose right edge is past the window, and boxes whose content is wider
# than they are (cut off, or only seen by scrolling sideways inside them) — except a deliberate ellipsis,
# form fields, and the boxes made to scroll (`.table-box`: the reports' detail table of many figures).
OVERFLOW = """() => {
  const w = document.documentElement.clientWidth;
  const out = [];
  const name = (e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`;
  for (const e of document.body.querySelectorAll("*")) {
    const r = e.getBoundingClientRect();
    const css = getComputedStyle(e);
    if (r.width === 0 || r.height === 0 || css.visibility === "hidden") continue;
    if (e.closest(".table-box, input, textarea, select, canvas, dialog")) continue;
    if (css.overflowX !== "visible" && css.textOverflow !== "ellipsis" && e.scrollWidth > e.clientWidth + 1) {
      out.push(`${name(e)} content ${e.scrollWidth} > box ${e.clientWidth}`);
    }
    if (r.right <= w + 1) continue;
    let boxed = false; // inside a box that clips it: reported above, for the box
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX === "visible" || a.getBoundingClientRect().right > w + 1) continue;
      boxed = true;
      break;
    }
    if (!boxed) out.push(`${name(e)} right=${Math.round(r.right)}`);
  }
  return { scroll: document.documentElement.scrollWidth, width: w, out: out.slice(0, 8) };
}"""

PAGES = [  # name, path, user, what shows once loaded
    ("console", "/console?window=1", "clerk1", "#desk"),
    ("hall", "/console/hall", "approver1", "#hall"),
    ("backoffice", "/console/cases", "approver1", "#bo"),
    ("frontdesk", "/console/desk", "clerk1", "#hall"),
    ("reports", "/console/reports", "approver1", "#main"),
]


@pytest.fixture
def busy(api: Api) -> Api:
    """A hall with a morning's traces: tickets waiting and served, a rating, cases in the back office."""
    t = served(api, window=1)
    for q in ("A", "A", "B", "C"):
        api.take(q)
    assert evaluate(api, ticket_id=t["id"], level=4).status_code == 201
    for _ in range(2):
        n = new_case(api)["number"]
        assert act(api, n, "accept").status_code == 200
    return api


def open_page(browser: Browser, api: Api, path: str, user: str, size: ViewportSize) -> Page:
    page = browser.new_page(viewport=size)
    page.goto(f"{api.server.url}{path}")
    page.fill("#login-user", user)
    page.fill("#login-pass", PASSWORDS[user])
    page.click("#login-form button[type=submit]")
    return page


@pytest.mark.parametrize(("name", "path", "user", "shown"), PAGES)
def test_staff_pages_reflow_below_1366(
    busy: Api, browser: Browser, name: str, path: str, user: str, shown: str
) -> None:
    for size in SIZES:
        page = open_page(browser, busy, path, user, size)
        try:
            expect(page.locator(shown)).to_be_visible(timeout=10_000)
            if name == "backoffice":  # a case open beside the list
                page.locator("#worklist tr").first.click()
                expect(page.locator("#case")).to_have_attribute("data-number", re.compile(r"\d+"))
            if name == "console":  # a ticket at the window
                page.keyboard.press("F1")
                expect(page.locator("#current .cur-number")).to_have_text(re.compile(r"A\d+"))
            page.wait_for_timeout(500)  # the lists and charts of the first read
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"staff-{name}-{size['width']}.png"), full_page=True)
            got = page.evaluate(OVERFLOW)
            assert got["scroll"] <= got["width"] and not got["out"], (name, size, got)
        finally:
            page.close()
