"""The `hall` command as an operator runs it: real processes, real ports."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from .harness import TEST_CONFIG, free_port

ROOT = Path(__file__).resolve().parent.parent
HALL = str(Path(sys.executable).with_name("hall"))


def env(tmp: Path, **extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("HALL_")}
    e.update({"HALL_VAR_DIR": str(tmp / "var"), "HALL_LOG_LEVEL": "warning"}, **extra)
    return e


@contextmanager
def running(cmd: list[str], cwd: Path, environ: dict[str, str], port: int) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(cmd, cwd=cwd, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180  # a loaded machine starts slowly (workers, migrations); not a speed test
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("server did not answer /healthz")
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_check_config_ok(tmp_path: Path) -> None:
    r = subprocess.run([HALL, "check-config", str(TEST_CONFIG)], env=env(tmp_path), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "ok: 2 halls, 6 windows" in r.stdout


def test_bad_config_stops_startup_naming_the_line(tmp_path: Path) -> None:
    text = TEST_CONFIG.read_text(encoding="utf-8")
    bad = text.replace('queues = ["C"]', 'queues = ["Z"]', 1)
    line = next(i for i, s in enumerate(bad.splitlines(), 1) if 'queues = ["Z"]' in s)
    path = tmp_path / "bad.toml"
    path.write_text(bad, encoding="utf-8")
    r = subprocess.run([HALL, "serve", "--config", str(path)], env=env(tmp_path), capture_output=True, text=True)
    assert r.returncode == 2
    assert f"bad.toml:{line}:" in r.stderr
    assert "'Z'" in r.stderr


def test_bad_environment_setting_stops_startup_naming_the_variable(tmp_path: Path) -> None:
    r = subprocess.run(
        [HALL, "serve", "--config", str(TEST_CONFIG)],
        env=env(tmp_path, HALL_WRITER_LANES="99", HALL_SQLITE_SYNCHRONOUS="OFF"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "HALL_WRITER_LANES: Input should be less than or equal to 64" in r.stderr
    assert "HALL_SQLITE_SYNCHRONOUS: Input should be 'NORMAL' or 'FULL'" in r.stderr


def test_weak_secret_outside_demo_stops_startup(tmp_path: Path) -> None:
    text = TEST_CONFIG.read_text(encoding="utf-8").replace("demo = true", "demo = false")
    text = text.replace("-pass", "-pass-long-enough")  # passwords long enough outside demo
    text = text.replace("-token-0123456789", "-token-Vh4qZ8rT2mWx6kPb9LnC")  # random enough outside demo
    path = tmp_path / "prod.toml"
    path.write_text(text, encoding="utf-8")
    r = subprocess.run(
        [HALL, "check-config", str(path)], env=env(tmp_path, HALL_SECRET_KEY="short"), capture_output=True, text=True
    )
    assert r.returncode == 2
    assert "HALL_SECRET_KEY" in r.stderr
    ok = subprocess.run(
        [HALL, "check-config", str(path)],
        env=env(tmp_path, HALL_SECRET_KEY="k9Vq2-Rm7xT4pZcB8nYw1eKhJ6sUaGf3Lq"),
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr


def test_hall_serve_without_config_runs_the_demo_hall_on_sqlite(tmp_path: Path) -> None:
    port = free_port()
    with running([HALL, "serve", "--port", str(port)], tmp_path, env(tmp_path), port):
        halls = httpx.get(f"http://127.0.0.1:{port}/api/v1/halls").json()
        assert "demo" in [h["code"] for h in halls]
        queues = httpx.get(f"http://127.0.0.1:{port}/api/v1/halls/demo/queues").json()
        assert len(queues) >= 10
    assert (tmp_path / "var" / "hall.db").exists()
    assert (tmp_path / "var" / "secret.key").exists()


def test_python_m_queue_server_is_the_same(tmp_path: Path) -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "queue_server", "--config", str(TEST_CONFIG), "--port", str(port)]
    db = f"sqlite:///{tmp_path / 'm.db'}"
    with running(cmd, ROOT, env(tmp_path, HALL_DATABASE_URL=db), port):
        r = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/halls/t1/tickets",
            json={"queue": "B"},
            headers={"Authorization": "Bearer kiosk-t1-token-0123456789"},
        )
        assert r.status_code == 201
        assert r.json()["number"] == "B001"
    # a restart keeps the data: the next number continues
    with running(cmd, ROOT, env(tmp_path, HALL_DATABASE_URL=db), port):
        r = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/halls/t1/tickets",
            json={"queue": "B"},
            headers={"Authorization": "Bearer kiosk-t1-token-0123456789"},
        )
        assert r.json()["number"] == "B002"


def test_devices_check_reports_health(tmp_path: Path) -> None:
    ok = subprocess.run([HALL, "devices", "check"], env=env(tmp_path), capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "5 ok" in ok.stdout  # the demo's kiosk-1 (printer, reader, scanner) and desk-1 (printer, reader)
    text = TEST_CONFIG.read_text(encoding="utf-8").replace(
        'token = "kiosk-t1-token-0123456789"',
        'token = "kiosk-t1-token-0123456789"\nprinter = "escpos+serial:///dev/no-such-printer"\nscanner = "sim://"',
    )
    path = tmp_path / "devices.toml"
    path.write_text(text, encoding="utf-8")
    bad = subprocess.run(
        [HALL, "devices", "check", "--config", str(path)], env=env(tmp_path), capture_output=True, text=True
    )
    assert bad.returncode == 1
    lines = {line.split()[1]: line for line in bad.stdout.splitlines() if line.startswith("kiosk-t1")}
    assert "unplugged" in lines["printer"] or "offline" in lines["printer"]
    assert " ok " in lines["scanner"]
