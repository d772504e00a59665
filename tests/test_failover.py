"""Two independent server processes on one PostgreSQL database (deploy/systemd/hall@.service): one is killed
mid-load (SQLite is served by one process per file).

Kiosks issue tickets through both processes; one process gets SIGKILL while requests are in flight.
Every ticket it acknowledged (201) is in the database, no number is given twice, and a board that
was following the killed process reconnects to the other with `since=` and sees every event of the
hall once, in order, with no gap — the acknowledged tickets' and those of requests whose answer was
lost with the process (committed, never answered) alike.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from queue_server.db import normalize_url

from .conftest import require_backend
from .harness import KIOSK, TEST_CONFIG, free_port, fresh_database
from .test_cli import HALL, env, running

ATTEMPTS = 24  # tickets each kiosk tries to take
KIOSKS = 4
KILL_AFTER = 30  # acknowledged tickets before the kill


def test_a_killed_process_loses_nothing_acknowledged_and_boards_resume_on_another(tmp_path: Path) -> None:
    require_backend("postgresql")
    url = fresh_database("postgresql", tmp_path, name="failover")
    ports = free_port(), free_port()
    environ = env(tmp_path, HALL_DATABASE_URL=url)

    def serve(port: int, *extra: str) -> list[str]:
        return [HALL, "serve", "--config", str(TEST_CONFIG), "--port", str(port), *extra]

    with (
        running(serve(ports[0]), tmp_path, environ, ports[0]) as doomed,  # migrates first
        running(serve(ports[1], "--no-migrate"), tmp_path, environ, ports[1]),
    ):
        acked: list[tuple[int, str]] = []
        problems: list[str] = []  # what a kiosk thread saw go wrong (asserted in the test's thread)
        lock = threading.Lock()
        killed = threading.Event()

        def kiosk(k: int) -> None:
            for i in range(ATTEMPTS):
                port = ports[(i + k) % 2]
                if killed.is_set() and port == ports[0]:
                    port = ports[1]  # the balancer stops sending to a dead process
                try:
                    with httpx.Client(timeout=30) as c:
                        r = c.post(
                            f"http://127.0.0.1:{port}/api/v1/halls/t1/tickets",
                            json={"queue": "ABC"[(i + k) % 3]},
                            headers={"Authorization": f"Bearer {KIOSK}"},
                        )
                except httpx.TransportError as exc:
                    if port != ports[0]:
                        problems.append(f"the surviving process failed a request: {exc!r}")
                    continue  # no answer: the kiosk hands out no ticket
                with lock:
                    if r.status_code == 201:
                        acked.append((r.json()["id"], r.json()["number"]))
                    else:
                        problems.append(f"{r.status_code} {r.text}")

        seen: list[dict[str, Any]] = []
        threads = [threading.Thread(target=kiosk, args=(k,)) for k in range(KIOSKS)]
        with connect(f"ws://127.0.0.1:{ports[0]}/ws/halls/t1/events") as board:
            assert json.loads(board.recv(timeout=10))["type"] == "snapshot"
            for t in threads:
                t.start()
            deadline = time.monotonic() + 60
            while len(acked) < KILL_AFTER and time.monotonic() < deadline:
                time.sleep(0.005)
            doomed.send_signal(signal.SIGKILL)  # mid-load: other kiosks' requests are in flight
            killed.set()
            _follow_until_closed(board, seen)
        for t in threads:
            t.join()
        assert doomed.wait(timeout=10) == -signal.SIGKILL

        stored, head = _stored(url)
        last = seen[-1]["seq"] if seen else 0
        with connect(f"ws://127.0.0.1:{ports[1]}/ws/halls/t1/events?since={last}") as again:
            while not seen or seen[-1]["seq"] < head:
                msg = json.loads(again.recv(timeout=10))
                if msg["type"] != "heartbeat":
                    seen.append(msg)

    assert problems == []
    assert len(acked) > KILL_AFTER  # the surviving process went on serving after the kill
    assert set(acked) <= set(stored)  # nothing acknowledged was lost
    assert len({n for _, n in stored}) == len(stored)  # no number given twice
    for q in "ABC":  # numbers of each queue run 1..n without a gap
        numbers = sorted(int(n[1:]) for _, n in stored if n[0] == q)
        assert numbers == list(range(1, len(numbers) + 1)), q
    assert [m["seq"] for m in seen] == list(range(1, head + 1))  # once each, in order, across the reconnect
    issued = Counter(m["data"]["id"] for m in seen if m["type"] == "ticket.issued")
    assert issued == Counter(i for i, _ in stored)  # every stored ticket's event, answered or not


def _follow_until_closed(ws: ClientConnection, seen: list[dict[str, Any]]) -> None:
    """Read a board's stream until its process dies."""
    try:
        while True:
            msg = json.loads(ws.recv(timeout=30))
            if msg["type"] != "heartbeat":
                seen.append(msg)
    except ConnectionClosed:
        pass


def _stored(url: str) -> tuple[list[tuple[int, str]], int]:
    """Hall t1's tickets (id, number) and its last `seq`, read from the database itself."""
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as c:
            rows = c.execute(text("SELECT id, number FROM ticket WHERE hall_code = 't1' ORDER BY id")).all()
            head = int(c.execute(text("SELECT last_seq FROM hall WHERE code = 't1'")).scalar_one())
        return [(int(i), str(n)) for i, n in rows], head
    finally:
        engine.dispose()
