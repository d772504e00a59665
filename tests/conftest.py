"""Fixtures: every API test runs against a live server on SQLite and again on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from queue_server.app import build_context, prepare
from queue_server.context import HallContext

from .harness import PG_BASE, Api, LiveServer, fresh_database, pg_available, runtime
from .notify.conftest import Receiver

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def backends() -> list[str]:
    """Backends to test: HALL_TEST_DB=sqlite|postgresql|both (default both)."""
    choice = os.environ.get("HALL_TEST_DB", "both")
    return ["sqlite", "postgresql"] if choice == "both" else [choice]


def require_backend(backend: str) -> None:
    """Skip a test of a backend HALL_TEST_DB leaves out, and PostgreSQL tests on a developer machine without
    it (never in CI); the message names the URL in use."""
    if backend not in backends():
        choice = os.environ.get("HALL_TEST_DB", "both")
        pytest.skip(f"HALL_TEST_DB={choice}: {backend} tests are not run (PostgreSQL URL would be {_pg_shown()})")
    if backend == "postgresql" and not pg_available():
        if CI:
            pytest.fail(f"PostgreSQL at {_pg_shown()} is required in CI")
        pytest.skip(
            f"PostgreSQL is not answering at {_pg_shown()} (set HALL_TEST_POSTGRES_URL, run scripts/test, which "
            "starts one, or set HALL_TEST_DB=sqlite to test SQLite only)"
        )


def _pg_shown() -> str:
    """The test PostgreSQL URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(PG_BASE).render_as_string(hide_password=True)


# For tests of programs that never see the database (boards, kiosk, screenshots): run them once, on SQLite.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture(scope="session", params=backends())
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this run of the test."""
    require_backend(request.param)
    return str(request.param)


@pytest.fixture(scope="session")
def live(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live server per backend for the whole session."""
    tmp = tmp_path_factory.mktemp(f"live-{backend}")
    url = fresh_database(backend, tmp, name="live")
    srv = LiveServer(runtime(url, tmp / "var"), heartbeat_s=1.0).start()
    yield srv
    srv.stop()


@pytest.fixture
def api(live: LiveServer) -> Iterator[Api]:
    """A client of the live server, whose database was just emptied."""
    live.reset()
    client = Api(live)
    yield client
    client.close()


@pytest.fixture
def tmp_db(backend: str, tmp_path: Path) -> str:
    """An empty migrated database of the current backend, for tests that run their own servers."""
    return fresh_database(backend, tmp_path, name=f"own_{abs(hash(str(tmp_path))) % 10**8}")


@pytest.fixture
def ctx(tmp_db: str, tmp_path: Path) -> Iterator[HallContext]:
    """The server's shared parts on `tmp_db` with the test halls, prepared; for service-level tests.

    Test files that need another configuration define their own `ctx`."""
    c = build_context(runtime(tmp_db, tmp_path / "var"))
    prepare(c, migrate=False)
    yield c
    c.close()


# Browser tests: Debian's Chromium driven by Playwright, no `playwright install` (/work/shared docs/environment.md).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module; skipped where it is not installed, required in CI."""
    if not os.path.exists(CHROMIUM):
        if CI:
            pytest.fail(f"{CHROMIUM} is required in CI", pytrace=False)
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def gateway() -> Iterator[Receiver]:
    """The city's SMS gateway on loopback (a webhook the citizens' messages reach), one per test module."""
    g = Receiver().start()
    yield g
    g.stop()
