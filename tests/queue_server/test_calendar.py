"""Opening calendar edge cases: holidays, 调休, the closing minute, the midday break, timezones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.calendar import Calendar, CalendarError, parse_rule

SH = ZoneInfo("Asia/Shanghai")
RULES = ["mon-fri 09:00-12:00", "mon-fri 13:30-17:00", "sat 09:00-12:00"]
CAL = Calendar.build(SH, RULES, holidays=["2026-10-01"], workdays=["2026-09-27"])


def at(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=SH)


def test_weekday_hours_and_the_midday_break() -> None:
    assert CAL.is_open(at("2026-11-27 09:00"))  # Friday, opening minute
    assert CAL.is_open(at("2026-11-27 11:59"))
    assert not CAL.is_open(at("2026-11-27 12:00"))  # the closing minute is closed
    assert not CAL.is_open(at("2026-11-27 13:00"))
    assert CAL.next_opening(at("2026-11-27 12:00")) == at("2026-11-27 13:30")
    assert CAL.closes_at(at("2026-11-27 10:00")) == at("2026-11-27 12:00")


def test_saturday_morning_and_sunday_closed() -> None:
    assert CAL.is_open(at("2026-11-28 10:00"))
    assert not CAL.is_open(at("2026-11-28 14:00"))
    assert not CAL.is_open(at("2026-11-29 10:00"))
    assert CAL.next_opening(at("2026-11-28 12:00")) == at("2026-11-30 09:00")  # Monday


def test_holiday_closes_and_workday_opens_with_mondays_hours() -> None:
    assert not CAL.is_open(at("2026-10-01 10:00"))  # Thursday, National Day
    assert CAL.next_opening(at("2026-10-01 08:00")) == at("2026-10-02 09:00")
    assert CAL.is_open(at("2026-09-27 14:00"))  # Sunday 调休: Monday's afternoon hours
    assert [(a.hour, a.minute) for a, _ in CAL.intervals(date(2026, 9, 27))] == [(9, 0), (13, 30)]


def test_timezone_decides_the_day() -> None:
    # 00:30 UTC on Saturday is 08:30 Saturday in Shanghai: closed; 01:00 UTC is 09:00: open.
    assert not CAL.is_open(datetime(2026, 11, 28, 0, 30, tzinfo=UTC))
    assert CAL.is_open(datetime(2026, 11, 28, 1, 0, tzinfo=UTC))
    nxt = CAL.next_opening(datetime(2026, 11, 27, 16, 0, tzinfo=UTC))  # Saturday 00:00 local
    assert nxt == at("2026-11-28 09:00")


def test_closed_sentence_names_the_next_opening() -> None:
    text = CAL.closed_sentence(at("2026-11-27 17:30"))
    assert "2026-11-28 09:00" in text
    assert "opens again on 2026-11-28 at 09:00" in text


def test_slots_stay_inside_intervals() -> None:
    slots = CAL.slots(date(2026, 11, 27), 30)
    assert len(slots) == 6 + 7  # 09:00-12:00 and 13:30-17:00
    assert slots[0][0] == at("2026-11-27 09:00")
    assert slots[5][1] == at("2026-11-27 12:00")
    assert slots[6][0] == at("2026-11-27 13:30")
    assert CAL.slots(date(2026, 11, 29), 30) == []
    assert len(CAL.slots(date(2026, 11, 27), 45)) == 4 + 4  # a slot never runs into the break


def test_always_open_without_rules() -> None:
    cal = Calendar.build(SH, None)
    assert cal.always_open
    assert cal.is_open(at("2026-11-29 03:00"))
    assert len(cal.slots(date(2026, 11, 29), 30)) == 48


def test_overlapping_rules_merge_for_extended_hours() -> None:
    cal = Calendar.build(SH, ["mon-fri 09:00-17:00", "wed 16:00-19:30"])  # 延时服务 on Wednesdays
    assert cal.is_open(at("2026-11-25 19:00"))
    assert len(cal.intervals(date(2026, 11, 25))) == 1
    assert not cal.is_open(at("2026-11-26 18:00"))


@pytest.mark.parametrize(
    "bad", ["mon-fri 9-12", "funday 09:00-12:00", "mon-fri 12:00-09:00", "mon 25:00-26:00", "mon-fri 09:00-12:60"]
)
def test_bad_rules_are_refused(bad: str) -> None:
    with pytest.raises(CalendarError):
        parse_rule(bad)


def test_wrapping_day_range() -> None:
    assert parse_rule("sat-mon 10:00-11:00").days == frozenset({5, 6, 0})


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)))
def test_next_opening_is_open_and_nothing_opens_before_it(naive: datetime) -> None:
    t = naive.replace(tzinfo=SH)
    nxt = CAL.next_opening(t)
    assert nxt is not None and nxt > t
    assert CAL.is_open(nxt)
    assert not CAL.is_open(nxt - timedelta(minutes=1))
