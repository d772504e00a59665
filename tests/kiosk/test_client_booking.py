"""Booking from the kiosk client against a live server with slots: no double booking when an answer is lost."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from kiosk.client import AlreadyBooked, KioskClient, Refused, Unreachable
from queue_server.ids import make_id_number
from queue_server.models import Appointment
from tests.harness import LiveServer, free_port
from tests.kiosk.test_checkin import SH, TOKEN, Flaky, http, live_ck

__all__ = ["http", "live_ck"]  # fixtures shared with the check-in tests (one server for both modules' use)


def a_slot(c: KioskClient) -> datetime:
    """A future slot of queue A with room (today or tomorrow)."""
    now = datetime.now(SH)
    for day in (now.date(), now.date() + timedelta(days=1)):
        for s in c.slots("A", day):
            start = datetime.fromisoformat(str(s["start"]))
            if start > now + timedelta(minutes=5) and int(s["booked"]) < int(s["capacity"]):
                return start
    raise AssertionError("no free slot")


def appointments(live: LiveServer) -> list[Appointment]:
    with live.ctx.db.read() as session:
        return list(session.exec(select(Appointment)).all())


def book(c: KioskClient, serial: int, **kw: object) -> dict[str, object]:
    return c.book("A", a_slot(c), name="王小明", id_number=make_id_number(serial=serial), phone="13812345678", **kw)  # type: ignore[arg-type]


def test_book_gives_a_masked_appointment_and_a_second_is_refused(http: httpx.Client, live_ck: LiveServer) -> None:
    c = KioskClient(live_ck.url, "ck", TOKEN, backoff=0.01, attempts=3)
    try:
        a = book(c, 501)
        assert a["qr"] == f"HALLAPPT:{a['code']}" and a["phone_masked"] == "138****5678"
        assert a["name_masked"] == "王*明" and "王小明" not in str(a)
        with pytest.raises(Refused) as again:
            book(c, 501)
        assert again.value.status == 409 and type(again.value) is Refused
        assert c.hall_info()["booking_queues"] == ["A"]
    finally:
        c.close()
    assert len(appointments(live_ck)) == 1


@pytest.mark.parametrize("how", ["connect", "lost-before"])
def test_a_booking_that_never_arrived_is_sent_again(http: httpx.Client, live_ck: LiveServer, how: str) -> None:
    transport, retries = Flaky(how), list[int]()
    c = KioskClient(live_ck.url, "ck", TOKEN, transport=transport, backoff=0.01)
    try:
        a = book(c, 502, on_retry=retries.append)
    finally:
        c.close()
    assert a["code"] and transport.posts == 2 and retries == [1]
    assert len(appointments(live_ck)) == 1


def test_a_lost_answer_books_once_and_says_already_booked(http: httpx.Client, live_ck: LiveServer) -> None:
    transport = Flaky("lost-after")  # the server booked, the answer never came back
    c = KioskClient(live_ck.url, "ck", TOKEN, transport=transport, backoff=0.01)
    try:
        with pytest.raises(AlreadyBooked):
            book(c, 503)
    finally:
        c.close()
    rows = appointments(live_ck)
    assert transport.posts == 2 and len(rows) == 1 and rows[0].status == "booked"


def test_no_server_is_unreachable_and_books_nothing() -> None:
    c = KioskClient(f"http://127.0.0.1:{free_port()}", "ck", TOKEN, backoff=0.01, attempts=2)
    try:
        with pytest.raises(Unreachable):
            c.book("A", datetime.now(SH), name="王小明", id_number=make_id_number(serial=504), phone=None)
    finally:
        c.close()


def test_a_lost_answer_with_the_taps_key_gives_the_booking_back(http: httpx.Client, live_ck: LiveServer) -> None:
    transport, retries = Flaky("lost-after"), list[int]()  # the server booked, the answer never came back
    c = KioskClient(live_ck.url, "ck", TOKEN, transport=transport, backoff=0.01)
    try:
        a = book(c, 505, key="tap-7d41c2", on_retry=retries.append)
    finally:
        c.close()
    rows = appointments(live_ck)
    assert transport.posts == 2 and retries == [1] and len(rows) == 1
    assert a["code"] == rows[0].code and a["qr"] == f"HALLAPPT:{rows[0].code}"  # the code to show and print
