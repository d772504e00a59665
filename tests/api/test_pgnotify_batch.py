"""Cross-process fan-out under a flood: the idle process's hub gets every event once, in order, promptly."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from websockets.sync.client import connect

from queue_server.events import HallEvent, Subscriber

from ..conftest import require_backend
from ..harness import KIOSK, KIOSK_T2, LiveServer, events_url, fresh_database, runtime, serving

TICKETS = {"t1": (KIOSK, 500), "t2": (KIOSK_T2, 100)}
QUEUES = {"t1": "ABC", "t2": "A"}
THREADS = 8


def _subscribe(srv: LiveServer, hall: str) -> Subscriber:
    async def sub() -> Subscriber:
        return srv.ctx.hub.subscribe(hall)

    return asyncio.run_coroutine_threadsafe(sub(), srv.loop()).result(5)


def _taken(srv: LiveServer, sub: Subscriber) -> list[HallEvent]:
    async def take() -> list[HallEvent]:
        out = list(sub.items)
        sub.items.clear()
        return out

    return asyncio.run_coroutine_threadsafe(take(), srv.loop()).result(5)


def _issue(url: str, hall: str, token: str, n: int) -> list[str]:
    numbers = []
    with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as http:
        for i in range(n):
            r = http.post(f"/api/v1/halls/{hall}/tickets", json={"queue": QUEUES[hall][i % len(QUEUES[hall])]})
            assert r.status_code == 201, r.text
            numbers.append(r.json()["number"])
    return numbers


def test_idle_process_gets_a_flood_of_commits_once_and_in_order(tmp_path: Path) -> None:
    require_backend("postgresql")  # NOTIFY (pgnotify.py); SQLite is served by one process per file
    rt = runtime(fresh_database("postgresql", tmp_path, name="xflood"), tmp_path / "var")
    with serving(rt) as idle, serving(rt) as busy, connect(events_url(idle)) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
        # A skipped event would otherwise be filled by the hub's gap timer; make any skip show as missing.
        idle.ctx.hub.gap_wait = 3600.0
        subs = {hall: _subscribe(idle, hall) for hall in TICKETS}
        jobs = [
            (hall, tok, n // THREADS + (i < n % THREADS)) for hall, (tok, n) in TICKETS.items() for i in range(THREADS)
        ]
        with ThreadPoolExecutor(len(jobs)) as pool:
            issued = list(pool.map(lambda j: (j[0], _issue(busy.url, *j)), jobs))
        done = time.monotonic()
        got: dict[str, list[HallEvent]] = {hall: [] for hall in TICKETS}
        while time.monotonic() < done + 30 and any(len(got[h]) < n for h, (_, n) in TICKETS.items()):
            for hall, sub in subs.items():
                got[hall] += _taken(idle, sub)
            time.sleep(0.01)
        lag = time.monotonic() - done
        for hall, (_, n) in TICKETS.items():
            assert [e.seq for e in got[hall]] == list(range(1, n + 1)), hall
            assert {e.type for e in got[hall]} == {"ticket.issued"}
            assert sorted(e.data["number"] for e in got[hall]) == sorted(x for h, xs in issued if h == hall for x in xs)
        assert lag < 5.0  # the tail arrives at commit, not minutes later (≈ 0.05 s on a quiet machine)
        seqs: list[int] = []  # the board on the idle process: every seq once, in order, no resync
        while len(seqs) < TICKETS["t1"][1]:
            msg = json.loads(ws.recv(timeout=10))
            assert msg["type"] != "resync"
            if msg["type"] != "heartbeat":
                seqs.append(msg["seq"])
        assert seqs == list(range(1, TICKETS["t1"][1] + 1))
