"""The token check's copy of users' rows (services/auth.py `TokenService`): exact, not merely fresh.

A process remembers the rows it read and reads a user again only when it hears the row changed (its own
write; on PostgreSQL another process's, by NOTIFY) or when `USER_FRESH_S` has passed; these tests give the
bound far longer than they run, so a refused token shows the change was heard, not waited out.
(test_staff_sessions.py covers the bound itself: a CLI writing the SQLite file.)
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from queue_server.config import load_config
from queue_server.db import Database
from queue_server.errors import Unauthorized
from queue_server.services.auth import Principal, TokenService
from queue_server.services.users import UserState, load_user, revoke_sessions, sync_users, user_state

from ..conftest import require_backend
from ..harness import PASSWORDS, SECRET, TEST_CONFIG, free_port, fresh_database, runtime, serving
from ..test_cli import HALL, env, running

LONG_S = 300.0  # longer than any test here: only a heard change can end a remembered token


def _token(url: str, username: str) -> str:
    r = httpx.post(f"{url}/api/v1/auth/token", data={"username": username, "password": PASSWORDS[username]}, timeout=30)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _me(url: str, tok: str) -> int:
    return httpx.get(f"{url}/api/v1/auth/me", headers={"Authorization": f"Bearer {tok}"}, timeout=30).status_code


def _refused_soon(url: str, tok: str) -> bool:
    """Whether the server refuses the token before LONG_S could have run out (the notification arrives a moment
    after the commit, on the other process's listener: asked again until then)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _me(url, tok) == 401:
            return True
        time.sleep(0.05)
    return False


def test_a_revocation_in_one_process_ends_the_token_in_the_other(tmp_path: Path) -> None:
    """Two `hall serve` processes on one PostgreSQL database, each remembering users for LONG_S: a revocation
    through one (the admin route) or by the CLI reaches the other by its notification."""
    require_backend("postgresql")
    url = fresh_database("postgresql", tmp_path, name="usercache")
    environ = env(tmp_path, HALL_DATABASE_URL=url, HALL_SECRET_KEY=SECRET, HALL_USER_FRESH_S=str(LONG_S))
    ports = free_port(), free_port()
    serve = [[HALL, "serve", "--config", str(TEST_CONFIG), "--port", str(p)] for p in ports]
    with running(serve[0], tmp_path, environ, ports[0]), running(serve[1], tmp_path, environ, ports[1]):
        a, b = (f"http://127.0.0.1:{p}" for p in ports)
        clerk1, clerk2, auditor = _token(a, "clerk1"), _token(a, "clerk2"), _token(b, "auditor1")
        for srv in (a, b):  # both remember the users now
            assert {_me(srv, t) for t in (clerk1, clerk2, auditor)} == {200}
        admin = _token(a, "admin")
        r = httpx.post(f"{a}/api/v1/admin/users/clerk1/revoke", headers={"Authorization": f"Bearer {admin}"})
        assert r.status_code == 200
        assert _me(a, clerk1) == 401  # the revoking process: at once, as it answered
        assert _refused_soon(b, clerk1), "the other process never heard of the revocation"
        assert _me(b, clerk2) == 200 and _me(b, auditor) == 200  # nobody else's
        assert _me(b, _token(b, "clerk1")) == 200  # may log in again

        cli = subprocess.run(
            [HALL, "users", "revoke", "clerk2", "--config", str(TEST_CONFIG)],
            env=environ,
            capture_output=True,
            text=True,
        )
        assert cli.returncode == 0, cli.stderr
        assert _refused_soon(a, clerk2) and _refused_soon(b, clerk2), "a process never heard of the CLI's revocation"
        assert _me(a, auditor) == 200 and _me(b, auditor) == 200


def test_concurrent_requests_share_one_read(tmp_db: str, tmp_path: Path) -> None:
    """However many of a user's requests arrive while the row is read, it is read once; then remembered."""
    with serving(runtime(tmp_db, tmp_path / "var")) as srv:
        tokens = srv.ctx.tokens
        tokens.fresh_s = LONG_S
        tok = _token(srv.url, "clerk1")
        assert _me(srv.url, tok) == 200
        tokens.forget_users()
        before = tokens.reads
        with ThreadPoolExecutor(16) as pool:
            assert set(pool.map(lambda _: _me(srv.url, tok), range(32))) == {200}
        assert tokens.reads - before == 1
        assert _me(srv.url, tok) == 200 and tokens.reads - before == 1


def test_a_read_begun_before_a_change_is_not_remembered(tmp_db: str) -> None:
    """A read that began before a revocation may have seen the old row: it answers whoever waited for it, but
    the next request reads the row again (else the old generation would be trusted for `fresh_s`)."""
    db = Database(tmp_db)
    entered, release = threading.Event(), threading.Event()
    with db.write() as s:
        sync_users(s, load_config(TEST_CONFIG).users, fp_key=b"k" * 32)

    def slow_lookup(name: str) -> UserState | None:
        state = load_user(db, name)
        entered.set()
        release.wait(30)
        return state

    tokens = TokenService(SECRET, {}, slow_lookup, fresh_s=LONG_S)
    with db.read() as s:
        state = user_state(s, "clerk1")
    assert state is not None
    tok = tokens.issue(state.principal, state.generation)

    async def scenario() -> Principal:
        first = asyncio.create_task(tokens.principal(tok))
        await asyncio.to_thread(entered.wait, 30)
        with db.write() as s:  # another process's revocation, heard here (the listener calls `revoked`)
            revoke_sessions(s, "clerk1")
        tokens.revoked("clerk1")
        release.set()
        who = await first  # read before the change was heard: answered as read
        with pytest.raises(Unauthorized):
            await tokens.principal(tok)
        return who

    try:
        assert asyncio.run(scenario()).name == "clerk1"
    finally:
        release.set()
        db.dispose()
    assert tokens.reads == 2
