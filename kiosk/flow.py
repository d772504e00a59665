"""The take-a-number flow as a plain state machine: no Kivy, no I/O, time passed in by the caller.

Screens: home → domain (pages of tiles) → confirm → issuing → ticket → home (timeout): three taps. The ID card is
optional and read whenever it arrives: on home it starts take-a-number with the card read, on the domain and
confirm screens it is kept for the ticket (the server picks the priority lane from it). In a language other than
Chinese the kiosk asks once, between the domain and confirm, whether the citizen needs an interpreter
(需要语言服务, screen `interpreter`, issue 22) when the hall offers one in that language; yes → the ticket carries
`interpreter=<the kiosk's language>`. Appointment check-in asks the same question, on the same screen, before its
own (`ask_interpreter`): the answer is kept for the visit and goes with the check-in.
Appointment check-in: home → checkin (scan `HALLAPPT:<code>`, type the code, or the ID card) → checking →
ticket (with the server's note when late) or error (the server's sentence, an ordinary number on offer).
The 24-hour mode (the hall's hours) and the mobile-number keypad (an optional step of taking a number, a required
one of booking) are here too; the check-in and booking steps (`checkin.CheckIn`, `booking.Booking`) work on this
state. The app and its parts turn taps and worker results into calls here and draw what `screen` and the fields say.
`confirm()` is the only way to ask for a ticket and answers a request once per visit of the confirm
screen, so a second tap while issuing is ignored; each request carries its own idempotency key, which
the client reuses for every retry of that tap. An idle timeout (or the ticket screen's timeout) forgets
everything personal: the chosen service, the ID number, the ticket, messages, language and elder mode.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from .booking import PHONE_LEN, BookRequest, Slot, opening_text, typed_phone, valid_phone
from .checkin import CODE_ALPHABET, CODE_LEN, QR_PREFIX, CheckInRequest, parse_qr, valid_code
from .strings import Lang, name_in, next_lang, t

__all__ = ["CODE_ALPHABET", "CODE_LEN", "QR_PREFIX", "CheckInRequest", "Flow", "parse_qr", "valid_code"]

Screen = Literal[
    "home",
    "domain",
    "confirm",
    "interpreter",
    "phone",
    "issuing",
    "ticket",
    "error",
    "checkin",
    "checking",
    "book_domain",
    "book_day",
    "book_slot",
    "book_card",
    "book_confirm",
    "booking",
    "booked",
]
BUSY: tuple[Screen, ...] = ("issuing", "checking", "booking")  # an answer is on its way
PrintState = Literal["printing", "printed", "paper_out", "fault"]

IDLE_S = 60.0  # seconds without a touch before a screen returns home
TICKET_S = 20.0  # the ticket screen's own timeout
UNPRINTED_S = 45.0  # …when the ticket could not be printed: time to photograph the number on screen
ELDER_FACTOR = 2.0  # elder mode: slower timeouts


@dataclass(frozen=True, slots=True)
class Domain:
    """A queue the citizen can choose, with its live load."""

    code: str
    name: str
    name_en: str
    waiting: int
    estimated_wait_s: int
    names: tuple[tuple[str, str], ...] = ()  # (language, name) in the hall's languages (board state `names`)

    @classmethod
    def from_api(cls, q: Mapping[str, Any]) -> Domain:
        """From one item of GET …/queues."""
        names = tuple((str(k), str(v)) for k, v in (q.get("names") or {}).items() if v)
        return cls(
            str(q["code"]),
            str(q["name"]),
            str(q.get("name_en") or ""),
            int(q["waiting"]),
            int(q["estimated_wait_s"]),
            names,
        )

    def label(self, lang: Lang) -> str:
        """The service's name in `lang`: the hall's own name in it (issue 22), else English for English, else
        Chinese."""
        return name_in(lang, self.name, self.name_en, self.names)

    def load(self, lang: Lang) -> str:
        """'12 waiting · about 30 min'."""
        if not self.waiting:
            return t("no_wait", lang)
        minutes = max(1, round(self.estimated_wait_s / 60))
        return f"{t('waiting', lang, n=self.waiting)} · {t('wait_min', lang, m=minutes)}"


@dataclass(frozen=True, slots=True)
class IssueRequest:
    """One tap on 'get my number': the queue, the optional ID number, and the tap's idempotency key."""

    queue: str
    id_number: str | None
    key: str
    phone: str | None = None  # for silent calling (SMS)
    lang: str = "zh"  # the kiosk's language: the tracking page, the phone messages and the printed ticket use it
    interpreter: str | None = None  # 需要语言服务: the language the citizen needs an interpreter in (the clerk sees it)


@dataclass(frozen=True, slots=True)
class Ticket:
    """The issued ticket as the kiosk shows it."""

    number: str
    queue: str
    lane: str
    ahead: int
    estimated_wait_s: int
    track_token: str
    phone_masked: str = ""
    track_url: str = ""  # the tracking page: what the QR codes on screen and on paper encode, as the server gave it
    interpreter: str = ""  # 需要语言服务: the language an interpreter is needed in ("" none)

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> Ticket:
        """From the take-a-number answer."""
        return cls(
            str(d["number"]),
            str(d["queue"]),
            str(d.get("lane") or "normal"),
            int(d.get("ahead") or 0),
            int(d.get("estimated_wait_s") or 0),
            str(d.get("track_token") or ""),
            str(d.get("phone_masked") or ""),
            str(d.get("track_url") or ""),
            str(d.get("interpreter") or ""),
        )


class Flow:
    """The kiosk's state; every method takes `now` (monotonic seconds) and counts as a touch."""

    def __init__(
        self,
        *,
        new_key: Callable[[], str] | None = None,
        idle_s: float = IDLE_S,
        ticket_s: float = TICKET_S,
        id_reader: bool = True,
    ) -> None:
        """A flow on the home screen; `new_key` makes idempotency keys; without `id_reader` no ID-card step."""
        self._new_key = new_key or (lambda: uuid.uuid4().hex)
        self.id_reader = id_reader
        self.idle_s, self.ticket_s = idle_s, ticket_s
        self.domains: list[Domain] = []
        self.lang: Lang = "zh"
        self.elder = False
        self.portrait = False  # the screen's shape decides how many tiles a page holds
        self.paused = False  # the server does not answer: home offers nothing that needs it
        self.open_now = True  # the hall's hours (set_hall): closed, home is the 24-hour screen
        self.next_open: datetime | None = None
        self.booking_queues: tuple[str, ...] = ()
        self.languages: tuple[str, ...] = ("zh", "en")  # the hall's (GET /api/v1/halls): interpreters in these
        self.last_touch = 0.0
        self._clear()

    def _clear(self) -> None:
        """Forget the citizen: everything personal and everything on screen."""
        self.screen: Screen = "home"
        self.domain: Domain | None = None
        self.id_number: str | None = None
        self.id_type = ""  # the document read for take-a-number (kiosk.documents): resident, …, passport; "" none
        self.passport = False  # a passport was read for take-a-number (its number is not sent: see passport_read)
        self.interpreter: bool | None = None  # 需要语言服务 answered (None: not asked yet; asked once a visit)
        self.interp_then: Screen = "confirm"  # where the answer leads: take-a-number's confirm, or check-in's screen
        self.card_error = False
        self.page = 0  # the domain screen's page: every visit starts on the first
        self.pending: IssueRequest | None = None
        self.checkin: CheckInRequest | None = None  # a check-in under way
        self.code = ""  # the booking code typed so far
        self.note = ""  # the server's note on a check-in ticket (late: an ordinary ticket)
        self.offer_take = False  # the error screen offers an ordinary number instead
        self.ticket: Ticket | None = None
        self.print_state: PrintState | None = None
        self.message: str = ""  # a plain sentence for the citizen (already in the right language(s))
        self.phone = ""  # digits typed on the phone keypad / the confirmed number
        self.phone_typed = ""
        self.phone_for: str = ""  # 'ticket' (optional) or 'booking' (required)
        self.slots: list[Slot] = []
        self.slots_loaded = False
        self.book_day: date | None = None
        self.book_slot: Slot | None = None
        self.card_name = ""
        self.card_number = ""
        self.card_nationality = ""  # set with the number by `Booking.book_card_read`: a passport's nationality
        self.card_id_type = ""  # the document the booking's name and number come from (kiosk.documents)
        self.booking: BookRequest | None = None
        self.booked: dict[str, Any] | None = None

    # --- navigation -------------------------------------------------------------------------------------

    def touch(self, now: float) -> None:
        """Any touch: the idle timer starts again."""
        self.last_touch = now

    def take_number(self, now: float) -> None:
        """Home's 'take a number' tile."""
        self.touch(now)
        if self.paused:
            return
        if (self.screen == "home" and self.open_now) or (self.screen == "error" and self.offer_take):
            lang, elder = self.lang, self.elder
            self._clear()
            self.lang, self.elder, self.screen = lang, elder, "domain"

    def set_domains(self, queues: Sequence[Mapping[str, Any]]) -> None:
        """Fresh loads from GET …/queues (not a touch)."""
        self.domains = [Domain.from_api(q) for q in queues]
        if self.domain is not None:
            self.domain = next((d for d in self.domains if d.code == self.domain.code), self.domain)

    def choose_domain(self, code: str, now: float) -> None:
        """A domain tile: on to the (optional) ID card."""
        self.touch(now)
        if self.screen != "domain":
            return
        self.domain = next((d for d in self.domains if d.code == code), None)
        if self.domain is not None:
            self.screen, self.card_error = "confirm", False
            self.ask_interpreter("confirm")

    # --- 需要语言服务: an interpreter ----------------------------------------------------------------------

    @property
    def asks_interpreter(self) -> bool:
        """Whether take-a-number asks for an interpreter: the kiosk speaks another language than Chinese and the
        hall offers interpreters in it (its `languages`)."""
        return self.lang != "zh" and self.lang in self.languages

    def ask_interpreter(self, then: Screen) -> None:
        """Ask 需要语言服务 now when it is asked and not yet answered this visit, then go on to `then` (take-a-number's
        `confirm`, check-in's `checkin`); else straight to `then`."""
        self.interp_then, self.screen = then, then
        if self.asks_interpreter and self.interpreter is None:
            self.screen = "interpreter"

    @property
    def checkin_asking(self) -> bool:
        """The interpreter question shows on the way to check-in (not to take-a-number's confirm)."""
        return self.screen == "interpreter" and self.interp_then == "checkin"

    def answer_interpreter(self, yes: bool, now: float) -> None:
        """需要 / 不需要: kept for this visit (asked once), then the screen it was asked on the way to."""
        self.touch(now)
        if self.screen == "interpreter" and (self.domain is not None or self.checkin_asking):
            self.interpreter, self.screen = yes, self.interp_then

    @property
    def interpreter_lang(self) -> str | None:
        """The language the ticket asks an interpreter in (None: none asked)."""
        return self.lang if self.interpreter and self.asks_interpreter else None

    # --- pages of domain tiles --------------------------------------------------------------------------

    @property
    def grid(self) -> tuple[int, int]:
        """(columns, rows) of domain tiles on one page: fewer, larger tiles in elder mode."""
        if self.portrait:
            return (2, 3) if self.elder else (2, 4)
        return (2, 2) if self.elder else (3, 2)

    @property
    def per_page(self) -> int:
        """Domain tiles on one page."""
        cols, rows = self.grid
        return cols * rows

    @property
    def pages(self) -> int:
        """How many pages the domains fill (at least one)."""
        return max(1, -(-len(self.domains) // self.per_page))

    @property
    def page_domains(self) -> list[Domain]:
        """The domains on the page shown."""
        start = min(self.page, self.pages - 1) * self.per_page
        return self.domains[start : start + self.per_page]

    def turn_page(self, step: int, now: float) -> None:
        """上一页 (-1) / 下一页 (+1); nothing past either end."""
        self.touch(now)
        if self.screen == "domain":
            self.page = max(0, min(self.pages - 1, self.page + step))

    # --- the ID card --------------------------------------------------------------------------------------

    @property
    def wants_card(self) -> bool:
        """Whether a card on the reader means something now (take-a-number's screens)."""
        take = ("home", "domain", "confirm", "interpreter")
        return self.screen in take and not self.checkin_asking and self.open_now and not self.paused

    def card_read(self, id_number: str, now: float, id_type: str = "resident") -> None:
        """The reader gave a card: on home it starts take-a-number; on its screens it is kept for the ticket."""
        if self.screen == "home" and self.open_now:
            self.take_number(now)
        self.touch(now)
        if self.screen in ("domain", "confirm", "interpreter"):
            self.id_number, self.card_error, self.passport, self.id_type = id_number, False, False, id_type

    def passport_read(self, now: float) -> None:
        """The scanner read a passport's MRZ: like a card on take-a-number's screens, but nothing goes to the server.

        The server takes only resident, permit and permanent residence numbers (a passport number would fail its
        validation), and the kiosk does not know the hall's senior age, so a passport holder takes an ordinary
        number in the normal lane; the confirm screen says the passport was read (已读取护照).
        """
        if self.screen == "home" and self.open_now:
            self.take_number(now)
        self.touch(now)
        if self.screen in ("domain", "confirm", "interpreter"):
            self.id_number, self.card_error, self.passport, self.id_type = None, False, True, "passport"

    def card_failed(self, now: float) -> None:
        """A card that could not be read (removed mid-read): a plain sentence; the reader keeps listening."""
        self.touch(now)
        if self.screen in ("domain", "confirm", "interpreter", "book_card"):
            self.card_error = True

    def back(self, now: float) -> None:
        """Back one step (from the ticket or an error: home)."""
        self.touch(now)
        if self.screen == "domain" or self.checkin_asking:
            self.home(now)
        elif self.screen in ("confirm", "interpreter"):
            self.screen, self.domain, self.card_error = "domain", None, False
        elif self.screen == "checkin" and self.code:
            self.code, self.message = "", ""
        elif self.screen == "phone":
            self.phone_typed, self.message = "", ""
            self.screen = "confirm" if self.phone_for == "ticket" else "book_card"
        elif self.screen in ("book_day", "book_slot", "book_card", "book_confirm"):
            prev: dict[str, Screen] = {
                "book_day": "book_domain",
                "book_slot": "book_day",
                "book_card": "book_slot",
                "book_confirm": "book_card",
            }
            self.screen, self.card_error, self.message = prev[self.screen], False, ""
            if self.screen == "book_card":
                self.card_name = self.card_number = self.phone = self.card_id_type = ""
        elif self.screen in ("ticket", "error", "checkin", "book_domain", "booked"):
            self.home(now)

    def home(self, now: float) -> None:
        """Home, forgetting the citizen (language and elder mode stay: the same citizen is there)."""
        self.touch(now)
        if self.screen not in BUSY:  # the answer is on its way: it must be shown, not dropped
            self._clear()

    def toggle_lang(self, now: float) -> None:
        """中文 ⇄ English."""
        self.touch(now)
        self.lang = next_lang(self.lang)

    def toggle_elder(self, now: float) -> None:
        """Elder mode on/off: larger type, fewer tiles per row, slower timeouts."""
        self.touch(now)
        self.elder = not self.elder
        self.page = min(self.page, self.pages - 1)

    # --- hours ------------------------------------------------------------------------------------------

    def set_hall(self, hall: Mapping[str, Any]) -> bool:
        """The hall's entry of GET /api/v1/halls (not a touch); True when open/closed changed."""
        was = self.open_now
        self.open_now = bool(hall.get("open_now", True))
        nxt = hall.get("next_open")
        self.next_open = datetime.fromisoformat(str(nxt)) if nxt else None
        self.booking_queues = tuple(str(q) for q in hall.get("booking_queues") or ())
        self.languages = tuple(str(x) for x in hall.get("languages") or ("zh", "en"))
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

    # --- issuing ----------------------------------------------------------------------------------------

    def confirm(self, now: float) -> IssueRequest | None:
        """'Get my number': a request to send, or None when one is already under way (a double tap)."""
        self.touch(now)
        if self.screen != "confirm" or self.domain is None:
            return None
        self.pending = IssueRequest(
            self.domain.code, self.id_number, self._new_key(), self.phone or None, self.lang, self.interpreter_lang
        )
        self.screen, self.message = "issuing", ""
        return self.pending

    def retrying(self, key: str) -> None:
        """The client lost the server and retries this request."""
        if any(r is not None and r.key == key for r in (self.pending, self.checkin, self.booking)):
            self.message = t("unreachable", self.lang)

    def issued(self, key: str, ticket: Mapping[str, Any], now: float) -> bool:
        """The server's ticket; False (and nothing changes) for an answer nobody waits for any more."""
        if self.pending is None or self.pending.key != key:
            return False
        self.touch(now)
        self.pending, self.id_number, self.phone = None, None, ""  # the numbers have done their job
        self.passport, self.id_type = False, ""
        self.ticket, self.print_state, self.screen, self.message = Ticket.from_api(ticket), "printing", "ticket", ""
        return True

    def refused(self, key: str, sentence: str, now: float) -> None:
        """The server said no (closed, daily cap): its own sentence, as it is."""
        if self.pending is not None and self.pending.key == key:
            self.touch(now)
            self.pending, self.screen, self.message = None, "error", sentence

    def unreachable(self, key: str, now: float) -> None:
        """The client gave up retrying."""
        if self.pending is not None and self.pending.key == key:
            self.touch(now)
            self.pending, self.screen, self.message = None, "error", t("gave_up", self.lang)

    def printed(self, state: PrintState) -> None:
        """The printer's outcome: printed, or the ticket stays on screen with its QR code and a message."""
        if self.screen != "ticket":
            return
        self.print_state = state
        if state == "paper_out":
            self.message = t("paper_out", "zh") + " / " + t("paper_out", "en")
        elif state == "fault":
            self.message = t("printer_fault", "zh") + " / " + t("printer_fault", "en")

    @property
    def show_qr(self) -> bool:
        """The QR code is on screen when the ticket could not be printed."""
        return self.screen == "ticket" and self.print_state in ("paper_out", "fault")

    # --- time -------------------------------------------------------------------------------------------

    def timeout_s(self) -> float | None:
        """This screen's timeout (None: home waits forever, issuing waits for the server)."""
        if self.screen == "home" or self.screen in BUSY:
            return None
        base = self.ticket_s if self.screen in ("ticket", "booked") else self.idle_s
        if self.screen == "ticket" and self.print_state in ("paper_out", "fault"):
            base = max(base, UNPRINTED_S)  # counted from when the ticket was shown (its last touch)
        return base * (ELDER_FACTOR if self.elder else 1.0)

    def seconds_left(self, now: float) -> int | None:
        """The countdown to show, or None."""
        limit = self.timeout_s()
        if limit is None:
            return None
        return max(0, int(limit - (now - self.last_touch) + 0.999))

    def tick(self, now: float) -> bool:
        """Call often; True when the timeout struck: back home, the next citizen starts from scratch."""
        limit = self.timeout_s()
        if limit is None or now - self.last_touch < limit:
            return False
        self._clear()
        self.lang, self.elder = "zh", False
        self.last_touch = now
        return True

    # --- view helpers -----------------------------------------------------------------------------------

    def text(self, key: str, **kw: object) -> str:
        """A catalogue string in the current language."""
        return t(key, self.lang, **kw)
