"""Uploaded case materials on disk: staged while a request runs, stored after its commit, orphans swept.

Layout under ``<var_dir>/data/`` (directories 0700, files 0600, random names of 32 hex digits):

    staging/<name>   an upload being received, checked or committed (a request's own files)
    cases/<name>     a stored material; the database row `case_material.storage_name` names it

A request streams each file into `staging/` (never into memory), has it checked, commits the rows, and
only then moves the files into `cases/` under the same name (a rename). A failed request removes its
staged files at once; a crash leaves them to the sweep (`sweep`), which removes staging files older than
`STAGING_MAX_AGE_S` that no row names, finishes the move of those a committed row names, and removes
stored files that no row names. So a file holding personal data exists only as long as its row does.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlmodel import col

from ..db import Database
from ..errors import HallError
from .models import CaseMaterial

log = logging.getLogger(__name__)

STAGING_MAX_AGE_S = 30 * 60.0  # longer than any request lives (reading ≤ 5 min, checks ≤ 1 min, commit)
FULL_SWEEP_EVERY_S = 3600.0  # stored files are listed and matched against rows this often (and at start-up)


class TooLarge(HallError):
    """An upload is over the hall's size limit."""

    status_code = 413


@dataclass(frozen=True, slots=True)
class Checked:
    """A staged upload that passed the checks: its storage name, type, size and SHA-256."""

    name: str
    content_type: str
    size: int
    sha256: str


def _is_name(name: str) -> bool:
    return len(name) == 32 and all(c in "0123456789abcdef" for c in name)


class MaterialStore:
    """The directories of staged and stored materials."""

    def __init__(self, var_dir: Path) -> None:
        self.root = var_dir / "data" / "cases"
        self.staging = var_dir / "data" / "staging"
        self.staging_max_age_s = STAGING_MAX_AGE_S
        self._last_full = float("-inf")

    def stage(self) -> tuple[str, BinaryIO]:
        """A new empty staging file (0600) open for writing, and its name."""
        self.staging.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = secrets.token_hex(16)
        fd = os.open(self.staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        return name, os.fdopen(fd, "wb")

    def staged(self, name: str) -> Path:
        """The staging path of a name."""
        if not _is_name(name):
            raise ValueError("not a material name")
        return self.staging / name

    def path(self, name: str) -> Path:
        """The path of a stored file; the staged one while its move after the commit is still pending."""
        if not _is_name(name):
            raise ValueError("not a stored material name")
        stored = self.root / name
        if not stored.exists() and (self.staging / name).exists():
            return self.staging / name
        return stored

    def sync(self, names: Iterable[str]) -> None:
        """Flush staged files to disk before their rows are committed (a power cut keeps what a row names)."""
        for name in names:
            fd = os.open(self.staged(name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def commit(self, names: Iterable[str]) -> None:
        """Move staged files into place once their rows are committed (the sweep finishes an interrupted move)."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name in names:
            with contextlib.suppress(FileNotFoundError):  # the sweep moved it first
                os.rename(self.staged(name), self.root / name)
        with contextlib.suppress(OSError):
            fd = os.open(self.root, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def discard(self, names: Iterable[str]) -> None:
        """Remove staged files whose rows were not written."""
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                self.staged(name).unlink()

    def sweep(self, db: Database, *, full: bool | None = None) -> dict[str, int]:
        """Remove orphans: old staging files no row names, and (`full`, hourly by default) stored files no row names.

        A staging file that a committed row names is moved into place instead. Returns the counts.
        """
        now = time.time()
        if full is None:
            full = now - self._last_full >= FULL_SWEEP_EVERY_S
        old = [p.name for p in _files(self.staging) if now - _mtime(p, now) >= self.staging_max_age_s]
        named = _named(db, old)
        self.commit(n for n in old if n in named)
        self.discard(n for n in old if n not in named)
        out = {"staged_moved": len(named), "staged_removed": len(old) - len(named), "stored_removed": 0}
        if full:
            self._last_full = now
            stored = [p.name for p in _files(self.root) if now - _mtime(p, now) >= self.staging_max_age_s]
            known = _named(db, stored)
            for name in stored:
                if name not in known:
                    with contextlib.suppress(FileNotFoundError):
                        (self.root / name).unlink()
                        out["stored_removed"] += 1
        if any(out.values()):
            log.info("material sweep: %s", out)
        return out


def _files(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if _is_name(p.name)]
    except FileNotFoundError:
        return []


def _mtime(path: Path, default: float) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return default


def _named(db: Database, names: list[str]) -> set[str]:
    """Which of `names` a case_material row names."""
    found: set[str] = set()
    for i in range(0, len(names), 500):
        chunk = names[i : i + 500]
        with db.read() as s:
            stmt = select(col(CaseMaterial.storage_name)).where(col(CaseMaterial.storage_name).in_(chunk))
            found.update(s.execute(stmt).scalars())
    return found
