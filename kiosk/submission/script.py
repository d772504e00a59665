"""`--script` steps for self-submission, case query and pickup, on top of `kiosk.script.ScriptRunner`.

Extra steps: `sub:KEY` (the button showing this part's catalogue string KEY: `sub:capture`, `sub:next`,
`sub:submit`, `sub:bring_later`, `sub:start`, `sub:phone_skip`, `sub:submit_tile`, …), `field:number|proof` (the
case query's field the keypad types into), `tile:KEY` (a domain,
item or situation tile by its key), `search:TEXT` (type TEXT in the search box and search), `wait:SCREEN` also
for this part's screens (`sub_review`, `sub_queued`, `q_list`, …) and `wait:outbox-empty` (every queued
submission sent, up to 120 s), `gate:PATH` (wait until the file PATH exists: a test's signal).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.feedback.script import FeedbackScriptRunner
from kiosk.script import STEP_GAP_S, ScriptRunner, visible_buttons

log = logging.getLogger("kiosk")


class SubmissionScriptRunner(ScriptRunner):
    """The kiosk's script runner with the steps of self-submission (see the module doc)."""

    def _next(self) -> None:
        from kivy.clock import Clock  # type: ignore[import-untyped]

        step = self.steps[0] if self.steps else ""
        name, _, arg = step.partition(":")
        if name == "gate":
            self.steps.pop(0)
            log.info("kiosk script step: %s", step)
            self.deadline = time.monotonic() + 120
            Clock.schedule_interval(lambda _dt: self._sub_until(lambda: Path(arg).exists(), step), 0.05)
            return
        if name == "search":
            self.steps.pop(0)
            log.info("kiosk script step: %s", step)
            screen = self.app.root.ids.sm.get_screen("sub_domains")
            screen.ids.search.text = arg
            self.steps[:0] = ["sub:search"]
        if name == "wait" and (arg.startswith(("sub_", "q_", "pk_")) or arg == "outbox-empty"):
            self.steps.pop(0)
            log.info("kiosk script step: %s", step)
            self.deadline = time.monotonic() + (120 if arg == "outbox-empty" else 30)
            Clock.schedule_interval(lambda _dt: self._sub_until(lambda: self._shown(arg), step), 0.02)
            return
        super()._next()

    def _fail(self, why: str) -> None:
        ui = self.app.sub
        log.error("kiosk script: %s (at %s)", why, ui.current or self.app.flow.screen)
        self.app.stop()

    def _shown(self, screen: str) -> bool:
        ui = self.app.sub
        if screen == "outbox-empty":
            return ui.outbox is None or not ui.outbox.pending()
        f = ui.flow
        loaded = {
            "sub_domains": bool(f.domains),
            "sub_items": f.items is not None,
            "sub_template": f.situation is not None,
            "sub_result": f.print_state in ("printed", "failed"),
        }.get(screen, True)
        return ui.current == screen and loaded and not f.capturing

    def _sub_until(self, cond: Callable[[], bool], step: str) -> bool:
        from kivy.clock import Clock

        if cond():
            Clock.schedule_once(lambda _dt: self._next(), STEP_GAP_S)
            return False
        if time.monotonic() > self.deadline:
            self._fail(f"{step} never came")
            return False
        return True

    def _finder(self, name: str, arg: str) -> Callable[[], Any] | None:
        app = self.app
        if name == "sub":
            return lambda: self._by_text(app.sub.tx[arg])
        if name == "field":  # the case query's field: `field:number` or `field:proof` (its label, then what is typed)
            return lambda: next(
                (b for b in visible_buttons(app.root) if b.text.startswith(app.sub.tx[f"query_{arg}"])), None
            )
        if name == "tile":
            return lambda: next((b for b in visible_buttons(app.root) if getattr(b, "key", None) == arg), None)
        return super()._finder(name, arg)


class HallScriptRunner(SubmissionScriptRunner, FeedbackScriptRunner):
    """The runner of `python -m kiosk`: this part's steps and the complaint tile's (`kiosk.feedback`)."""
