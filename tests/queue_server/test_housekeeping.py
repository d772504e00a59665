"""Staff alerts on long queues and appointment reminders, with the clock set by the test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
from sqlmodel import select

from queue_server.app import build_context, prepare
from queue_server.context import HallContext
from queue_server.ids import make_id_number
from queue_server.models import Event, Ticket
from queue_server.notify.models import Notification
from queue_server.services import appointments as appts
from queue_server.services import issuing
from queue_server.services import tickets as svc
from queue_server.services.auth import Principal
from queue_server.services.housekeeping import appointment_reminders, queue_alerts

from ..api.test_appointments import hall_config
from ..harness import runtime

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2030, 3, 4, 9, 0, tzinfo=SH)


@pytest.fixture
def ctx(tmp_db: str, tmp_path: Path) -> Iterator[HallContext]:
    cfg = tmp_path / "hall.toml"
    text = hall_config().replace(
        "  slot_capacity = 4\n", "  slot_capacity = 4\n  alert_length = 3\n  alert_wait_min = 20\n", 1
    )
    cfg.write_text(text, encoding="utf-8")
    c = build_context(runtime(tmp_db, tmp_path / "var", config=cfg))
    prepare(c, migrate=False)
    yield c
    c.close()


def alerts_at(ctx: HallContext, at: datetime, active: set[tuple[str, str, str]]) -> list[dict[str, object]]:
    with ctx.transaction("cal", now=at) as tx:
        queue_alerts(tx, ctx.hall("cal"), active)
        return [e.data for e in tx.events]


def test_alerts_raise_once_and_clear(ctx: HallContext) -> None:
    active: set[tuple[str, str, str]] = set()
    for i in range(3):
        with ctx.transaction("cal", now=T0 + timedelta(minutes=i)) as tx:
            issuing.issue(tx, queue="A")
    raised = alerts_at(ctx, T0 + timedelta(minutes=5), active)
    assert raised == [{"queue": "A", "kind": "length", "value": 3, "threshold": 3, "cleared": False}]
    assert alerts_at(ctx, T0 + timedelta(minutes=6), active) == []  # once, not every round
    waited = alerts_at(ctx, T0 + timedelta(minutes=21), active)
    assert [(a["kind"], a["cleared"]) for a in waited] == [("wait", False)]
    with ctx.db.read() as s:
        ids = [t.id for t in s.exec(select(Ticket)).all()]
    with ctx.transaction("cal", now=T0 + timedelta(minutes=22)) as tx:
        for tid in ids:
            assert tid is not None
            svc.act(tx, ticket_id=tid, action="cancel", actor=Principal("user", "c", "clerk", "cal"))
    cleared = alerts_at(ctx, T0 + timedelta(minutes=23), active)
    assert sorted((a["kind"], a["cleared"]) for a in cleared) == [("length", True), ("wait", True)]
    with ctx.db.read() as s:
        kinds = [orjson.loads(e.data)["kind"] for e in s.exec(select(Event).where(Event.type == "queue.alert")).all()]
    assert kinds == ["length", "wait", "length", "wait"] or sorted(kinds) == ["length", "length", "wait", "wait"]


def test_reminder_once_an_hour_before(ctx: HallContext) -> None:
    slot = T0 + timedelta(hours=2)
    with ctx.transaction("cal", now=T0 - timedelta(days=1)) as tx:
        idn = make_id_number(serial=5)
        a = appts.book(tx, queue="A", start=slot, name="赵六", id_number=idn, phone="13800138000", channel="web")
        code = a.code
    for minutes_before, expected in ((90, 0), (59, 1), (30, 0)):
        with ctx.transaction("cal", now=slot - timedelta(minutes=minutes_before)) as tx:
            assert appointment_reminders(tx, ctx.hall("cal")) == expected
    with ctx.db.read() as s:
        rows = s.exec(select(Notification).where(Notification.kind == "appointment_reminder")).all()
        assert len(rows) == 1  # once, although the code it names is masked in what staff see
        assert code not in rows[0].ticket and code not in rows[0].text and code in (rows[0].secret or "")
        assert "13800138000" not in rows[0].text
