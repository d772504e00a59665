"""The complaint tile as a plain state machine: no Kivy, no I/O, time passed in by the caller.

Screens: fb_category (the server's complaint categories) → fb_reasons (preset lines to tap, plus an optional
typed note) → fb_contact (anonymous, or a mobile number for the answer) → fb_phone (keypad; only when a number
is wanted) → fb_review → fb_sending → fb_done (the reference code, printed when a printer is there) or fb_error.
`submit()` is the only way to send and answers once per visit of the review screen, so a second tap while
sending does nothing; each request carries its own idempotency key, reused by every retry of that tap, so a lost
answer never files the complaint twice. An idle timeout (or the done screen's) forgets everything.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from kiosk.booking import PHONE_LEN, mask_phone, typed_phone, valid_phone
from kiosk.strings import Lang, t

# Preset lines per server category (queue_server.feedback.catalogue.COMPLAINT_CATEGORIES), how many each: their
# text is the catalogue's fb_phrase_<category>_<n>. A kiosk has no Chinese input method, so the citizen taps what
# happened; the Chinese line is what staff read.
PHRASES: dict[str, int] = {
    "service": 4,
    "efficiency": 4,
    "process": 4,
    "facility": 4,
    "integrity": 3,
    "suggestion": 3,
    "other": 1,
}

Screen = Literal[
    "", "fb_category", "fb_reasons", "fb_contact", "fb_phone", "fb_review", "fb_sending", "fb_done", "fb_error"
]
IDLE_S = 90.0  # writing takes longer than taking a number
DONE_S = 40.0  # time to note the reference code
MIN_CONTENT = 5  # the server's minimum (characters)
MAX_NOTE = 500
ANSWER_DAYS = 5  # working days to answer (queue_server.feedback.complaints.ANSWER_WORKING_DAYS)
BACK: dict[str, Screen] = {
    "fb_reasons": "fb_category",
    "fb_contact": "fb_reasons",
    "fb_phone": "fb_contact",
    "fb_review": "fb_contact",
    "fb_error": "fb_review",
}


@dataclass(frozen=True, slots=True)
class Category:
    """A complaint category of the server's catalogue."""

    code: str
    zh: str
    en: str

    def label(self, lang: Lang) -> str:
        """The name in `lang`."""
        return self.en if lang == "en" and self.en else self.zh


@dataclass(frozen=True, slots=True)
class ComplaintRequest:
    """One tap on 'submit': the body to POST and the tap's own idempotency key."""

    category: str
    content: str
    phone: str
    key: str


class FeedbackFlow:
    """The complaint tile's state (see the module doc)."""

    def __init__(self, new_key: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        """A flow whose requests get keys from `new_key`."""
        self._new_key = new_key
        self.categories: list[Category] = []
        self._clear()

    def _clear(self) -> None:
        self.screen: Screen = ""
        self.lang: Lang = "zh"
        self.category: Category | None = None
        self.chosen: list[int] = []  # indices into the category's phrases, in tap order
        self.note = ""
        self.wants_phone = False
        self.phone_typed = ""
        self.phone = ""
        self.request: ComplaintRequest | None = None
        self.result: dict[str, Any] | None = None
        self.print_state: str | None = None  # printing | printed | failed
        self.message = ""
        self.last_touch = 0.0

    # --- moving around ----------------------------------------------------------------------------------

    def touch(self, now: float) -> None:
        """A touch: restart the idle timer."""
        self.last_touch = now

    def start(self, lang: Lang, now: float) -> None:
        """The home tile: the categories (in the kiosk's current language)."""
        self._clear()
        self.lang, self.screen = lang, "fb_category"
        self.touch(now)

    def set_categories(self, items: Sequence[Mapping[str, Any]]) -> None:
        """The server catalogue's `complaint_categories` ([{"code", "zh", "en"}]); unknown ones get one line."""
        self.categories = [
            Category(str(c["code"]), str(c.get("zh") or c["code"]), str(c.get("en") or "")) for c in items
        ]

    def choose_category(self, code: str, now: float) -> None:
        """A category tile."""
        self.touch(now)
        found = next((c for c in self.categories if c.code == code), None)
        if self.screen == "fb_category" and found is not None:
            if found != self.category:
                self.chosen, self.note = [], ""
            self.category, self.screen, self.message = found, "fb_reasons", ""

    def phrases(self) -> tuple[tuple[str, str], ...]:
        """The preset lines of the chosen category (zh, en)."""
        if self.category is None:
            return ()
        code = self.category.code if self.category.code in PHRASES else "other"
        keys = [f"fb_phrase_{code}_{i}" for i in range(1, PHRASES[code] + 1)]
        return tuple((t(k, "zh"), t(k, self.lang)) for k in keys)

    def toggle_phrase(self, index: int, now: float) -> None:
        """Tap a preset line: chosen ⇄ not chosen."""
        self.touch(now)
        if self.screen != "fb_reasons" or not 0 <= index < len(self.phrases()):
            return
        self.chosen = [i for i in self.chosen if i != index] if index in self.chosen else [*self.chosen, index]
        self.message = ""

    def set_note(self, text: str, now: float) -> None:
        """The typed note (cut to MAX_NOTE characters)."""
        self.touch(now)
        self.note = text[:MAX_NOTE]

    @property
    def content(self) -> str:
        """What staff read: the chosen lines in Chinese, then the note."""
        parts = [self.phrases()[i][0] for i in self.chosen] + ([self.note.strip()] if self.note.strip() else [])
        return "；".join(parts)

    def reasons_next(self, now: float) -> bool:
        """'Next' on the reasons screen: enough said → contact; else say what is missing."""
        self.touch(now)
        if self.screen != "fb_reasons":
            return False
        if len(self.content) < MIN_CONTENT:
            self.message = t("fb_reasons_missing", self.lang)
            return False
        self.screen, self.message = "fb_contact", ""
        return True

    def anonymous(self, now: float) -> None:
        """Stay anonymous: straight to the review (any typed number is forgotten)."""
        self.touch(now)
        if self.screen == "fb_contact":
            self.wants_phone, self.phone, self.phone_typed = False, "", ""
            self.screen = "fb_review"

    def with_phone(self, now: float) -> None:
        """Leave a number: the keypad."""
        self.touch(now)
        if self.screen == "fb_contact":
            self.wants_phone, self.phone_typed, self.screen, self.message = True, self.phone, "fb_phone", ""

    def phone_key(self, digit: str, now: float) -> None:
        """One digit (a twelfth, or anything not a digit, is ignored)."""
        self.touch(now)
        if self.screen == "fb_phone" and len(digit) == 1 and digit.isdigit() and len(self.phone_typed) < PHONE_LEN:
            self.phone_typed, self.message = self.phone_typed + digit, ""

    def phone_backspace(self, now: float) -> None:
        """Remove the last digit."""
        self.touch(now)
        if self.screen == "fb_phone":
            self.phone_typed, self.message = self.phone_typed[:-1], ""

    def phone_ok(self, now: float) -> bool:
        """'OK': a valid number goes to the review; anything else is explained."""
        self.touch(now)
        if self.screen != "fb_phone":
            return False
        if not valid_phone(self.phone_typed):
            self.message = t("phone_invalid", self.lang)
            return False
        self.phone, self.screen, self.message = self.phone_typed, "fb_review", ""
        return True

    @property
    def phone_shown(self) -> str:
        """The keypad's display: the digits so far, grouped, masked once complete."""
        return typed_phone(self.phone_typed)

    @property
    def review_text(self) -> str:
        """The review screen's lines: category, what was said, contact (masked)."""
        if self.category is None:
            return ""
        contact = (
            t("fb_review_contact_phone", self.lang, phone=mask_phone(self.phone))
            if self.phone
            else t("fb_review_contact_anon", self.lang)
        )
        said = [self.phrases()[i][0 if self.lang == "zh" else 1] for i in self.chosen]
        if self.note.strip():
            said.append(self.note.strip())
        lines = [t("fb_review_category", self.lang, name=self.category.label(self.lang)), *said, contact]
        return "\n".join(lines)

    def back(self, now: float) -> None:
        """Back one screen (nothing while sending, nothing from done)."""
        self.touch(now)
        if self.screen == "fb_review" and self.wants_phone:
            self.screen = "fb_phone"
        elif self.screen == "fb_category":
            self._clear()
        elif self.screen in BACK:
            self.screen, self.message = BACK[self.screen], ""

    def home(self) -> None:
        """Home: forget everything (also an answer still under way: it will find no request)."""
        self._clear()

    # --- sending ----------------------------------------------------------------------------------------

    def submit(self, now: float) -> ComplaintRequest | None:
        """'Submit': a request to send, or None when one is under way (a double tap) or not on the review."""
        self.touch(now)
        if self.screen != "fb_review" or self.category is None or len(self.content) < MIN_CONTENT:
            return None
        self.request = ComplaintRequest(self.category.code, self.content, self.phone, self._new_key())
        self.screen, self.message = "fb_sending", ""
        return self.request

    def retrying(self, key: str) -> None:
        """The client is retrying this request."""
        if self.request is not None and self.request.key == key:
            self.message = t("fb_retrying", self.lang)

    def done(self, key: str, result: Mapping[str, Any], now: float) -> bool:
        """The server's answer (code, deadline): the reference screen; the phone is forgotten."""
        if self.request is None or self.request.key != key:
            return False
        self.touch(now)
        self.request, self.result, self.phone, self.phone_typed = None, dict(result), "", ""
        self.screen, self.message = "fb_done", ""
        return True

    def refused(self, key: str, sentence: str, now: float) -> None:
        """The server said no (the sentence says why): the error screen, Back returns to the review."""
        if self.request is not None and self.request.key == key:
            self.touch(now)
            self.request, self.screen, self.message = None, "fb_error", sentence

    def unreachable(self, key: str, now: float) -> None:
        """No answer after every retry: nothing was filed (the same key would find it otherwise)."""
        self.refused(key, t("fb_gave_up", self.lang), now)

    def printed(self, ok: bool) -> None:
        """The slip's fate."""
        if self.screen == "fb_done":
            self.print_state = "printed" if ok else "failed"

    @property
    def code(self) -> str:
        """The reference code of the filed complaint ('' before)."""
        return str((self.result or {}).get("code") or "")

    @property
    def query_code(self) -> str:
        """The filed complaint's query code: with the reference, the proof to read the answer ('' before)."""
        return str((self.result or {}).get("query_code") or "")

    # --- time -------------------------------------------------------------------------------------------

    def seconds_left(self, now: float) -> int | None:
        """Seconds before the screen returns home (None when not in this part or while sending)."""
        if not self.screen or self.screen == "fb_sending":
            return None
        limit = DONE_S if self.screen == "fb_done" else IDLE_S
        return max(0, int(limit - (now - self.last_touch) + 0.999))

    def tick(self, now: float) -> bool:
        """The idle timer: True when it sent the citizen home (everything forgotten)."""
        left = self.seconds_left(now)
        if left is not None and left <= 0:
            self._clear()
            return True
        return False
