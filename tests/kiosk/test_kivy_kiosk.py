"""The Kivy kiosk under Xvfb, in a subprocess, against a live server: take a number with the printer out of
paper (the ticket is shown on screen with its QR code), and screenshots of the screens."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from queue_server.models import DeviceStatus
from tests.conftest import sqlite_only
from tests.harness import KIOSK, Api, shots_dir

ROOT = Path(__file__).resolve().parents[2]
SHOTS = shots_dir()  # a temporary folder unless HALL_SHOTS_DIR says (tests/harness.py)
FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BAR = (13, 69, 140)  # kiosk.kv BAR, give or take rounding


def _need(ok: bool, what: str) -> None:
    """Skip without `what`, except in CI where a missing tool is a failure."""
    if not ok:
        if IN_CI:
            pytest.fail(f"{what} is missing")
        pytest.skip(f"{what} is missing")


@pytest.fixture
def kiosk_tools() -> None:
    """What the kiosk needs; one database backend is enough (the kiosk never sees it)."""
    _need(shutil.which("xvfb-run") is not None, "xvfb-run (apt-get install xvfb)")
    _need(FONT.is_file(), "the CJK font (apt-get install fonts-wqy-microhei)")


def run_kiosk(api: Api, shots: Path, script: str, *extra: str) -> str:
    """Run `python -m kiosk --script …` under Xvfb to its end; returns its log."""
    portrait = "--portrait" in extra
    screen = "1080x1920x24" if portrait else "1920x1080x24"
    env = os.environ | {
        "KIVY_NO_ARGS": "1",
        "KIVY_HOME": str(ROOT / ".kivyhome"),
        "KIVY_LOG_MODE": "PYTHON",
        "PYTHONPATH": str(ROOT),
    }
    cmd = ["xvfb-run", "-a", "-s", f"-screen 0 {screen}", sys.executable, "-m", "kiosk"]
    cmd += ["--server", api.server.url, "--hall", "t1", "--token", KIOSK, "--script", script]
    cmd += ["--screenshot-dir", str(shots), *extra]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, timeout=120, check=False)
    log = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, log[-4000:]
    assert "kiosk script:" not in log, log[-4000:]  # an unknown step or a screen that never came
    return log


def check_png(path: Path, size: tuple[int, int]) -> None:
    """Non-trivial: the right size, many colours, the kiosk's top bar where it belongs."""
    assert path.is_file() and path.stat().st_size > 20_000, path
    with Image.open(path) as img:
        rgb = img.convert("RGB")
        assert rgb.size == size
        colours = rgb.getcolors(maxcolors=1 << 20)
        assert colours is None or len(colours) > 50, "a (nearly) single-colour screenshot"
        top = rgb.getpixel((5, 5))
        assert isinstance(top, tuple)
        assert all(abs(a - b) < 12 for a, b in zip(top, BAR, strict=True)), top


def publish(path: Path) -> None:
    """Copy a checked screenshot to the screenshots folder (tests/harness.py `shots_dir`) atomically."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    part = SHOTS / f".{path.name}.{os.getpid()}.part"
    shutil.copyfile(path, part)
    part.replace(SHOTS / path.name)


@sqlite_only
@pytest.mark.usefixtures("kiosk_tools")
def test_kiosk_takes_a_number_with_paper_out_and_shows_it_on_screen(api: Api, tmp_path: Path) -> None:
    for queue in ("B", "B", "C"):  # some load for the domain tiles
        api.take(queue)
    script = ",".join(
        [
            "wait:home",
            "shot:home-landscape",
            "take",
            "wait:domain",
            "shot:domain",
            "domain:A",
            "double:confirm",  # two touches at once on 'get my number': still one ticket
            "wait:ticket",
            "shot:ticket-paper-out",
            "lang",
            "shot:ticket-paper-out-en",
            "home",
            "elder",
            "take",
            "wait:domain",
            "shot:domain-elder",
        ]
    )
    log = run_kiosk(api, tmp_path, script, "--printer", "sim://?state=paper_out")
    assert "kiosk screen: ticket A001 shown, print paper_out, qr True" in log
    tickets = api.http.get("/api/v1/halls/t1/tickets", headers=api.auth("clerk1")).json()
    assert sorted(t["number"] for t in tickets) == ["A001", "B001", "B002", "C001"]
    with api.server.ctx.db.read() as session:  # staff were told through device.health
        status = session.get(DeviceStatus, "kiosk-t1")
        assert status is not None and status.status == "paper_out"
    for name in ("home-landscape", "domain", "ticket-paper-out", "ticket-paper-out-en", "domain-elder"):
        check_png(tmp_path / f"kiosk-{name}.png", (1920, 1080))
    with Image.open(tmp_path / "kiosk-ticket-paper-out.png") as img:  # the QR code: black and white squares
        right = img.convert("L").crop((1300, 200, 1900, 900))
        dark = sum(n for n, v in right.getcolors() or [] if isinstance(v, int) and v < 40)
        light = sum(n for n, v in right.getcolors() or [] if isinstance(v, int) and v > 230)
        assert dark > 30_000 and light > 30_000, (dark, light)
    assert "kiosk screen" in log
    for p in tmp_path.glob("kiosk-*.png"):
        publish(p)


@sqlite_only
@pytest.mark.usefixtures("kiosk_tools")
def test_kiosk_portrait_with_the_id_card_and_a_printed_ticket(api: Api, tmp_path: Path) -> None:
    script = "wait:home,shot:home-portrait,take,wait:domain,domain:B,wait:confirm,card,wait:card"
    script += ",phoneadd,wait:phone,phone:138123456,phoneok,phone:78,phoneok,wait:confirm,shot:confirm-portrait"
    script += ",confirm,wait:ticket,shot:ticket-portrait"
    log = run_kiosk(api, tmp_path, script, "--portrait", "--printer", "sim://", "--id-reader", "sim://")
    assert "kiosk screen: ticket B001 shown, print printed, qr False" in log
    tickets = api.http.get("/api/v1/halls/t1/tickets", headers=api.auth("clerk1")).json()
    assert [t["number"] for t in tickets] == ["B001"]
    assert tickets[0]["id_number_masked"]  # the card's number went with the tap
    assert tickets[0]["phone_masked"] == "138****5678"  # and the mobile number typed for silent calling
    assert "13812345678" not in log
    for name in ("home-portrait", "confirm-portrait", "ticket-portrait"):
        check_png(tmp_path / f"kiosk-{name}.png", (1080, 1920))
        publish(tmp_path / f"kiosk-{name}.png")
