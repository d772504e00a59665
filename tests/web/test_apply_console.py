"""网上预审 at the front desk's console in headless Chromium, on both databases: the 网上预审 list (masked), a web
case opened, returned with a tick per material and field and free text, passed after the citizen's fix, and
accepted at the window only with the bound ID card (another card is refused with the reason). Screenshots
console-prereview-*.png go to tests/harness.py shots_dir().
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from queue_server.cases.prereview import make_proof
from queue_server.ids import make_id_number
from queue_server.timeutil import utcnow

from ..cases.helpers import ID_NUMBER, NAME, jpeg, pdf, served
from ..harness import Api, LiveServer
from .test_console_cases import SHOTS, case_view, choose, desk, done

PHONE = "13912345611"


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server on the backend with the test halls."""
    yield from served(backend, tmp_path_factory, "apply_console", heartbeat_s=1.0)


@pytest.fixture
def api(server: LiveServer) -> Iterator[Api]:
    server.reset()
    client = Api(server)
    yield client
    client.close()


def web_case(api: Api, **form: str) -> dict[str, str]:
    """A web submission with a phone's proof (the code itself: tests/cases/test_prereview.py)."""
    proof = make_proof(api.server.ctx.cipher, hall="t1", phone=PHONE, now=utcnow())
    data = {
        "submission_id": str(uuid.uuid4()),
        "item": "SCZT-GTH-001",
        "situation": "self",
        "applicant": {"name": NAME, "id_number": ID_NUMBER},
        "form": form,
    }
    r = api.http.post(
        "/api/v1/halls/t1/cases",
        data={"data": json.dumps(data)},
        files=[
            ("file.application", ("form.pdf", pdf(), "application/pdf")),
            ("file.id_card", ("id.jpg", jpeg(), "image/jpeg")),
        ],
        headers={"X-Phone-Proof": proof},
    )
    assert r.status_code == 201, r.text
    return {"number": r.json()["number"], "code": r.json()["query_token"]}


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"console-prereview-{name}.png"))


def test_pre_review_return_pass_and_the_card_at_the_window(api: Api, browser: Browser) -> None:
    case = web_case(api, business_name="小三", scope="日用百货零售")
    older = web_case(api, business_name="老王五金店", scope="五金零售")
    number = case["number"]
    page = desk(browser, api)
    try:
        page.keyboard.press("Alt+W")
        listed = page.locator("#case-dialog .prereview-list")
        expect(listed).to_have_attribute("data-count", "2")
        row = listed.locator(f"tr[data-number='{number}']")
        expect(row).to_contain_text("个体工商户设立登记")
        expect(row).to_contain_text("139****5611")
        text = listed.inner_text()
        assert NAME not in text and ID_NUMBER not in text and PHONE not in text  # masked in the list
        shot(page, "list")
        row.locator("button.link").click()
        view = case_view(page)
        expect(view).to_have_attribute("data-status", "prereview")
        expect(page.locator("#case-dialog button[data-outcome]")).to_have_count(3)  # pass, return, withdraw
        form = choose(page, "prereview_return")
        form.locator("[data-kind='material'][data-code='id_card'] input.f-tick").check()
        form.locator("[data-kind='material'][data-code='id_card'] input.f-problem").fill("身份证照片不清晰，请重拍")
        form.locator("[data-kind='field'][data-code='business_name'] input.f-tick").check()
        form.locator("[data-kind='field'][data-code='business_name'] input.f-problem").fill("名称须含组织形式")
        form.locator("textarea.f-reason").fill("经营场所证明可到窗口签告知承诺书")
        shot(page, "return")
        form.locator("button[data-submit]").click()
        expect(view).to_have_attribute("data-status", "prereview_returned")
        notice = page.locator("#case-dialog .prereview-sec")
        expect(notice).to_contain_text("身份证照片不清晰")
        expect(notice).to_contain_text("经营场所证明可到窗口签告知承诺书")
        mine = api.http.get(f"/api/v1/web-cases/{number}", headers={"X-Case-Proof": case["code"]}).json()
        assert [f["code"] for f in mine["notice"]["fixes"]] == ["id_card", "business_name"]

        # the citizen fixes it (the page's part: tests/web/test_apply_page.py)
        fixed = api.http.post(
            f"/api/v1/web-cases/{number}/resubmit",
            data={"data": json.dumps({"form": {"business_name": "小三日用百货店", "scope": "日用百货零售"}})},
            files=[("file.id_card", ("id2.jpg", jpeg((90, 60)), "image/jpeg"))],
            headers={"X-Case-Proof": case["code"]},
        )
        assert fixed.status_code == 200, fixed.text
        page.keyboard.press("Escape")
        page.keyboard.press("Alt+W")
        expect(listed).to_have_attribute("data-count", "2")
        listed.locator(f"tr[data-number='{number}'] button.link").click()
        expect(view.locator("tr[data-material='id_card'] button.file-open")).to_have_count(2)
        choose(page, "prereview_pass").locator("button[data-submit]").click()
        expect(view).to_have_attribute("data-status", "prereview_passed")

        # the applicant comes to the window: the card must be the bound one
        card = page.locator("#case-card")
        expect(card).to_be_visible()
        card.fill(make_id_number("371002", serial=419))
        choose(page, "accept").locator("button[data-submit]").click()
        expect(page.locator("#case-dialog .cd-say")).to_contain_text("不一致")
        expect(view).to_have_attribute("data-status", "prereview_passed")
        shot(page, "card-mismatch")
        page.fill("#case-card", ID_NUMBER)
        with page.context.expect_page():  # the acceptance receipt opens for printing
            page.locator("#case-dialog form[data-form='accept'] button[data-submit]").click()
        expect(view).to_have_attribute("data-status", "accepted")
        assert older["number"] != number
    finally:
        done(page)
