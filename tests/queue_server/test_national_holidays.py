"""The State Council's holiday arrangement under the hall calendar: opening, slots, working days. Pure.

The expected dates are typed from the notices themselves, not from the package: 国务院办公厅关于2026年部分
节假日安排的通知 (国办发明电〔2025〕7号, 4 November 2025) and 关于2025年部分节假日安排的通知
(国办发明电〔2024〕12号, 12 November 2024).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from queue_server.calendar import Calendar, national_days
from queue_server.cases.workdays import add_working_days, is_working_day
from queue_server.feedback.deadlines import working_days_after

SH = ZoneInfo("Asia/Shanghai")
WEEKDAYS = ["mon-fri 09:00-12:00", "mon-fri 13:30-17:00"]


def span(first: str, last: str) -> list[date]:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


# 2026: 元旦 1-1..1-3 (上班 1-4); 春节 2-15..2-23 (上班 2-14, 2-28); 清明 4-4..4-6; 劳动节 5-1..5-5 (上班 5-9);
# 端午 6-19..6-21; 中秋 9-25..9-27; 国庆 10-1..10-7 (上班 9-20, 10-10).
OFF_2026 = [
    *span("2026-01-01", "2026-01-03"),
    *span("2026-02-15", "2026-02-23"),
    *span("2026-04-04", "2026-04-06"),
    *span("2026-05-01", "2026-05-05"),
    *span("2026-06-19", "2026-06-21"),
    *span("2026-09-25", "2026-09-27"),
    *span("2026-10-01", "2026-10-07"),
]
ON_2026 = [
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]
# 2025: 元旦 1-1; 春节 1-28..2-4 (上班 1-26, 2-8); 清明 4-4..4-6; 劳动节 5-1..5-5 (上班 4-27); 端午 5-31..6-2;
# 国庆中秋 10-1..10-8 (上班 9-28, 10-11).
OFF_2025 = [
    date(2025, 1, 1),
    *span("2025-01-28", "2025-02-04"),
    *span("2025-04-04", "2025-04-06"),
    *span("2025-05-01", "2025-05-05"),
    *span("2025-05-31", "2025-06-02"),
    *span("2025-10-01", "2025-10-08"),
]
ON_2025 = [date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2025, 9, 28), date(2025, 10, 11)]


def national(
    rules: list[str] | None = WEEKDAYS, holidays: tuple[str, ...] = (), workdays: tuple[str, ...] = ()
) -> Calendar:
    return Calendar.build(SH, rules, holidays, workdays, national=national_days())


def test_the_package_carries_the_2025_and_2026_notices_exactly() -> None:
    nd = national_days()
    for year, off, on in ((2025, OFF_2025, ON_2025), (2026, OFF_2026, ON_2026)):
        assert {d for d in nd.holidays if d.year == year} == set(off)
        assert {d for d in nd.workdays if d.year == year} == set(on)
        assert year in nd.years


def test_a_weekday_hall_follows_the_2026_arrangement() -> None:
    cal = national()
    for day in OFF_2026:
        assert cal.intervals(day) == [], day
        assert not is_working_day(cal, day)
    for day in ON_2026:  # 调休 Saturdays and Sundays open with Monday's hours
        assert day.weekday() >= 5
        assert [(a.time(), b.time()) for a, b in cal.intervals(day)] == [(time(9), time(12)), (time(13, 30), time(17))]
        assert is_working_day(cal, day)
    # Every other day of 2026 keeps the weekday rules: 261 weekdays - 19 on holiday + 6 调休 = 248 working days.
    year = span("2026-01-01", "2026-12-31")
    assert sum(is_working_day(cal, d) for d in year) == 248
    assert all(bool(cal.intervals(d)) == (d.weekday() < 5) for d in year if d not in OFF_2026 and d not in ON_2026)


def test_a_saturday_hall_is_closed_on_the_spring_festival_saturday() -> None:
    cal = national(["mon-fri 09:00-17:00", "sat 09:00-12:00"])
    assert cal.intervals(date(2026, 2, 21)) == []  # Saturday inside 2-15..2-23
    assert cal.intervals(date(2026, 3, 7))  # an ordinary Saturday


def test_opening_and_slots_across_the_spring_festival() -> None:
    cal = national()
    friday_evening = datetime(2026, 2, 13, 18, 0, tzinfo=SH)
    assert cal.next_opening(friday_evening) == datetime(2026, 2, 14, 9, 0, tzinfo=SH)  # 调休 Saturday
    assert cal.next_opening(datetime(2026, 2, 14, 18, 0, tzinfo=SH)) == datetime(2026, 2, 24, 9, 0, tzinfo=SH)
    assert not cal.is_open(datetime(2026, 2, 16, 10, 0, tzinfo=SH))  # 除夕, a Monday
    assert "2026-02-24 09:00" in cal.closed_sentence(datetime(2026, 2, 16, 10, 0, tzinfo=SH))
    assert cal.slots(date(2026, 2, 23), 30) == []  # 正月初七, a Monday
    assert len(cal.slots(date(2026, 2, 28), 30)) == 13  # 调休 Saturday: 6 + 7 half-hours
    assert cal.next_opening(datetime(2026, 9, 30, 18, 0, tzinfo=SH)) == datetime(2026, 10, 8, 9, 0, tzinfo=SH)


def test_the_halls_own_dates_override_the_national_ones() -> None:
    cal = national(holidays=("2026-02-14", "2026-12-24"), workdays=("2026-02-23",))
    assert cal.intervals(date(2026, 2, 14)) == []  # the hall does not work that 调休 Saturday
    assert cal.intervals(date(2026, 2, 23))  # but opens on 正月初七
    assert cal.intervals(date(2026, 12, 24)) == []  # and adds a day of its own
    assert cal.intervals(date(2026, 2, 16)) == []  # the rest of the arrangement stays


def test_off_keeps_only_the_halls_own_dates() -> None:
    cal = Calendar.build(SH, WEEKDAYS, ["2026-12-24"], [])
    assert cal.intervals(date(2026, 10, 1))  # a Thursday: open without the national arrangement
    assert cal.intervals(date(2026, 2, 14)) == []  # a Saturday: closed
    assert cal.national_gaps(date(2026, 12, 6)) == [] and cal.national_gap_notice(date(2026, 12, 6)) is None


def test_deadlines_across_the_spring_festival_and_national_day() -> None:
    for cal in (national(), national(None)):  # with hours, and an always-open hall (Monday to Friday)
        # Accepted Thu 12 Feb, 5 working days: Fri 13 (1), Sat 14 调休 (2), Tue 24 (3), Wed 25 (4), Thu 26 (5).
        assert add_working_days(cal, date(2026, 2, 12), 5) == date(2026, 2, 26)
        # 20 working days (a typical 承诺时限) from Fri 13 Feb: Sat 14 (1), 2-15..2-23 off, 24..27 (2-5),
        # Sat 28 调休 (6), then 14 weekdays: 2..6, 9..13, 16..19 March.
        assert add_working_days(cal, date(2026, 2, 13), 20) == date(2026, 3, 19)
        # Accepted Fri 18 Sep: Sun 20 调休 (1), 21..24 (2-5), 中秋 25..27 off, 28..30 (6-8), 国庆 10-1..10-7 off,
        # Thu 8 (9), Fri 9 (10), Sat 10 调休 (11).
        assert add_working_days(cal, date(2026, 9, 18), 11) == date(2026, 10, 10)
    # A complaint received on 30 Sep, 15 working days to answer: 10-8, 10-9, 10-10, then 12 weekdays to 27 Oct.
    due = working_days_after(national(), datetime(2026, 9, 30, 16, 0, tzinfo=SH), 15)
    assert due == datetime(2026, 10, 27, 17, 0, tzinfo=SH)


def test_a_year_without_a_notice_keeps_weekday_rules_and_says_so() -> None:
    nd = national_days()
    missing = max(nd.years) + 1
    cal = national()
    new_year = date(missing, 1, 1)
    assert bool(cal.intervals(new_year)) == (new_year.weekday() < 5)  # weekday rules only
    assert cal.national_gaps(date(missing - 1, 10, 31)) == []  # before November the next year is not due
    assert cal.national_gaps(date(missing - 1, 11, 1)) == [missing]
    assert cal.national_gaps(date(missing, 3, 1)) == [missing]
    notice = cal.national_gap_notice(date(missing, 3, 1))
    assert notice is not None and str(missing) in notice and "chinesecalendar" in notice
