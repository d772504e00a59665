"""The shared follower against the live server: snapshot, every event once and in order, a handler's Resync."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hall_client.follower import Follower, Resync, SubscriptionRefused
from queue_server.schemas import Envelope

from ..harness import DISPLAY, Api

WAIT_S = 10.0


async def until(cond: Any, timeout: float = WAIT_S) -> None:
    """Wait for `cond()`."""
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)


def test_events_in_order_async_handlers_and_a_requested_snapshot(api: Api) -> None:
    snapshots: list[int] = []
    events: list[dict[str, Any]] = []
    refuse_once = {"ticket.called"}

    async def on_event(msg: dict[str, Any]) -> None:
        await asyncio.sleep(0.01)  # a slow async handler: the next event waits for it
        if msg["type"] in refuse_once:
            refuse_once.clear()
            raise Resync("cannot apply a call")  # e.g. a reducer that lost track
        events.append(msg)

    async def scenario() -> None:
        f = Follower(api.server.url, "t1", token=DISPLAY, on_snapshot=lambda m: snapshots.append(m["seq"]),
                     on_event=on_event, heartbeat_timeout=5.0)  # fmt: skip
        task = asyncio.create_task(f.run())
        await until(lambda: snapshots)
        t = await asyncio.to_thread(api.take, "A")
        await until(lambda: events)
        assert (events[0]["type"], events[0]["data"]["id"]) == ("ticket.issued", t["id"])
        assert (await asyncio.to_thread(api.call_next, 1)).status_code == 200
        await until(lambda: len(snapshots) == 2)  # the handler's Resync brought a fresh snapshot
        await asyncio.to_thread(api.act, t["id"], "start")
        head = int(api.http.get("/api/v1/halls/t1/board").json()["seq"])
        await until(lambda: f.seq == head)
        f.stop()
        await asyncio.wait_for(task, WAIT_S)
        seqs = [e["seq"] for e in events]
        assert seqs == sorted(set(seqs)) and events[-1]["type"] == "ticket.serving"
        assert snapshots[1] > events[0]["seq"] and f.connections == 1
        for e in events:
            Envelope.model_validate(e)

    asyncio.run(scenario())


def test_a_wrong_token_is_refused_for_good(api: Api) -> None:
    f = Follower(api.server.ws_url, "t1", token="not-a-token-of-this-hall-0123456789")
    with pytest.raises(SubscriptionRefused, match="4401"):
        asyncio.run(asyncio.wait_for(f.run(), WAIT_S))
