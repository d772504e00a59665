"""The kiosk's 24-hour mode, booking and mobile-number keypad as pure flow steps: no window, no server."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from kiosk.booking import Booking, mask_name, mask_phone, opening_text, valid_phone
from kiosk.checkin import CheckIn
from kiosk.flow import Flow

SH = ZoneInfo("Asia/Shanghai")
QUEUES = [
    {"code": "A", "name": "市场准入", "name_en": "Market access", "waiting": 3, "estimated_wait_s": 600},
    {"code": "B", "name": "投资建设", "name_en": "Investment", "waiting": 0, "estimated_wait_s": 0},
]
CLOSED = {"code": "h", "open_now": False, "next_open": "2026-11-30T08:30:00+08:00", "booking_queues": ["A"]}
OPEN = {"code": "h", "open_now": True, "next_open": None, "booking_queues": ["A"]}
NOW_AT = datetime(2026, 11, 27, 19, 0, tzinfo=SH)
CARD = ("李小明", "110101199001011237")


def slot(day: str, hhmm: str, booked: int = 0) -> dict[str, object]:
    h, m = map(int, hhmm.split(":"))
    start = datetime.fromisoformat(f"{day}T{h:02d}:{m:02d}:00+08:00")
    end = start.replace(minute=m + 30) if m < 30 else start.replace(hour=h + 1, minute=m - 30)
    return {"start": start.isoformat(), "end": end.isoformat(), "capacity": 2, "booked": booked}


SLOTS = [
    slot("2026-11-27", "16:30"),  # already past
    slot("2026-11-30", "08:30", booked=2),  # full
    slot("2026-11-30", "09:00"),
    slot("2026-11-30", "09:30"),
    slot("2026-12-01", "08:30"),
]


def flow(hall: dict[str, object] = CLOSED) -> Flow:
    keys = (f"key-{i}" for i in itertools.count(1))
    f = Flow(new_key=lambda: next(keys))
    f.set_domains(QUEUES)
    f.set_hall(hall)
    return f


def to_book_confirm(f: Flow, phone: str = "13812345678") -> None:
    b = Booking(f)
    b.book(0)
    assert b.book_choose_domain("A", 0)
    b.set_slots("A", SLOTS, NOW_AT)
    b.book_choose_day(date(2026, 11, 30), 0)
    b.book_choose_slot(datetime.fromisoformat("2026-11-30T09:00:00+08:00"), 0)
    b.book_card_read(*CARD, 0)
    for d in phone:
        f.phone_key(d, 0)
    assert f.phone_ok(0)


def test_phone_numbers_and_masks() -> None:
    assert valid_phone("13812345678") and valid_phone("19912345678")
    assert not valid_phone("12812345678") and not valid_phone("1381234567") and not valid_phone("138123456789")
    assert mask_phone("13812345678") == "138****5678"
    assert [mask_name(n) for n in ("李小明", "李四", "李", "欧阳小明", "阿依·买买提")] == [
        "李*明",
        "李*",
        "*",
        "欧**明",
        "阿*·**提",
    ]


def test_closed_hall_offers_only_booking_and_names_the_next_opening() -> None:
    f = flow()
    b = Booking(f)
    assert not f.open_now and f.opening() == "下次开放时间：2026-11-30 08:30"
    f.toggle_lang(0)
    assert f.opening() == "It opens again on 2026-11-30 at 08:30"
    f.take_number(0)
    CheckIn(f).check_in(0)
    assert f.screen == "home"  # neither needs staff: not offered while closed
    b.book(0)
    assert f.screen == "book_domain" and [d.code for d in b.book_domains] == ["A"]
    assert opening_text(None, "zh") == "大厅暂停服务，请关注通知"


def test_the_kiosk_switches_mode_when_the_hall_opens_and_closes() -> None:
    f = flow()
    assert f.set_hall(OPEN) and f.open_now
    f.take_number(0)
    assert f.screen == "domain"
    assert f.set_hall(CLOSED) and not f.open_now
    assert not f.set_hall(CLOSED)  # no change
    assert f.screen == "domain"  # a citizen mid-way is not thrown out; the server refuses with the opening


def test_a_hall_without_booking_queues_offers_no_booking() -> None:
    f = flow({"code": "h", "open_now": False, "next_open": None, "booking_queues": []})
    b = Booking(f)
    b.book(0)
    assert f.screen == "home" and not f.can_book


def test_a_kiosk_without_id_reader_offers_no_booking() -> None:
    f = Flow(id_reader=False)
    b = Booking(f)
    f.set_domains(QUEUES)
    f.set_hall(CLOSED)
    b.book(0)
    assert f.screen == "home" and not f.can_book


def test_booking_path_gives_one_request_and_forgets_the_card() -> None:
    f = flow()
    b = Booking(f)
    b.book(0)
    b.book_choose_domain("A", 0)
    assert f.screen == "book_day" and not f.slots_loaded
    b.set_slots("B", SLOTS, NOW_AT)  # an answer for another domain is dropped
    assert not f.slots_loaded
    b.set_slots("A", SLOTS, NOW_AT)
    assert b.book_days == [date(2026, 11, 30), date(2026, 12, 1)]  # the past and the full slot are gone
    b.book_choose_day(date(2026, 11, 30), 0)
    assert [s.label for s in b.day_slots] == ["09:00–09:30", "09:30–10:00"]
    b.book_choose_slot(datetime.fromisoformat("2026-11-30T09:00:00+08:00"), 0)
    assert f.screen == "book_card"
    f.card_failed(0)
    assert f.card_error and f.screen == "book_card"
    b.book_card_read(*CARD, 0)
    assert f.screen == "phone" and f.phone_for == "booking"
    f.phone_skip(0)
    assert f.screen == "phone"  # a booking needs the number
    for d in "13812345678":
        f.phone_key(d, 0)
    assert f.phone_shown == "138 **** 5678"  # grouped as read aloud, masked once complete
    assert f.phone_ok(0) and f.screen == "book_confirm"
    assert "李*明" in b.book_summary and "138****5678" in b.book_summary and "李小明" not in b.book_summary
    req = b.book_confirm(0)
    assert req is not None and req.queue == "A" and req.name == "李小明" and req.phone == "13812345678"
    assert b.book_confirm(0) is None  # a double tap
    assert f.screen == "booking" and f.timeout_s() is None
    f.home(0)
    assert f.screen == "booking"  # the answer is on its way
    appt = {"code": "ABCD2345", "qr": "HALLAPPT:ABCD2345", "queue": "A", "start": "2026-11-30T09:00:00+08:00"}
    assert not b.book_done("other", appt, 1)
    assert b.book_done(req.key, appt, 1)
    assert f.screen == "booked" and f.card_number == "" and f.card_name == "" and f.phone == ""
    assert f.tick(1 + f.ticket_s) and f.screen == "home" and f.booked is None


def test_booking_refused_and_unreachable_say_so() -> None:
    f = flow()
    b = Booking(f)
    to_book_confirm(f)
    req = b.book_confirm(0)
    assert req is not None
    b.book_refused(req.key, "该时段已约满 / That slot is full", 1)
    assert f.screen == "error" and "full" in f.message and f.card_number == ""
    f = flow()
    b = Booking(f)
    to_book_confirm(f)
    req = b.book_confirm(0)
    assert req is not None
    f.retrying(req.key)
    assert f.message == f.text("unreachable")  # the citizen sees that the kiosk retries
    b.book_unreachable(req.key, 2)
    assert f.screen == "error" and f.message == f.text("book_gave_up")


def test_back_walks_the_booking_steps_and_forgets_the_card() -> None:
    f = flow()
    to_book_confirm(f)
    f.back(0)
    assert f.screen == "book_card" and f.card_number == "" and f.phone == ""
    f.back(0)
    assert f.screen == "book_slot"
    f.back(0)
    f.back(0)
    assert f.screen == "book_domain"
    f.back(0)
    assert f.screen == "home"


def test_phone_keypad_on_take_a_number_is_optional_and_validated() -> None:
    f = flow(OPEN)
    f.take_number(0)
    f.choose_domain("A", 0)
    f.ask_phone(0)
    assert f.screen == "phone" and f.phone_for == "ticket"
    for d in "1281234567":
        f.phone_key(d, 0)
    assert not f.phone_ok(0) and f.message == f.text("phone_invalid") and f.screen == "phone"
    f.phone_backspace(0)
    assert f.message == ""
    f.phone_key("x", 0)
    assert f.phone_typed == "128123456"
    f.back(0)
    assert f.screen == "confirm" and f.phone == ""
    f.ask_phone(0)
    for d in "139123456789":  # a twelfth digit is ignored
        f.phone_key(d, 0)
    assert f.phone_typed == "13912345678" and f.phone_ok(0) and f.screen == "confirm"
    req = f.confirm(0)
    assert req is not None and req.phone == "13912345678"
    ticket = {"number": "A001", "queue": "A", "phone_masked": "139****5678", "track_token": "t"}
    assert f.issued(req.key, ticket, 1) and f.phone == "" and f.ticket is not None
    assert f.ticket.phone_masked == "139****5678"


def test_phone_skip_leaves_no_number() -> None:
    f = flow(OPEN)
    f.take_number(0)
    f.choose_domain("A", 0)
    f.ask_phone(0)
    f.phone_key("1", 0)
    f.phone_skip(0)
    assert f.screen == "confirm" and f.phone == ""
    req = f.confirm(0)
    assert req is not None and req.phone is None


def test_idle_timeout_forgets_a_half_typed_phone_and_booking() -> None:
    f = flow()
    b = Booking(f)
    b.book(0)
    b.book_choose_domain("A", 0)
    b.set_slots("A", SLOTS, NOW_AT)
    b.book_choose_day(date(2026, 11, 30), 0)
    b.book_choose_slot(datetime.fromisoformat("2026-11-30T09:00:00+08:00"), 0)
    b.book_card_read(*CARD, 0)
    f.phone_key("1", 0)
    assert f.tick(f.idle_s + 1)
    assert f.screen == "home" and f.card_number == "" and f.phone_typed == "" and f.book_slot is None
    assert not f.open_now  # the hall's hours are not the citizen's: they stay


def test_a_phone_number_is_grouped_as_it_is_typed() -> None:
    from kiosk.booking import typed_phone

    shown = [typed_phone("13812345678"[:n]) for n in (2, 3, 5, 7, 9)]
    assert shown == ["13", "138", "138 12", "138 1234", "138 1234 56"]
    assert typed_phone("13812345678") == "138 **** 5678"  # complete: masked, still grouped
