"""The board's websocket subscriber against live servers: live calls, resume after a drop, server restart, stale."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from display_board.state import BoardState, snapshot_view
from display_board.subscriber import Subscriber

from ..harness import DISPLAY, Api, LiveServer, free_port, runtime, serving

WAIT_S = 5.0


class Watcher:
    """Runs a `Subscriber` on the test's loop and records every state it reports."""

    def __init__(self, server: LiveServer, **kw: Any) -> None:
        self.states: list[BoardState] = []
        self.sub = Subscriber(server.ws_url, "t1", token=DISPLAY, on_state=self.states.append, **kw)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Watcher:
        self.task = asyncio.create_task(self.sub.run())
        await self.until(lambda: self.sub.state is not None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.sub.stop()
        assert self.task is not None
        await asyncio.wait_for(self.task, WAIT_S)

    async def until(self, cond: Callable[[], bool], timeout: float = WAIT_S) -> float:
        """Wait for `cond`; returns the seconds it took."""
        start = time.monotonic()
        while not cond():
            if self.task is not None and self.task.done():
                self.task.result()  # surface the subscriber's error
            assert time.monotonic() - start < timeout, "timed out"
            await asyncio.sleep(0.005)
        return time.monotonic() - start

    def at(self, seq: int) -> bool:
        """Whether the subscriber's state has reached `seq`."""
        return self.sub.state is not None and self.sub.state.seq >= seq


def board(api: Api) -> tuple[int, dict[str, Any]]:
    """The server's board state and its seq."""
    body = api.http.get("/api/v1/halls/t1/board").json()
    return int(body["seq"]), body["data"]


def test_a_call_reaches_the_subscriber_within_a_second(api: Api) -> None:
    async def scenario() -> None:
        async with Watcher(api.server, heartbeat_timeout=5.0) as w:
            t = await asyncio.to_thread(api.take, "A")
            seq, _ = await asyncio.to_thread(board, api)
            await w.until(lambda: w.at(seq))
            start = time.monotonic()
            r = await asyncio.to_thread(api.call_next, 1)
            assert r.status_code == 200
            returned = time.monotonic() - start

            def called() -> bool:
                last = w.sub.state.last_call if w.sub.state else None
                return last is not None and last["id"] == t["id"]

            took = await w.until(called, 1.0)
            assert returned + took < 1.0
            state = w.sub.state
            assert state is not None and state.last_call is not None
            assert state.last_call["window"] == 1 and state.last_call["number"] == t["number"]
            seq, data = await asyncio.to_thread(board, api)
            await w.until(lambda: w.at(seq))
            assert snapshot_view(w.sub.state) == data  # type: ignore[arg-type]
            assert not w.sub.stale

    asyncio.run(scenario())


def test_resumes_without_gaps_after_the_connection_drops(api: Api) -> None:
    async def scenario() -> None:
        async with Watcher(api.server, heartbeat_timeout=5.0) as w:
            for q in "ABC":
                await asyncio.to_thread(api.take, q)
            seq, _ = await asyncio.to_thread(board, api)
            await w.until(lambda: w.at(seq))
            for _ in range(2):
                ws = w.sub.follower.connection
                assert ws is not None
                ws.transport.abort()  # the network drops: no close handshake
                # Changes while the board is away, then while it reconnects.
                await asyncio.to_thread(api.take, "A")
                await asyncio.to_thread(api.call_next, 1)
                t = await asyncio.to_thread(api.take, "B")
                await asyncio.to_thread(api.act, t["id"], "cancel", "clerk1")
                seq, data = await asyncio.to_thread(board, api)
                await w.until(functools.partial(w.at, seq))
                assert snapshot_view(w.sub.state) == data  # type: ignore[arg-type]
                r = await asyncio.to_thread(api.call_next, 1)  # window 1 busy: 409, no event
                assert r.status_code == 409
            assert w.sub.connections == 3
            seqs = [s.seq for s in w.states]
            # One snapshot, then every event once, in order: the reconnections resumed with `since`.
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))

    asyncio.run(scenario())


def test_survives_a_server_restart_and_reports_stale(tmp_db: str, tmp_path: Path) -> None:
    rt = runtime(tmp_db, tmp_path / "var")
    port = free_port()

    async def scenario() -> None:
        with serving(rt, port=port, heartbeat_s=0.3) as first:
            w = Watcher(first, heartbeat_timeout=1.0, max_backoff=0.5)
            await w.__aenter__()
            api = Api(first)
            try:
                t = await asyncio.to_thread(api.take, "A")
                await asyncio.to_thread(api.call_next, 1)
                seq, _ = await asyncio.to_thread(board, api)
                await w.until(lambda: w.at(seq))
                await asyncio.sleep(1.5)  # quiet: the server's heartbeats keep the board fresh
                assert not w.sub.stale
            finally:
                api.close()
        try:
            await w.until(lambda: w.sub.stale, 5.0)  # the server is gone: "connection lost"
            with serving(rt, port=port, heartbeat_s=0.3) as again:
                api = Api(again)
                try:
                    await asyncio.to_thread(api.act, t["id"], "complete", "clerk1")
                    u = await asyncio.to_thread(api.take, "B")
                    await asyncio.to_thread(api.call_next, 2)
                    seq, data = await asyncio.to_thread(board, api)
                    await w.until(lambda: w.at(seq), 10.0)
                    assert snapshot_view(w.sub.state) == data  # type: ignore[arg-type]
                    state = w.sub.state
                    assert state is not None and state.last_call is not None
                    assert state.last_call["number"] == u["number"] and state.last_call["window"] == 2
                    await w.until(lambda: not w.sub.stale, 2.0)
                    assert w.sub.connections >= 2
                finally:
                    await w.__aexit__()
                    api.close()
        finally:
            if w.task is not None and not w.task.done():
                w.task.cancel()

    asyncio.run(scenario())


def test_a_gap_fetches_a_fresh_snapshot(api: Api) -> None:
    async def scenario() -> None:
        async with Watcher(api.server, heartbeat_timeout=5.0) as w:
            for q in "AB":
                await asyncio.to_thread(api.take, q)
            seq, _ = await asyncio.to_thread(board, api)
            await w.until(functools.partial(w.at, seq))
            state = w.sub.state
            assert state is not None
            w.sub.state = dataclasses.replace(state, seq=state.seq - 1)  # as if an event had been lost
            await asyncio.to_thread(api.take, "C")  # seq + 1 does not follow seq - 1: Gap
            seq, data = await asyncio.to_thread(board, api)
            await w.until(functools.partial(w.at, seq))
            assert snapshot_view(w.sub.state) == data
            assert w.sub.connections == 1  # the snapshot came on the same connection

    asyncio.run(scenario())
