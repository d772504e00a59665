"""The hall's no-show rejoin rule (过号重排): who may rejoin, how often, until when, and where in the queue.

Pure: the `[[halls]]` keys `rejoin_lanes`, `rejoin_times`, `rejoin_within_min` and `rejoin_place` become a
`RejoinRule`; the desk's 重新排队 (services/tickets.py, action "rejoin") asks it whether a missed ticket may
come back and at which arrival time, and the tracking page and the desk show its sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .citizen_text import both, second
from .policy import LANES

LANE_NAMES = {
    "normal": ("普通", "ordinary"),
    "military": ("军人优先", "military"),
    "special": ("老弱病残优先", "priority"),
    "vip": ("重点项目", "key project"),
    "appointment": ("预约", "appointment"),
}
NOBODY_EN = "Missed tickets cannot rejoin here: take a new number"
# A rejoined ticket placed behind the N-th waiting one arrives this much after it (ties go by id, and the
# rejoined ticket's id is older than theirs).
_AFTER = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class RejoinRule:
    """A hall's rejoin rule; the defaults are the rule before the keys existed (anyone, any number of times,
    the same day, at the back)."""

    lanes: frozenset[str] = frozenset(LANES)  # tickets of these lanes may rejoin; empty: nobody
    times: int = 0  # how often one ticket may rejoin; 0: no limit
    within_min: int = 0  # minutes after the missed call; 0: the rest of the service day
    place: int = 0  # 0: the back of its queue; N: behind the first N people waiting (顺延N位)

    @classmethod
    def of(cls, hall: object) -> RejoinRule:
        """The rule of a `HallConfig` (any object with the four `rejoin_*` attributes)."""
        return cls(
            lanes=frozenset(getattr(hall, "rejoin_lanes", LANES)),
            times=int(getattr(hall, "rejoin_times", 0)),
            within_min=int(getattr(hall, "rejoin_within_min", 0)),
            place=int(getattr(hall, "rejoin_place", 0)),
        )

    @property
    def nobody(self) -> bool:
        """Whether no ticket may ever rejoin."""
        return not self.lanes

    def refusal(
        self, *, lane: str, rejoins: int, missed_at: datetime | None, now: datetime, lang: str | None = None
    ) -> str | None:
        """Why this missed ticket may not rejoin now ("中文 / English", or the ticket's 한국어, 日本語, Русский
        instead of English: `lang`), or None when it may (same day: the caller)."""
        if self.nobody:
            return both("本厅过号不能重新排队，请重新取号", NOBODY_EN, lang, "rejoin_nobody")
        if lane not in self.lanes:
            zh, en = LANE_NAMES.get(lane, (lane, lane))
            return both(
                f"{zh}票过号后不能重新排队，请重新取号",
                f"A missed {en} ticket cannot rejoin: take a new number",
                lang,
                "rejoin_lane",
                lane=lane_name(lane, lang),
            )
        if self.times and rejoins >= self.times:
            return both(
                f"本票已重新排队 {rejoins} 次（上限 {self.times} 次），请重新取号",
                f"This ticket has rejoined {rejoins} times (at most {self.times}): take a new number",
                lang,
                "rejoin_times",
                rejoins=rejoins,
                times=self.times,
            )
        if self.within_min and missed_at is not None and now - missed_at > timedelta(minutes=self.within_min):
            return both(
                f"过号已超过 {self.within_min} 分钟，不能重新排队，请重新取号",
                f"Missed more than {self.within_min} min ago: take a new number",
                lang,
                "rejoin_late",
                minutes=self.within_min,
            )
        return None

    def arrival(self, now: datetime, waiting: Sequence[datetime]) -> datetime:
        """The rejoined ticket's new arrival time, given the arrival times of its queue's waiting tickets in
        call order: the back (`now`), or just behind the `place`-th (the back when fewer are waiting)."""
        if self.place <= 0 or len(waiting) <= self.place:
            return now
        return min(now, waiting[self.place - 1] + _AFTER)

    def sentence(self, lang: str | None = None) -> str:
        """The rule as the tracking page and the desk show it: "中文 / English" (or the ticket's language, `lang`)."""
        return f"{self.sentence_zh()} / {self.sentence_in(lang)}"

    def sentence_zh(self) -> str:
        """The rule in Chinese."""
        if self.nobody:
            return "本厅过号后不能重新排队，请重新取号。"
        when = f"过号后 {self.within_min} 分钟内" if self.within_min else "过号后当天"
        where = f"顺延 {self.place} 位（排在第 {self.place} 位等候者之后）" if self.place else "排在队尾"
        times = f"，每张票最多 {self.times} 次" if self.times else ""
        who = ""
        if self.lanes != frozenset(LANES):
            who = "（限" + "、".join(LANE_NAMES[x][0] for x in LANES if x in self.lanes) + "票）"
        return f"{when}可到总服务台重新排队{who}，{where}{times}。"

    def sentence_in(self, lang: str | None = None) -> str:
        """The rule in English, or in 한국어, 日本語, Русский (`lang`; citizen.po), built from the same parts."""
        if self.nobody:
            return second(lang, "rule_nobody", "A missed ticket cannot rejoin here: take a new number.")
        m, n, k = self.within_min, self.place, self.times
        when = second(lang, "rule_within", f"within {m} min of the missed call", minutes=m) if m else None
        when = when or second(lang, "rule_today", "today")
        plural = "place" if n == 1 else "places"
        where = second(lang, "rule_places", f"{n} {plural} from the front", places=n) if n else None
        where = where or second(lang, "rule_back", "at the back")
        en_times = f", at most {k} {'time' if k == 1 else 'times'} a ticket"
        times = second(lang, "rule_times", en_times, times=k) if k else ""
        who = ""
        if self.lanes != frozenset(LANES):
            allowed = [x for x in LANES if x in self.lanes]
            en_lanes = ", ".join(LANE_NAMES[x][1] for x in allowed)
            lanes = second(lang, "list_sep", ", ").join(lane_name(x, lang) for x in allowed)
            who = second(lang, "rule_who", f" ({en_lanes} tickets only)", lanes=lanes)
        en = f"Ask at the information desk {when} to rejoin{who}, {where}{times}."
        return second(lang, "rule", en, when=when, who=who, where=where, times=times)


def lane_name(lane: str, lang: str | None) -> str:
    """A lane's name in English, or in `lang` (ko, ja, ru)."""
    return second(lang, f"lane_{lane}", LANE_NAMES.get(lane, (lane, lane))[1])
