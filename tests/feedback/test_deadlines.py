"""Complaint and follow-up deadlines count the hall's one calendar of working days (the cases' one). Pure."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from queue_server.calendar import Calendar
from queue_server.cases.workdays import add_working_days, is_working_day
from queue_server.feedback.deadlines import deadline_day, working_days_after, working_days_left

SH = ZoneInfo("Asia/Shanghai")
ALWAYS = Calendar(SH)  # the demo's: no opening rules
HOURS = Calendar.build(SH, ["mon-fri 09:00-17:00", "sat 09:00-12:00"], holidays=["2026-12-25"], workdays=["2026-12-27"])


def at(day: str, hhmm: str = "10:00") -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm), tzinfo=SH)


def test_an_always_open_hall_counts_monday_to_friday() -> None:
    due = working_days_after(ALWAYS, at("2026-12-04"), 5)  # a Friday: Mon 7 … Fri 11
    assert due == datetime(2026, 12, 11, 23, 59, 59, tzinfo=SH)  # the last day itself, not the next midnight
    assert deadline_day(ALWAYS, due) == date(2026, 12, 11)
    assert working_days_after(ALWAYS, at("2026-12-05"), 1).date() == date(2026, 12, 7)  # Saturday → Monday


def test_hours_holidays_and_workdays_of_the_calendar() -> None:
    due = working_days_after(HOURS, at("2026-12-24"), 1)  # the 25th is a holiday, the 26th a Saturday it opens
    assert due == at("2026-12-26", "12:00")  # the close of the day's last interval
    assert working_days_after(HOURS, at("2026-12-26"), 1) == at("2026-12-27", "17:00")  # 调休 Sunday, Monday's hours


def test_days_left_and_overdue() -> None:
    due = working_days_after(ALWAYS, at("2026-12-04"), 5)
    assert working_days_left(ALWAYS, at("2026-12-04"), due) == 5
    assert working_days_left(ALWAYS, at("2026-12-11"), due) == 0
    assert working_days_left(ALWAYS, at("2026-12-14"), due) == -1  # Monday after: one working day late


@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)), st.integers(min_value=1, max_value=20))
def test_the_deadline_is_the_cases_working_day(start: date, days: int) -> None:
    for cal in (ALWAYS, HOURS):
        due = working_days_after(cal, datetime.combine(start, time(11), tzinfo=SH), days)
        assert deadline_day(cal, due) == add_working_days(cal, start, days)
        assert is_working_day(cal, deadline_day(cal, due))
        assert due - datetime.combine(start, time(0), tzinfo=SH) > timedelta(days=days)
