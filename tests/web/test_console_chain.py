"""一链办理 in the back office (/console/cases) in headless Chromium, on each database: a three-item chain
submitted over HTTP, accepted once by the clerk on the page (整体受理), two approvers each see the chain's other
members with their states and lights while deciding their own, and the clerk hands every result over at once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from ..cases.helpers import NAME, served
from ..cases.test_chains import body, post_chain, two_approvers
from ..harness import Api, LiveServer
from .test_console import SHOTS
from .test_console_backoffice import PAGE, open_page, wait_live


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server with two approvers of t1, on the backend."""
    yield from served(backend, tmp_path_factory, "consolechain", two_approvers(), heartbeat_s=1.0)


@pytest.fixture
def api(server: LiveServer) -> Iterator[Api]:
    server.reset()
    client = Api(server)
    yield client
    client.close()


def members_shown(page: Page) -> list[tuple[str, str]]:
    """(number, status) of each member line in the chain section."""
    rows = page.locator(".bo-chain li.bo-chain-member")
    return [(str(r.get_attribute("data-member")), str(r.get_attribute("data-status"))) for r in rows.all()]


def test_the_back_office_shows_the_chain_and_its_members(api: Api, browser: Browser) -> None:
    r = post_chain(api, body())
    assert r.status_code == 201, r.text
    chain, token = r.json()["number"], r.json()["query_token"]
    members = [m["number"] for m in r.json()["members"]]
    # the clerk accepts the chain once, from any member's view
    clerk = open_page(browser, api, "clerk1", f"{PAGE}?view=submitted&case={members[0]}")
    try:
        wait_live(clerk)
        expect(clerk.locator(f'#worklist tr[data-number="{members[1]}"] .bo-chain-tag')).to_have_text(f"一链 {chain}")
        section = clerk.locator(f'.bo-chain[data-chain="{chain}"]')
        expect(section).to_be_visible()
        expect(section.locator("li.bo-chain-member")).to_have_count(3)
        expect(section.locator("li.bo-chain-member.self")).to_have_attribute("data-member", members[0])
        section.locator('button[data-action="chain-accept"]').click()
        expect(clerk.locator(".bo-chain li.bo-chain-member[data-status=accepted]")).to_have_count(3)
    finally:
        clerk.close()
    # approver2 takes the food licence; approver1 the other two — each sees the others' states
    for n, who in ((members[1], "approver2"), (members[0], "approver1"), (members[2], "approver1")):
        assert api.http.post(f"/api/v1/cases/{n}/actions/review", json={}, headers=api.auth(who)).status_code == 200
    r = api.http.post(f"/api/v1/cases/{members[0]}/actions/approve", json={}, headers=api.auth("approver1"))
    assert r.status_code == 200, r.text
    page = open_page(browser, api, "approver2", f"{PAGE}?case={members[1]}")
    try:
        wait_live(page)
        expect(page.locator(".bo-chain li.bo-chain-member")).to_have_count(3)
        assert members_shown(page) == [(members[0], "approved"), (members[1], "in_review"), (members[2], "in_review")]
        expect(page.locator(".bo-chain li.self .bo-light")).to_be_visible()  # its own deadline light
        expect(page.locator(".bo-chain .bo-chain-hint")).to_contain_text("已决定 1/3")
        page.screenshot(path=str(SHOTS / "console-chain-approver.png"))
        # the other approver decides behind the page: it follows live
        r = api.http.post(f"/api/v1/cases/{members[2]}/actions/approve", json={}, headers=api.auth("approver1"))
        assert r.status_code == 200, r.text
        expect(page.locator(f'.bo-chain li[data-member="{members[2]}"]')).to_have_attribute("data-status", "approved")
        # a click on another member opens it
        page.locator(f'.bo-chain li[data-member="{members[0]}"]').click()
        expect(page.locator("#case")).to_have_attribute("data-number", members[0])
        expect(page.locator(".bo-chain li.self")).to_have_attribute("data-member", members[0])
    finally:
        page.close()
    r = api.http.post(f"/api/v1/cases/{members[1]}/actions/approve", json={}, headers=api.auth("approver2"))
    assert r.status_code == 200, r.text
    clerk = open_page(browser, api, "clerk1", f"{PAGE}?view=ready&case={members[2]}")
    try:
        wait_live(clerk)
        expect(clerk.locator(".bo-chain li.bo-chain-member[data-status=result_ready]")).to_have_count(3)
        expect(clerk.locator('.bo-chain button[data-action="chain-deliver"]')).to_be_visible()
        clerk.screenshot(path=str(SHOTS / "console-chain-output.png"))
        clerk.locator('.bo-chain button[data-action="chain-deliver"]').click()
        expect(clerk.locator(".bo-chain li.bo-chain-member[data-status=delivered]")).to_have_count(3)
    finally:
        clerk.close()
    # the citizen's query page with the receipt's link: the chain and every member
    page = browser.new_page()
    try:
        page.goto(f"{api.server.url}/cases/query?n={chain}&p={token}")
        page.wait_for_selector("body[data-status=delivered]")
        expect(page.locator("#members li[data-status=delivered]")).to_have_count(3)
        expect(page.locator("#item")).to_contain_text("开办餐饮店")
        expect(page.locator("#timeline li")).to_have_count(4)
        assert NAME not in page.inner_text("body")
    finally:
        page.close()
