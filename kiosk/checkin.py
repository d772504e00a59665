"""Appointment check-in as pure flow steps: home → checkin (scan `HALLAPPT:<code>`, type the code, or the ID card)
→ checking → ticket (with the server's note when late) or error (the server's sentence, an ordinary number on offer).

`CheckIn` takes these steps on the kiosk's `Flow`, which holds the state (the code typed, the request under way).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .strings import t

if TYPE_CHECKING:
    from .flow import Flow

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # appointment codes: no I, O, 0, 1
CODE_LETTERS = "".join(c for c in CODE_ALPHABET if c.isalpha())  # the keypad's letter keys
CODE_LEN = 8
QR_PREFIX = "HALLAPPT:"


@dataclass(frozen=True, slots=True)
class CheckInRequest:
    """One appointment check-in: by booking code or by ID number (exactly one), with its own key.

    `id_type` and `nationality` say which document the number is from (a passport: "passport" and its
    ISO 3166 code); None for an ID card, whose number says what it is.
    """

    code: str | None
    id_number: str | None
    key: str
    id_type: str | None = None
    nationality: str | None = None
    lang: str = "zh"  # the kiosk's language, which the ticket keeps (as take-a-number's)
    interpreter: str | None = None  # 需要语言服务: the language the citizen needs an interpreter in (the clerk sees it)


def parse_qr(payload: str) -> str | None:
    """The booking code in a scanned `HALLAPPT:<code>`, or None for anything else."""
    payload = payload.strip()
    if not payload.startswith(QR_PREFIX):
        return None
    code = payload[len(QR_PREFIX) :].upper()
    return code if valid_code(code) else None


def valid_code(code: str) -> bool:
    """Eight characters of the booking-code alphabet."""
    return len(code) == CODE_LEN and all(c in CODE_ALPHABET for c in code)


class CheckIn:
    """The check-in screen's steps, on the kiosk's `flow`."""

    def __init__(self, flow: Flow) -> None:
        """Steps on `flow`."""
        self.flow = flow

    def check_in(self, now: float) -> None:
        """Home's 'check in' tile: scan, type the code, or read the ID card — after take-a-number's question whether
        an interpreter is needed (需要语言服务), in a language other than Chinese."""
        f = self.flow
        f.touch(now)
        if f.screen == "home" and f.open_now and not f.paused:
            f.code, f.message = "", ""
            f.ask_interpreter("checkin")

    def key(self, ch: str, now: float) -> None:
        """One key of the code keypad (characters outside the alphabet, or a ninth one, are ignored)."""
        f = self.flow
        f.touch(now)
        ch = ch.upper()
        if f.screen == "checkin" and len(ch) == 1 and ch in CODE_ALPHABET and len(f.code) < CODE_LEN:
            f.code, f.message = f.code + ch, ""

    def backspace(self, now: float) -> None:
        """Remove the last typed character."""
        f = self.flow
        f.touch(now)
        if f.screen == "checkin":
            f.code, f.message = f.code[:-1], ""

    def submit_code(self, now: float) -> CheckInRequest | None:
        """'Check in' with the typed code: a request, or None (incomplete code, or one already under way)."""
        f = self.flow
        f.touch(now)
        if f.screen != "checkin":
            return None
        if not valid_code(f.code):
            f.message = t("code_incomplete", f.lang)
            return None
        return self._start_check_in(f.code, None)

    def scanned(self, payload: str, now: float) -> CheckInRequest | None:
        """The scanner read `payload`: an appointment QR code starts a check-in, anything else is explained."""
        f = self.flow
        f.touch(now)
        if f.screen != "checkin":
            return None
        code = parse_qr(payload)
        if code is None:
            f.message = t("qr_invalid", f.lang)
            return None
        return self._start_check_in(code, None)

    def checkin_card(
        self, id_number: str, now: float, *, id_type: str | None = None, nationality: str | None = None
    ) -> CheckInRequest | None:
        """The reader gave a card (or the scanner a passport) on the check-in screen: today's appointment of
        that person."""
        f = self.flow
        f.touch(now)
        if f.screen != "checkin" or not id_number:
            return None
        return self._start_check_in(None, id_number, id_type, nationality)

    def _start_check_in(
        self, code: str | None, id_number: str | None, id_type: str | None = None, nationality: str | None = None
    ) -> CheckInRequest:
        f = self.flow
        f.checkin = CheckInRequest(code, id_number, f._new_key(), id_type, nationality, f.lang, f.interpreter_lang)
        f.screen, f.message, f.code = "checking", "", ""
        return f.checkin

    def checked_in(self, key: str, ticket: Mapping[str, Any], now: float) -> bool:
        """The check-in's ticket (with the server's note when late); False for an answer nobody waits for."""
        f = self.flow
        if f.checkin is None or f.checkin.key != key:
            return False
        f.touch(now)
        f.checkin = None
        from .flow import Ticket  # here: flow imports this module

        f.ticket, f.print_state, f.screen = Ticket.from_api(ticket), "printing", "ticket"
        f.note, f.message = str(ticket.get("note") or ""), ""
        return True

    def check_in_refused(self, key: str, sentence: str, now: float) -> None:
        """Too early, not found, already checked in: the server's sentence, and an ordinary number on offer."""
        f = self.flow
        if f.checkin is not None and f.checkin.key == key:
            f.touch(now)
            f.checkin, f.screen, f.message, f.offer_take = None, "error", sentence, True

    def check_in_unreachable(self, key: str, now: float) -> None:
        """The server could not be reached (or it is unknown whether the check-in went through)."""
        f = self.flow
        if f.checkin is not None and f.checkin.key == key:
            f.touch(now)
            f.checkin, f.screen, f.message = None, "error", t("checkin_gave_up", f.lang)
