"""`hall backup DIR` while the server serves, `hall restore FILE` into a fresh database: the same rows, the
same event `seq`, and a server on the restored database carries on numbering (queue_server/backup.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from queue_server.db import Database
from queue_server.models import SQLModel

from .harness import PG_BASE, SECRET, TEST_CONFIG, Api, runtime, serving
from .test_cli import HALL, env


def snapshot(url: str) -> dict[str, object]:
    """Row counts of every table, and each hall's `seq` as the hall row and the event log have it."""
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            out: dict[str, object] = {
                t.name: conn.execute(text(f'SELECT COUNT(*) FROM "{t.name}"')).scalar_one()
                for t in SQLModel.metadata.sorted_tables
            }
            out["seq"] = sorted(conn.execute(text("SELECT code, last_seq FROM hall")).all())
            out["events"] = sorted(
                conn.execute(text("SELECT hall_code, MAX(seq), COUNT(*) FROM hall_event GROUP BY hall_code")).all()
            )
    finally:
        db.dispose()
    return out


def _fresh_target(backend: str, tmp: Path) -> tuple[str, str | None]:
    """An empty database to restore into (not migrated), and the PostgreSQL database to drop afterwards."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'restored' / 'hall.db'}", None
    import psycopg

    name = f"restore_{os.getpid()}"
    with psycopg.connect(PG_BASE.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return "", name


def _hall(tmp: Path, url: str, var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = env(tmp, HALL_DATABASE_URL=url, HALL_VAR_DIR=str(var), HALL_SECRET_KEY=SECRET)
    cmd = [HALL, *args, "--config", str(TEST_CONFIG)]
    return subprocess.run(cmd, env=environ, capture_output=True, text=True, timeout=120, check=False)


def test_backup_while_serving_then_restore_into_a_fresh_database(backend: str, tmp_db: str, tmp_path: Path) -> None:
    var = tmp_path / "var"
    material = var / "data" / "cases" / "1" / "m.pdf"
    material.parent.mkdir(parents=True)
    material.write_bytes(b"%PDF-1.4 a case material")
    with serving(runtime(tmp_db, var)) as srv:
        api = Api(srv)
        ids = [api.take(q, phone="13800001111")["id"] for q in "AABBC"]
        assert api.call_next(1).json()["id"] == ids[0]
        assert api.act(ids[0], "complete").status_code == 200
        made = _hall(tmp_path, tmp_db, var, "backup", str(tmp_path / "backups"))  # while the server serves
        assert made.returncode == 0, made.stderr
        api.take("A")  # after the backup: not in it
        api.close()
    dumps = [p for p in (tmp_path / "backups").iterdir() if not p.name.endswith("-materials.tar.gz")]
    assert len(dumps) == 1 and dumps[0].suffix == (".db" if backend == "sqlite" else ".dump"), made.stdout
    assert oct(dumps[0].stat().st_mode & 0o777) == "0o600"
    assert "HALL_SECRET_KEY" in made.stdout
    source = snapshot(tmp_db)

    target, pg_name = _fresh_target(backend, tmp_path)
    if pg_name is not None:
        target = make_url(tmp_db).set(database=pg_name).render_as_string(hide_password=False)
    try:
        var2 = tmp_path / "var2"
        done = _hall(tmp_path, target, var2, "restore", str(dumps[0]))
        assert done.returncode == 0, done.stderr
        restored = snapshot(target)
        after = {"ticket": int(source["ticket"]) - 1, "hall_event": int(source["hall_event"]) - 1}  # type: ignore[call-overload]
        expected = {**source, **after}
        expected["events"] = restored["events"]  # compared below: the last event is the ticket taken after
        assert restored == {**expected, "seq": restored["seq"]}
        (t1_seq,) = [seq for code, seq in restored["seq"] if code == "t1"]  # type: ignore[attr-defined]
        (t1_events,) = [(m, n) for code, m, n in restored["events"] if code == "t1"]  # type: ignore[attr-defined]
        assert t1_events == (t1_seq, t1_seq)  # gap-free: the events 1..seq, and the hall row agrees
        (src_seq,) = [seq for code, seq in source["seq"] if code == "t1"]  # type: ignore[attr-defined]
        assert t1_seq == src_seq - 1  # everything but the ticket taken after the backup
        assert (var2 / "data" / "cases" / "1" / "m.pdf").read_bytes() == material.read_bytes()

        again = _hall(tmp_path, target, var2, "restore", str(dumps[0]))  # never over a hall by accident
        assert again.returncode == 1
        assert "already holds a hall" in again.stderr and "--replace" in again.stderr
        assert "Traceback" not in again.stderr

        with serving(runtime(target, var2)) as srv:  # the restored hall carries on where the backup was
            api = Api(srv)
            assert api.take("A")["number"] == "A003"
            api.close()
    finally:
        if pg_name is not None:
            import psycopg

            with psycopg.connect(PG_BASE.replace("+psycopg", ""), autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")


def test_restore_refuses_the_wrong_kind_of_backup(tmp_path: Path) -> None:
    dump = tmp_path / "hall-20260101-000000.dump"
    dump.write_bytes(b"PGDMP")
    r = _hall(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "var", "restore", str(dump))
    assert r.returncode == 1
    assert "is not a SQLite (.db) backup" in r.stderr


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_backup_without_pg_dump_says_what_to_install(backend: str, tmp_db: str, tmp_path: Path) -> None:
    environ = env(tmp_path, HALL_DATABASE_URL=tmp_db, HALL_SECRET_KEY=SECRET, PATH="/nonexistent")
    r = subprocess.run(
        [HALL, "backup", str(tmp_path / "b"), "--config", str(TEST_CONFIG)],
        env=environ, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert r.returncode == 1
    assert "pg_dump is not on PATH" in r.stderr and "postgresql-client" in r.stderr
