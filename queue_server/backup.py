"""`hall backup DIR` and `hall restore FILE`: a consistent copy of the database while the server runs, and
its way back into an empty database.

- SQLite: the online backup API (`sqlite3.Connection.backup`): a consistent snapshot page by page, while
  the server keeps writing; restored the same way, while no server holds the file.
- PostgreSQL: `pg_dump --format=custom` (when it is on PATH), restored with `pg_restore`. A URL that
  sets `search_path` (`?options=-csearch_path%3Dhall`) dumps that schema only.
- The uploaded case materials (`<var>/data/cases`) go into `…-materials.tar.gz` beside the dump, and come
  back with it.

The secret key is never in a backup (it decrypts the personal data in it): keep it apart.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from .db import AnotherServer, Database, normalize_url

MATERIALS = Path("data") / "cases"


class BackupError(Exception):
    """A backup or restore that cannot be done; `str()` is one sentence for the operator."""


@dataclass(frozen=True)
class Backup:
    """What one backup wrote."""

    database: Path
    materials: Path | None


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _libpq(url: URL) -> tuple[str, dict[str, str], str | None]:
    """A libpq connection string without the password, the environment carrying it, and the schema of
    the URL's `search_path` (if any)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    schema = None
    options = url.query.get("options")
    for option in [options] if isinstance(options, str) else list(options or ()):
        for part in option.split():
            if part.startswith("-csearch_path="):
                schema = part.removeprefix("-csearch_path=").split(",")[0].strip() or None
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env, schema


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not on PATH: install the PostgreSQL client of the server's major version "
            "(Debian: postgresql-client)"
        )
    return path


def _run(cmd: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise BackupError(f"{Path(cmd[0]).name} failed (exit status {proc.returncode}): {last}")


def backup(database_url: str, var_dir: Path, out_dir: Path, *, now: datetime | None = None) -> Backup:
    """Write a consistent copy of the database (and the case materials) into `out_dir`."""
    url = make_url(normalize_url(database_url))
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    if url.drivername.startswith("sqlite"):
        source = _sqlite_file(url)
        if not source.is_file():
            raise BackupError(f"no database file at {source}")
        target = out_dir / f"hall-{stamp}.db"
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        try:
            with dst:
                src.backup(dst)  # the online backup API: consistent while the server writes
        finally:
            dst.close()
            src.close()
    else:
        conninfo, env, schema = _libpq(url)
        target = out_dir / f"hall-{stamp}.dump"
        cmd = [_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", f"--dbname={conninfo}"]
        if schema:
            cmd.append(f"--schema={schema}")
        _run(cmd, env)
    target.chmod(0o600)  # personal data (encrypted) and staff accounts
    materials = None
    root = var_dir / MATERIALS
    if root.is_dir() and any(root.iterdir()):
        materials = out_dir / f"hall-{stamp}-materials.tar.gz"
        with tarfile.open(materials, "w:gz") as tar:
            tar.add(root, arcname=str(MATERIALS))
        materials.chmod(0o600)
    return Backup(target, materials)


def _has_tables(url: str) -> bool:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return inspect(conn).has_table("hall")
    finally:
        db.dispose()


def restore(backup_file: Path, database_url: str, var_dir: Path, *, replace: bool = False) -> Backup:
    """Put a backup made by `backup` into the configured database (which must be empty unless `replace`)."""
    if not backup_file.is_file():
        raise BackupError(f"no backup file at {backup_file}")
    url = make_url(normalize_url(database_url))
    sqlite = url.drivername.startswith("sqlite")
    if sqlite != (backup_file.suffix == ".db"):
        kind = "SQLite (.db)" if sqlite else "PostgreSQL (.dump)"
        raise BackupError(f"{backup_file.name} is not a {kind} backup, which the configured database needs")
    if sqlite:
        _sqlite_file(url).parent.mkdir(parents=True, exist_ok=True)
    if not replace and _has_tables(database_url):
        raise BackupError(
            "the configured database already holds a hall's tables: restore into an empty database, "
            "or pass --replace to overwrite it"
        )
    if sqlite:
        target = _sqlite_file(url)
        holder = Database(database_url)
        try:
            holder.claim_serving()  # no server may write the file while it is replaced
        except AnotherServer as exc:
            raise BackupError(str(exc)) from None
        try:
            src = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
            dst = sqlite3.connect(target)
            try:
                with dst:
                    src.backup(dst)
            finally:
                dst.close()
                src.close()
        finally:
            holder.release_serving()
            holder.dispose()
    else:
        conninfo, env, _schema = _libpq(url)
        cmd = [_tool("pg_restore"), "--no-owner", "--exit-on-error", f"--dbname={conninfo}"]
        if replace:
            cmd += ["--clean", "--if-exists"]
        _run([*cmd, str(backup_file)], env)
    materials = backup_file.with_name(backup_file.stem + "-materials.tar.gz")
    if materials.is_file():
        with tarfile.open(materials, "r:gz") as tar:
            tar.extractall(var_dir, filter="data")  # refuses absolute paths, links out of var_dir
        return Backup(backup_file, materials)
    return Backup(backup_file, None)
