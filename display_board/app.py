"""The Kivy board: lobby board (landscape or portrait) or one window's display, fed by `update()`."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kivy.app import App  # type: ignore[import-untyped]
from kivy.clock import Clock  # type: ignore[import-untyped]
from kivy.properties import (  # type: ignore[import-untyped]
    BooleanProperty,
    NumericProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout  # type: ignore[import-untyped]
from kivy.uix.stencilview import StencilView  # type: ignore[import-untyped]
from kivy.uix.widget import Widget  # type: ignore[import-untyped]

from hall_client.screen import font_for, register_font

from . import strings as s
from .view import (
    BoardView,
    Flash,
    PausedLine,
    QueueLine,
    board_view,
    pages,
    second_languages,
    ticker_x,
    window_view,
)

KV_FILE = Path(__file__).with_name("board.kv")


class CallRow(BoxLayout):
    """One earlier call under the newest: the number, then the window ("12 号窗口 / Window 12")."""

    number = StringProperty("")
    window = NumericProperty(0)
    place_zh = StringProperty("")
    place_en = StringProperty("")


class ListRow(BoxLayout):
    """A row of the waiting list: a domain with its waiting count and estimate, or a window not serving."""

    code = StringProperty("")  # the queue's code, or "window N"
    name = StringProperty("")
    name_en = StringProperty("")
    mid = StringProperty("")
    mid_en = StringProperty("")
    right = StringProperty("")
    right_en = StringProperty("")
    highlight = BooleanProperty(False)
    paused = BooleanProperty(False)


def queue_row(q: QueueLine, lang: str = "en") -> dict[str, Any]:
    """The row of one domain: "市场准入 | 等候 12 人 | 约 25 分钟" over the second line in `lang` (ListRow's
    properties)."""
    if q.waiting <= 0:
        mid, mid_en = s.zh("waiting_none"), s.second("waiting_none", lang)
        right, right_en = s.zh("no_wait"), s.second("no_wait", lang)
    else:
        mid, mid_en = s.zh("waiting_n", n=q.waiting), s.second("waiting_n", lang, n=q.waiting)
        minutes = q.minutes or 1
        right, right_en = s.zh("about_min", minutes=minutes), s.second("about_min", lang, minutes=minutes)
    return {
        "code": q.code,
        "name": q.name,
        "name_en": q.name_en,
        "mid": mid,
        "mid_en": mid_en,
        "right": right,
        "right_en": right_en,
        "highlight": q.waiting > 0,
        "paused": False,
    }


def paused_row(p: PausedLine, lang: str = "en") -> dict[str, Any]:
    """The row of a window that is not serving: "4 号窗口 | 暂停服务 | 午休" (ListRow's properties)."""
    return {
        "code": f"window {p.window}",
        "name": s.zh("window_title", window=p.window),
        "name_en": s.second("window_title", lang, window=p.window),
        "mid": p.zh,
        "mid_en": p.en,
        "right": p.reason,
        "right_en": "",
        "highlight": False,
        "paused": True,
    }


class NoticeTicker(StencilView):
    """The notice line, scrolling right to left when it does not fit."""

    text = StringProperty("")
    offset = NumericProperty(0.0)

    def tick(self, t: float) -> None:
        """Move the text for time `t` (seconds)."""
        self.offset = ticker_x(self.width, self.ids.label.width, t)


class LobbyBoard(BoxLayout):
    """The lobby board: hall and clock, latest calls, waiting per domain and windows not serving, notice.

    Only whole rows are shown: the earlier calls that do not fit under the newest are left out, and the waiting
    list is cut into pages of the rows that fit, turned by `turn_page()` (the app's clock)."""

    portrait = BooleanProperty(False)
    hall_name = StringProperty("")
    hall_name_en = StringProperty("")
    clock_text = StringProperty("")
    stale_text = StringProperty("")
    newest_number = StringProperty("")
    newest_zh = StringProperty("")
    newest_en = StringProperty("")
    newest_name = StringProperty("")  # the window's own name: Chinese · the second line's language
    notice_text = StringProperty("")
    pager_text = StringProperty("")
    lit = BooleanProperty(True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view: BoardView | None = None
        self.lang = "en"
        self.page = 0
        self.pages: list[list[ListRow]] = [[]]
        self.seen: set[str] = set()  # codes of the rows shown so far (tests: every domain within a cycle)
        self._rows: dict[str, ListRow] = {}  # kept between updates: building widgets is the slow part
        self.ids.queues.bind(height=lambda *_: self.relayout())
        self.ids.calls.bind(height=lambda *_: self.relayout())

    def show(self, state: Mapping[str, Any], stale: bool, lang: str = "en") -> str | None:
        """Show `state`, the second line in `lang`; returns the newest call's key (for flashing)."""
        v = board_view(state, stale=stale, lang=lang)
        self.view = v
        self.hall_name = v.hall_name
        self.hall_name_en = v.hall_name_en
        self.stale_text = v.stale_text
        self.notice_text = v.notice
        newest = v.calls[0] if v.calls else None
        self.newest_number = newest.number if newest else ""
        self.newest_zh = newest.zh if newest else s.zh("no_current")
        self.newest_en = newest.en if newest else s.second("no_current", lang)
        name = " · ".join(x for x in (newest.name_zh, newest.name_en) if x) if newest is not None else ""
        self.newest_name = name if App.get_running_app().name_h > 0 else ""
        self.lang = lang
        self.relayout()
        return v.newest_key

    def relayout(self) -> None:
        """Fill the calls and the waiting list with the rows that fit their boxes now."""
        v = self.view
        if v is None:
            return
        app = App.get_running_app()
        calls = self.ids.calls
        calls.clear_widgets()
        fit = int(calls.height // app.call_h) if app.call_h else 0
        for c in v.calls[1 : 1 + fit]:
            place_en = s.second("window_word", self.lang) if self.lang != "en" else c.en
            calls.add_widget(CallRow(number=c.number, window=c.window, place_zh=s.zh("window_word"), place_en=place_en))
        calls.add_widget(Widget())
        props = [*(queue_row(q, self.lang) for q in v.queues), *(paused_row(p, self.lang) for p in v.paused)]
        rows = [self._row(p) for p in props]
        per = int(self.ids.queues.height // app.row_h) if app.row_h else 1
        self.pages = pages(rows, per)
        self.show_page()

    def _row(self, props: dict[str, Any]) -> ListRow:
        """The row widget for `props`, reused when its code was shown before."""
        row = self._rows.get(props["code"])
        if row is None:
            row = self._rows[props["code"]] = ListRow(**props)
        else:
            for k, val in props.items():
                if getattr(row, k) != val:
                    setattr(row, k, val)
        return row

    def show_page(self) -> None:
        """Put the current page's rows in the list."""
        self.page %= len(self.pages)
        box = self.ids.queues
        box.clear_widgets()
        for row in self.pages[self.page]:
            box.add_widget(row)
            self.seen.add(row.code)
        box.add_widget(Widget())
        n = len(self.pages)
        dots = " ".join("●" if i == self.page else "○" for i in range(n))
        self.pager_text = f"{self.page + 1}/{n} {dots}" if n > 1 else ""

    def turn_page(self) -> None:
        """The next page of the waiting list."""
        if len(self.pages) > 1:
            self.page += 1
            self.show_page()


class WindowDisplay(BoxLayout):
    """One window's display (窗口屏): its number and name, the current ticket, its status."""

    number = NumericProperty(0)
    title_zh = StringProperty("")
    title_en = StringProperty("")
    window_name = StringProperty("")
    current = StringProperty("")
    has_current = BooleanProperty(False)
    status_zh = StringProperty("")
    status_en = StringProperty("")
    reason = StringProperty("")
    paused = BooleanProperty(False)
    stale_text = StringProperty("")
    lit = BooleanProperty(False)

    def show(self, state: Mapping[str, Any], stale: bool, lang: str = "en") -> str | None:
        """Show `state`, the second line in `lang`; returns the current ticket (for flashing)."""
        v = window_view(state, int(self.number), lang)
        self.title_zh, self.title_en = v.title_zh, v.title_en
        self.window_name = " ".join(x for x in (v.name, v.name_en) if x)
        self.current = v.current_zh
        self.has_current = v.current is not None
        self.paused = v.paused
        self.status_zh, self.status_en = (v.status_zh, v.status_en) if v.paused else ("", "")
        self.reason = v.reason
        self.stale_text = s.zh("connection_lost") + " / " + s.second("connection_lost", lang) if stale else ""
        return v.current


def _line_ratio(base: str, other: str) -> float:
    """How much smaller `other` must be drawn for its line to be as tall as `base`'s at the same size (Noto Sans CJK's
    line is taller than WenQuanYi's: the board's boxes are measured for WenQuanYi); 1.0 for the same font file."""
    from kivy.core.text import Label as CoreLabel  # type: ignore[import-untyped]

    heights = []
    for font in (base, other):
        core = CoreLabel(text="Hg 창", font_size=100, font_name=font)
        core.refresh()
        heights.append(float(core.texture.size[1]))
    return min(1.0, heights[0] / heights[1]) if heights[1] else 1.0


class BoardApp(App):
    """The board application. `update(state, stale)` must be called on the Kivy thread.

    Every size is a multiple of `u`, one pixel of a 1920×1080 screen (of 1080×1920 in portrait), so the board
    keeps its proportions on any screen; the called numbers never go below 120 px."""

    kv_file = str(KV_FILE)  # App.run() loads it once, before build()
    u = NumericProperty(1.0)
    row_h = NumericProperty(108.0)  # a row of the waiting list
    call_px = NumericProperty(120.0)  # an earlier call's number
    call_h = NumericProperty(144.0)
    newest_px = NumericProperty(200.0)  # the newest call's number
    newest_h = NumericProperty(400.0)
    name_h = NumericProperty(0.0)  # the newest call's window-name line: on screens of 1000 lines or more only
    second_lang = StringProperty("en")  # the second line's language now (the first is Chinese)
    second_font = StringProperty("Roboto")  # the font it is drawn in (Kivy's default name: WenQuanYi, registered)
    second_scale = NumericProperty(1.0)  # its size against WenQuanYi's: the same line height in the same boxes

    def __init__(
        self,
        *,
        window: int | None = None,
        portrait: bool = False,
        flash_s: float = 5.0,
        page_s: float = 8.0,
        lang_s: float = 8.0,
        lang: str | None = None,
        fixed_time: datetime | None = None,
        on_ready: Callable[[BoardApp], None] | None = None,
        **kwargs: Any,
    ) -> None:
        """A lobby board, or the display of window `window`; the waiting list turns a page every `page_s`
        seconds (0: never); the second line goes round the hall's languages every `lang_s` seconds (0: never) or
        stays in `lang`; `fixed_time` stops the clock there (screenshots)."""
        super().__init__(**kwargs)
        self.page_s = page_s
        self.lang_s = lang_s
        self.pinned = lang
        self._state: Mapping[str, Any] | None = None
        self._stale = False
        self._turn = 0
        self._languages: Any = None  # the Clock event that turns the second line's language
        self.fixed_time = fixed_time
        self.window_number = window
        self.portrait = portrait
        self.flash = Flash(seconds=flash_s)
        self._on_ready = on_ready
        self._tz = ZoneInfo("Asia/Shanghai")
        self._key: str | None = None
        self._loaded = False
        self._t0 = time.monotonic()
        self.board: LobbyBoard | WindowDisplay | None = None

    def build(self) -> LobbyBoard | WindowDisplay:
        """Load the layout and build the lobby board or the window display."""
        from kivy.core.window import Window  # type: ignore[import-untyped]

        register_font()
        self.title = "display_board"
        self.scale(Window, Window.size)
        Window.bind(size=self.scale)
        if self.window_number is not None:
            self.board = WindowDisplay(number=self.window_number)
        else:
            self.board = LobbyBoard(portrait=self.portrait)
        Clock.schedule_interval(self._tick, 1 / 30)
        self._turning = Clock.schedule_interval(self._turn_page, self.page_s) if self.page_s > 0 else None
        if self.lang_s > 0 and self.pinned is None:
            self._languages = Clock.schedule_interval(self._turn_language, self.lang_s)
        self._use_language(self.pinned or "en")
        return self.board

    def _use_language(self, lang: str) -> None:
        """Draw the second line in `lang`, in its font (Noto Sans CJK for 한국어 and 日本語, hall_client.screen):
        Kivy has no fallback font, so the second-line labels get a font of their own; Chinese stays in WenQuanYi."""
        from kivy.core.text import LabelBase

        path = font_for(lang)
        name = f"HallSecond-{lang}"
        LabelBase.register(name, path)
        self.second_scale = _line_ratio("Roboto", name)
        self.second_font, self.second_lang = name, lang

    def _turn_language(self, _dt: float) -> None:
        """The next of the hall's languages on the second line."""
        if self._state is None:
            return
        langs = second_languages(self._state)
        self._turn = (self._turn + 1) % len(langs)
        if langs[self._turn] != self.second_lang:
            self._use_language(langs[self._turn])
            self.update(self._state, self._stale)

    def cycled(self) -> bool:
        """Whether every row of the waiting list has been on screen (always, when pages do not turn)."""
        board = self.board
        if not isinstance(board, LobbyBoard) or self._turning is None or board.view is None:
            return True
        return {r.code for page in board.pages for r in page} <= board.seen

    def freeze(self) -> None:
        """Stop turning pages and the notice, back to the first page (screenshots)."""
        if self._turning is not None:
            self._turning.cancel()
        self.fixed_time = self.fixed_time or datetime.now(self._tz)
        if self._languages is not None:  # and the second line back to the first language (or the one pinned)
            self._languages.cancel()
            if self._state is not None and self.second_lang != (first := second_languages(self._state)[0]):
                self._turn = 0
                self._use_language(first)
                self.update(self._state, self._stale)
        if isinstance(self.board, LobbyBoard):
            self.board.page = 0
            self.board.show_page()

    def scale(self, _window: Any, size: tuple[int, int]) -> None:
        """The sizes for a screen of `size` pixels."""
        w, h = size
        u = min(w / 1920, h / 1080) if w >= h else min(w / 1080, h / 1920)
        self.u = u
        self.row_h = round(48 * u * 1.22 + 28 * u * 1.25 + 6 * u)
        self.call_px = max(120.0, 120 * u)
        self.call_h = round(self.call_px * 1.2)
        self.newest_px = max(150.0, 200 * u)
        # the number, "请到 3 号窗口", the second line, the window's name (where the earlier calls keep their room)
        self.name_h = max(30, 40 * u) * 1.25 if h >= 1000 else 0.0
        self.newest_h = round(
            self.newest_px * 1.2 + max(72, 88 * u) * 1.2 + max(30, 40 * u) * 1.25 + self.name_h + 20 * u
        )

    def _turn_page(self, _dt: float) -> None:
        if isinstance(self.board, LobbyBoard):
            self.board.turn_page()

    def on_start(self) -> None:
        """Hand the app to whoever feeds it."""
        if self._on_ready is not None:
            self._on_ready(self)

    def update(self, state: Mapping[str, Any], stale: bool) -> None:
        """Show a new board state (Kivy thread only); a new newest call starts the flash."""
        assert self.board is not None
        tz = (state.get("hall") or {}).get("timezone")
        if tz:
            self._tz = ZoneInfo(str(tz))
        self._state, self._stale = state, stale
        langs = second_languages(state)
        if self.pinned is None and self.second_lang not in langs:
            self._turn = 0
            self._use_language(langs[0])
        key = self.board.show(state, stale, self.second_lang)
        if self._loaded and key is not None and key != self._key:
            self.flash.start(time.monotonic())
        self._key, self._loaded = key, True

    def _tick(self, _dt: float) -> None:
        """Clock, flash and notice scrolling."""
        now = time.monotonic()
        board = self.board
        if isinstance(board, LobbyBoard):
            fmt = "%H:%M:%S" if board.portrait else "%Y-%m-%d %H:%M:%S"
            board.clock_text = (self.fixed_time or datetime.now(self._tz)).astimezone(self._tz).strftime(fmt)
            board.lit = self.flash.lit(now)
            board.ids.ticker.tick(0 if self.fixed_time else now - self._t0)
        elif isinstance(board, WindowDisplay):
            board.lit = self.flash.active(now) and self.flash.lit(now)
