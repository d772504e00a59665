"""Who is told "N people ahead of you" after a call: the N+1-th in the policy's order, whatever the lanes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import col, select

from queue_server.context import HallContext
from queue_server.notify.models import Notification
from queue_server.services import issuing
from queue_server.services import tickets as svc
from queue_server.services.auth import Principal
from queue_server.services.tx import HallTx

CLERK = Principal("user", "clerk1", "clerk", "t1")


def _told_ahead(ctx: HallContext) -> list[str]:
    with ctx.db.read() as s:
        rows = s.execute(select(Notification.ticket).where(col(Notification.kind) == "ahead")).scalars()
        return list(rows)


@pytest.mark.parametrize(
    ("lanes", "told"),
    [
        # after the first priority ticket is called: P2, then the appointment whose slot has begun, then N1, N2…
        (["normal", "normal", "military", "appointment", "normal", "normal", "special"], "A002"),
        # ordinary only: the fourth by arrival once the first is called
        (["normal"] * 6, "A005"),
        # more priority tickets than N: the fourth priority one, ordinary ones not reached
        (["normal", "special", "military", "special", "military", "special"], "A006"),
    ],
)
def test_the_ticket_with_exactly_n_ahead_is_told(ctx: HallContext, lanes: list[str], told: str) -> None:
    assert ctx.hall("t1").notify_ahead == 3

    def take(lane: str, i: int):  # type: ignore[no-untyped-def]
        def fn(tx: HallTx) -> str:
            slot = tx.now - timedelta(minutes=10) if lane == "appointment" else None
            phone = f"1391234{i:04d}"
            if slot is None:
                out = issuing.issue(tx, queue="A", lane=lane, phone=phone)
            else:
                personal = {"phone_enc": ctx.cipher.encrypt(phone, context="phone")}
                out = issuing.issue_checked_in(tx, queue="A", lane=lane, slot_start=slot, personal=personal)
            return out.ticket.number

        return fn

    async def day() -> str | None:
        for i, lane in enumerate(lanes):
            await ctx.change("t1", take(lane, i))
        called = await ctx.change("t1", lambda tx: svc.call_next(tx, number=5, actor=CLERK))
        return called.ticket.number if called is not None else None

    first = asyncio.run(day())
    assert first is not None
    assert _told_ahead(ctx) == [told]
