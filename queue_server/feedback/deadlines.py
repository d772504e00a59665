"""Deadlines in working days of a hall's calendar (核实整改反馈 and complaint time limits)."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..calendar import Calendar

SEARCH_DAYS = 60


def working_days_after(cal: Calendar, start: datetime, days: int) -> datetime:
    """The end of the `days`-th working day after `start`'s local date (a day the hall opens at all).

    A hall without opening rules is open every day, so each calendar day counts; the deadline is the
    closing time of that day's last interval (midnight for an always-open hall).
    """
    local = start.astimezone(cal.tz)
    day = local.date()
    left = days
    for _ in range(SEARCH_DAYS):
        day += timedelta(days=1)
        spans = cal.intervals(day)
        if spans:
            left -= 1
            if left <= 0:
                return spans[-1][1]
    return local + timedelta(days=days)  # a calendar with no open day in two months: plain days
