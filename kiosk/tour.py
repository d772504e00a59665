"""`python -m kiosk --screenshot-tour DIR`: every kiosk screen as a PNG, named `<zh|en|elder>-<screen>.png`.

Starts a throwaway queue server (SQLite in a temporary directory) with two halls — one open that takes bookings,
one closed today — and runs the real kiosk against it, by touch, once in Chinese, once in English and once in
elder mode, writing DIR/<variant>-<screen>.png. Under no display it runs itself under `xvfb-run`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

TOKEN = "tour-kiosk-token-0123456789"  # noqa: S105 - the throwaway tour server's device token
VARIANTS = ("zh", "en", "elder")
# Every screen the tour visits, in order (the file names are <variant>-<screen>.png).
SCREENS = (
    "home",
    "domain",
    "idcard",
    "confirm",
    "phone",
    "phone-invalid",
    "confirm-phone",
    "ticket",
    "checkin",
    "book-domain",
    "book-day",
    "book-slot",
    "book-card",
    "book-phone",
    "book-confirm",
    "booked",
    "closed",
)
CONFIG = """
[server]
demo = true

[[halls]]
code = "tour"
name = "市民中心政务服务大厅"
name_en = "Civic Centre Service Hall"
slot_minutes = 30

  [[halls.queues]]
  code = "A"
  name = "市场准入"
  name_en = "Market access"
  slot_capacity = 4  # the home screen offers booking too

  [[halls.queues]]
  code = "B"
  name = "投资建设"
  name_en = "Investment & construction"

  [[halls.queues]]
  code = "C"
  name = "社会事务"
  name_en = "Social affairs"

  [[halls.queues]]
  code = "D"
  name = "不动产登记"
  name_en = "Real estate registration"

  [[halls.windows]]
  number = 1
  queues = ["A", "B", "C", "D"]

[[halls]]
code = "night"
name = "市民中心政务服务大厅"
name_en = "Civic Centre Service Hall"
open = ["mon-fri 09:00-12:00", "mon-fri 13:30-17:00", "sat 09:00-12:00"]
holidays = ["{today}"]

  [[halls.queues]]
  code = "A"
  name = "市场准入"
  name_en = "Market access"
  slot_capacity = 4

  [[halls.queues]]
  code = "B"
  name = "投资建设"
  name_en = "Investment & construction"
  slot_capacity = 2

  [[halls.windows]]
  number = 1
  queues = ["A", "B"]

[[devices]]
name = "tour-kiosk"
role = "kiosk"
hall = "tour"
token = "{token}"

[[devices]]
name = "tour-kiosk-night"
role = "kiosk"
hall = "night"
token = "{token}-night"
"""


def _scripts(variant: str, n: int) -> tuple[str, str]:
    """The touch scripts of one variant in the open hall and in the closed one (which books; day `n` apart)."""
    lead = ["wait:home", "sleep:0.5"] + (["lang"] if variant == "en" else ["elder"] if variant == "elder" else [])
    shot = lambda name: f"shot:{variant}-{name}"  # noqa: E731
    s = [shot("home"), "take", "wait:domain", shot("domain"), "domain:A", "wait:idcard", shot("idcard"), "card"]
    s += ["wait:confirm", shot("confirm"), "phoneadd", "wait:phone", shot("phone"), "phone:1281234", "phoneok"]
    s += [shot("phone-invalid"), "back", "phoneadd", "phone:13812345678", "phoneok", "wait:confirm"]
    s += [shot("confirm-phone"), "confirm", "wait:ticket", "sleep:0.3", shot("ticket"), "home", "checkin"]
    s += ["wait:checkin", shot("checkin")]
    b = ["wait:closed", shot("closed"), "book", "wait:book_domain", shot("book-domain"), "bookdomain:A"]
    b += ["wait:book_day", shot("book-day"), f"day:{n}", "wait:book_slot", shot("book-slot"), "slot:1"]
    b += ["wait:book_card", shot("book-card"), "card", "wait:phone", "phone:13912345678", shot("book-phone")]
    b += ["phoneok", "wait:book_confirm", shot("book-confirm"), "bookconfirm", "wait:booked", "sleep:0.3"]
    return ",".join([*lead, *s]), ",".join([*lead, *b, shot("booked")])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kiosk(url: str, hall: str, token: str, script: str, out: Path, env: dict[str, str]) -> None:
    """Run the kiosk with `script` to its end (under xvfb-run when there is no display)."""
    cmd = [sys.executable, "-m", "kiosk", "--server", url, "--hall", hall, "--token", token, "--script", script]
    cmd += ["--screenshot-dir", str(out), "--printer", "sim://?state=paper_out", "--id-reader", "sim://"]
    if not os.environ.get("DISPLAY"):
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", *cmd]
    proc = subprocess.run(cmd, env=env, capture_output=True, timeout=300, check=False)  # noqa: S603 - our own argv
    log = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    if proc.returncode != 0 or "kiosk script:" in log:
        raise RuntimeError(f"kiosk tour failed:\n{log[-3000:]}")


@contextlib.contextmanager
def throwaway_server(config: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A queue server on a free loopback port with `config`, SQLite in a temporary directory; (URL, kiosk env)."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="kiosk-server-") as tmp:
        cfg = Path(tmp) / "hall.toml"
        cfg.write_text(config, encoding="utf-8")
        port = free_port()
        env = os.environ | {
            "HALL_DATABASE_URL": f"sqlite:///{tmp}/hall.db",
            "HALL_SECRET_KEY": "tour-secret-key-0123456789abcdef0123456789",
            "HALL_VAR_DIR": tmp,
            "KIVY_NO_ARGS": "1",
            "KIVY_LOG_MODE": "PYTHON",
            "KIVY_HOME": str(Path(tmp) / "kivy"),
            "PYTHONPATH": str(root),
        }
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "queue_server", "serve", "--config", str(cfg), "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_up(url)
            yield url, env
        finally:
            server.terminate()
            server.wait(timeout=10)


def tour(out: Path) -> list[Path]:
    """Render the tour into `out`; the PNGs written."""
    out.mkdir(parents=True, exist_ok=True)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    with throwaway_server(CONFIG.format(today=today, token=TOKEN)) as (url, env):
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            for q in "AABBBCD":  # some load on the tiles
                body = {"queue": q, "lane": "normal", "channel": "kiosk"}
                http.post("/api/v1/halls/tour/tickets", json=body, headers={"Idempotency-Key": os.urandom(8).hex()})
        for n, variant in enumerate(VARIANTS):
            open_script, closed_script = _scripts(variant, n)
            _kiosk(url, "tour", TOKEN, open_script, out, env)
            _kiosk(url, "night", f"{TOKEN}-night", closed_script, out, env)
    written = []
    for p in sorted(out.glob("kiosk-*.png")):  # the script's shot:NAME writes kiosk-NAME.png
        target = p.with_name(p.name.removeprefix("kiosk-"))
        p.replace(target)
        written.append(target)
    return written


def _wait_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the tour's queue server did not start")


def main(out: Path) -> int:
    """Run the tour, print what was written."""
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run") is None:
        print("no display and no xvfb-run (apt-get install xvfb)", file=sys.stderr)
        return 2
    for p in tour(out):
        print(p)
    return 0
