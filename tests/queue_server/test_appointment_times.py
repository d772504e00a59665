"""Appointment check-in windows and no-shows, with the clock set by the test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from queue_server.app import build_context, prepare
from queue_server.context import HallContext
from queue_server.errors import Conflict
from queue_server.ids import make_id_number
from queue_server.services import appointments as svc
from queue_server.services.tx import hall_tx

from ..api.test_appointments import CONFIG
from ..harness import runtime

SH = ZoneInfo("Asia/Shanghai")
SLOT = datetime(2030, 3, 4, 10, 0, tzinfo=SH)  # a Monday


@pytest.fixture
def ctx(tmp_db: str, tmp_path: Path) -> Iterator[HallContext]:
    cfg = tmp_path / "hall.toml"
    cfg.write_text(CONFIG.replace("{holidays}", ""), encoding="utf-8")
    c = build_context(runtime(tmp_db, tmp_path / "var", config=cfg))
    prepare(c, migrate=False)
    yield c
    c.close()


def booked(ctx: HallContext, serial: int = 1) -> str:
    hall = ctx.hall("cal")
    with hall_tx(ctx.db, None, "cal", now=SLOT - timedelta(days=1), tz=SH) as tx:
        a = svc.book(
            tx,
            hall=hall,
            cal=ctx.calendars["cal"],
            queue="A",
            start=SLOT,
            name="王五",
            id_number=make_id_number(serial=serial),
            phone=None,
            channel="phone",
            cipher=ctx.cipher,
        )
        return a.code


def check_in_at(ctx: HallContext, code: str, at: datetime) -> svc.CheckIn:
    with hall_tx(ctx.db, None, "cal", now=at, tz=SH) as tx:
        a = svc.load(tx, tx.session, code)
        return svc.check_in(tx, hall=ctx.hall("cal"), cal=ctx.calendars["cal"], a=a, cipher=ctx.cipher)


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
    with hall_tx(ctx.db, None, "cal", now=SLOT + timedelta(minutes=44), tz=SH) as tx:
        assert svc.mark_no_shows(tx, late_min=15) == 0  # slot ends 10:30, +15 min grace
    with hall_tx(ctx.db, None, "cal", now=SLOT + timedelta(minutes=46), tz=SH) as tx:
        assert svc.mark_no_shows(tx, late_min=15) == 1
        assert svc.load(tx, tx.session, code).status == "no_show"
    with pytest.raises(Conflict):
        check_in_at(ctx, code, SLOT + timedelta(minutes=50))
