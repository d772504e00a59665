"""The kiosk's command line for self-submission: a configured camera that cannot be opened stops the start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.kiosk.test_kivy_submission import MODULE

ROOT = Path(__file__).resolve().parents[2]


def test_a_camera_that_cannot_be_opened_stops_the_kiosk_at_once(tmp_path: Path) -> None:
    env = os.environ | {"KIVY_NO_ARGS": "1", "KIVY_HOME": str(ROOT / ".kivyhome"), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", MODULE, "--token", "x", "--state-dir", str(tmp_path), "--camera"]
    proc = subprocess.run(
        [*cmd, "capture+serial:///dev/no-such-camera"], cwd=ROOT, env=env, capture_output=True, timeout=60
    )
    out = proc.stdout.decode() + proc.stderr.decode()
    assert proc.returncode == 2, out[-3000:]
    assert "cannot open capture device port '/dev/no-such-camera'" in out
