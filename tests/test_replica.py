"""Reports read from a replica (`HALL_DATABASE_READ_URL`): a real PostgreSQL primary and streaming standby,
started here on loopback ports from Debian's postgresql binaries, and a server given both URLs.

With replay paused on the standby, a report shows the figures as the replica has them (not the primary's)
and the supervisor view, /metrics and /readyz show the lag; once replay resumes the report shows what was
written to the primary. With the standby stopped, reports read the primary, and the log says so once.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from playwright.sync_api import Browser
from pydantic import SecretStr

from queue_server.config import ConfigError
from queue_server.migrations import upgrade
from queue_server.settings import Settings, resolve

from .conftest import CI, backends
from .harness import PASSWORDS, SECRET, TEST_CONFIG, Api, LiveServer, free_port, shots_dir

T = TypeVar("T")
SUMMARY = "/api/v1/halls/t1/reports/summary"
OVERVIEW = "/api/v1/halls/t1/console/overview"


def _pg_bin() -> Path | None:
    found = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "pg_ctl").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return found[-1] if found else None


@dataclass
class Clusters:
    """A throwaway primary and its streaming standby; commands run as `postgres` when we are root
    (initdb and pg_ctl refuse root), as scripts/test does."""

    bin: Path
    root: Path
    primary_port: int
    standby_port: int

    def run(self, tool: str, *args: str) -> None:
        as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_pg, str(self.bin / tool), *args], check=True, capture_output=True, timeout=120)

    def start(self, name: str, port: int) -> None:
        options = f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(self.root / name), "-l", str(self.root / f"{name}.log"), "-w", "-t", "60",
                 "-o", options, "start")  # fmt: skip

    def stop(self, name: str, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.root / name), "-m", mode, "-w", "stop")

    def url(self, port: int) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/hall"

    def standby_sql(self, sql: str) -> Any:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.standby_port}/hall", autocommit=True) as c:
            return c.execute(sql).fetchone()


@pytest.fixture(scope="module")
def clusters() -> Iterator[Clusters]:
    if "postgresql" not in backends():
        pytest.skip(f"HALL_TEST_DB={os.environ.get('HALL_TEST_DB')}: a replica is a PostgreSQL feature")
    pg_bin = _pg_bin()
    if pg_bin is None:
        if CI:
            pytest.fail("Debian's postgresql package (/usr/lib/postgresql/*/bin) is required in CI")
        pytest.skip("no /usr/lib/postgresql/*/bin/pg_ctl: install the postgresql package (scripts/bootstrap)")
    root = Path(tempfile.mkdtemp(prefix="hall-replica-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    c = Clusters(pg_bin, root, free_port(), free_port())
    try:
        # initdb's pg_hba.conf trusts replication connections from 127.0.0.1; wal_level=replica is the default
        c.run("initdb", "-D", str(root / "primary"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        c.start("primary", c.primary_port)
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{c.primary_port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE hall")
        c.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(c.primary_port), "-U", "postgres",
              "-D", str(root / "standby"), "-R", "-X", "stream", "--checkpoint=fast")  # fmt: skip
        c.start("standby", c.standby_port)
        yield c
    finally:
        for name in ("standby", "primary"):
            if (root / name / "postmaster.pid").exists():
                c.stop(name, "immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def server(clusters: Clusters, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    primary, standby = clusters.url(clusters.primary_port), clusters.url(clusters.standby_port)
    upgrade(primary)
    settings = Settings(
        config=TEST_CONFIG,
        database_url=primary,
        database_read_url=standby,
        secret_key=SecretStr(SECRET),
        var_dir=tmp_path_factory.mktemp("replica") / "var",
    )
    srv = LiveServer(resolve(settings)).start()
    yield srv
    srv.stop()


def eventually(fn: Callable[[], T], ok: Callable[[T], bool], timeout_s: float = 30.0) -> T:
    """Ask `fn` until `ok` holds (replay and the lag's one-second cache take a moment under load)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = fn()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def tickets(api: Api) -> int:
    r = api.http.get(SUMMARY, headers=api.auth("approver1"))
    assert r.status_code == 200, r.text
    return int(r.json()["total"]["tickets"])


def replica(api: Api) -> dict[str, Any]:
    r = api.http.get(OVERVIEW, headers=api.auth("approver1"))
    assert r.status_code == 200, r.text
    return dict(r.json()["replica"])


def metric(api: Api, name: str) -> float | None:
    found = re.search(rf"^{name} (\S+)$", api.http.get("/metrics").text, re.M)
    return float(found.group(1)) if found else None


def test_a_report_reads_the_replica_and_the_supervisor_sees_its_lag(server: LiveServer, clusters: Clusters) -> None:
    api = Api(server)
    for q in "AAB":
        api.take(q)
    assert eventually(lambda: tickets(api), lambda n: n == 3) == 3  # written to the primary, replayed
    calm = eventually(lambda: replica(api), lambda r: r["lag_bytes"] == 0)
    assert calm == {"state": "ok", "detail": "", "lag_s": 0.0, "lag_bytes": 0}

    clusters.standby_sql("SELECT pg_wal_replay_pause()")
    try:
        for q in "AB":
            api.take(q)
        assert tickets(api) == 3  # the report is the replica's: the two new tickets are not replayed yet
        behind = eventually(lambda: replica(api), lambda r: r["lag_bytes"] > 0 and r["lag_s"] > 0)
        assert behind["state"] == "ok" and behind["lag_bytes"] > 0 and behind["lag_s"] > 0, behind
        assert (metric(api, "hall_replica_lag_bytes") or 0) > 0
        assert metric(api, "hall_replica_up") == 1.0
    finally:
        clusters.standby_sql("SELECT pg_wal_replay_resume()")
    assert eventually(lambda: tickets(api), lambda n: n == 5) == 5  # once replayed, the report shows them
    assert eventually(lambda: replica(api), lambda r: r["lag_bytes"] == 0)["lag_s"] == 0.0
    ready = api.http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["replica"] == "ok"
    api.close()


def test_the_supervisor_view_shows_the_lag_and_an_unreachable_replica(
    server: LiveServer, clusters: Clusters, browser: Browser
) -> None:
    from playwright.sync_api import expect

    api = Api(server)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{server.url}/console/hall")
    page.fill("#login-user", "approver1")
    page.fill("#login-pass", PASSWORDS["approver1"])
    page.click("#login-form button[type=submit]")
    pill = page.locator("#replica")
    expect(pill).to_have_attribute("data-state", "ok")
    clusters.standby_sql("SELECT pg_wal_replay_pause()")
    try:
        api.take("B")  # an event: the view reloads, and the replica has not replayed it
        expect(pill).not_to_have_attribute("data-lag-bytes", re.compile(r"^(0)?$"), timeout=20_000)
        expect(pill).to_contain_text("Replica lag")
        page.screenshot(path=str(shots_dir() / "hall-supervisor-replica-lag.png"))
    finally:
        clusters.standby_sql("SELECT pg_wal_replay_resume()")
    clusters.stop("standby")
    try:
        api.take("B")
        expect(page.locator("#alerts [data-alert='replica']")).to_contain_text(
            "reports read the primary", timeout=20_000
        )
        expect(pill).to_have_attribute("data-state", "unreachable")
        page.screenshot(path=str(shots_dir() / "hall-supervisor-replica-down.png"))
    finally:
        clusters.start("standby", clusters.standby_port)
    page.close()
    assert server.ctx.db.replica is not None
    server.ctx.db.replica.retry_s = 0.2  # try it again soon (30 s in service)
    assert eventually(lambda: replica(api), lambda r: r["state"] == "ok")["state"] == "ok"
    api.close()


def test_a_stopped_replica_sends_reports_to_the_primary_with_one_log_line(
    server: LiveServer, clusters: Clusters, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="queue_server.db")
    api = Api(server)
    before = tickets(api)
    clusters.stop("standby")
    try:
        api.take("A")  # on the primary only: the stopped replica cannot have it
        assert tickets(api) == before + 1  # read from the primary
        assert tickets(api) == before + 1
        state = replica(api)
        assert state["state"] == "unreachable" and state["lag_s"] is None, state
        ready = api.http.get("/readyz")
        assert ready.status_code == 200, ready.text  # the server still serves; reports read the primary
        assert ready.json()["replica"].startswith("unreachable") and "primary" in ready.json()["replica"]
        assert metric(api, "hall_replica_up") == 0.0 and metric(api, "hall_replica_lag_bytes") is None
        said = [r.getMessage() for r in caplog.records if r.name == "queue_server.db"]
        assert len(said) == 1 and "replica unreachable" in said[0] and "primary" in said[0], said
        assert "127.0.0.1" not in said[0] and "postgres@" not in said[0]
    finally:
        clusters.start("standby", clusters.standby_port)
    assert server.ctx.db.replica is not None
    server.ctx.db.replica.retry_s = 0.2  # try it again soon (30 s in service)
    assert eventually(lambda: replica(api), lambda r: r["state"] == "ok")["state"] == "ok"
    assert eventually(lambda: tickets(api), lambda n: n == before + 1) == before + 1
    said = [r.getMessage() for r in caplog.records if r.name == "queue_server.db"]
    assert len(said) == 2 and "answers again" in said[1], said
    api.close()


def test_a_read_url_beside_sqlite_is_refused_in_one_sentence(tmp_path: Path) -> None:
    settings = Settings(
        config=TEST_CONFIG,
        database_url=f"sqlite:///{tmp_path / 'hall.db'}",
        database_read_url="postgresql://replica.example/hall",
        secret_key=SecretStr(SECRET),
        var_dir=tmp_path / "var",
    )
    with pytest.raises(ConfigError, match=r"HALL_DATABASE_READ_URL: .*needs a PostgreSQL database"):
        resolve(settings)
