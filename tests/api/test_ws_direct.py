"""Live hall events written straight to a caught-up board's socket (api/routes/ws.py `Wire`): the same frames,
in the same order, as the ASGI path; anything the socket cannot take now goes through the mailbox, in order."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest
from websockets.sync.client import ClientConnection, connect

from queue_server.api.routes.ws import Stream
from queue_server.events import Subscriber

from ..harness import Api, LiveServer, events_url

WAIT_S = 3.0


def _open(server: LiveServer, compression: str | None) -> ClientConnection:
    return connect(events_url(server), open_timeout=5, max_size=None, compression=compression)


def _next(ws: ClientConnection) -> dict[str, Any]:
    """The next message that is not a heartbeat."""
    deadline = time.monotonic() + WAIT_S
    while True:
        raw = ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        assert isinstance(raw, str), raw
        msg: dict[str, Any] = orjson.loads(raw)
        if msg["type"] != "heartbeat":
            return msg


def _parked(server: LiveServer, n: int) -> list[Subscriber]:
    """The hall's `n` mailboxes once every stream is caught up and parked (its `direct` set)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        subs = server.ctx.hub.subscribers("t1")
        if len(subs) == n and all(s.direct is not None for s in subs):
            return subs
        time.sleep(0.01)
    raise AssertionError("the streams did not park")


@pytest.mark.parametrize("compression", [None, "deflate"])
def test_live_events_go_straight_to_the_socket_in_order(api: Api, compression: str | None) -> None:
    with _open(api.server, compression) as ws, _open(api.server, "deflate") as other:
        snap = _next(ws)
        assert _next(other)["seq"] == snap["seq"]
        subs = _parked(api.server, 2)
        for q in "ABAB":
            api.take(q)
        assert api.call_next(1).status_code == 200
        got = [_next(ws) for _ in range(5)]
        seen = [_next(other) for _ in range(5)]
    assert [m["seq"] for m in got] == list(range(snap["seq"] + 1, snap["seq"] + 6))
    assert [m["type"] for m in got] == ["ticket.issued"] * 4 + ["ticket.called"]
    assert got == seen  # the prebuilt frame (no compression) says what the connection's own framing says
    assert [s.sent_direct for s in subs] == [5, 5]  # and none of them went through the mailbox


def test_a_paused_socket_gets_its_events_through_the_mailbox_in_order(api: Api) -> None:
    server = api.server
    with _open(server, None) as ws:
        snap = _next(ws)
        (sub,) = _parked(server, 1)
        assert sub.direct is not None
        stream = sub.direct.__self__  # type: ignore[attr-defined]
        assert isinstance(stream, Stream) and stream.wire is not None
        proto = stream.wire.proto
        server.loop().call_soon_threadsafe(proto.writable.clear)  # as uvicorn does when the buffer is full
        api.take("A")  # refused by the paused socket: queued, and the task waits for the socket to drain
        api.take("B")
        time.sleep(0.3)
        assert len(sub.items) == 1 and sub.direct is None  # the first waits in the task's send, the second here
        server.loop().call_soon_threadsafe(proto.writable.set)
        got = [_next(ws), _next(ws)]
        _parked(server, 1)  # caught up again: back to direct writes
        api.take("C")
        got.append(_next(ws))
    assert [m["seq"] for m in got] == [snap["seq"] + 1, snap["seq"] + 2, snap["seq"] + 3]
    assert sub.sent_direct == 1


def test_a_snapshot_asked_for_while_parked_comes_before_later_events(api: Api) -> None:
    with _open(api.server, None) as ws:
        _next(ws)
        _parked(api.server, 1)
        api.take("A")
        assert _next(ws)["seq"] == 1
        ws.send(orjson.dumps({"type": "snapshot"}).decode())
        snap = _next(ws)
        api.take("B")
        after = _next(ws)
    assert snap["type"] == "snapshot" and snap["seq"] == 1
    assert after["seq"] == 2 and after["type"] == "ticket.issued"


def test_an_event_after_a_gap_is_sent_after_the_missing_ones_are_read(api: Api) -> None:
    """A mailbox handed an event past the stream's next seq (a gap the hub would not normally leave) does
    not write it: the task reads the missing ones from the table first."""
    server = api.server
    with _open(server, None) as ws:
        _next(ws)
        (sub,) = _parked(server, 1)
        stream = sub.direct.__self__  # type: ignore[union-attr]
        api.take("A")
        api.take("B")
        assert [_next(ws)["seq"], _next(ws)["seq"]] == [1, 2]
        _parked(server, 1)

        async def rewind() -> None:
            stream.last = 0  # as if events 1 and 2 had not been sent: event 3 comes after a gap

        asyncio.run_coroutine_threadsafe(rewind(), server.loop()).result(2)
        api.take("C")
        got = [_next(ws) for _ in range(3)]
    assert [m["seq"] for m in got] == [1, 2, 3]
