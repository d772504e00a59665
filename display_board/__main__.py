"""Run a board: `python -m display_board --server http://127.0.0.1:8000 --hall demo [--window N] [--portrait]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("display_board")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m display_board", description="Lobby board or window display.")
    p.add_argument("--server", default="http://127.0.0.1:8000", help="queue server base URL")
    p.add_argument("--hall", default="demo", help="hall code")
    p.add_argument("--window", type=int, default=None, help="show one window's display (窗口屏)")
    p.add_argument("--portrait", action="store_true", help="lobby board in portrait (1080×1920)")
    p.add_argument("--fullscreen", action="store_true", help="take the whole screen")
    p.add_argument("--size", default=None, help="window size WxH (default 1920x1080, 1080x1920 with --portrait)")
    p.add_argument("--token", default=None, help="display device token")
    p.add_argument("--heartbeat", type=float, default=1.5, help="ask the server for a heartbeat this often (s)")
    p.add_argument("--heartbeat-timeout", type=float, default=4.0, help="seconds without traffic = connection lost")
    p.add_argument("--health-every", type=float, default=60.0, help="report the board's health this often (s)")
    p.add_argument("--page-seconds", type=float, default=8.0, help="turn the waiting list's page this often (0: never)")
    p.add_argument(
        "--lang-seconds", type=float, default=8.0, help="show the next of the hall's languages this often (0: never)"
    )
    p.add_argument("--lang", default=None, help="keep the second line in this language (en, ko, ja, ru; screenshots)")
    p.add_argument("--fixed-time", default=None, help="ISO 8601 time the clock shows (screenshots)")
    p.add_argument("--voice-repeat", type=int, default=2, help="times each call is spoken (halls not silent)")
    p.add_argument("--no-chime", action="store_true", help="no chime before an announcement")
    p.add_argument("--voice-wav-dir", type=Path, default=None, help="write announcements as WAV files here")
    p.add_argument("--state", type=Path, default=None, help="show this board-state JSON file instead of a server")
    p.add_argument("--stale", action="store_true", help="with --state: show the connection-lost mark")
    p.add_argument("--screenshot", type=Path, default=None, help="save a PNG after --screenshot-delay s and exit")
    p.add_argument("--screenshot-delay", type=float, default=1.5)
    p.add_argument("--layout-report", type=Path, default=None, help="with --screenshot: write what is where (JSON)")
    return p.parse_args(argv)


class Feeder:
    """Runs the Subscriber on its own asyncio thread and hands states to the app on the Kivy thread."""

    def __init__(self, app: Any, args: argparse.Namespace) -> None:
        """Prepare; `start()` begins following the stream."""
        from .health import Health
        from .subscriber import Subscriber

        self.app, self.args = app, args
        self.loop = asyncio.new_event_loop()
        self.sub = Subscriber(
            args.server,  # http(s):// is turned into ws(s):// by the follower
            args.hall,
            token=args.token,
            on_state=self._on_state,
            heartbeat_timeout=args.heartbeat_timeout,
            heartbeat=args.heartbeat,
            on_stale=self._on_stale,
        )
        stale = lambda: self.sub.stale  # noqa: E731
        self.health = Health(args.server, args.token, args.window, every=args.health_every, stale=stale)
        self.thread = threading.Thread(target=self._run, name="subscriber", daemon=True)
        self.announcer: Any = None
        self._last: dict[str, Any] | None = None
        self._last_call_seq: int | None = None
        self._seen_state = False

    def start(self) -> None:
        """Start the subscriber thread."""
        self.thread.start()

    def stop(self) -> None:
        """Stop the subscriber (and the announcer) and wait briefly for them."""
        self.loop.call_soon_threadsafe(self.sub.stop)
        self.thread.join(5)
        if self.announcer is not None:
            self.announcer.stop()

    def _run(self) -> None:
        """The subscriber thread: runs `Subscriber.run()` until stopped or refused."""
        from kivy.clock import Clock  # type: ignore[import-untyped]

        from .subscriber import SubscriptionRefused

        health = self.loop.create_task(self.health.run())
        try:
            self.loop.run_until_complete(self.sub.run())
        except SubscriptionRefused as e:
            log.error("the server refused the board: %s", e)
            Clock.schedule_once(lambda _dt: self.app.stop())
        finally:
            health.cancel()

    def _on_state(self, state: Any) -> None:
        """On the asyncio loop: copy the state and hop to the Kivy thread."""
        from kivy.clock import Clock

        from .state import snapshot_view

        view = snapshot_view(state)
        last = dict(state.last_call) if state.last_call else None
        Clock.schedule_once(lambda _dt: self._show(view, last))

    def _on_stale(self, stale: bool) -> None:
        """On the asyncio loop: the connection-lost mark flips."""
        from kivy.clock import Clock

        log.info("connection lost" if stale else "connection back")
        if not stale:
            self.health.poke()

        Clock.schedule_once(lambda _dt: self._show(self._last, None, stale=stale) if self._last else None)

    def _show(self, view: dict[str, Any], last_call: dict[str, Any] | None, stale: bool | None = None) -> None:
        """On the Kivy thread: update the board, announce a new call."""
        self._last = view
        self.app.update(view, self.sub.stale if stale is None else stale)
        first, self._seen_state = not self._seen_state, True
        if first:
            log.info("board following hall %s", self.args.hall)
        if last_call is None or last_call.get("seq") == self._last_call_seq:
            return
        self._last_call_seq = last_call.get("seq")
        if not first:
            log.info("call shown: %s window %s", last_call.get("number"), last_call.get("window"))
            self._announce(view, last_call)

    def _announce(self, view: dict[str, Any], call: dict[str, Any]) -> None:
        """Queue a voice announcement unless the hall is silent."""
        from .voice import Announcer, EspeakEngine, VoiceSettings, announcement

        if self.announcer is None:
            silent = bool(view.get("hall", {}).get("silent", True))
            settings = VoiceSettings(silent=silent, repeat=self.args.voice_repeat, chime=not self.args.no_chime)
            engine = None if silent else EspeakEngine(wav_dir=self.args.voice_wav_dir)
            self.announcer = Announcer(engine, settings)
            self.announcer.start()
        if call.get("window") is None or not call.get("number"):
            return
        self.announcer.announce(call.get("announce") or announcement(str(call["number"]), int(call["window"])))


def main(argv: list[str] | None = None) -> int:
    """Start the board; returns the exit status."""
    args = parse_args(argv)
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    state: dict[str, Any] | None = None
    if args.state is not None:
        from .view import unwrap_snapshot

        state = unwrap_snapshot(json.loads(args.state.read_text(encoding="utf-8")))
    else:
        try:
            import display_board.subscriber  # noqa: F401
        except ImportError as e:
            print(f"display_board: the stream subscriber is not available ({e}); use --state FILE", file=sys.stderr)
            return 2
    from hall_client.screen import configure_window

    configure_window(portrait=args.portrait, fullscreen=args.fullscreen)
    if args.size:
        from kivy.config import Config  # type: ignore[import-untyped]

        width, height = args.size.lower().split("x")
        Config.set("graphics", "width", str(int(width)))
        Config.set("graphics", "height", str(int(height)))
    from .app import BoardApp

    feeder: Feeder | None = None

    def ready(app: BoardApp) -> None:
        nonlocal feeder
        if state is not None:
            app.update(state, args.stale)
        else:
            feeder = Feeder(app, args)
            feeder.start()
        if args.screenshot is not None:
            from kivy.clock import Clock

            shot, report = args.screenshot, args.layout_report
            Clock.schedule_once(lambda _dt: _screenshot(app, shot, report=report), args.screenshot_delay)

    fixed = datetime.fromisoformat(args.fixed_time) if args.fixed_time else None
    app = BoardApp(
        window=args.window,
        portrait=args.portrait,
        page_s=args.page_seconds,
        lang_s=args.lang_seconds,
        lang=args.lang,
        fixed_time=fixed,
        on_ready=ready,
    )
    try:
        app.run()
    finally:
        if feeder is not None:
            feeder.stop()
    return 0


def _screenshot(app: Any, target: Path, frames: int = 5, report: Path | None = None) -> None:
    """Save the board to `target` once it is laid out and `frames` more frames have run, then quit.

    A slow first frame (cold shader cache, busy CPU) can make the delay expire before the first layout,
    so this waits for the root to fill the window. The board is rendered into an offscreen buffer
    (`export_to_png`), which, unlike reading the window's back buffer after a flip, never comes out black."""
    from kivy.clock import Clock
    from kivy.core.window import Window  # type: ignore[import-untyped]

    seen = 0
    frozen = False

    def check(_dt: float) -> bool:
        nonlocal seen, frozen
        if not frozen:
            if not app.cycled():
                return True  # every page of the waiting list shown once first (the report says what was seen)
            app.freeze()  # then back to the first page, no more turning: what is saved is what is reported
            frozen = True
        seen = seen + 1 if tuple(app.root.size) == tuple(Window.size) else 0
        if seen < frames:
            return True
        target.parent.mkdir(parents=True, exist_ok=True)
        app.root.export_to_png(str(target))
        if report is not None:
            from .layout import layout_report

            report.write_text(json.dumps(layout_report(app), ensure_ascii=False, indent=1), encoding="utf-8")
        app.stop()
        return False

    Clock.schedule_interval(check, 0)


if __name__ == "__main__":
    sys.exit(main())
