"""The self-submission and query/pickup flows, without Kivy: steps, rules, idle reset, and random tap sequences."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.submission.flow import MAX_FILES, SubmissionFlow
from kiosk.submission.query import QueryFlow

ITEM: dict[str, Any] = {
    "code": "SCZT-GTH-001",
    "version": 3,
    "name": "个体工商户设立登记",
    "name_en": "Sole proprietorship registration",
    "time_limit_days": 1,
    "fees": "不收费",
    "fees_en": "Free",
    "situations": [
        {
            "code": "self",
            "name": "本人申请",
            "name_en": "In person",
            "materials": [
                {"code": "application", "name": "申请书", "name_en": "Application", "sample": "经营者姓名：张三"},
                {"code": "id_card", "name": "身份证件", "name_en": "ID"},
                {
                    "code": "premises",
                    "name": "场所证明",
                    "name_en": "Premises",
                    "shortfall_allowed": True,
                    "commitment_allowed": True,
                },
                {"code": "photo", "name": "照片", "name_en": "Photo", "required": False},
            ],
        },
        {
            "code": "agent",
            "name": "代理人",
            "name_en": "Agent",
            "materials": [{"code": "a", "name": "委托书", "name_en": "PoA"}],
        },
    ],
}
LINE = {
    "code": "SCZT-GTH-001",
    "name": "个体工商户设立登记",
    "name_en": "x",
    "domain": "市场准入",
    "time_limit_days": 1,
}
ID_NUMBER = "371002199001011234"


def _to_capture(f: SubmissionFlow, now: float = 1.0) -> None:
    f.start(now)
    f.set_domains([{"domain": "市场准入", "domain_en": "Market access", "items": 1}])
    assert f.choose_domain("市场准入", now)
    f.set_items([LINE])
    assert f.choose_item("SCZT-GTH-001", now)
    f.set_item(ITEM)
    assert f.screen == "sub_situation"  # two situations: the citizen chooses
    f.choose_situation("self", now)
    assert f.screen == "sub_template"
    f.begin(now)
    assert f.screen == "sub_card"
    f.card_read("张小三", ID_NUMBER, now)
    assert f.screen == "sub_phone"


def test_the_whole_way_to_a_submission() -> None:
    f = SubmissionFlow(new_id=lambda: "11111111-2222-3333-4444-555555555555")
    _to_capture(f)
    for d in "1381234567":
        f.phone_key(d, 2)
    assert not f.phone_ok(2) and f.message  # ten digits: a plain sentence
    f.phone_key("8", 2)
    assert f.phone_ok(2) and f.screen == "sub_capture" and f.material is not None
    assert f.material.tags("zh") == ["必交"]
    assert not f.next_material(3) and "必交" in f.message  # required: no page, no way on
    assert f.begin_capture(3) and not f.begin_capture(3)  # one capture at a time
    f.captured("image/jpeg", b"\xff\xd8\xffpage1", 4)
    assert f.next_material(4)
    f.toggle_later(4)  # id_card may not follow later
    assert f.material is not None and f.material.code == "id_card" and not f.later
    assert f.begin_capture(5)
    f.capture_failed(True, 5)
    assert "没有检测到材料" in f.message
    assert f.begin_capture(5)
    f.captured("image/png", b"\x89PNGp2", 5)
    assert f.next_material(5)
    assert f.material is not None and f.material.tags("en") == ["Required", "May follow later", "Commitment accepted"]
    f.toggle_later(6)
    assert f.next_material(6) and f.material is not None and f.material.code == "photo"
    assert f.next_material(6) and f.screen == "sub_review"  # optional: may be empty
    assert "张*三" in f.applicant_masked() and ID_NUMBER not in f.applicant_masked()
    assert f.phone_masked() == "138****5678"
    sub = f.submit(7)
    assert sub is not None and f.submit(7) is None  # a double tap sends once
    assert sub.data() == {
        "submission_id": "11111111-2222-3333-4444-555555555555",
        "item": "SCZT-GTH-001",
        "item_version": 3,
        "situation": "self",
        "applicant": {
            "name": "张小三",
            "id_number": ID_NUMBER,
            "phone": "13812345678",
            "id_type": "resident",
            "nationality": None,
        },
        "form": {"bring_later": "premises"},
        "ticket_id": None,
        "lang": "zh",  # the kiosk's language: the case's messages and receipt (issue 22)
    }
    assert [p.material for p in sub.pages] == ["application", "id_card"]
    assert sub.reference == "K-11111111"
    assert not f.submitted("other-id", {"number": "X"}, 8)  # nobody waits for that answer
    assert f.submitted(sub.submission_id, {"number": "T1202611270001", "query_token": "ab12cd34"}, 8)
    assert f.screen == "sub_result" and f.case_number == "T1202611270001" and f.print_state == "printing"
    assert not f.id_number and not f.pages  # handed over: forgotten
    f.printed(False)
    assert f.print_state == "failed"


def test_offline_the_citizen_gets_the_reference_and_everything_is_forgotten() -> None:
    f = SubmissionFlow()
    _to_capture(f)
    f.phone_skip(2)
    for _ in range(3):
        if f.material is not None and f.material.may_follow:
            f.toggle_later(3)
        else:
            f.begin_capture(3)
            f.captured("image/jpeg", b"\xff\xd8\xffx", 3)
        f.next_material(3)
    f.next_material(3)
    sub = f.submit(4)
    assert sub is not None and sub.phone is None
    assert f.queued(sub.submission_id, 5)
    assert f.screen == "sub_queued" and f.reference == sub.reference
    assert "网络恢复后自动提交" in f.text("queued_title")
    assert not f.name and not f.id_number and not f.pages
    assert f.tick(5 + 44) is False and f.tick(5 + 46) is True  # the result screen's own timeout
    assert f.screen is None and not f.reference


def test_idle_timeout_forgets_everything_personal_at_any_step() -> None:
    f = SubmissionFlow()
    _to_capture(f)
    f.phone_skip(2)
    f.begin_capture(2)
    f.captured("image/jpeg", b"\xff\xd8\xffx", 2)
    assert f.seconds_left(2) == 180
    assert f.tick(2 + 181)
    assert (f.screen, f.name, f.id_number, f.pages, f.item) == (None, "", "", {}, None)


def test_elder_mode_is_slower_and_sending_never_times_out() -> None:
    f = SubmissionFlow()
    f.start(0, elder=True)
    assert f.seconds_left(0) == 180
    _to_capture(f)
    f.phone_skip(1)
    while f.screen == "sub_capture":
        if f.material and f.material.may_follow:
            f.toggle_later(1)
        elif f.begin_capture(1):
            f.captured("image/png", b"p", 1)
        f.next_material(1)
    assert f.submit(1) is not None and f.timeout_s() is None
    f.home()
    assert f.screen == "sub_sending"  # the answer is on its way: it must be shown


def test_a_refusal_lets_the_citizen_go_back_with_the_pages() -> None:
    f = SubmissionFlow()
    _to_capture(f)
    f.phone_skip(1)
    while f.screen == "sub_capture":
        f.begin_capture(1)
        f.captured("image/jpeg", b"\xff\xd8\xffx", 1)
        f.next_material(1)
    sub = f.submit(2)
    assert sub is not None and f.refused(sub.submission_id, "上传的文件不是图片 / not an image", 2)
    assert f.screen == "sub_error" and "not an image" in f.message
    assert f.back(3) and f.screen == "sub_capture" and f.page_count == 4
    f.next_material(3)
    again = f.submit(3)
    assert again is not None and again.submission_id != sub.submission_id


def test_search_and_a_single_situation_item() -> None:
    f = SubmissionFlow()
    f.start(0)
    assert not f.search("   ", 0)
    assert f.search("营业执照", 0) and f.screen == "sub_items" and f.items is None
    f.set_items([])
    assert f.message == "没有找到相关事项，请换个词试试"
    f.set_items([LINE])
    assert f.choose_item("SCZT-GTH-001", 1) and not f.choose_item("NOPE", 1)
    one = dict(ITEM, situations=ITEM["situations"][:1])
    f.set_item(one)
    assert f.screen == "sub_template" and f.situation is not None  # the only situation is taken
    assert f.back(2) and f.screen == "sub_items" and f.item is None
    assert f.back(2) and f.screen == "sub_domains"
    assert not f.back(2) and f.screen is None


def test_page_limit() -> None:
    f = SubmissionFlow()
    _to_capture(f)
    f.phone_skip(1)
    for _ in range(MAX_FILES):
        assert f.begin_capture(1)
        f.captured("image/jpeg", b"\xff\xd8\xffx", 1)
    assert not f.begin_capture(1) and str(MAX_FILES) in f.message


ACTIONS = st.sampled_from(
    ["capture", "fail", "remove", "later", "next", "back", "submit", "phone", "skip", "card", "begin", "tick"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(ACTIONS, max_size=60))
def test_random_taps_never_submit_an_incomplete_application(actions: list[str]) -> None:
    f = SubmissionFlow()
    _to_capture(f)
    now = 1.0
    for a in actions:
        now += 1
        if a == "capture" and f.begin_capture(now):
            f.captured("image/jpeg", b"\xff\xd8\xffx", now)
        elif a == "fail" and f.begin_capture(now):
            f.capture_failed(False, now)
        elif a == "remove":
            f.remove_page(now)
        elif a == "later":
            f.toggle_later(now)
        elif a == "next":
            f.next_material(now)
        elif a == "back":
            f.back(now)
        elif a == "phone":
            f.phone_key("1", now)
        elif a == "skip":
            f.phone_skip(now)
        elif a == "card":
            f.card_read("张三", ID_NUMBER, now)
        elif a == "begin":
            f.begin(now)
        elif a == "tick":
            now += 1000
            assert f.tick(now) or f.screen is None
            assert not f.id_number and not f.pages
            return
        else:
            sub = f.submit(now)
            if sub is not None:
                assert f.situation is not None
                for m in f.situation.materials:
                    has = any(p.material == m.code for p in sub.pages)
                    assert has or not m.required or m.code in f.later
                assert set(f.later) <= {m.code for m in f.situation.materials if m.may_follow}
                return
        assert not f.capturing


def test_query_by_number_and_by_card_and_pickup() -> None:
    q = QueryFlow()
    q.start_query(0, lang="en")
    for ch in "T1012611":  # case numbers are digits: a letter typed into the number is ignored
        q.key(ch, 1)
    assert q.number == "1012611"
    assert q.ask_number(1) is None and q.message  # no proof yet
    q.select("proof", 1)
    for ch in "ab12cd34":
        q.key(ch, 1)
    assert q.ask_number(2) == ("1012611", "AB12CD34")  # the query code: capitals only
    q.found([], 3)
    assert q.screen == "q_entry" and q.message.startswith("No case")
    assert q.card_read(ID_NUMBER, 4) == ID_NUMBER and q.screen == "q_loading"
    view = {"number": "T1202611270001", "item": {"name": "个体", "name_en": "Sole"}, "status": "accepted",
            "status_label": "已受理 / Accepted", "deadline": "2026-11-30", "light": "red"}  # fmt: skip
    q.found([view], 5)
    assert q.screen == "q_list" and "due soon" in q.cases[0].line("en") and "Sole" in q.cases[0].line("en")
    assert q.back(6) and q.screen == "q_entry"
    q.start_pickup(7)
    for d in "1234567":
        q.key(d, 7)
    assert q.ask_pickup(7) is None and q.message == "请输入完整的 8 位取件码"
    q.key("8", 8)
    q.key("9", 8)  # a ninth digit is ignored
    assert q.ask_pickup(8) == "12345678"
    q.failed("取件码不正确或已使用", 9)
    assert q.screen == "pk_entry" and q.code == ""
    for d in "12345678":
        q.key(d, 9)
    assert q.ask_pickup(9) == "12345678"
    q.picked_up("T1202611270001", 10)
    assert q.screen == "pk_done" and "T1202611270001" in q.message
    assert q.tick(10 + 61) and q.screen is None


def _to_card(f: SubmissionFlow, now: float = 1.0) -> None:
    f.start(now)
    f.set_domains([{"domain": "市场准入", "domain_en": "Market access", "items": 1}])
    f.choose_domain("市场准入", now)
    f.set_items([LINE])
    f.choose_item("SCZT-GTH-001", now)
    f.set_item(ITEM)
    f.choose_situation("agent", now)
    f.begin(now)
    assert f.screen == "sub_card"


def test_a_passport_from_the_scanner_is_the_applicant_of_the_submission() -> None:
    f = SubmissionFlow(new_id=lambda: "11111111-2222-3333-4444-555555555555")
    _to_card(f)
    f.card_read("KIM MINSU", "M12345678", 2, "passport", "KOR")
    f.phone_skip(2)
    assert f.begin_capture(3)
    f.captured("image/jpeg", b"\xff\xd8\xffpage", 3)
    assert f.next_material(3) and f.screen == "sub_review"
    f.lang = "ko"
    shown = f.applicant_masked()
    assert "K** M****" in shown and "*******78" in shown and "M12345678" not in shown  # masked as the server masks
    assert "证件类型：护照" in shown and "신분증 종류: 여권" in shown  # Chinese first, the kiosk's language under it
    sub = f.submit(4)
    assert sub is not None
    assert sub.data()["applicant"] == {
        "name": "KIM MINSU",
        "id_number": "M12345678",
        "phone": None,
        "id_type": "passport",
        "nationality": "KOR",
    }
    f.queued(sub.submission_id, 5)
    assert (f.id_type, f.nationality, f.id_number) == ("", "", "")  # forgotten after the hand-over


def test_a_foreigners_card_is_named_on_the_review() -> None:
    f = SubmissionFlow()
    _to_card(f)
    f.card_read("KIM MINSU", "937410198503151210", 2, "foreign_permanent")
    assert f.applicant_masked().endswith("证件类型：外国人永久居留身份证")
    f.lang = "en"
    assert f.applicant_masked().endswith("证件类型：外国人永久居留身份证\nDocument: Foreign permanent resident ID card")


CHAIN: dict[str, Any] = ITEM | {
    "code": "YL-CYD-001",
    "situations": [ITEM["situations"][1]],
    "members": [{"name": "个体工商户设立登记", "name_en": "Sole proprietorship"}],
    "fields": [
        {"code": "business_name", "label": "店名", "label_en": "Business name"},
        {"code": "address", "label": "经营场所", "label_en": "Address"},
        {"code": "area", "label": "面积", "label_en": "Area", "kind": "number"},
    ],
}


def test_a_chains_text_fields_are_typed_or_left_for_the_window() -> None:
    f = SubmissionFlow()
    f.start(1)
    f.domain, f.items, f.screen = "__chains__", [], "sub_items"
    f.set_items([LINE | {"code": "YL-CYD-001"}])
    assert f.choose_item("YL-CYD-001", 1)
    f.set_item(CHAIN)
    f.begin(1)
    f.card_read("张小三", ID_NUMBER, 1)
    f.phone_skip(1)
    assert f.screen == "sub_fields" and [x.code for x in f.kiosk_fields] == ["business_name", "address", "area"]
    f.field_typed("  Xiaosan   Kitchen ", 2)
    assert f.field_ok(2) and f.form_field is not None and f.form_field.code == "address"
    f.field_typed("somewhere", 2)
    assert f.field_later(2) and f.form_field is not None and f.form_field.code == "area"
    assert not f.field_later(2)  # a number field is typed, never left for later here
    f.field_key("8", 3)
    assert f.field_ok(3) and f.screen == "sub_capture"
    assert f.answers == {"business_name": "Xiaosan Kitchen", "area": "8"}  # the address: at the window
    assert f.back(4) and f.screen == "sub_fields" and f.form_field is not None and f.form_field.code == "area"


def test_items_and_domains_in_their_own_ko_ja_ru_names_else_chinese() -> None:
    from kiosk.submission.model import ItemDetail, ItemSummary

    names = {"zh": "异地就医备案", "en": "Registration", "ko": "타지역 진료 등록", "ja": "Registration"}
    names |= {"ru": "Регистрация"}
    line = ItemSummary.from_api(LINE | {"name": "异地就医备案", "name_en": "Registration", "names": names})
    # the server fills a language without a name with the English one: the kiosk shows Chinese there
    assert [line.label(x) for x in ("zh", "en", "ko", "ja", "ru")] == [
        "异地就医备案",
        "Registration",
        "타지역 진료 등록",
        "异地就医备案",
        "Регистрация",
    ]
    detail = ItemDetail.from_api(ITEM | {"names": {"ja": "事業登録"}})
    assert detail.label("ja") == "事業登録" and detail.label("ko") == ITEM["name"]
    f = SubmissionFlow()
    row = {"domain": "社保医保", "domain_en": "Social", "items": 3, "domain_names": {"ko": "사회보험", "ja": "Social"}}
    f.set_domains([row])
    assert f.domains == [("社保医保", "Social", 3, (("ko", "사회보험"),))]
