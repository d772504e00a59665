"""`python -m kiosk.feedback …`: the kiosk (all of `python -m kiosk`'s options) with the 投诉建议 tile.

The note field uses Kivy's on-screen keyboard docked at the bottom (`systemanddock`: a hardware keyboard
works too) unless KCFG_KIVY_KEYBOARD_MODE says otherwise; the preset lines need no keyboard at all.
"""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger("kiosk")


def main(argv: list[str] | None = None) -> int:
    """Start the kiosk with the complaint tile; returns the exit status."""
    from kiosk.__main__ import parse_args

    args = parse_args(argv)
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KCFG_KIVY_KEYBOARD_MODE", "systemanddock")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stdout, force=True)

    from hall_client.screen import ScreenError, configure_window

    configure_window(portrait=args.portrait, fullscreen=args.fullscreen)

    from kiosk.app import KioskApp
    from kiosk.client import KioskClient

    from .script import FeedbackScriptRunner
    from .ui import feedback_part

    client = KioskClient(args.server, args.hall, args.token)

    def ready(app: object) -> None:
        if args.script:
            steps = [s.strip() for s in args.script.split(",") if s.strip()]
            FeedbackScriptRunner(app, steps, args.screenshot_dir).start()

    app = KioskApp(
        client=client,
        server=args.server,
        printer_url=args.printer,
        id_reader_url=args.id_reader,
        scanner_url=args.scanner,
        portrait=args.portrait,
        on_ready=ready,
        parts=[feedback_part],
        args=args,
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
