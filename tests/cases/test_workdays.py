"""Working days on the hall calendar: holidays, 调休, deadlines and the traffic light (pure)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from queue_server.calendar import Calendar
from queue_server.cases.workdays import add_working_days, is_working_day, light, working_days_between

TZ = ZoneInfo("Asia/Shanghai")
# 国庆 2026 as a hall would write it: 10-01..10-07 closed, Sunday 09-27 and Saturday 10-10 are 调休 workdays.
HOLIDAYS = [f"2026-10-0{d}" for d in range(1, 8)]
WORKDAYS = ["2026-09-27", "2026-10-10"]
RULED = Calendar.build(TZ, ["mon-fri 09:00-12:00", "mon-fri 13:30-17:00"], HOLIDAYS, WORKDAYS)
ALWAYS = Calendar.build(TZ, None, HOLIDAYS, WORKDAYS)


def test_holidays_and_adjusted_workdays() -> None:
    for cal in (RULED, ALWAYS):
        assert not is_working_day(cal, date(2026, 10, 1))  # Thursday, holiday
        assert is_working_day(cal, date(2026, 9, 27))  # Sunday, 调休
        assert is_working_day(cal, date(2026, 10, 10))  # Saturday, 调休
        assert not is_working_day(cal, date(2026, 10, 11))  # Sunday
        assert is_working_day(cal, date(2026, 9, 30))


def test_deadline_across_national_day() -> None:
    # Accepted Tue 29 Sep, 5 working days: Wed 30 Sep (1), Thu 8 Oct (2), Fri 9 Oct (3), Sat 10 Oct 调休 (4),
    # Mon 12 Oct (5).
    for cal in (RULED, ALWAYS):
        assert add_working_days(cal, date(2026, 9, 29), 5) == date(2026, 10, 12)
        assert add_working_days(cal, date(2026, 9, 29), 0) == date(2026, 9, 29)
        # Accepted on Saturday 26 Sep: Sunday 27 Sep 调休 counts as the first.
        assert add_working_days(cal, date(2026, 9, 26), 1) == date(2026, 9, 27)


def test_days_between_counts_working_days_only() -> None:
    assert working_days_between(RULED, date(2026, 9, 29), date(2026, 10, 12)) == 5
    assert working_days_between(RULED, date(2026, 10, 12), date(2026, 9, 29)) == -5
    assert working_days_between(RULED, date(2026, 10, 1), date(2026, 10, 7)) == 0


def test_traffic_light() -> None:
    deadline = add_working_days(RULED, date(2026, 9, 29), 20)
    assert light(RULED, date(2026, 9, 29), deadline, 20) == ("green", 20)
    five_left = date(2026, 9, 29)
    while working_days_between(RULED, five_left, deadline) > 4:
        five_left += timedelta(days=1)
    assert light(RULED, five_left, deadline, 20) == ("yellow", 4)  # 20 % of 20 = 4
    one_left = five_left
    while working_days_between(RULED, one_left, deadline) > 1:
        one_left += timedelta(days=1)
    assert light(RULED, one_left, deadline, 20)[0] == "red"
    assert light(RULED, deadline, deadline, 20) == ("red", 0)
    colour, left = light(RULED, deadline + timedelta(days=3), deadline, 20)
    assert colour == "red" and left < 0
    # Short limits: yellow at 2 working days left even when 20 % rounds to 1.
    d2 = add_working_days(RULED, date(2026, 9, 29), 3)
    assert light(RULED, date(2026, 9, 29), d2, 3) == ("green", 3)
    assert light(RULED, date(2026, 9, 30), d2, 3) == ("yellow", 2)


@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)), st.integers(min_value=0, max_value=60))
def test_adding_then_counting_round_trips(start: date, n: int) -> None:
    end = add_working_days(RULED, start, n)
    assert working_days_between(RULED, start, end) == n
    assert n == 0 or is_working_day(RULED, end)
