"""Tests of process settings and of how they combine with the config file (precedence, demo secret)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from queue_server.config import ConfigError
from queue_server.settings import Settings, demo_config_path, resolve

STRONG = "q8Vd2-Lm0xT7pZrB4nYcW1eKhJ6sUaGf-strong"

HALL = """
[[halls]]
code = "h1"
name = "Hall one"

  [[halls.queues]]
  code = "A"
  name = "甲"
  name_en = "Alpha"
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run each test without inherited HALL_* variables, in an empty working directory."""
    for name in list(os.environ):
        if name.upper().startswith("HALL_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write_config(tmp_path: Path, server: str) -> Path:
    """Write a one-hall config whose [server] table holds `server`; return its path."""
    path = tmp_path / "hall.toml"
    path.write_text(f"[server]\n{server}\n{HALL}", encoding="utf-8")
    return path


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = Settings()
    assert settings.config is None
    assert settings.var_dir == Path("var")
    assert (settings.host, settings.port, settings.sqlite_synchronous) == ("127.0.0.1", 8000, "FULL")
    monkeypatch.setenv("HALL_PORT", "9001")
    monkeypatch.setenv("HALL_CONFIG", str(tmp_path / "x.toml"))
    monkeypatch.setenv("HALL_SQLITE_SYNCHRONOUS", "NORMAL")
    monkeypatch.setenv("HALL_SECRET_KEY", STRONG)
    settings = Settings()
    assert settings.port == 9001
    assert settings.config == tmp_path / "x.toml"
    assert settings.sqlite_synchronous == "NORMAL"
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == STRONG
    assert STRONG not in repr(settings)


def test_demo_defaults(tmp_path: Path) -> None:
    var_dir = tmp_path / "state" / "var"
    runtime = resolve(Settings(var_dir=var_dir))
    assert runtime.demo is True
    assert runtime.config_path == demo_config_path()
    assert demo_config_path().is_file()
    assert runtime.config.hall("demo").name == "威海市政务服务中心（示范）"
    assert runtime.database_url == f"sqlite:///{var_dir}/hall.db"
    assert var_dir.is_dir()


def test_demo_secret_is_persisted_private_and_reused(tmp_path: Path) -> None:
    first = resolve(Settings(var_dir=tmp_path))
    key_file = tmp_path / "secret.key"
    assert key_file.read_text(encoding="utf-8").strip() == first.secret_key
    assert len(first.secret_key) >= 48
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = resolve(Settings(var_dir=tmp_path))
    assert second.secret_key == first.secret_key
    other = resolve(Settings(var_dir=tmp_path / "elsewhere"))
    assert other.secret_key != first.secret_key


def test_relative_var_dir_becomes_absolute(tmp_path: Path) -> None:
    runtime = resolve(Settings(var_dir=Path("data")))
    assert runtime.database_url == f"sqlite:///{tmp_path.resolve()}/data/hall.db"
    assert (tmp_path / "data" / "secret.key").is_file()


def test_database_url_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HALL_SECRET_KEY", STRONG)
    path = write_config(tmp_path, 'database_url = "sqlite:////srv/file.db"')
    assert resolve(Settings(config=path, var_dir=tmp_path)).database_url == "sqlite:////srv/file.db"
    monkeypatch.setenv("HALL_DATABASE_URL", "postgresql://hall:pw@db/hall")
    runtime = resolve(Settings(config=path, var_dir=tmp_path))
    assert runtime.database_url == "postgresql+psycopg://hall:pw@db/hall"
    assert runtime.demo is False
    monkeypatch.setenv("HALL_DATABASE_URL", "postgresql+psycopg://x@y/z")
    assert resolve(Settings(config=path, var_dir=tmp_path)).database_url == "postgresql+psycopg://x@y/z"
    bare = write_config(tmp_path, "")
    monkeypatch.delenv("HALL_DATABASE_URL")
    assert resolve(Settings(config=bare, var_dir=tmp_path)).database_url == f"sqlite:///{tmp_path}/hall.db"


def test_file_database_url_rewritten(tmp_path: Path) -> None:
    path = write_config(tmp_path, f'secret_key = "{STRONG}"\ndatabase_url = "postgresql://u@h/d"')
    assert resolve(Settings(config=path, var_dir=tmp_path)).database_url == "postgresql+psycopg://u@h/d"


def test_secret_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    in_file = "F" + STRONG
    path = write_config(tmp_path, f'secret_key = "{in_file}"')
    assert resolve(Settings(config=path, var_dir=tmp_path)).secret_key == in_file
    monkeypatch.setenv("HALL_SECRET_KEY", STRONG)
    assert resolve(Settings(config=path, var_dir=tmp_path)).secret_key == STRONG
    demo = write_config(tmp_path, f'demo = true\nsecret_key = "{in_file}"')
    assert resolve(Settings(config=demo, var_dir=tmp_path)).secret_key == STRONG
    assert not (tmp_path / "secret.key").exists(), "no demo secret is generated when one is given"


def test_missing_secret_outside_demo(tmp_path: Path) -> None:
    path = write_config(tmp_path, "demo = false")
    with pytest.raises(ConfigError) as info:
        resolve(Settings(config=path, var_dir=tmp_path))
    assert str(info.value).startswith("server.secret_key: no secret key is set: set HALL_SECRET_KEY")
    assert not (tmp_path / "secret.key").exists()


def test_weak_secret_in_file_names_its_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, 'demo = false\nsecret_key = "changeme-changeme-changeme-changeme"')
    with pytest.raises(ConfigError) as info:
        resolve(Settings(config=path, var_dir=tmp_path))
    assert str(info.value).startswith(f"{path}:3: server.secret_key: the secret key in HALL_SECRET_KEY")
    assert "easy to guess" in str(info.value)


def test_short_secret_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HALL_SECRET_KEY", "too-short")
    path = write_config(tmp_path, 'secret_key = "' + STRONG + '"')
    with pytest.raises(ConfigError) as info:
        resolve(Settings(config=path, var_dir=tmp_path))
    assert "too short (9 characters, need 32)" in str(info.value)
    assert not str(info.value).startswith(str(path))


def test_config_errors_propagate(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[server]\ndemo = true\n[[halls]]\ncode = 'X'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        resolve(Settings(config=path, var_dir=tmp_path))
    assert f"{path}:4: halls[0].code: must be up to 32 lowercase letters" in str(info.value)


def test_a_server_process_sets_its_thread_switch_interval(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`HALL_GIL_SWITCH_MS` reaches the interpreter of a server process (create_app's tune_gc, as `hall serve`
    and every worker run it); out of range it is refused by name; unset, a server on SQLite keeps Python's own
    (0.5 ms is PostgreSQL's default)."""
    import gc
    import sys

    from fastapi.testclient import TestClient
    from pydantic import ValidationError

    from queue_server.app import create_app

    assert Settings().gil_switch_ms is None
    monkeypatch.setenv("HALL_GIL_SWITCH_MS", "0")
    with pytest.raises(ValidationError, match="gil_switch_ms"):
        Settings()
    monkeypatch.delenv("HALL_GIL_SWITCH_MS")
    before, threshold = sys.getswitchinterval(), gc.get_threshold()
    try:
        sys.setswitchinterval(0.005)
        with TestClient(create_app(resolve(Settings(var_dir=tmp_path / "a")), tune_gc=True)) as client:
            assert client.get("/healthz").status_code == 200
            assert sys.getswitchinterval() == pytest.approx(0.005)  # SQLite, unset: Python's own
        monkeypatch.setenv("HALL_GIL_SWITCH_MS", "0.25")
        with TestClient(create_app(resolve(Settings(var_dir=tmp_path / "b")), tune_gc=True)) as client:
            assert client.get("/healthz").status_code == 200
            assert sys.getswitchinterval() == pytest.approx(0.00025)
    finally:
        sys.setswitchinterval(before)
        gc.set_threshold(*threshold)
        gc.unfreeze()
