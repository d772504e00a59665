"""Take a number (取号), as a part of the kiosk: its big home tile, its screens (take.kv: the domain pages, confirm,
issuing, the ticket, the error), its taps, the issuing worker and the ticket's print.

The steps are the shared `Flow`'s (`kiosk.flow`); the ticket and error screens also show a check-in's outcome.
`app.take` in the .kv files.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from kivy.factory import Factory  # type: ignore[import-untyped]
from kivy.properties import BooleanProperty, NumericProperty, StringProperty  # type: ignore[import-untyped]
from kivy.uix.widget import Widget  # type: ignore[import-untyped]

from .booking import mask_phone
from .client import Refused, Unreachable
from .documents import doc_lines
from .flow import IssueRequest, PrintState
from .parts import Part, Tile
from .script import PartSteps, ScriptRunner, visible_buttons
from .strings import t
from .widgets import DomainTile

log = logging.getLogger("kiosk")

KV_FILE = Path(__file__).with_name("take.kv")
SCREENS = (
    "TakeDomainScreen",
    "TakeInterpreterScreen",
    "TakeConfirmScreen",
    "TakeIssuingScreen",
    "TakeTicketScreen",
    "TakeErrorScreen",
)
TILE_COLOUR = (0.09, 0.40, 0.75, 1)


class TakeSteps(PartSteps):
    """Its `--script` steps: `take`, `domain:A` (a tile on another page: `pagenext` is tapped first until it
    shows), `pagenext`, `pageprev`, `interp:yes` / `interp:no` (需要语言服务), `phoneadd`, `confirm`; `wait:domain`
    (its tiles loaded), `wait:interpreter` (the question), `wait:ticket` (the print's fate known), `wait:card` (an
    ID card read for take-a-number), `wait:passport` (a passport read for it)."""

    texts: ClassVar[dict[str, str]] = {
        "take": "take_number",
        "pagenext": "page_next",
        "pageprev": "page_prev",
        "phoneadd": "phone_add",
        "confirm": "confirm",
    }

    def button(self, run: ScriptRunner, name: str, arg: str) -> Any:
        """A domain tile by its code; the interpreter question's answer."""
        if name == "interp":
            return lambda: next((b for b in visible_buttons(run.app.root) if getattr(b, "answer", "") == arg), None)
        return (lambda: self._tile(run, arg)) if name == "domain" else None

    def act(self, run: ScriptRunner, name: str, arg: str) -> bool:
        """A domain tile on another page: the citizen turns the page first."""
        if name != "domain" or self._tile(run, arg) is not None:
            return False
        nxt = run.by_text(run.app.tx["page_next"])
        if nxt is None:
            return False
        if nxt.disabled:
            run.fail(f"no tile for domain:{arg} on any page")
            return True
        run.steps[:0] = ["pagenext", f"domain:{arg}"]
        run.next_soon()
        return True

    def ready(self, run: ScriptRunner, screen: str) -> bool | None:
        """Its screens once loaded; an ID card or passport read for it."""
        f = run.app.flow
        return {
            "domain": f.screen == "domain" and bool(f.domains),
            "ticket": f.screen == "ticket" and f.print_state != "printing",
            "card": f.id_number is not None,
            "passport": f.passport,
        }.get(screen)

    @staticmethod
    def _tile(run: ScriptRunner, code: str) -> Any:
        return next((b for b in visible_buttons(run.app.root) if getattr(b, "code", None) == code), None)


class TakeNumberPart(Part):
    """Take-a-number in the kiosk app (see the module doc)."""

    name = "take"
    kv_files = (KV_FILE,)
    script_steps = TakeSteps

    confirm_service = StringProperty("")
    confirm_card = StringProperty("")
    confirm_phone = StringProperty("")
    confirm_interpreter = StringProperty("")
    interp_question = StringProperty("")  # 需要语言服务（翻译）吗？ and, under it, the question in the kiosk's language
    interp_yes = StringProperty("")
    interp_no = StringProperty("")
    number = StringProperty("")
    ticket_service = StringProperty("")
    ticket_phone = StringProperty("")
    ticket_interpreter = StringProperty("")
    ahead = StringProperty("")
    lane = StringProperty("")
    print_status = StringProperty("")
    qr = StringProperty("")
    note = StringProperty("")
    offer_take = BooleanProperty(False)
    page = NumericProperty(0)  # the domain screen's page (from 0) and how many there are
    pages = NumericProperty(1)
    page_dots = StringProperty("")

    def tiles(self) -> list[Tile]:
        """取号: one of home's big tiles; it needs staff, so not on the closed hall's screen."""
        return [Tile("take_number", TILE_COLOUR, self.tap_take, when_closed=False, big=True, at_press=True)]

    def install(self, sm: Any) -> None:
        """Its screens (take.kv)."""
        for cls in SCREENS:
            sm.add_widget(getattr(Factory, cls)())

    # --- drawing ----------------------------------------------------------------------------------------

    def render(self, lang: str, elder: bool) -> None:
        """Copy the flow's take-a-number state into the properties and the domain tiles."""
        f = self.app.flow
        if f.domain is not None:
            self.confirm_service = f.text("confirm_service", name=f.domain.label(f.lang))
        elif f.checkin_asking:  # the interpreter question on the way to check-in says what it is for
            self.confirm_service = f.text("checkin_title")
        if f.id_number or f.passport:  # the document read, named (身份证, 外国人永久居留身份证, 护照 …)
            self.confirm_card = doc_lines("confirm_with_doc", f.id_type or "resident", f.lang)
        else:
            self.confirm_card = f.text("confirm_card_hint") if self.app.has_reader else ""
        self.confirm_phone = f.text("phone_on_ticket", phone=mask_phone(f.phone)) if f.phone else ""
        lang_name = f.text("language_name")
        self.confirm_interpreter = f.text("interpreter_on_ticket", language=lang_name) if f.interpreter_lang else ""
        self.interp_question = zh_first("interpreter_q", f.lang)
        self.interp_yes, self.interp_no = zh_first("interpreter_yes", f.lang), zh_first("interpreter_no", f.lang)
        tk = f.ticket
        self.number = tk.number if tk else ""
        d = next((x for x in f.domains if tk and x.code == tk.queue), None)
        self.ticket_service = d.label(f.lang) if d else (tk.queue if tk else "")
        self.ticket_phone = f.text("phone_on_ticket", phone=tk.phone_masked) if tk and tk.phone_masked else ""
        self.ticket_interpreter = (  # the clerk who calls it knows: the ticket screen says so too
            f.text("interpreter_on_ticket", language=t("language_name", tk.interpreter))
            if tk and tk.interpreter
            else ""
        )
        self.ahead = (f.text("ahead", n=tk.ahead) if tk.ahead else f.text("no_wait")) if tk else ""
        self.lane = f.text("special_lane") if tk and tk.lane == "special" else ""
        self.print_status = {"printing": f.text("printing"), "printed": f.text("printed")}.get(f.print_state or "", "")
        self.qr = tk.track_url if tk and f.show_qr else ""
        self.note = f.note if tk else ""
        self.offer_take = f.offer_take
        self._render_domains()

    def _render_domains(self) -> None:
        """The page of domain tiles shown; the page's empty places keep the tiles' size."""
        f = self.app.flow
        self.page, self.pages = min(f.page, f.pages - 1), f.pages
        dots = " ".join("●" if i == self.page else "○" for i in range(f.pages))
        self.page_dots = f"{dots}\n{f.text('page_of', m=self.page + 1, n=f.pages)}"
        if self.app.root is None:
            return
        grid = self.app.root.ids.sm.get_screen("domain").ids.domains
        grid.rows = None  # a GridLayout refuses more children than cols × rows, even for a moment
        grid.cols = f.grid[0]
        shown = f.page_domains
        tiles = [t for t in reversed(grid.children) if isinstance(t, DomainTile)]  # Kivy keeps children last first
        if [t.code for t in tiles] == [d.code for d in shown] and len(grid.children) == f.per_page:
            # the same tiles: update their text in place, so a finger already down on one (the queue
            # refresh redraws every few seconds) still releases on the same button and the tap counts
            for t, d in zip(tiles, shown, strict=True):
                t.title, t.load = d.label(f.lang), d.load(f.lang)
        else:
            grid.clear_widgets()
            for d in shown:
                tile = DomainTile(code=d.code, title=d.label(f.lang), load=d.load(f.lang))
                tile.bind(on_release=lambda w: self.tap_domain(w.code))
                grid.add_widget(tile)
            for _ in range(f.per_page - len(shown)):
                grid.add_widget(Widget())
        if len(grid.children) == f.per_page:
            grid.rows = f.grid[1]

    # --- the ID card and a passport -----------------------------------------------------------------------

    @property
    def wants_card(self) -> bool:
        """Home, the domain pages and confirm take a card (unless another part's screen shows)."""
        return self.app.flow.wants_card and self.app.shown_part() is None

    def card(self, name: str, number: str, id_type: str = "resident") -> None:
        """On home it starts take-a-number with the card read; on its screens it goes with the ticket."""
        f = self.app.flow
        f.card_read(number, time.monotonic(), id_type)
        if f.screen in ("domain", "confirm", "interpreter"):
            log.info("kiosk ID card read for take-a-number")

    def passport(self, number: str, nationality: str, name: str = "") -> bool:
        """A passport on take-a-number's screens: an ordinary number (its number and name stay in the kiosk)."""
        f = self.app.flow
        if not self.wants_card:
            return False
        f.passport_read(time.monotonic())
        if f.screen in ("domain", "confirm"):
            log.info("kiosk passport read for take-a-number")
        return True

    # --- taps (Kivy thread) -------------------------------------------------------------------------------

    def tap_take(self) -> None:
        """Home (or an error offering it): take a number."""
        self.app.do(self.app.flow.take_number)
        self.app.refresh_queues()

    def tap_domain(self, code: str) -> None:
        """A domain tile."""
        self.app.do(lambda now: self.app.flow.choose_domain(code, now))

    def tap_page(self, step: int) -> None:
        """上一页 (-1) / 下一页 (+1) of the domain tiles."""
        self.app.do(lambda now: self.app.flow.turn_page(step, now))

    def tap_interpreter(self, yes: bool) -> None:
        """需要 / 不需要 (语言服务)."""
        self.app.do(lambda now: self.app.flow.answer_interpreter(yes, now))
        log.info("kiosk interpreter question answered")

    def tap_phone(self) -> None:
        """Confirm screen: add a mobile number for silent calling (the booking part's keypad screen)."""
        self.app.do(self.app.flow.ask_phone)

    def tap_confirm(self) -> None:
        """Get my number: a second tap while issuing finds no request and does nothing."""
        req: IssueRequest | None = self.app.do(self.app.flow.confirm)
        if req is None:
            log.info("kiosk tap ignored: already issuing")
            return
        self.app._background(lambda: self._issue(req))

    # --- workers ----------------------------------------------------------------------------------------

    def _issue(self, req: IssueRequest) -> None:
        app, flow = self.app, self.app.flow

        def retry(_attempt: int) -> None:
            app._later(lambda: flow.retrying(req.key), render=True)

        try:
            ticket = app.client.take_number(
                req.queue,
                req.key,
                id_number=req.id_number,
                phone=req.phone,
                lang=req.lang,
                interpreter=req.interpreter,
                on_retry=retry,
            )
        except Refused as e:
            sentence = e.sentence
            if e.status == 409:
                app.refresh_hours()  # closed meanwhile? the kiosk switches to its 24-hour mode
            app._later(lambda: flow.refused(req.key, sentence, time.monotonic()), render=True)
            return
        except Unreachable:
            app._later(lambda: flow.unreachable(req.key, time.monotonic()), render=True)
            return

        def done() -> None:
            if flow.issued(req.key, ticket, time.monotonic()):
                log.info("kiosk ticket issued: %s lane %s", ticket.get("number"), ticket.get("lane"))
                app.render()
                app._background(lambda: print_ticket(app, ticket))

        app._later(done)


def zh_first(key: str, lang: str) -> str:
    """The catalogue string in Chinese and, in another language, a second line in it (Chinese first)."""
    zh = t(key, "zh")
    return zh if lang == "zh" else f"{zh}\n{t(key, lang)}"


def print_ticket(app: Any, ticket: dict[str, Any]) -> None:
    """A ticket (taken or checked in) on the ticket printer (worker thread); the flow learns what became of it."""
    issued = datetime.fromisoformat(str(ticket["issued_at"]).replace("Z", "+00:00"))
    d = next((x for x in app.flow.domains if x.code == ticket.get("queue")), None)
    lang = str(ticket.get("lang") or "")  # 한국어, 日本語, Русский: the slip's second lines in it (issue 22)
    second = d.label(lang) if d and lang in ("ko", "ja", "ru") else (d.name_en if d else "")
    names = (d.name, second) if d else (str(ticket.get("queue")), "")
    if ticket.get("interpreter"):  # 需要语言服务: a short mark after the service, in Chinese and in the slip's language
        wanted = str(ticket["interpreter"])
        mark = t("interpreter_slip", wanted)
        names = (f"{names[0]} · {t('interpreter_slip', 'zh')}", f"{names[1]} · {mark}" if names[1] else mark)
    out = app.print_slip(
        str(ticket["number"]),
        names,
        lang=lang or None,
        ahead=int(ticket.get("ahead") or 0),
        issued_at=issued.astimezone(app._tz),  # the hall's clock, whatever this computer's zone
        tracking_url=str(ticket.get("track_url") or ""),  # the answer's, as it is
        lane=ticket.get("lane") or "normal",
        wait_min=round(int(ticket.get("estimated_wait_s") or 0) / 60),
    )
    state: PrintState = "fault" if out == "none" else out
    log.info("kiosk print: %s %s", ticket.get("number"), state)
    if state != "printed":
        app._heartbeat()  # staff learn at once

    def done() -> None:
        app.flow.printed(state)
        app.render()
        log.info("kiosk screen: ticket %s shown, print %s, qr %s", ticket.get("number"), state, bool(app.take.qr))

    app._later(done)
