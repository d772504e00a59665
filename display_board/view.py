"""Pure view logic: turns a board-state dict (the server's snapshot shape) into what the screen shows."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from . import strings as s

# How many recent calls each layout lists (the newest included), at most: the board shows as many as fit.
MAX_CALLS = 7
T = TypeVar("T")


@dataclass(frozen=True)
class CallLine:
    """One called ticket and the window it goes to."""

    number: str
    window: int
    zh: str  # "请到 3 号窗口"
    en: str  # "Window 3"
    newest: bool = False
    name_zh: str = ""  # the window's own name (综合受理窗口) where the hall names it in its languages
    name_en: str = ""  # … in the second line's language (종합 접수 창구)

    @property
    def text(self) -> str:
        """The whole line: "A023 请到 3 号窗口 Window 3"."""
        return f"{self.number} {self.zh} {self.en}"


@dataclass(frozen=True)
class QueueLine:
    """One queue (domain) with its waiting count and estimate."""

    code: str
    name: str
    name_en: str
    waiting: int
    zh: str  # "等候 12 人 · 约 25 分钟"
    en: str
    minutes: int | None = None  # the estimate in whole minutes, if any


@dataclass(frozen=True)
class PausedLine:
    """A window that is not serving, with the reason staff gave."""

    window: int
    name: str
    zh: str
    en: str
    reason: str


@dataclass(frozen=True)
class WindowView:
    """What one window's display (窗口屏) shows."""

    number: int
    title_zh: str
    title_en: str
    name: str
    name_en: str
    current: str | None  # ticket number, or None
    current_zh: str  # the number or "暂无叫号"
    paused: bool
    status_zh: str  # "" when open
    status_en: str
    reason: str


@dataclass(frozen=True)
class BoardView:
    """Everything the lobby board shows, already worded."""

    hall_name: str
    hall_name_en: str
    calls: list[CallLine] = field(default_factory=list)
    queues: list[QueueLine] = field(default_factory=list)
    paused: list[PausedLine] = field(default_factory=list)
    notice: str = ""
    stale: bool = False
    stale_text: str = ""
    newest_key: str | None = None  # changes exactly when a new call (or recall) arrives
    silent: bool = True

    @property
    def notice_text(self) -> str:
        """The notice line with its label, or "" when there is no notice."""
        return s.zh("notice_label") + self.notice if self.notice else ""


NOTICE_LABEL = re.compile(r"^\s*(?:通知|公告|notice)\s*[:：]?\s*", re.IGNORECASE)


def clean_notice(text: str) -> str:
    """The notice without a label staff typed themselves ("通知：…"): the board adds its own, once."""
    return NOTICE_LABEL.sub("", text).strip()


def pages(items: Sequence[T], per_page: int) -> list[list[T]]:
    """`items` in pages of `per_page` whole rows (at least one page, at least one row a page)."""
    per = max(1, per_page)
    return [list(items[i : i + per]) for i in range(0, len(items), per)] or [[]]


def wait_minutes(estimated_wait_s: float | None) -> int | None:
    """Whole minutes, rounded up, of an estimate in seconds (None stays None)."""
    if estimated_wait_s is None:
        return None
    return max(0, math.ceil(float(estimated_wait_s) / 60))


def waiting_text(waiting: int, estimated_wait_s: float | None, lang: str = "en") -> tuple[str, str]:
    """("等候 12 人 · 约 25 分钟", "12 waiting · about 25 min"); shorter when nobody waits or no estimate."""
    if waiting <= 0:
        return s.zh("waiting_none"), s.second("waiting_none", lang)
    minutes = wait_minutes(estimated_wait_s)
    if minutes is None:
        return s.zh("waiting_n", n=waiting), s.second("waiting_n", lang, n=waiting)
    return s.zh("waiting", n=waiting, minutes=minutes), s.second("waiting", lang, n=waiting, minutes=minutes)


def window_names(state: Mapping[str, Any], window: int) -> Mapping[str, str]:
    """The window's name in each of the hall's languages, where the hall names it in them (board state
    `hall.window_names`, config `names` of the window); empty when not."""
    return ((state.get("hall") or {}).get("window_names") or {}).get(str(window)) or {}


def call_line(
    call: Mapping[str, Any], *, newest: bool = False, lang: str = "en", names: Mapping[str, Any] | None = None
) -> CallLine | None:
    """A call line for one recent call, or None when it has no window; `names`: board state
    `hall.window_names` (the window's name is on the line where the hall gives one)."""
    window = call.get("window")
    number = call.get("number")
    if window is None or not number:
        return None
    w = int(window)
    own = (names or {}).get(str(w)) or {}
    return CallLine(
        number=str(number),
        window=w,
        zh=s.zh("call_line", window=w),
        en=s.second("call_line", lang, window=w),
        newest=newest,
        name_zh=str(own.get("zh") or ""),
        name_en=str(own.get(lang) or own.get("en") or "") if own.get("zh") else "",
    )


def _call_key(call: Mapping[str, Any]) -> str:
    """Identity of one call: the ticket and when it was called (a recall changes `at`)."""
    return f"{call.get('id')}|{call.get('number')}|{call.get('window')}|{call.get('at')}"


def second_languages(state: Mapping[str, Any]) -> list[str]:
    """The languages the second line goes round: the hall's (board state `hall.languages`) without Chinese."""
    langs = [x for x in (state.get("hall") or {}).get("languages") or ["zh", "en"] if x != "zh"]
    return langs or ["en"]


def board_view(
    state: Mapping[str, Any], *, stale: bool = False, max_calls: int = MAX_CALLS, lang: str = "en"
) -> BoardView:
    """The lobby board for a board-state dict, its second line in `lang`; `stale` adds the connection-lost mark."""
    hall = state.get("hall") or {}
    recent: Sequence[Mapping[str, Any]] = state.get("recent_calls") or []
    calls: list[CallLine] = []
    for c in recent:
        line = call_line(c, newest=not calls, lang=lang, names=hall.get("window_names"))
        if line is not None:
            calls.append(line)
        if len(calls) >= max_calls:
            break
    newest_key = next((_call_key(c) for c in recent if c.get("window") is not None and c.get("number")), None)
    queues = []
    for q in state.get("queues") or []:
        waiting = int(q.get("waiting") or 0)
        zh, en = waiting_text(waiting, q.get("estimated_wait_s"), lang)
        queues.append(
            QueueLine(
                code=str(q.get("code", "")),
                name=str(q.get("name", "")),
                name_en=str((q.get("names") or {}).get(lang) or q.get("name_en", "")),
                waiting=waiting,
                zh=zh,
                en=en,
                minutes=wait_minutes(q.get("estimated_wait_s")),
            )
        )
    paused = []
    for w in state.get("windows") or []:
        status = w.get("status", "open")
        if status in ("paused", "closed"):
            paused.append(
                PausedLine(
                    window=int(w["number"]),
                    name=str(w.get("name") or ""),
                    zh=s.zh(status),
                    en=s.second(status, lang),
                    reason=str(w.get("reason") or ""),
                )
            )
    return BoardView(
        hall_name=str(hall.get("name", "")),
        hall_name_en=str(hall.get("name_en", "")),
        calls=calls,
        queues=queues,
        paused=paused,
        notice=clean_notice(str(state.get("notice") or "")),
        stale=stale,
        stale_text=s.zh("connection_lost") + " / " + s.second("connection_lost", lang) if stale else "",
        newest_key=newest_key,
        silent=bool(hall.get("silent", True)),
    )


def paused_text(paused: Sequence[PausedLine]) -> str:
    """One line for every window not serving: "5 号窗口 暂停服务 Service paused（午休） · 7 号窗口 …"."""
    parts = []
    for p in paused:
        reason = f"（{p.reason}）" if p.reason else ""
        parts.append(f"{s.zh('window_title', window=p.window)} {p.zh} {p.en}{reason}")
    return " · ".join(parts)


def window_view(state: Mapping[str, Any], number: int, lang: str = "en") -> WindowView:
    """The display of window `number`, its second line in `lang`; an unknown window shows as closed."""
    w = next((x for x in state.get("windows") or [] if int(x.get("number", -1)) == number), None)
    title_zh, title_en = s.zh("window_title", window=number), s.second("window_title", lang, window=number)
    if w is None:
        closed = s.second("closed", lang)
        return WindowView(
            number, title_zh, title_en, "", "", None, s.zh("no_current"), True, s.zh("closed"), closed, ""
        )
    status = w.get("status", "open")
    paused = status in ("paused", "closed")
    current = (w.get("current") or {}).get("number")
    return WindowView(
        number=number,
        title_zh=title_zh,
        title_en=title_en,
        name=str(w.get("name") or ""),
        # the window's name in the second line's language where the hall gives one, else its English name
        name_en=str(window_names(state, number).get(lang) or w.get("name_en") or ""),
        current=str(current) if current else None,
        current_zh=str(current) if current else s.zh("no_current"),
        paused=paused,
        status_zh=s.zh(status) if paused else "",
        status_en=s.second(status, lang) if paused else "",
        reason=str(w.get("reason") or ""),
    )


def new_calls(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[CallLine]:
    """Calls in `new` that were not in `old`, oldest first: what a voice should announce."""
    seen = {_call_key(c) for c in (old or {}).get("recent_calls") or []}
    fresh = [c for c in new.get("recent_calls") or [] if _call_key(c) not in seen]
    lines = [call_line(c) for c in reversed(fresh)]
    return [x for x in lines if x is not None]


def unwrap_snapshot(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The board state from a `GET /board` answer (`{"seq", "data"}`) or a bare state dict."""
    if "hall" in doc:
        return dict(doc)
    data = doc.get("data")
    if not isinstance(data, Mapping):
        raise ValueError("not a board snapshot: no 'hall' and no 'data'")
    return dict(data)


class Flash:
    """When the newest call flashes: for `seconds` after it arrives, on and off every `period` seconds."""

    def __init__(self, seconds: float = 5.0, period: float = 0.5) -> None:
        """A flash that is not running."""
        self.seconds, self.period = seconds, period
        self._since: float | None = None

    def start(self, now: float) -> None:
        """Start flashing at time `now` (seconds, any monotonic clock)."""
        self._since = now

    def active(self, now: float) -> bool:
        """True while the flash runs."""
        return self._since is not None and now - self._since < self.seconds

    def lit(self, now: float) -> bool:
        """True in the highlighted phase; at rest (not flashing) the highlight stays on."""
        if self._since is None or not self.active(now):
            return True
        return int((now - self._since) / self.period) % 2 == 0


def ticker_x(box_width: float, text_width: float, t: float, speed: float = 120.0, hold: float = 3.0) -> float:
    """X offset of a notice that scrolls right to left at `speed` px/s: it stands still at 0 for `hold`
    seconds (readable at once), leaves on the left and comes back in from the right edge; a notice that
    fits stays still at 0."""
    if text_width <= box_width or t <= hold:
        return 0.0
    travel = box_width + text_width
    return box_width - (box_width + (t - hold) * speed) % travel
