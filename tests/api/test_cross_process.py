"""Several server processes on one PostgreSQL database: an event committed by one reaches boards on the others.

PostgreSQL tells the other processes by NOTIFY (pgnotify.py); SQLite is served by one process per file.
Two servers in one test process stand for two processes: each has its own database connections, hub
and listener.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

from ..conftest import require_backend
from ..harness import KIOSK, KIOSK_T2, LiveServer, events_url, fresh_database, runtime, serving


def test_idle_process_hears_another_processs_commits(tmp_path: Path) -> None:
    require_backend("postgresql")
    rt = runtime(fresh_database("postgresql", tmp_path, name="xproc"), tmp_path / "var")
    with serving(rt) as a, serving(rt) as b, connect(events_url(a)) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
        got = []  # process a has no commits of its own: only its listener can bring these
        for queue in ("A", "B", "C"):
            r = httpx.post(
                f"{b.url}/api/v1/halls/t1/tickets", json={"queue": queue}, headers={"Authorization": f"Bearer {KIOSK}"}
            )
            assert r.status_code == 201
            msg = json.loads(ws.recv(timeout=5))
            while msg["type"] == "heartbeat":
                msg = json.loads(ws.recv(timeout=5))
            got.append((msg["seq"], msg["data"]["number"]))
        # once each, in order; how fast is measured by bench/run.py city --workers 2 (queue lag), not here
        assert got == [(1, "A001"), (2, "B001"), (3, "C001")]


def test_a_commits_events_reach_the_other_process_in_its_notifications(tmp_path: Path) -> None:
    """The events of another process's commit come in notifications (pgchannel.py): a board on the idle process
    gets them, once and in order, without that process reading the event table."""
    require_backend("postgresql")
    rt = runtime(fresh_database("postgresql", tmp_path, name="xbody"), tmp_path / "var")
    with serving(rt) as a, serving(rt) as b, connect(events_url(a)) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
        got = []
        for queue in ("A", "B", "C", "A"):
            r = httpx.post(
                f"{b.url}/api/v1/halls/t1/tickets", json={"queue": queue}, headers={"Authorization": f"Bearer {KIOSK}"}
            )
            assert r.status_code == 201
            msg = json.loads(ws.recv(timeout=5))
            while msg["type"] == "heartbeat":
                msg = json.loads(ws.recv(timeout=5))
            got.append((msg["seq"], msg["type"], msg["data"]["number"]))
        numbers = [(1, "A001"), (2, "B001"), (3, "C001"), (4, "A002")]
        assert got == [(seq, "ticket.issued", number) for seq, number in numbers]
        listener = _reader(a)
        assert (listener.carried, listener.batches, listener.delivered) == (4, 0, 0)


def _reader(server: LiveServer) -> Any:
    """What brings the other processes' events into this one: the PostgreSQL listener."""
    return server.app.state.listener


def test_halls_nobody_follows_here_are_not_read(tmp_path: Path) -> None:
    """Events of a hall without a board on this process are not read back; a later board still sees all."""
    require_backend("postgresql")
    rt = runtime(fresh_database("postgresql", tmp_path, name="xskip"), tmp_path / "var")
    with serving(rt) as idle, serving(rt) as busy:
        poller = _reader(idle)
        for _ in range(5):
            r = httpx.post(
                f"{busy.url}/api/v1/halls/t2/tickets",
                json={"queue": "A"},
                headers={"Authorization": f"Bearer {KIOSK_T2}"},
            )
            assert r.status_code == 201, r.text
        deadline = time.monotonic() + 5
        while idle.ctx.hub.head("t2") < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert idle.ctx.hub.head("t2") == 5  # moved on …
        assert poller.delivered == 0  # … without reading the events
        with connect(events_url(idle, "t2")) as ws:
            snap = json.loads(ws.recv(timeout=5))
            assert snap["type"] == "snapshot" and snap["seq"] == 5
            r = httpx.post(
                f"{busy.url}/api/v1/halls/t2/tickets",
                json={"queue": "A"},
                headers={"Authorization": f"Bearer {KIOSK_T2}"},
            )
            assert r.status_code == 201
            msg = json.loads(ws.recv(timeout=5))
            while msg["type"] == "heartbeat":
                msg = json.loads(ws.recv(timeout=5))
            assert (msg["seq"], msg["type"], msg["data"]["number"]) == (6, "ticket.issued", "A006")
        # once a board follows the hall here, its events are taken: from their notification, not the table
        assert (poller.carried, poller.delivered) == (1, 0)


def test_postgresql_process_does_not_read_back_its_own_commits(tmp_path: Path) -> None:
    """Its writer hands its events to its hub; the listener skips their notifications, boards get each once."""
    require_backend("postgresql")
    rt = runtime(fresh_database("postgresql", tmp_path, name="xown"), tmp_path / "var")
    with serving(rt) as a, serving(rt) as b, connect(events_url(a)) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
        got = []
        for server in (a, a, b, a):
            kiosk = {"Authorization": f"Bearer {KIOSK}"}
            r = httpx.post(f"{server.url}/api/v1/halls/t1/tickets", json={"queue": "A"}, headers=kiosk)
            assert r.status_code == 201
            msg = json.loads(ws.recv(timeout=5))
            while msg["type"] == "heartbeat":
                msg = json.loads(ws.recv(timeout=5))
            got.append((msg["seq"], msg["data"]["number"]))
        assert got == [(1, "A001"), (2, "A002"), (3, "A003"), (4, "A004")]
        listener = _reader(a)
        deadline = time.monotonic() + 5
        while listener.heard < 4 and time.monotonic() < deadline:  # every commit was heard …
            time.sleep(0.01)
        assert listener.heard == 4
        # … and only b's events were taken, from their notification (pgchannel.py), none from the table
        assert (listener.carried, listener.delivered) == (1, 0)


def test_servers_on_another_schema_of_the_database_are_not_heard(tmp_path: Path) -> None:
    """NOTIFY reaches every session of the database: halls of another schema (same codes) must not move ours."""
    require_backend("postgresql")
    ours = runtime(fresh_database("postgresql", tmp_path, name="xours"), tmp_path / "var")
    theirs = runtime(fresh_database("postgresql", tmp_path, name="xtheirs"), tmp_path / "var-theirs")
    t2 = {"Authorization": f"Bearer {KIOSK_T2}"}
    with serving(theirs) as elsewhere, serving(ours) as idle, serving(ours) as busy:
        for _ in range(5):  # their hall t2 reaches seq 5
            r = httpx.post(f"{elsewhere.url}/api/v1/halls/t2/tickets", json={"queue": "A"}, headers=t2)
            assert r.status_code == 201
        kiosk = {"Authorization": f"Bearer {KIOSK}"}
        assert httpx.post(f"{busy.url}/api/v1/halls/t1/tickets", json={"queue": "A"}, headers=kiosk).status_code == 201
        deadline = time.monotonic() + 5  # notifications arrive in commit order: ours comes after theirs
        while idle.ctx.hub.head("t1") < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert idle.ctx.hub.head("t1") == 1
        assert _reader(idle).heard == 1  # only our schema's commit
        assert idle.ctx.hub.head("t2") == 0
        with connect(events_url(idle, "t2")) as ws:
            assert json.loads(ws.recv(timeout=5))["seq"] == 0
            assert httpx.post(f"{idle.url}/api/v1/halls/t2/tickets", json={"queue": "A"}, headers=t2).status_code == 201
            msg = json.loads(ws.recv(timeout=5))
            while msg["type"] == "heartbeat":
                msg = json.loads(ws.recv(timeout=5))
            assert (msg["seq"], msg["data"]["number"]) == (1, "A001")
