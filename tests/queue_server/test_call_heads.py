"""call-next looks only at the head of each queue and class: that must pick what a full look would."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from queue_server import policy
from queue_server.context import HallContext
from queue_server.models import Ticket
from queue_server.services import tickets as svc
from queue_server.services.tx import hall_tx

NOW = datetime(2030, 3, 4, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("seed", range(6))
def test_heads_choose_like_all_waiting(ctx: HallContext, seed: int) -> None:
    rnd = random.Random(seed)
    tz = ctx.zones["t1"]
    with hall_tx(ctx.db, None, "t1", now=NOW, tz=tz) as tx:
        for i in range(60):
            tx.now = NOW - timedelta(minutes=rnd.randrange(0, 30), seconds=i)
            lane = rnd.choice(["normal"] * 4 + ["military", "special", "vip", "appointment"])
            slot = NOW + timedelta(minutes=rnd.choice([-20, -5, 10])) if lane == "appointment" else None
            out = svc.issue(tx, tz=tz, queue=rnd.choice("ABC"), lane=lane, slot_start=slot, cipher=ctx.cipher)
            if rnd.random() < 0.1:
                t = tx.session.get(Ticket, out.ticket.id)
                assert t is not None
                t.target_window = rnd.choice([1, 2, 5])
        tx.session.flush()
        tx.now = NOW
        for number, queues, strict in (
            (1, "A,B", False),
            (2, "B,A", False),
            (3, "C", False),
            (4, "A,B,C", True),
            (5, "A", False),
        ):
            for streak in (0, 3):
                view = policy.WindowView(number, tuple(queues.split(",")), strict, streak)
                full = policy.choose(view, svc._all_waiting(tx, view), NOW, policy.Rules(3))
                heads = policy.choose(view, svc._heads(tx, view), NOW, policy.Rules(3))
                assert (heads.id if heads else None) == (full.id if full else None), (number, streak)
