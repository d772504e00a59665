"""`--script`: drive the real kiosk by touching its buttons, for tests, screenshots and benchmarks.

Each tap step finds the button on screen (by the catalogue text it shows in the current language, a domain's
code, a keypad key) and presses it with a real touch through the window's input dispatch (Kivy's own
`UnitTestTouch`: down, then up a moment later), so a button that is hidden, covered or disabled does not fire.

Steps: `take`, `checkin`, `book`, `domain:A` (a tile on another page: `pagenext` is tapped first until it shows),
`pagenext`, `pageprev`, `bookdomain:A`, `day:N`, `slot:N` (the Nth shown, from 0), `retry`, `confirm`, `phoneadd`,
`phone:DIGITS`, `phoneok`, `phoneskip`, `phonedel`, `bookconfirm`, `card` (demo: put the simulated card on the
reader; `card:KIND` one of `peripherals.idcard.DEMO_CARDS`: `permit`, `foreign2017`, `foreign2023`), `passport` (a
sim:// scanner reads the demo passport's two MRZ lines), `back`, `home`, `lang`, `elder`, `key:CHARS` (code keypad),
`backspace`, `submit`, `double:STEP` (two touches at once), `scan:PAYLOAD` (a sim:// scanner reads PAYLOAD),
`wait:SCREEN` (until the flow shows it; `closed` is home while the hall is closed, `paused` home with the health
banner, `card` an ID card read for take-a-number, `passport` a passport read for it), `expect:SCREEN` (fails unless
SCREEN is shown now), `sleep:SECONDS`, `shot:NAME` (DIR/kiosk-NAME.png), `quit`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger("kiosk")

# step → the catalogue key of the text its button shows (looked up in the current language)
BY_TEXT = {
    "take": "take_number",
    "checkin": "check_in",
    "book": "book",
    "retry": "retry",
    "pagenext": "page_next",
    "pageprev": "page_prev",
    "confirm": "confirm",
    "phoneadd": "phone_add",
    "phoneskip": "phone_none",
    "bookconfirm": "book_submit",
    "card": "simulate_card",
    "back": "back",
    "home": "home",
    "lang": "language",
    "backspace": "backspace",
    "phonedel": "backspace",
    "submit": "checkin_submit",
}
STEP_GAP_S = 0.12  # between taps: about a frame or two at 60 Hz plus Kivy's own touch handling


def visible_buttons(root: Any) -> Iterator[Any]:
    """Buttons on screen now (the ScreenManager holds only the current screen), drawn and not zero-sized."""
    from kivy.uix.behaviors import ButtonBehavior  # type: ignore[import-untyped]

    for w in root.walk(restrict=True):
        if isinstance(w, ButtonBehavior) and w.opacity > 0 and w.width > 2 and w.height > 2:
            yield w


def texts(w: Any) -> set[str]:
    """A button's own text and the texts of the labels inside it."""
    from kivy.uix.label import Label  # type: ignore[import-untyped]

    return {c.text for c in w.walk(restrict=True) if isinstance(c, Label) and c.text}


class ScriptRunner:
    """Runs `--script` steps on the Kivy clock, one after another, each once the previous has shown."""

    def __init__(self, app: Any, steps: list[str], shots: Path | None) -> None:
        """Prepare the steps."""
        self.app, self.steps, self.shots = app, steps, shots
        self.deadline = 0.0
        self.taps = 0

    def start(self) -> None:
        """Begin once the window has had a few frames."""
        from kivy.clock import Clock  # type: ignore[import-untyped]

        Clock.schedule_once(lambda _dt: self._next(), 1.0)

    def _fail(self, why: str) -> None:
        log.error("kiosk script: %s (at %s)", why, self.app.flow.screen)
        self.app.stop()

    def _next(self) -> None:
        from kivy.clock import Clock

        if not self.steps:
            self.app.stop()
            return
        step = self.steps.pop(0)
        name, _, arg = step.partition(":")
        log.info("kiosk script step: %s", step)
        app = self.app
        if name == "wait":
            self.deadline = time.monotonic() + 30
            Clock.schedule_interval(lambda _dt: self._wait(arg), 0.02)
        elif name == "shot":
            Clock.schedule_once(lambda _dt: self._shot(arg), 0.3)  # a few frames to lay out
        elif name == "sleep":
            Clock.schedule_once(lambda _dt: self._next(), float(arg))
        elif name == "quit":
            app.stop()
        elif name == "expect":  # the screen shown now must be `arg` (a tap that must not have worked)
            if app.flow.screen != arg:
                self._fail(f"expected screen {arg}")
                return
            Clock.schedule_once(lambda _dt: self._next(), STEP_GAP_S)
        elif name == "scan" and app.scanner is not None:
            app.scanner.scan(arg)
            Clock.schedule_once(lambda _dt: self._next(), STEP_GAP_S)
        elif name == "passport" and app.scanner is not None:
            from peripherals.scanner.mrz import demo_passport, mrz_lines

            app.scanner.scan_mrz(mrz_lines(demo_passport()))
            Clock.schedule_once(lambda _dt: self._next(), STEP_GAP_S)
        elif name == "double":  # two touches on the same spot within one frame: a double tap
            finder = self._finder(arg, "")
            if finder is None:
                self._fail(f"unknown step {step!r}")
                return
            self._tap(finder, step, times=2)
        elif name == "domain" and not self._tile(arg) and self._by_text(app.tx["page_next"]) is not None:
            nxt = self._by_text(app.tx["page_next"])
            if nxt.disabled:
                self._fail(f"no tile for {step!r} on any page")
                return
            self.steps[:0] = ["pagenext", step]  # the citizen turns the page, then taps the tile
            self._next()
        elif name in ("key", "phone"):
            self.steps[:0] = [f"press:{ch}" for ch in arg]
            self._next()
        else:
            if name == "card":  # the simulated reader gets this demo card when the button is tapped
                from peripherals.idcard import DEMO_CARDS

                if arg and arg not in DEMO_CARDS:
                    self._fail(f"no demo card {arg!r}")
                    return
                app.sim_card_kind = arg or "demo"
            finder = self._finder(name, arg)
            if finder is None:
                self._fail(f"unknown step {step!r}")
                return
            self._tap(finder, step)

    def _finder(self, name: str, arg: str) -> Callable[[], Any] | None:
        """How to find the step's button on screen now (None: not a tap step)."""
        app = self.app
        if name in BY_TEXT:
            return lambda: self._by_text(app.tx[BY_TEXT[name]])
        if name == "elder":
            return lambda: self._by_text(app.tx["elder_off" if app.flow.elder else "elder_on"])
        if name == "press" or name == "phoneok":
            label = app.tx["phone_ok"] if name == "phoneok" else arg
            return lambda: next((b for b in visible_buttons(app.root) if b.text == label), None)
        if name == "domain":
            return lambda: self._tile(arg)
        if name == "bookdomain":
            return lambda: next((b for b in visible_buttons(app.root) if getattr(b, "key", None) == arg), None)
        if name in ("day", "slot"):

            def nth() -> Any:
                keyed = sorted((b for b in visible_buttons(app.root) if hasattr(b, "key")), key=lambda b: b.key)
                return keyed[int(arg)] if int(arg) < len(keyed) else None

            return nth
        return None

    def _tile(self, code: str) -> Any:
        """The domain tile of `code` on screen now, or None."""
        return next((b for b in visible_buttons(self.app.root) if getattr(b, "code", None) == code), None)

    def _by_text(self, text: str) -> Any:
        return next((b for b in visible_buttons(self.app.root) if text in texts(b)), None)

    def _tap(self, find: Callable[[], Any], step: str, times: int = 1) -> None:
        """Press the button with a touch at its centre (window coordinates), release it, go on."""
        from kivy.clock import Clock
        from kivy.tests.common import UnitTestTouch  # type: ignore[import-untyped]

        button = find()
        if button is None:
            self._fail(f"no button on screen for step {step!r}")
            return
        x, y = button.to_window(*button.center)
        from kivy.core.window import Window  # type: ignore[import-untyped]

        if not (0 <= x <= Window.width and 0 <= y <= Window.height):  # it would need scrolling: not a tap
            self._fail(f"the button for step {step!r} is off the screen at {x:.0f},{y:.0f}")
            return
        for _ in range(times - 1):  # the extra taps of a double tap land wherever the first one led
            extra = UnitTestTouch(x, y)
            extra.touch_down()
            extra.touch_up()
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.taps += times

        def up(_dt: float) -> None:
            touch.touch_up()
            Clock.schedule_once(lambda _dt: self._next(), STEP_GAP_S)

        Clock.schedule_once(up, 0.05)

    def _wait(self, screen: str) -> bool:
        f = self.app.flow
        if screen == "closed":
            ok = f.screen == "home" and not f.open_now
        elif screen == "paused":  # the health banner says ticketing is paused
            ok = f.screen == "home" and self.app.paused and bool(self.app.banner)
        elif screen == "card":  # an ID card was read for take-a-number
            ok = f.id_number is not None
        elif screen == "passport":  # a passport's MRZ was read for take-a-number
            ok = f.passport
        else:
            loaded = not (screen == "domain" and not f.domains) and not (
                screen == "ticket" and f.print_state == "printing"
            )
            ok = f.screen == screen and loaded and not (screen == "book_day" and not f.slots_loaded)
        if ok:
            from kivy.clock import Clock

            Clock.schedule_once(lambda _dt: self._next(), STEP_GAP_S)  # a frame to lay the new screen out
            return False
        if time.monotonic() > self.deadline:
            self._fail(f"screen {screen} never came")
            return False
        return True

    def _shot(self, name: str) -> None:
        if self.shots is not None and getattr(self.app, "fixed_time", None) is not None:
            self._settle()
        self._export(name)

    def _settle(self) -> None:
        """The screenshot tour: the same PNG every run — the countdown as just after a touch (its full time), every
        label's text drawn now rather than on the next frame (which may come a second later on a busy machine)."""
        from kivy.uix.label import Label

        from .widgets import FitLabel

        self.app.tap_touch_activity()
        self.app._tick(0)
        for w in self.app.root.walk(restrict=True):
            if isinstance(w, FitLabel):
                w._fit()
            if isinstance(w, Label):
                w.texture_update()

    def _export(self, name: str) -> None:
        if self.shots is not None:
            self.shots.mkdir(parents=True, exist_ok=True)
            target = self.shots / f"kiosk-{name}.png"
            self.app.root.export_to_png(str(target))
            log.info("kiosk screenshot: %s", target)
            from .widgets import misfits

            for problem in misfits(self.app.root):  # the tour's test reads these: no text may be cut or broken
                log.warning("kiosk fit: %s: %s", name, problem)
        self._next()
