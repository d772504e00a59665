"""What reaches the log of a real `hall serve`: no ID number, proof, code or token (access log and app
logs), and one line per distinct error while the database is down — not a traceback per request."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import httpx
import pytest
from websockets.sync.client import connect

from queue_server.ids import make_id_number

from ..harness import KIOSK, PASSWORDS, PG_BASE, SECRET, TEST_CONFIG, free_port, fresh_database
from ..test_cli import HALL, env

ID = make_id_number(serial=77)
PHONE = "13912345678"


@contextlib.contextmanager
def hall_serve(tmp: Path, url: str, log: Path) -> Iterator[str]:
    """`hall serve` on a free port with the production logging set-up, its output to `log`; yields its URL."""
    port = free_port()
    environ = env(tmp, HALL_DATABASE_URL=url, HALL_SECRET_KEY=SECRET, HALL_LOG_LEVEL="info")
    cmd = [HALL, "serve", "--config", str(TEST_CONFIG), "--port", str(port), "--no-migrate"]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=tmp, env=environ, stdout=out, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, log.read_text()
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                assert time.monotonic() < deadline, "server did not answer /healthz"
                time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=20)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_no_secret_in_any_log_line(backend: str, tmp_path: Path) -> None:
    """ID numbers, proofs, codes and tokens in paths and query strings are masked in the access log."""
    url = fresh_database(backend, tmp_path)
    log = tmp_path / "server.log"
    with hall_serve(tmp_path, url, log) as base, httpx.Client(base_url=base, timeout=30) as h:
        kiosk = {"Authorization": f"Bearer {KIOSK}"}
        t = h.post("/api/v1/halls/t1/tickets", json={"queue": "A", "phone": PHONE, "id_number": ID}, headers=kiosk)
        assert t.status_code == 201, t.text
        token = t.json()["track_token"]
        login = h.post("/api/v1/auth/token", data={"username": "auditor1", "password": PASSWORDS["auditor1"]})
        staff = {"Authorization": f"Bearer {login.json()['access_token']}"}
        calls = [
            h.get(f"/api/v1/track/{token}"),
            h.get(f"/feedback/t1?t={token}"),
            h.get("/api/v1/halls/t1/cases", params={"id_number": ID}, headers=staff),
            h.post("/api/v1/halls/t1/cases/search", json={"id_number": ID}, headers=staff),
            h.get("/api/v1/cases/T1202612060001/status", params={"proof": "SECRETPROOF"}),
            h.get("/api/v1/cases/T1202612060001/receipt.pdf", params={"proof": "SECRETPROOF"}),
            h.get("/api/v1/appointments/APPTCODE77"),
            h.get("/api/v1/complaints/CMPLCODE77"),
            h.get(f"/cases/query?n=T1202612060001&p={ID[-4:]}xyz"),
        ]
        assert all(r.status_code < 500 for r in calls), [r.status_code for r in calls]
        with connect(f"{base.replace('http', 'ws')}/ws/halls/t1/events?token={KIOSK}") as ws:
            ws.recv(timeout=10)
        h.post(f"/api/v1/track/{token}/cancel")
    text = log.read_text()
    # the lines are there: path proofs masked, query strings masked or (the access log since issue 23) dropped
    assert "/api/v1/track/***" in text and '"GET /api/v1/halls/t1/cases' in text, text[-2000:]
    for secret in (ID, PHONE, token, "SECRETPROOF", "APPTCODE77", "CMPLCODE77", KIOSK, f"{ID[-4:]}xyz"):
        assert secret not in text, f"{secret!r} in the log:\n{text[-3000:]}"


class Proxy:
    """A TCP relay on loopback in front of PostgreSQL, so a test can take the database away."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._down = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                if self._down:  # accepted just as the database went away
                    client.close()
                    upstream.close()
                    return
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """The database goes away: no new connection, every open one dropped."""
        with self._lock:
            self._down = True
            self._listener.close()
            for c in self._conns:
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)
                c.close()


def _lines(f: IO[str]) -> list[str]:
    return f.read().splitlines()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_database_down_logs_one_line_per_distinct_error(backend: str, tmp_path: Path) -> None:
    """300 requests against a database that went away: 503s, and a handful of log lines, not 300 tracebacks."""
    url = fresh_database(backend, tmp_path, name="logs_down")
    proxy = Proxy(("127.0.0.1", 5432))
    via_proxy = url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    assert via_proxy != url and PG_BASE in url
    log = tmp_path / "server.log"
    with hall_serve(tmp_path, via_proxy, log) as base, httpx.Client(base_url=base, timeout=30) as h:
        kiosk = {"Authorization": f"Bearer {KIOSK}"}
        assert h.post("/api/v1/halls/t1/tickets", json={"queue": "A"}, headers=kiosk).status_code == 201
        before = log.stat().st_size
        proxy.cut()

        def hit(i: int) -> int:
            if i % 2:
                return h.get("/api/v1/halls/t1/queues").status_code
            return h.post("/api/v1/halls/t1/tickets", json={"queue": "A"}, headers=kiosk).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(hit, range(300)))
        assert set(codes) == {503}, {c: codes.count(c) for c in set(codes)}
    with log.open() as f:
        f.seek(before)
        lines = [ln for ln in _lines(f) if "uvicorn.access" not in ln]
    errors = [ln for ln in lines if " ERROR " in ln or " WARNING " in ln or " CRITICAL " in ln]
    tracebacks = [ln for ln in lines if ln.startswith("Traceback")]
    assert len(tracebacks) <= 10 and len(errors) <= 10, "\n".join(lines[:80])
    assert sum(len(ln) for ln in lines) < 40_000, f"{sum(len(ln) for ln in lines)} bytes of log for 300 requests"
