"""The Kivy kiosk in the demo hall (twelve domains) under Xvfb, by real touches, against a live server.

A number in every one of the twelve domains without scrolling (pages with 上一页/下一页), printed over a
pseudo-terminal in the hall's timezone although the kiosk runs with TZ=UTC, the number at quad size and
"无需等候" when nobody is ahead; the ID card on the home screen starting take-a-number (portrait, elder mode);
the health banner when the server cannot be reached, with take-a-number greyed out.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from peripherals.printer.simulator import PtySimulator, SimulatedPrinter
from tests.harness import LiveServer, free_port, fresh_database, runtime, serving
from tests.kiosk.test_kivy_kiosk import ROOT, check_png, kiosk_tools, publish  # noqa: F401 - kiosk_tools is a fixture

DEMO = ROOT / "config" / "demo.toml"
TOKEN = "demo-kiosk-1-token"
DOMAINS = "ABCDEFGHJKLM"
SH = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.usefixtures("kiosk_tools")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo hall's configuration on a live server (SQLite: the kiosk never sees the database)."""
    tmp = tmp_path_factory.mktemp("kiosk-demo")
    with serving(runtime(fresh_database("sqlite", tmp, name="demo"), tmp / "var", config=DEMO)) as srv:
        yield srv


def kiosk(server: str, script: list[str], shots: Path, *extra: str, portrait: bool = False) -> str:
    """`python -m kiosk --script …` under Xvfb with TZ=UTC (the hall is in Asia/Shanghai); its log."""
    env = os.environ | {
        "KIVY_NO_ARGS": "1",
        "KIVY_HOME": str(ROOT / ".kivyhome"),
        "KIVY_LOG_MODE": "PYTHON",
        "PYTHONPATH": str(ROOT),
        "TZ": "UTC",
    }
    screen = "1080x1920x24" if portrait else "1920x1080x24"
    cmd = ["xvfb-run", "-a", "-s", f"-screen 0 {screen}", sys.executable, "-m", "kiosk", "--server", server]
    cmd += ["--hall", "demo", "--token", TOKEN, "--script", ",".join(script), "--screenshot-dir", str(shots)]
    cmd += [*extra, *(["--portrait"] if portrait else [])]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, timeout=240, check=False)
    log = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, log[-4000:]
    assert "kiosk script:" not in log, log[-4000:]  # a step failed: no button, off screen, a screen never came
    return log


def test_a_number_in_each_of_the_twelve_domains_without_scrolling(demo: LiveServer, tmp_path: Path) -> None:
    script = ["wait:home", "take", "wait:domain", "shot:demo-domain-1", "pagenext", "shot:demo-domain-2", "home"]
    for code in DOMAINS:  # each visit starts on page one: the tiles of page two are reached with 下一页
        script += ["wait:home", "take", "wait:domain", f"domain:{code}", "wait:confirm", "confirm", "wait:ticket"]
        script += ["home"]
    printer = SimulatedPrinter()
    with PtySimulator(printer) as pty:
        log = kiosk(demo.url, script, tmp_path, "--printer", pty.url)
        docs = printer.wait_for_documents(len(DOMAINS))
    assert log.count("kiosk script step: pagenext") == 1 + 6  # G H J K L M are on page two
    tickets = demo_tickets(demo)
    assert sorted(t["queue"] for t in tickets) == sorted(DOMAINS)
    assert [d.text_lines[d.text_lines.index("-" * 47) + 1] for d in docs] == [f"{c}001" for c in DOMAINS]
    for doc, ticket in zip(docs, sorted(tickets, key=lambda t: t["id"]), strict=True):
        (number,) = [line for line in doc.lines if line.text == ticket["number"]]
        assert (number.width, number.height) == (4, 4)  # quad size: the largest thing on the slip
        issued = datetime.fromisoformat(ticket["issued_at"])
        hall_time = issued.astimezone(SH).strftime("%Y-%m-%d %H:%M")
        kiosk_time = issued.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M")
        assert hall_time in doc.text_lines and kiosk_time not in doc.text_lines  # the hall's clock, not the kiosk's
        assert "无需等候" in doc.text_lines and "No wait" in doc.text_lines  # nobody ahead: not "0 people"
    for name in ("demo-domain-1", "demo-domain-2"):
        check_png(tmp_path / f"kiosk-{name}.png", (1920, 1080))
        publish(tmp_path / f"kiosk-{name}.png")


def test_an_id_card_on_the_home_screen_starts_take_a_number_portrait_elder(demo: LiveServer, tmp_path: Path) -> None:
    script = ["wait:home", "elder", "card", "wait:card", "shot:demo-card-domain-portrait-elder", "domain:M"]
    script += ["wait:confirm", "confirm", "wait:ticket", "sleep:0.3", "shot:demo-ticket-portrait-elder"]
    log = kiosk(demo.url, script, tmp_path, "--printer", "sim://", "--id-reader", "sim://", portrait=True)
    assert "kiosk ID card read for take-a-number" in log
    assert "kiosk script step: pagenext" in log  # M is on the last page in elder mode
    tickets = [t for t in demo_tickets(demo) if t["queue"] == "M" and t["id_number_masked"]]
    assert len(tickets) == 1  # the card read on the home screen went with the ticket
    for name in ("demo-card-domain-portrait-elder", "demo-ticket-portrait-elder"):
        check_png(tmp_path / f"kiosk-{name}.png", (1080, 1920))
        publish(tmp_path / f"kiosk-{name}.png")


def test_the_home_screen_says_ticketing_is_paused_when_the_server_is_away(tmp_path: Path) -> None:
    gone = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    script = ["wait:paused", "sleep:0.3", "shot:demo-paused", "take", "sleep:0.5", "expect:home"]
    log = kiosk(gone, script, tmp_path, "--printer", "sim://")
    assert "kiosk health: server unreachable" in log
    shot = tmp_path / "kiosk-demo-paused.png"
    check_png(shot, (1920, 1080))
    with Image.open(shot) as img:
        banner = img.convert("RGB").getpixel((960, 135))  # under the top bar: the amber banner
    assert isinstance(banner, tuple) and banner[0] > 200 and banner[1] > 150 and banner[2] < 100, banner
    publish(shot)


def demo_tickets(demo: LiveServer) -> list[dict[str, object]]:
    """Every ticket of the demo hall today (as the general desk sees them)."""
    import httpx

    with httpx.Client(base_url=demo.url) as http:
        r = http.post("/api/v1/auth/token", data={"username": "admin", "password": "demo-admin"})
        assert r.status_code == 200, r.text
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        tickets = http.get("/api/v1/halls/demo/tickets", headers=headers).json()
    assert isinstance(tickets, list)
    return tickets
