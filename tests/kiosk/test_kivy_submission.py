"""Self-submission on the real Kivy kiosk under Xvfb against a live server, end to end:

browse → template → ID card → phone → capture pages from the simulated document camera → review; the server
goes down just before 'submit' → the citizen is told "saved, will be sent" → the kiosk quits with the
submission in its outbox → the server comes back, the kiosk starts again → the outbox sends it: exactly one
case; then a second citizen submits while the server is up and gets the receipt on the (TCP) printer simulator.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from peripherals.idcard import demo_card
from peripherals.printer.simulator import TcpSimulator
from queue_server.models import DeviceStatus
from tests.conftest import sqlite_only
from tests.harness import KIOSK, Api, LiveServer, free_port, fresh_database, runtime
from tests.kiosk.test_kivy_kiosk import check_png, kiosk_tools, publish  # noqa: F401 - kiosk_tools is a fixture

ROOT = Path(__file__).resolve().parents[2]
MODULE = "kiosk"

BROWSE = [
    "wait:home",
    "sub:submit_tile",
    "wait:sub_domains",
    "tile:市场准入",
    "wait:sub_items",
    "tile:SCZT-GTH-001",
    "wait:sub_situation",
    "tile:self",
    "wait:sub_template",
    "sub:start",
    "wait:sub_card",
    "card",
    "wait:sub_phone",
]
CAPTURE = [
    "wait:sub_capture",
    "sub:next",  # a required material without a page: refused with a sentence, still here
    "wait:sub_capture",
    "sub:capture",
    "wait:sub_capture",
    "sub:capture",
    "wait:sub_capture",
    "sub:next",
    "wait:sub_capture",
    "sub:capture",
    "wait:sub_capture",
    "sub:next",
    "wait:sub_capture",
    "sub:bring_later",
    "sub:next",
    "wait:sub_review",
]


class Kiosk:
    """`python -m kiosk.submission` under Xvfb; `on(text, fn)` runs fn once when a log line contains text."""

    def __init__(
        self,
        server: str,
        state: Path,
        shots: Path,
        script: list[str],
        *extra: str,
        hall: str = "t1",
        token: str = KIOSK,
        camera: str = "sim://",
    ) -> None:
        env = os.environ | {
            "KIVY_NO_ARGS": "1",
            "KIVY_HOME": str(ROOT / ".kivyhome"),
            "KIVY_LOG_MODE": "PYTHON",
            "PYTHONPATH": str(ROOT),
        }
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", sys.executable, "-m", MODULE]
        cmd += ["--server", server, "--hall", hall, "--token", token, "--id-reader", "sim://", "--camera", camera]
        cmd += ["--state-dir", str(state), "--outbox-max-pause", "1", "--screenshot-dir", str(shots)]
        cmd += ["--script", ",".join(script), *extra]
        self.lines: list[str] = []
        self._hooks: list[tuple[str, Callable[[], None]]] = []
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def on(self, text: str, fn: Callable[[], None]) -> None:
        """Run `fn` (on the reader thread) when a line containing `text` appears."""
        self._hooks.append((text, fn))

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace")
            self.lines.append(line)
            for hook in [h for h in self._hooks if h[0] in line]:
                self._hooks.remove(hook)
                hook[1]()

    def wait(self) -> str:
        """Wait for the end; the whole log (asserting a clean exit and a script that ran to its end)."""
        try:
            rc = self.proc.wait(timeout=240)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        self._reader.join(timeout=10)
        log = "".join(self.lines)
        assert rc == 0, log[-5000:]
        assert "kiosk script:" not in log, log[-5000:]
        return log


def _cases(srv: LiveServer) -> list[dict[str, object]]:
    with httpx.Client(base_url=srv.url, timeout=10) as http:
        tok = http.post("/api/v1/auth/token", data={"username": "clerk1", "password": "clerk1-pass"}).json()
        r = http.get("/api/v1/halls/t1/cases", headers={"Authorization": f"Bearer {tok['access_token']}"})
        assert r.status_code == 200, r.text
        return list(r.json())


@pytest.mark.usefixtures("kiosk_tools")
def test_self_submission_survives_an_outage_and_a_restart_then_prints_a_receipt(tmp_path: Path) -> None:
    port = free_port()
    url = fresh_database("sqlite", tmp_path, name="sub")
    rt = runtime(url, tmp_path / "var")
    state, shots, go = tmp_path / "state", tmp_path / "shots", tmp_path / "go"
    server_url = f"http://127.0.0.1:{port}"

    # run 1: browse with the server up; it goes down at the review; submit → saved, will be sent
    srv = LiveServer(rt, port=port).start()
    script = [*BROWSE, "phone:13912345678", "sub:ok", *CAPTURE, "shot:sub-review", f"gate:{go}", "sub:submit",
              "wait:sub_queued", "shot:sub-queued"]  # fmt: skip
    kiosk = Kiosk(server_url, state, shots, script)

    def outage() -> None:
        srv.stop()
        go.touch()

    kiosk.on(f"kiosk script step: gate:{go}", outage)
    log = kiosk.wait()
    assert "kiosk submission queued: K-" in log
    told = "".join(line for line in log.splitlines(keepends=True) if "script step" not in line)
    card = demo_card()
    for secret in ("13912345678", card.name, card.id_number):  # nothing personal in the kiosk's own log lines
        assert secret not in told
    pending = list((state / "outbox" / "pending").iterdir())
    assert len(pending) == 1  # the kiosk quit with the submission in its outbox
    check_png(shots / "kiosk-sub-queued.png", (1920, 1080))
    check_png(shots / "kiosk-sub-review.png", (1920, 1080))

    # run 2: the server is back, the kiosk restarts: the outbox sends it once; then a second citizen
    srv = LiveServer(runtime(url, tmp_path / "var"), port=port).start()
    try:
        with TcpSimulator() as printer:
            script = ["wait:home", "wait:outbox-empty", *BROWSE, "sub:phone_skip", *CAPTURE, "sub:submit",
                      "wait:sub_result", "shot:sub-result"]  # fmt: skip
            log = Kiosk(server_url, state, shots, script, "--printer", printer.url).wait()
            cases = _cases(srv)
            assert len(cases) == 2, cases
            ref = "K-" + pending[0].name.replace("-", "")[:8].upper()
            replayed = [line for line in log.splitlines() if f"outbox {ref}: sent, case " in line]
            assert len(replayed) == 1, log[-5000:]  # sent once, on the kiosk's start, before anyone touched it
            assert log.index(replayed[0]) < log.index("kiosk script step: sub:submit_tile")
            assert not list((state / "outbox" / "pending").iterdir())
            assert len(list((state / "outbox" / "done").iterdir())) == 2
            # the second citizen's receipt: case number and query code on the printed slip
            second = next(line for line in log.splitlines() if "kiosk submission sent: case" in line).split()[-1]
            docs = [d for d in printer.printer.documents if d.cut]
            assert docs, "nothing printed"
            text = "\n".join(docs[-1].text_lines)
            assert second in text and "自助申报回执" in text and "查询码" in text
        for c in cases:
            assert c["item"] == "SCZT-GTH-001" and c["status"] == "submitted"
            assert "*" in str(c["applicant_masked"])
        check_png(shots / "kiosk-sub-result.png", (1920, 1080))
    finally:
        srv.stop()
    for name in ("sub-review", "sub-queued", "sub-result"):
        publish(shots / f"kiosk-{name}.png")


@sqlite_only
@pytest.mark.usefixtures("kiosk_tools")
def test_a_faulty_camera_is_told_to_the_citizen_and_to_staff(api: Api, tmp_path: Path) -> None:
    script = [*BROWSE, "sub:phone_skip", "wait:sub_capture", "sub:capture", "sleep:1", "wait:sub_capture",
              "shot:camera-fault", "sub:next", "wait:sub_capture"]  # fmt: skip
    shots = tmp_path / "shots"
    log = Kiosk(api.server.url, tmp_path / "state", shots, script, camera="sim://?state=fault").wait()
    assert "kiosk camera: CaptureError" in log
    with api.server.ctx.db.read() as session:  # staff were told through device.health
        status = session.get(DeviceStatus, "kiosk-t1")
        assert status is not None and status.status == "error" and "capture device" in status.detail
    assert not list((tmp_path / "state" / "outbox" / "pending").iterdir())  # nothing was submitted
    check_png(shots / "kiosk-camera-fault.png", (1920, 1080))
