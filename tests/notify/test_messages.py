"""Message texts: bilingual, Chinese first, with the numbers they must carry."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from queue_server.notify import messages as m

SLOT = datetime(2026, 10, 8, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_called_is_exactly_the_contract_text() -> None:
    assert m.called("A023", 3) == "请A023号到3号窗口办理 / Ticket A023, please go to window 3"


def test_recalled_names_number_and_window() -> None:
    text = m.recalled("A023", 3)
    zh, en = text.split(" / ")
    assert "再次" in zh and "A023" in zh and "3号窗口" in zh
    assert en.startswith("Calling again") and "window 3" in en


def test_issued_carries_number_position_and_wait() -> None:
    text = m.issued("测试中心", "A023", 5, 12, hall_en="Test Centre")
    zh, en = text.split(" / ")
    assert "测试中心" in zh and "A023" in zh and "前面还有5人" in zh and "12分钟" in zh
    assert "Test Centre" in en and "5 people ahead" in en and "12 minutes" in en


def test_issued_singular_and_nobody_ahead() -> None:
    assert "1 person ahead" in m.issued("H", "A001", 1, 1)
    assert "1 minute " in m.issued("H", "A001", 1, 1) + " "
    first = m.issued("H", "A001", 0, None)
    assert "前面没有人" in first and "nobody is ahead" in first and "分钟" not in first
    assert "分钟" not in m.issued("H", "A002", 2, None)  # no estimate: none promised


def test_ahead_message() -> None:
    assert m.ahead("A023", 3).startswith("A023号：您前面还有3人")
    assert "3 people ahead" in m.ahead("A023", 3)
    assert "you are next" in m.ahead("A023", 0)


def test_no_show() -> None:
    zh, en = m.no_show("B007").split(" / ")
    assert "B007" in zh and "过号" in zh
    assert "B007" in en and "new number" in en


def test_appointment_texts_carry_hall_slot_and_code() -> None:
    booked = m.appointment_booked("测试中心", SLOT, "K7PQ2M", hall_en="Test Centre")
    reminder = m.appointment_reminder("测试中心", SLOT, "K7PQ2M")
    cancelled = m.appointment_cancelled("测试中心", SLOT, "K7PQ2M")
    for text in (booked, reminder, cancelled):
        zh, en = text.split(" / ")
        assert "K7PQ2M" in zh and "K7PQ2M" in en
        assert "10月8日 09:30" in zh and "8 Oct 09:30" in en
    assert "Test Centre" in booked and "预约" in booked
    assert "提醒" in reminder and "Reminder" in reminder
    assert "已取消" in cancelled and "cancelled" in cancelled


def test_every_kind_has_a_builder() -> None:
    assert set(m.KINDS) == {n for n in m.__all__ if n not in ("KINDS", "PARAMS", "slot_param")}
    assert set(m.PARAMS) == set(m.KINDS)  # and every kind names its values, for template providers
