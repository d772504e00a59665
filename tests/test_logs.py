"""The server's log as an operator reads it: `HALL_LOG_FORMAT=json` (one JSON object per line) and an access
log without query strings, with the same redaction as the text format (queue_server/logs.py)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from queue_server.logs import AccessFilter, JsonFormatter, RedactFilter

from .harness import DISPLAY, KIOSK, TEST_CONFIG, free_port
from .test_cli import HALL, env, running

ID_NUMBER = "11010519491231002X"
PHONE = "13912345678"


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_served_log_lines(tmp_path: Path, fmt: str) -> None:
    """A served day's log: every line JSON (json), access lines without query strings, nothing personal."""
    port = free_port()
    db = f"sqlite:///{tmp_path / 'logs.db'}"
    environ = env(tmp_path, HALL_DATABASE_URL=db, HALL_LOG_LEVEL="info", HALL_LOG_FORMAT=fmt)
    base = f"http://127.0.0.1:{port}"
    with running([HALL, "serve", "--config", str(TEST_CONFIG), "--port", str(port)], tmp_path, environ, port) as p:
        auth = {"Authorization": f"Bearer {KIOSK}"}
        r = httpx.post(f"{base}/api/v1/halls/t1/tickets?x={PHONE}", json={"queue": "A", "phone": PHONE}, headers=auth)
        assert r.status_code == 201, r.text
        httpx.get(f"{base}/api/v1/track/{r.json()['track_token']}?since=4")
        httpx.get(f"{base}/api/v1/halls/t1/board?id_number={ID_NUMBER}")
        with connect(f"ws://127.0.0.1:{port}/ws/halls/t1/events?token={DISPLAY}") as ws:
            ws.recv(timeout=10)
        p.terminate()
        out, _ = p.communicate(timeout=20)
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines
    for secret in (PHONE, ID_NUMBER, DISPLAY, r.json()["track_token"], "?since", "?x=", "?id_number"):
        assert secret not in out, secret
    if fmt == "text":
        assert any('"POST /api/v1/halls/t1/tickets HTTP/1.1" 201' in line for line in lines), out
        return
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(records) == len(lines) - 1, out  # every line but `hall serve`'s first (stdout) is one JSON object
    assert all({"ts", "level", "logger", "msg"} <= rec.keys() for rec in records)
    access = [rec for rec in records if rec["logger"] == "uvicorn.access"]
    take = next(rec for rec in access if rec["method"] == "POST")
    assert take["path"] == "/api/v1/halls/t1/tickets" and take["status"] == 201
    assert any(rec["path"] == "/api/v1/track/***" for rec in access)
    assert any(rec["path"] == "/api/v1/halls/t1/board" for rec in access)
    assert any("WebSocket /ws/halls/t1/events" in rec["msg"] for rec in records)


def test_json_traceback_is_one_redacted_line() -> None:
    """An exception's traceback is a field of the one line, masked like the message."""
    try:
        raise ValueError(f"bad phone {PHONE} for {ID_NUMBER}")
    except ValueError:
        rec = logging.LogRecord("queue_server.x", logging.ERROR, __file__, 1, "failed for %s", (PHONE,), sys.exc_info())
    assert RedactFilter().filter(rec)
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    out = json.loads(line)
    assert out["msg"] == "failed for ***" and out["level"] == "error"
    assert "ValueError: bad phone *** for ***" in out["exc"]
    assert PHONE not in line and ID_NUMBER not in line


def test_access_filter_cuts_query_strings() -> None:
    """uvicorn's access and websocket lines lose everything after `?` in the path."""
    access = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("1.2.3.4:5", "GET", "/api/v1/halls/t1/board?a=1&b=2", "1.1", 200), None,
    )  # fmt: skip
    ws = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" [accepted]',
        ("1.2.3.4:5", "/ws/halls/t1/events?token=abc"), None,
    )  # fmt: skip
    for rec in (access, ws):
        assert AccessFilter().filter(rec)
    assert access.getMessage() == '1.2.3.4:5 - "GET /api/v1/halls/t1/board HTTP/1.1" 200'
    assert ws.getMessage() == '1.2.3.4:5 - "WebSocket /ws/halls/t1/events" [accepted]'
