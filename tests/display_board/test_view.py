"""Pure view logic of the display board: no Kivy, no window."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from display_board import strings
from display_board.view import (
    Flash,
    board_view,
    call_line,
    new_calls,
    pages,
    ticker_x,
    unwrap_snapshot,
    wait_minutes,
    waiting_text,
    window_view,
)
from hall_client.catalogue import read


def sample_state() -> dict[str, Any]:
    """A board state in the server's snapshot shape (GET /api/v1/halls/{hall}/board → data)."""

    def call(i: int, number: str, window: int, minute: int) -> dict[str, Any]:
        return {
            "id": i,
            "number": number,
            "queue": number[0],
            "lane": "normal",
            "status": "called",
            "window": window,
            "at": f"2026-11-27T01:{minute:02d}:00+00:00",
        }

    return {
        "hall": {
            "code": "demo",
            "name": "威海市政务服务中心（示范）",
            "name_en": "Weihai Government Service Centre (demo)",
            "timezone": "Asia/Shanghai",
            "silent": True,
        },
        "queues": [
            {"code": "A", "name": "市场准入", "name_en": "Market access", "waiting": 12, "estimated_wait_s": 1500},
            {
                "code": "B",
                "name": "投资建设",
                "name_en": "Investment & construction",
                "waiting": 4,
                "estimated_wait_s": 600,
            },
            {"code": "C", "name": "社会事务", "name_en": "Social affairs", "waiting": 31, "estimated_wait_s": 2400},
            {
                "code": "D",
                "name": "社保医保",
                "name_en": "Social & medical insurance",
                "waiting": 9,
                "estimated_wait_s": 1190,
            },
            {"code": "E", "name": "不动产登记", "name_en": "Real estate", "waiting": 0, "estimated_wait_s": 0},
        ],
        "windows": [
            {
                "number": 1,
                "name": "综合受理一",
                "name_en": "General 1",
                "queues": ["A", "C"],
                "status": "open",
                "reason": "",
                "current": call(5, "C112", 1, 40),
            },
            {
                "number": 3,
                "name": "综合受理三",
                "name_en": "General 3",
                "queues": ["A"],
                "status": "open",
                "reason": "",
                "current": call(9, "A023", 3, 42),
            },
            {
                "number": 5,
                "name": "社保窗口",
                "name_en": "Insurance",
                "queues": ["D"],
                "status": "paused",
                "reason": "午休 Lunch break",
                "current": None,
            },
            {
                "number": 7,
                "name": "投资建设",
                "name_en": "Investment",
                "queues": ["B"],
                "status": "open",
                "reason": "",
                "current": call(7, "B007", 7, 41),
            },
        ],
        "recent_calls": [
            call(9, "A023", 3, 42),
            call(7, "B007", 7, 41),
            call(5, "C112", 1, 40),
            call(8, "A022", 5, 39),
            call(4, "D031", 5, 37),
            call(3, "A021", 3, 35),
            call(2, "B006", 7, 33),
            call(1, "C111", 1, 30),
        ],
        "notice": "本中心周六上午 9:00-12:00 提供延时服务，请携带身份证原件办理。"
        "Extended hours on Saturday 9:00-12:00; please bring your original ID card.",
    }


def test_call_line_text_has_number_and_window_in_both_languages() -> None:
    line = call_line({"number": "A023", "window": 3})
    assert line is not None
    assert line.text == "A023 请到 3 号窗口 Window 3"


def test_call_without_window_is_not_shown() -> None:
    assert call_line({"number": "A023"}) is None
    assert call_line({"number": "", "window": 2}) is None


def test_board_lists_latest_calls_newest_first_and_marks_the_newest() -> None:
    v = board_view(sample_state(), max_calls=6)
    assert [c.number for c in v.calls] == ["A023", "B007", "C112", "A022", "D031", "A021"]
    assert [c.newest for c in v.calls] == [True, False, False, False, False, False]
    assert v.calls[0].text == "A023 请到 3 号窗口 Window 3"
    assert v.hall_name == "威海市政务服务中心（示范）"


def test_queue_lines_show_waiting_and_estimate() -> None:
    v = board_view(sample_state())
    by_code = {q.code: q for q in v.queues}
    assert by_code["A"].zh == "等候 12 人 · 约 25 分钟"
    assert by_code["A"].en == "12 waiting · ~25 min"
    assert by_code["D"].zh == "等候 9 人 · 约 20 分钟"  # 1190 s rounds up to 20 minutes
    assert by_code["E"].zh == "无人等候"


@pytest.mark.parametrize(("seconds", "minutes"), [(None, None), (0, 0), (1, 1), (60, 1), (61, 2), (1500, 25), (-5, 0)])
def test_wait_minutes_rounds_up(seconds: float | None, minutes: int | None) -> None:
    assert wait_minutes(seconds) == minutes


def test_waiting_without_estimate_shows_count_only() -> None:
    assert waiting_text(3, None) == ("等候 3 人", "3 waiting")


def test_paused_and_closed_windows_are_listed_with_reason() -> None:
    state = sample_state()
    state["windows"][0]["status"] = "closed"
    v = board_view(state)
    assert [(p.window, p.zh, p.reason) for p in v.paused] == [(1, "暂停开放", ""), (5, "暂停服务", "午休 Lunch break")]


def test_notice_and_connection_lost_mark() -> None:
    v = board_view(sample_state(), stale=True)
    assert v.notice_text.startswith("通知：本中心周六")
    assert v.stale and v.stale_text == "连接中断 / Connection lost"
    fresh = board_view(sample_state())
    assert not fresh.stale and fresh.stale_text == ""
    assert board_view({**sample_state(), "notice": ""}).notice_text == ""


def test_empty_state_does_not_crash() -> None:
    v = board_view({})
    assert v.calls == [] and v.queues == [] and v.paused == [] and v.newest_key is None


def test_newest_key_changes_on_new_call_and_recall_only() -> None:
    state = sample_state()
    key = board_view(state).newest_key
    same = copy.deepcopy(state)
    same["queues"][0]["waiting"] = 13
    assert board_view(same).newest_key == key
    recalled = copy.deepcopy(state)
    recalled["recent_calls"][0]["at"] = "2026-11-27T01:43:00+00:00"
    assert board_view(recalled).newest_key != key


def test_new_calls_are_what_to_announce_oldest_first() -> None:
    old = sample_state()
    new = copy.deepcopy(old)
    first = {"id": 10, "number": "B008", "window": 7, "at": "2026-11-27T01:44:00+00:00"}
    second = {"id": 11, "number": "A024", "window": 3, "at": "2026-11-27T01:45:00+00:00"}
    new["recent_calls"] = [second, first, *new["recent_calls"][:-2]]
    assert [c.text for c in new_calls(old, new)] == ["B008 请到 7 号窗口 Window 7", "A024 请到 3 号窗口 Window 3"]
    assert new_calls(new, new) == []


def test_window_view_current_and_paused() -> None:
    state = sample_state()
    w3 = window_view(state, 3)
    assert (w3.title_zh, w3.title_en, w3.current, w3.paused, w3.status_zh) == (
        "3 号窗口",
        "Window 3",
        "A023",
        False,
        "",
    )
    w5 = window_view(state, 5)
    assert w5.current is None and w5.current_zh == "暂无叫号"
    assert w5.paused and w5.status_zh == "暂停服务" and w5.reason == "午休 Lunch break"
    unknown = window_view(state, 99)
    assert unknown.paused and unknown.current is None


def test_unwrap_snapshot_accepts_api_answer_and_bare_state() -> None:
    state = sample_state()
    assert unwrap_snapshot({"seq": 4, "data": state}) == state
    assert unwrap_snapshot(state) == state
    with pytest.raises(ValueError):
        unwrap_snapshot({"seq": 4})


def test_flash_blinks_for_a_few_seconds_then_stays_lit() -> None:
    f = Flash(seconds=5.0, period=0.5)
    assert f.lit(0.0) and not f.active(0.0)
    f.start(100.0)
    assert f.active(100.1) and f.lit(100.1)
    assert not f.lit(100.6)
    assert f.lit(101.1)
    assert not f.active(105.0) and f.lit(105.0) and f.lit(105.6)


def test_ticker_starts_readable_scrolls_left_and_wraps() -> None:
    assert ticker_x(1000, 500, 10.0) == 0.0  # fits: still
    assert ticker_x(1000, 3000, 2.0, speed=100, hold=3.0) == 0.0  # held at the start
    assert ticker_x(1000, 3000, 0.0, speed=100, hold=0) == 0.0
    assert ticker_x(1000, 3000, 1.0, speed=100, hold=0) == -100.0
    assert ticker_x(1000, 3000, 4.0, speed=100, hold=3.0) == -100.0
    # after travelling box + text it is back at the start
    assert ticker_x(1000, 3000, 40.0, speed=100, hold=0) == pytest.approx(0.0)
    assert ticker_x(1000, 3000, 31.0, speed=100, hold=0) == pytest.approx(900.0)  # coming in from the right


def test_every_catalogue_entry_has_chinese_and_english() -> None:
    for _ctx, key in read(strings.BOARD.template):
        zh, en = (
            strings.zh(key, window=1, n=2, minutes=3, number="A1"),
            strings.en(key, window=1, n=2, minutes=3, number="A1"),
        )
        assert zh and en, key
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), key
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in en), key


@pytest.mark.parametrize(
    "raw",
    ["通知：本中心周六延时服务", "通知: 本中心周六延时服务", " 公告：本中心周六延时服务", "Notice: 本中心周六延时服务"],
)
def test_a_label_staff_typed_is_not_shown_twice(raw: str) -> None:
    v = board_view({**sample_state(), "notice": raw})
    assert v.notice == "本中心周六延时服务"
    assert v.notice_text == "通知：本中心周六延时服务"


def test_pages_hold_whole_rows_and_every_row() -> None:
    assert pages(list("ABCDEFGHJKLM"), 5) == [list("ABCDE"), list("FGHJK"), list("LM")]
    assert pages(list("AB"), 0) == [["A"], ["B"]]  # a list too short for one row still shows each, one a page
    assert pages([], 6) == [[]]
