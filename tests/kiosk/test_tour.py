"""`python -m kiosk --screenshot-tour DIR --tour-subset` under Xvfb: the demo hall's twelve domains, every screen
once, landscape and portrait, every language (Chinese, English, Korean, Japanese, Russian) and elder mode each at
least once, none blank, and every label's
text fits its box (no cut hall name, no word broken mid-word, no lone character on a line).

The whole tour (every screen in every variant, 308 PNGs) is `scripts/screenshots`, which refreshes the published
set (docs/screenshots/kiosk-tour/); the test writes only to its temporary folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from kiosk.strings import LANGS
from kiosk.tour import ORIENTATIONS, SCREENS, SUBSET, VARIANTS, asked, expected
from tests.kiosk.test_kivy_kiosk import FONT, ROOT, _need, check_png


def test_the_subset_covers_every_screen_orientation_language_and_elder_mode() -> None:
    names = expected(subset=True)
    assert {n.split("-", 2)[2].removesuffix(".png") for n in names} == set(SCREENS)
    assert {n.split("-", 2)[0] for n in names} == set(ORIENTATIONS)
    assert {n.split("-", 2)[1] for n in names} == set(VARIANTS)
    assert {v for vs in SUBSET.values() for v in vs} == set(VARIANTS)
    assert set(LANGS) | {"elder"} == set(VARIANTS)  # every language of the kiosk, zh, en, ko, ja and ru
    every = [(v, s) for v in VARIANTS for s in SCREENS if s != "interpreter" or asked(v)]  # asked: not in Chinese
    assert len(expected()) == len(ORIENTATIONS) * len(every)  # the whole tour: every one
    assert {v for v in VARIANTS if f"landscape-{v}-interpreter.png" in expected()} == {"en", "ko", "ja", "ru"}


def test_screenshot_tour_renders_every_screen(tmp_path: Path) -> None:
    _need(shutil.which("xvfb-run") is not None, "xvfb-run (apt-get install xvfb)")
    _need(shutil.which("faketime") is not None, "faketime (apt-get install faketime)")
    _need(FONT.is_file(), "the CJK font (apt-get install fonts-wqy-microhei)")
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"} | {"PYTHONPATH": str(ROOT)}
    out = tmp_path / "tour"
    cmd = [sys.executable, "-m", "kiosk", "--screenshot-tour", str(out), "--tour-subset"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, timeout=600, check=False)
    log = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, log[-4000:]
    names = expected(subset=True)
    assert {p.name for p in out.glob("*.png")} == names
    for name in sorted(names):
        size = (1080, 1920) if name.startswith("portrait") else (1920, 1080)
        check_png(out / name, size)  # the right size, many colours, the kiosk's top bar
    assert (out / "misfits.txt").read_text(encoding="utf-8") == ""  # every label fits, on every screen it shot
