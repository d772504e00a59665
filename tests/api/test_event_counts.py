"""Every ticket event's waiting counts equal the database's, through any mix of changes.

The server keeps each hall's waiting counts in a memo updated by the changes that move tickets in or
out of waiting (services/tickets.py), instead of counting on every event; this walks a seeded random
day of issues, calls, completions, 办结并叫下一位, cancels, no-shows, rejoins, transfers, holds and
recalls, and after each change compares the counts its event carried with a count in the database.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import orjson
import pytest
from sqlmodel import col, select

from queue_server.models import Event, Ticket

from ..harness import KIOSK, Api

WINDOWS = (1, 2, 3, 4, 5)


def _db_waiting(api: Api) -> Counter[str]:
    with api.server.ctx.db.read() as s:
        rows = s.exec(select(Ticket.queue).where(col(Ticket.hall_code) == "t1", col(Ticket.status) == "waiting"))
        return Counter(rows.all())


def _events_after(api: Api, seq: int) -> list[tuple[int, str, dict[str, Any]]]:
    with api.server.ctx.db.read() as s:
        rows = s.exec(
            select(Event).where(col(Event.hall_code) == "t1", col(Event.seq) > seq).order_by(col(Event.seq))
        ).all()
    return [(e.seq, e.type, orjson.loads(e.data)) for e in rows]


def _tickets(api: Api, *statuses: str) -> list[Ticket]:
    with api.server.ctx.db.read() as s:
        return list(s.exec(select(Ticket).where(col(Ticket.hall_code) == "t1", col(Ticket.status).in_(statuses))).all())


@pytest.mark.parametrize("seed", [1, 2])
def test_event_waiting_counts_match_the_database(api: Api, seed: int) -> None:
    rng = random.Random(seed)
    seen = 0
    checked = 0
    for step in range(140):
        kind = rng.choice(
            ["take"] * 4
            + ["call"] * 3
            + ["complete", "f9", "f9", "cancel", "no-show", "rejoin", "transfer"]
            + ["hold", "resume", "recall", "start"]
        )
        at_window = _tickets(api, "called", "serving")
        if kind == "take":
            api.take(rng.choice("ABC"))
        elif kind == "call":
            api.call_next(rng.choice(WINDOWS), who="admin")
        elif kind in ("complete", "f9", "hold", "recall", "start", "no-show") and at_window:
            t = rng.choice(at_window)
            if kind == "f9":
                api.http.post(
                    f"/api/v1/halls/t1/windows/{t.window}/complete-and-call-next",
                    json={"ticket_id": t.id},
                    headers=api.auth("admin"),
                )
            else:
                api.act(t.id or 0, kind, who="admin")
        elif kind == "cancel" and (waiting := _tickets(api, "waiting")):
            api.act(rng.choice(waiting).id or 0, "cancel", who=KIOSK)
        elif kind == "rejoin" and (missed := _tickets(api, "no_show")):
            api.act(rng.choice(missed).id or 0, "rejoin", who="admin")
        elif kind == "resume" and (held := _tickets(api, "held")):
            t = rng.choice(held)
            if not _tickets(api, "called", "serving") or all(x.window != t.window for x in at_window):
                api.act(t.id or 0, "resume", who="admin")
        elif kind == "transfer" and (movable := _tickets(api, "waiting", "called", "serving", "held")):
            t = rng.choice(movable)
            body = {"queue": rng.choice("ABC")} if rng.random() < 0.6 else {"window": rng.choice(WINDOWS)}
            api.http.post(f"/api/v1/tickets/{t.id}/transfer", json=body, headers=api.auth("admin"))
        events = _events_after(api, seen)
        if not events:
            continue
        seen = events[-1][0]
        truth = _db_waiting(api)
        _, last_type, data = events[-1]
        for q in data.get("queues", []):  # the last event's counts are as of now
            assert q["waiting"] == truth[q["code"]], (step, kind, last_type, q, dict(truth))
            checked += 1
    assert checked > 80
