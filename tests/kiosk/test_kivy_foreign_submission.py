"""Self-submission with a foreigner's document at the Kivy kiosk (issue 22), by real touches under Xvfb against a
live server on both databases: a passport's two MRZ lines from the sim:// scanner identify the applicant on the
card screen (a case with id_type passport, its number, the nationality and the English name from the zone, masked
on the review as the server masks it, which names the document 护照 / Passport), and a foreigner's permanent
residence card (2017 edition) on the simulated reader submits as foreign_permanent. Nothing of either reaches the
kiosk's own log lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from peripherals.idcard import DEMO_CARDS
from peripherals.scanner.mrz import demo_passport
from tests.harness import Api
from tests.kiosk.test_kivy_kiosk import check_png, kiosk_tools, publish  # noqa: F401 - kiosk_tools is a fixture
from tests.kiosk.test_kivy_submission import BROWSE, CAPTURE, Kiosk

pytestmark = pytest.mark.usefixtures("kiosk_tools")


def _applicant(document: str) -> list[str]:
    """BROWSE with `document` (a script step) on the card screen instead of the demo card."""
    at = BROWSE.index("card")
    return [*BROWSE[:at], document, *BROWSE[at + 1 :]]


def test_a_passport_and_a_foreigners_card_self_submit(api: Api, tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    script = [*_applicant("passport"), "sub:phone_skip", *CAPTURE, "shot:passport-review", "sub:submit"]
    script += ["wait:sub_result", "home", *_applicant("card:foreign2017"), "sub:phone_skip", *CAPTURE, "sub:submit"]
    script += ["wait:sub_result"]
    log = Kiosk(api.server.url, tmp_path / "state", shots, script, "--scanner", "sim://").wait()
    assert "kiosk passport read for self-submission" in log
    sent = [line.split()[-1] for line in log.splitlines() if "kiosk submission sent: case" in line]
    assert len(sent) == 2, log[-3000:]
    views = [api.http.get(f"/api/v1/cases/{n}", headers=api.auth("clerk1")).json() for n in sent]
    passport, card = demo_passport(), DEMO_CARDS["foreign2017"]()
    got = [(v["id_type"], v["nationality"], v["id_number_masked"]) for v in views]
    assert got[0] == ("passport", passport.nationality, "*******" + passport.id_number[-2:])
    assert got[1][0] == "foreign_permanent" and got[1][2] == card.id_number[:4] + "*******" + card.id_number[-4:]
    assert all(v["applicant_masked"] == "K** M****" for v in views), views  # the English names, masked
    told = "".join(line for line in log.splitlines(keepends=True) if "script step" not in line)
    for secret in (passport.id_number, card.id_number, "KIM", "MINSU"):
        assert secret not in told
    shot = shots / "kiosk-passport-review.png"
    check_png(shot, (1920, 1080))
    publish(shot)
