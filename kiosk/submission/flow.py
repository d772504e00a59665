"""The self-submission flow (自助申报) as a plain state machine: no Kivy, no I/O, time passed in by the caller.

Screens: sub_domains (domain tiles and search, and the 一件事 tile: chains of several items) → sub_items →
sub_situation (skipped when the item has one)
→ sub_template (the zero-basis template: materials with their tags, samples, notes) → sub_card (the ID card —
a resident's, a permit holder's or a foreigner's — or a passport from the scanner fills in the name, the number
and the document; required) → sub_phone (optional, keypad) → sub_fields (a chain's shared fields, one at a time:
choices as tiles, numbers on the keypad, text on the on-screen keyboard or left for the window) → sub_capture (one
material after the other; a required one needs a page unless it may follow later, 容缺 or 告知承诺) → sub_review →
sub_sending → sub_result (case number, query code, receipt printed) | sub_queued (saved in the outbox, sent when the
server is back) | sub_error (the server's final no, in its own words). `screen` None means the flow is not
on screen. The app turns taps and worker results into calls here; an idle timeout forgets everything.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from kiosk.booking import mask_name, mask_phone, valid_phone
from kiosk.documents import doc_lines
from kiosk.strings import Lang, t

from .model import FormField, ItemDetail, ItemSummary, Material, Names, Page, Situation, Submission, own_names

__all__ = ["FormField", "ItemDetail", "ItemSummary", "Material", "Page", "Situation", "Submission", "SubmissionFlow"]

SubScreen = Literal[
    "sub_domains",
    "sub_items",
    "sub_situation",
    "sub_template",
    "sub_card",
    "sub_phone",
    "sub_fields",
    "sub_capture",
    "sub_review",
    "sub_sending",
    "sub_result",
    "sub_queued",
    "sub_error",
]
IDLE_S = 90.0  # a form takes longer than a ticket
CAPTURE_IDLE_S = 180.0  # finding and placing each page takes time
RESULT_S = 45.0  # the result screen: time to photograph the numbers
ELDER_FACTOR = 2.0
MAX_FILES = 40  # the server's limit per submission
PHONE_LEN = 11
CHAINS = "__chains__"  # the domains screen's 一件事 tile: the chains (一链办理) instead of one domain's items
NUMBER_LEN = 8
TEXT_LEN = 100  # a text field typed on the on-screen keyboard (the server keeps what the form gives)


class SubmissionFlow:
    """The self-submission state; every method taking `now` (monotonic seconds) counts as a touch."""

    def __init__(self, *, new_id: Callable[[], str] | None = None, idle_s: float = IDLE_S) -> None:
        """Off screen; `new_id` makes submission UUIDs."""
        self._new_id = new_id or (lambda: str(uuid.uuid4()))
        self.idle_s = idle_s
        self.lang: Lang = "zh"
        self.elder = False
        self.last_touch = 0.0
        self.domains: list[tuple[str, str, int, Names]] = []  # (domain, domain_en, items, its ko/ja/ru names)
        self._clear()

    def _clear(self) -> None:
        """Forget the citizen: everything personal and everything on screen."""
        self.screen: SubScreen | None = None
        self.domain: str | None = None
        self.query = ""
        self.items: list[ItemSummary] | None = None  # None: loading
        self.item: ItemDetail | None = None
        self.situation: Situation | None = None
        self.name = self.id_number = self.phone = self.phone_typed = ""
        self.id_type = self.nationality = ""  # the document read (kiosk.documents); a passport's nationality
        self.index = 0
        self.pages: dict[str, list[Page]] = {}
        self.later: set[str] = set()
        self.answers: dict[str, str] = {}  # a chain's shared fields answered here
        self.field_index = 0
        self.typed = ""
        self.capturing = False
        self.message = ""
        self.pending: Submission | None = None
        self.case_number = self.query_code = self.receipt_url = self.reference = ""
        self.print_state: Literal["printing", "printed", "failed"] | None = None

    # --- navigation -------------------------------------------------------------------------------------

    def touch(self, now: float) -> None:
        """Any touch: the idle timer starts again."""
        self.last_touch = now

    def start(self, now: float, *, lang: Lang = "zh", elder: bool = False) -> None:
        """Home's 自助申报 tile: a clean start in the citizen's language and mode."""
        self._clear()
        self.touch(now)
        self.lang, self.elder, self.screen = lang, elder, "sub_domains"

    def set_domains(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """GET /items/domains (not a touch)."""
        self.domains = [
            (
                str(r["domain"]),
                str(r.get("domain_en") or ""),
                int(r.get("items") or 0),
                own_names(r.get("domain_names"), str(r.get("domain_en") or "")),
            )
            for r in rows
        ]

    def choose_domain(self, domain: str, now: float) -> bool:
        """A domain tile: True when the app should load its items."""
        self.touch(now)
        if self.screen != "sub_domains":
            return False
        self.domain, self.query, self.items, self.screen = domain, "", None, "sub_items"
        return True

    def choose_chains(self, now: float) -> bool:
        """The 一件事 tile: True when the app should load the chains."""
        self.touch(now)
        if self.screen != "sub_domains":
            return False
        self.domain, self.query, self.items, self.screen = CHAINS, "", None, "sub_items"
        return True

    @property
    def chains(self) -> bool:
        """Whether the list shows (or the citizen chose from) the chains."""
        return self.domain == CHAINS

    def search(self, query: str, now: float) -> bool:
        """The search box: True when the app should search (a blank query does nothing)."""
        self.touch(now)
        if self.screen not in ("sub_domains", "sub_items") or not query.strip():
            return False
        self.domain, self.query, self.items, self.screen = None, query.strip(), None, "sub_items"
        return True

    def set_items(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """The items of the domain or the search (not a touch)."""
        if self.screen == "sub_items":
            self.items = [ItemSummary.from_api(r) for r in rows]
            self.message = t("no_items", self.lang) if not self.items else ""

    def choose_item(self, code: str, now: float) -> bool:
        """An item tile: True when the app should load its template."""
        self.touch(now)
        if self.screen != "sub_items" or not any(i.code == code for i in self.items or []):
            return False
        self.item, self.situation, self.screen = None, None, "sub_template"
        return True

    def set_item(self, detail: Mapping[str, Any]) -> None:
        """The item's template arrived: choose the situation (or take the only one)."""
        if self.screen != "sub_template" or self.item is not None:
            return
        self.item = ItemDetail.from_api(detail)
        if len(self.item.situations) == 1:
            self.situation = self.item.situations[0]
        else:
            self.screen = "sub_situation"

    def choose_situation(self, code: str, now: float) -> None:
        """A situation button: on to its template."""
        self.touch(now)
        if self.screen == "sub_situation" and self.item is not None:
            self.situation = next((s for s in self.item.situations if s.code == code), None)
            if self.situation is not None:
                self.screen = "sub_template"

    def begin(self, now: float) -> None:
        """'Start' under the template: the ID card."""
        self.touch(now)
        if self.screen == "sub_template" and self.situation is not None:
            self.screen, self.message = "sub_card", ""

    def card_read(
        self, name: str, id_number: str, now: float, id_type: str = "resident", nationality: str = ""
    ) -> None:
        """The reader gave the applicant's name, document number and document (`id_type`; a passport from the
        scanner with its `nationality`): on to the optional phone."""
        self.touch(now)
        if self.screen == "sub_card" and name and id_number:
            self.name, self.id_number, self.screen, self.message = name, id_number, "sub_phone", ""
            self.id_type, self.nationality = id_type, nationality

    def card_failed(self, now: float) -> None:
        """No card or unreadable: say so, keep waiting."""
        self.touch(now)
        if self.screen == "sub_card":
            self.message = t("card_failed", self.lang)

    def phone_key(self, digit: str, now: float) -> None:
        """A keypad digit."""
        self.touch(now)
        if self.screen == "sub_phone" and digit.isdigit() and len(digit) == 1 and len(self.phone_typed) < PHONE_LEN:
            self.phone_typed += digit
            self.message = ""

    def phone_backspace(self, now: float) -> None:
        """Delete the last digit."""
        self.touch(now)
        if self.screen == "sub_phone":
            self.phone_typed = self.phone_typed[:-1]

    def phone_ok(self, now: float) -> bool:
        """Keep a valid number and go on; otherwise a plain sentence (False)."""
        self.touch(now)
        if self.screen != "sub_phone":
            return False
        if not valid_phone(self.phone_typed):
            self.message = t("phone_invalid", self.lang)
            return False
        self.phone = self.phone_typed
        self._after_phone()
        return True

    def phone_skip(self, now: float) -> None:
        """No number (no message when the result is ready)."""
        self.touch(now)
        if self.screen == "sub_phone":
            self.phone = self.phone_typed = ""
            self._after_phone()

    def _after_phone(self) -> None:
        if self.kiosk_fields:
            self.screen, self.field_index, self.message = "sub_fields", 0, ""
            self.typed = self.answers.get(self.kiosk_fields[0].code, "")
        else:
            self._to_capture()

    def _to_capture(self) -> None:
        self.screen, self.index, self.message = "sub_capture", 0, ""

    # --- a chain's shared fields ------------------------------------------------------------------------

    @property
    def kiosk_fields(self) -> tuple[FormField, ...]:
        """The chain's fields asked here (every kind: `FormField.at_kiosk`)."""
        return tuple(f for f in self.item.fields if f.at_kiosk) if self.item is not None else ()

    @property
    def form_field(self) -> FormField | None:
        """The field being answered."""
        fields = self.kiosk_fields
        return fields[self.field_index] if self.screen == "sub_fields" and self.field_index < len(fields) else None

    def choose_value(self, value: str, now: float) -> None:
        """A choice tile: the answer, then the next field."""
        self.touch(now)
        f = self.form_field
        if f is not None and f.kind == "choice" and value in f.choices:
            self.answers[f.code] = value
            self._next_field()

    def field_key(self, digit: str, now: float) -> None:
        """A keypad digit of a number field."""
        self.touch(now)
        f = self.form_field
        if f is not None and f.kind == "number" and digit.isdigit() and len(self.typed) < NUMBER_LEN:
            self.typed += digit
            self.message = ""

    def field_typed(self, text: str, now: float) -> None:
        """A text field's text as typed on the on-screen keyboard (what the field shows)."""
        self.touch(now)
        f = self.form_field
        if f is not None and f.kind == "text":
            self.typed, self.message = text[:TEXT_LEN], ""

    def field_later(self, now: float) -> bool:
        """A text field left for the window (到窗口填写): no answer, the next field."""
        self.touch(now)
        f = self.form_field
        if f is None or f.kind != "text":
            return False
        self.answers.pop(f.code, None)
        self._next_field()
        return True

    def field_backspace(self, now: float) -> None:
        """Delete the last digit of a number field."""
        self.touch(now)
        if self.form_field is not None:
            self.typed = self.typed[:-1]

    def field_ok(self, now: float) -> bool:
        """Keep the typed number (a required one must be there) or text (blank: left for the window) and go on."""
        self.touch(now)
        f = self.form_field
        if f is not None and f.kind == "text":
            text = " ".join(self.typed.split())
            if text:
                self.answers[f.code] = text
            else:  # the kiosk's keyboard has no Chinese input: the clerk fills it in at the window
                self.answers.pop(f.code, None)
            self._next_field()
            return True
        if f is None or f.kind != "number":
            return False
        if not self.typed and f.required:
            self.message = t("need_value", self.lang)
            return False
        if self.typed:
            self.answers[f.code] = str(int(self.typed))
        else:
            self.answers.pop(f.code, None)
        self._next_field()
        return True

    def _next_field(self) -> None:
        self.message = ""
        if self.field_index + 1 < len(self.kiosk_fields):
            self.field_index += 1
            self.typed = self.answers.get(self.kiosk_fields[self.field_index].code, "")
        else:
            self._to_capture()

    @property
    def materials(self) -> tuple[Material, ...]:
        """The chosen situation's materials."""
        return self.situation.materials if self.situation is not None else ()

    @property
    def material(self) -> Material | None:
        """The material being captured."""
        return self.materials[self.index] if self.screen == "sub_capture" and self.materials else None

    @property
    def page_count(self) -> int:
        """Pages captured for all materials."""
        return sum(len(p) for p in self.pages.values())

    # --- capturing --------------------------------------------------------------------------------------

    def begin_capture(self, now: float) -> bool:
        """'Capture': True when the app should ask the camera for one page (never two at once)."""
        self.touch(now)
        m = self.material
        if m is None or self.capturing:
            return False
        if self.page_count >= MAX_FILES:
            self.message = t("too_many_pages", self.lang, n=MAX_FILES)
            return False
        self.capturing, self.message = True, ""
        return True

    def captured(self, content_type: str, data: bytes, now: float) -> None:
        """The camera gave a page for the current material."""
        self.touch(now)
        m = self.material
        self.capturing = False
        if m is not None and data:
            self.pages.setdefault(m.code, []).append(Page(m.code, content_type, data))
            self.later.discard(m.code)

    def capture_failed(self, nothing: bool, now: float) -> None:
        """No page on the platen (`nothing`) or a device fault: a plain sentence."""
        self.touch(now)
        self.capturing = False
        self.message = t("nothing_on_platen" if nothing else "camera_fault", self.lang)

    def remove_page(self, now: float) -> None:
        """Drop the last page of the current material."""
        self.touch(now)
        m = self.material
        if m is not None and self.pages.get(m.code) and not self.capturing:
            self.pages[m.code].pop()

    def toggle_later(self, now: float) -> None:
        """Mark (or unmark) the current material 'bring later' — only where 容缺/告知承诺 allows it."""
        self.touch(now)
        m = self.material
        if m is None or not m.may_follow or self.capturing:
            return
        if m.code in self.later:
            self.later.discard(m.code)
        else:
            self.later.add(m.code)
            self.pages.pop(m.code, None)
        self.message = ""

    def next_material(self, now: float) -> bool:
        """On to the next material (or the review); False with a sentence when a required one has no page."""
        self.touch(now)
        m = self.material
        if m is None or self.capturing:
            return False
        if m.required and not self.pages.get(m.code) and m.code not in self.later:
            self.message = t("need_pages", self.lang)
            return False
        self.message = ""
        if self.index + 1 < len(self.materials):
            self.index += 1
        else:
            self.screen = "sub_review"
        return True

    def back(self, now: float) -> bool:
        """Back one step; False when the flow has nothing to go back to (the app shows home)."""
        self.touch(now)
        s = self.screen
        self.message = ""
        if s == "sub_items":
            self.screen, self.items, self.domain = "sub_domains", None, None
        elif s == "sub_situation":
            self.screen, self.item = "sub_items", None
        elif s == "sub_template":
            many = self.item is not None and len(self.item.situations) > 1
            self.screen = "sub_situation" if many else "sub_items"
            self.situation = None
            if not many:
                self.item = None
        elif s == "sub_card":
            self.screen = "sub_template"
        elif s == "sub_phone":
            self.screen, self.name, self.id_number, self.phone_typed = "sub_card", "", "", ""
        elif s == "sub_fields":
            if self.field_index > 0:
                self.field_index -= 1
                self.typed = self.answers.get(self.kiosk_fields[self.field_index].code, "")
            else:
                self.screen = "sub_phone"
        elif s == "sub_capture" and not self.capturing:
            if self.index > 0:
                self.index -= 1
            elif self.kiosk_fields:
                self.screen, self.field_index = "sub_fields", len(self.kiosk_fields) - 1
                self.typed = self.answers.get(self.kiosk_fields[-1].code, "")
            else:
                self.screen = "sub_phone"
        elif s in ("sub_review", "sub_error"):
            self.screen, self.index = "sub_capture", max(0, len(self.materials) - 1)
        elif s in ("sub_domains", "sub_result", "sub_queued"):
            self._clear()
            return False
        return True

    # --- submitting -------------------------------------------------------------------------------------

    def submit(self, now: float) -> Submission | None:
        """'Submit': the submission to send (once per visit of the review; a double tap gets None)."""
        self.touch(now)
        if self.screen != "sub_review" or self.item is None or self.situation is None or not self.id_number:
            return None
        form = dict(self.answers)
        if self.later:
            form["bring_later"] = ",".join(sorted(self.later))
        pages = tuple(p for m in self.materials for p in self.pages.get(m.code, []))
        self.pending = Submission(
            self._new_id(),
            self.item.code,
            self.item.version or None,
            self.situation.code,
            self.name,
            self.id_number,
            self.phone or None,
            form,
            pages,
            chain=self.item.chain,
            id_type=self.id_type or None,
            nationality=self.nationality or None,
            lang=self.lang,
        )
        self.screen, self.message = "sub_sending", ""
        return self.pending

    def _answers(self, submission_id: str) -> bool:
        return self.pending is not None and self.pending.submission_id == submission_id

    def submitted(self, submission_id: str, case: Mapping[str, Any], now: float) -> bool:
        """The server's case: number and query code on screen, the receipt printing."""
        if not self._answers(submission_id):
            return False
        self.touch(now)
        self._forget_personal()
        self.case_number, self.query_code = str(case["number"]), str(case.get("query_token") or "")
        self.receipt_url = str(case.get("receipt_url") or case.get("query_url") or "")  # a chain: its query page
        self.screen, self.print_state = "sub_result", "printing"
        return True

    def queued(self, submission_id: str, now: float) -> bool:
        """The server is out of reach: the submission waits in the outbox; the citizen is told so."""
        if not self._answers(submission_id) or self.pending is None:
            return False
        self.touch(now)
        self.reference = self.pending.reference
        self._forget_personal()
        self.screen = "sub_queued"
        return True

    def refused(self, submission_id: str, sentence: str, now: float) -> bool:
        """A final no from the server: its own sentence; the citizen may go back and change."""
        if not self._answers(submission_id):
            return False
        self.touch(now)
        self.pending, self.screen, self.message = None, "sub_error", sentence
        return True

    def printed(self, ok: bool) -> None:
        """The receipt's print outcome."""
        if self.screen == "sub_result":
            self.print_state = "printed" if ok else "failed"

    def _forget_personal(self) -> None:
        """After the hand-over: pages, card and phone are no longer needed on screen."""
        self.pending, self.pages, self.later, self.answers, self.typed = None, {}, set(), {}, ""
        self.name = self.id_number = self.phone = self.phone_typed = ""
        self.id_type = self.nationality = ""

    # --- time and view ----------------------------------------------------------------------------------

    def timeout_s(self) -> float | None:
        """This screen's timeout (None while off screen or sending)."""
        if self.screen is None or self.screen == "sub_sending":
            return None
        if self.screen in ("sub_result", "sub_queued"):
            base = RESULT_S
        else:
            base = CAPTURE_IDLE_S if self.screen == "sub_capture" else self.idle_s
        return base * (ELDER_FACTOR if self.elder else 1.0)

    def seconds_left(self, now: float) -> int | None:
        """The countdown to show, or None."""
        limit = self.timeout_s()
        return None if limit is None else max(0, int(limit - (now - self.last_touch) + 0.999))

    def tick(self, now: float) -> bool:
        """Call often; True when the timeout struck: everything personal is gone, the flow is off screen."""
        limit = self.timeout_s()
        if limit is None or now - self.last_touch < limit:
            return False
        self._clear()
        self.last_touch = now
        return True

    def home(self) -> None:
        """Leave the flow (Home), forgetting everything; not while the answer is on its way."""
        if self.screen != "sub_sending":
            self._clear()

    def text(self, key: str, **kw: object) -> str:
        """A catalogue string in the current language."""
        return t(key, self.lang, **kw)

    def applicant_masked(self) -> str:
        """'张*三  3710**********1234' for the review (never in full on screen: masked as the server masks, a
        passport's number to its last two), and the document named on the next line (护照 / Passport)."""
        from queue_server.ids import mask_id_number  # the server's own mask: the same on screen and in its answers

        line = self.text("applicant", name=mask_name(self.name), id=mask_id_number(self.id_number))
        return f"{line}\n{doc_lines('applicant_doc', self.id_type or 'resident', self.lang)}"

    def phone_masked(self) -> str:
        """The phone as typed, masked once complete."""
        return mask_phone(self.phone) if self.phone else ""

    def material_state(self, m: Material) -> str:
        """'3 页' / '稍后补交' / '未提交' for the review."""
        if m.code in self.later:
            return self.text("state_later")
        n = len(self.pages.get(m.code, []))
        return self.text("state_pages", n=n) if n else self.text("state_none")
