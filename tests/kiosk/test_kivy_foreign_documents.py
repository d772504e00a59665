"""Foreign documents at the Kivy kiosk (issue 22), by real touches under Xvfb against a live demo hall.

A foreigner's permanent residence card (2023 edition) on the simulated SAM reader starts take-a-number on the
home screen and goes with the ticket (masked, as a resident's card does); a passport's two MRZ lines from the
sim:// scanner start take-a-number too, the confirm screen says 已读取证件：护照, and the ticket is an ordinary one:
the passport number is never sent (the server validates only resident, permit and permanent residence numbers),
and neither it nor the holder's name reaches the log. In a closed hall the same card books a slot under the
card's English name, masked on the confirm screen exactly as the server stores it (K** M****).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from kiosk.devices import holder_name
from peripherals.idcard import DEMO_CARDS, demo_card
from peripherals.scanner.mrz import demo_passport
from queue_server.models import Appointment
from tests.harness import LiveServer
from tests.kiosk.test_kivy_booking import live_cl, run  # noqa: F401 - live_cl is a fixture
from tests.kiosk.test_kivy_demo_hall import demo, demo_tickets, kiosk  # noqa: F401 - demo is a fixture
from tests.kiosk.test_kivy_kiosk import check_png, kiosk_tools, publish  # noqa: F401 - kiosk_tools is a fixture

pytestmark = pytest.mark.usefixtures("kiosk_tools")


def test_a_foreigners_card_and_a_passport_each_take_a_number(demo: LiveServer, tmp_path: Path) -> None:  # noqa: F811
    before = {t["id"] for t in demo_tickets(demo)}
    script = ["wait:home", "card:foreign2023", "wait:card", "domain:B", "wait:confirm", "confirm", "wait:ticket"]
    script += ["home", "wait:home", "passport", "wait:passport", "domain:C", "wait:confirm"]
    script += ["shot:passport-confirm", "confirm", "wait:ticket", "home", "wait:home"]
    log = kiosk(demo.url, script, tmp_path, "--printer", "sim://", "--id-reader", "sim://", "--scanner", "sim://")
    assert "kiosk ID card read for take-a-number" in log
    assert "kiosk passport read for take-a-number" in log
    new = sorted((t for t in demo_tickets(demo) if t["id"] not in before), key=lambda t: str(t["id"]))
    by_queue = {t["queue"]: t for t in new}
    assert sorted(by_queue) == ["B", "C"], new
    card = DEMO_CARDS["foreign2023"]()
    masked = str(by_queue["B"]["id_number_masked"])
    assert masked and masked != card.id_number and masked[:2] == card.id_number[:2]  # the card went, masked
    assert not by_queue["C"]["id_number_masked"] and by_queue["C"]["lane"] == "normal"  # the passport did not
    passport = demo_passport()
    for secret in (passport.id_number, "KIM", card.id_number, card.name_en.split()[0]):
        assert secret not in log
    shot = tmp_path / "kiosk-passport-confirm.png"
    check_png(shot, (1920, 1080))
    publish(shot)


def test_the_kiosk_shows_a_foreigners_english_name() -> None:
    foreigner = DEMO_CARDS["foreign2023"]()
    assert holder_name(foreigner) == foreigner.name_en != foreigner.name
    assert holder_name(DEMO_CARDS["permit"]()) == DEMO_CARDS["permit"]().name  # a permit holder's Chinese name
    assert holder_name(demo_card()) == demo_card().name


def test_a_foreigner_books_with_their_card_under_their_english_name(live_cl: LiveServer, tmp_path: Path) -> None:  # noqa: F811
    live_cl.reset()
    script = ["wait:closed", "book", "wait:book_domain", "bookdomain:A", "wait:book_day", "day:0", "wait:book_slot"]
    script += ["slot:0", "wait:book_card", "card:foreign2023", "wait:phone", "phone:13812345678", "phoneok"]
    script += ["wait:book_confirm"]
    script += ["shot:foreign-book-confirm", "bookconfirm", "wait:booked"]
    log = run(live_cl, tmp_path, ",".join(script), "--printer", "sim://", "--id-reader", "sim://")
    with live_cl.ctx.db.read() as session:
        rows = session.exec(select(Appointment)).all()
    assert len(rows) == 1, log[-3000:]
    assert rows[0].name_masked == "K** M****"  # KIM MINSU (the English name), masked as on the kiosk's screen
    assert "KIM" not in log and "MINSU" not in log
    shot = tmp_path / "kiosk-foreign-book-confirm.png"
    check_png(shot, (1920, 1080))
    publish(shot)


def test_a_passport_holder_books_with_the_passport_from_the_scanner(live_cl: LiveServer, tmp_path: Path) -> None:  # noqa: F811
    live_cl.reset()
    script = ["wait:closed", "sleep:0.5", "book", "wait:book_domain", "bookdomain:A", "wait:book_day", "day:0"]
    script += ["wait:book_slot", "slot:0", "wait:book_card", "passport", "wait:phone", "phone:13812345678", "phoneok"]
    script += ["wait:book_confirm", "bookconfirm", "wait:booked"]
    extra = ("--printer", "sim://", "--id-reader", "sim://", "--scanner", "sim://")  # booking needs the card reader
    log = run(live_cl, tmp_path, ",".join(script), *extra)
    assert "kiosk passport read for booking" in log, log[-3000:]
    with live_cl.ctx.db.read() as session:
        rows = session.exec(select(Appointment)).all()
    assert len(rows) == 1, log[-3000:]
    passport = demo_passport()
    assert (rows[0].id_type, rows[0].nationality, rows[0].name_masked) == ("passport", "KOR", "K** M****")
    assert rows[0].id_masked == "*******78"
    assert passport.id_number not in log and "KIM" not in log
