"""Shared data sources (数据查询互认) that 秒批秒办 rules check a submission against: one small interface, and
a simulator that reads fixture files (no external call).

A source answers one question: the record it holds for an ID number (identity: 户籍 status; social insurance:
参保 and card status; tax: arrears; credit: 失信 lists …), or None. A real connection (a province's 数据共享交换
平台) is one more class with the same `lookup`; the simulator is selected like any backend, from files in the
`shared-data/` directory beside the config (else the repository's `config/shared-data/`), one file per source:

    source = "identity"                  # the name rules use
    name = "人口基础信息（模拟）"
    [[records]]
    id_number = "110101199003070012"
    status = "正常"

Lookups are blocking by contract (a real one is a network call): call them from a worker thread.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..config import ConfigError, ConfigProblem

SOURCE_NAME = r"^[a-z][a-z0-9_]{1,31}$"


class DataSource(Protocol):
    """A shared data source: its name, a display name, and one blocking look-up by ID number."""

    name: str
    title: str

    def lookup(self, id_number: str) -> dict[str, Any] | None:
        """The record held for this ID number (uppercase X), or None."""
        ...


class _FixtureFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field(pattern=SOURCE_NAME)
    name: str = Field(min_length=1)
    records: list[dict[str, Any]] = Field(default_factory=list)


class FixtureSource:
    """The simulator: records read from a fixture file, keyed by ID number."""

    def __init__(self, name: str, title: str, records: list[dict[str, Any]]) -> None:
        self.name, self.title = name, title
        self._by_id = {str(r["id_number"]).upper(): {k: v for k, v in r.items() if k != "id_number"} for r in records}

    def lookup(self, id_number: str) -> dict[str, Any] | None:
        """The fixture's record for the ID number, or None."""
        found = self._by_id.get(id_number.strip().upper())
        return dict(found) if found is not None else None


def default_dir() -> Path:
    """The demo fixtures shipped with the server: ``queue_server/defaults/shared-data`` (in the repository a
    link to ``config/shared-data``; in the wheel, package data)."""
    return (Path(__file__).parent.parent / "defaults" / "shared-data").resolve()


def load_sources(directory: Path | None = None) -> dict[str, DataSource]:
    """The simulator sources of a directory (``*.toml``); ConfigError naming the file and field."""
    root = directory or default_dir()
    out: dict[str, DataSource] = {}
    for path in sorted(root.glob("*.toml")) if root.is_dir() else []:
        try:
            f = _FixtureFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([ConfigProblem("", f"TOML syntax error: {exc}")], str(path)) from None
        except ValidationError as exc:
            problems = [ConfigProblem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
            raise ConfigError(problems, str(path)) from None
        bad = [i for i, r in enumerate(f.records) if "id_number" not in r]
        if bad:
            raise ConfigError([ConfigProblem(f"records.{bad[0]}", "needs an id_number")], str(path))
        if f.source in out:
            raise ConfigError([ConfigProblem("source", f"source '{f.source}' is defined twice")], str(path))
        out[f.source] = FixtureSource(f.source, f.name, f.records)
    return out
