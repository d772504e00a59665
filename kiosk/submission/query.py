"""Case query (办件查询) and self-service pickup (取件) at the kiosk, as a plain state machine (no Kivy, no I/O).

Query: q_entry (the ID card, or the case number and its proof typed on a keypad) → q_loading → q_list (the
person's cases: number, item, status, deadline and its light in words) → from a ready result, a ticket of the
output queue (领取结果). Pickup: pk_entry (the 8-digit code from the text message) → pk_loading → pk_done.
A wrong code and a wrong number get the same plain sentence (the server answers 404 for both).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from kiosk.strings import Lang, t

QScreen = Literal["q_entry", "q_loading", "q_list", "pk_entry", "pk_loading", "pk_done"]
NUMBER_KEYS = "0123456789"  # case numbers are digits only: the hall's case prefix, YYMMDD, the day's count
PROOF_KEYS = "0123456789ABCDEFX"  # the receipt's query code (hex) or the ID number's last four (X)
PICKUP_LEN = 8
IDLE_S = 60.0
ELDER_FACTOR = 2.0


@dataclass(frozen=True, slots=True)
class CaseLine:
    """One case as the kiosk lists it (the public view: nothing personal beyond the masked name)."""

    number: str
    item_name: str
    item_name_en: str
    status: str
    status_label: str
    deadline: str
    light: str

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> CaseLine:
        """From a public case view."""
        item = d.get("item") or {}
        return cls(
            str(d["number"]),
            str(item.get("name") or ""),
            str(item.get("name_en") or ""),
            str(d.get("status") or ""),
            str(d.get("status_label") or ""),
            str(d.get("deadline") or ""),
            str(d.get("light") or ""),
        )

    def line(self, lang: Lang) -> str:
        """'T1202611270001  个体工商户设立登记  已受理 / Accepted  办理期限：2026-11-30（正常）'."""
        name = self.item_name_en if lang == "en" and self.item_name_en else self.item_name
        parts = [self.number, name, self.status_label]
        if self.deadline:
            light = f" ({t('light_' + self.light, lang)})" if self.light in ("red", "yellow", "green") else ""
            parts.append(t("query_deadline", lang, date=self.deadline) + light)
        return "    ".join(parts)


class QueryFlow:
    """Case query and pickup state; every method taking `now` counts as a touch."""

    def __init__(self) -> None:
        """Off screen."""
        self.lang: Lang = "zh"
        self.elder = False
        self.last_touch = 0.0
        self._clear()

    def _clear(self) -> None:
        self.screen: QScreen | None = None
        self.number = self.proof = self.code = ""
        self.field: Literal["number", "proof"] = "number"
        self.cases: list[CaseLine] = []
        self.message = ""
        self.message_ok = False  # the message is good news (a ticket taken), not a problem
        self.picked = ""

    def touch(self, now: float) -> None:
        """Any touch: the idle timer starts again."""
        self.last_touch = now

    def start_query(self, now: float, *, lang: Lang = "zh", elder: bool = False) -> None:
        """Home's 办件查询 tile."""
        self._clear()
        self.touch(now)
        self.lang, self.elder, self.screen = lang, elder, "q_entry"

    def start_pickup(self, now: float, *, lang: Lang = "zh", elder: bool = False) -> None:
        """Home's 取件 tile."""
        self._clear()
        self.touch(now)
        self.lang, self.elder, self.screen = lang, elder, "pk_entry"

    def select(self, which: Literal["number", "proof"], now: float) -> None:
        """Tap on a field: the keypad types into it."""
        self.touch(now)
        self.field = which

    def key(self, ch: str, now: float) -> None:
        """A keypad key into the field in use."""
        self.touch(now)
        ch = ch.upper()
        if self.screen == "pk_entry" and ch.isdigit() and len(self.code) < PICKUP_LEN:
            self.code += ch
        elif self.screen == "q_entry" and len(ch) == 1:
            if self.field == "number" and ch in NUMBER_KEYS and len(self.number) < 24:
                self.number += ch
            elif self.field == "proof" and ch in PROOF_KEYS and len(self.proof) < 8:
                self.proof += ch
        self.message = ""

    def backspace(self, now: float) -> None:
        """Delete the last character of the field in use."""
        self.touch(now)
        if self.screen == "pk_entry":
            self.code = self.code[:-1]
        elif self.field == "number":
            self.number = self.number[:-1]
        else:
            self.proof = self.proof[:-1]

    def ask_number(self, now: float) -> tuple[str, str] | None:
        """'Search' with the typed number and proof: (number, proof) to look up, or None."""
        self.touch(now)
        if self.screen != "q_entry" or len(self.number) < 6 or len(self.proof) < 4:
            if self.screen == "q_entry":
                self.message = t("query_none", self.lang)
            return None
        self.screen, self.message = "q_loading", ""
        return self.number, self.proof

    def card_read(self, id_number: str, now: float) -> str | None:
        """The ID card on the query screen: the number to look up, or None."""
        self.touch(now)
        if self.screen != "q_entry" or not id_number:
            return None
        self.screen, self.message = "q_loading", ""
        return id_number

    def found(self, cases: Sequence[Mapping[str, Any]], now: float) -> None:
        """The cases found (none: back to the entry with a sentence)."""
        self.touch(now)
        if self.screen != "q_loading":
            return
        self.cases = [CaseLine.from_api(c) for c in cases]
        self.number = self.proof = ""
        if self.cases:
            self.screen = "q_list"
        else:
            self.screen, self.message = "q_entry", t("query_none", self.lang)

    def failed(self, sentence: str, now: float) -> None:
        """The lookup or pickup failed: back to the entry with a plain sentence."""
        self.touch(now)
        if self.screen == "q_loading":
            self.screen, self.message = "q_entry", sentence
        elif self.screen == "pk_loading":
            self.screen, self.message, self.code = "pk_entry", sentence, ""

    def ticket_taken(self, number: str, now: float) -> None:
        """A ticket of the output queue for a ready result."""
        self.touch(now)
        if self.screen == "q_list":
            self.message, self.message_ok = t("pickup_ticket_taken", self.lang, number=number), True

    def ask_pickup(self, now: float) -> str | None:
        """'Collect' with the typed code: the code to send, or None with a sentence."""
        self.touch(now)
        if self.screen != "pk_entry":
            return None
        if len(self.code) != PICKUP_LEN:
            self.message = t("pickup_incomplete", self.lang)
            return None
        self.screen, self.message = "pk_loading", ""
        return self.code

    def picked_up(self, number: str, now: float) -> None:
        """The server handed the result over."""
        self.touch(now)
        if self.screen == "pk_loading":
            self.screen, self.picked, self.code = "pk_done", number, ""
            self.message = t("pickup_done", self.lang, number=number)

    def back(self, now: float) -> bool:
        """Back one step; False when there is nothing to go back to (the app shows home)."""
        self.touch(now)
        if self.screen == "q_list":
            self.screen, self.cases, self.message = "q_entry", [], ""
            return True
        if self.screen in ("q_loading", "pk_loading"):
            return True
        self._clear()
        return False

    def home(self) -> None:
        """Leave, forgetting everything."""
        self._clear()

    def seconds_left(self, now: float) -> int | None:
        """The countdown, or None off screen."""
        if self.screen is None:
            return None
        limit = IDLE_S * (ELDER_FACTOR if self.elder else 1.0)
        return max(0, int(limit - (now - self.last_touch) + 0.999))

    def tick(self, now: float) -> bool:
        """True when the idle timeout struck (everything forgotten)."""
        left = self.seconds_left(now)
        if left is None or left > 0:
            return False
        self._clear()
        return True

    def text(self, key: str, **kw: object) -> str:
        """A catalogue string in the current language."""
        return t(key, self.lang, **kw)
