"""The Kivy kiosk: draws `Flow`, turns taps into `Flow` calls, and runs all network and device I/O on threads.

Results come back to the Kivy thread with `Clock.schedule_once`; nothing here blocks the UI thread.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kivy.app import App  # type: ignore[import-untyped]
from kivy.clock import Clock  # type: ignore[import-untyped]
from kivy.properties import (  # type: ignore[import-untyped]
    BooleanProperty,
    DictProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout  # type: ignore[import-untyped]
from kivy.uix.widget import Widget  # type: ignore[import-untyped]

from hall_client.screen import font_for, register_font, use_font

from .app_booking import BookingApp
from .app_devices import DeviceApp
from .client import KioskClient, KioskClientError, Refused, Unreachable
from .flow import CODE_LEN, CheckInRequest, Flow, IssueRequest
from .parts import Part, PartFactory, Tile
from .strings import both, messages, next_lang
from .widgets import DomainTile, PartTile, QrCode

__all__ = ["KioskApp", "QrCode"]

log = logging.getLogger("kiosk")

KV_FILE = Path(__file__).with_name("kiosk.kv")
BOOKING_KV = Path(__file__).with_name("booking.kv")  # the booking and phone screens (loaded first)
CHECKIN_KV = Path(__file__).with_name("checkin.kv")  # the check-in screens (loaded before kiosk.kv too)
logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry URLs, and URLs carry booking codes
logging.getLogger("httpcore").setLevel(logging.WARNING)


class KioskRoot(BoxLayout):
    """The whole kiosk window: top bar, the current screen, bottom bar (Back, Home, countdown)."""

    portrait = BooleanProperty(False)


class KioskApp(BookingApp, DeviceApp, App):
    """The kiosk; `flow` holds the state, the properties below are what the .kv draws."""

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
    confirm_service = StringProperty("")
    confirm_card = StringProperty("")
    number = StringProperty("")
    ticket_service = StringProperty("")
    ahead = StringProperty("")
    lane = StringProperty("")
    print_status = StringProperty("")
    qr = StringProperty("")
    note = StringProperty("")
    code_shown = StringProperty("")
    offer_take = BooleanProperty(False)
    elder = BooleanProperty(False)
    fs = NumericProperty(32)  # body type size (px): 32, 44 in elder mode
    closed = BooleanProperty(False)  # 24-hour mode: the hall is closed
    opening = StringProperty("")
    phone_shown = StringProperty("")
    phone_hint = StringProperty("")
    phone_skip_ok = BooleanProperty(True)
    confirm_phone = StringProperty("")
    ticket_phone = StringProperty("")
    book_summary = StringProperty("")
    book_status = StringProperty("")
    booked_code = StringProperty("")
    booked_when = StringProperty("")
    booked_who = StringProperty("")
    booked_hint = StringProperty("")
    booked_qr = StringProperty("")
    can_book = BooleanProperty(False)
    booked_service = StringProperty("")
    demo_card = BooleanProperty(False)  # a sim:// reader: a button inserts the demo card
    banner = StringProperty("")  # home's health banner (both languages), "" when all is well
    paused = BooleanProperty(False)  # the server is away: what needs it is greyed out
    has_reader = BooleanProperty(False)  # an ID-card reader: home invites the card
    page = NumericProperty(0)  # the domain screen's page (from 0) and how many there are
    pages = NumericProperty(1)
    page_dots = StringProperty("")

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
        """A kiosk talking to `server` through `client`, with the devices the URLs name and the `parts` (services
        beyond take-a-number, `kiosk.parts`), each made from the app and the command line `args`."""
        super().__init__(**kw)
        self.client, self.server = client, server
        self.printer_url, self.id_reader_url, self.scanner_url = printer_url, id_reader_url, scanner_url
        self.portrait = portrait
        self.flow = Flow(id_reader=id_reader_url is not None)
        self.flow.portrait = portrait
        self._on_ready = on_ready
        self._names = ("", "")
        self._tz = ZoneInfo("Asia/Shanghai")
        self._printer: Any = None
        self._reader: Any = None
        self.scanner: Any = None  # the code scanner (the --script runner scans with a sim:// one)
        self._stopping = threading.Event()
        self._device_lock = threading.Lock()
        self.printer_problem = ""  # the printer's status when it cannot print ("" when it can)
        self._card_wanted = False  # read by the card reader's worker: whether the screen takes a card now
        self._sim: Any = None  # the simulated reader's SAM (sim:// only): the demo card goes in on a tap
        self._feed: Any = None  # the queue loads from the event stream (kiosk.feed.QueueFeed)
        self.fixed_time: datetime | None = None  # the hall's time, when fixed (--fixed-time: screenshots)
        self.parts: list[Part] = []
        self._part_tiles: list[tuple[Tile, PartTile]] = []
        for make in parts:
            part = make(self, args)
            self.apply_property(**{part.name: ObjectProperty(part, rebind=True)})  # app.<name> in the .kv files
            self.parts.append(part)

    def load_kv(self, filename: str | None = None) -> Any:
        """The booking screens' rules first: kiosk.kv uses them."""
        from kivy.lang import Builder  # type: ignore[import-untyped]

        for part in self.parts:
            for kv in part.kv_files:
                Builder.load_file(str(kv))
        Builder.load_file(str(BOOKING_KV))
        Builder.load_file(str(CHECKIN_KV))
        return super().load_kv(filename)

    # --- life -------------------------------------------------------------------------------------------

    def build(self) -> KioskRoot:
        """Fonts, the root, the timers, the first loads."""
        register_font()
        self.title = "kiosk"
        root = KioskRoot(portrait=self.portrait)
        self.root = root
        self.render()
        Clock.schedule_interval(self._tick, 0.25)
        Clock.schedule_interval(lambda _dt: self.refresh_queues(), 60)  # a fallback: the feed is live
        self._feed = self.client.queue_feed(lambda qs: self._later(lambda: self.flow.set_domains(qs), render=True))
        self._feed.start()
        Clock.schedule_interval(lambda _dt: self._background(self._heartbeat), 60)
        self.start_hours()
        self.refresh_queues()
        self._background(self._open_devices)
        for part in self.parts:
            part.install(root.ids.sm)
        self._add_part_tiles(root)
        for part in self.parts:
            part.start()
        self.render()
        return root

    def _part_tile(self, tile: Tile) -> PartTile:
        w = PartTile(key=tile.key, background_color=tile.colour)
        w.bind(on_release=lambda _w: tile.tap())
        self._part_tiles.append((tile, w))
        return w

    def _add_part_tiles(self, root: KioskRoot) -> None:
        """The parts' tiles in a row under take-a-number's big tiles on home, and those that need no staff in a
        row on the closed hall's 24-hour screen."""
        tiles = [t for part in self.parts for t in part.tiles()]
        if not tiles:
            return
        root.ids.home_tiles.size_hint_y = 1.6 if not self.portrait else 2
        row = BoxLayout(spacing=40, padding=(60, 0, 60, 40))
        for t in tiles:
            row.add_widget(self._part_tile(t))
        root.ids.home_column.add_widget(row, index=1)  # under the big tiles, above the hint line
        unattended = [t for t in tiles if t.when_closed]
        if unattended:
            closed = root.ids.sm.get_screen("closed").children[0]
            extra = BoxLayout(spacing=40, size_hint_y=None, height=160)
            for t in unattended:
                extra.add_widget(self._part_tile(t))
            closed.spacing = min(closed.spacing, 20)  # room for the extra row on a 1080-pixel landscape screen
            closed.add_widget(extra, index=1)  # above the bottom spacer

    def on_start(self) -> None:
        """Hand the app to whoever drives it (the --script runner); log once the home screen has been drawn."""
        Clock.schedule_once(lambda _dt: Clock.schedule_once(lambda _dt: log.info("kiosk ready: home drawn"), 0), 0)
        if self._on_ready is not None:
            self._on_ready(self)

    def on_stop(self) -> None:
        """Let the scanner's worker, the queue feed and the parts' workers end."""
        for part in self.parts:
            part.stop()
        self._stopping.set()
        if self._feed is not None:
            self._feed.stop()
        with self._device_lock:
            if self.scanner is not None:
                self.scanner.close()

    def now(self) -> datetime:
        """The hall's local time now (`fixed_time` when it is fixed: the screenshot tour)."""
        return (self.fixed_time or datetime.now(self._tz)).astimezone(self._tz)

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
        """Copy the flow's state into the properties the .kv draws (Kivy thread)."""
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
        if f.domain is not None:
            self.confirm_service = f.text("confirm_service", name=f.domain.label(f.lang))
        self.has_reader = self._reader is not None
        card_key = "confirm_with_card" if f.id_number else ("confirm_with_passport" if f.passport else "")
        card_key = card_key or ("confirm_card_hint" if self.has_reader else "")
        self.confirm_card = f.text(card_key) if card_key else ""
        tk = f.ticket
        self.number = tk.number if tk else ""
        d = next((x for x in f.domains if tk and x.code == tk.queue), None)
        self.ticket_service = d.label(f.lang) if d else (tk.queue if tk else "")
        self.ahead = (f.text("ahead", n=tk.ahead) if tk.ahead else f.text("no_wait")) if tk else ""
        self.lane = f.text("special_lane") if tk and tk.lane == "special" else ""
        self.print_status = {"printing": f.text("printing"), "printed": f.text("printed")}.get(f.print_state or "", "")
        self.qr = tk.track_url if tk and f.show_qr else ""
        self.note = f.note if tk else ""
        self.offer_take = f.offer_take
        self.code_shown = " ".join(f.code.ljust(CODE_LEN, "_"))
        self._render_domains()
        self.render_booking()
        shown = "closed" if f.screen == "home" and not f.open_now else f.screen
        if self.root is not None and self.root.ids.sm.current != shown:
            self.root.ids.sm.current = shown
        self.screen = f.screen
        self._render_time()
        self._render_parts()
        self._card_wanted = self.card_wanted()

    def _render_parts(self) -> None:
        """Each part's drawing and tiles; the screen of the part whose screen shows (over the kiosk's own)."""
        f = self.flow
        for part in self.parts:
            part.render(f.lang, f.elder)
        for tile, w in self._part_tiles:
            w.title, w.hint = self.tx[tile.key], self.tx[tile.key + "_hint"]
            w.disabled = self.paused and tile.needs_server
        sm = self.root.ids.sm if self.root is not None else None
        for part in self.parts:
            current = part.current
            if not current or sm is None or not sm.has_screen(current):
                continue
            switched = sm.current != current  # the kiosk's render just showed its own screen underneath
            sm.current = current
            if switched and sm.transition.is_active:
                sm.transition.stop()  # else the manager ignores touches until the next frame
            part.shown(sm, current)
            self.screen = current
            self.countdown = part.countdown
            return

    def shown_part(self) -> Part | None:
        """The part whose screen shows now, if any."""
        return next((p for p in self.parts if p.current), None)

    def _render_domains(self) -> None:
        """The page of domain tiles shown; the page's empty places keep the tiles' size."""
        f = self.flow
        self.page, self.pages = min(f.page, f.pages - 1), f.pages
        dots = " ".join("●" if i == self.page else "○" for i in range(f.pages))
        self.page_dots = f"{dots}\n{f.text('page_of', m=self.page + 1, n=f.pages)}"
        if self.root is None:
            return
        grid = self.root.ids.domains
        grid.rows = None  # a GridLayout refuses more children than cols × rows, even for a moment
        grid.cols = f.grid[0]
        shown = f.page_domains
        tiles = [t for t in reversed(grid.children) if isinstance(t, DomainTile)]  # Kivy keeps children last first
        if [t.code for t in tiles] == [d.code for d in shown] and len(grid.children) == f.per_page:
            # the same tiles: update their text in place, so a finger already down on one (the queue
            # refresh redraws every few seconds) still releases on the same button and the tap counts
            for t, d in zip(tiles, shown, strict=True):
                t.title, t.load = d.label(f.lang), d.load(f.lang)
        else:
            self._new_tiles(grid, shown)
        if len(grid.children) == f.per_page:
            grid.rows = f.grid[1]

    def _new_tiles(self, grid: Any, shown: list[Any]) -> None:
        f = self.flow
        grid.clear_widgets()
        for d in shown:
            tile = DomainTile(code=d.code, title=d.label(f.lang), load=d.load(f.lang))
            tile.bind(on_release=lambda w: self.tap_domain(w.code))
            grid.add_widget(tile)
        for _ in range(f.per_page - len(shown)):
            grid.add_widget(Widget())

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

    # --- taps (Kivy thread; each renders at once: feedback within a frame) -------------------------------

    def _do(self, fn: Callable[[float], Any]) -> Any:
        out = fn(time.monotonic())
        self.render()
        return out

    def tap_take(self) -> None:
        """Home: take a number."""
        self._do(self.flow.take_number)
        self.refresh_queues()

    def tap_domain(self, code: str) -> None:
        """A domain tile."""
        self._do(lambda now: self.flow.choose_domain(code, now))

    def tap_page(self, step: int) -> None:
        """上一页 (-1) / 下一页 (+1) of the domain tiles."""
        self._do(lambda now: self.flow.turn_page(step, now))

    def tap_retry_card(self) -> None:
        """Read the card again (the reader listens all along: this clears the message)."""
        self.flow.card_error = False
        self.render()

    def tap_back(self) -> None:
        """Back: within the part whose screen shows, else the kiosk's own."""
        part = self.shown_part()
        if part is not None:
            part.back(time.monotonic())
            self.render()
            return
        self._do(self.flow.back)

    def tap_home(self) -> None:
        """Home, forgetting the citizen in every part too."""
        for part in self.parts:
            part.home()
        self._do(self.flow.home)

    def tap_lang(self) -> None:
        """中文 ⇄ English."""
        self._do(self.flow.toggle_lang)

    def tap_elder(self) -> None:
        """Elder mode on/off."""
        self._do(self.flow.toggle_elder)

    def tap_confirm(self) -> None:
        """Get my number: a second tap while issuing finds no request and does nothing."""
        req: IssueRequest | None = self._do(self.flow.confirm)
        if req is None:
            log.info("kiosk tap ignored: already issuing")
            return
        self._background(lambda: self._issue(req))

    def tap_checkin(self) -> None:
        """Home: appointment check-in (the scanner and the ID card reader listen while it shows)."""
        self._do(self.flow.check_in)

    def tap_key(self, ch: str) -> None:
        """One key of the code keypad."""
        self._do(lambda now: self.flow.key(ch, now))

    def tap_backspace(self) -> None:
        """Delete the last character of the code."""
        self._do(self.flow.backspace)

    def tap_submit_code(self) -> None:
        """Check in with the typed code."""
        self._start_check_in(self._do(self.flow.submit_code))

    def _start_check_in(self, req: CheckInRequest | None) -> None:
        if req is not None:
            self._background(lambda: self._check_in(req))

    def tap_touch_activity(self) -> None:
        """Any touch restarts the idle timers (the kiosk's and the parts')."""
        now = time.monotonic()
        self.flow.touch(now)
        for part in self.parts:
            part.touch(now)

    def card_wanted(self) -> bool:
        """The kiosk's card screens, and the parts'."""
        return any(p.wants_card for p in self.parts) or super().card_wanted()

    def card_arrived(self, number: str, name: str) -> None:
        """To the part whose card screen shows, else the kiosk's."""
        part = next((p for p in self.parts if p.wants_card), None)
        if part is not None:
            part.card(name, number)
        else:
            super().card_arrived(number, name)

    def _heartbeat(self) -> None:
        """The kiosk's report, unless the printer is fine and a part's devices or queue need staff."""
        problems = [p for part in self.parts for p in part.problems()]
        if problems:
            with self._device_lock:
                printer = self._printer.health() if self._printer is not None else None
            if printer is None or printer.ok:
                try:
                    self.client.report_health("error", "; ".join(problems)[:200])
                except KioskClientError as e:
                    log.warning("kiosk health report: %s", type(e).__name__)
                return
        super()._heartbeat()

    # --- workers (threads; results back with Clock) ------------------------------------------------------

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

    def _issue(self, req: IssueRequest) -> None:
        def retry(_attempt: int) -> None:
            self._later(lambda: self.flow.retrying(req.key), render=True)

        try:
            ticket = self.client.take_number(
                req.queue, req.key, id_number=req.id_number, phone=req.phone, on_retry=retry
            )
        except Refused as e:
            sentence = e.sentence
            if e.status == 409:
                self.refresh_hours()  # closed meanwhile? the kiosk switches to its 24-hour mode
            self._later(lambda: self.flow.refused(req.key, sentence, time.monotonic()), render=True)
            return
        except Unreachable:
            self._later(lambda: self.flow.unreachable(req.key, time.monotonic()), render=True)
            return

        def done() -> None:
            if self.flow.issued(req.key, ticket, time.monotonic()):
                log.info("kiosk ticket issued: %s lane %s", ticket.get("number"), ticket.get("lane"))
                self.render()
                self._background(lambda: self._print(ticket))

        self._later(done)

    def _check_in(self, req: CheckInRequest) -> None:
        def retry(_attempt: int) -> None:
            self._later(lambda: self.flow.retrying(req.key), render=True)

        try:
            if req.code is not None:
                ticket = self.client.check_in(req.code, on_retry=retry)
            else:
                ticket = self.client.check_in_by_id(
                    req.id_number or "", id_type=req.id_type, nationality=req.nationality, on_retry=retry
                )
        except Refused as e:
            sentence = e.sentence
            self._later(lambda: self.flow.check_in_refused(req.key, sentence, time.monotonic()), render=True)
            return
        except Unreachable as e:
            log.warning("kiosk check-in: %s", e)
            self._later(lambda: self.flow.check_in_unreachable(req.key, time.monotonic()), render=True)
            return

        def done() -> None:
            if self.flow.checked_in(req.key, ticket, time.monotonic()):
                log.info(
                    "kiosk checked in: %s lane %s note %r", ticket.get("number"), ticket.get("lane"), ticket.get("note")
                )
                self.render()
                self._background(lambda: self._print(ticket))

        self._later(done)
