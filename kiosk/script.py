"""`--script`: drive the real kiosk by touching its buttons, for tests, screenshots and benchmarks.

Each tap step finds the button on screen (by the catalogue text it shows in the current language, a domain's
code, a keypad key) and presses it with a real touch through the window's input dispatch (Kivy's own
`UnitTestTouch`: down, then up a moment later), so a button that is hidden, covered or disabled does not fire.

One `ScriptRunner` drives every part through a small interface: a part's `script` (a `PartSteps`) names the
buttons of its steps (`texts`: step → the catalogue key its button shows; `button`: any other way to find one),
does its steps that are no tap (`act`: typing into a field) and says when its screens have come (`ready`).

The frame's steps: `back`, `home`, `lang`, `elder`, `retry` (read the card again), `card` (demo: put the simulated
card on the reader; `card:KIND` one of `peripherals.idcard.DEMO_CARDS`: `permit`, `foreign2017`, `foreign2023`),
`passport` (a sim:// scanner reads the demo passport's two MRZ lines), `scan:PAYLOAD` (a sim:// scanner reads
PAYLOAD), `phone:DIGITS` and `key:CHARS` (the keypad shown: each key in turn), `phoneok`, `phonedel` and
`backspace` (its keys), `double:STEP` (two touches at once), `wait:SCREEN` (until it shows and is loaded; `closed`
is home while the hall is closed, `paused` home with the health banner), `expect:SCREEN` (fails unless SCREEN is
shown now), `gate:PATH` (wait until the file PATH exists: a test's signal), `sleep:SECONDS`, `shot:NAME`
(DIR/kiosk-NAME.png), `quit`. The parts' steps are listed in their modules (`kiosk.take_ui`, `kiosk.checkin_ui`,
`kiosk.booking_ui`, `kiosk.submission.script`, `kiosk.feedback.script`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

log = logging.getLogger("kiosk")

FRAME_TEXT = {  # the frame's buttons: step → the catalogue key of the text it shows (in the current language)
    "card": "simulate_card",
    "back": "back",
    "home": "home",
    "lang": "language",
    "retry": "retry",
    "backspace": "backspace",
    "phonedel": "backspace",
    "phoneok": "phone_ok",
}
STEP_GAP_S = 0.12  # between taps: about a frame or two at 60 Hz plus Kivy's own touch handling
WAIT_S = 30.0  # how long a wait: step waits before the script fails
SLOW_WAIT_S = 120.0  # …for a file (gate:) or a part's slow screens (`PartSteps.slow`: the outbox sent)


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


class PartSteps:
    """A part's `--script` steps (the part's `script`); the defaults know none."""

    texts: ClassVar[dict[str, str]] = {}  # step → the catalogue key of the text its button shows
    slow: ClassVar[frozenset[str]] = frozenset()  # its `wait:` screens that may take SLOW_WAIT_S

    def __init__(self, part: Any) -> None:
        """The steps of `part`."""
        self.part = part

    def button(self, run: ScriptRunner, name: str, arg: str) -> Callable[[], Any] | None:
        """How to find the button of tap step `name:arg` on screen (None: not its step)."""
        return None

    def act(self, run: ScriptRunner, name: str, arg: str) -> bool:
        """Do step `name:arg` when it is one of its steps that are no tap (then go on with `run.next_soon()`)."""
        return False

    def ready(self, run: ScriptRunner, screen: str) -> bool | None:
        """`wait:SCREEN`: whether its screen `screen` shows, loaded (None: not its screen)."""
        return None


class ScriptRunner:
    """Runs `--script` steps on the Kivy clock, one after another, each once the previous has shown."""

    def __init__(self, app: Any, steps: list[str], shots: Path | None) -> None:
        """Prepare the steps."""
        self.app, self.steps, self.shots = app, steps, shots
        self.deadline = 0.0
        self.taps = 0
        self.parts: list[PartSteps] = [p.script for p in app.parts if p.script is not None]

    def start(self) -> None:
        """Begin once the window has had a few frames and the devices are open (the demo card's button shows)."""
        from kivy.clock import Clock  # type: ignore[import-untyped]

        Clock.schedule_once(lambda _dt: self.until(self.app.devices.opened.is_set, "the devices"), 1.0)

    def fail(self, why: str) -> None:
        """Stop the kiosk with `why` in the log (the tests look for "kiosk script:")."""
        part = self.app.shown_part()
        log.error("kiosk script: %s (at %s)", why, part.current if part is not None else self.app.flow.screen)
        self.app.stop()

    def next_soon(self) -> None:
        """The next step, after a frame or two."""
        from kivy.clock import Clock

        Clock.schedule_once(lambda _dt: self._next(), STEP_GAP_S)

    def until(self, cond: Callable[[], bool], what: str, seconds: float = WAIT_S) -> None:
        """Go on once `cond()` holds; fail after `seconds`."""
        from kivy.clock import Clock

        self.deadline = time.monotonic() + seconds

        def poll(_dt: float) -> bool:
            if cond():
                self.next_soon()  # a frame to lay the new screen out
                return False
            if time.monotonic() > self.deadline:
                self.fail(f"{what} never came")
                return False
            return True

        Clock.schedule_interval(poll, 0.02)

    def by_text(self, text: str) -> Any:
        """The button on screen showing `text`, or None."""
        return next((b for b in visible_buttons(self.app.root) if text in texts(b)), None)

    def by_key(self, key: str) -> Any:
        """The generated button on screen whose `key` is `key` (a tile, a day, a slot), or None."""
        return next((b for b in visible_buttons(self.app.root) if getattr(b, "key", None) == key), None)

    def _next(self) -> None:
        from kivy.clock import Clock

        if not self.steps:
            self.app.stop()
            return
        step = self.steps.pop(0)
        name, _, arg = step.partition(":")
        log.info("kiosk script step: %s", step)
        app, devices = self.app, self.app.devices
        if name == "wait":
            slow = any(arg in p.slow for p in self.parts)
            self.until(lambda: self._ready(arg), f"screen {arg}", SLOW_WAIT_S if slow else WAIT_S)
        elif name == "gate":
            self.until(lambda: Path(arg).exists(), step, SLOW_WAIT_S)
        elif name == "shot":
            Clock.schedule_once(lambda _dt: self._shot(arg), 0.3)  # a few frames to lay out
        elif name == "sleep":
            Clock.schedule_once(lambda _dt: self._next(), float(arg))
        elif name == "quit":
            app.stop()
        elif name == "expect":  # the screen shown now must be `arg` (a tap that must not have worked)
            if app.flow.screen != arg:
                self.fail(f"expected screen {arg}")
                return
            self.next_soon()
        elif name == "scan" and devices.scanner is not None:
            devices.scanner.scan(arg)
            self.next_soon()
        elif name == "passport" and devices.scanner is not None:
            from peripherals.scanner.mrz import demo_passport, mrz_lines

            devices.scanner.scan_mrz(mrz_lines(demo_passport()))
            self.next_soon()
        elif name in ("key", "phone"):
            self.steps[:0] = [f"press:{ch}" for ch in arg]
            self._next()
        elif any(p.act(self, name, arg) for p in self.parts):
            pass
        else:
            double = name == "double"
            if double:
                name, _, arg = arg.partition(":")
            if name == "card":  # the simulated reader gets this demo card when the button is tapped
                from peripherals.idcard import DEMO_CARDS

                if arg and arg not in DEMO_CARDS:
                    self.fail(f"no demo card {arg!r}")
                    return
                devices.sim_card_kind = arg or "demo"
            finder = self._finder(name, arg)
            if finder is None:
                self.fail(f"unknown step {step!r}")
                return
            self.tap(finder, step, times=2 if double else 1)

    def _ready(self, screen: str) -> bool:
        """`wait:SCREEN`: a part's screen as the part says, else the kiosk's state."""
        for p in self.parts:
            ok = p.ready(self, screen)
            if ok is not None:
                return ok
        f = self.app.flow
        if screen == "closed":
            return bool(f.screen == "home" and not f.open_now)
        if screen == "paused":  # the health banner says what needs the server is paused
            return bool(f.screen == "home" and self.app.paused and self.app.banner)
        return bool(f.screen == screen)

    def _finder(self, name: str, arg: str) -> Callable[[], Any] | None:
        """How to find the step's button on screen now (None: not a tap step)."""
        app = self.app
        for p in self.parts:
            if name in p.texts:
                key = p.texts[name]
                return lambda: self.by_text(app.tx[key])
            found = p.button(self, name, arg)
            if found is not None:
                return found
        if name in FRAME_TEXT:
            return lambda: self.by_text(app.tx[FRAME_TEXT[name]])
        if name == "elder":
            return lambda: self.by_text(app.tx["elder_off" if app.flow.elder else "elder_on"])
        if name == "press":
            return lambda: next((b for b in visible_buttons(app.root) if b.text == arg), None)
        return None

    def tap(self, find: Callable[[], Any], step: str, times: int = 1) -> None:
        """Press the button with a touch at its centre (window coordinates), release it, go on."""
        from kivy.clock import Clock
        from kivy.core.window import Window  # type: ignore[import-untyped]
        from kivy.tests.common import UnitTestTouch  # type: ignore[import-untyped]

        button = find()
        if button is None:
            self.fail(f"no button on screen for step {step!r}")
            return
        x, y = button.to_window(*button.center)
        if not (0 <= x <= Window.width and 0 <= y <= Window.height):  # it would need scrolling: not a tap
            self.fail(f"the button for step {step!r} is off the screen at {x:.0f},{y:.0f}")
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
            self.next_soon()

        Clock.schedule_once(up, 0.05)

    def _shot(self, name: str) -> None:
        if self.shots is not None and getattr(self.app, "fixed_time", None) is not None:
            self._settle()
        if self.shots is not None:
            self.shots.mkdir(parents=True, exist_ok=True)
            target = self.shots / f"kiosk-{name}.png"
            self.app.root.export_to_png(str(target))
            log.info("kiosk screenshot: %s", target)
            from .widgets import misfits

            for problem in misfits(self.app.root):  # the tour's test reads these: no text may be cut or broken
                log.warning("kiosk fit: %s: %s", name, problem)
        self._next()

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
