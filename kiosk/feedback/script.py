"""`--script` steps of the complaint tile, on top of `kiosk.script.ScriptRunner`.

Extra steps: `fbtile` (the home or closed screen's 投诉建议 tile), `fbcat:CODE` (a category tile), `fbchip:N` (the
Nth preset line), `fbnote:TEXT` (type TEXT into the note field, as the on-screen keyboard would), `fb:KEY` (the
button showing this part's catalogue string KEY: `fb:fb_next`, `fb:fb_anonymous`, `fb:fb_with_phone`,
`fb:fb_submit`), `fbdouble:KEY` (two touches on that button within a frame), `wait:fb_SCREEN` (one of this
part's screens; `fb_done` also waits for the slip's fate when a printer is there). `phone:DIGITS`, `phoneok`
work on this part's keypad as on the kiosk's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from kiosk.script import STEP_GAP_S, ScriptRunner, visible_buttons
from kiosk.widgets import PartTile

from .ui import FbTile

log = logging.getLogger("kiosk")


class FeedbackScriptRunner(ScriptRunner):
    """The kiosk's script runner with the complaint tile's steps (see the module doc)."""

    def _next(self) -> None:
        from kivy.clock import Clock  # type: ignore[import-untyped]

        step = self.steps[0] if self.steps else ""
        name, _, arg = step.partition(":")
        if name == "fbnote":
            self.steps.pop(0)
            log.info("kiosk script step: %s", step)
            self.app.root.ids.sm.get_screen("fb_reasons").ids.note.text = arg
            Clock.schedule_once(lambda _dt: self._next(), STEP_GAP_S)
            return
        if name == "fbdouble":
            self.steps.pop(0)
            log.info("kiosk script step: %s", step)
            self._tap(self._finder("fb", arg) or (lambda: None), step, times=2)
            return
        if name == "wait" and arg.startswith("fb_"):
            self.steps.pop(0)
            log.info("kiosk script step: %s", step)
            self.deadline = time.monotonic() + 30
            Clock.schedule_interval(lambda _dt: self._until(arg), 0.02)
            return
        super()._next()

    def _until(self, screen: str) -> bool:
        from kivy.clock import Clock

        f = self.app.fb.flow
        loaded = {"fb_category": bool(f.categories)}.get(screen, True)
        if screen == "fb_done" and self.app._printer is not None:
            loaded = f.print_state is not None
        if f.screen == screen and loaded:
            Clock.schedule_once(lambda _dt: self._next(), STEP_GAP_S)
            return False
        if time.monotonic() > self.deadline:
            self._fail(f"screen {screen} never came")
            return False
        return True

    def _finder(self, name: str, arg: str) -> Callable[[], Any] | None:
        app = self.app
        if name == "fbtile":
            return lambda: next(
                (b for b in visible_buttons(app.root) if isinstance(b, PartTile) and b.key == "fb_tile"), None
            )
        if name in ("fbcat", "fbchip"):
            return lambda: next((b for b in visible_buttons(app.root) if isinstance(b, FbTile) and b.key == arg), None)
        if name == "fb":
            return lambda: self._by_text(app.fb.tx[arg])
        return super()._finder(name, arg)
