"""The back office and output page (/console/cases) in headless Chromium, against a live server on each database.

Cases are set up through the real API (a kiosk submits with real scans, a clerk accepts and hands over);
the page is driven like staff would: receive the hand-over list, review, approve, refuse, mark ready,
mail, register deliveries. Decision PDFs are the bytes the page fetched, read back with pdftotext.
The case API itself is tested on both databases in tests/cases/.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from ..cases.helpers import ID_NUMBER, act, new_case, pdf, png, post_case, submission
from ..harness import KIOSK, PASSWORDS, Api, LiveServer, fresh_database, runtime, serving
from .test_console import CONSOLE, SHOTS

PAGE = "/console/cases"
SCRIPT_NAME = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server on the backend with the test halls (t1's output queue is C)."""
    tmp = tmp_path_factory.mktemp(f"backoffice-{backend}")
    with serving(runtime(fresh_database(backend, tmp, name="backoffice"), tmp / "var"), heartbeat_s=1.0) as srv:
        yield srv


@pytest.fixture
def api(server: LiveServer) -> Iterator[Api]:
    """A client of the module's server, whose database was just emptied."""
    server.reset()
    client = Api(server)
    yield client
    client.close()


def accepted(api: Api, **over: Any) -> str:
    """A case submitted at the kiosk (a small real PNG scan) and accepted by clerk1: its number."""
    if over.get("item", "SCZT-GTH-001") == "SCZT-GTH-001":
        files = [
            ("file.application", ("form.pdf", pdf(), "application/pdf")),
            ("file.id_card", ("id.png", png(), "image/png")),
        ]
        r = post_case(api, submission(**over), files)
        assert r.status_code == 201, r.text
        number = str(r.json()["number"])
    else:
        number = str(new_case(api, **over)["number"])
    r = act(api, number, "accept", window="1号窗口")
    assert r.status_code == 200, r.text
    return number


def hand_over(api: Api, *numbers: str) -> str:
    r = api.http.post("/api/v1/halls/t1/handovers", json={"cases": list(numbers)}, headers=api.auth("clerk1"))
    assert r.status_code == 201, r.text
    return str(r.json()["number"])


def decided(api: Api, number: str, action: str = "approve", **body: Any) -> None:
    """Review and decide a case through the API as approver1."""
    assert act(api, number, "review", "approver1").status_code == 200
    r = act(api, number, action, "approver1", **body)
    assert r.status_code == 200, r.text


def open_page(browser: Browser, api: Api, user: str, path: str = PAGE) -> Page:
    """A fresh tab logged in as `user`, once the list has loaded and the event stream is connected."""
    page = browser.new_page(viewport=CONSOLE)
    page.goto(f"{api.server.url}{path}")
    page.fill("#login-user", user)
    page.fill("#login-pass", PASSWORDS[user])
    page.click("#login-form button[type=submit]")
    return page


def wait_live(page: Page) -> None:
    page.wait_for_selector("body[data-seq]", timeout=10_000)


def pdf_text(data: bytes) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return re.sub(r"\s+", "", out.stdout.decode("utf-8"))


def open_and_read(page: Page, api: Api, who: str, button: Any, url_part: str) -> tuple[str, bytes]:
    """Click an "open" button: the page fetches the file with its token and shows it in a new tab (blob:).

    Returns the tab's document content type and the bytes of the URL the page fetched (read again as
    `who`: the page's CSP keeps blob: out of fetch, and Chromium keeps no body of a no-store response).
    """

    def wanted(r: Response) -> bool:
        return url_part in r.url and r.request.method == "GET"

    with page.expect_response(wanted) as resp, page.expect_popup() as pop:
        button.click()
    assert resp.value.status == 200
    popup = pop.value
    try:
        popup.wait_for_url(re.compile(r"^blob:"), timeout=10_000)
        popup.wait_for_load_state()
        kind = str(popup.evaluate("document.contentType"))
        if kind.startswith("image/"):
            popup.wait_for_function("document.images[0] && document.images[0].naturalWidth > 0")
    finally:
        popup.close()
    r = api.http.get(resp.value.url, headers=api.auth(who))
    assert r.status_code == 200 and r.headers["content-type"] == resp.value.headers["content-type"]
    return kind, r.content


def select(page: Page, number: str) -> None:
    page.locator(f"#worklist tr[data-number='{number}']").click()
    expect(page.locator("#case")).to_have_attribute("data-number", number)


def two_day_item(api: Api) -> str:
    """An item with a 2-working-day promise, added by the administrator (yellow from the start)."""
    r = api.http.get("/api/v1/items/SBYB-SBK-001")
    assert r.status_code == 200
    body = {k: v for k, v in r.json().items() if k not in ("version", "source")}
    body |= {"code": "SBYB-SBK-902", "name": "社会保障卡补领（加急）", "time_limit_days": 2, "legal_days": 2}
    r = api.http.post("/api/v1/items", json=body, headers=api.auth("admin"))
    assert r.status_code == 201, r.text
    return "SBYB-SBK-902"


def test_approver_receives_orders_by_deadline_approves_and_refuses(api: Api, browser: Browser) -> None:
    red = accepted(api)  # 个体工商户设立登记: 1 working day → red at once
    yellow = accepted(api, item=two_day_item(api), situation="first")  # 2 working days: yellow
    green = accepted(api, item="SBYB-SBK-001", situation="first")  # 社会保障卡申领: 10 working days
    other = accepted(api, item="SBYB-SBK-001", situation="first")
    listed = hand_over(api, green, red, other, yellow)
    page = open_page(browser, api, "approver1")
    try:
        wait_live(page)
        ho = page.locator(f"#handovers li[data-handover='{listed}']")
        expect(ho).to_contain_text("4 件")
        kind, data = open_and_read(page, api, "approver1", ho.locator("button", has_text="PDF"), "/handovers/")
        text = pdf_text(data)
        assert kind == "application/pdf" and "移交清单" in text and red in text and green in text
        ho.locator("button[data-action=receive]").click()
        expect(page.locator("#flash")).to_contain_text(f"Received {listed}")
        expect(page.locator("#handovers")).to_contain_text("Nothing to receive")
        got = api.http.get("/api/v1/halls/t1/handovers", headers=api.auth("clerk1")).json()
        assert got[0]["received_by"] == "approver1"

        rows = page.locator("#worklist tr.bo-row")
        expect(rows).to_have_count(4)
        server_order = [
            r["number"] for r in api.http.get("/api/v1/halls/t1/worklist", headers=api.auth("auditor1")).json()
        ]
        assert [rows.nth(i).get_attribute("data-number") for i in range(4)] == server_order
        assert server_order[:2] == [red, yellow]  # nearest deadline first
        assert [rows.nth(i).get_attribute("data-light") for i in range(4)] == ["red", "yellow", "green", "green"]
        expect(page.locator(f"#worklist tr[data-number='{green}']")).to_have_attribute("data-light", "green")
        expect(page.locator(f"#worklist tr[data-number='{green}'] .bo-due")).to_contain_text("剩 10 个工作日")
        page.click("#f-light button[data-light=red]")
        expect(rows).to_have_count(1)
        page.click("#f-light button[data-light=green]")
        expect(rows).to_have_count(2)
        page.click("#f-light button[data-light='']")
        expect(rows).to_have_count(4)

        # a case accepted elsewhere appears without a reload (case.status event)
        late = accepted(api, item="SBYB-SBK-001", situation="first")
        expect(page.locator(f"#worklist tr[data-number='{late}']")).to_be_visible()

        # the red case: look at it, its scan, the applicant in full (audited), then approve
        select(page, red)
        case = page.locator("#case")
        expect(case).to_contain_text("个体工商户设立登记")
        expect(case).to_contain_text("经营者本人申请")  # the situation
        expect(case).to_contain_text("张*三")
        assert ID_NUMBER not in case.inner_text()
        scan = case.locator("li[data-material]", has_text="身份证").locator("button")
        kind, data = open_and_read(page, api, "approver1", scan, "/materials/")
        assert kind == "image/png" and data.startswith(b"\x89PNG")
        case.locator("button[data-action=reveal]").click()
        expect(case.locator(".bo-full")).to_contain_text(ID_NUMBER)
        expect(case.locator(".bo-full")).to_contain_text("张小三")
        expect(case.locator("ol.bo-timeline li[data-action=accept]")).to_contain_text("clerk1")
        case.locator("button[data-action=review]").click()
        expect(case).to_have_attribute("data-status", "in_review")
        case.locator("form.bo-approve textarea[name=note]").fill("材料齐全，符合法定条件")
        case.locator("button[data-action=approve]").click()  # asks first: one click never decides
        expect(case.locator(".bo-confirm")).to_contain_text("准予许可")
        expect(case).to_have_attribute("data-status", "in_review")
        case.locator("button[data-action=approve-confirm]").click()
        expect(case).to_have_attribute("data-status", "approved")
        expect(case.locator("ol.bo-timeline li[data-action=approve]")).to_contain_text("approver1")
        kind, data = open_and_read(
            page, api, "approver1", case.locator("button[data-open=approval_decision]"), "/documents/"
        )
        assert kind == "application/pdf"
        text = pdf_text(data)
        assert "准予行政许可决定书" in text and "个体工商户设立登记" in text
        expect(page.locator(f"#worklist tr[data-number='{red}']")).to_have_count(0)  # left the timed list

        # refuse the green one with a reason: the letter states it and the right to appeal
        select(page, green)
        case.locator("button[data-action=review]").click()
        expect(case).to_have_attribute("data-status", "in_review")
        expect(case.locator(".bo-rights")).to_contain_text("60 日内申请行政复议")
        case.locator("button[data-action=refuse]").click()  # no reason: the browser keeps the form
        expect(case).to_have_attribute("data-status", "in_review")
        case.locator("form.bo-refuse textarea[name=reason]").fill("申请人已持有有效社会保障卡，不符合首次申领条件")
        case.locator("button[data-action=refuse]").click()
        case.locator("button[data-action=refuse-confirm]").click()
        expect(case).to_have_attribute("data-status", "refused")
        expect(case.locator(".bo-decided")).to_contain_text("不符合首次申领条件")
        kind, data = open_and_read(
            page, api, "approver1", case.locator("button[data-open=refusal_decision]"), "/documents/"
        )
        text = pdf_text(data)
        assert "不符合首次申领条件" in text
        assert "六十日内" in text and "申请行政复议" in text and "六个月内" in text and "提起行政诉讼" in text
    finally:
        page.close()


def test_clerk_marks_ready_mails_and_registers_every_delivery(api: Api, browser: Browser) -> None:
    window, mailed = accepted(api), accepted(api, item="SBYB-SBK-001", situation="first")
    kiosk = accepted(api, item="SBYB-SBK-001", situation="first")
    hand_over(api, window, mailed, kiosk)
    decided(api, window)
    decided(api, mailed)
    decided(api, kiosk, "refuse", reason="不符合条件")  # a refusal letter is collected the same way
    page = open_page(browser, api, "clerk1")
    try:
        wait_live(page)
        expect(page.locator("#f-view")).to_have_value("decided")  # clerks start at the output stage
        select(page, window)
        case = page.locator("#case")
        expect(case.locator("form.bo-ready")).to_contain_text("138****5678")
        case.locator("button[data-action=ready]").click()
        expect(case).to_have_attribute("data-status", "result_ready")
        code = case.locator(".bo-code-digits").inner_text()
        assert re.fullmatch(r"\d{8}", code)
        expect(case.locator(".bo-code")).to_contain_text("The citizen is notified by SMS")
        notes = api.http.get("/api/v1/halls/t1/notifications", headers=api.auth("clerk1")).json()
        ready = [n for n in notes if n["kind"] == "case_ready" and n["ticket"] == window]
        assert len(ready) == 1 and ready[0]["phone"] == "138****5678"

        case.locator("button[data-action=pickup-ticket]").click()
        expect(case.locator(".bo-ticket")).to_contain_text("C 队列")
        row = case.locator("table.bo-deliveries tr[data-delivery=window]")
        expect(row).to_have_attribute("data-status", "prepared")
        ticket = re.search(r"Ticket (C\d+)", case.locator(".bo-ticket").inner_text())
        assert ticket is not None
        expect(row).to_contain_text(ticket.group(1))
        case.locator("form.bo-deliver input[name=who]").fill("张小三")
        case.locator("button[data-action=deliver]").click()
        expect(case).to_have_attribute("data-status", "delivered")
        expect(row).to_have_attribute("data-status", "delivered")
        expect(case.locator(".bo-code")).to_have_count(0)  # the code is gone with the delivery
        expect(case.locator("ol.bo-timeline li[data-action=deliver]")).to_contain_text("领取人 张小三")

        select(page, mailed)
        case.locator("button[data-action=ready]").click()
        expect(case).to_have_attribute("data-status", "result_ready")
        expect(case.locator(".bo-code-digits")).to_be_visible()
        page.select_option("#f-view", "delivered")
        select(page, window)  # going away and back: the one-time code is not shown again
        page.select_option("#f-view", "ready")
        select(page, mailed)
        expect(case.locator(".bo-code")).to_have_count(0)
        form = case.locator("form.bo-mail")
        form.locator("input[name=recipient]").fill("李四")
        form.locator("input[name=address]").fill("山东省威海市环翠区新威路 1 号")
        form.locator("input[name=waybill]").fill("EA123456789CN")
        case.locator("button[data-action=mail]").click()
        expect(case).to_have_attribute("data-status", "mailed")
        row = case.locator("table.bo-deliveries tr[data-delivery=ems]")
        expect(row).to_contain_text("EA123456789CN")
        expect(row).to_contain_text("李*")
        assert "新威路" not in case.inner_text()  # the address is kept encrypted, not shown
        case.locator("form.bo-sign input[name=signed_by]").fill("李四")
        case.locator("button[data-action=sign]").click()
        expect(case).to_have_attribute("data-status", "delivered")
        expect(row).to_have_attribute("data-status", "delivered")
        expect(row).to_contain_text("Signed by 李*")

        # the 24-hour kiosk: the citizen types the code; the page follows the event
        page.select_option("#f-view", "decided")
        select(page, kiosk)
        case.locator("button[data-action=ready]").click()
        expect(case).to_have_attribute("data-status", "result_ready")
        code = case.locator(".bo-code-digits").inner_text()
        r = api.http.post("/api/v1/halls/t1/pickup", json={"code": code}, headers=api.auth(KIOSK))
        assert r.status_code == 200, r.text
        expect(case).to_have_attribute("data-status", "delivered")
        expect(case.locator("table.bo-deliveries tr[data-delivery=self_pickup]")).to_have_attribute(
            "data-status", "delivered"
        )
        expect(case.locator(".bo-code")).to_have_count(0)
    finally:
        page.close()


def test_auditor_reads_only_other_hall_is_refused_and_names_stay_text(api: Api, browser: Browser) -> None:
    r = api.http.get(PAGE)
    assert r.status_code == 200 and "办件审批与出件" in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"] and r.headers["x-frame-options"] == "DENY"
    for staff_page in ("/console", "/console/hall"):  # both staff pages link here
        assert f'href="{PAGE}"' in api.http.get(staff_page).text
    tricky = accepted(
        api, item="SBYB-SBK-001", situation="first", applicant={"name": SCRIPT_NAME, "id_number": ID_NUMBER}
    )
    hand_over(api, tricky)
    page = open_page(browser, api, "auditor1")
    try:
        wait_live(page)
        expect(page.locator("#handovers button[data-action=receive]")).to_be_hidden()
        select(page, tricky)
        case = page.locator("#case")
        expect(case).to_contain_text("社会保障卡申领")
        assert case.locator("button[data-action]").count() == 0  # no review, reveal or output
        assert case.locator("form").count() == 0
        masked = page.locator(f"#worklist tr[data-number='{tricky}'] td").nth(3).inner_text()
        assert masked.startswith("<") and masked != SCRIPT_NAME
        assert page.locator("#worklist script, #case script").count() == 0
    finally:
        page.close()
    page = open_page(browser, api, "approver1", f"{PAGE}?case={tricky}")
    try:
        wait_live(page)
        case = page.locator("#case")
        expect(case).to_have_attribute("data-number", tricky)
        case.locator("button[data-action=reveal]").click()
        expect(case.locator(".bo-full")).to_contain_text(SCRIPT_NAME)  # shown as text, never run
        assert page.locator("#case script").count() == 0
    finally:
        page.close()
    page = open_page(browser, api, "clerk-t2", f"{PAGE}?hall=t1")
    try:
        expect(page.locator("#fatal-text")).to_be_visible()
        expect(page.locator("#fatal-text")).to_contain_text("/")
        assert page.locator("#bo").is_hidden()
    finally:
        page.close()


def test_screenshots(api: Api, browser: Browser) -> None:
    """docs/screenshots/console-backoffice-*.png: the approver's worklist with a decision open, the output desk."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    red = accepted(api)
    cases = [red] + [
        accepted(api, item=i, situation=s) for i, s in (("SBYB-SBK-001", "first"), ("SBYB-SY-003", "standard"))
    ]
    hand_over(api, *cases)
    waiting = [
        accepted(api, item=two_day_item(api), situation="first"),
        accepted(api, item="SBYB-SBK-001", situation="first"),
    ]
    hand_over(api, *waiting)
    assert act(api, red, "review", "approver1").status_code == 200
    page = open_page(browser, api, "approver1", f"{PAGE}?case={red}")
    try:
        wait_live(page)
        expect(page.locator("#case")).to_have_attribute("data-status", "in_review")
        page.locator("form.bo-approve textarea[name=note]").fill("材料齐全，符合法定条件")
        page.evaluate("document.fonts.ready")
        page.wait_for_timeout(500)
        page.screenshot(path=str(SHOTS / "console-backoffice-approver.png"))
    finally:
        page.close()
    decided(api, cases[1])
    page = open_page(browser, api, "clerk1")
    try:
        wait_live(page)
        select(page, cases[1])
        page.locator("#case button[data-action=ready]").click()
        expect(page.locator("#case")).to_have_attribute("data-status", "result_ready")
        page.locator("#case button[data-action=pickup-ticket]").click()
        expect(page.locator("#case .bo-ticket")).to_be_visible()
        page.select_option("#f-view", "ready")
        page.locator("#case .bo-code").scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=str(SHOTS / "console-backoffice-output.png"))
        page.locator("#case ol.bo-timeline").scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / "console-backoffice-history.png"))
        with page.expect_popup() as pop:  # the decision letter as Chromium's PDF viewer shows it
            page.locator("#case button[data-open=approval_decision]").click()
        letter = pop.value
        letter.set_viewport_size(CONSOLE)
        letter.wait_for_url(re.compile(r"^blob:"))
        letter.wait_for_timeout(2000)
        letter.screenshot(path=str(SHOTS / "console-backoffice-decision.png"))
        letter.close()
    finally:
        page.close()
