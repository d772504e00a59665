"""Appointment booking on the kiosk as pure flow steps (no Kivy, no I/O), and the helpers of the mobile-number keypad.

Booking: home (or the closed hall's screen) → book_domain (queues taking appointments) → book_day (the next days
with a free slot) → book_slot → book_card (the ID card gives the name and the ID number; without a card the
screen explains the web booking) → phone (required here) → book_confirm → booking → booked (the slip with its
QR code `HALLAPPT:<code>`, printed and on screen) or error. `Booking` takes these steps on the kiosk's `Flow`, which
holds the state (the phone keypad's steps, shared with take-a-number, are the flow's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from .documents import doc_lines
from .strings import Lang, t

if TYPE_CHECKING:
    from .flow import Domain, Flow

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


class Booking:
    """The booking steps, on the kiosk's `flow` (which holds their state: `_clear` forgets it with the citizen)."""

    def __init__(self, flow: Flow) -> None:
        """Steps on `flow`."""
        self.flow = flow

    # --- booking ----------------------------------------------------------------------------------------

    def book(self, now: float) -> None:
        """Home's (or the closed screen's) 'book' tile: the domains that take appointments."""
        f = self.flow
        f.touch(now)
        if f.screen == "home" and f.can_book:
            f.home(now)
            f.screen = "book_domain"

    @property
    def book_domains(self) -> list[Domain]:
        """The hall's domains that take appointments."""
        f = self.flow
        return [d for d in f.domains if d.code in f.booking_queues]

    def book_choose_domain(self, code: str, now: float) -> bool:
        """A domain tile: True when the app should fetch its slots."""
        f = self.flow
        f.touch(now)
        if f.screen != "book_domain":
            return False
        f.domain = next((d for d in self.book_domains if d.code == code), None)
        if f.domain is None:
            return False
        f.slots, f.slots_loaded, f.screen = [], False, "book_day"
        return True

    def set_slots(self, queue: str, slots: Sequence[Mapping[str, Any]], now_at: datetime) -> None:
        """The slots of the next days (GET …/slots, several days): keep the future ones with a free seat."""
        f = self.flow
        if f.screen != "book_day" or f.domain is None or f.domain.code != queue:
            return
        fresh = (s for s in map(Slot.from_api, slots) if s.free > 0 and s.start > now_at)
        f.slots = sorted(fresh, key=lambda s: s.start)
        f.slots_loaded = True

    @property
    def book_days(self) -> list[date]:
        """The first days with a free slot."""
        return sorted({s.start.date() for s in self.flow.slots})[:BOOK_DAYS]

    def book_choose_day(self, day: date, now: float) -> None:
        """A day button: its free slots."""
        f = self.flow
        f.touch(now)
        if f.screen == "book_day" and day in self.book_days:
            f.book_day, f.screen = day, "book_slot"

    @property
    def day_slots(self) -> list[Slot]:
        """The chosen day's free slots."""
        f = self.flow
        return [s for s in f.slots if s.start.date() == f.book_day]

    def book_choose_slot(self, start: datetime, now: float) -> None:
        """A slot button: on to the ID card."""
        f = self.flow
        f.touch(now)
        if f.screen != "book_slot":
            return
        f.book_slot = next((s for s in self.day_slots if s.start == start), None)
        if f.book_slot is not None:
            f.screen, f.card_error = "book_card", False

    def book_card_read(
        self, name: str, id_number: str, now: float, *, nationality: str = "", id_type: str = ""
    ) -> None:
        """The card (or a passport, with its `nationality`): its name and number, then the phone keypad."""
        f = self.flow
        f.touch(now)
        if f.screen == "book_card" and name and id_number:
            f.card_name, f.card_number, f.card_error = name, id_number, False
            f.card_nationality = nationality
            f.card_id_type = id_type or ("passport" if nationality else "resident")
            f.screen, f.phone_for, f.phone_typed, f.message = "phone", "booking", "", ""

    def book_confirm(self, now: float) -> BookRequest | None:
        """'Book': a request to send, or None when one is under way (a double tap) or something is missing."""
        f = self.flow
        f.touch(now)
        if f.screen != "book_confirm" or f.domain is None or f.book_slot is None or not f.card_number:
            return None
        f.booking = BookRequest(
            f.domain.code, f.book_slot.start, f.card_name, f.card_number, f.phone, f._new_key(), f.card_nationality
        )
        f.screen, f.message = "booking", ""
        return f.booking

    def book_done(self, key: str, appointment: Mapping[str, Any], now: float) -> bool:
        """The server's appointment (masked): the slip; the card's name and number are forgotten."""
        f = self.flow
        if f.booking is None or f.booking.key != key:
            return False
        f.touch(now)
        f.booking, f.card_name, f.card_number, f.phone, f.card_id_type = None, "", "", "", ""
        f.booked, f.screen, f.message = dict(appointment), "booked", ""
        return True

    def book_refused(self, key: str, sentence: str, now: float) -> None:
        """Slot full, already booked that day, bad number: the server's sentence."""
        f = self.flow
        if f.booking is not None and f.booking.key == key:
            f.touch(now)
            f.booking, f.screen, f.message = None, "error", sentence
            f.card_name = f.card_number = f.card_id_type = ""

    def book_unreachable(self, key: str, now: float) -> None:
        """The server could not be reached: no booking was made (the client knows)."""
        f = self.flow
        if f.booking is not None and f.booking.key == key:
            f.touch(now)
            f.booking, f.screen, f.message = None, "error", t("book_gave_up", f.lang)
            f.card_name = f.card_number = ""

    @property
    def book_summary(self) -> str:
        """The confirm screen's lines: service, day and time, masked name and phone."""
        f = self.flow
        if f.domain is None or f.book_slot is None:
            return ""
        s = f.book_slot
        lines = [
            t("confirm_service", f.lang, name=f.domain.label(f.lang)),
            t("book_when", f.lang, day=f"{s.start:%Y-%m-%d}", time=s.label),
            t("book_who", f.lang, name=mask_name(f.card_name), phone=mask_phone(f.phone)),
        ]
        if f.card_id_type:  # the document booked with, named (the check-in needs the same one)
            lines.append(doc_lines("confirm_with_doc", f.card_id_type, f.lang))
        return "\n".join(lines)
