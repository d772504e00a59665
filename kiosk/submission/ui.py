"""The Kivy side of self-submission, case query and pickup: flow state → properties, taps → flow calls, I/O on threads.

`SubmissionUi` is a part of the kiosk (`kiosk.parts.Part`), held by the app as `app.sub`; `submission.kv` draws its
properties. Like the other parts it uses the kiosk's devices service (`app.devices`): the ID-card reader's cards and
the scanner's passports come to `card` and `passport`, the receipt goes to `app.devices.print_document`. Network,
camera and printer calls run on worker threads and come back through `app._later` (the Kivy clock).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kivy.properties import BooleanProperty, DictProperty, StringProperty  # type: ignore[import-untyped]

from kiosk.booking import typed_phone
from kiosk.client import Final, KioskClient, KioskClientError, citizen_words
from kiosk.parts import Part, Tile
from kiosk.strings import both, messages, name_in

from .flow import SubmissionFlow
from .outbox import Outbox, OutboxError
from .query import QueryFlow
from .screens import KV_FILE, install
from .script import SubmissionSteps

log = logging.getLogger("kiosk")


class SubmissionUi(Part):
    """Self-submission, case query and pickup in the kiosk app (see the module doc)."""

    tx = DictProperty(dict(messages("zh")))
    screen = StringProperty("")
    message = StringProperty("")
    message_ok = BooleanProperty(False)  # the message is good news (drawn green, not red)
    print_ok = BooleanProperty(False)
    heading = StringProperty("")
    detail = StringProperty("")
    phone_shown = StringProperty("")
    pages_text = StringProperty("")
    capturing = BooleanProperty(False)
    can_later = BooleanProperty(False)
    later_marked = BooleanProperty(False)
    review_text = StringProperty("")
    result_number = StringProperty("")
    result_code = StringProperty("")
    print_text = StringProperty("")
    receipt_qr = StringProperty("")
    queued_ref = StringProperty("")
    queued_title = StringProperty("")
    q_number = StringProperty("")
    q_proof = StringProperty("")
    q_field = StringProperty("number")
    pk_code = StringProperty("")
    countdown = StringProperty("")
    field_number = BooleanProperty(False)  # a chain's field typed on the keypad (not chosen from tiles)
    field_text = BooleanProperty(False)  # a chain's text field typed on the on-screen keyboard
    has_scanner = BooleanProperty(False)  # a passport can be read (the card screen says so)
    field_value = StringProperty("")

    name = "sub"
    kv_files = (KV_FILE,)
    script_steps = SubmissionSteps

    def __init__(self, app: Any, cases: KioskClient, outbox: Outbox | None, camera: Any = None, **kw: Any) -> None:
        """A part of the kiosk `app` (its devices, clock helpers) with the cases client, outbox and camera."""
        super().__init__(app, None, **kw)
        self.cases, self.outbox, self.camera = cases, outbox, camera
        self.flow = SubmissionFlow()
        self.query = QueryFlow()
        self.thumbs_version = 0
        self._camera_lock = threading.Lock()

    # --- what the app asks ------------------------------------------------------------------------------

    @property
    def current(self) -> str | None:
        """The screen shown by this part, or None (the app's own screen)."""
        return self.flow.screen or self.query.screen

    def text(self, key: str, **kw: object) -> str:
        """A catalogue string in the kiosk's language."""
        return self.flow.text(key, **kw) if self.flow.screen else self.query.text(key, **kw)

    def start(self) -> None:
        """Start the outbox's sender (pending submissions of a previous run go first)."""
        if self.outbox is not None:
            self.outbox.start()

    def stop(self) -> None:
        """Stop the sender and release the camera."""
        if self.outbox is not None:
            self.outbox.stop()
        if self.camera is not None:
            self.camera.close()

    def tick(self, now: float) -> bool:
        """The idle timeouts; True when one struck (everything personal is gone)."""
        struck = self.flow.tick(now) | self.query.tick(now)
        if struck:
            log.info("kiosk submission idle timeout: personal data cleared")
        left = self.flow.seconds_left(now) if self.flow.screen else self.query.seconds_left(now)
        self.countdown = self.text("countdown", s=left) if left is not None else ""
        return struck

    def back(self, now: float) -> None:
        """Back within this part (from its first screen: the app's home)."""
        if self.flow.screen:
            self.flow.back(now)
        else:
            self.query.back(now)

    def tiles(self) -> list[Tile]:
        """自助申报 (only with a document camera), 办件查询, 取件: none needs staff, so the closed hall has them too."""
        out = []
        if self.camera is not None:  # no camera: this kiosk cannot take applications
            # greyed out never: a submission waits in the outbox while the server is away
            out.append(Tile("submit_tile", (0.80, 0.42, 0.08, 1), self.tap_submit_tile, needs_server=False))
        out.append(Tile("query_tile", (0.05, 0.45, 0.60, 1), self.tap_query_tile))
        out.append(Tile("pickup_tile", (0.45, 0.35, 0.20, 1), self.tap_pickup_tile))
        return out

    def install(self, sm: Any) -> None:
        """Its screens (submission.kv)."""
        install(sm, self)

    def touch(self, now: float) -> None:
        """Any touch restarts the idle timers of the screen shown."""
        if self.flow.screen:
            self.flow.touch(now)
        if self.query.screen:
            self.query.touch(now)

    def problems(self) -> list[str]:
        """The camera when it fails, refused submissions waiting in failed/ (their kiosk references only)."""
        out = []
        if self.camera is not None:
            camera = self.camera.health()
            if not camera.ok:
                out.append(f"capture device {camera.status}: {camera.detail}")
        failed = self.outbox.failed() if self.outbox is not None else []
        if failed:
            refs = " ".join(str(f.get("reference")) for f in failed[:5])
            out.append(f"自助申报被拒 / refused submissions: {len(failed)} ({refs})")
        return out

    def home(self) -> None:
        """Leave, forgetting everything."""
        self.flow.home()
        self.query.home()

    @property
    def wants_card(self) -> bool:
        """Whether this part's screen takes an ID card (the applicant's, or the case query's)."""
        return self.current in ("sub_card", "q_entry")

    # --- rendering --------------------------------------------------------------------------------------

    def render(self, lang: str, elder: bool) -> None:
        """Copy the flows' state into the properties (Kivy thread); the screens fill their lists themselves."""
        for fl in (self.flow, self.query):  # every language of the catalogue (issue 22: 한국어, 日本語, Русский too)
            fl.lang, fl.elder = lang, elder
        self.tx = dict(messages(lang))
        f, q = self.flow, self.query
        self.screen = self.current or ""
        self.message = f.message if f.screen else q.message
        self.message_ok = not f.screen and q.message_ok
        self.heading, self.detail = "", ""
        if f.screen == "sub_items":
            n = len(f.items or [])
            row = next((x for x in f.domains if x[0] == f.domain), None)  # the domain in its own ko/ja/ru name
            where = name_in(f.lang, row[0], row[1], row[3]) if row else (f.domain or f.query)
            self.heading = self.text("chains_in", n=n) if f.chains else self.text("items_in", domain=where, n=n)
        if f.item is not None and f.screen in ("sub_situation", "sub_template"):
            own = f.situation is not None and not f.item.chain  # a chain's one "situation" is the chain itself
            self.heading = f.item.label(f.lang) + (f" · {f.situation.label(f.lang)}" if own and f.situation else "")
            days = f.item.time_limit_days
            limit = self.text("time_limit", days=days) if days else self.text("time_limit_now")
            fees = f.item.fees_en if f.lang == "en" and f.item.fees_en else f.item.fees  # the catalogue's two
            self.detail = f"{limit}    {self.text('fees', fees=fees)}"
            if f.item.chain:  # 一链办理: what the one application covers, decided in parallel
                names = "、".join(en if f.lang == "en" and en else zh for zh, en in f.item.members)
                self.detail = f"{self.text('chain_members', n=len(f.item.members), names=names)}    {limit}"
        ff = f.form_field
        self.field_number = ff is not None and ff.kind == "number"
        self.field_text = ff is not None and ff.kind == "text"
        self.field_value = f.typed
        self.has_scanner = self.app.devices.scanner is not None
        if ff is not None:
            n = len(f.kiosk_fields)
            self.heading = self.text("field_title", i=f.field_index + 1, n=n, label=ff.label(f.lang))
            hint = {"number": "field_type", "text": "field_keyboard"}.get(ff.kind, "field_choose")
            self.detail = self.text(hint)
        m = f.material
        if m is not None:
            self.heading = self.text("capture_title", i=f.index + 1, n=len(f.materials), name=m.label(f.lang))
            self.detail = "  ".join(f"[{tag}]" for tag in m.tags(f.lang))
            self.pages_text = self.text("pages", n=len(f.pages.get(m.code, [])))
            self.can_later, self.later_marked = m.may_follow, m.code in f.later
        self.capturing = f.capturing
        self.phone_shown = typed_phone(f.phone_typed)
        if f.screen == "sub_review" and f.item is not None and f.situation is not None:
            lines = [
                self.text("review_item", name=f.item.label(f.lang)),
                self.text("review_situation", name=f.situation.label(f.lang)),
                f.applicant_masked(),
            ]
            if f.item.chain:  # its items instead of its one "situation"
                names = "、".join(en if f.lang == "en" and en else zh for zh, en in f.item.members)
                lines[1] = self.text("chain_members", n=len(f.item.members), names=names)
            if f.phone:
                lines.append(self.text("review_phone", phone=f.phone_masked()))
            lines += [
                self.text("review_field", label=x.label(f.lang), value=f.answers[x.code])
                for x in f.kiosk_fields
                if x.code in f.answers
            ]
            lines += [
                self.text("review_material", name=x.label(f.lang), state=f.material_state(x)) for x in f.materials
            ]
            self.review_text = "\n".join(lines)
        self.result_number = self.text("case_number", number=f.case_number) if f.case_number else ""
        self.result_code = self.text("query_code", code=f.query_code) if f.query_code else ""
        ps = f.print_state
        self.print_ok = ps == "printed"
        self.print_text = {"printed": self.text("receipt_printed"), "failed": self.text("receipt_failed")}.get(
            ps or "", ""
        )
        self.receipt_qr = f"{self.app.server.rstrip('/')}{f.receipt_url}" if f.receipt_url else ""
        self.queued_ref = self.text("queued_ref", ref=f.reference) if f.reference else ""
        self.queued_title = both("queued_title", "\n")  # the one sentence every citizen must read: both languages
        self.q_number, self.q_proof, self.q_field, self.pk_code = q.number, q.proof, q.field, q.code
        if self.app.root is not None and self.current:
            from .screens import fill

            fill(self, self.app.root.ids.sm, self.app.fs)

    # --- taps: submission -------------------------------------------------------------------------------

    def _go(self, fn: Callable[[float], Any]) -> Any:
        out = fn(time.monotonic())
        self.app.render()
        return out

    def tap_submit_tile(self) -> None:
        """Home: 自助申报."""
        self._go(lambda now: self.flow.start(now, lang=self.app.flow.lang, elder=self.app.flow.elder))
        self._fetch(self.cases.domains, lambda rows: self.flow.set_domains(rows))

    def tap_domain(self, domain: str) -> None:
        """A domain tile."""
        if self._go(lambda now: self.flow.choose_domain(domain, now)):
            self._fetch(lambda: self.cases.items(domain=domain), self.flow.set_items)

    def tap_chains_tile(self) -> None:
        """The 一件事 tile: the chains (一链办理) of several items."""
        if self._go(self.flow.choose_chains):
            self._fetch(self.cases.chains, self.flow.set_items)

    def tap_search(self, text: str) -> None:
        """The search box."""
        if self._go(lambda now: self.flow.search(text, now)):
            self._fetch(lambda: self.cases.items(q=text.strip()), self.flow.set_items)

    def tap_item(self, code: str) -> None:
        """An item tile: its zero-basis template."""
        if self._go(lambda now: self.flow.choose_item(code, now)):
            fetch = self.cases.chain if self.flow.chains else self.cases.item
            self._fetch(lambda: fetch(code), self.flow.set_item)

    def tap_situation(self, code: str) -> None:
        """A situation."""
        self._go(lambda now: self.flow.choose_situation(code, now))

    def tap_begin(self) -> None:
        """Start under the template: the ID card."""
        self._go(self.flow.begin)

    def tap_phone_key(self, digit: str) -> None:
        """A phone keypad digit (submission) or a query/pickup keypad key."""
        if self.flow.screen == "sub_fields":
            self._go(lambda now: self.flow.field_key(digit, now))
        elif self.flow.screen:
            self._go(lambda now: self.flow.phone_key(digit, now))
        else:
            self._go(lambda now: self.query.key(digit, now))

    def tap_backspace(self) -> None:
        """Delete the last character."""
        if self.flow.screen == "sub_fields":
            self._go(self.flow.field_backspace)
            return
        self._go(self.flow.phone_backspace if self.flow.screen else self.query.backspace)

    def tap_phone_ok(self) -> None:
        """Keep the phone number."""
        self._go(self.flow.phone_ok)

    def tap_choice(self, value: str) -> None:
        """A chain field's choice tile."""
        self._go(lambda now: self.flow.choose_value(value, now))

    def tap_field_ok(self) -> None:
        """Keep a chain field's typed number or text."""
        self._go(self.flow.field_ok)

    def tap_field_later(self) -> None:
        """A chain's text field left for the window (到窗口填写)."""
        self._go(self.flow.field_later)

    def field_typed(self, text: str) -> None:
        """A text field's text changed (the on-screen keyboard, or a hardware one); no redraw: the field has it."""
        if self.flow.form_field is not None and text != self.flow.typed:
            self.flow.field_typed(text, time.monotonic())

    def tap_phone_skip(self) -> None:
        """No phone number."""
        self._go(self.flow.phone_skip)

    def tap_capture(self) -> None:
        """Capture one page of the current material (on a worker: the camera takes a second or two)."""
        if not self._go(self.flow.begin_capture):
            return
        if self.camera is None:
            self._go(lambda now: self.flow.capture_failed(False, now))
            return

        def work() -> None:
            from peripherals.capture import NothingToCapture
            from peripherals.errors import PeripheralError

            try:
                with self._camera_lock:
                    page = self.camera.capture(timeout=10)
            except NothingToCapture:
                self.app._later(lambda: self.flow.capture_failed(True, time.monotonic()), render=True)
                return
            except PeripheralError as e:
                log.warning("kiosk camera: %s", type(e).__name__)
                self.app._later(lambda: self.flow.capture_failed(False, time.monotonic()), render=True)
                self._tell_staff(f"capture device: {type(e).__name__}")
                return
            log.info("kiosk captured a page (%s, %d bytes)", page.content_type, len(page.data))
            self.app._later(lambda: self.flow.captured(page.content_type, page.data, time.monotonic()), render=True)

        self.app._background(work)

    def tap_remove_page(self) -> None:
        """Drop the last page."""
        self._go(self.flow.remove_page)

    def tap_later(self) -> None:
        """Bring it later / scan it now."""
        self._go(self.flow.toggle_later)

    def tap_next(self) -> None:
        """Next material or the review."""
        self._go(self.flow.next_material)

    def tap_submit(self) -> None:
        """Submit: through the outbox, so nothing is lost when the server is out of reach."""
        sub = self._go(self.flow.submit)
        if sub is None:
            return

        def work() -> None:
            try:
                if self.outbox is not None:
                    outcome = self.outbox.send_now(sub)
                    kind, case, sentence = outcome.kind, outcome.case, outcome.sentence
                else:
                    case, kind, sentence = self.cases.submit(sub), "sent", ""
            except Final as e:
                case, kind, sentence = None, "refused", e.sentence
            except (KioskClientError, OutboxError) as e:
                log.error("kiosk submission not stored: %s", e)
                case, kind, sentence = None, "refused", both("connection_down")
            now = time.monotonic()
            if kind == "sent" and case is not None:
                log.info("kiosk submission sent: case %s", case.get("number"))
                self.app._later(lambda: self._show_case(sub.submission_id, dict(case), now))
            elif kind == "queued":
                log.info("kiosk submission queued: %s", sub.reference)
                self.app._later(lambda: self.flow.queued(sub.submission_id, now), render=True)
            else:
                log.info("kiosk submission refused")
                self.app._later(lambda: self.flow.refused(sub.submission_id, sentence, now), render=True)

        self.app._background(work)

    def _show_case(self, sid: str, case: dict[str, Any], now: float) -> None:
        f = self.flow
        name = (f.item.name, f.item.name_en) if f.item else ("", "")
        pages, to_follow = f.page_count, len(f.later)  # counted before the flow forgets them
        if f.submitted(sid, case, now):
            self.app.render()
            self.app._background(lambda: self._print_receipt(case, name, pages, to_follow))

    # --- taps: query and pickup -------------------------------------------------------------------------

    def tap_query_tile(self) -> None:
        """Home: 办件查询 (the reader listens)."""
        self._go(lambda now: self.query.start_query(now, lang=self.app.flow.lang, elder=self.app.flow.elder))

    def tap_pickup_tile(self) -> None:
        """Home: 取件."""
        self._go(lambda now: self.query.start_pickup(now, lang=self.app.flow.lang, elder=self.app.flow.elder))

    def tap_field(self, which: str) -> None:
        """Choose the field the keypad types into."""
        self._go(lambda now: self.query.select("proof" if which == "proof" else "number", now))

    def tap_query_go(self) -> None:
        """Search by number and proof."""
        ask = self._go(self.query.ask_number)
        if ask is not None:
            number, proof = ask
            self._fetch(lambda: [self.cases.status(number, proof)], self._found, failed=self._query_failed)

    def _found(self, cases: list[dict[str, Any]]) -> None:
        self.query.found(cases, time.monotonic())

    def _query_failed(self, e: KioskClientError) -> None:
        sentence = self.text("query_none") if isinstance(e, Final) else self.text("connection_down")
        self.query.failed(sentence, time.monotonic())

    def tap_pickup_ticket(self, number: str) -> None:
        """领取结果: a ticket of the output queue."""

        def done(answer: dict[str, Any]) -> None:
            self.query.ticket_taken(str(answer["ticket"]["number"]), time.monotonic())

        def failed(e: KioskClientError) -> None:
            self._say(citizen_words(e, self.query.lang))

        self._fetch(lambda: self.cases.pickup_ticket(number), done, failed=failed)

    def _say(self, sentence: str) -> None:
        self.query.message, self.query.message_ok = sentence, False

    def tap_pickup_go(self) -> None:
        """Collect with the pickup code."""
        code = self._go(self.query.ask_pickup)
        if code is None:
            return

        def failed(e: KioskClientError) -> None:
            self.query.failed(
                self.text("pickup_wrong" if isinstance(e, Final) else "connection_down"), time.monotonic()
            )

        self._fetch(lambda: self.cases.pickup(code), lambda r: self.query.picked_up(str(r["number"]), time.monotonic()),
                    failed=failed)  # fmt: skip

    # --- workers ----------------------------------------------------------------------------------------

    def _fetch(
        self,
        call: Callable[[], Any],
        then: Callable[[Any], object],
        *,
        failed: Callable[[KioskClientError], object] | None = None,
    ) -> None:
        """Run `call` on a worker; `then(result)` or `failed(error)` on the Kivy thread, then redraw."""

        def work() -> None:
            try:
                result = call()
            except KioskClientError as e:
                log.warning("kiosk cases API: %s", type(e).__name__)
                err = e
                self.app._later(
                    lambda: failed(err) if failed else setattr(self.flow, "message", self.text("connection_down")),
                    render=True,
                )
                return
            self.app._later(lambda: then(result), render=True)

        self.app._background(work)

    # --- devices: the applicant's document, the receipt -------------------------------------------------

    def card(self, name: str, number: str, id_type: str = "resident") -> None:
        """A card read while one of this part's screens shows (Kivy thread): the applicant's (a resident's, a
        permit holder's or a foreigner's: `id_type`), or the case query's."""
        now = time.monotonic()
        if self.flow.screen == "sub_card":
            self.flow.card_read(name, number, now, id_type)
        elif self.query.screen == "q_entry":
            id_number = self.query.card_read(number, now)
            if id_number:
                kind = None if id_type == "resident" else id_type
                self._fetch(lambda: self.cases.lookup(id_number, id_type=kind), self._found, failed=self._query_failed)

    def passport(self, number: str, nationality: str, name: str = "") -> bool:
        """A passport's zone read by the scanner (Kivy thread): the applicant (id_type passport, its number, the
        holder's nationality and name from the zone) on the card screen, or the case query's look-up."""
        now = time.monotonic()
        if self.flow.screen == "sub_card":
            self.flow.card_read(name, number, now, "passport", nationality)
            log.info("kiosk passport read for self-submission")
            return True
        if self.query.screen == "q_entry":
            id_number = self.query.card_read(number, now)
            if id_number:
                look = lambda: self.cases.lookup(id_number, id_type="passport", nationality=nationality)  # noqa: E731
                self._fetch(look, self._found, failed=self._query_failed)
            log.info("kiosk passport read for the case query")
            return True
        return False

    def _print_receipt(self, case: dict[str, Any], item_name: tuple[str, str], pages: int, to_follow: int) -> None:
        """The 自助申报回执 on the ticket printer (worker thread): case number, item, query code, a QR code of the
        query page."""
        from peripherals.printer.receipt import ReceiptData, render_receipt

        number, code = str(case["number"]), str(case.get("query_token") or "")
        data = ReceiptData(
            hall_name=self.app._names[0],
            hall_name_en=self.app._names[1],
            case_number=number,
            item_name=item_name[0],
            item_name_en=item_name[1],
            query_code=code,
            submitted_at=self.app.now(),  # the hall's clock, not this computer's
            query_url=f"{self.app.server.rstrip('/')}/cases/query?n={number}&p={code}",
            pages=pages,
            to_follow=to_follow,
        )
        ok = self.app.devices.print_document(lambda paper: render_receipt(data, paper)) == "printed"
        log.info("kiosk receipt %s: %s", number, "printed" if ok else "not printed")
        self.app._later(lambda: self.flow.printed(ok), render=True)

    def _tell_staff(self, detail: str) -> None:
        try:
            self.cases.report_health("error", detail)
        except KioskClientError as e:
            log.warning("kiosk health report: %s", type(e).__name__)
