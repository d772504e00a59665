"""Process settings from `HALL_*` environment variables, resolved with the config file into a Runtime."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from queue_server.config import AppConfig, ConfigError, ConfigProblem, check_secret, load_config, locate_line

KEY_FILE_NAME = "secret.key"


def demo_config_path() -> Path:
    """The demo configuration shipped with the server: `queue_server/defaults/demo.toml` (in the repository
    a link to `config/demo.toml`; in the wheel, package data)."""
    return (Path(__file__).parent / "defaults" / "demo.toml").resolve()


def items_dir(config_path: Path) -> Path | None:
    """The item catalogue beside a configuration file (`items/`), else None: the one shipped with the server."""
    own = config_path.parent / "items"
    return own if own.is_dir() else None


GIL_SWITCH_MS = 0.5  # HALL_GIL_SWITCH_MS's default on PostgreSQL (Python's own, 5, stays on SQLite)


class Settings(BaseSettings):
    """Settings of one server process, read from `HALL_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="HALL_", extra="ignore")

    config: Path | None = None  # None: the demo configuration
    database_url: str | None = None
    # A read-only copy (a PostgreSQL streaming standby) that statistics, reports and exports read from;
    # None: everything reads the primary (db.py, `Replica`).
    database_read_url: str | None = None
    secret_key: SecretStr | None = None
    var_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "FULL"
    log_level: str = "info"
    log_format: Literal["text", "json"] = "text"  # json: one JSON object per line (queue_server/logs.py)
    # Writer threads of a process on PostgreSQL (each writes its share of the halls, see writer.py);
    # 0: the default. SQLite always has one (one writer at a time).
    writer_lanes: int = Field(default=0, ge=0, le=64)
    rate_limit_url: str | None = None  # memory://, redis://host:6379/0 or database (queue_server/ratelimit.py)
    # How long a process trusts a staff user's row it read without hearing of a change (services/auth.py
    # USER_FRESH_S: the bound for a CLI's write of the SQLite file or a lost notification).
    user_fresh_s: float = Field(default=2.0, gt=0, le=300)
    # The interpreter's thread switch interval in a server process (`sys.setswitchinterval`), in ms. The
    # writer's thread waits for the GIL after every database answer while the event loop's thread runs
    # requests, and CPython hands the GIL over only when the holder blocks or after this interval (5 ms by
    # default): a batch of three round trips could wait 15 ms for nothing (bench/README.md, 2026-12-07).
    # None: GIL_SWITCH_MS on PostgreSQL; on SQLite Python's own (there a shorter one measured no better).
    gil_switch_ms: float | None = Field(default=None, ge=0.05, le=100)
    # Which of `hall serve --workers N`'s processes this is (0 .. N-1) and N: the supervisor sets both
    # (workers.py). With N >= 2, each hall's take-a-number is written by one of them (forward.py).
    worker: int | None = Field(default=None, ge=0, le=63)
    workers: int = Field(default=1, ge=1, le=64)
    # Off (HALL_FORWARD=0): every worker writes the take-a-numbers it receives (for comparisons).
    forward: bool = True


@dataclass(frozen=True)
class Runtime:
    """Everything a server process needs once settings and the config file have been combined."""

    settings: Settings
    config: AppConfig
    config_path: Path
    database_url: str
    secret_key: str
    demo: bool
    database_read_url: str | None = None  # the reports' replica (PostgreSQL only), else None


def _database_url(settings: Settings, config: AppConfig, var_dir: Path) -> str:
    return _psycopg(settings.database_url or config.server.database_url or f"sqlite:///{var_dir / 'hall.db'}")


def _psycopg(url: str) -> str:
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url.removeprefix(plain)
    return url


def _read_url(settings: Settings, database_url: str) -> str | None:
    """The reports' replica URL, refused beside an SQLite database (one file has no replica)."""
    if not settings.database_read_url:
        return None
    if database_url.startswith("sqlite"):
        problem = ConfigProblem(
            "HALL_DATABASE_READ_URL",
            "报表只读库需要 PostgreSQL 主库 / A read replica needs a PostgreSQL database (HALL_DATABASE_URL)",
        )
        raise ConfigError([problem])
    return _psycopg(settings.database_read_url)


def _demo_secret(var_dir: Path) -> str:
    """Return the demo secret kept in `<var_dir>/secret.key`, creating it (mode 0600) on first use."""
    path = var_dir / KEY_FILE_NAME
    try:
        existing = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    path.chmod(0o600)  # an existing empty file keeps its old mode through O_TRUNC
    return secret


def resolve(settings: Settings) -> Runtime:
    """Load the config file and settle the database URL and secret key (environment wins over file)."""
    given_path = settings.config or demo_config_path()
    config = load_config(given_path)
    demo = config.server.demo
    var_dir = settings.var_dir.expanduser().resolve()
    var_dir.mkdir(parents=True, exist_ok=True)

    env_secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
    file_secret = config.server.secret_key.get_secret_value() if config.server.secret_key else ""
    secret = env_secret or file_secret or (_demo_secret(var_dir) if demo else "")
    try:
        check_secret(secret or None, demo=demo)
    except ConfigError as exc:
        if env_secret or not file_secret:
            raise
        line = locate_line(given_path.read_text(encoding="utf-8-sig"), ("server", "secret_key"))
        raise ConfigError([replace(p, line=line) for p in exc.problems], str(given_path)) from exc

    database_url = _database_url(settings, config, var_dir)
    return Runtime(
        settings=settings,
        config=config,
        config_path=given_path.resolve(),
        database_url=database_url,
        secret_key=secret,
        demo=demo,
        database_read_url=_read_url(settings, database_url),
    )
