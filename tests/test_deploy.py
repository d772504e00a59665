"""The shipped deployment files: the systemd units verify; nginx takes its config and proxies HTTP and websockets."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import http.server
import json
import re
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from queue_server.settings import Settings

from .conftest import CI, sqlite_only
from .harness import DISPLAY, KIOSK, Api, LiveServer, free_port

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
HALL_BIN = ROOT / ".venv" / "bin" / "hall"
UNITS = ["hall.service", "hall@.service", "hall-migrate.service", "hall-backup.service", "hall-backup.timer"]


def need(tool: str) -> str:
    """The path of a tool; a missing tool fails in CI and skips elsewhere."""
    path = shutil.which(tool)
    if path is None:
        if CI:
            pytest.fail(f"{tool} is required in CI (scripts/debian-packages.txt)")
        pytest.skip(f"{tool} is not installed")
    return path


def test_units_verify_with_systemd(tmp_path: Path) -> None:
    """systemd-analyze verify is silent on every unit (it prints but exits 0 on a bad directive)."""
    analyze = need("systemd-analyze")
    for name in UNITS:
        text = (DEPLOY / "systemd" / name).read_text()
        # The real executable and environment file of this checkout instead of /opt/hall and /etc/hall.
        text = text.replace("/opt/hall/.venv/bin/hall", str(HALL_BIN))
        text = text.replace("/etc/hall/hall.env", str(DEPLOY / "systemd" / "hall.env.example"))
        (tmp_path / name).write_text(text)
    units = [str(tmp_path / ("hall@8001.service" if n == "hall@.service" else n)) for n in UNITS]
    out = subprocess.run([analyze, "verify", "--man=no", *units], capture_output=True, text=True, timeout=60)
    problems = [ln for ln in (out.stdout + out.stderr).splitlines() if ln.strip()]
    assert out.returncode == 0 and not problems, problems


def test_exec_start_options_exist() -> None:
    """Every option the units pass to `hall serve` / `hall migrate` is one the command knows."""
    for name in ("hall.service", "hall@.service", "hall-migrate.service"):
        line = next(ln for ln in (DEPLOY / "systemd" / name).read_text().splitlines() if ln.startswith("ExecStart="))
        args = line.removeprefix("ExecStart=").split()
        assert args[0] == "/opt/hall/.venv/bin/hall"
        help_text = subprocess.run(
            [str(HALL_BIN), args[1], "--help"], capture_output=True, text=True, check=True, timeout=60
        ).stdout
        for opt in (a for a in args[2:] if a.startswith("--")):
            assert re.search(rf"{re.escape(opt)}\b", help_text), f"{name}: `hall {args[1]}` has no option {opt}"


def test_env_example_names_real_settings() -> None:
    """Every HALL_* variable of hall.env.example is a setting the server reads."""
    known = {f"HALL_{k.upper()}" for k in Settings.model_fields}
    names = [
        ln.split("=", 1)[0]
        for ln in (DEPLOY / "systemd" / "hall.env.example").read_text().splitlines()
        if ln.startswith("HALL_")
    ]
    assert names and set(names) <= known, set(names) - known


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    req = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
    subprocess.run(
        [*req, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def nginx_conf(tmp: Path, upstream_ports: list[int], https_port: int, http_port: int) -> Path:
    """deploy/nginx/hall.conf with test ports, a self-signed certificate and logs in tmp, in a main config."""
    cert, key = _self_signed(tmp)
    text = (DEPLOY / "nginx" / "hall.conf").read_text()
    text = re.sub(r"(?m)^    server 127\.0\.0\.1:\d+ max_fails=0;\n", "", text)
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=0;\n" for p in upstream_ports)
    text = text.replace("upstream hall_servers {\n", "upstream hall_servers {\n" + servers, 1)
    text = text.replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    text = text.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    text = text.replace("/etc/ssl/hall/fullchain.pem", str(cert)).replace("/etc/ssl/hall/privkey.pem", str(key))
    text = text.replace("/var/log/nginx/hall.access.log", str(tmp / "access.log"))
    (tmp / "hall.conf").write_text(text)
    main = tmp / "nginx.conf"
    main.write_text(
        # workers as the test's own user: they write large request bodies under tmp (0700)
        f"user {getpass.getuser()};\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\nevents {{}}\n"
        f"http {{\n  client_body_temp_path {tmp}/body;\n  proxy_temp_path {tmp}/proxy;\n"
        f"  access_log off;\n  include {tmp}/hall.conf;\n}}\n"
    )
    return main


def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    """`nginx -t` on the shipped config (with test certificate and paths)."""
    nginx = need("nginx")
    conf = nginx_conf(tmp_path, [free_port(), free_port()], free_port(), free_port())
    out = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr


@contextlib.contextmanager
def running_nginx(tmp_path: Path, upstream_ports: list[int]) -> Iterator[int]:
    """nginx with the shipped config proxying to these ports; yields its HTTPS port."""
    nginx = need("nginx")
    https_port = free_port()
    conf = nginx_conf(tmp_path, upstream_ports, https_port, free_port())
    proc = subprocess.Popen(
        [nginx, "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"https://127.0.0.1:{https_port}/healthz", verify=False, timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        yield https_port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def nginx_in_front(live: LiveServer, tmp_path: Path) -> Iterator[int]:
    """nginx with the shipped config proxying to the live server; yields its HTTPS port."""
    with running_nginx(tmp_path, [live.port]) as port:
        yield port


class _Named(http.server.BaseHTTPRequestHandler):
    """An upstream that answers every request with its own port (which process nginx chose)."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = str(self.server.server_address[1]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


def test_nginx_sends_each_hall_to_one_process(tmp_path: Path) -> None:
    """Hall affinity (`hash $hall_affinity consistent`): every request of a hall — its API under
    /api/v1/halls/<hall>/ and its event stream /ws/halls/<hall>/ — reaches the same upstream each time,
    the halls spread over both upstreams, and requests without a hall reach both. The upstreams are two
    plain HTTP servers that answer with their port; the access log's upstream address says the same."""
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Named) for _ in range(2)]
    for srv in servers:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    ports = [srv.server_address[1] for srv in servers]
    halls = [f"c{i:02d}" for i in range(1, 21)]
    try:
        with running_nginx(tmp_path, ports) as https_port, httpx.Client(verify=False, timeout=10) as c:
            base = f"https://127.0.0.1:{https_port}"
            chosen: dict[str, set[str]] = {}
            for round_ in range(3):
                for hall in halls:
                    answers = {
                        c.post(f"{base}/api/v1/halls/{hall}/tickets", json={"queue": "A"}).text,
                        c.get(f"{base}/api/v1/halls/{hall}/windows/{round_ + 1}").text,
                        c.get(f"{base}/ws/halls/{hall}/events?since=0").text,
                    }
                    chosen.setdefault(hall, set()).update(answers)
            others = {c.get(f"{base}/healthz").text for _ in range(24)}
        time.sleep(0.2)
        log = (tmp_path / "access.log").read_text().splitlines()
    finally:
        for srv in servers:
            srv.shutdown()
            srv.server_close()
    assert all(len(got) == 1 for got in chosen.values()), chosen
    assert {got.pop() for got in chosen.values()} == {str(p) for p in ports}, "every hall on one upstream"
    assert others == {str(p) for p in ports}, "requests without a hall all reached one upstream"
    for hall in halls[:3]:  # the log names the upstream of each request; one per hall
        lines = [ln for ln in log if f"/halls/{hall}/" in ln]
        assert len(lines) == 9 and len({ln.rsplit(" ", 1)[1] for ln in lines}) == 1, lines


@sqlite_only
def test_nginx_proxies_api_and_events(api: Api, nginx_in_front: int, tmp_path: Path) -> None:
    """Through nginx: a ticket is issued over HTTPS and its event arrives on a wss:// board; no token in the log."""
    base = f"https://127.0.0.1:{nginx_in_front}"
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
    token = DISPLAY

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        url = f"wss://127.0.0.1:{nginx_in_front}/ws/halls/t1/events?token={token}"
        async with connect(url, ssl=tls, proxy=None) as ws:
            snap = json.loads(await ws.recv())
            async with httpx.AsyncClient(verify=False) as client:
                r = await client.post(f"{base}/api/v1/halls/t1/tickets", json={"queue": "A"}, headers=api.auth(KIOSK))
                assert r.status_code == 201, r.text
                issued = r.json()
                assert (await client.get(f"{base}/api/v1/track/{issued['track_token']}")).status_code == 200
            while True:
                ev = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if ev["type"] == "ticket.issued":
                    assert ev["seq"] > snap["seq"]
                    return issued, ev

    issued, ev = asyncio.run(scenario())
    assert ev["data"]["id"] == issued["id"] and ev["data"]["number"] == issued["number"]
    time.sleep(0.2)  # nginx writes the access log line when the websocket closes
    log = (tmp_path / "access.log").read_text()
    assert "/ws/halls/t1/events" in log and "POST /api/v1/halls/t1/tickets" in log
    assert token not in log, "the device token leaked into the access log"
    assert "GET /api/v1/track/*** " in log and issued["track_token"] not in log, "a tracking token in the log"


def test_nginx_body_limit_is_the_servers() -> None:
    """One number: nginx's client_max_body_size is the server's own request cap (MAX_REQUEST_MB)."""
    from queue_server.cases.uploads import MAX_REQUEST_MB

    sizes = re.findall(r"(?m)^\s*client_max_body_size\s+(\S+);", (DEPLOY / "nginx" / "hall.conf").read_text())
    assert sizes == [f"{MAX_REQUEST_MB}m"], sizes


@sqlite_only
def test_nginx_passes_the_uploads_the_server_allows(api: Api, nginx_in_front: int) -> None:
    """Through nginx: a submission with a file at the server's per-file limit is taken (201); a body over the
    shared cap is refused by nginx itself (413), before any server process reads it."""
    from queue_server.cases.uploads import MAX_REQUEST_BYTES

    from .cases.helpers import jpeg, submission

    limit = api.server.ctx.hall("t1").case_upload_max_kb * 1024
    base = f"https://127.0.0.1:{nginx_in_front}"
    scan = jpeg() + b"\0" * (limit - len(jpeg()))  # a JPEG with trailing padding: still opens
    with httpx.Client(base_url=base, verify=False, timeout=120) as c:
        r = c.post(
            "/api/v1/halls/t1/cases",
            data={"data": json.dumps(submission())},
            files=[("file.id_card", ("scan.jpg", scan, "image/jpeg"))],
            headers=api.auth(KIOSK),
        )
        assert r.status_code == 201, r.text
        big = [("file.id_card", (f"p{i}.jpg", scan, "image/jpeg")) for i in range(MAX_REQUEST_BYTES // limit + 1)]
        r = c.post(
            "/api/v1/halls/t1/cases", data={"data": json.dumps(submission())}, files=big, headers=api.auth(KIOSK)
        )
        assert r.status_code == 413 and "nginx" in r.text  # nginx's own page
