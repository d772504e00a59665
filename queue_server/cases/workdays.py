"""Working days on the hall calendar (holidays and 调休), promised deadlines and the traffic light. Pure.

A working day is a day the hall is open under its rules; a holiday never is and a 调休 workday always is.
A hall without opening rules (always open, like the demo) still counts only Monday to Friday, minus its
holidays, plus its 调休 workdays: the time limits of the law are in working days, not in opening hours.
The holidays and workdays are the hall calendar's: the national arrangement under the hall's own dates
(`calendar.py`, `national_holidays`).

Deadline: the N-th working day after the day of acceptance (the day itself is not counted, as in
《行政许可法》第八十二条's counting of periods). A limit of 0 (即办) is due on the day of acceptance.

Traffic light (亮灯管理), from the working days left after today up to and including the deadline:
red when overdue or at most 1 left; yellow when at most max(2, ceil(20 % of the limit)) are left;
green otherwise.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Literal

from ..calendar import Calendar

Light = Literal["green", "yellow", "red"]
MAX_SCAN = 3660  # ten years of days: a limit never needs more


def is_working_day(cal: Calendar, day: date) -> bool:
    """Whether `day` is a working day of the hall."""
    if day in cal.holidays:
        return False
    if day in cal.workdays:
        return True
    if cal.rules is None:
        return day.weekday() < 5
    return bool(cal.intervals(day))


def add_working_days(cal: Calendar, start: date, days: int) -> date:
    """The `days`-th working day after `start` (`start` itself when days is 0)."""
    day, left = start, days
    for _ in range(MAX_SCAN):
        if left <= 0:
            return day
        day += timedelta(days=1)
        if is_working_day(cal, day):
            left -= 1
    raise ValueError(f"no {days} working days within {MAX_SCAN} days of {start}: check the calendar")


def working_days_between(cal: Calendar, after: date, until: date) -> int:
    """Working days d with after < d <= until (negative, counted back, when until is before after)."""
    if until < after:
        return -working_days_between(cal, until, after)
    n, day = 0, after
    while day < until:
        day += timedelta(days=1)
        n += is_working_day(cal, day)
    return n


def light(cal: Calendar, today: date, deadline: date, limit_days: int) -> tuple[Light, int]:
    """The traffic light of a running case and the working days left (negative when overdue)."""
    left = working_days_between(cal, today, deadline)
    if today > deadline or left <= 1:
        return "red", left
    if left <= max(2, math.ceil(limit_days * 0.2)):
        return "yellow", left
    return "green", left
