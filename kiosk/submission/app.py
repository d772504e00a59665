"""The kiosk app with self-submission (自助申报), case query (办件查询) and result pickup (取件) added.

`SubmissionKioskApp` extends `KioskApp` without changing it: it adds the three home tiles (also on the closed
hall's 24-hour screen), installs this part's screens, and routes drawing, Back, Home and the idle timer to
`SubmissionUi` while one of its screens is shown.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from kivy.properties import ObjectProperty, StringProperty  # type: ignore[import-untyped]
from kivy.uix.boxlayout import BoxLayout  # type: ignore[import-untyped]
from kivy.uix.button import Button  # type: ignore[import-untyped]

from kiosk.app import KioskApp

from .client import CasesClient, CasesClientError
from .outbox import Outbox
from .screens import install, load_kv
from .ui import SubmissionUi

log = logging.getLogger("kiosk")

TILES = (  # catalogue key (its hint is key + "_hint"), the tap, the colour
    ("submit_tile", "tap_submit_tile", (0.80, 0.42, 0.08, 1)),
    ("query_tile", "tap_query_tile", (0.05, 0.45, 0.60, 1)),
    ("pickup_tile", "tap_pickup_tile", (0.45, 0.35, 0.20, 1)),
)


class HomeTile(Button):
    """A home tile of this part: its title and a hint line."""

    key = StringProperty("")
    title = StringProperty("")
    hint = StringProperty("")


class SubmissionKioskApp(KioskApp):
    """`KioskApp` plus self-submission, case query and pickup (see the module doc)."""

    sub = ObjectProperty(None, rebind=True)

    def __init__(self, *, cases: CasesClient, outbox: Outbox | None, camera: Any = None, **kw: Any) -> None:
        """The kiosk with the cases client, the outbox and the capture device (None: capturing says so)."""
        super().__init__(**kw)
        self.sub = SubmissionUi(self, cases, outbox, camera)
        self._tiles: list[HomeTile] = []

    def load_kv(self, filename: str | None = None) -> Any:
        """This part's rules first (the kiosk's own file does not know them)."""
        load_kv()
        return super().load_kv(filename)

    def build(self) -> Any:
        """The kiosk, then this part's screens and tiles, then the outbox's sender."""
        root = super().build()
        install(root.ids.sm, self.sub)
        self._add_tiles(root)
        self.sub.start()
        self.render()
        return root

    def _row(self) -> BoxLayout:
        row = BoxLayout(spacing=40)
        for title, tap, colour in TILES:
            if title == "submit_tile" and self.sub.camera is None:
                continue  # no document camera configured: this kiosk cannot take applications
            tile = HomeTile(key=title, background_color=colour)
            tile.bind(on_release=lambda _w, tap=tap: getattr(self.sub, tap)())
            self._tiles.append(tile)
            row.add_widget(tile)
        return row

    def _add_tiles(self, root: Any) -> None:
        """A second row of tiles on home; the same row on the closed hall's screen (they work unattended)."""
        column = root.ids.home_column
        root.ids.home_tiles.size_hint_y = 1.6 if not self.portrait else 2
        row = self._row()
        row.padding = (60, 0, 60, 40)
        column.add_widget(row, index=1)  # under the big tiles, above the hint line
        closed = root.ids.sm.get_screen("closed").children[0]
        extra = self._row()
        extra.size_hint_y = None
        extra.height = 160
        closed.spacing = min(closed.spacing, 20)  # room for the extra row on a 1080-pixel landscape screen
        closed.add_widget(extra, index=1)  # above the bottom spacer

    def render(self) -> None:
        """The kiosk's drawing, then this part's when one of its screens is shown."""
        super().render()
        sub = self.sub
        if sub is None:
            return
        sub.render(self.flow.lang, self.flow.elder)
        for tile in self._tiles:
            tile.title, tile.hint = sub.tx[tile.key], sub.tx[tile.key + "_hint"]
            tile.disabled = self.paused and tile.key != "submit_tile"  # submissions wait in the outbox
        current = sub.current
        sm = self.root.ids.sm if self.root is not None else None
        if current and sm is not None and sm.has_screen(current):
            switched = sm.current != current  # the kiosk's render just showed its own screen underneath
            sm.current = current
            if switched and sm.transition.is_active:
                sm.transition.stop()  # else the manager ignores touches until the next frame
            self.screen = current
            self.countdown = sub.countdown

    def card_wanted(self) -> bool:
        """The kiosk's card screens, and this part's."""
        return (self.sub is not None and self.sub.wants_card) or super().card_wanted()

    def card_arrived(self, number: str, name: str) -> None:
        """To this part when one of its card screens shows, else the kiosk's."""
        if self.sub.wants_card:
            self.sub.card(name, number)
        else:
            super().card_arrived(number, name)

    def _tick(self, dt: float) -> None:
        super()._tick(dt)
        if self.sub.current is None:
            return
        if self.sub.tick(time.monotonic()):
            self.render()
        else:
            self.countdown = self.sub.countdown

    def tap_back(self) -> None:
        """Back within this part, or the kiosk's own Back."""
        if self.sub.current:
            self.sub.back(time.monotonic())
            self.render()
        else:
            super().tap_back()

    def tap_home(self) -> None:
        """Home, forgetting this part's citizen too."""
        self.sub.home()
        super().tap_home()

    def tap_touch_activity(self) -> None:
        """Any touch restarts the idle timers."""
        super().tap_touch_activity()
        now = time.monotonic()
        if self.sub.flow.screen:
            self.sub.flow.touch(now)
        if self.sub.query.screen:
            self.sub.query.touch(now)

    def _heartbeat(self) -> None:
        """The kiosk's report, unless the printer is fine and the camera or the outbox needs staff."""
        with self._device_lock:
            printer = self._printer.health() if self._printer is not None else None
        problems = []
        if self.sub.camera is not None:
            camera = self.sub.camera.health()
            if not camera.ok:
                problems.append(f"capture device {camera.status}: {camera.detail}")
        failed = self.sub.outbox.failed() if self.sub.outbox is not None else []
        if failed:
            refs = " ".join(str(f.get("reference")) for f in failed[:5])
            problems.append(f"自助申报被拒 / refused submissions: {len(failed)} ({refs})")
        if problems and (printer is None or printer.ok):
            try:
                self.sub.cases.report_health("error", "; ".join(problems))
            except CasesClientError as e:
                log.warning("kiosk health report: %s", type(e).__name__)
            return
        super()._heartbeat()

    def on_stop(self) -> None:
        """Stop the outbox's sender (its entries stay on disk) and the kiosk's workers."""
        super().on_stop()
        self.sub.stop()
