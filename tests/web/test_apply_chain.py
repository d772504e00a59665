"""一链办理 from the web, end to end in headless Chromium against a live server on both databases, the phone's code
read at a real SMS gateway on loopback: on a phone (390×844) a citizen applies for the three-item chain 开办餐饮店
on /cases/apply — one form, each shared material uploaded once — the clerk returns it in the console with ONE
notice, the citizen fixes and resubmits, the clerk passes it, the citizen books a slot; at the window the card
must match (another card is refused), one acceptance, three parallel approvals by two approvers, one output with
one pickup code that hands every result over at a 24-hour kiosk. Screenshots web-apply-chain-*.png go to
tests/harness.py shots_dir() (at 390 px and at a PC's width).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from queue_server.cases.models import CaseMaterial

from ..cases.helpers import ID_NUMBER, NAME, pdf, served
from ..cases.test_chains import FORM, MEMBERS, two_approvers
from ..cases.test_prereview import OTHER_ID, config
from ..harness import KIOSK, Api, LiveServer
from ..notify.conftest import Receiver
from .test_apply_page import PC, PHONE, UPLOAD_MS, jpeg_file, no_sideways, open_page, shot, submitted
from .test_console_cases import SHOTS, choose, desk, done


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def srv(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, gateway: Receiver
) -> Iterator[LiveServer]:
    """One server per backend: the pre-review halls (queue A takes bookings) with a second approver."""
    text = two_approvers(base=config(gateway.url))
    yield from served(request.param, tmp_path_factory, "applychain", text, heartbeat_s=1.0)


def pickup_code(gateway: Receiver, number: str, after: int) -> str:
    """The pickup code of the chain's one ready message among the gateway's hits from number `after` on (the
    other database's run numbers its chain alike), read at the gateway (sent off the request path)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for h in list(gateway.hits)[after:]:
            if h.json.get("ticket") == number and h.json.get("kind") == "case_ready":
                found = re.search(r"取件码(\d{8})", h.json["text"])
                assert found, h.json["text"]
                return found.group(1)
        time.sleep(0.05)
    raise AssertionError(f"no case_ready message of {number} reached the gateway")


def test_a_three_item_chain_from_the_phone_to_one_output(srv: LiveServer, gateway: Receiver, browser: Browser) -> None:
    page = open_page(browser, f"{srv.url}/cases/apply")
    api = Api(srv)
    clerk = None
    try:
        # 一件事一次办 beside the single items; found by what a citizen would type
        page.fill("#item-q", "开饭店")
        entry = page.locator("#items button.item[data-chain]")
        expect(entry).to_have_count(1)
        expect(entry).to_contain_text("开办餐饮店")
        expect(page.locator("#items h3.domain").first).to_contain_text("一件事一次办")
        no_sideways(page)
        shot(page, "chain-1-list", full=False)
        entry.click()
        expect(page.locator("#item-head .members li")).to_have_count(3)
        expect(page.locator("#situations label.situation")).to_have_count(0)  # no situation to choose
        expect(page.locator("#fields [data-field]")).to_have_count(6)  # each shared field once
        expect(page.locator("#materials li.material")).to_have_count(7)  # each material once
        uses = page.locator("li.material[data-material=id_card] .m-uses")
        expect(uses).to_contain_text("个体工商户设立登记")
        expect(uses).to_contain_text("公共场所卫生许可")
        for code in ("business_name", "address", "scope", "area"):
            page.fill(f"#fields [data-field={code}]", FORM[code])
        page.select_option("#fields [data-field=food_category]", FORM["food_category"])
        page.select_option("#fields [data-field=place_kind]", FORM["place_kind"])
        for i, code in enumerate(("application", "id_card", "premises", "layout", "rules", "staff_health")):
            payload = (
                {"name": f"{code}.pdf", "mimeType": "application/pdf", "buffer": pdf()}
                if code in ("application", "premises", "rules")
                else jpeg_file(f"{code}.jpg", (40 * i, 120, 200 - 30 * i))
            )
            page.locator(f"li.material[data-material={code}] input[type=file]").set_input_files(payload)
        page.locator("li.material[data-material=hygiene_report] [data-later]").check()  # 容缺: after acceptance
        page.fill("#name", NAME)
        page.fill("#id-number", ID_NUMBER)
        number, code = submitted(page, gateway, "chain-2-form")
        assert number.startswith("L") and len(code) == 8
        shot(page, "chain-3-submitted", full=False)
        with srv.ctx.db.read() as s:
            rows = list(s.execute(select(CaseMaterial)).scalars())
        assert len({r.storage_name for r in rows}) == 6 and len(rows) == 11  # six uploads, named by 11 member rows

        # the clerk returns the chain in the console with one notice
        clerk = desk(browser, api)
        clerk.keyboard.press("Alt+W")
        listed = clerk.locator("#case-dialog .prereview-list")
        expect(listed).to_have_attribute("data-count", "1")
        row = listed.locator(f"tr[data-number='{number}']")
        expect(row).to_have_attribute("data-chain", "3")
        expect(row.locator(".pr-members li")).to_have_count(3)
        row.locator("button.link").click()
        view = clerk.locator("#case-dialog .chain-view")
        expect(view).to_have_attribute("data-status", "prereview")
        expect(view.locator("tr[data-material=id_card] button.file-open")).to_have_count(1)
        expect(view.locator("tr[data-member]")).to_have_count(3)
        form = choose(clerk, "prereview_return")
        for kind, key, problem in (
            ("material", "layout", "平面图未标明卫生设施位置"),
            ("field", "area", "面积与租赁合同不符"),
        ):
            line = form.locator(f"[data-kind='{kind}'][data-code='{key}']")
            line.locator("input.f-tick").check()
            line.locator("input.f-problem").fill(problem)
        form.locator("[data-kind='material'][data-code='layout']").scroll_into_view_if_needed()
        clerk.screenshot(path=str(SHOTS / "web-apply-chain-console-return.png"))
        form.locator("button[data-submit]").click()
        expect(view).to_have_attribute("data-status", "prereview_returned")
        expect(view.locator("tr[data-status=prereview_returned]")).to_have_count(3)

        # the citizen sees the one notice, fixes and resubmits
        page.click("#done-open")
        expect(page.locator("body")).to_have_attribute("data-status", "prereview_returned")
        notice = page.locator("#fix ol.notice li")
        expect(notice).to_have_count(2)
        expect(notice.nth(0)).to_contain_text("平面图未标明卫生设施位置")
        expect(notice.nth(0)).to_contain_text("食品经营许可")  # which items the line concerns
        expect(page.locator("#case .chain-members li")).to_have_count(3)
        expect(page.locator("#fix [data-field=area]")).to_have_value(FORM["area"])
        no_sideways(page)
        shot(page, "chain-4-returned")
        page.fill("#fix [data-field=area]", "150")
        page.locator("#fix li.material[data-material=layout] input[type=file]").set_input_files(
            jpeg_file("布局图2.jpg", (30, 90, 200))
        )
        page.click("#fix button.primary")
        expect(page.locator("body")).to_have_attribute("data-status", "prereview", timeout=UPLOAD_MS)

        # the clerk passes it
        clerk.keyboard.press("Escape")
        clerk.keyboard.press("Alt+W")
        expect(listed).to_have_attribute("data-count", "1")
        listed.locator(f"tr[data-number='{number}'] button.link").click()
        expect(view).to_have_attribute("data-status", "prereview")
        expect(view.locator("tr[data-material=layout] button.file-open")).to_have_count(2)
        choose(clerk, "prereview_pass").locator("button[data-submit]").click()
        expect(view).to_have_attribute("data-status", "prereview_passed")

        # the citizen books one slot (the link a text message could carry)
        page.goto(f"{srv.url}/cases/apply?n={number}&p={code}")
        expect(page.locator("body")).to_have_attribute("data-status", "prereview_passed")
        page.locator("#slots button.slot").first.click()
        expect(page.locator(".appointment")).to_contain_text("预约码")
        no_sideways(page)
        shot(page, "chain-5-booked")

        # at the window: another person's card is refused, the bound one accepts every member at once
        clerk.fill("#case-card", OTHER_ID)
        choose(clerk, "accept").locator("button[data-submit]").click()
        expect(clerk.locator("#case-dialog .cd-say")).to_contain_text("不一致")
        expect(view).to_have_attribute("data-status", "prereview_passed")
        clerk.fill("#case-card", ID_NUMBER)
        clerk.locator("#case-dialog form[data-form='accept'] button[data-submit]").click()
        expect(view).to_have_attribute("data-status", "accepted")
        expect(view.locator("tr[data-status=accepted]")).to_have_count(3)
        view.locator("tr[data-member]").first.scroll_into_view_if_needed()
        clerk.screenshot(path=str(SHOTS / "web-apply-chain-console-accepted.png"))
        members = [str(m) for m in view.locator("tr[data-member]").evaluate_all("rs => rs.map(r => r.dataset.member)")]
        assert len(members) == 3

        # three parallel approvals by two approvers, interleaved; one output with one pickup code
        after = len(gateway.hits)
        for n, who in ((members[2], "approver2"), (members[0], "approver1"), (members[1], "approver2")):
            assert api.http.post(f"/api/v1/cases/{n}/actions/review", json={}, headers=api.auth(who)).status_code == 200
        for n, who in ((members[1], "approver2"), (members[2], "approver2"), (members[0], "approver1")):
            r = api.http.post(f"/api/v1/cases/{n}/actions/approve", json={}, headers=api.auth(who))
            assert r.status_code == 200, r.text
        chain = api.http.get(f"/api/v1/chain-cases/{number}", headers=api.auth("clerk1")).json()
        assert chain["status"] == "result_ready" and [m["item"] for m in chain["members"]] == MEMBERS
        page.reload()
        expect(page.locator("body")).to_have_attribute("data-status", "result_ready")
        expect(page.locator("#case .chain-members li[data-status=result_ready]")).to_have_count(3)
        shot(page, "chain-6-ready")
        got = pickup_code(gateway, number, after)
        r = api.http.post("/api/v1/halls/t1/pickup", json={"code": got}, headers=api.auth(KIOSK))
        assert r.status_code == 200 and r.json()["number"] == number, r.text
        chain = api.http.get(f"/api/v1/chain-cases/{number}", headers=api.auth("clerk1")).json()
        assert chain["status"] == "delivered" and [m["status"] for m in chain["members"]] == ["delivered"] * 3
        text = page.inner_text("body")
        assert ID_NUMBER not in text and PHONE not in text and NAME not in text  # masked on the page
        assert page.__dict__["errors"] == []
    finally:
        page.close()
        if clerk is not None:
            done(clerk)
        api.close()


def test_the_chain_form_at_a_pcs_width(srv: LiveServer, browser: Browser) -> None:
    page = open_page(browser, f"{srv.url}/cases/apply", PC)
    try:
        page.fill("#item-q", "餐饮")
        page.locator("#items button.item[data-chain]").first.click()
        expect(page.locator("#materials li.material")).to_have_count(7)
        no_sideways(page)
        shot(page, "chain-pc-form")
        # the document types the server takes: a passport needs the nationality
        expect(page.locator("#nationality-box")).to_be_hidden()
        page.select_option("#id-type", "passport")
        expect(page.locator("#nationality-box")).to_be_visible()
        page.fill("#name", "KIM MINJI")
        page.fill("#id-number", "M12345678")
        page.click("#submit")
        expect(page.locator("#error")).to_contain_text("国籍")
        expect(page.locator("#error")).not_to_contain_text("校验位")  # no resident-ID check on a passport
        expect(page.locator("#error")).to_contain_text("Fill in 'Name of the business'")  # each in both languages
        assert page.__dict__["errors"] == []
    finally:
        page.close()
