"""The Kivy kiosk: a frame (top bar, home, the closed hall's screen, bottom bar) composed of parts (`kiosk.parts`).

The app holds what every part shares — the client, the devices (`kiosk.devices.Devices`), the kiosk's state
`Flow` (screen, language, elder mode, the hall's hours, the health banner), the idle timer — and routes to its parts:
their tiles on home, their screens, taps, cards and codes. Take-a-number, check-in and booking are parts like
self-submission and complaints (`kiosk.services` registers them all). Results of workers come back to the Kivy
thread with `Clock.schedule_once`; nothing here blocks the UI thread.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kivy.app import App  # type: ignore[import-untyped]
from kivy.clock import Clock  # type: ignore[import-untyped]
from kivy.factory import Factory  # type: ignore[import-untyped]
from kivy.properties import (  # type: ignore[import-untyped]
    BooleanProperty,
    DictProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout  # type: ignore[import-untyped]

from hall_client.screen import font_for, register_font, use_font

from .client import KioskClient, KioskClientError
from .devices import Devices, Printed
from .flow import Flow
from .parts import Part, PartFactory, Tile
from .strings import both, messages, next_lang
from .widgets import PartTile

if TYPE_CHECKING:
    from peripherals.printer.layout import Lane

__all__ = ["KioskApp"]

log = logging.getLogger("kiosk")

KV_FILE = Path(__file__).with_name("kiosk.kv")
HOURS_POLL_S = 30.0  # how often the kiosk asks whether the hall is open
logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry URLs, and URLs carry booking codes
logging.getLogger("httpcore").setLevel(logging.WARNING)


class KioskRoot(BoxLayout):
    """The whole kiosk window: top bar, the current screen, bottom bar (Back, Home, countdown)."""

    portrait = BooleanProperty(False)


class KioskApp(App):
    """The kiosk; `flow` holds the shared state, the properties below are what the frame draws (the parts have
    their own, as `app.<part name>.<property>`)."""

    kv_file = str(KV_FILE)
    tx = DictProperty(dict(messages("zh")))  # the message catalogue in the current language (kiosk.strings)
    screen = StringProperty("home")
    lang = StringProperty("zh")
    lang_font = StringProperty(font_for("en"))  # the language button's font: the next language's (한국어 on English)
    hall_name = StringProperty("")
    clock_text = StringProperty("")
    countdown = StringProperty("")
    message = StringProperty("")
    card_status = StringProperty("")
    elder = BooleanProperty(False)
    fs = NumericProperty(32)  # body type size (px): 32, 44 in elder mode
    portrait = BooleanProperty(False)
    closed = BooleanProperty(False)  # 24-hour mode: the hall is closed
    closed_offers = BooleanProperty(False)  # a big tile is offered on the closed screen (booking)
    opening = StringProperty("")
    demo_card = BooleanProperty(False)  # a sim:// reader: a button inserts the demo card
    banner = StringProperty("")  # home's health banner (both languages), "" when all is well
    paused = BooleanProperty(False)  # the server is away: what needs it is greyed out
    has_reader = BooleanProperty(False)  # an ID-card reader: home invites the card

    def __init__(
        self,
        *,
        client: KioskClient,
        server: str,
        printer_url: str | None = None,
        id_reader_url: str | None = None,
        scanner_url: str | None = None,
        portrait: bool = False,
        on_ready: Callable[[KioskApp], None] | None = None,
        parts: Sequence[PartFactory] = (),
        args: argparse.Namespace | None = None,
        **kw: Any,
    ) -> None:
        """A kiosk talking to `server` through `client`, with the devices the URLs name and the `parts` (its
        services, `kiosk.parts`), each made from the app and the command line `args`."""
        super().__init__(**kw)
        self.client, self.server = client, server
        self.devices = Devices(printer_url, id_reader_url, scanner_url)
        self.portrait = portrait
        self.flow = Flow(id_reader=id_reader_url is not None)
        self.flow.portrait = portrait
        self._on_ready = on_ready
        self._names = ("", "")
        self._tz: Any = ZoneInfo("Asia/Shanghai")
        self.printer_problem = ""  # the printer's status when it cannot print ("" when it can)
        self._feed: Any = None  # the queue loads from the event stream (kiosk.feed.QueueFeed)
        self.fixed_time: datetime | None = None  # the hall's time, when fixed (--fixed-time: screenshots)
        self.parts: list[Part] = []
        self._tiles: list[tuple[Tile, Any, bool]] = []  # each tile's widget, and whether on the closed screen
        for make in parts:
            part = make(self, args)
            self.apply_property(**{part.name: ObjectProperty(part, rebind=True)})  # app.<name> in the .kv files
            self.parts.append(part)

    def load_kv(self, filename: str | None = None) -> Any:
        """The parts' rules first: the frame's screens place their widgets."""
        from kivy.lang import Builder  # type: ignore[import-untyped]

        for part in self.parts:
            for kv in part.kv_files:
                Builder.load_file(str(kv))
        return super().load_kv(filename)

    # --- life -------------------------------------------------------------------------------------------

    def build(self) -> KioskRoot:
        """Fonts, the root, the parts' screens and tiles, the timers, the first loads."""
        register_font()
        self.title = "kiosk"
        root = KioskRoot(portrait=self.portrait)
        self.root = root
        for part in self.parts:
            part.install(root.ids.sm)
        self._add_tiles(root)
        self.render()
        Clock.schedule_interval(self._tick, 0.25)
        Clock.schedule_interval(lambda _dt: self.refresh_queues(), 60)  # a fallback: the feed is live
        self._feed = self.client.queue_feed(lambda qs: self._later(lambda: self.flow.set_domains(qs), render=True))
        self._feed.start()
        Clock.schedule_interval(lambda _dt: self._background(self._heartbeat), 60)
        self.refresh_hours()
        Clock.schedule_interval(lambda _dt: self.refresh_hours(), HOURS_POLL_S)
        self.refresh_queues()
        self._background(self._open_devices)
        for part in self.parts:
            part.start()
        self.render()
        return root

    def _tile(self, tile: Tile, widget: Any, closed: bool = False) -> Any:
        widget.bind(**{"on_press" if tile.at_press else "on_release": lambda _w: tile.tap()})
        self._tiles.append((tile, widget, closed))
        return widget

    def _add_tiles(self, root: KioskRoot) -> None:
        """The parts' big tiles on home, the others in a row under them; those that need no staff on the closed
        hall's 24-hour screen too."""
        tiles = [t for part in self.parts for t in part.tiles()]
        for t in tiles:
            if t.big:
                root.ids.home_tiles.add_widget(self._tile(t, Factory.HomeBig(background_color=t.colour)))
        small = [t for t in tiles if not t.big]
        if small:
            root.ids.home_tiles.size_hint_y = 1.6 if not self.portrait else 2
            row = BoxLayout(spacing=40, padding=(60, 0, 60, 40))
            for t in small:
                row.add_widget(self._tile(t, PartTile(key=t.key, background_color=t.colour)))
            root.ids.home_column.add_widget(row, index=1)  # under the big tiles, above the hint line
        closed = root.ids.closed_column
        for t in tiles:
            if t.big and t.when_closed:
                closed.add_widget(self._tile(t, Factory.ClosedBig(), closed=True), index=1)  # above the bottom spacer
        unattended = [t for t in small if t.when_closed]
        if unattended:
            extra = BoxLayout(spacing=40, size_hint_y=None, height=160)
            for t in unattended:
                extra.add_widget(self._tile(t, PartTile(key=t.key, background_color=t.colour), closed=True))
            closed.spacing = min(closed.spacing, 20)  # room for the extra row on a 1080-pixel landscape screen
            closed.add_widget(extra, index=1)

    def on_start(self) -> None:
        """Hand the app to whoever drives it (the --script runner); log once the home screen has been drawn."""
        Clock.schedule_once(lambda _dt: Clock.schedule_once(lambda _dt: log.info("kiosk ready: home drawn"), 0), 0)
        if self._on_ready is not None:
            self._on_ready(self)

    def on_stop(self) -> None:
        """Let the devices' workers, the queue feed and the parts' workers end."""
        for part in self.parts:
            part.stop()
        if self._feed is not None:
            self._feed.stop()
        self.devices.close()

    def now(self) -> datetime:
        """The hall's local time now (`fixed_time` when it is fixed: the screenshot tour)."""
        return (self.fixed_time or datetime.now(self._tz)).astimezone(self._tz)

    def print_slip(
        self,
        number: str,
        names: tuple[str, str],
        *,
        issued_at: datetime | None = None,
        tracking_url: str = "",
        lane: Lane = "normal",
        ahead: int = 0,
        wait_min: int = 0,
        lang: str | None = None,
    ) -> Printed:
        """A slip on the ticket printer under the hall's names (worker thread): `number` large, the two `names`
        (Chinese, English) under it, the time (now unless given), a QR code of `tracking_url`; what became of it."""
        from peripherals.printer import TicketData

        zh, en = self._names
        return self.devices.print_slip(
            TicketData(
                hall_name=zh,
                hall_name_en=en,
                number=number,
                domain_name=names[0],
                domain_name_en=names[1],
                people_ahead=ahead,
                issued_at=issued_at or self.now(),
                tracking_url=tracking_url,
                lane=lane,
                estimated_wait_min=wait_min,
                lang=lang,
            )
        )

    @staticmethod
    def _background(fn: Callable[[], None]) -> None:
        threading.Thread(target=fn, daemon=True).start()

    def _later(self, fn: Callable[[], object], *, render: bool = False) -> None:
        """Run `fn` on the Kivy thread (from a worker), then redraw when asked."""

        def run(_dt: float) -> None:
            fn()
            if render:
                self.render()

        Clock.schedule_once(run, 0)

    # --- drawing ----------------------------------------------------------------------------------------

    def render(self) -> None:
        """Copy the flow's state into the properties the frame draws, then each part's (Kivy thread)."""
        f = self.flow
        if f.lang != self.lang:
            use_font(f.lang)  # before the texts change: Hangul needs Noto CJK, Chinese stays in WenQuanYi
        self.tx = dict(messages(f.lang))  # unformatted
        self.elder, self.fs = f.elder, (44 if f.elder else 32)
        self.lang = f.lang
        self.lang_font = font_for(next_lang(f.lang))
        zh, en = self._names
        self.hall_name = (en or zh) if f.lang == "en" else zh
        self.message = f.message
        self.paused = f.paused
        problem = "paused" if f.paused else ("printer_down" if self.printer_problem else "")
        self.banner = both(problem, sep="\n") if problem else ""
        self.card_status = f.text("id_unreadable") if f.card_error else ""
        self.has_reader = self.devices.reader is not None
        self.closed, self.opening = not f.open_now, f.opening()
        shown = "closed" if f.screen == "home" and not f.open_now else f.screen
        if self.root is not None and self.root.ids.sm.current != shown:
            self.root.ids.sm.current = shown
        self.screen = f.screen
        self._render_time()
        self._render_parts()
        self.devices.card_wanted = self.card_wanted()

    def _render_parts(self) -> None:
        """Each part's drawing and tiles; the screen of the part whose screen shows (over the frame's)."""
        f = self.flow
        for part in self.parts:
            part.render(f.lang, f.elder)
        self.closed_offers = False
        for tile, w, closed in self._tiles:
            offered = tile.offered() if tile.offered is not None else True
            if tile.big and closed:  # the closed screen's big button
                w.text, w.hidden = self.tx[tile.key], not offered
                self.closed_offers = self.closed_offers or offered
                continue
            w.title, w.hint = self.tx[tile.key], self.tx[tile.key + "_hint"]
            w.disabled = not offered or (self.paused and tile.needs_server)
            if tile.big:
                w.hidden = not offered
        sm = self.root.ids.sm if self.root is not None else None
        shown = self.shown_part()
        current = shown.current if shown is not None else None
        if shown is None or not current or sm is None or not sm.has_screen(current):
            return
        switched = sm.current != current  # the frame's render just showed the kiosk's own screen underneath
        sm.current = current
        if switched and sm.transition.is_active:
            sm.transition.stop()  # else the manager ignores touches until the next frame
        shown.shown(sm, current)
        self.screen = current
        self.countdown = shown.countdown

    def shown_part(self) -> Part | None:
        """The part whose own screen shows now (over the kiosk's state), if any."""
        return next((p for p in self.parts if p.current), None)

    def _render_time(self) -> None:
        left = self.flow.seconds_left(time.monotonic())
        self.countdown = self.flow.text("countdown", s=left) if left is not None else ""
        fmt = "%H:%M" if self.portrait else "%Y-%m-%d %H:%M"
        self.clock_text = self.now().strftime(fmt)

    def _tick(self, _dt: float) -> None:
        if self.flow.tick(time.monotonic()):
            log.info("kiosk idle timeout: home, personal data cleared")
            self.render()
        else:
            self._render_time()
        part = self.shown_part()
        if part is None:
            return
        if part.tick(time.monotonic()):
            self.render()
        else:
            self.countdown = part.countdown

    # --- the frame's taps (Kivy thread; each renders at once: feedback within a frame) ---------------------

    def do(self, fn: Callable[[float], Any]) -> Any:
        """Call a flow step with the time now and redraw; its answer."""
        out = fn(time.monotonic())
        self.render()
        return out

    def tap_back(self) -> None:
        """Back: within the part whose screen shows, else the kiosk's own."""
        part = self.shown_part()
        if part is not None:
            part.back(time.monotonic())
            self.render()
            return
        self.do(self.flow.back)

    def tap_home(self) -> None:
        """Home, forgetting the citizen in every part too."""
        for part in self.parts:
            part.home()
        self.do(self.flow.home)

    def tap_lang(self) -> None:
        """The next language."""
        self.do(self.flow.toggle_lang)

    def tap_elder(self) -> None:
        """Elder mode on/off."""
        self.do(self.flow.toggle_elder)

    def tap_retry_card(self) -> None:
        """Read the card again (the reader listens all along: this clears the message)."""
        self.flow.card_error = False
        self.render()

    def tap_touch_activity(self) -> None:
        """Any touch restarts the idle timers (the kiosk's and the parts')."""
        now = time.monotonic()
        self.flow.touch(now)
        for part in self.parts:
            part.touch(now)

    def tap_sim_card(self) -> None:
        """Demo only: put the demo card on the simulated reader (a person placing their card)."""
        self.devices.insert_demo_card()
        self.flow.touch(time.monotonic())

    # --- devices: what they read goes to the part that takes it ------------------------------------------

    def _open_devices(self) -> None:
        d = self.devices
        d.open(
            on_card=lambda *card: self._later(partial(self.card_arrived, *card), render=True),
            on_card_failed=lambda: self._later(lambda: self.flow.card_failed(time.monotonic()), render=True),
            on_code=lambda payload: self._later(partial(self.code_scanned, payload), render=True),
            on_passport=lambda *zone: self._later(partial(self.passport_arrived, *zone), render=True),
            on_demo_reader=lambda: self._later(lambda: setattr(self, "demo_card", True)),
        )
        health = partial(self._later, render=True)
        self._background(
            lambda: d.health_loop(self.client.ping, lambda ok, pr: health(partial(self.set_health, ok, pr)))
        )
        self._heartbeat()

    def set_health(self, server_ok: bool, printer: str) -> None:
        """What the health poll found (Kivy thread): the flow pauses what needs the server while it is away."""
        self.flow.paused = not server_ok
        self.printer_problem = printer

    def card_wanted(self) -> bool:
        """Whether a part's screen shown takes an ID card now."""
        return any(p.wants_card for p in self.parts)

    def card_arrived(self, number: str, name: str, id_type: str = "resident") -> None:
        """A card was read (Kivy thread): to the part whose screen takes it."""
        part = next((p for p in self.parts if p.wants_card), None)
        if part is not None:
            part.card(name, number, id_type)

    def code_scanned(self, payload: str) -> None:
        """The scanner read a code (Kivy thread): to the part that takes it."""
        log.info("kiosk scanned a code")  # never the code itself: it is the holder's proof
        self.flow.touch(time.monotonic())
        any(p.scanned(payload) for p in self.parts)

    def passport_arrived(self, number: str, nationality: str, name: str) -> None:
        """A passport's zone was read (Kivy thread): to the part that takes it (take-a-number, check-in, booking)."""
        if not any(p.passport(number, nationality, name) for p in self.parts):
            log.info("kiosk passport read on screen %s: not used there", self.flow.screen)

    def _heartbeat(self) -> None:
        """Report the printer's health to the server (staff see paper out there), or, while the printer is fine,
        what the parts' devices or queues need staff for."""
        problems = [p for part in self.parts for p in part.problems()]
        health = self.devices.printer_health()
        if problems and (health is None or health.ok):
            status, detail = "error", "; ".join(problems)[:200]
        else:
            status, detail = (health.status, health.detail or "") if health is not None else ("ok", "no printer")
        try:
            self.client.report_health(status, detail)
        except KioskClientError as e:
            log.warning("kiosk health report: %s", type(e).__name__)

    # --- the hall: queues and hours (threads; results back with Clock) ------------------------------------

    def refresh_queues(self) -> None:
        """Fetch the domains' loads in the background."""

        def work() -> None:
            try:
                qs = self.client.queues()
            except KioskClientError as e:
                log.warning("kiosk queues: %s", e)
                return
            self._later(lambda: self.flow.set_domains(qs), render=True)

        self._background(work)

    def refresh_hours(self) -> None:
        """Fetch the hall's names, timezone, open/closed and next opening in the background."""

        def work() -> None:
            try:
                info = self.client.hall_info()
            except KioskClientError as e:
                log.warning("kiosk hours: %s", e)
                return

            def done() -> None:
                if info:
                    self._names = (str(info.get("name") or ""), str(info.get("name_en") or ""))
                    self._tz = hall_zone(info, self._tz)
                if info and self.flow.set_hall(info):
                    log.info("kiosk mode: %s", "open" if self.flow.open_now else "closed")
                self.render()

            self._later(done)

        self._background(work)


def hall_zone(info: dict[str, Any], default: Any) -> Any:
    """The hall's timezone from its GET /api/v1/halls entry (the clock, tickets and receipts use it)."""
    try:
        return ZoneInfo(str(info["timezone"])) if info.get("timezone") else default
    except (ZoneInfoNotFoundError, ValueError):
        return default
