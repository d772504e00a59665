"""Staff sessions end when the user is removed, demoted, given a new password or revoked — in every process."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from queue_server.models import AuditLog
from queue_server.services.auth import USER_FRESH_S, hash_password

from ..harness import KIOSK, PASSWORDS, TEST_CONFIG, LiveServer, runtime, serving
from ..test_cli import HALL, env

# How long a process trusts what it read of a user without hearing of a change: the bound for the CLI's write of
# the SQLite file (on PostgreSQL the servers hear of it at once, test_user_cache.py)
FRESH_BOUND_S = USER_FRESH_S


def login(srv: LiveServer, username: str, password: str | None = None) -> httpx.Response:
    """POST the login form to a live server."""
    form = {"username": username, "password": password or PASSWORDS[username]}
    return httpx.post(f"{srv.url}/api/v1/auth/token", data=form, timeout=30)


def token(srv: LiveServer, username: str, password: str | None = None) -> str:
    """A fresh bearer token; asserts the login succeeds."""
    r = login(srv, username, password)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def me(srv: LiveServer, tok: str) -> httpx.Response:
    """GET /auth/me with a bearer token."""
    return httpx.get(f"{srv.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {tok}"}, timeout=30)


def call_next(srv: LiveServer, tok: str, window: int) -> httpx.Response:
    """POST call-next for a window of hall t1."""
    url = f"{srv.url}/api/v1/halls/t1/windows/{window}/call-next"
    return httpx.post(url, headers={"Authorization": f"Bearer {tok}"}, timeout=30)


def first_frame(url: str) -> str:
    """What a websocket client gets first: `open:<message type>` or `closed:<close code>`."""
    try:
        with connect(url, open_timeout=10) as ws:
            return "open:" + str(json.loads(ws.recv(timeout=10)).get("type"))
    except ConnectionClosed as exc:
        return f"closed:{exc.rcvd.code if exc.rcvd else None}"


def changed_config(tmp: Path) -> Path:
    """The test hall with approver1 removed, clerk2 demoted to auditor and clerk1 given a new password."""
    text = TEST_CONFIG.read_text(encoding="utf-8")
    approver = '[[users]]\nusername = "approver1"\npassword = "approver1-pass"\nrole = "approver"\nhall = "t1"\n\n'
    demoted = '[[users]]\nusername = "clerk2"\npassword = "clerk2-pass"\nrole = "auditor"\nhall = "t1"\n'
    clerk2 = '[[users]]\nusername = "clerk2"\npassword = "clerk2-pass"\nrole = "clerk"\nhall = "t1"\nwindows = [2]\n'
    for old, new in ((approver, ""), (clerk2, demoted), ('password = "clerk1-pass"', 'password = "clerk1-newpass"')):
        assert old in text
        text = text.replace(old, new)
    path = tmp / "changed.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_restart_with_changed_users_ends_their_sessions(tmp_db: str, tmp_path: Path) -> None:
    with serving(runtime(tmp_db, tmp_path / "var")) as srv:
        old = {name: token(srv, name) for name in ("clerk1", "clerk2", "approver1", "auditor1")}
        assert all(me(srv, t).status_code == 200 for t in old.values())
        assert call_next(srv, old["clerk2"], 2).status_code == 204
    with serving(runtime(tmp_db, tmp_path / "var", config=changed_config(tmp_path))) as srv:
        for name in ("clerk1", "clerk2", "approver1"):
            assert me(srv, old[name]).status_code == 401, name
        assert call_next(srv, old["clerk1"], 1).status_code == 401
        assert call_next(srv, old["clerk2"], 2).status_code == 401  # the demoted clerk's old rights are gone
        assert me(srv, old["auditor1"]).json()["role"] == "auditor"  # an unchanged user keeps the session
        assert login(srv, "approver1").status_code == 401  # removed: cannot log in
        assert login(srv, "clerk1").status_code == 401  # the old password no longer works
        assert me(srv, token(srv, "clerk1", "clerk1-newpass")).status_code == 200
        demoted = token(srv, "clerk2")
        assert me(srv, demoted).json()["role"] == "auditor"
        assert call_next(srv, demoted, 2).status_code == 403


@pytest.fixture(scope="session")
def hashed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test hall with argon2 hashes instead of passwords: no hashing at each server's start."""
    text = TEST_CONFIG.read_text(encoding="utf-8")
    for password in PASSWORDS.values():
        text = text.replace(f'password = "{password}"', f'password_hash = "{hash_password(password)}"')
    path = tmp_path_factory.mktemp("hashed") / "hall.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_restart_with_the_same_config_keeps_sessions(tmp_db: str, tmp_path: Path, hashed: Path) -> None:
    with serving(runtime(tmp_db, tmp_path / "var", config=hashed)) as srv:
        tok = token(srv, "clerk1")
    with serving(runtime(tmp_db, tmp_path / "var", config=hashed)) as srv:
        assert me(srv, tok).status_code == 200
        assert call_next(srv, tok, 1).status_code == 204


def test_admin_revokes_sessions_without_restart(tmp_db: str, tmp_path: Path, hashed: Path) -> None:
    with serving(runtime(tmp_db, tmp_path / "var", config=hashed)) as srv:
        admin, clerk, other = token(srv, "admin"), token(srv, "clerk1"), token(srv, "clerk2")
        url = f"{srv.url}/api/v1/admin/users/clerk1/revoke"
        assert httpx.post(url).status_code == 401
        for who in (clerk, other, KIOSK):
            assert httpx.post(url, headers={"Authorization": f"Bearer {who}"}).status_code == 403
        assert me(srv, clerk).status_code == 200  # the refused calls changed nothing
        r = httpx.post(url, headers={"Authorization": f"Bearer {admin}"})
        assert r.status_code == 200 and r.json() == {"username": "clerk1", "revoked": True}
        assert me(srv, clerk).status_code == 401  # at once in the process that revoked
        assert call_next(srv, clerk, 1).status_code == 401
        assert first_frame(f"{srv.ws_url}/ws/halls/t1/events?token={clerk}") == "closed:4401"
        assert first_frame(f"{srv.ws_url}/ws/halls/t1/events?token={other}") == "open:snapshot"
        assert me(srv, other).status_code == 200  # nobody else's
        assert me(srv, token(srv, "clerk1")).status_code == 200  # may log in again
        nobody = httpx.post(f"{srv.url}/api/v1/admin/users/nobody/revoke", headers={"Authorization": f"Bearer {admin}"})
        assert nobody.status_code == 404
        with srv.ctx.db.read() as s:
            rows = s.execute(select(AuditLog).where(col(AuditLog.action) == "users.revoke")).scalars().all()
            assert [(a.actor, a.subject) for a in rows] == [("admin", "user:clerk1")]


def test_cli_revoke_reaches_every_server_process_within_the_bound(
    backend: str, tmp_db: str, tmp_path: Path, hashed: Path
) -> None:
    """The CLI as a process of its own; on PostgreSQL two servers on the database, each with its own caches
    (as two processes have; SQLite has one server process per file): each refuses the tokens within the
    freshness bound, with no restart."""
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(serving(runtime(tmp_db, tmp_path / "var", config=hashed)))]
        if backend == "postgresql":
            servers.append(stack.enter_context(serving(runtime(tmp_db, tmp_path / "var", config=hashed))))
        one, two = servers[0], servers[-1]
        tok = token(one, "clerk1")
        assert me(one, tok).status_code == 200 and me(two, tok).status_code == 200  # both remember it now
        assert me(two, token(two, "auditor1")).status_code == 200
        cli = subprocess.Popen(
            [HALL, "users", "revoke", "clerk1", "--config", str(hashed)],
            env=env(tmp_path, HALL_DATABASE_URL=tmp_db),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Use the token on every server while the CLI runs (their caches stay warm), until each refuses it.
        exited: float | None = None
        accepted = set()
        while accepted != {"refused"} or exited is None:
            accepted = {"ok" if me(srv, tok).status_code == 200 else "refused" for srv in servers}
            if exited is None and cli.poll() is not None:
                exited = time.monotonic()
            assert exited is None or time.monotonic() - exited < FRESH_BOUND_S + 1.5, "revocation not seen in time"
        out, err = cli.communicate()
        assert cli.returncode == 0, err
        assert "clerk1" in out
        assert me(two, token(two, "clerk1")).status_code == 200
        missing = subprocess.run(
            [HALL, "users", "revoke", "nobody", "--config", str(hashed)],
            env=env(tmp_path, HALL_DATABASE_URL=tmp_db),
            capture_output=True,
            text=True,
        )
        assert missing.returncode == 1 and "nobody" in missing.stderr
