"""Run the kiosk: `python -m kiosk --server http://127.0.0.1:8000 --hall demo --token demo-kiosk-1-token`.

`--script` drives the real app by touching its buttons, step by step, for tests and screenshots (the steps are
listed in `kiosk.script`); `--screenshot-tour DIR` renders every screen in Chinese, English and elder mode.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .parts import PartFactory

log = logging.getLogger("kiosk")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m kiosk", description="The self-service kiosk (take a number).")
    p.add_argument("--server", default="http://127.0.0.1:8000", help="queue server base URL")
    p.add_argument("--hall", default="demo", help="hall code")
    p.add_argument("--token", default=None, help="the kiosk's device token (required to run the kiosk)")
    p.add_argument("--printer", default=None, help="ticket printer URL, e.g. sim:// or sim://?state=paper_out")
    p.add_argument("--id-reader", default=None, help="ID-card reader URL, e.g. sim://")
    p.add_argument("--scanner", default=None, help="code scanner URL (appointment QR codes), e.g. sim://")
    from .submission.run import add_arguments

    add_arguments(p)  # --camera, --state-dir: self-submission, case query and pickup (issue 8)
    p.add_argument("--portrait", action="store_true", help="portrait screen (1080×1920)")
    p.add_argument("--fullscreen", action="store_true", help="take the whole screen")
    p.add_argument("--script", default=None, help="comma-separated steps to run (see the module doc)")
    p.add_argument("--screenshot-dir", type=Path, default=None, help="where shot:NAME steps write PNGs")
    p.add_argument(
        "--screenshot-tour", type=Path, default=None, metavar="DIR", help="render every screen (zh, en, elder) to DIR"
    )
    p.add_argument(
        "--tour-subset", action="store_true", help="with --screenshot-tour: each screen once (the tests' subset)"
    )
    p.add_argument(
        "--fixed-time", default=None, help="ISO 8601 time the kiosk takes for now: its clock, the days to book (shots)"
    )
    args = p.parse_args(argv)
    if args.token is None and args.screenshot_tour is None:
        p.error("--token is required")
    return args


def main(argv: list[str] | None = None, parts: Sequence[PartFactory] | None = None) -> int:
    """Start the kiosk with `parts` (default: every part `kiosk.services` registers); returns the exit status."""
    args = parse_args(argv)
    if args.screenshot_tour is not None:
        from .tour import main as tour

        return tour(args.screenshot_tour, subset=args.tour_subset)
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stdout, force=True)

    from hall_client.screen import configure_window

    configure_window(portrait=args.portrait, fullscreen=args.fullscreen)

    from hall_client.screen import ScreenError
    from peripherals.errors import DeviceUnavailable

    from .app import KioskApp
    from .client import KioskClient
    from .parts import REGISTERED
    from .script import ScriptRunner

    if parts is None:
        from . import services  # noqa: F401  (registers the parts)

    client = KioskClient(args.server, args.hall, args.token)

    def ready(app: KioskApp) -> None:
        if args.script:
            ScriptRunner(app, [s.strip() for s in args.script.split(",") if s.strip()], args.screenshot_dir).start()

    try:
        app = KioskApp(  # each part is made now: self-submission opens --camera
            client=client,
            server=args.server,
            printer_url=args.printer,
            id_reader_url=args.id_reader,
            scanner_url=args.scanner,
            portrait=args.portrait,
            on_ready=ready,
            parts=REGISTERED if parts is None else parts,
            args=args,
        )
        if args.fixed_time:
            app.fixed_time = datetime.fromisoformat(args.fixed_time)
    except DeviceUnavailable as e:
        log.error("%s", e)
        client.close()
        return 2
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
