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

from hall_client.screen import register_font

from . import strings as s
from .view import Flash, board_view, paused_text, ticker_x, window_view

KV_FILE = Path(__file__).with_name("board.kv")


class CallRow(BoxLayout):
    """One earlier call in the list."""

    number = StringProperty("")
    place_zh = StringProperty("")
    place_en = StringProperty("")


class QueueRow(BoxLayout):
    """One queue with its waiting count and estimate."""

    name = StringProperty("")
    name_en = StringProperty("")
    zh = StringProperty("")
    en = StringProperty("")
    waiting = NumericProperty(0)


class NoticeTicker(StencilView):
    """The notice line, scrolling right to left when it does not fit."""

    text = StringProperty("")
    offset = NumericProperty(0.0)

    def tick(self, t: float) -> None:
        """Move the text for time `t` (seconds)."""
        self.offset = ticker_x(self.width, self.ids.label.width, t)


class LobbyBoard(BoxLayout):
    """The lobby board: hall and clock, latest calls, waiting per queue, paused windows, notice."""

    portrait = BooleanProperty(False)
    hall_name = StringProperty("")
    clock_text = StringProperty("")
    stale_text = StringProperty("")
    newest_number = StringProperty("")
    newest_zh = StringProperty("")
    newest_en = StringProperty("")
    notice_text = StringProperty("")
    paused_text = StringProperty("")
    lit = BooleanProperty(True)

    def show(self, state: Mapping[str, Any], stale: bool) -> str | None:
        """Show `state`; returns the newest call's key (for flashing)."""
        v = board_view(state, stale=stale, max_calls=7 if self.portrait else 6)
        self.hall_name = v.hall_name
        self.stale_text = v.stale_text
        self.notice_text = v.notice_text
        newest = v.calls[0] if v.calls else None
        self.newest_number = newest.number if newest else ""
        self.newest_zh = newest.zh if newest else s.zh("no_current")
        self.newest_en = newest.en if newest else s.en("no_current")
        calls = self.ids.calls
        calls.clear_widgets()
        for c in v.calls[1:]:
            calls.add_widget(CallRow(number=c.number, place_zh=c.zh, place_en=c.en))
        queues = self.ids.queues
        queues.clear_widgets()
        for q in v.queues:
            queues.add_widget(QueueRow(name=q.name, name_en=q.name_en, zh=q.zh, en=q.en, waiting=q.waiting))
        self.paused_text = paused_text(v.paused)
        return v.newest_key


class WindowDisplay(BoxLayout):
    """One window's display (窗口屏): its number and name, the current ticket, its status."""

    number = NumericProperty(0)
    title_zh = StringProperty("")
    title_en = StringProperty("")
    window_name = StringProperty("")
    current = StringProperty("")
    has_current = BooleanProperty(False)
    status_text = StringProperty("")
    reason = StringProperty("")
    paused = BooleanProperty(False)
    stale_text = StringProperty("")
    lit = BooleanProperty(False)

    def show(self, state: Mapping[str, Any], stale: bool) -> str | None:
        """Show `state`; returns the current ticket (for flashing)."""
        v = window_view(state, int(self.number))
        self.title_zh, self.title_en = v.title_zh, v.title_en
        self.window_name = " ".join(x for x in (v.name, v.name_en) if x)
        self.current = v.current_zh
        self.has_current = v.current is not None
        self.paused = v.paused
        self.status_text = f"{v.status_zh} {v.status_en}" if v.paused else ""
        self.reason = v.reason
        self.stale_text = s.both("connection_lost", sep=" / ") if stale else ""
        return v.current


class BoardApp(App):
    """The board application. `update(state, stale)` must be called on the Kivy thread."""

    kv_file = str(KV_FILE)  # App.run() loads it once, before build()

    def __init__(
        self,
        *,
        window: int | None = None,
        portrait: bool = False,
        flash_s: float = 5.0,
        on_ready: Callable[[BoardApp], None] | None = None,
        **kwargs: Any,
    ) -> None:
        """A lobby board, or the display of window `window`."""
        super().__init__(**kwargs)
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
        register_font()
        self.title = "display_board"
        if self.window_number is not None:
            self.board = WindowDisplay(number=self.window_number)
        else:
            self.board = LobbyBoard(portrait=self.portrait)
        Clock.schedule_interval(self._tick, 1 / 30)
        return self.board

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
        key = self.board.show(state, stale)
        if self._loaded and key is not None and key != self._key:
            self.flash.start(time.monotonic())
        self._key, self._loaded = key, True

    def _tick(self, _dt: float) -> None:
        """Clock, flash and notice scrolling."""
        now = time.monotonic()
        board = self.board
        if isinstance(board, LobbyBoard):
            fmt = "%H:%M:%S" if board.portrait else "%Y-%m-%d %H:%M:%S"
            board.clock_text = datetime.now(self._tz).strftime(fmt)
            board.lit = self.flash.lit(now)
            board.ids.ticker.tick(now - self._t0)
        elif isinstance(board, WindowDisplay):
            board.lit = self.flash.active(now) and self.flash.lit(now)
