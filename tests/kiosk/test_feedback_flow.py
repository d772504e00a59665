"""The kiosk's complaint tile as a pure flow: categories, preset lines, note, phone, review, one request per tap."""

from __future__ import annotations

from itertools import count

from kiosk.feedback.flow import DONE_S, IDLE_S, FeedbackFlow
from queue_server.feedback.catalogue import catalogue

CATS = catalogue()["complaint_categories"]


def started(lang: str = "zh") -> FeedbackFlow:
    keys = count(1)
    f = FeedbackFlow(new_key=lambda: f"k{next(keys)}")
    f.set_categories(CATS)  # type: ignore[arg-type]
    f.start(lang, 0.0)  # type: ignore[arg-type]
    return f


def test_every_server_category_has_preset_lines() -> None:
    f = started()
    assert [c.code for c in f.categories] == [c["code"] for c in CATS]  # type: ignore[index]
    for c in f.categories:
        f.start("zh", 0.0)
        f.choose_category(c.code, 0.0)
        assert f.screen == "fb_reasons" and f.phrases(), c.code


def test_phrases_and_note_make_the_content_staff_read_in_chinese() -> None:
    f = started("en")
    f.choose_category("service", 1.0)
    assert not f.reasons_next(1.0) and "5 characters" in f.message  # nothing said yet
    f.toggle_phrase(1, 2.0)
    f.toggle_phrase(0, 2.0)
    f.toggle_phrase(1, 2.0)  # a second tap takes it back
    f.toggle_phrase(9, 2.0)  # not a line: ignored
    f.set_note("  window 3  ", 3.0)
    assert f.content == "工作人员态度生硬；window 3"
    assert f.reasons_next(4.0) and f.screen == "fb_contact" and f.message == ""


def test_a_lone_short_line_asks_for_a_note() -> None:
    f = started()
    f.choose_category("other", 0.0)
    f.toggle_phrase(0, 0.0)  # 其他问题: four characters, the server wants five
    assert not f.reasons_next(0.0) and f.screen == "fb_reasons"
    f.set_note("空调太冷", 0.0)
    assert f.reasons_next(0.0)


def reviewed(phone: str | None) -> FeedbackFlow:
    f = started()
    f.choose_category("efficiency", 0.0)
    f.toggle_phrase(0, 0.0)
    f.reasons_next(0.0)
    if phone is None:
        f.anonymous(0.0)
    else:
        f.with_phone(0.0)
        for d in phone:
            f.phone_key(d, 0.0)
        f.phone_ok(0.0)
    return f


def test_anonymous_review_and_one_request_per_tap() -> None:
    f = reviewed(None)
    assert f.screen == "fb_review" and "匿名提交" in f.review_text and "等候时间太长" in f.review_text
    req = f.submit(1.0)
    assert req is not None
    assert (req.category, req.content, req.phone, req.key) == ("efficiency", "等候时间太长", "", "k1")
    assert f.submit(1.1) is None and f.screen == "fb_sending"  # the double tap
    f.retrying("k1")
    assert "retrying" in f.message or "重试" in f.message
    assert not f.done("other-key", {"code": "TSX"}, 2.0)  # a stale answer
    assert f.done("k1", {"code": "TSABCD2345", "status": "submitted", "query_code": "K7Q2MX"}, 2.0)
    assert f.screen == "fb_done" and (f.code, f.query_code) == ("TSABCD2345", "K7Q2MX")
    f.printed(True)
    assert f.print_state == "printed"
    assert f.seconds_left(2.0) == DONE_S and f.tick(2.0 + DONE_S) and f.screen == "" and f.code == ""


def test_phone_keypad_checks_the_number_and_review_masks_it() -> None:
    f = started()
    f.choose_category("service", 0.0)
    f.toggle_phrase(0, 0.0)
    f.reasons_next(0.0)
    f.with_phone(0.0)
    for d in "1281234567x":
        f.phone_key(d, 0.0)
    assert not f.phone_ok(0.0) and "11" in f.message
    for _ in range(10):
        f.phone_backspace(0.0)
    for d in "139123456789":  # a twelfth digit is ignored
        f.phone_key(d, 0.0)
    assert f.phone_shown == "139 **** 5678" and f.phone_ok(0.0) and f.screen == "fb_review"
    assert "139****5678" in f.review_text and "13912345678" not in f.review_text
    f.back(0.0)
    assert f.screen == "fb_phone"
    f.back(0.0)
    f.anonymous(0.0)  # changed their mind: the number is forgotten
    assert f.phone == "" and f.submit(0.0) is not None and f.request is not None and f.request.phone == ""


def test_refused_and_unreachable_go_to_the_error_screen_and_back_to_review() -> None:
    f = reviewed("13912345678")
    req = f.submit(0.0)
    assert req is not None and req.phone == "13912345678"
    f.refused(req.key, "请写下具体情况", 0.0)
    assert f.screen == "fb_error" and f.message == "请写下具体情况" and f.request is None
    f.back(0.0)
    assert f.screen == "fb_review"
    again = f.submit(0.0)
    assert again is not None and again.key != req.key  # a new tap, a new key
    f.unreachable(again.key, 0.0)
    assert f.screen == "fb_error" and "未能提交" in f.message


def test_idle_timeout_and_home_forget_everything() -> None:
    f = reviewed("13912345678")
    assert f.seconds_left(0.0) == IDLE_S and not f.tick(IDLE_S - 1)
    assert f.tick(IDLE_S + 0.1)
    assert (f.screen, f.phone, f.note, f.chosen, f.category) == ("", "", "", [], None)
    g = reviewed(None)
    req = g.submit(0.0)
    assert req is not None and g.seconds_left(1000.0) is None  # never times out while sending
    g.home()
    assert not g.done(req.key, {"code": "TSX"}, 1.0) and g.screen == ""
