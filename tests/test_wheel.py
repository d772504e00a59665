"""The deployment path as a new operator walks it (docs/deployment.md, "Install"): build the wheel, install
it into a fresh venv outside the checkout, write the documented configuration, check it and serve it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from .harness import free_port
from .test_cli import HALL, env, running

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("queue_server", "kiosk", "display_board", "peripherals", "hall_client", "config")
DEMO_KIOSK = "demo-kiosk-1-token"


def _wheel(tmp: Path) -> Path:
    """The project's wheel, built from a copy of its sources (no build/ left behind in the checkout)."""
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in PACKAGES:
        shutil.copytree(ROOT / name, src / name, symlinks=True, ignore=skip)
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp / "dist")]
    subprocess.run([*pip, str(src)], check=True, capture_output=True, timeout=120)
    (wheel,) = (tmp / "dist").glob("one_window_hall-*.whl")
    return wheel


def _venv(tmp: Path, wheel: Path) -> Path:
    """A fresh venv holding the wheel; its dependencies are this test run's own (a .pth to its site-packages,
    whose editable link to the checkout is not read), so the test needs no index and stays quick."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    site = next((venv / "lib").glob("python3*/site-packages"))
    here = next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    (site / "deps.pth").write_text(here + "\n", encoding="utf-8")
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q", "--no-deps"]
    subprocess.run([*pip, str(wheel)], check=True, capture_output=True, timeout=120)
    return venv


def test_the_wheel_serves_the_documented_config(tmp_path: Path) -> None:
    """`pip install` of the wheel, `hall example-config > hall.toml`, `hall check-config`, `hall serve`:
    the demo hall with its twelve domains and the item catalogue, from files the wheel carries."""
    venv = _venv(tmp_path, _wheel(tmp_path))
    hall = str(venv / "bin" / "hall")
    site = tmp_path / "site"  # the operator's machine: nothing of the checkout here
    (site / "etc").mkdir(parents=True)
    environ = env(site)
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import queue_server; print(queue_server.__file__)"],
        cwd=site, env=environ, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(venv)), where.stdout  # the installed package, not the checkout
    line = "from display_board import strings; print(strings.second('call_line', 'ru', window=3))"
    board = subprocess.run(
        [str(venv / "bin" / "python"), "-c", line], cwd=site, env=environ, capture_output=True, text=True, check=True
    )
    assert board.stdout.strip() == "Пройдите к окну 3", board  # the Kivy board's catalogues, from package data
    line = "from peripherals.documents import text as t; "
    line += "print(t.wait_line('ko', 7, 15), t.second('ja', 'appt_title', ''))"
    printed = subprocess.run(
        [str(venv / "bin" / "python"), "-c", line], cwd=site, env=environ, capture_output=True, text=True, check=True
    )
    # the printed documents' catalogues (the ticket's second lines too), from package data
    assert printed.stdout.strip() == "앞에 7명 대기 · 약 15분 予約確認書", printed
    config = site / "etc" / "hall.toml"
    made = subprocess.run([hall, "example-config"], cwd=site, env=environ, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    config.write_text(made.stdout, encoding="utf-8")
    checked = subprocess.run([hall, "check-config", str(config)], cwd=site, env=environ, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert " items" in checked.stdout and ", 0 items" not in checked.stdout, checked.stdout
    port = free_port()
    with running([hall, "serve", "--config", str(config), "--port", str(port)], site, environ, port):
        base = f"http://127.0.0.1:{port}"
        assert len(httpx.get(f"{base}/api/v1/halls/demo/queues").json()) >= 10
        assert len(httpx.get(f"{base}/api/v1/items").json()) >= 10  # the catalogue, from package data
        assert len(httpx.get(f"{base}/api/v1/chains").json()) >= 2  # 一链办理 chains, from package data too
        r = httpx.post(
            f"{base}/api/v1/halls/demo/tickets", json={"queue": "A"}, headers={"Authorization": f"Bearer {DEMO_KIOSK}"}
        )
        assert r.status_code == 201, r.text
        assert httpx.get(f"{base}/board/demo").status_code == 200  # pages and their files come along
        assert httpx.get(f"{base}/favicon.ico").status_code == 200
        assert "{n}번 창구로 오세요" in httpx.get(f"{base}/web/i18n/web/ko.js").text  # the pages' catalogues too


def test_an_empty_catalogue_stops_start_up_with_a_sentence(tmp_path: Path) -> None:
    """An `items/` directory beside the configuration without item files: one message, no traceback."""
    (tmp_path / "items").mkdir()
    config = tmp_path / "hall.toml"
    config.write_text((ROOT / "config" / "demo.toml").read_text(encoding="utf-8"), encoding="utf-8")
    r = subprocess.run(
        [HALL, "serve", "--config", str(config), "--port", str(free_port())],
        env=env(tmp_path), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "no item files (*.toml) found" in r.stderr
    assert f"put the item files (*.toml) into {tmp_path / 'items'}" in r.stderr
