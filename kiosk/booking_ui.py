"""Booking on the kiosk (预约) and the mobile-number keypad, as a part of the kiosk: its big home tile (also on the
closed hall's 24-hour screen), its screens (booking.kv), taps, the slots and booking workers, the booking slip.

The steps are the shared `Flow`'s (`kiosk.booking`). The keypad also serves take-a-number's optional number for
silent calling. `app.book` in the .kv files.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, cast

from kivy.factory import Factory  # type: ignore[import-untyped]
from kivy.properties import BooleanProperty, StringProperty  # type: ignore[import-untyped]
from kivy.uix.button import Button  # type: ignore[import-untyped]

from .booking import Booking, BookRequest
from .client import AlreadyBooked, KioskClientError, Refused, Unreachable
from .flow import Flow
from .parts import Part, Tile
from .script import PartSteps, ScriptRunner, visible_buttons

log = logging.getLogger("kiosk")

KV_FILE = Path(__file__).with_name("booking.kv")
SCREENS = (
    "PhoneScreen",
    "BookDomainScreen",
    "BookDayScreen",
    "BookSlotScreen",
    "BookCardScreen",
    "BookConfirmScreen",
    "BookingScreen",
    "BookedScreen",
)
SLOT_DAYS = 14  # days of slots fetched for the day screen
TILE = (0.09, 0.40, 0.75, 1)
TILE_COLOUR = (0.42, 0.25, 0.63, 1)


class BookingSteps(PartSteps):
    """Its `--script` steps: `book`, `bookdomain:A`, `day:N`, `slot:N` (the Nth shown, from 0), `phone:DIGITS`,
    `phoneok` (the frame's keypad steps), `phoneskip`, `bookconfirm`; `wait:book_day` (the slots loaded)."""

    texts: ClassVar[dict[str, str]] = {"book": "book", "phoneskip": "phone_none", "bookconfirm": "book_submit"}

    def button(self, run: ScriptRunner, name: str, arg: str) -> Any:
        """A domain to book by its code; a day or a slot by its place."""
        if name == "bookdomain":
            return lambda: run.by_key(arg)
        if name in ("day", "slot"):

            def nth() -> Any:
                keyed = sorted((b for b in visible_buttons(run.app.root) if hasattr(b, "key")), key=lambda b: b.key)
                return keyed[int(arg)] if int(arg) < len(keyed) else None

            return nth
        return None

    def ready(self, run: ScriptRunner, screen: str) -> bool | None:
        """The day screen once the slots are in."""
        f = self.part.flow
        return f.screen == "book_day" and f.slots_loaded if screen == "book_day" else None


class BookingPart(Part):
    """Booking and the phone keypad in the kiosk app (see the module doc)."""

    name = "book"
    kv_files = (KV_FILE,)
    script_steps = BookingSteps

    can_book = BooleanProperty(False)
    phone_shown = StringProperty("")
    phone_hint = StringProperty("")
    phone_skip_ok = BooleanProperty(True)
    book_summary = StringProperty("")
    book_status = StringProperty("")
    booked_code = StringProperty("")
    booked_when = StringProperty("")
    booked_who = StringProperty("")
    booked_hint = StringProperty("")
    booked_qr = StringProperty("")
    booked_service = StringProperty("")

    @property
    def flow(self) -> Flow:
        """The kiosk's state."""
        return cast("Flow", self.app.flow)

    @property
    def steps(self) -> Booking:
        """Its pure steps, on the kiosk's state."""
        return Booking(self.app.flow)

    def tiles(self) -> list[Tile]:
        """预约: a big home tile, also while the hall is closed; offered when the hall takes bookings here."""
        return [Tile("book", TILE_COLOUR, self.tap_book, big=True, offered=lambda: self.flow.can_book)]

    def install(self, sm: Any) -> None:
        """Its screens (booking.kv)."""
        for cls in SCREENS:
            sm.add_widget(getattr(Factory, cls)())

    @property
    def wants_card(self) -> bool:
        """Its card screen gives the name and the ID number."""
        return self.flow.screen == "book_card" and self.app.shown_part() is None

    def card(self, name: str, number: str, id_type: str = "resident") -> None:
        """The card's name and number, then the phone keypad."""
        self.steps.book_card_read(name, number, time.monotonic(), id_type=id_type)

    def passport(self, number: str, nationality: str, name: str = "") -> bool:
        """A passport on its card screen: the holder's name, number and nationality."""
        if not self.wants_card:
            return False
        self.steps.book_card_read(name, number, time.monotonic(), nationality=nationality)
        log.info("kiosk passport read for booking")
        return True

    # --- drawing ----------------------------------------------------------------------------------------

    def render(self, lang: str, elder: bool) -> None:
        """Copy the booking and phone state into the properties and the generated buttons."""
        f = self.flow
        self.can_book = f.can_book
        self.phone_shown = f.phone_shown
        self.phone_skip_ok = f.phone_for == "ticket"
        self.phone_hint = f.text("phone_hint_ticket") if f.phone_for == "ticket" else f.text("phone_hint_booking")
        self.book_summary = self.steps.book_summary
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
        if self.app.root is not None:
            self._fill_grids()

    def _booked_when(self, b: dict[str, Any]) -> str:
        if not b.get("start"):
            return ""
        start = datetime.fromisoformat(str(b["start"]))
        end = datetime.fromisoformat(str(b.get("end") or b["start"]))
        return self.flow.text("book_when", day=f"{start:%Y-%m-%d}", time=f"{start:%H:%M}–{end:%H:%M}")

    def _fill_grids(self) -> None:
        f, sm = self.flow, self.app.root.ids.sm
        tiles = [(d.code, f"{d.label(f.lang)}") for d in self.steps.book_domains]
        self._fill(
            sm.get_screen("book_domain").ids.grid, tiles, lambda code: self.tap_book_domain(code), font=1.3, height=200
        )
        days = [(d.isoformat(), _day_label(d, f.lang)) for d in self.steps.book_days]
        self._fill(
            sm.get_screen("book_day").ids.grid,
            days,
            lambda iso: self.tap_book_day(date.fromisoformat(iso)),
            font=1.2,
            height=160,
        )
        slots = [(s.start.isoformat(), s.label) for s in self.steps.day_slots]
        self._fill(
            sm.get_screen("book_slot").ids.grid,
            slots,
            lambda iso: self.tap_book_slot(datetime.fromisoformat(iso)),
            height=120,
        )

    def _fill(self, grid: Any, items: list[tuple[str, str]], tap: Callable[[str], None], **kw: float) -> None:
        """Rebuild a grid of buttons only when its items changed (a redraw must not swap a button being pressed)."""
        if getattr(grid, "_items", None) == items and getattr(grid, "_fs", None) == self.app.fs:
            return
        grid._items, grid._fs = items, self.app.fs
        grid.clear_widgets()
        fs = self.app.fs * kw.get("font", 1.0)
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
        self.app.do(self.steps.book)

    def tap_book_domain(self, code: str) -> None:
        """A domain to book: fetch the next days' slots."""
        if self.app.do(lambda now: self.steps.book_choose_domain(code, now)):
            self.app._background(lambda: self._load_slots(code))

    def tap_book_day(self, day: date) -> None:
        """A day."""
        self.app.do(lambda now: self.steps.book_choose_day(day, now))

    def tap_book_slot(self, start: datetime) -> None:
        """A free slot: on to the ID card (the reader listens while that screen shows)."""
        self.app.do(lambda now: self.steps.book_choose_slot(start, now))

    def tap_phone_key(self, digit: str) -> None:
        """One digit."""
        self.app.do(lambda now: self.flow.phone_key(digit, now))

    def tap_phone_backspace(self) -> None:
        """Delete a digit."""
        self.app.do(self.flow.phone_backspace)

    def tap_phone_ok(self) -> None:
        """Check the number and go on."""
        self.app.do(self.flow.phone_ok)

    def tap_phone_skip(self) -> None:
        """No SMS call."""
        self.app.do(self.flow.phone_skip)

    def tap_book_confirm(self) -> None:
        """Book: a second tap while booking finds no request and does nothing."""
        req: BookRequest | None = self.app.do(self.steps.book_confirm)
        if req is None:
            log.info("kiosk tap ignored: already booking")
            return
        self.app._background(lambda: self._book(req))

    # --- workers ----------------------------------------------------------------------------------------

    def _load_slots(self, queue: str) -> None:
        today = self.app.now().date()
        found: list[dict[str, Any]] = []
        try:
            for n in range(SLOT_DAYS):
                found += self.app.client.slots(queue, today + timedelta(days=n))
                if len({str(s["start"])[:10] for s in found if s["booked"] < s["capacity"]}) > 5:
                    break
        except KioskClientError as e:
            log.warning("kiosk slots: %s", e)
        now_at = self.app.now()
        self.app._later(lambda: self.steps.set_slots(queue, found, now_at), render=True)

    def _book(self, req: BookRequest) -> None:
        def retry(_attempt: int) -> None:
            self.app._later(lambda: self.flow.retrying(req.key), render=True)

        try:
            appt = self.app.client.book(
                req.queue,
                req.start,
                name=req.name,
                id_number=req.id_number,
                nationality=req.nationality,
                phone=req.phone or None,
                key=req.key,  # the tap's key: a retry after a lost answer gets this booking back, code and all
                on_retry=retry,
                lang=self.flow.lang,  # the appointment keeps it: its messages and its check-in's ticket (issue 22)
            )
        except AlreadyBooked:
            appt = {"code": "", "queue": req.queue, "start": req.start.isoformat()}
        except Refused as e:
            sentence = e.sentence
            self.app._later(lambda: self.steps.book_refused(req.key, sentence, time.monotonic()), render=True)
            return
        except Unreachable as e:
            log.warning("kiosk booking: %s", type(e).__name__)
            self.app._later(lambda: self.steps.book_unreachable(req.key, time.monotonic()), render=True)
            return

        def done() -> None:
            if self.steps.book_done(req.key, appt, time.monotonic()):
                log.info("kiosk booked: queue %s slot %s code %s", req.queue, f"{req.start:%H:%M}", bool(appt["code"]))
                self.app.render()
                if appt["code"]:
                    self.app._background(lambda: self._print_slip(appt))

        self.app._later(done)

    def _print_slip(self, appt: dict[str, Any]) -> None:
        """The booking slip on the ticket printer: the code as number, the time, the QR code to check in."""
        d = next((x for x in self.flow.domains if x.code == appt.get("queue")), None)
        start = datetime.fromisoformat(str(appt["start"])).astimezone(self.app._tz)
        names = (d.name, d.name_en) if d else (str(appt.get("queue")), "")
        state = self.app.print_slip(
            str(appt["code"]),
            (f"{names[0]} 预约 {start:%m-%d %H:%M}", f"{names[1]} booking {start:%m-%d %H:%M}"),
            issued_at=start,
            tracking_url=str(appt.get("qr") or ""),
            lane="appointment",
        )
        if state != "none":
            log.info("kiosk booking slip: %s", "printed" if state == "printed" else "not printed")


def _day_label(d: date, lang: str) -> str:
    zh = "一二三四五六日"[d.weekday()]
    en = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[d.weekday()]
    return f"{d:%m-%d} 周{zh}" if lang == "zh" else f"{en} {d:%d %b}"
