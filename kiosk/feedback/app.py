"""The kiosk app with the complaint tile (投诉建议: 吐槽找茬 / 投诉受理) added, without changing `KioskApp`.

`FeedbackMixin` adds the tile on home and on the closed hall's 24-hour screen (it works unattended), installs
this part's screens, and routes drawing, Back, Home and the idle timer to `FeedbackUi` while one of its screens
is shown. It stacks on `KioskApp` or on any subclass of it (e.g. the self-submission kiosk): when the home screen
already has a row of extra tiles, the tile joins that row.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from kivy.factory import Factory  # type: ignore[import-untyped]
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty  # type: ignore[import-untyped]
from kivy.uix.boxlayout import BoxLayout  # type: ignore[import-untyped]
from kivy.uix.button import Button  # type: ignore[import-untyped]

from kiosk.app import KioskApp

from .ui import FeedbackUi

KV_FILE = Path(__file__).with_name("feedback.kv")
SCREENS = (
    "FbCategoryScreen",
    "FbReasonsScreen",
    "FbContactScreen",
    "FbPhoneScreen",
    "FbReviewScreen",
    "FbSendingScreen",
    "FbDoneScreen",
    "FbErrorScreen",
)
TILE_COLOUR = (0.77, 0.30, 0.20, 1)
KEY = (0.09, 0.40, 0.75, 1)


class FbTile(Button):
    """A category or a preset line: `key` is what a tap chooses; `chosen` marks a picked line."""

    key = StringProperty("")
    title = StringProperty("")
    chosen = BooleanProperty(False)


class FeedbackTile(Button):
    """The home tile: title and hint (drawn like the other extra tiles)."""

    title = StringProperty("")
    hint = StringProperty("")


Factory.register("FbTile", cls=FbTile)


class FeedbackMixin:
    """The complaint tile for a `KioskApp` (see the module doc); list it before the app class."""

    fb = ObjectProperty(None, rebind=True)

    def __init__(self, **kw: Any) -> None:
        """The app, plus this part's state."""
        super().__init__(**kw)
        self.fb = FeedbackUi(self)
        self._fb_tiles: list[FeedbackTile] = []

    def load_kv(self, filename: str | None = None) -> Any:
        """This part's rules first (the kiosk's own file does not know them)."""
        from kivy.lang import Builder  # type: ignore[import-untyped]

        Builder.load_file(str(KV_FILE))
        return super().load_kv(filename)  # type: ignore[misc]

    def build(self) -> Any:
        """The kiosk, then this part's screens, keypad and tiles."""
        root = super().build()  # type: ignore[misc]
        sm = root.ids.sm
        for cls in SCREENS:
            sm.add_widget(getattr(Factory, cls)())
        self._fb_add_tiles(root)
        self.render()
        return root

    def _fb_tile(self) -> FeedbackTile:
        tile = FeedbackTile(background_normal="", background_color=TILE_COLOUR)
        tile.bind(on_release=lambda _w: self.fb.tap_tile())
        self._fb_tiles.append(tile)
        return tile

    def _fb_add_tiles(self, root: Any) -> None:
        """Join another part's row of extra tiles when there is one; else a row of our own (home and closed)."""
        rows = {id(t.parent): t.parent for t in getattr(self, "_tiles", []) if t.parent is not None}
        if rows:
            for row in rows.values():
                row.add_widget(self._fb_tile())
            return
        root.ids.home_tiles.size_hint_y = 2.2 if not self.portrait else 3  # type: ignore[attr-defined]
        row = BoxLayout(padding=(60, 0, 60, 40), spacing=40)
        row.add_widget(self._fb_tile())
        root.ids.home_column.add_widget(row, index=1)  # under the big tiles, above the hint line
        closed = root.ids.sm.get_screen("closed").children[0]
        extra = BoxLayout(size_hint=(0.5, None), height=160, pos_hint={"center_x": 0.5})
        extra.add_widget(self._fb_tile())
        closed.spacing = min(closed.spacing, 20)
        closed.add_widget(extra, index=1)  # above the bottom spacer

    def render(self) -> None:
        """The kiosk's drawing, then this part's when one of its screens is shown."""
        super().render()  # type: ignore[misc]
        fb = getattr(self, "fb", None)
        if fb is None or self.root is None:  # type: ignore[attr-defined]
            return
        if fb.current:
            fb.flow.lang = self.flow.lang  # type: ignore[attr-defined]  # the top bar's 中文 ⇄ English applies here too
        fb.render(self.flow.lang)  # type: ignore[attr-defined]
        for tile in self._fb_tiles:
            tile.title, tile.hint = fb.tx["fb_tile"], fb.tx["fb_tile_hint"]
            tile.disabled = bool(getattr(self, "paused", False))  # a complaint needs the server
        current = fb.current
        sm = self.root.ids.sm  # type: ignore[attr-defined]
        if current and sm.has_screen(current):
            switched = sm.current != current
            sm.current = current
            if switched and sm.transition.is_active:
                sm.transition.stop()
            self._fb_fill(sm, current)
            self.screen = current
            self.countdown = fb.countdown

    def _fb_fill(self, sm: Any, name: str) -> None:
        """The category tiles and the preset lines of the current screen, rebuilt only when they change:
        a render between a touch's down and up must not swap the button under the finger."""
        f, lang = self.fb.flow, self.fb.flow.lang
        if name == "fb_category":
            grid = sm.get_screen(name).ids.grid
            shape = (lang, tuple(c.code for c in f.categories))
            if getattr(grid, "shape", None) != shape:
                grid.shape = shape
                grid.clear_widgets()
                for c in f.categories:
                    tile = FbTile(key=c.code, title=c.label(lang))
                    tile.bind(on_release=lambda w: self.fb.tap_category(w.key))
                    grid.add_widget(tile)
        elif name == "fb_reasons":
            screen = sm.get_screen(name)
            chips = screen.ids.chips
            key = (lang, f.category.code if f.category else "")
            if getattr(chips, "shape", None) != key:
                chips.shape = key
                chips.clear_widgets()
                for i, (zh, en) in enumerate(f.phrases()):
                    chip = FbTile(key=str(i), title=zh if lang == "zh" else f"{en}  {zh}")
                    chip.bind(on_release=lambda w: self.fb.tap_phrase(int(w.key)))
                    chips.add_widget(chip)
            for chip in chips.children:
                chip.chosen = int(chip.key) in f.chosen
            if screen.ids.note.text != f.note:
                screen.ids.note.text = f.note

    def _tick(self, dt: float) -> None:
        super()._tick(dt)  # type: ignore[misc]
        if self.fb.current is None:
            return
        if self.fb.tick(time.monotonic()):
            self.render()
        else:
            self.countdown = self.fb.countdown

    def tap_back(self) -> None:
        """Back within this part, or the app's own Back."""
        if self.fb.current:
            self.fb.back(time.monotonic())
            self.render()
        else:
            super().tap_back()  # type: ignore[misc]

    def tap_home(self) -> None:
        """Home, forgetting this part's citizen too."""
        self.fb.home()
        super().tap_home()  # type: ignore[misc]

    def tap_touch_activity(self) -> None:
        """Any touch restarts the idle timers."""
        super().tap_touch_activity()  # type: ignore[misc]
        if self.fb.current:
            self.fb.flow.touch(time.monotonic())


class FeedbackKioskApp(FeedbackMixin, KioskApp):
    """`KioskApp` plus the complaint tile."""
