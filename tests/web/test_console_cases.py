"""收件受理 at the clerk console (issue 8): the 办件 Cases panel in headless Chromium.

Against a live server of its own with the test halls, on each database (issue 21: the staff's browser tests run
on both). Cases come in through the real multipart API as a kiosk sends them; documents are read back with
pdftotext.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from queue_server.ids import make_id_number
from queue_server.models import AuditLog

from ..cases.helpers import ID_NUMBER, act, new_case, pdf, png, post_case, submission
from ..conftest import CI
from ..harness import PASSWORDS, Api, LiveServer, fresh_database, runtime, serving, shots_dir

SHOTS = shots_dir()  # a temporary folder unless HALL_SHOTS_DIR says (tests/harness.py)

for tool in ("pdftotext",):  # Chromium: the `browser` fixture (tests/conftest.py)
    if not (os.path.exists(tool) or shutil.which(tool)):
        if CI:
            pytest.fail(f"{tool} is required in CI", pytrace=False)
        pytest.skip(f"{tool} is not installed (Debian package poppler-utils)", allow_module_level=True)

from playwright.sync_api import Browser, Dialog, Locator, Page, ViewportSize, expect  # noqa: E402

CONSOLE: ViewportSize = {"width": 1366, "height": 768}
ERRORS: dict[int, list[str]] = {}  # uncaught script errors of each open tab


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server on the backend with the test halls and the repository's items catalog."""
    tmp = tmp_path_factory.mktemp(f"console-cases-{backend}")
    with serving(runtime(fresh_database(backend, tmp, name="console_cases"), tmp / "var"), heartbeat_s=1.0) as srv:
        yield srv


@pytest.fixture
def api(server: LiveServer) -> Iterator[Api]:
    """A client of the module's server, whose database was just emptied."""
    server.reset()
    client = Api(server)
    yield client
    client.close()


def desk(browser: Browser, api: Api, user: str = "clerk1", window: int = 1) -> Page:
    """A fresh tab logged in as `user` at a window of their hall, once the desk has loaded."""
    page = browser.new_page(viewport=CONSOLE, accept_downloads=True)
    errors: list[str] = []
    ERRORS[id(page)] = errors
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{api.server.url}/console?window={window}")
    page.fill("#login-user", user)
    page.fill("#login-pass", PASSWORDS[user])
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("body[data-seq]", timeout=10_000)
    expect(page.locator("#panel-cases")).to_be_visible()
    return page


def done(page: Page) -> None:
    """Close a tab; its scripts must not have thrown."""
    errors = ERRORS.pop(id(page), [])
    page.close()
    assert errors == []


def pdf_text(page: Page, link: Locator, tmp: Path) -> str:
    """Download a document through its link on the page and return its text."""
    expect(link).to_be_visible()
    with page.expect_download() as dl:
        link.click()
    target = tmp / dl.value.suggested_filename
    dl.value.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    out = subprocess.run(["pdftotext", "-layout", str(target), "-"], capture_output=True, check=True, timeout=30)
    return out.stdout.decode()


def issued(page: Page, kind: str) -> Locator:
    """The download link of a document the last outcome issued."""
    return page.locator(f"#case-dialog .issued li[data-kind='{kind}'] button.doc-download")


def case_view(page: Page) -> Locator:
    return page.locator("#case-dialog .case-view")


def choose(page: Page, outcome: str) -> Locator:
    """Click an outcome button of the open case; its form."""
    page.click(f"#case-dialog button[data-outcome='{outcome}']")
    form = page.locator(f"#case-dialog form[data-form='{outcome}']")
    expect(form).to_be_visible()
    return form


def open_by_number(page: Page, number: str) -> None:
    page.fill("#case-number", number)
    page.press("#case-number", "Enter")
    expect(case_view(page)).to_have_attribute("data-number", number)


def working_day_ahead(days: int) -> date:
    """A Monday–Thursday about `days` ahead (the test hall counts Monday–Friday as working days)."""
    d = date.today() + timedelta(days=days)
    while d.weekday() > 3:
        d += timedelta(days=1)
    return d


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"console-cases-{name}.png"))


def close_popups(page: Page) -> None:
    """Close the tabs the documents opened in (blob: PDFs)."""
    for p in page.context.pages:
        if p is not page:
            p.close()


def test_a_called_citizens_case_gets_a_one_time_notice(api: Api, browser: Browser, tmp_path: Path) -> None:
    files = [
        ("file.application", ("form.pdf", pdf(), "application/pdf")),
        ("file.id_card", ("id.png", png(), "image/png")),
    ]
    r = post_case(api, submission(), files)  # as the kiosk sends it
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    other = api.take("A", id_number=make_id_number("371002", serial=55))  # someone else first: no cases
    ticket = api.take("A", id_number=ID_NUMBER)
    page = desk(browser, api)
    try:
        panel = page.locator("#panel-cases")
        page.keyboard.press("F1")
        expect(page.locator("#current .cur-number")).to_have_text(other["number"])
        expect(panel.locator(".ticket-cases")).to_contain_text("没有办件")
        page.keyboard.press("F9")  # complete, call the next: the citizen with the submitted case
        expect(page.locator("#current .cur-number")).to_have_text(ticket["number"])
        line = panel.locator(f"li.case-line[data-number='{number}']")
        expect(line).to_contain_text("个体工商户设立登记")
        expect(line).to_contain_text("待受理")
        shot(page, "panel")
        page.keyboard.press("Alt+O")  # opens the newest case listed
        view = case_view(page)
        expect(view).to_have_attribute("data-status", "submitted")
        expect(view.locator("tr[data-material='application'] button.file-open")).to_have_count(1)
        expect(view.locator("tr[data-material='premises']")).to_contain_text("未上传")
        expect(view.locator(".case-person")).to_contain_text("张*三")  # masked until asked
        expect(view.locator(".case-person")).not_to_contain_text(ID_NUMBER)
        expect(page.locator("#case-dialog button[data-outcome]")).to_have_count(6)  # submitted: 5 outcomes + withdraw
        page.keyboard.press("F1")  # the console's keys sleep while the case is open
        page.wait_for_timeout(300)
        assert api.http.get(f"/api/v1/tickets/{ticket['id']}", headers=api.auth("clerk1")).json()["status"] == "called"

        form = choose(page, "notify_missing")
        form.locator("[data-material='id_card'] input.f-tick").check()
        form.locator("[data-material='id_card'] input.f-problem").fill("身份证复印件不清晰")
        form.locator("[data-material='id_card'] input.f-req").fill("提交清晰的身份证正反面复印件")
        form.locator("[data-material='application'] input.f-tick").check()
        form.locator("[data-material='application'] input.f-tick").uncheck()  # changed the clerk's mind
        form.locator("[data-material='premises'] input.f-tick").check()  # not uploaded: "未提交" prefilled
        expect(form.locator("[data-material='premises'] input.f-problem")).to_have_value("未提交")  # printed: Chinese
        form.locator("[data-material='premises'] input.f-req").fill("提交房屋租赁合同复印件")
        shot(page, "notice")
        with page.context.expect_page():  # the notice opens in a new tab for printing
            form.locator("button[data-submit]").click()
        expect(view).to_have_attribute("data-status", "needs_more")
        expect(page.locator("#case-dialog .cd-title .case-status")).to_contain_text("需补正")
        text = pdf_text(page, issued(page, "one_time_notice"), tmp_path)
        assert "一次性告知书" in text
        assert "经营者身份证件" in text and "身份证复印件不清晰" in text
        assert "经营场所使用证明" in text and "未提交" in text and "房屋租赁合同" in text
        assert "Not provided" not in text  # the quick pick's English labels the pick only
        assert "个体工商户登记（备案）申请书" not in text
        close_popups(page)
        shot(page, "result")
        page.keyboard.press("Escape")
        expect(page.locator("#case-dialog")).not_to_be_visible()
        expect(panel.locator(f"li.case-line[data-number='{number}']")).to_have_attribute("data-status", "needs_more")
        case = api.http.get(f"/api/v1/cases/{number}", headers=api.auth("clerk1")).json()
        assert case["status"] == "needs_more" and [d["kind"] for d in case["documents"]] == ["one_time_notice"]
    finally:
        done(page)


def test_accept_issues_the_receipt_and_show_in_full_is_audited(api: Api, browser: Browser, tmp_path: Path) -> None:
    number = new_case(api)["number"]
    page = desk(browser, api)
    try:
        open_by_number(page, number)
        form = choose(page, "accept")
        form.locator("input.f-note").fill("原件已核验")
        page.click("#case-dialog .reveal-case")
        expect(page.locator("#case-dialog .case-person")).to_contain_text(ID_NUMBER)
        expect(page.locator("#case-dialog .form-answers")).to_contain_text("小三日用百货店")
        expect(form.locator("input.f-note")).to_have_value("原件已核验")  # what was typed survives the reveal
        with page.context.expect_page():
            form.locator("button[data-submit]").click()
        expect(case_view(page)).to_have_attribute("data-status", "accepted")
        text = pdf_text(page, issued(page, "acceptance_receipt"), tmp_path)
        assert "受理凭证" in text and number in text and "1 号窗口" in text
        history = api.http.get(f"/api/v1/cases/{number}", headers=api.auth("clerk1")).json()["history"]
        assert history[-1]["note"] == "原件已核验"
        expect(page.locator("#case-dialog .docs li[data-kind='acceptance_receipt']")).to_have_count(2)  # issued + list
        assert page.locator("#case-dialog button[data-outcome='accept']").count() == 0  # no longer allowed
        with api.server.ctx.db.read() as s:
            rows = s.execute(select(AuditLog).where(col(AuditLog.subject) == f"case:{number}")).scalars().all()
        assert [(a.actor, a.action) for a in rows] == [("clerk1", "reveal")]
        close_popups(page)
    finally:
        done(page)


def test_a_counter_case_accepted_with_materials_to_follow(api: Api, browser: Browser, tmp_path: Path) -> None:
    ticket = api.take("A", id_number=ID_NUMBER)
    scan = tmp_path / "application.pdf"
    scan.write_bytes(pdf())
    idcard = tmp_path / "id.png"
    idcard.write_bytes(png())
    page = desk(browser, api)
    try:
        page.keyboard.press("F1")
        expect(page.locator("#current .cur-number")).to_have_text(ticket["number"])
        page.click("#case-number")
        page.keyboard.press("Alt+N")  # a shortcut typed into a field is the clerk's typing
        page.wait_for_timeout(200)
        expect(page.locator("#case-dialog")).to_have_count(0)
        page.locator("#case-number").blur()
        page.keyboard.press("Alt+N")
        expect(page.locator("#new-case-form")).to_be_visible()
        page.select_option("#new-item", "SCZT-GTH-001")
        expect(page.locator("#new-situation")).to_be_enabled()
        page.select_option("#new-situation", "self")
        expect(page.locator(".new-mat")).to_have_count(3)
        page.click("#case-dialog button.take-id")  # the ID from the ticket (an audited look)
        expect(page.locator("#new-id")).to_have_value(ID_NUMBER)
        page.fill("#new-name", "李四")
        page.fill("#new-phone", "13912345678")
        page.set_input_files(".new-mat[data-material='application'] input[type=file]", str(scan))
        page.set_input_files(".new-mat[data-material='id_card'] input[type=file]", str(idcard))
        shot(page, "new")
        page.click("#new-case-form button[type=submit]")
        view = case_view(page)
        expect(view).to_have_attribute("data-status", "submitted")
        expect(page.locator("#case-dialog .case-meta")).to_contain_text("窗口")
        number = str(view.get_attribute("data-number"))
        expect(view.locator("tr[data-material='application'] button.file-open")).to_have_count(1)
        with page.context.expect_page() as scan_tab:  # an uploaded material opens in a new tab
            view.locator("tr[data-material='id_card'] button.file-open").click()
        assert scan_tab.value.url.startswith("blob:")
        close_popups(page)

        form = choose(page, "accept_shortfall")
        expect(form.locator(".prob-row")).to_have_count(1)  # only premises may follow later
        form.locator("[data-material='premises'] input.f-tick").check()
        due = working_day_ahead(8)
        form.locator("input.f-date").fill(due.isoformat())
        with page.context.expect_page():
            form.locator("button[data-submit]").click()
        expect(view).to_have_attribute("data-status", "accepted_pending_supplement")
        expect(page.locator("#case-dialog .case-meta")).to_contain_text(due.isoformat())
        text = pdf_text(page, issued(page, "conditional_acceptance_notice"), tmp_path)
        assert "容缺受理通知书" in text and "经营场所使用证明" in text
        assert f"{due.year}年{due.month}月{due.day}日" in text or due.isoformat() in text
        close_popups(page)
        case = api.http.get(f"/api/v1/cases/{number}", headers=api.auth("clerk1")).json()
        assert case["channel"] == "counter" and case["ticket_id"] == ticket["id"]
        assert case["supplement_deadline"] == due.isoformat()

        view.locator("select.up-material").select_option("premises")  # the material follows: upload, then 补齐
        view.locator("input.up-file").set_input_files(str(scan))
        view.locator(".uploader button").click()
        expect(view.locator("tr[data-material='premises'] button.file-open")).to_have_count(1)
        form = choose(page, "supplement")
        with page.context.expect_page():
            form.locator("button[data-submit]").click()
        expect(view).to_have_attribute("data-status", "accepted")
        expect(issued(page, "acceptance_receipt")).to_be_visible()
        close_popups(page)
        page.keyboard.press("Escape")
        line = page.locator(f"#panel-cases li.case-line[data-number='{number}']")
        expect(line).to_have_attribute("data-status", "accepted")
    finally:
        done(page)


def test_accept_on_commitment_after_printing_the_letter(api: Api, browser: Browser, tmp_path: Path) -> None:
    number = new_case(api)["number"]
    page = desk(browser, api)
    try:
        open_by_number(page, number)
        form = choose(page, "accept_commitment")
        expect(form.locator("input.f-signed")).to_be_disabled()  # print first
        form.locator("[data-material='premises'] input.f-tick").check()
        with page.context.expect_page() as letter:
            form.locator("button.print-letter").click()
        assert letter.value.url.startswith("blob:")
        close_popups(page)
        form.locator("input.f-days").fill("20")  # another letter than the one printed: print again
        form.locator("input.f-days").blur()
        expect(form.locator("input.f-signed")).to_be_disabled()
        with page.context.expect_page():
            form.locator("button.print-letter").click()
        close_popups(page)
        form.locator("input.f-signed").check()
        shot(page, "commitment")
        with page.context.expect_page():
            form.locator("button[data-submit]").click()
        expect(case_view(page)).to_have_attribute("data-status", "accepted_on_commitment")
        text = pdf_text(page, issued(page, "commitment_letter"), tmp_path)
        assert "告知承诺书" in text and "经营场所使用证明" in text
        expect(issued(page, "acceptance_receipt")).to_be_visible()
        close_popups(page)
    finally:
        done(page)


def test_the_open_case_follows_a_change_made_elsewhere(api: Api, browser: Browser) -> None:
    number = new_case(api)["number"]
    page = desk(browser, api)
    try:
        open_by_number(page, number)
        expect(page.locator("#case-dialog button[data-outcome='accept']")).to_be_visible()
        assert act(api, number, "accept").status_code == 200  # a colleague accepted it meanwhile
        expect(case_view(page)).to_have_attribute("data-status", "accepted", timeout=8000)
        expect(page.locator("#case-dialog button[data-outcome='accept']")).to_have_count(0)
    finally:
        done(page)


def test_the_item_picker_filters_by_the_tickets_domain_and_searches(api: Api, browser: Browser) -> None:
    ticket = api.take("B")  # 投资建设
    page = desk(browser, api)
    try:
        page.keyboard.press("F1")
        expect(page.locator("#current .cur-number")).to_have_text(ticket["number"])
        page.keyboard.press("Alt+N")
        expect(page.locator("#new-case-form")).to_be_visible()
        items = page.locator("#new-item option")
        expect(page.locator("#new-item-domain")).to_have_value("投资建设")  # the called ticket's domain
        expect(items).to_have_count(2)
        expect(page.locator("#new-item")).to_contain_text("建设工程施工许可证核发")
        expect(page.locator("#new-item-q")).to_be_focused()
        page.keyboard.type("ghxk")  # pinyin initials of 规划许可
        expect(items).to_have_count(1)
        expect(page.locator("#new-item")).to_have_value("TZJS-GHXK-002")  # the one match is chosen
        expect(page.locator("#new-situation")).to_be_enabled()
        page.select_option("#new-item-domain", "")  # all domains
        page.fill("#new-item-q", "gtgsh")  # 个体工商户
        expect(items).to_have_count(1)
        expect(page.locator("#new-item")).to_have_value("SCZT-GTH-001")
        page.fill("#new-item-q", "sbyb-yd")  # the item code
        expect(page.locator("#new-item")).to_have_value("SBYB-YD-002")
        page.fill("#new-item-q", "驾驶证")
        expect(items).to_have_count(1)
        page.fill("#new-item-q", "开店")  # a keyword of 个体工商户设立登记
        expect(page.locator("#new-item")).to_have_value("SCZT-GTH-001")
        page.fill("#new-item-q", "许可")
        expect(page.locator("#new-item option").first).to_be_attached()
        assert items.count() > 2
        page.keyboard.press("Enter")  # picks the first match and never submits the form
        expect(page.locator("#new-item")).not_to_have_value("")
        expect(page.locator("#new-case-form")).to_be_visible()
        shot(page, "item-picker")
        page.fill("#new-item-q", "zzzz")
        expect(items).to_have_count(0)
        expect(page.locator(".ip-count")).to_contain_text("没有符合的事项")
        expect(page.locator("#new-situation")).to_be_disabled()
    finally:
        done(page)


def test_a_web_submissions_history_names_its_channel(api: Api, browser: Browser) -> None:
    r = post_case(api, submission(), who=None)  # a citizen on the web, without a login
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    page = desk(browser, api)
    try:
        open_by_number(page, number)
        entry = case_view(page).locator("ol.history li").first
        expect(entry.locator(".h-who")).to_have_text("申请人")
        expect(entry.locator(".h-channel")).to_have_text("网上Web")  # 网上 and, in small type, Web
        expect(entry).not_to_contain_text("自助终端")
        expect(entry).not_to_contain_text("channel=")
        expect(case_view(page)).to_contain_text("网上")
        shot(page, "web-history")
        page.goto(f"{api.server.url}/console/cases?case={number}")  # the back office: same labels
        expect(page.locator("#case")).to_have_attribute("data-number", number)
        submitted = page.locator("#case .bo-timeline li[data-action='submit']")
        expect(submitted.locator(".bo-who")).to_contain_text("申请人")
        expect(submitted.locator(".bo-channel")).to_contain_text("网上")
        expect(submitted).not_to_contain_text("自助终端")
        expect(submitted).not_to_contain_text("channel=")
    finally:
        done(page)


def test_reject_with_a_reason(api: Api, browser: Browser, tmp_path: Path) -> None:
    number = new_case(api)["number"]
    page = desk(browser, api)
    try:
        open_by_number(page, number)
        form = choose(page, "reject")
        form.locator("button[data-submit]").click()  # the reason is required
        expect(page.locator("#case-dialog .cd-say")).to_contain_text("理由")
        form.locator("textarea.f-reason").fill("申请事项不属于本机关职权范围")
        form.locator("input.f-basis").fill("《中华人民共和国行政许可法》第三十二条")
        with page.context.expect_page():
            form.locator("button[data-submit]").click()
        expect(case_view(page)).to_have_attribute("data-status", "rejected")
        text = pdf_text(page, issued(page, "non_acceptance_notice"), tmp_path)
        assert "不予受理" in text and "申请事项不属于本机关职权范围" in text
        close_popups(page)
    finally:
        done(page)


def test_hand_over_two_accepted_cases(api: Api, browser: Browser, tmp_path: Path) -> None:
    numbers = [new_case(api)["number"] for _ in range(2)]
    later = new_case(api)["number"]  # submitted only: not in the batch
    for n in numbers:
        assert act(api, n, "accept").status_code == 200
    page = desk(browser, api)
    try:
        page.keyboard.press("Alt+H")
        rows = page.locator("#case-dialog .ho-table tbody tr")
        expect(rows).to_have_count(2)
        expect(page.locator(f"#case-dialog tr[data-number='{later}']")).to_have_count(0)
        for n in numbers:
            page.locator(f"#case-dialog tr[data-number='{n}'] input.ho-tick").check()
        shot(page, "handover-pick")
        with page.context.expect_page():
            page.click("#ho-create")
        expect(page.locator("#case-dialog .cd-say")).to_contain_text("已生成移交清单")
        expect(page.locator("#case-dialog .ho-table")).to_have_count(0)  # nothing left to hand over
        listed = page.locator("#case-dialog .ho-lists tbody tr")
        expect(listed).to_have_count(1)
        expect(listed).to_contain_text("未签收")
        text = pdf_text(page, listed.locator("button.doc-download"), tmp_path)
        assert "移交清单" in text and all(n in text for n in numbers) and later not in text
        close_popups(page)
        shot(page, "handover")
        lists = api.http.get("/api/v1/halls/t1/handovers", headers=api.auth("clerk1")).json()
        assert sorted(lists[0]["cases"]) == sorted(numbers)
    finally:
        done(page)


def test_another_halls_clerk_is_refused_and_names_render_as_text(api: Api, browser: Browser) -> None:
    number = new_case(api, applicant={"name": "<script>alert(1)</script>", "id_number": ID_NUMBER})["number"]
    alerts: list[str] = []
    page = desk(browser, api, user="clerk-t2", window=1)
    try:
        page.fill("#case-number", number)
        page.press("#case-number", "Enter")
        expect(page.locator("#flash")).to_contain_text("其他大厅")
        assert api.http.get(f"/api/v1/cases/{number}", headers=api.auth("clerk-t2")).status_code == 403
        expect(page.locator("#case-dialog")).not_to_be_visible()
    finally:
        done(page)
    page = desk(browser, api)

    def on_dialog(d: Dialog) -> None:
        alerts.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    try:
        open_by_number(page, number)
        page.click("#case-dialog .reveal-case")
        person = page.locator("#case-dialog .case-person")
        expect(person).to_contain_text("<script>alert(1)</script>")
        assert page.locator("#case-dialog script").count() == 0
        assert alerts == []
    finally:
        done(page)
