"""`python -m kiosk --screenshot-tour DIR` under Xvfb: the demo hall's twelve domains, every screen, landscape and
portrait, in Chinese, English and elder mode, none blank, and every label's text fits its box (no cut hall name,
no word broken mid-word, no lone character on a line).

The published set (docs/screenshots/kiosk-tour/) is made by running the same command by hand; the test writes only
to its temporary folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image

from kiosk.tour import ORIENTATIONS, SCREENS, VARIANTS
from tests.kiosk.test_kivy_kiosk import FONT, ROOT, _need, check_png


def test_screenshot_tour_renders_every_screen(tmp_path: Path) -> None:
    _need(shutil.which("xvfb-run") is not None, "xvfb-run (apt-get install xvfb)")
    _need(FONT.is_file(), "the CJK font (apt-get install fonts-wqy-microhei)")
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"} | {"PYTHONPATH": str(ROOT)}
    out = tmp_path / "tour"
    cmd = [sys.executable, "-m", "kiosk", "--screenshot-tour", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, timeout=1200, check=False)
    log = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, log[-4000:]
    expected = {f"{o}-{v}-{s}.png" for o in ORIENTATIONS for v in VARIANTS for s in SCREENS}
    assert {p.name for p in out.glob("*.png")} == expected
    for name in sorted(expected):
        size = (1080, 1920) if name.startswith("portrait") else (1920, 1080)
        check_png(out / name, size)  # the right size, many colours, the kiosk's top bar
    for o in ORIENTATIONS:
        with Image.open(out / f"{o}-en-closed.png") as a, Image.open(out / f"{o}-zh-closed.png") as b:
            assert a.tobytes() != b.tobytes()  # the language really changed
    assert (out / "misfits.txt").read_text(encoding="utf-8") == ""  # every label fits, on every screen
