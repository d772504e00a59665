"""The hall event stream over real websockets: snapshot, live events, replay and resume, auth, privacy."""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select
from sqlmodel import col
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect
from websockets.uri import parse_uri

from queue_server.ids import make_id_number
from queue_server.models import Event

from ..conftest import require_backend
from ..harness import (
    DISPLAY,
    KIOSK,
    KIOSK_T2,
    PASSWORDS,
    Api,
    LiveServer,
    events_url,
    free_port,
    fresh_database,
    runtime,
    serving,
)

MESSAGE_KEYS = {"seq", "type", "at", "hall", "data"}
WAIT_S = 3.0  # the longest wait for a message that must come
HALL_OFFSET = timedelta(hours=8)  # t1 is in Asia/Shanghai


# --- helpers -----------------------------------------------------------------------------------------


def _open(server: LiveServer, **kw: Any) -> ClientConnection:
    """A websocket client of a hall's event stream (use as a context manager)."""
    headers = kw.pop("headers", None)
    return connect(events_url(server, **kw), open_timeout=5, max_size=None, additional_headers=headers)


def _recv(ws: ClientConnection, timeout: float = WAIT_S) -> dict[str, Any]:
    raw = ws.recv(timeout=timeout)
    assert isinstance(raw, str), raw
    msg: dict[str, Any] = orjson.loads(raw)
    return msg


def _next(ws: ClientConnection, timeout: float = WAIT_S, skip: tuple[str, ...] = ("heartbeat",)) -> dict[str, Any]:
    """The next message whose type is not in `skip`."""
    deadline = time.monotonic() + timeout
    while True:
        msg = _recv(ws, max(deadline - time.monotonic(), 0.01))
        if msg["type"] not in skip:
            return msg


def _read_through(ws: ClientConnection, seq: int, timeout: float = WAIT_S) -> list[dict[str, Any]]:
    """Every non-heartbeat message up to and including the one with `seq`."""
    deadline = time.monotonic() + timeout
    out = [_next(ws, deadline - time.monotonic())]
    while out[-1]["seq"] < seq:
        out.append(_next(ws, deadline - time.monotonic()))
    return out


def _raw_through(ws: ClientConnection, seq: int) -> list[str]:
    """The raw text of every message up to and including the first with `seq` (for leak checks)."""
    out: list[str] = []
    deadline = time.monotonic() + WAIT_S
    while not out or orjson.loads(out[-1])["seq"] < seq:
        raw = ws.recv(timeout=max(deadline - time.monotonic(), 0.01))
        assert isinstance(raw, str)
        out.append(raw)
    return out


def _seqs(msgs: list[dict[str, Any]]) -> list[int]:
    return [m["seq"] for m in msgs]


def _essence(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What an event says, without its wire timestamp."""
    return [{"seq": m["seq"], "type": m["type"], "data": m["data"]} for m in msgs]


def _stored(server: LiveServer, after: int = 0, hall: str = "t1") -> list[dict[str, Any]]:
    """The hall's events in the event table (the source of truth), after a seq."""
    stmt = select(Event).where(col(Event.hall_code) == hall, col(Event.seq) > after).order_by(col(Event.seq))
    with server.ctx.db.read() as s:
        rows = s.execute(stmt).scalars().all()
    return [{"seq": r.seq, "type": r.type, "data": orjson.loads(r.data)} for r in rows]


def _same_events(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    """Equal events: same seq, type, hall and data, and `at` the same instant."""
    return _essence(a) == _essence(b) and [(m["hall"], datetime.fromisoformat(m["at"])) for m in a] == [
        (m["hall"], datetime.fromisoformat(m["at"])) for m in b
    ]


def _ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body


def _board(api: Api) -> dict[str, Any]:
    return _ok(api.http.get("/api/v1/halls/t1/board"))


def _notice(api: Api, text: str) -> None:
    _ok(api.http.post("/api/v1/halls/t1/notice", json={"text": text}, headers=api.auth("clerk1")))


def _transfer(api: Api, ticket_id: int, **body: Any) -> dict[str, Any]:
    return _ok(api.http.post(f"/api/v1/tickets/{ticket_id}/transfer", json=body, headers=api.auth("clerk1")))


def _take(url: str, queue: str = "A", token: str = KIOSK) -> dict[str, Any]:
    """Take a number on a server of our own (no Api client)."""
    r = httpx.post(
        f"{url}/api/v1/halls/t1/tickets", json={"queue": queue}, headers={"Authorization": f"Bearer {token}"}
    )
    return _ok(r, 201)


def _run_threads(targets: list[Callable[[], None]], timeout: float = 30) -> list[BaseException]:
    """Run each target in a thread; the exceptions they raised."""
    errors: list[BaseException] = []

    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # reported by the test, not lost in a thread
                errors.append(exc)

        return run

    threads = [threading.Thread(target=wrap(fn), daemon=True) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    return errors


class SlowClient:
    """A websocket client on a plain socket with a tiny receive buffer that reads only when told to.

    A board on a bad link: nothing is read off the socket until `recv` is called, so what the server
    sends piles up in the socket buffers and then in the server's write buffer.
    """

    def __init__(self, url: str) -> None:
        uri = parse_uri(url)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)  # before connect: a small window
        self.sock.settimeout(WAIT_S)
        self.sock.connect((uri.host, uri.port))
        self.proto = ClientProtocol(uri, max_size=None)
        self.proto.send_request(self.proto.connect())
        self.texts: deque[str] = deque()
        self._send()
        while self.proto.state is State.CONNECTING:
            self._read()
        if self.proto.handshake_exc is not None:
            raise self.proto.handshake_exc

    def _send(self) -> None:
        for chunk in self.proto.data_to_send():
            if chunk:
                self.sock.sendall(chunk)

    def _read(self) -> None:
        data = self.sock.recv(65536)
        if data:
            self.proto.receive_data(data)
        else:
            self.proto.receive_eof()
        for ev in self.proto.events_received():
            if isinstance(ev, Frame) and ev.opcode is Opcode.TEXT:
                assert ev.fin
                self.texts.append(bytes(ev.data).decode())
        self._send()

    def recv(self) -> dict[str, Any] | None:
        """The next message, or None once the server has closed the connection."""
        while not self.texts:
            if self.proto.close_rcvd is not None or self.proto.state is State.CLOSED:
                return None
            self._read()
        msg: dict[str, Any] = orjson.loads(self.texts.popleft())
        return msg

    @property
    def close_code(self) -> int | None:
        """The code of the server's close frame."""
        return self.proto.close_rcvd.code if self.proto.close_rcvd is not None else None

    def close(self) -> None:
        """Drop the connection."""
        self.sock.close()


def _throttle_server_side(server: LiveServer, client: socket.socket) -> None:
    """Shrink the server's buffers of one connection, as over a slow link.

    On loopback the kernel grows socket buffers to megabytes, so a client that does not read would have
    to be sent thousands of events before the server noticed; with small buffers a few dozen do.
    """
    assert server._server is not None
    peer = client.getsockname()
    found = [
        p.transport
        for p in list(server._server.server_state.connections)
        if getattr(p, "transport", None) is not None and p.transport.get_extra_info("peername") == peer
    ]
    assert len(found) == 1, "the slow client's connection is not on the server"
    transport = found[0]
    transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    done = threading.Event()

    def shrink() -> None:
        transport.set_write_buffer_limits(high=4096)
        done.set()

    server.loop().call_soon_threadsafe(shrink)
    assert done.wait(WAIT_S)


def _until_closed(ws: ClientConnection) -> list[dict[str, Any]]:
    """Every message until the server closes the stream (a TimeoutError if it does not)."""
    out: list[dict[str, Any]] = []
    try:
        while True:
            out.append(_next(ws))
    except ConnectionClosed:
        return out


def _wait_for(cond: Callable[[], bool], timeout: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# --- snapshot and live events ------------------------------------------------------------------------


def test_snapshot_first_equals_the_board_then_live_events_in_order(api: Api) -> None:
    first = api.take("A")
    api.take("B")
    _ok(api.call_next(1))
    _notice(api, "午休时间 12:00-13:30 暂停取号")
    with _open(api.server) as ws:
        snap = _recv(ws)
        board = _board(api)
        api.take("C")
        _ok(api.act(first["id"], "complete"))
        api.take("A")
        live = [_next(ws) for _ in range(3)]
    assert set(snap) == MESSAGE_KEYS and snap["type"] == "snapshot" and snap["hall"] == "t1"
    assert snap["seq"] == board["seq"] == 4
    assert snap["data"] == board["data"]
    assert snap["data"]["notice"] == "午休时间 12:00-13:30 暂停取号"
    assert _seqs(live) == [5, 6, 7]
    assert [m["type"] for m in live] == ["ticket.issued", "ticket.completed", "ticket.issued"]
    for m in live:
        assert set(m) == MESSAGE_KEYS and m["hall"] == "t1"
        assert datetime.fromisoformat(m["at"]).utcoffset() == HALL_OFFSET
    assert _essence(live) == _stored(api.server, after=4)


def _expect(
    ws: ClientConnection, type_: str, ticket: dict[str, Any], status: str, window: int | None = None, **more: Any
) -> dict[str, Any]:
    """Read the next event and check it is `type_` about `ticket`, with the status and window after the change."""
    m = _next(ws)
    assert m["type"] == type_, m
    d = m["data"]
    want = {
        "id": ticket["id"],
        "number": ticket["number"],
        "queue": more.pop("queue", ticket["queue"]),
        "lane": ticket["lane"],
        "status": status,
        "window": window,
    }
    assert {k: d.get(k) for k in want} == want, m
    for key, value in more.items():
        assert d[key] == value, m
    return m


def test_every_ticket_action_emits_its_event(api: Api) -> None:
    with _open(api.server) as ws:
        assert _recv(ws)["type"] == "snapshot"
        got = []
        a = api.take("A")
        got.append(_expect(ws, "ticket.issued", a, "waiting"))
        _ok(api.call_next(1))
        got.append(_expect(ws, "ticket.called", a, "called", 1))
        _ok(api.act(a["id"], "recall"))
        got.append(_expect(ws, "ticket.recalled", a, "called", 1))
        _ok(api.act(a["id"], "start"))
        got.append(_expect(ws, "ticket.serving", a, "serving", 1))
        _ok(api.act(a["id"], "hold"))
        got.append(_expect(ws, "ticket.held", a, "held", 1))
        _ok(api.act(a["id"], "resume"))
        got.append(_expect(ws, "ticket.called", a, "called", 1))
        _ok(api.act(a["id"], "complete"))
        got.append(_expect(ws, "ticket.completed", a, "done", 1))

        b = api.take("B", lane="military")
        got.append(_expect(ws, "ticket.issued", b, "waiting"))
        _ok(api.call_next(1))
        got.append(_expect(ws, "ticket.called", b, "called", 1))
        _ok(api.act(b["id"], "no-show"))
        got.append(_expect(ws, "ticket.no_show", b, "no_show", 1))

        c = api.take("C")
        got.append(_expect(ws, "ticket.issued", c, "waiting"))
        _transfer(api, c["id"], queue="A")
        got.append(_expect(ws, "ticket.transferred", c, "waiting", queue="A", from_queue="C"))
        _transfer(api, c["id"], window=5)
        got.append(_expect(ws, "ticket.transferred", c, "waiting", 5, queue="A"))
        assert _ok(api.call_next(5))["id"] == c["id"]
        got.append(_expect(ws, "ticket.called", c, "called", 5, queue="A"))
        _ok(api.act(c["id"], "cancel"))
        got.append(_expect(ws, "ticket.cancelled", c, "cancelled", 5, queue="A"))

        d = api.take("A")
        got.append(_expect(ws, "ticket.issued", d, "waiting"))
        _ok(api.act(d["id"], "cancel", who=KIOSK))
        got.append(_expect(ws, "ticket.cancelled", d, "cancelled"))
    assert _seqs(got) == list(range(1, len(got) + 1))
    assert _essence(got) == _stored(api.server)
    issued = [m["data"] for m in got if m["type"] == "ticket.issued"]
    assert [(d["number"], d["lane"]) for d in issued] == [
        ("A001", "normal"),
        ("B001", "military"),
        ("C001", "normal"),
        ("A002", "normal"),
    ]


def test_window_status_notice_and_device_health_events(api: Api) -> None:
    clerk = api.auth("clerk1")
    with _open(api.server, token=DISPLAY) as ws:
        snap = _recv(ws)
        r = api.http.post(
            "/api/v1/halls/t1/windows/2/status", json={"status": "paused", "reason": "系统维护"}, headers=clerk
        )
        _ok(r)
        paused = _next(ws)
        _notice(api, "今日 16:30 停止取号")
        notice = _next(ws, skip=("heartbeat", "queue.stats"))
        health = {"status": "paper_low", "detail": "纸张将尽 / paper low"}
        _ok(api.http.post("/api/v1/devices/health", json=health, headers=api.auth(KIOSK)))
        device = _next(ws)
        _ok(api.http.post("/api/v1/halls/t1/windows/2/status", json={"status": "open"}, headers=clerk))
        reopened = _next(ws)
    assert snap["type"] == "snapshot"
    assert paused["type"] == "window.status" and paused["seq"] == snap["seq"] + 1
    assert {k: paused["data"][k] for k in ("number", "status", "reason")} == {
        "number": 2,
        "status": "paused",
        "reason": "系统维护",
    }
    assert notice["type"] == "notice" and notice["data"]["text"] == "今日 16:30 停止取号"
    assert device["type"] == "device.health"
    assert device["data"] == {"device": "kiosk-t1", "role": "kiosk", "status": "paper_low", "detail": health["detail"]}
    assert reopened["type"] == "window.status"
    assert (reopened["data"]["number"], reopened["data"]["status"], reopened["data"]["reason"]) == (2, "open", "")
    assert _essence([paused, notice, device, reopened]) == [
        e for e in _stored(api.server) if e["type"] != "queue.stats"
    ]


def test_events_of_another_hall_stay_there(api: Api) -> None:
    with _open(api.server) as t1, _open(api.server, hall="t2", token=KIOSK_T2) as t2:
        assert _recv(t1)["seq"] == 0 and _recv(t2)["seq"] == 0
        other = api.take("A", hall="t2", who=KIOSK_T2)
        mine = api.take("A")
        in_t2 = _next(t2)
        in_t1 = _next(t1)
    assert (in_t2["hall"], in_t2["seq"], in_t2["data"]["id"]) == ("t2", 1, other["id"])
    assert (in_t1["hall"], in_t1["seq"], in_t1["data"]["id"]) == ("t1", 1, mine["id"])


# --- since: replay -----------------------------------------------------------------------------------


def test_since_replays_every_later_event_then_live_ones(api: Api) -> None:
    with _open(api.server) as watcher:
        assert _recv(watcher)["seq"] == 0
        for q in "ABA":
            api.take(q)
        _ok(api.call_next(1))
        _notice(api, "请保持安静")
        live = [_next(watcher) for _ in range(5)]
    with _open(api.server, since=2) as ws:
        replayed = [_next(ws) for _ in range(3)]
        api.take("C")
        fresh = _next(ws)
    assert _seqs(replayed) == [3, 4, 5]
    assert _same_events(replayed, live[2:])
    assert fresh["seq"] == 6 and fresh["type"] == "ticket.issued" and fresh["data"]["number"] == "C001"


def test_since_zero_replays_everything_and_since_head_nothing(api: Api) -> None:
    a = api.take("A")
    _ok(api.call_next(1))
    _ok(api.act(a["id"], "complete"))
    _notice(api, "欢迎")
    with _open(api.server, since=0) as ws:
        everything = [_next(ws) for _ in range(4)]
    assert _seqs(everything) == [1, 2, 3, 4]
    assert _essence(everything) == _stored(api.server)
    with _open(api.server, since=4) as ws:
        api.take("B")
        first = _next(ws)
    assert first["type"] == "ticket.issued" and first["seq"] == 5  # no snapshot, nothing replayed


def test_since_beyond_the_head_gives_a_snapshot(api: Api) -> None:
    api.take("A")
    api.take("A")
    with _open(api.server, since=99) as ws:  # e.g. a board that watched a database since rebuilt
        snap = _recv(ws)
        board = _board(api)
        api.take("B")
        nxt = _next(ws)
    assert snap["type"] == "snapshot" and snap["seq"] == board["seq"] == 2
    assert snap["data"] == board["data"]
    assert nxt["seq"] == 3


# --- resume ------------------------------------------------------------------------------------------


def test_resume_after_a_dropped_connection(api: Api) -> None:
    hub = api.server.ctx.hub
    with _open(api.server) as ws:
        assert _recv(ws)["seq"] == 0
        a = api.take("A")
        api.take("B")
        seen = [_next(ws) for _ in range(2)]
    assert _wait_for(lambda: hub.subscriber_count("t1") == 0), "the closed stream is still subscribed"
    last = seen[-1]["seq"]
    _ok(api.call_next(1))  # while nobody watches
    _ok(api.act(a["id"], "start"))
    api.take("C")
    missed = _stored(api.server, after=last)
    assert len(missed) == 3
    with _open(api.server, since=last) as ws:
        caught_up = [_next(ws) for _ in range(3)]
        _ok(api.act(a["id"], "complete"))
        live = _next(ws)
        with pytest.raises(TimeoutError):  # nothing more: no duplicate of anything already sent
            _next(ws, timeout=0.3)
    assert _essence(caught_up) == missed
    assert live["type"] == "ticket.completed" and live["seq"] == last + 4
    assert _seqs(seen + caught_up + [live]) == list(range(1, 7))


def test_resume_after_a_server_restart(tmp_db: str, tmp_path: Path) -> None:
    rt = runtime(tmp_db, tmp_path / "var")
    port = free_port()
    first = LiveServer(rt, port=port).start()
    seen: list[dict[str, Any]] = []
    try:
        with _open(first) as ws:
            assert _recv(ws)["seq"] == 0
            _take(first.url, "A")
            _take(first.url, "B")
            seen += [_next(ws), _next(ws)]
            _take(first.url, "C")  # committed; the board may or may not read it before the restart
            first.stop()
            seen += _until_closed(ws)  # the server going away ends the stream
    finally:
        first.stop()
    assert _seqs(seen) == list(range(1, len(seen) + 1)) and len(seen) >= 2
    last = seen[-1]["seq"]
    with serving(rt) as other:  # another instance on the same database while the first is down
        _take(other.url, "A")
        _ok(
            httpx.post(
                f"{other.url}/api/v1/devices/health",
                json={"status": "ok"},
                headers={"Authorization": f"Bearer {KIOSK}"},
            )
        )
    with serving(rt, port=port) as again:
        missed = _stored(again, after=last)
        assert len(missed) == 5 - len(seen)  # C001 if the board missed it, A002 and the health report
        with _open(again, since=last) as ws:
            caught_up = [_next(ws) for _ in range(len(missed))]
            t = _take(again.url, "A")
            live = _next(ws)
        table = _stored(again)
    assert _essence(caught_up) == missed
    assert live["seq"] == 6 and live["type"] == "ticket.issued" and live["data"]["id"] == t["id"]  # seq continues
    assert _essence(seen + caught_up + [live]) == table
    assert _seqs(table) == list(range(1, 7))
    numbers = [e["data"]["number"] for e in table if e["type"] == "ticket.issued"]
    assert numbers == ["A001", "B001", "C001", "A002", "A003"]


def test_events_committed_by_another_server_are_not_held_back(tmp_path: Path) -> None:
    """A gap (an event this process never published) is filled from the table even while events keep coming."""
    require_backend("postgresql")  # several server processes on one database: PostgreSQL (SQLite has one)
    rt = runtime(fresh_database("postgresql", tmp_path, name="xgap"), tmp_path / "var")
    with serving(rt) as a, serving(rt) as b, _open(a) as ws:
        assert _recv(ws)["seq"] == 0
        foreign = _take(b.url, "B")  # seq 1, never published to a's hub
        stop = threading.Event()

        def keep_writing() -> None:  # a busy hall: a's own events arrive faster than the gap wait
            for _ in range(60):
                _take(a.url, "A")
                if stop.wait(0.1):
                    return

        writer = threading.Thread(target=keep_writing, daemon=True)
        t0 = time.monotonic()
        writer.start()
        try:
            first = _next(ws)
            waited = time.monotonic() - t0
        finally:
            stop.set()
            writer.join(10)
        head = _stored(a)[-1]["seq"]
        rest = _read_through(ws, head) if head > 1 else []
    assert first["seq"] == 1 and first["data"]["id"] == foreign["id"]
    assert waited < 1.5, f"the gap was filled only after {waited:.2f}s"
    assert _seqs([first, *rest]) == list(range(1, head + 1))


# --- load --------------------------------------------------------------------------------------------


def test_every_seq_exactly_once_under_concurrent_writers(api: Api) -> None:
    per_issuer = 12
    issuers_left = [2]
    lock = threading.Lock()
    url = api.server.url

    def issuer(queue: str) -> Callable[[], None]:
        def run() -> None:
            try:
                with httpx.Client(base_url=url, headers=api.auth(KIOSK), timeout=30) as c:
                    for _ in range(per_issuer):
                        _ok(c.post("/api/v1/halls/t1/tickets", json={"queue": queue}), 201)
            finally:
                with lock:
                    issuers_left[0] -= 1

        return run

    def caller(window: int, who: str) -> Callable[[], None]:
        def run() -> None:
            with httpx.Client(base_url=url, headers=api.auth(who), timeout=30) as c:
                while True:
                    done = issuers_left[0] == 0
                    r = c.post(f"/api/v1/halls/t1/windows/{window}/call-next")
                    if r.status_code == 204:
                        if done:
                            return
                        time.sleep(0.005)
                        continue
                    t = _ok(r)
                    _ok(c.post(f"/api/v1/tickets/{t['id']}/complete"))

        return run

    api.token("clerk1")  # log in before the threads start
    api.token("clerk2")
    with _open(api.server) as ws:
        start = _recv(ws)["seq"]
        errors = _run_threads([issuer("A"), issuer("B"), caller(1, "clerk1"), caller(2, "clerk2")])
        assert not errors, errors
        head = _board(api)["seq"]
        msgs = _read_through(ws, head)
        with pytest.raises(TimeoutError):
            _next(ws, timeout=0.2)
    assert _seqs(msgs) == list(range(start + 1, head + 1))
    assert _essence(msgs) == _stored(api.server, after=start)
    kinds = [m["type"] for m in msgs]
    assert kinds.count("ticket.issued") == kinds.count("ticket.called") == kinds.count("ticket.completed") == 24


def test_slow_subscriber_is_told_to_resync_while_a_fast_one_gets_everything(api: Api) -> None:
    hub = api.server.ctx.hub
    saved = hub.max_queue
    hub.max_queue = 3  # taken when a client subscribes: only the slow one gets the tiny mailbox
    try:
        slow = SlowClient(events_url(api.server))
        slow_snap = slow.recv()
    finally:
        hub.max_queue = saved
    n = 40
    try:
        assert slow_snap is not None and slow_snap["type"] == "snapshot"
        _throttle_server_side(api.server, slow.sock)
        with _open(api.server) as fast:
            snap = _recv(fast)
            for i in range(n):
                _notice(api, f"{i:03d} " + "请" * 490)  # ~1.5 kB each
            fast_got = [_next(fast) for _ in range(n)]
            slow_got = []  # only now does the slow board read what it was sent, until the server closes
            deadline = time.monotonic() + WAIT_S
            while time.monotonic() < deadline and (m := slow.recv()) is not None:
                slow_got.append(m)
        code = slow.close_code
    finally:
        slow.close()
    assert _seqs(fast_got) == list(range(snap["seq"] + 1, snap["seq"] + n + 1))
    assert all(m["type"] == "notice" for m in fast_got)
    slow_got = [m for m in slow_got if m["type"] != "heartbeat"]
    events, last = slow_got[:-1], slow_got[-1]
    assert last["type"] == "resync", last
    assert code == 4008
    assert len(events) < n  # it fell behind …
    assert events == fast_got[: len(events)]  # … but what it got was in order, without gaps
    assert last["seq"] == (events[-1]["seq"] if events else slow_snap["seq"])
    with _open(api.server, since=last["seq"]) as again:  # reconnecting with since catches up
        rest = [_next(again) for _ in range(n - len(events))]
    assert _essence(events + rest) == _essence(fast_got)


# --- heartbeats and client requests ------------------------------------------------------------------


def test_idle_subscriber_gets_heartbeats_with_the_last_seq(api: Api) -> None:
    api.take("A")
    with _open(api.server) as ws:
        assert _recv(ws)["seq"] == 1
        api.take("B")
        assert _recv(ws)["seq"] == 2
        t0 = time.monotonic()
        beat = _recv(ws)
        waited = time.monotonic() - t0
    assert beat["type"] == "heartbeat" and beat["seq"] == 2 and beat["hall"] == "t1"
    assert set(beat) == MESSAGE_KEYS
    assert 0.5 < waited < 2.5  # heartbeat_s=1.0 on the live server: only after a second of quiet


def test_client_can_ask_for_a_fresh_snapshot(api: Api) -> None:
    with _open(api.server) as ws:
        assert _recv(ws)["type"] == "snapshot"
        api.take("A")
        _ok(api.call_next(1))
        assert _seqs([_next(ws), _next(ws)]) == [1, 2]
        for junk in ("hello", "[1, 2]", "42", '{"type": "nonsense"}', b"\x00\xff"):  # ignored
            ws.send(junk)
        ws.send(orjson.dumps({"type": "snapshot"}).decode())
        snap = _next(ws)
        board = _board(api)
        api.take("B")
        after = _next(ws)
    assert snap["type"] == "snapshot" and snap["seq"] == board["seq"] == 2
    assert snap["data"] == board["data"]
    assert next(w for w in snap["data"]["windows"] if w["number"] == 1)["current"]["number"] == "A001"
    assert after["seq"] == 3 and after["type"] == "ticket.issued"


# --- auth --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [None, DISPLAY, KIOSK, "clerk1", "auditor1", "admin"])
def test_anonymous_and_tokens_of_the_hall_may_watch(api: Api, who: str | None) -> None:
    token = api.token(who) if who in PASSWORDS else who
    with _open(api.server, token=token) as ws:
        snap = _recv(ws)
    assert snap["type"] == "snapshot" and snap["hall"] == "t1"


def test_bearer_header_works_like_the_token_parameter(api: Api) -> None:
    with _open(api.server, headers=api.auth("clerk1")) as ws:
        assert _recv(ws)["type"] == "snapshot"
    with _open(api.server, headers={"Authorization": "Bearer nope"}) as ws, pytest.raises(ConnectionClosed) as exc:
        _recv(ws)
    assert exc.value.rcvd is not None and exc.value.rcvd.code == 4401


@pytest.mark.parametrize(
    ("hall", "who", "code"),
    [
        ("t1", "not-a-token", 4401),
        ("t1", KIOSK_T2, 4403),
        ("t1", "clerk-t2", 4403),
        ("t2", "clerk1", 4403),
        ("zz", None, 4404),
        ("zz", KIOSK, 4404),
    ],
)
def test_refused_streams_close_with_a_code(api: Api, hall: str, who: str | None, code: int) -> None:
    token = api.token(who) if who in PASSWORDS else who
    with _open(api.server, hall=hall, token=token) as ws, pytest.raises(ConnectionClosed) as exc:
        _recv(ws)
    assert exc.value.rcvd is not None and exc.value.rcvd.code == code
    assert api.server.ctx.hub.subscriber_count(hall) == 0


# --- privacy -----------------------------------------------------------------------------------------


def test_no_event_carries_a_phone_or_id_number(api: Api) -> None:
    idn, phone = make_id_number(), "13897531246"
    idn2 = make_id_number()
    with _open(api.server, token=DISPLAY) as ws:
        texts = _raw_through(ws, 0)
        t = api.take("A", id_number=idn, phone=phone)
        t2 = api.take("C", id_number=idn2)
        _ok(api.call_next(1))
        _ok(api.act(t["id"], "recall"))
        _ok(api.act(t["id"], "start"))
        _transfer(api, t["id"], queue="B")
        _ok(api.call_next(3))
        _ok(api.act(t2["id"], "no-show"))
        _ok(api.act(t2["id"], "rejoin"))
        _ok(api.act(t2["id"], "cancel", who=KIOSK))
        head = _board(api)["seq"]
        texts += _raw_through(ws, head)
        ws.send('{"type": "snapshot"}')
        texts += _raw_through(ws, head)
    with _open(api.server, since=0) as ws:
        texts += _raw_through(ws, head)
    kinds = [orjson.loads(x)["type"] for x in texts]
    assert head == 10 and kinds.count("snapshot") == 2 and kinds.count("ticket.no_show") == 2
    secrets = [phone, phone[:7], phone[3:], t["phone_masked"]]
    for i in (idn, idn2):
        secrets += [i, i.lower(), i[:17], i[4:14]]  # whole, lower-case x, without check digit, the masked digits
    secrets += [t["id_number_masked"], t2["id_number_masked"]]
    leaks = [(s, x) for x in texts for s in secrets if s.lower() in x.lower()]
    assert not leaks, leaks
