"""`python -m kiosk.feedback …`: the kiosk (all of `python -m kiosk`'s options) with take-a-number, check-in, booking
and the 投诉建议 tile only.

The note field uses Kivy's on-screen keyboard docked at the bottom (`systemanddock`: a hardware keyboard
works too) unless KCFG_KIVY_KEYBOARD_MODE says otherwise; the preset lines need no keyboard at all.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Start the kiosk with the core parts and the complaint tile; returns the exit status."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # before Kivy is imported (the parts import it)
    os.environ.setdefault("KCFG_KIVY_KEYBOARD_MODE", "systemanddock")
    from kiosk.__main__ import main as kiosk
    from kiosk.services import CORE

    from .ui import FeedbackUi

    return kiosk(argv, parts=[*CORE, FeedbackUi])


if __name__ == "__main__":
    sys.exit(main())
