"""The hall's no-show rejoin rule (过号重排): who may rejoin, how often, until when, and where in the queue.

Pure: the `[[halls]]` keys `rejoin_lanes`, `rejoin_times`, `rejoin_within_min` and `rejoin_place` become a
`RejoinRule`; the desk's 重新排队 (services/tickets.py, action "rejoin") asks it whether a missed ticket may
come back and at which arrival time, and the tracking page and the desk show its sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .policy import LANES

LANE_NAMES = {
    "normal": ("普通", "ordinary"),
    "military": ("军人优先", "military"),
    "special": ("老弱病残优先", "priority"),
    "vip": ("重点项目", "key project"),
    "appointment": ("预约", "appointment"),
}
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

    def refusal(self, *, lane: str, rejoins: int, missed_at: datetime | None, now: datetime) -> str | None:
        """Why this missed ticket may not rejoin now ("中文 / English"), or None when it may (same day: the caller)."""
        if self.nobody:
            return "本厅过号不能重新排队，请重新取号 / Missed tickets cannot rejoin here: take a new number"
        if lane not in self.lanes:
            zh, en = LANE_NAMES.get(lane, (lane, lane))
            return f"{zh}票过号后不能重新排队，请重新取号 / A missed {en} ticket cannot rejoin: take a new number"
        if self.times and rejoins >= self.times:
            return (
                f"本票已重新排队 {rejoins} 次（上限 {self.times} 次），请重新取号 / "
                f"This ticket has rejoined {rejoins} times (at most {self.times}): take a new number"
            )
        if self.within_min and missed_at is not None and now - missed_at > timedelta(minutes=self.within_min):
            return (
                f"过号已超过 {self.within_min} 分钟，不能重新排队，请重新取号 / "
                f"Missed more than {self.within_min} min ago: take a new number"
            )
        return None

    def arrival(self, now: datetime, waiting: Sequence[datetime]) -> datetime:
        """The rejoined ticket's new arrival time, given the arrival times of its queue's waiting tickets in
        call order: the back (`now`), or just behind the `place`-th (the back when fewer are waiting)."""
        if self.place <= 0 or len(waiting) <= self.place:
            return now
        return min(now, waiting[self.place - 1] + _AFTER)

    def sentence(self) -> str:
        """The rule as the tracking page and the desk show it: "中文 / English"."""
        if self.nobody:
            return "本厅过号后不能重新排队，请重新取号。 / A missed ticket cannot rejoin here: take a new number."
        when_zh = f"过号后 {self.within_min} 分钟内" if self.within_min else "过号后当天"
        when_en = f"within {self.within_min} min of the missed call" if self.within_min else "today"
        where_zh = f"顺延 {self.place} 位（排在第 {self.place} 位等候者之后）" if self.place else "排在队尾"
        plural = "place" if self.place == 1 else "places"
        where_en = f"{self.place} {plural} from the front" if self.place else "at the back"
        times_zh = f"，每张票最多 {self.times} 次" if self.times else ""
        times_en = f", at most {self.times} {'time' if self.times == 1 else 'times'} a ticket" if self.times else ""
        who_zh = who_en = ""
        if self.lanes != frozenset(LANES):
            allowed = [lane for lane in LANES if lane in self.lanes]
            who_zh = "（限" + "、".join(LANE_NAMES[x][0] for x in allowed) + "票）"
            who_en = " (" + ", ".join(LANE_NAMES[x][1] for x in allowed) + " tickets only)"
        return (
            f"{when_zh}可到总服务台重新排队{who_zh}，{where_zh}{times_zh}。 / "
            f"Ask at the information desk {when_en} to rejoin{who_en}, {where_en}{times_en}."
        )
