"""Several server processes on one database: an event committed by one reaches boards on the others.

PostgreSQL tells the other processes by NOTIFY; on SQLite they poll the halls' heads (sqlitepoll.py).
Two servers in one test process stand for two processes: each has its own database connections,
writer lock file descriptor, hub and listener.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from ..conftest import require_backend
from ..harness import KIOSK, events_url, fresh_database, runtime, serving


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_idle_process_hears_another_processs_commits(tmp_path: Path, db: str) -> None:
    require_backend(db)
    rt = runtime(fresh_database(db, tmp_path, name="xproc"), tmp_path / "var", workers=2)
    with serving(rt) as a, serving(rt) as b, connect(events_url(a)) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
        got = []
        for queue in ("A", "B", "C"):
            t0 = time.monotonic()
            r = httpx.post(
                f"{b.url}/api/v1/halls/t1/tickets", json={"queue": queue}, headers={"Authorization": f"Bearer {KIOSK}"}
            )
            assert r.status_code == 201
            msg = json.loads(ws.recv(timeout=5))
            while msg["type"] == "heartbeat":
                msg = json.loads(ws.recv(timeout=5))
            got.append((msg["seq"], msg["data"]["number"], time.monotonic() - t0))
        assert [(s, n) for s, n, _ in got] == [(1, "A001"), (2, "B001"), (3, "C001")]
        assert max(dt for _, _, dt in got) < 0.25  # at commit, not after a gap timer or a poll
