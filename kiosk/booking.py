"""The kiosk's 24-hour mode, appointment booking and the mobile-number keypad, as pure flow steps (no Kivy, no I/O).

Booking: home (or the closed hall's screen) → book_domain (queues taking appointments) → book_day (the next days
with a free slot) → book_slot → book_card (the ID card gives the name and the ID number; without a card the
screen explains the web booking) → phone (required here) → book_confirm → booking → booked (the slip with its
QR code `HALLAPPT:<code>`, printed and on screen) or error. The phone keypad is also an optional step of taking a
number (from the confirm screen) for silent calling. `BookingSteps` is mixed into `Flow`, which owns the state.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from .strings import Lang, t

if TYPE_CHECKING:
    from .flow import Domain, Screen

MOBILE = re.compile(r"1[3-9]\d{9}")
PHONE_LEN = 11
BOOK_DAYS = 5  # days offered on the day screen


def valid_phone(number: str) -> bool:
    """An 11-digit mainland mobile number (1[3-9]xxxxxxxxx)."""
    return MOBILE.fullmatch(number) is not None


def typed_phone(typed: str) -> str:
    """A mobile number on the keypad's display, grouped as typed ('138 1234 5678'), masked once complete."""
    shown = mask_phone(typed) if len(typed) == PHONE_LEN else typed
    return " ".join(part for part in (shown[:3], shown[3:7], shown[7:]) if part)


def mask_phone(number: str) -> str:
    """'138****1234' (nothing for no number)."""
    return f"{number[:3]}****{number[-4:]}" if len(number) >= 7 else "*" * len(number)


def mask_name(name: str) -> str:
    """As the server masks a name (`queue_server.ids.mask_name`, the same on screen and slip): '张小三' → '张*三',
    '李四' → '李*', a foreigner's 'KIM MINSU' → 'K** M****'."""
    from queue_server.ids import mask_name as server_mask

    return server_mask(name)


def opening_text(at: datetime | None, lang: Lang) -> str:
    """The next opening as the closed screen says it, local date and HH:MM."""
    if at is None:
        return t("closed_no_date", lang)
    return t("closed_next", lang, day=f"{at:%Y-%m-%d}", hhmm=f"{at:%H:%M}")


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable slot: its local start and end, and whether a seat is free."""

    start: datetime
    end: datetime
    free: int

    @classmethod
    def from_api(cls, s: Mapping[str, Any]) -> Slot:
        """From one item of GET …/slots."""
        return cls(
            datetime.fromisoformat(str(s["start"])),
            datetime.fromisoformat(str(s["end"])),
            int(s["capacity"]) - int(s["booked"]),
        )

    @property
    def label(self) -> str:
        """'09:00–09:30'."""
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class BookRequest:
    """One tap on 'book': the slot, the card's name and number, the phone, and the tap's own key."""

    queue: str
    start: datetime
    name: str
    id_number: str
    phone: str
    key: str
    nationality: str = ""  # a passport's (the number is its passport number); empty for an ID card


class BookingSteps:
    """Closed mode, booking and the phone keypad; mixed into `Flow` (which defines the shared state)."""

    if TYPE_CHECKING:
        screen: Screen
        lang: Lang
        domains: list[Domain]
        domain: Domain | None
        message: str
        card_error: bool
        id_reader: bool
        _new_key: Callable[[], str]

        def touch(self, now: float) -> None: ...
        def home(self, now: float) -> None: ...

    open_now: bool = True
    next_open: datetime | None = None
    booking_queues: tuple[str, ...] = ()

    def _clear_booking(self) -> None:
        """Forget the booking and the phone (called from `Flow._clear`)."""
        self.phone = ""  # digits typed on the phone keypad / the confirmed number
        self.phone_typed = ""
        self.phone_for: str = ""  # 'ticket' (optional) or 'booking' (required)
        self.slots: list[Slot] = []
        self.slots_loaded = False
        self.book_day: date | None = None
        self.book_slot: Slot | None = None
        self.card_name = ""
        self.card_number = ""
        self.card_nationality = ""  # set with the number by `book_card_read`: a passport's nationality
        self.booking: BookRequest | None = None
        self.booked: dict[str, Any] | None = None

    # --- hours ------------------------------------------------------------------------------------------

    def set_hall(self, hall: Mapping[str, Any]) -> bool:
        """The hall's entry of GET /api/v1/halls (not a touch); True when open/closed changed."""
        was = self.open_now
        self.open_now = bool(hall.get("open_now", True))
        nxt = hall.get("next_open")
        self.next_open = datetime.fromisoformat(str(nxt)) if nxt else None
        self.booking_queues = tuple(str(q) for q in hall.get("booking_queues") or ())
        return was != self.open_now

    @property
    def can_book(self) -> bool:
        """Whether the kiosk offers booking: the hall takes bookings and there is an ID-card reader (name, number)."""
        return bool(self.booking_queues) and self.id_reader

    def opening(self) -> str:
        """The closed screen's sentence about the next opening."""
        return opening_text(self.next_open, self.lang)

    # --- phone keypad -----------------------------------------------------------------------------------

    def ask_phone(self, now: float) -> None:
        """Confirm screen's 'SMS call' button: the phone keypad (optional for a ticket)."""
        self.touch(now)
        if self.screen == "confirm":
            self.screen, self.phone_for, self.phone_typed, self.message = "phone", "ticket", self.phone, ""

    def phone_key(self, digit: str, now: float) -> None:
        """One digit (a twelfth digit, or anything not a digit, is ignored)."""
        self.touch(now)
        if self.screen == "phone" and len(digit) == 1 and digit.isdigit() and len(self.phone_typed) < PHONE_LEN:
            self.phone_typed, self.message = self.phone_typed + digit, ""

    def phone_backspace(self, now: float) -> None:
        """Remove the last digit."""
        self.touch(now)
        if self.screen == "phone":
            self.phone_typed, self.message = self.phone_typed[:-1], ""

    def phone_ok(self, now: float) -> bool:
        """'OK': a valid number goes on to the confirm screen; anything else is explained plainly."""
        self.touch(now)
        if self.screen != "phone":
            return False
        if not valid_phone(self.phone_typed):
            self.message = t("phone_invalid", self.lang)
            return False
        self.phone, self.message = self.phone_typed, ""
        self.screen = "confirm" if self.phone_for == "ticket" else "book_confirm"
        return True

    def phone_skip(self, now: float) -> None:
        """No SMS call (a ticket only: a booking needs the number)."""
        self.touch(now)
        if self.screen == "phone" and self.phone_for == "ticket":
            self.phone = self.phone_typed = self.message = ""
            self.screen = "confirm"

    @property
    def phone_shown(self) -> str:
        """What the keypad's display shows: the digits so far, grouped, masked once complete."""
        return typed_phone(self.phone_typed)

    # --- booking ----------------------------------------------------------------------------------------

    def book(self, now: float) -> None:
        """Home's (or the closed screen's) 'book' tile: the domains that take appointments."""
        self.touch(now)
        if self.screen == "home" and self.can_book:
            self.home(now)
            self.screen = "book_domain"

    @property
    def book_domains(self) -> list[Domain]:
        """The hall's domains that take appointments."""
        return [d for d in self.domains if d.code in self.booking_queues]

    def book_choose_domain(self, code: str, now: float) -> bool:
        """A domain tile: True when the app should fetch its slots."""
        self.touch(now)
        if self.screen != "book_domain":
            return False
        self.domain = next((d for d in self.book_domains if d.code == code), None)
        if self.domain is None:
            return False
        self.slots, self.slots_loaded, self.screen = [], False, "book_day"
        return True

    def set_slots(self, queue: str, slots: Sequence[Mapping[str, Any]], now_at: datetime) -> None:
        """The slots of the next days (GET …/slots, several days): keep the future ones with a free seat."""
        if self.screen != "book_day" or self.domain is None or self.domain.code != queue:
            return
        fresh = (s for s in map(Slot.from_api, slots) if s.free > 0 and s.start > now_at)
        self.slots = sorted(fresh, key=lambda s: s.start)
        self.slots_loaded = True

    @property
    def book_days(self) -> list[date]:
        """The first days with a free slot."""
        return sorted({s.start.date() for s in self.slots})[:BOOK_DAYS]

    def book_choose_day(self, day: date, now: float) -> None:
        """A day button: its free slots."""
        self.touch(now)
        if self.screen == "book_day" and day in self.book_days:
            self.book_day, self.screen = day, "book_slot"

    @property
    def day_slots(self) -> list[Slot]:
        """The chosen day's free slots."""
        return [s for s in self.slots if s.start.date() == self.book_day]

    def book_choose_slot(self, start: datetime, now: float) -> None:
        """A slot button: on to the ID card."""
        self.touch(now)
        if self.screen != "book_slot":
            return
        self.book_slot = next((s for s in self.day_slots if s.start == start), None)
        if self.book_slot is not None:
            self.screen, self.card_error = "book_card", False

    def book_card_read(self, name: str, id_number: str, now: float, *, nationality: str = "") -> None:
        """The card (or a passport, with its `nationality`): its name and number, then the phone keypad."""
        self.touch(now)
        if self.screen == "book_card" and name and id_number:
            self.card_name, self.card_number, self.card_error = name, id_number, False
            self.card_nationality = nationality
            self.screen, self.phone_for, self.phone_typed, self.message = "phone", "booking", "", ""

    def book_confirm(self, now: float) -> BookRequest | None:
        """'Book': a request to send, or None when one is under way (a double tap) or something is missing."""
        self.touch(now)
        if self.screen != "book_confirm" or self.domain is None or self.book_slot is None or not self.card_number:
            return None
        self.booking = BookRequest(
            self.domain.code,
            self.book_slot.start,
            self.card_name,
            self.card_number,
            self.phone,
            self._new_key(),
            self.card_nationality,
        )
        self.screen, self.message = "booking", ""
        return self.booking

    def book_done(self, key: str, appointment: Mapping[str, Any], now: float) -> bool:
        """The server's appointment (masked): the slip; the card's name and number are forgotten."""
        if self.booking is None or self.booking.key != key:
            return False
        self.touch(now)
        self.booking, self.card_name, self.card_number, self.phone = None, "", "", ""
        self.booked, self.screen, self.message = dict(appointment), "booked", ""
        return True

    def book_refused(self, key: str, sentence: str, now: float) -> None:
        """Slot full, already booked that day, bad number: the server's sentence."""
        if self.booking is not None and self.booking.key == key:
            self.touch(now)
            self.booking, self.screen, self.message = None, "error", sentence
            self.card_name = self.card_number = ""

    def book_unreachable(self, key: str, now: float) -> None:
        """The server could not be reached: no booking was made (the client knows)."""
        if self.booking is not None and self.booking.key == key:
            self.touch(now)
            self.booking, self.screen, self.message = None, "error", t("book_gave_up", self.lang)
            self.card_name = self.card_number = ""

    @property
    def book_summary(self) -> str:
        """The confirm screen's lines: service, day and time, masked name and phone."""
        if self.domain is None or self.book_slot is None:
            return ""
        s = self.book_slot
        lines = [
            t("confirm_service", self.lang, name=self.domain.label(self.lang)),
            t("book_when", self.lang, day=f"{s.start:%Y-%m-%d}", time=s.label),
            t("book_who", self.lang, name=mask_name(self.card_name), phone=mask_phone(self.phone)),
        ]
        return "\n".join(lines)
