"""`hall serve --workers N`: several processes on PostgreSQL stay correct; SQLite refuses them."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import httpx
from websockets.sync.client import connect

from .conftest import require_backend
from .harness import KIOSK, TEST_CONFIG, free_port, fresh_database
from .test_cli import HALL, env, running


def test_sqlite_refuses_several_workers(tmp_path: Path) -> None:
    r = subprocess.run(
        [HALL, "serve", "--config", str(TEST_CONFIG), "--workers", "2"],
        env=env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2
    assert "PostgreSQL" in r.stderr


def test_two_workers_on_postgresql(tmp_path: Path) -> None:
    require_backend("postgresql")
    url = fresh_database("postgresql", tmp_path, name="workers")
    port = free_port()
    cmd = [HALL, "serve", "--config", str(TEST_CONFIG), "--port", str(port), "--workers", "2"]
    server = running(cmd, tmp_path, env(tmp_path, HALL_DATABASE_URL=url), port)
    with server, connect(f"ws://127.0.0.1:{port}/ws/halls/t1/events") as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "snapshot"
        numbers: list[str] = []
        lock = threading.Lock()

        def kiosk(queue: str) -> None:
            for _ in range(5):
                with httpx.Client(timeout=30) as c:  # a new connection each time: spread over the workers
                    r = c.post(
                        f"http://127.0.0.1:{port}/api/v1/halls/t1/tickets",
                        json={"queue": queue},
                        headers={"Authorization": f"Bearer {KIOSK}"},
                    )
                assert r.status_code == 201, r.text
                with lock:
                    numbers.append(r.json()["number"])

        threads = [threading.Thread(target=kiosk, args=(q,)) for q in "AABBCCAB"]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seqs = []
        while len(seqs) < 40:
            msg = json.loads(ws.recv(timeout=10))
            if msg["type"] != "heartbeat":
                seqs.append(msg["seq"])
    assert seqs == list(range(1, 41))  # every event once, in order, whichever worker committed it
    for q, n in (("A", 15), ("B", 15), ("C", 10)):
        assert sorted(x for x in numbers if x[0] == q) == [f"{q}{i:03d}" for i in range(1, n + 1)]
