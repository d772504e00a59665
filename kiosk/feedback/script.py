"""`--script` steps of the complaint tile (this part's `script`; `kiosk.script` runs them).

Steps: `fbtile` (the home or closed screen's 投诉建议 tile), `fbcat:CODE` (a category tile), `fbchip:N` (the Nth
preset line), `fbnote:TEXT` (type TEXT into the note field, as the on-screen keyboard would), `fb:KEY` (the button
showing this part's catalogue string KEY: `fb:fb_next`, `fb:fb_anonymous`, `fb:fb_with_phone`, `fb:fb_submit`),
`fbdouble:KEY` (two touches on that button within a frame), `wait:fb_SCREEN` (one of this part's screens; `fb_done`
also waits for the slip's fate when a printer is there). `phone:DIGITS`, `phoneok` work on this part's keypad as on
the kiosk's.
"""

from __future__ import annotations

from typing import Any

from kiosk.script import PartSteps, ScriptRunner, visible_buttons
from kiosk.widgets import PartTile


class FeedbackSteps(PartSteps):
    """This part's steps (see the module doc)."""

    def button(self, run: ScriptRunner, name: str, arg: str) -> Any:
        """`fbtile`, `fbcat:CODE`, `fbchip:N`, `fb:KEY`."""
        root = run.app.root
        if name == "fbtile":
            return lambda: next(
                (b for b in visible_buttons(root) if isinstance(b, PartTile) and b.key == "fb_tile"), None
            )
        if name in ("fbcat", "fbchip"):
            from .ui import FbTile  # the part's module imports this one

            return lambda: next((b for b in visible_buttons(root) if isinstance(b, FbTile) and b.key == arg), None)
        if name == "fb":
            return lambda: run.by_text(self.part.tx[arg])
        return None

    def act(self, run: ScriptRunner, name: str, arg: str) -> bool:
        """`fbnote:TEXT`, `fbdouble:KEY`."""
        if name == "fbnote":
            run.app.root.ids.sm.get_screen("fb_reasons").ids.note.text = arg
            run.next_soon()
            return True
        if name == "fbdouble":
            run.tap(lambda: run.by_text(self.part.tx[arg]), f"{name}:{arg}", times=2)
            return True
        return False

    def ready(self, run: ScriptRunner, screen: str) -> bool | None:
        """Its screens once loaded."""
        if not screen.startswith("fb_"):
            return None
        f = self.part.flow
        loaded = {"fb_category": bool(f.categories)}.get(screen, True)
        if screen == "fb_done" and run.app.devices.printer is not None:
            loaded = f.print_state is not None
        return bool(f.screen == screen and loaded)
