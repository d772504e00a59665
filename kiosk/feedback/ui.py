"""The Kivy side of the complaint tile: flow state → properties, taps → flow calls, I/O on worker threads.

`FeedbackUi` is held by the app as `app.fb`; `feedback.kv` draws its properties. Network and printer calls run on
threads and come back through `app._later` (the Kivy clock), as everywhere in the kiosk.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from kivy.factory import Factory  # type: ignore[import-untyped]
from kivy.properties import BooleanProperty, DictProperty, StringProperty  # type: ignore[import-untyped]
from kivy.uix.button import Button  # type: ignore[import-untyped]

from kiosk.client import KioskClientError, Refused, Unreachable
from kiosk.parts import Part, Tile
from kiosk.strings import messages

from .flow import ANSWER_DAYS, ComplaintRequest, FeedbackFlow
from .script import FeedbackSteps

log = logging.getLogger("kiosk")

KV_FILE = Path(__file__).with_name("feedback.kv")
SCREENS = (
    "FbCategoryScreen",
    "FbReasonsScreen",
    "FbContactScreen",
    "FbPhoneScreen",
    "FbReviewScreen",
    "FbSendingScreen",
    "FbDoneScreen",
    "FbErrorScreen",
)
TILE_COLOUR = (0.77, 0.30, 0.20, 1)


class FbTile(Button):
    """A category or a preset line: `key` is what a tap chooses; `chosen` marks a picked line."""

    key = StringProperty("")
    title = StringProperty("")
    chosen = BooleanProperty(False)


Factory.register("FbTile", cls=FbTile)


class FeedbackUi(Part):
    """The complaint tile in the kiosk app (see the module doc); it works unattended, so the closed hall's
    24-hour screen has it too."""

    name = "fb"
    kv_files = (KV_FILE,)
    script_steps = FeedbackSteps

    tx = DictProperty(dict(messages("zh")))
    screen = StringProperty("")
    message = StringProperty("")
    heading = StringProperty("")
    note = StringProperty("")
    phone_shown = StringProperty("")
    review_text = StringProperty("")
    code = StringProperty("")
    query_code = StringProperty("")
    done_hint = StringProperty("")
    print_text = StringProperty("")
    countdown = StringProperty("")
    categories_loaded = BooleanProperty(False)

    def __init__(self, app: Any, args: Any = None, **kw: Any) -> None:
        """Attached to the kiosk `app` (its client, devices, clock helpers)."""
        super().__init__(app, args, **kw)
        self.flow = FeedbackFlow()

    @property
    def current(self) -> str | None:
        """The screen of this part now shown, or None (the kiosk's own screen)."""
        return self.flow.screen or None

    def tiles(self) -> list[Tile]:
        """投诉建议: needs the server."""
        return [Tile("fb_tile", TILE_COLOUR, self.tap_tile)]

    def install(self, sm: Any) -> None:
        """Its screens (feedback.kv)."""
        for cls in SCREENS:
            sm.add_widget(getattr(Factory, cls)())

    def touch(self, now: float) -> None:
        """Any touch restarts its idle timer."""
        if self.current:
            self.flow.touch(now)

    def render(self, lang: str, elder: bool = False) -> None:
        """Copy the flow's state into the properties (Kivy thread)."""
        f = self.flow
        if f.screen:
            f.lang = lang  # the top bar's 中文 ⇄ English applies here too
        use = f.lang if f.screen else lang
        self.tx = dict(messages(use))
        self.screen, self.message, self.categories_loaded = f.screen, f.message, bool(f.categories)
        self.heading = f.category.label(f.lang) if f.category else ""
        self.phone_shown = f.phone_shown
        self.review_text = f.review_text
        self.code, self.query_code = f.code, f.query_code
        self.done_hint = self.tx["fb_done_hint"].format(days=ANSWER_DAYS)
        self.print_text = {"printed": self.tx["fb_printed"], "failed": self.tx["fb_not_printed"]}.get(
            f.print_state or "", ""
        )
        left = f.seconds_left(time.monotonic())
        self.countdown = self.tx["countdown"].format(s=left) if left is not None else ""

    def shown(self, sm: Any, name: str) -> None:
        """The category tiles and the preset lines of the current screen, rebuilt only when they change:
        a render between a touch's down and up must not swap the button under the finger."""
        f, lang = self.flow, self.flow.lang
        if name == "fb_category":
            grid = sm.get_screen(name).ids.grid
            shape = (lang, tuple(c.code for c in f.categories))
            if getattr(grid, "shape", None) != shape:
                grid.shape = shape
                grid.clear_widgets()
                for c in f.categories:
                    tile = FbTile(key=c.code, title=c.label(lang))
                    tile.bind(on_release=lambda w: self.tap_category(w.key))
                    grid.add_widget(tile)
        elif name == "fb_reasons":
            screen = sm.get_screen(name)
            chips = screen.ids.chips
            key = (lang, f.category.code if f.category else "")
            if getattr(chips, "shape", None) != key:
                chips.shape = key
                chips.clear_widgets()
                for i, (zh, en) in enumerate(f.phrases()):
                    chip = FbTile(key=str(i), title=zh if lang == "zh" else f"{en}  {zh}")
                    chip.bind(on_release=lambda w: self.tap_phrase(int(w.key)))
                    chips.add_widget(chip)
            for chip in chips.children:
                chip.chosen = int(chip.key) in f.chosen
            if screen.ids.note.text != f.note:
                screen.ids.note.text = f.note

    # --- taps -------------------------------------------------------------------------------------------

    def _do(self, fn: Any) -> Any:
        out = fn(time.monotonic())
        self.app.render()
        return out

    def tap_tile(self) -> None:
        """The home tile: the categories (loaded from the server if not yet)."""
        self._do(lambda now: self.flow.start(self.app.flow.lang, now))
        if not self.flow.categories:
            threading.Thread(target=self._load_categories, daemon=True).start()

    def tap_category(self, code: str) -> None:
        """A category tile."""
        self._do(lambda now: self.flow.choose_category(code, now))

    def tap_phrase(self, index: int) -> None:
        """A preset line: chosen ⇄ not."""
        self._do(lambda now: self.flow.toggle_phrase(index, now))

    def typed(self, text: str) -> None:
        """The note's text changed (on-screen or hardware keyboard)."""
        self.flow.set_note(text, time.monotonic())

    def tap_next(self) -> None:
        """'Next' on the reasons screen."""
        self._do(self.flow.reasons_next)

    def tap_anonymous(self) -> None:
        """Stay anonymous."""
        self._do(self.flow.anonymous)

    def tap_with_phone(self) -> None:
        """Leave a number."""
        self._do(self.flow.with_phone)

    def tap_phone_key(self, digit: str) -> None:
        """A keypad digit."""
        self._do(lambda now: self.flow.phone_key(digit, now))

    def tap_phone_backspace(self) -> None:
        """The keypad's delete key."""
        self._do(self.flow.phone_backspace)

    def tap_phone_ok(self) -> None:
        """The keypad's OK."""
        self._do(self.flow.phone_ok)

    def tap_submit(self) -> None:
        """Submit: a second tap while sending finds no request and does nothing."""
        req: ComplaintRequest | None = self._do(self.flow.submit)
        if req is None:
            log.info("kiosk tap ignored: complaint already sending")
            return
        threading.Thread(target=lambda: self._submit(req), daemon=True).start()

    def back(self, now: float) -> None:
        """The bar's Back within this part."""
        self.flow.back(now)

    def home(self) -> None:
        """Home: forget everything typed."""
        self.flow.home()

    def tick(self, now: float) -> bool:
        """The idle timer; True when it went home."""
        return self.flow.tick(now)

    # --- workers ----------------------------------------------------------------------------------------

    def _load_categories(self) -> None:
        try:
            cats = self.app.client.complaint_categories()
        except KioskClientError as e:
            log.warning("kiosk complaint categories: %s", type(e).__name__)
            return
        self.app._later(lambda: self.flow.set_categories(cats), render=True)

    def _submit(self, req: ComplaintRequest) -> None:
        def retry(_attempt: int) -> None:
            self.app._later(lambda: self.flow.retrying(req.key), render=True)

        try:
            out = self.app.client.file_complaint(
                category=req.category, content=req.content, phone=req.phone, key=req.key, on_retry=retry
            )
        except Refused as e:
            sentence = e.sentence
            self.app._later(lambda: self.flow.refused(req.key, sentence, time.monotonic()), render=True)
            return
        except Unreachable:
            self.app._later(lambda: self.flow.unreachable(req.key, time.monotonic()), render=True)
            return

        def done() -> None:
            if self.flow.done(req.key, out, time.monotonic()):
                log.info("kiosk complaint filed: category %s, anonymous %s", req.category, not req.phone)
                self.app.render()
                threading.Thread(target=lambda: self._print(out), daemon=True).start()

        self.app._later(done)

    def _print(self, out: dict[str, Any]) -> None:
        """The reference slip on the ticket printer (when there is one): the code as the number."""
        app, code = self.app, out.get("query_code") or ""
        state = app.print_slip(
            str(out["code"]),
            (f"投诉编号 · 查询码 {code}", f"Complaint reference · query code {code}"),
            tracking_url=f"{app.server.rstrip('/')}/feedback/{app.client.hall}",
        )
        if state == "none":
            return
        ok = state == "printed"
        log.info("kiosk complaint slip: %s", "printed" if ok else "not printed")
        app._later(lambda: self.flow.printed(ok), render=True)
