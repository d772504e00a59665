"""The Kivy board under Xvfb, in a subprocess, fed a board-state file: screenshots of all three layouts."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import sqlite_only
from tests.display_board.test_view import sample_state
from tests.harness import Api

ROOT = Path(__file__).resolve().parents[2]
FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
HIGHLIGHT = (250, 204, 51)  # the newest call's box (board.kv HILITE), give or take rounding

# name → (extra arguments, Xvfb screen, expected size)
LAYOUTS: dict[str, tuple[list[str], str, tuple[int, int]]] = {
    "landscape": ([], "1920x1080x24", (1920, 1080)),
    "portrait": (["--portrait"], "1080x1920x24", (1080, 1920)),
    "window": (["--window", "3"], "1920x1080x24", (1920, 1080)),
}


def _need(ok: bool, what: str) -> None:
    """Skip without `what`, except in CI where a missing tool is a failure."""
    if not ok:
        if IN_CI:
            pytest.fail(f"{what} is missing")
        pytest.skip(f"{what} is missing")


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run the three layouts side by side (each its own Xvfb) and collect their screenshots."""
    _need(shutil.which("xvfb-run") is not None, "xvfb-run (apt-get install xvfb)")
    _need(FONT.is_file(), "the CJK font (apt-get install fonts-wqy-microhei)")
    tmp = tmp_path_factory.mktemp("kivy")
    state_file = tmp / "state.json"
    state = sample_state()
    state["queues"] += [  # the demo hall has twelve domains: they must all fit
        {"code": code, "name": name, "name_en": en, "waiting": n, "estimated_wait_s": n * 150}
        for code, name, en, n in [
            ("F", "纳税服务", "Tax services", 6),
            ("G", "公安服务", "Public security", 2),
            ("H", "交通运输", "Transport", 0),
            ("J", "统一出件", "Unified output", 3),
            ("K", "一链办理", "One-chain service", 1),
            ("L", "帮办代办", "Assisted & proxy service", 0),
            ("M", "咨询服务", "Consulting", 5),
        ]
    ]
    state["windows"][3]["status"] = "closed"
    state_file.write_text(json.dumps({"seq": 42, "data": state}, ensure_ascii=False), encoding="utf-8")
    env = os.environ | {
        "KIVY_NO_ARGS": "1",
        "KIVY_HOME": str(ROOT / ".kivyhome"),
        "KIVY_LOG_MODE": "PYTHON",
        "PYTHONPATH": str(ROOT),
    }
    procs = {}
    for name, (extra, screen, _size) in LAYOUTS.items():
        target = tmp / f"kivy-board-{name}.png"
        cmd = ["xvfb-run", "-a", "-s", f"-screen 0 {screen}", sys.executable, "-m", "display_board"]
        cmd += ["--state", str(state_file), "--screenshot", str(target), *extra]
        procs[name] = (
            subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT),
            target,
        )
    out = {}
    for name, (proc, target) in procs.items():
        try:
            log, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            log, _ = proc.communicate()
        assert proc.returncode == 0, f"{name}: exit {proc.returncode}\n{log.decode(errors='replace')[-3000:]}"
        out[name] = target
    return out


def _publish(path: Path) -> None:
    """By hand only (`HALL_SHOTS_DIR=docs/screenshots`): copy a checked screenshot there, atomically.

    Tests write only to temporary folders; the published set is refreshed on purpose, not by every run.
    """
    target = os.environ.get("HALL_SHOTS_DIR")
    if not target:
        return
    part = Path(target) / f".{path.name}.{os.getpid()}.part"
    shutil.copyfile(path, part)
    part.replace(Path(target) / path.name)


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_kivy_board_screenshot_is_non_trivial(screenshots: dict[str, Path], name: str) -> None:
    path = screenshots[name]
    assert path.is_file() and path.stat().st_size > 20_000
    with Image.open(path) as img:
        rgb = img.convert("RGB")
        assert rgb.size == LAYOUTS[name][2]
        colours = rgb.getcolors(maxcolors=1 << 20)
        assert colours is None or len(colours) > 50, "a (nearly) single-colour screenshot"
        # not a black screen: most of it is the board's dark blue background, not (0, 0, 0)
        assert rgb.resize((64, 64)).getpixel((32, 60)) != (0, 0, 0)
    _publish(path)


@pytest.mark.parametrize("name", ["landscape", "portrait"])
def test_lobby_shows_the_newest_call_highlighted(screenshots: dict[str, Path], name: str) -> None:
    with Image.open(screenshots[name]) as img:
        rgb = img.convert("RGB")
        w = rgb.size[0]
        box = rgb.crop((0, 110, w * 3 // 5 if name == "landscape" else w, 560))
        near = 0
        for count, c in box.getcolors(maxcolors=1 << 20) or []:
            assert isinstance(c, tuple)
            if all(abs(a - b) < 12 for a, b in zip(c, HIGHLIGHT, strict=True)):
                near += count
        assert near > 100_000, "the newest call's highlighted box is missing"


# --- Subscribed to a real server --------------------------------------------------------------------


class Board:
    """A board process (`python -m display_board` under Xvfb) whose log lines are timestamped on arrival."""

    def __init__(self, *args: str) -> None:
        env = os.environ | {
            "KIVY_NO_ARGS": "1",
            "KIVY_HOME": str(ROOT / ".kivyhome"),
            "KIVY_LOG_MODE": "PYTHON",
            "PYTHONPATH": str(ROOT),
        }
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", sys.executable, "-m", "display_board", *args]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.put((time.monotonic(), raw.decode(errors="replace")))

    def wait_for(self, text: str, timeout: float) -> float:
        """The arrival time of the first line containing `text`."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                at, line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.log.append(line)
            if text in line:
                return at
        pytest.fail(f"the board never logged {text!r}:\n" + "".join(self.log[-40:]))

    def stop(self) -> None:
        """Stop the process group started for this board (xvfb-run, Xvfb and the board)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


@pytest.fixture
def board_tools() -> None:
    """What a live board needs; one database backend is enough (the board never sees it)."""
    _need(shutil.which("xvfb-run") is not None, "xvfb-run (apt-get install xvfb)")
    _need(FONT.is_file(), "the CJK font (apt-get install fonts-wqy-microhei)")


@sqlite_only
@pytest.mark.usefixtures("board_tools")
def test_live_kivy_board_shows_a_call_within_a_second_and_a_silent_hall_never_speaks(api: Api, tmp_path: Path) -> None:
    api.take("A")
    wavs = tmp_path / "wav"
    wavs.mkdir()
    board = Board("--server", api.server.url, "--hall", "t1", "--voice-wav-dir", str(wavs))
    try:
        board.wait_for("board following hall t1", 30)
        r = api.call_next(1)
        returned = time.monotonic()
        assert r.status_code == 200, r.text
        shown = board.wait_for("call shown: A001 window 1", 10)
        assert shown - returned < 1.0
        time.sleep(0.5)
        assert list(wavs.iterdir()) == []  # t1 is silent
    finally:
        board.stop()


@sqlite_only
@pytest.mark.usefixtures("board_tools")
def test_live_kivy_board_announces_calls_in_a_hall_with_voice(api: Api, tmp_path: Path) -> None:
    _need(shutil.which("espeak-ng") is not None, "espeak-ng (apt-get install espeak-ng)")
    api.take("A", hall="t2", who="kiosk-t2-token-0123456789")
    wavs = tmp_path / "wav"
    wavs.mkdir()
    board = Board("--server", api.server.url, "--hall", "t2", "--voice-wav-dir", str(wavs), "--voice-repeat", "2")
    try:
        board.wait_for("board following hall t2", 30)
        r = api.call_next(1, hall="t2", who="clerk-t2")
        assert r.status_code == 200, r.text
        board.wait_for("call shown: A001 window 1", 10)
        deadline = time.monotonic() + 30
        names: list[str] = []
        while time.monotonic() < deadline:
            names = sorted(p.name for p in wavs.iterdir())
            if len(names) == 3 and all((wavs / n).stat().st_size > 1000 for n in names):
                break
            time.sleep(0.2)
        assert names == ["0001-chime.wav", "0002-say.wav", "0003-say.wav"]
    finally:
        board.stop()
