"""Self-submission's part from the command line: the capture device, the outbox.

`add_arguments` adds `--camera URL` (the document scanner/camera, e.g. `sim://` or `capture+serial:///dev/ttyACM1`),
`--state-dir DIR` (where the outbox and its key live; default `~/.local/state/hall-kiosk`) and
`--outbox-max-pause S` (the longest pause between two sends of a queued submission). `submission_part` makes this
part and opens the camera at once, so a configured device that cannot be opened stops the start with
`DeviceUnavailable`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

DEFAULT_STATE = Path.home() / ".local" / "state" / "hall-kiosk"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The command-line options of this part."""
    p.add_argument("--camera", default=None, help="document scanner/camera URL for self-submission, e.g. sim://")
    p.add_argument("--state-dir", type=Path, default=None, help=f"outbox directory (default {DEFAULT_STATE})")
    p.add_argument("--outbox-max-pause", type=float, default=60.0, help=argparse.SUPPRESS)


def submission_part(app: Any, args: argparse.Namespace | None) -> Any:
    """This part (`kiosk.parts.register`s it in `kiosk.services`): the outbox in the state directory sending with
    the kiosk's client, the camera (opened now: a configured device that cannot be opened stops the start)."""
    from .outbox import Outbox, load_key
    from .ui import SubmissionUi

    camera = None
    if args is not None and args.camera:
        from peripherals.capture import open_camera

        camera = open_camera(args.camera)
    state_dir = args.state_dir if args is not None else None
    state = state_dir or Path(os.environ.get("HALL_KIOSK_STATE", DEFAULT_STATE))
    cases = app.client
    outbox = Outbox(
        state / "outbox",
        cases.submit,
        key=load_key(state / "outbox.key"),
        report=lambda detail: cases.report_health("error", detail),
        max_pause_s=args.outbox_max_pause if args is not None else 60.0,
    )
    return SubmissionUi(app, cases, outbox, camera)
