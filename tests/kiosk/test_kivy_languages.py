"""The kiosk in 한국어 on the demo hall (issue 22), by real touches under Xvfb: the domain tiles show the hall's
Korean names, the kiosk asks once whether an interpreter is needed (需要语言服务), the ticket keeps the kiosk's
language and the interpreter's (the clerk's console lists it), and the printed slip over a pseudo-terminal carries
its second lines as raster images of the Korean text (encoder.py says why) and the 需语言服务 mark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kiosk.flow import Domain
from peripherals.printer.simulator import PtySimulator, SimulatedPrinter
from tests.harness import LiveServer
from tests.kiosk.test_kivy_demo_hall import demo, demo_tickets, kiosk  # noqa: F401 - demo is a fixture
from tests.kiosk.test_kivy_kiosk import check_png, kiosk_tools, publish  # noqa: F401 - kiosk_tools is a fixture

pytestmark = pytest.mark.usefixtures("kiosk_tools")


def test_a_domain_in_the_kiosk_language() -> None:
    names = {"zh": "社保医保", "en": "Social & medical insurance", "ko": "사회보험·의료보험"}
    d = Domain.from_api({"code": "D", "name": names["zh"], "name_en": names["en"], "waiting": 0,
                         "estimated_wait_s": 0, "names": names})  # fmt: skip
    assert [d.label(x) for x in ("zh", "en", "ko", "ja")] == ["社保医保", names["en"], names["ko"], "社保医保"]
    plain = Domain.from_api({"code": "D", "name": "社保医保", "name_en": "", "waiting": 0, "estimated_wait_s": 0})
    assert plain.label("ko") == plain.label("en") == "社保医保"


def test_a_number_taken_in_korean(demo: LiveServer, tmp_path: Path) -> None:  # noqa: F811
    script = ["wait:home", "lang", "lang", "take", "wait:domain", "shot:ko-domain-names", "domain:D"]
    script += ["wait:interpreter", "shot:ko-interpreter", "interp:yes", "wait:confirm", "shot:ko-interpreter-confirm"]
    script += ["confirm", "wait:ticket", "shot:ko-interpreter-ticket"]
    printer = SimulatedPrinter()
    with PtySimulator(printer) as pty:
        kiosk(demo.url, script, tmp_path, "--printer", pty.url)
        (doc,) = printer.wait_for_documents(1)
    (ticket,) = [t for t in demo_tickets(demo) if t["queue"] == "D" and t.get("lang") == "ko"]
    assert ticket["interpreter"] == "ko"
    assert "社保医保 · 需语言服务" in doc.text_lines  # Chinese first, as text, with the interpreter's mark
    desk = _console(demo, 5)  # window 5 calls D: its clerk sees who needs an interpreter
    assert [t["interpreter"] for t in desk["waiting"] if t["id"] == ticket["id"]] == ["ko"]
    assert len(doc.rasters) >= 3  # the domain in Korean, the wait line, the scan hint (and the missed line)
    assert all(r.width == 576 and r.black() > 200 for r in doc.rasters)
    for name in ("ko-domain-names", "ko-interpreter", "ko-interpreter-confirm", "ko-interpreter-ticket"):
        shot = tmp_path / f"kiosk-{name}.png"
        check_png(shot, (1920, 1080))
        publish(shot)
    assert str(ticket["number"]).startswith("D")


def test_an_appointment_checked_in_in_korean_with_an_interpreter(demo: LiveServer, tmp_path: Path) -> None:  # noqa: F811
    code = _booked(demo, "A")
    script = ["wait:home", "lang", "lang", "checkin", "wait:interpreter", "shot:ko-checkin-interpreter", "interp:yes"]
    script += ["wait:checkin", f"key:{code}", "submit", "wait:ticket", "shot:ko-checkin-ticket"]
    log = kiosk(demo.url, script, tmp_path, "--printer", "sim://")
    assert "kiosk checked in:" in log
    (ticket,) = [t for t in demo_tickets(demo) if t["queue"] == "A" and t["lane"] == "appointment"]
    assert (ticket["lang"], ticket["interpreter"]) == ("ko", "ko")
    desk = _console(demo, 1)  # window 1 calls A: its clerk sees who needs an interpreter
    assert [t["interpreter"] for t in desk["waiting"] if t["id"] == ticket["id"]] == ["ko"]
    for name in ("ko-checkin-interpreter", "ko-checkin-ticket"):
        check_png(tmp_path / f"kiosk-{name}.png", (1920, 1080))
        publish(tmp_path / f"kiosk-{name}.png")


def _booked(demo: LiveServer, queue: str) -> str:  # noqa: F811
    """A booking for the next slot of `queue` (it starts within 30 minutes: its check-in window is open)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    import httpx

    from queue_server.ids import make_id_number

    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    with httpx.Client(base_url=demo.url) as http:
        slots = []
        for day in (now.date(), now.date() + timedelta(days=1)):
            r = http.get("/api/v1/halls/demo/slots", params={"queue": queue, "date": day.isoformat()})
            slots += [s["start"] for s in r.json() if datetime.fromisoformat(s["start"]) > now]
        body = {"queue": queue, "start": slots[0], "name": "김민수", "id_number": make_id_number(serial=221)}
        r = http.post("/api/v1/halls/demo/appointments", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["code"])


def _console(demo: LiveServer, window: int) -> dict[str, Any]:  # noqa: F811
    """The window's desk as its console reads it (an administrator may open any window's)."""
    import httpx

    with httpx.Client(base_url=demo.url) as http:
        r = http.post("/api/v1/auth/token", data={"username": "admin", "password": "demo-admin"})
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        desk = http.get(f"/api/v1/halls/demo/console/windows/{window}", headers=headers)
    assert desk.status_code == 200, desk.text
    return dict(desk.json())
