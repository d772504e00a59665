"""Appointment check-in windows and no-shows, with the clock set by the test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from queue_server.app import build_context, prepare
from queue_server.context import HallContext
from queue_server.errors import Conflict, NotFound
from queue_server.ids import make_id_number
from queue_server.models import Appointment
from queue_server.services import appointments as svc

from ..api.test_appointments import hall_config
from ..harness import runtime

SH = ZoneInfo("Asia/Shanghai")
SLOT = datetime(2030, 3, 4, 10, 0, tzinfo=SH)  # a Monday


@pytest.fixture
def ctx(tmp_db: str, tmp_path: Path) -> Iterator[HallContext]:
    cfg = tmp_path / "hall.toml"
    cfg.write_text(hall_config(), encoding="utf-8")
    c = build_context(runtime(tmp_db, tmp_path / "var", config=cfg))
    prepare(c, migrate=False)
    yield c
    c.close()


def booked(ctx: HallContext, serial: int = 1, start: datetime = SLOT) -> str:
    with ctx.transaction("cal", now=start - timedelta(days=1)) as tx:
        idn = make_id_number(serial=serial)
        a = svc.book(tx, queue="A", start=start, name="王五", id_number=idn, phone=None, channel="phone")
        return a.code


def check_in_at(ctx: HallContext, code: str, at: datetime) -> svc.CheckIn:
    with ctx.transaction("cal", now=at) as tx:
        a = svc.load(tx, tx.session, code)
        return svc.check_in(tx, a=a)


def test_early_window_edges(ctx: HallContext) -> None:
    code = booked(ctx)
    with pytest.raises(Conflict, match="Too early"):
        check_in_at(ctx, code, SLOT - timedelta(minutes=31))
    c = check_in_at(ctx, code, SLOT - timedelta(minutes=30))
    assert c.ticket.ticket.lane == "appointment"
    assert c.note == ""
    assert c.ticket.ticket.slot_start == SLOT


def test_late_becomes_an_ordinary_ticket_with_the_reason(ctx: HallContext) -> None:
    on_time, late = booked(ctx, 1), booked(ctx, 2)
    assert check_in_at(ctx, on_time, SLOT + timedelta(minutes=15)).ticket.ticket.lane == "appointment"
    c = check_in_at(ctx, late, SLOT + timedelta(minutes=16))
    assert c.ticket.ticket.lane == "normal"
    assert "late" in c.note and "迟到" in c.note


def test_missed_slot_becomes_no_show(ctx: HallContext) -> None:
    code = booked(ctx)
    with ctx.transaction("cal", now=SLOT + timedelta(minutes=44)) as tx:
        assert svc.mark_no_shows(tx, late_min=15) == 0  # slot ends 10:30, +15 min grace
    with ctx.transaction("cal", now=SLOT + timedelta(minutes=46)) as tx:
        assert svc.mark_no_shows(tx, late_min=15) == 1
        assert svc.load(tx, tx.session, code).status == "no_show"
    with pytest.raises(Conflict):
        check_in_at(ctx, code, SLOT + timedelta(minutes=50))


def by_id_at(ctx: HallContext, serial: int, at: datetime) -> Appointment:
    with ctx.transaction("cal", now=at) as tx:
        return svc.find_for_person(tx, id_hash=ctx.cipher.keyed_hash(make_id_number(serial=serial)))


def test_by_id_card_finds_the_midnight_slot_once_its_window_opens(ctx: HallContext) -> None:
    """The 24-hour hall: a 00:00 appointment can be checked in with the ID card from 23:30 the day before."""
    midnight = datetime(2030, 3, 5, 0, 0, tzinfo=SH)
    code = booked(ctx, 3, start=midnight)
    with pytest.raises(NotFound, match="No appointment"):
        by_id_at(ctx, 3, midnight - timedelta(minutes=31))
    assert by_id_at(ctx, 3, midnight - timedelta(minutes=30)).code == code
    assert by_id_at(ctx, 3, midnight + timedelta(minutes=10)).code == code  # and after midnight, today's


def test_by_id_card_takes_todays_earliest_before_a_later_day(ctx: HallContext) -> None:
    today, tomorrow = booked(ctx, 4), booked(ctx, 4, start=SLOT + timedelta(days=1))
    assert by_id_at(ctx, 4, SLOT - timedelta(hours=2)).code == today
    with pytest.raises(NotFound):
        by_id_at(ctx, 5, SLOT)
    assert tomorrow != today
