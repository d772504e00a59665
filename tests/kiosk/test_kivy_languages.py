"""The kiosk in 한국어 on the demo hall (issue 22), by real touches under Xvfb: the domain tiles show the hall's
Korean names, the ticket keeps the kiosk's language (its tracking state says so), and the printed slip over a
pseudo-terminal carries its second lines as raster images of the Korean text (encoder.py says why)."""

from __future__ import annotations

from pathlib import Path

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
    script += ["wait:confirm", "confirm", "wait:ticket"]
    printer = SimulatedPrinter()
    with PtySimulator(printer) as pty:
        kiosk(demo.url, script, tmp_path, "--printer", pty.url)
        (doc,) = printer.wait_for_documents(1)
    (ticket,) = [t for t in demo_tickets(demo) if t["queue"] == "D" and t.get("lang") == "ko"]
    assert "社保医保" in doc.text_lines  # Chinese first, as text
    assert len(doc.rasters) >= 3  # the domain in Korean, the wait line, the scan hint (and the missed line)
    assert all(r.width == 576 and r.black() > 200 for r in doc.rasters)
    shot = tmp_path / "kiosk-ko-domain-names.png"
    check_png(shot, (1920, 1080))
    publish(shot)
    assert str(ticket["number"]).startswith("D")
