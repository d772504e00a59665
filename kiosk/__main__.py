"""Run the kiosk: `python -m kiosk --server http://127.0.0.1:8000 --hall demo --token demo-kiosk-1-token`.

`--script` drives the real app through its own tap handlers, step by step, for tests and screenshots:
`take`, `domain:A`, `skip`, `confirm`, `back`, `home`, `lang`, `elder`, `checkin`, `key:CHARS` (typed on the
code keypad), `backspace`, `submit`, `scan:PAYLOAD` (a sim:// scanner reads PAYLOAD), `wait:SCREEN` (until the
flow shows that screen), `shot:NAME` (export the window to DIR/kiosk-NAME.png, DIR from --screenshot-dir), `quit`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("kiosk")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m kiosk", description="The self-service kiosk (take a number).")
    p.add_argument("--server", default="http://127.0.0.1:8000", help="queue server base URL")
    p.add_argument("--hall", default="demo", help="hall code")
    p.add_argument("--token", required=True, help="the kiosk's device token")
    p.add_argument("--printer", default=None, help="ticket printer URL, e.g. sim:// or sim://?state=paper_out")
    p.add_argument("--id-reader", default=None, help="ID-card reader URL, e.g. sim://")
    p.add_argument("--scanner", default=None, help="code scanner URL (appointment QR codes), e.g. sim://")
    p.add_argument("--portrait", action="store_true", help="portrait screen (1080×1920)")
    p.add_argument("--fullscreen", action="store_true", help="take the whole screen")
    p.add_argument("--script", default=None, help="comma-separated steps to run (see the module doc)")
    p.add_argument("--screenshot-dir", type=Path, default=None, help="where shot:NAME steps write PNGs")
    return p.parse_args(argv)


class ScriptRunner:
    """Runs `--script` steps on the Kivy clock, one after another, each once the previous has shown."""

    def __init__(self, app: Any, steps: list[str], shots: Path | None) -> None:
        """Prepare the steps."""
        self.app, self.steps, self.shots = app, steps, shots
        self.deadline = 0.0

    def start(self) -> None:
        """Begin once the window has had a few frames."""
        from kivy.clock import Clock  # type: ignore[import-untyped]

        Clock.schedule_once(lambda _dt: self._next(), 1.0)

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
            Clock.schedule_interval(lambda _dt: self._wait(arg), 0.05)
            return
        if name == "shot":
            Clock.schedule_once(lambda _dt: self._shot(arg), 0.3)  # a few frames to lay out
            return
        if name == "quit":
            app.stop()
            return
        actions = {
            "take": app.tap_take,
            "skip": app.tap_skip,
            "confirm": app.tap_confirm,
            "back": app.tap_back,
            "home": app.tap_home,
            "lang": app.tap_lang,
            "elder": app.tap_elder,
            "checkin": app.tap_checkin,
            "backspace": app.tap_backspace,
            "submit": app.tap_submit_code,
        }
        if name == "domain":
            app.tap_domain(arg)
        elif name == "key":
            for ch in arg:
                app.tap_key(ch)
        elif name == "scan" and app.scanner is not None:
            app.scanner.scan(arg)
        elif name in actions:
            actions[name]()
        else:
            log.error("kiosk script: unknown step %r", step)
            app.stop()
            return
        Clock.schedule_once(lambda _dt: self._next(), 0.1)

    def _wait(self, screen: str) -> bool:
        f = self.app.flow
        loaded = not (screen == "domain" and not f.domains) and not (screen == "ticket" and f.print_state == "printing")
        if f.screen == screen and loaded:
            self._next()
            return False
        if time.monotonic() > self.deadline:
            log.error("kiosk script: screen %s never came (at %s)", screen, self.app.flow.screen)
            self.app.stop()
            return False
        return True

    def _shot(self, name: str) -> None:
        if self.shots is not None:
            self.shots.mkdir(parents=True, exist_ok=True)
            target = self.shots / f"kiosk-{name}.png"
            self.app.root.export_to_png(str(target))
            log.info("kiosk screenshot: %s", target)
        self._next()


def main(argv: list[str] | None = None) -> int:
    """Start the kiosk; returns the exit status."""
    args = parse_args(argv)
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stdout, force=True)

    from display_board.screen import configure_window

    configure_window(portrait=args.portrait, fullscreen=args.fullscreen)

    from display_board.screen import ScreenError

    from .app import KioskApp
    from .client import KioskClient

    client = KioskClient(args.server, args.hall, args.token)
    runner: ScriptRunner | None = None

    def ready(app: KioskApp) -> None:
        nonlocal runner
        if args.script:
            runner = ScriptRunner(app, [s.strip() for s in args.script.split(",") if s.strip()], args.screenshot_dir)
            runner.start()

    app = KioskApp(
        client=client,
        server=args.server,
        printer_url=args.printer,
        id_reader_url=args.id_reader,
        scanner_url=args.scanner,
        portrait=args.portrait,
        on_ready=ready,
    )
    try:
        app.run()
    except ScreenError as e:
        log.error("%s", e)
        return 2
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
