"""Deadlines in working days of a hall's calendar (核实整改反馈 and complaint time limits).

The hall has one calendar of working days, the one case deadlines count (`cases/workdays.py`): its
holidays never count, its 调休 workdays do, and an always-open hall counts Monday to Friday only — a
complaint's deadline is never a Saturday because the hall happens to open on Saturdays.
"""

from __future__ import annotations

from datetime import date, datetime, time

from ..calendar import Calendar
from ..cases.workdays import add_working_days, working_days_between


def working_days_after(cal: Calendar, start: datetime, days: int) -> datetime:
    """The end of the `days`-th working day after `start`'s local date (the day itself does not count).

    The end is the closing time of that day's last opening interval, or 23:59:59 when the hall keeps no
    hours that day (always open, or a 调休 workday outside its rules): shown as that day, never the next.
    """
    day = add_working_days(cal, start.astimezone(cal.tz).date(), days)
    last = datetime.combine(day, time(23, 59, 59), tzinfo=cal.tz)
    spans = cal.intervals(day)
    return min(spans[-1][1], last) if spans else last


def deadline_day(cal: Calendar, deadline: datetime) -> date:
    """The local working day a deadline falls on."""
    return deadline.astimezone(cal.tz).date()


def working_days_left(cal: Calendar, now: datetime, deadline: datetime) -> int:
    """Working days after today up to the deadline's day (0: due today; negative: overdue by that many)."""
    today = now.astimezone(cal.tz).date()
    return working_days_between(cal, today, deadline_day(cal, deadline))
