"""The opening calendar of a hall: weekly hours, holidays, 调休 workdays, slots. Pure; no I/O.

Rules look like ``"mon-fri 09:00-12:00"``, ``"sat 09:00-12:00"``, ``"mon,wed,fri 17:00-19:00"`` (extended
hours, 延时服务) or ``"daily 08:30-12:00"``; several rules add up, so a midday break is two rules and
staggered hours (错时服务) are one more. ``24:00`` may end a rule. A holiday closes a day whose weekday is
open; a 调休 workday opens a day whose weekday is closed, with Monday's hours. A hall without rules is
always open.

National holidays (``national=True``, the configuration's default ``national_holidays``): the State
Council's yearly arrangement (国务院办公厅关于某年部分节假日安排的通知), from the ``chinesecalendar``
package, which carries each notice's whole 放假 ranges (weekend days inside them too, so a hall that opens
on Saturdays is closed on the Saturday of the Spring Festival) and its 调休 workdays, and knows which years
it has (README: why this package and not ``holidays``). The hall's own dates come on top: its `holidays`
close a national workday, its `workdays` open a national holiday. A year the package has no notice for
keeps the weekday rules (`national_gaps` names it, for the start-up log and the supervisor view).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

import chinese_calendar

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RULE = re.compile(r"^\s*(?P<days>[a-z,\-]+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$")
SEARCH_DAYS = 400  # how far ahead the next opening is looked for


class CalendarError(ValueError):
    """A rule or date of the calendar cannot be understood."""


@dataclass(frozen=True, slots=True)
class OpenRule:
    """Open on `days` (0 = Monday) from `start` to `end` minutes after midnight."""

    days: frozenset[int]
    start: int
    end: int


def _minutes(text: str) -> int:
    h, m = (int(x) for x in text.split(":"))
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise CalendarError(f"'{text}' is not a time of day (use HH:MM, 00:00 to 24:00)")
    return h * 60 + m


def _days(spec: str) -> frozenset[int]:
    if spec in ("daily", "everyday"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in spec.split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(e not in DAY_NAMES for e in ends):
            raise CalendarError(f"'{part}' is not a day or day range (use mon, tue, … sun, e.g. mon-fri)")
        a, b = DAY_NAMES.index(ends[0]), DAY_NAMES.index(ends[-1])
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(days)


def parse_rule(text: str) -> OpenRule:
    """Parse one opening rule such as ``"mon-fri 09:00-12:00"``."""
    m = _RULE.match(text.lower())
    if m is None:
        raise CalendarError(f"'{text}' is not an opening rule (write e.g. \"mon-fri 09:00-12:00\")")
    start, end = _minutes(m["start"]), _minutes(m["end"])
    if end <= start:
        raise CalendarError(f"'{text}': the end must be after the start (split a rule that passes midnight)")
    return OpenRule(_days(m["days"]), start, end)


def parse_day(text: str) -> date:
    """Parse an ISO date (``2026-10-01``)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CalendarError(f"'{text}' is not a date (write YYYY-MM-DD)") from None


@dataclass(frozen=True, slots=True)
class NationalDays:
    """The State Council's arrangements the installed ``chinesecalendar`` carries."""

    holidays: frozenset[date]  # every day of each notice's 放假 ranges
    workdays: frozenset[date]  # the 调休 days worked (上班) although they fall on a weekend
    years: frozenset[int]  # the years with a notice


def national_days() -> NationalDays:
    """The national holidays and 调休 workdays of every year the installed package has a notice for."""
    holidays, workdays = frozenset(chinese_calendar.holidays), frozenset(chinese_calendar.workdays)
    return NationalDays(holidays, workdays, frozenset(d.year for d in holidays))


@dataclass(frozen=True)
class Calendar:
    """When a hall is open, in its own timezone."""

    tz: tzinfo
    rules: tuple[OpenRule, ...] | None = None  # None: always open
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    national_years: frozenset[int] | None = None  # None: national holidays off; else the years with a notice

    @classmethod
    def build(
        cls,
        tz: tzinfo,
        rules: Iterable[str] | None,
        holidays: Iterable[str] = (),
        workdays: Iterable[str] = (),
        *,
        national: NationalDays | None = None,
    ) -> Calendar:
        """A calendar from the configuration's strings, on top of the national arrangement when given."""
        parsed = None if rules is None else tuple(parse_rule(r) for r in rules)
        own_off, own_on = frozenset(map(parse_day, holidays)), frozenset(map(parse_day, workdays))
        if national is None:
            return cls(tz, parsed, own_off, own_on)
        off = (national.holidays - own_on) | own_off
        on = (national.workdays - own_off) | own_on
        return cls(tz, parsed, off, on, national.years)

    def national_gaps(self, today: date) -> list[int]:
        """The years the hall counts days in (this one; from November, the next) that have no national
        arrangement in the installed package: weekday rules only there. Empty with national holidays off."""
        if self.national_years is None:
            return []
        years = [today.year, today.year + 1] if today.month >= 11 else [today.year]
        return [y for y in years if y not in self.national_years]

    def national_gap_notice(self, today: date) -> str | None:
        """The sentence for staff when a year the hall counts days in has no national arrangement."""
        gaps = "、".join(map(str, self.national_gaps(today)))
        if not gaps:
            return None
        return (
            f"节假日数据缺少 {gaps} 年的国务院放假安排，该年按每周开放规则计算；请更新 chinesecalendar 或在配置中填写"
            f" holidays/workdays / No national holiday arrangement for {gaps} in the installed chinesecalendar:"
            " weekday rules apply there; update the package or list the dates in holidays/workdays"
        )

    @property
    def always_open(self) -> bool:
        """Whether the hall has no opening rules."""
        return self.rules is None

    def intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open intervals of a local date, in order, merged where they touch."""
        if self.rules is None:
            return [(self._at(day, 0), self._at(day, 24 * 60))]
        if day in self.holidays:
            return []
        weekday = 0 if day in self.workdays else day.weekday()
        spans = sorted((r.start, r.end) for r in self.rules if weekday in r.days)
        merged: list[list[int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return [(self._at(day, a), self._at(day, b)) for a, b in merged]

    def _at(self, day: date, minutes: int) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz) + timedelta(minutes=minutes)

    def is_open(self, at: datetime) -> bool:
        """Whether the hall is open at this instant (the closing minute itself is closed)."""
        local = at.astimezone(self.tz)
        return any(a <= local < b for a, b in self.intervals(local.date()))

    def next_opening(self, at: datetime) -> datetime | None:
        """The next instant after `at` when a closed hall opens (None if never within a year)."""
        local = at.astimezone(self.tz)
        for offset in range(SEARCH_DAYS):
            for start, _ in self.intervals(local.date() + timedelta(days=offset)):
                if start > local:
                    return start
        return None

    def closes_at(self, at: datetime) -> datetime | None:
        """When the interval open at `at` ends (None when closed)."""
        local = at.astimezone(self.tz)
        for a, b in self.intervals(local.date()):
            if a <= local < b:
                return b
        return None

    def slots(self, day: date, minutes: int) -> list[tuple[datetime, datetime]]:
        """Appointment slots of a day: `minutes` long, inside the open intervals, never across a break."""
        out: list[tuple[datetime, datetime]] = []
        step = timedelta(minutes=minutes)
        for a, b in self.intervals(day):
            t = a
            while t + step <= b:
                out.append((t, t + step))
                t += step
        return out

    def closed_sentence(self, at: datetime, lang: str | None = None) -> str:
        """The 409 detail when taking a number while closed: names the next opening, local date and HH:MM; the
        second half in `lang` (ko, ja, ru; else English)."""
        from .citizen_text import both  # here: the calendar is imported by the config, which comes first

        nxt = self.next_opening(at)
        if nxt is None:
            en = "The hall is closed until further notice"
            return both("大厅暂停服务，请关注通知", en, lang, "closed_until_notice")
        day, hhmm = f"{nxt:%Y-%m-%d}", f"{nxt:%H:%M}"
        en = f"The hall is closed; it opens again on {day} at {hhmm}"
        return both(f"大厅现在不办理业务，下次开放时间：{day} {hhmm}", en, lang, "closed", day=day, time=hhmm)
