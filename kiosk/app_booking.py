"""The kiosk app's 24-hour mode, booking and phone keypad: taps, drawing and workers (mixed into `KioskApp`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from kivy.clock import Clock  # type: ignore[import-untyped]
from kivy.uix.button import Button  # type: ignore[import-untyped]

from .booking import BookRequest, mask_phone
from .client import AlreadyBooked, KioskClientError, Refused, Unreachable

if TYPE_CHECKING:
    from .client import KioskClient
    from .flow import Flow

log = logging.getLogger("kiosk")

HOURS_POLL_S = 30.0  # how often the kiosk asks whether the hall is open
SLOT_DAYS = 14  # days of slots fetched for the day screen
TILE = (0.09, 0.40, 0.75, 1)
KEY = (0.09, 0.40, 0.75, 1)


class BookingApp:
    """Closed mode, booking and the phone keypad in the Kivy app; `KioskApp` declares the properties."""

    if TYPE_CHECKING:
        flow: Flow
        client: KioskClient
        root: Any
        _tz: Any
        _names: tuple[str, str]
        _printer: Any
        _device_lock: Any
        closed: bool
        can_book: bool
        booked_service: str
        fs: float
        opening: str

        def now(self) -> datetime: ...

        phone_shown: str
        phone_hint: str
        phone_skip_ok: bool
        confirm_phone: str
        ticket_phone: str
        book_summary: str
        book_status: str
        booked_code: str
        booked_when: str
        booked_who: str
        booked_hint: str
        booked_qr: str

        def render(self) -> None: ...
        def _do(self, fn: Callable[[float], Any]) -> Any: ...
        def _later(self, fn: Callable[[], object], *, render: bool = False) -> None: ...
        @staticmethod
        def _background(fn: Callable[[], None]) -> None: ...

    # --- hours ------------------------------------------------------------------------------------------

    def start_hours(self) -> None:
        """Ask now and every HOURS_POLL_S whether the hall is open (the kiosk switches mode on its own)."""
        self.refresh_hours()
        Clock.schedule_interval(lambda _dt: self.refresh_hours(), HOURS_POLL_S)

    def refresh_hours(self) -> None:
        """Fetch open/closed and the next opening in the background."""

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

    # --- drawing ----------------------------------------------------------------------------------------

    def render_booking(self) -> None:
        """Copy the booking and phone state into the properties and the generated buttons."""
        f = self.flow
        self.closed, self.can_book = not f.open_now, f.can_book
        self.opening = f.opening()
        self.phone_shown = f.phone_shown
        self.phone_skip_ok = f.phone_for == "ticket"
        self.phone_hint = f.text("phone_hint_ticket") if f.phone_for == "ticket" else f.text("phone_hint_booking")
        self.confirm_phone = f.text("phone_on_ticket", phone=mask_phone(f.phone)) if f.phone else ""
        tk = f.ticket
        self.ticket_phone = f.text("phone_on_ticket", phone=tk.phone_masked) if tk and tk.phone_masked else ""
        self.book_summary = f.book_summary
        self.book_status = (
            "" if f.slots_loaded and f.slots else f.text("book_no_slots" if f.slots_loaded else "book_loading")
        )
        b = f.booked or {}
        code = str(b.get("code") or "")
        self.booked_code = f.text("booked_code", code=code) if code else ""
        self.booked_hint = f.text("booked_hint" if code else "booked_no_code")
        self.booked_qr = str(b.get("qr") or "") if code else ""
        self.booked_when = self._booked_when(b)
        who = {"name": b.get("name_masked") or "", "phone": b.get("phone_masked") or ""}
        self.booked_who = f.text("book_who", **who) if who["name"] else ""  # the server's masks
        d = next((x for x in f.domains if x.code == b.get("queue")), None)
        self.booked_service = f.text("confirm_service", name=d.label(f.lang)) if d else ""
        if self.root is not None:
            self._fill_grids()

    def _booked_when(self, b: dict[str, Any]) -> str:
        if not b.get("start"):
            return ""
        start = datetime.fromisoformat(str(b["start"]))
        end = datetime.fromisoformat(str(b.get("end") or b["start"]))
        return self.flow.text("book_when", day=f"{start:%Y-%m-%d}", time=f"{start:%H:%M}–{end:%H:%M}")

    def _fill_grids(self) -> None:
        f, sm = self.flow, self.root.ids.sm
        tiles = [(d.code, f"{d.label(f.lang)}") for d in f.book_domains]
        self._fill(
            sm.get_screen("book_domain").ids.grid, tiles, lambda code: self.tap_book_domain(code), font=1.3, height=200
        )
        days = [(d.isoformat(), _day_label(d, f.lang)) for d in f.book_days]
        self._fill(
            sm.get_screen("book_day").ids.grid,
            days,
            lambda iso: self.tap_book_day(date.fromisoformat(iso)),
            font=1.2,
            height=160,
        )
        slots = [(s.start.isoformat(), s.label) for s in f.day_slots]
        self._fill(
            sm.get_screen("book_slot").ids.grid,
            slots,
            lambda iso: self.tap_book_slot(datetime.fromisoformat(iso)),
            height=120,
        )

    def _fill(self, grid: Any, items: list[tuple[str, str]], tap: Callable[[str], None], **kw: float) -> None:
        """Rebuild a grid of buttons only when its items changed (a redraw must not swap a button being pressed)."""
        if getattr(grid, "_items", None) == items and getattr(grid, "_fs", None) == self.fs:
            return
        grid._items, grid._fs = items, self.fs
        grid.clear_widgets()
        fs = self.fs * kw.get("font", 1.0)
        for key, label in items:
            b = Button(
                text=label,
                font_size=fs,
                background_normal="",
                background_color=TILE,
                size_hint_y=None,
                height=max(kw["height"], fs * 2.4),
            )
            b.halign, b.valign = "center", "middle"
            b.bind(size=lambda w, s: setattr(w, "text_size", (s[0] - 20, None)))
            b.key = key
            b.bind(on_release=lambda w: tap(w.key))
            grid.add_widget(b)

    # --- taps -------------------------------------------------------------------------------------------

    def tap_book(self) -> None:
        """Home / closed screen: book a time."""
        self._do(self.flow.book)

    def tap_book_domain(self, code: str) -> None:
        """A domain to book: fetch the next days' slots."""
        if self._do(lambda now: self.flow.book_choose_domain(code, now)):
            self._background(lambda: self._load_slots(code))

    def tap_book_day(self, day: date) -> None:
        """A day."""
        self._do(lambda now: self.flow.book_choose_day(day, now))

    def tap_book_slot(self, start: datetime) -> None:
        """A free slot: on to the ID card (the reader listens while that screen shows)."""
        self._do(lambda now: self.flow.book_choose_slot(start, now))

    def tap_phone(self) -> None:
        """Confirm screen: add a mobile number for silent calling."""
        self._do(self.flow.ask_phone)

    def tap_phone_key(self, digit: str) -> None:
        """One digit."""
        self._do(lambda now: self.flow.phone_key(digit, now))

    def tap_phone_backspace(self) -> None:
        """Delete a digit."""
        self._do(self.flow.phone_backspace)

    def tap_phone_ok(self) -> None:
        """Check the number and go on."""
        self._do(self.flow.phone_ok)

    def tap_phone_skip(self) -> None:
        """No SMS call."""
        self._do(self.flow.phone_skip)

    def tap_book_confirm(self) -> None:
        """Book: a second tap while booking finds no request and does nothing."""
        req: BookRequest | None = self._do(self.flow.book_confirm)
        if req is None:
            log.info("kiosk tap ignored: already booking")
            return
        self._background(lambda: self._book(req))

    # --- workers ----------------------------------------------------------------------------------------

    def _load_slots(self, queue: str) -> None:
        today = self.now().date()
        found: list[dict[str, Any]] = []
        try:
            for n in range(SLOT_DAYS):
                found += self.client.slots(queue, today + timedelta(days=n))
                if len({str(s["start"])[:10] for s in found if s["booked"] < s["capacity"]}) > 5:
                    break
        except KioskClientError as e:
            log.warning("kiosk slots: %s", e)
        now_at = self.now()
        self._later(lambda: self.flow.set_slots(queue, found, now_at), render=True)

    def _book(self, req: BookRequest) -> None:
        def retry(_attempt: int) -> None:
            self._later(lambda: self.flow.retrying(req.key), render=True)

        try:
            appt = self.client.book(
                req.queue,
                req.start,
                name=req.name,
                id_number=req.id_number,
                nationality=req.nationality,
                phone=req.phone or None,
                key=req.key,  # the tap's key: a retry after a lost answer gets this booking back, code and all
                on_retry=retry,
            )
        except AlreadyBooked:
            appt = {"code": "", "queue": req.queue, "start": req.start.isoformat()}
        except Refused as e:
            sentence = e.sentence
            self._later(lambda: self.flow.book_refused(req.key, sentence, time.monotonic()), render=True)
            return
        except Unreachable as e:
            log.warning("kiosk booking: %s", type(e).__name__)
            self._later(lambda: self.flow.book_unreachable(req.key, time.monotonic()), render=True)
            return

        def done() -> None:
            if self.flow.book_done(req.key, appt, time.monotonic()):
                log.info("kiosk booked: queue %s slot %s code %s", req.queue, f"{req.start:%H:%M}", bool(appt["code"]))
                self.render()
                if appt["code"]:
                    self._background(lambda: self._print_slip(appt))

        self._later(done)

    def _print_slip(self, appt: dict[str, Any]) -> None:
        """The booking slip on the ticket printer: the code as number, the time, the QR code to check in."""
        from peripherals import PrinterError
        from peripherals.printer import TicketData

        d = next((x for x in self.flow.domains if x.code == appt.get("queue")), None)
        start = datetime.fromisoformat(str(appt["start"])).astimezone(self._tz)
        with self._device_lock:
            if self._printer is None:
                return
            data = TicketData(
                hall_name=self._names[0],
                hall_name_en=self._names[1],
                number=str(appt["code"]),
                domain_name=(d.name if d else str(appt.get("queue"))) + f" 预约 {start:%m-%d %H:%M}",
                domain_name_en=(d.name_en if d else "") + f" booking {start:%m-%d %H:%M}",
                people_ahead=0,
                issued_at=start,
                tracking_url=str(appt.get("qr") or ""),
                lane="appointment",
                estimated_wait_min=0,
            )
            try:
                self._printer.print_ticket(data)
                state = "printed"
            except PrinterError:
                state = "not printed"
        log.info("kiosk booking slip: %s", state)


def hall_zone(info: dict[str, Any], default: Any) -> Any:
    """The hall's timezone from its GET /api/v1/halls entry (the clock, tickets and receipts use it)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(str(info["timezone"])) if info.get("timezone") else default
    except (ZoneInfoNotFoundError, ValueError):
        return default


def _day_label(d: date, lang: str) -> str:
    zh = "一二三四五六日"[d.weekday()]
    en = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[d.weekday()]
    return f"{d:%m-%d} 周{zh}" if lang == "zh" else f"{en} {d:%d %b}"
