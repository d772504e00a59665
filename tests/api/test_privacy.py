"""No phone or ID number in any log line, event, board, tracking page or ticket response; at rest only encrypted."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from sqlmodel import col
from websockets.sync.client import connect

from queue_server.ids import make_id_number
from queue_server.logs import RedactFilter, log_config
from queue_server.models import Event, Hall, SQLModel, Ticket

from ..harness import DISPLAY, KIOSK, Api

PHONE_1 = "13912345678"
PHONE_2 = "13987654321"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def _id_with_x() -> str:
    """A valid ID number whose check character is X (citizens type it lower-case)."""
    for serial in range(1000):
        idn = make_id_number(region="440305", birth=date(1979, 8, 14), serial=serial)
        if idn.endswith("X"):
            return idn
    raise AssertionError("no serial gives X")


ID_1 = make_id_number(region="371002", birth=date(1987, 3, 29), serial=417)
ID_2 = make_id_number(region="110105", birth=date(1975, 11, 2), serial=58)
ID_X = _id_with_x()


def _secrets() -> list[str]:
    """Every form in which the personal data of this test could leak."""
    out = [PHONE_1, PHONE_2]
    for idn in (ID_1, ID_2, ID_X):
        out += [idn, idn.lower(), idn[:17]]
    return out


def _leaks(text: str) -> list[str]:
    low = text.lower()
    return [s for s in _secrets() if s.lower() in low]


@contextmanager
def _capture_everything(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Route uvicorn's own loggers (which do not propagate) into caplog too, at DEBUG."""
    caplog.set_level(logging.DEBUG)
    saved = {name: logging.getLogger(name).level for name in UVICORN_LOGGERS}
    for name in UVICORN_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    for name in ("uvicorn", "uvicorn.access"):
        logging.getLogger(name).addHandler(caplog.handler)
    try:
        yield
    finally:
        for name in ("uvicorn", "uvicorn.access"):
            logging.getLogger(name).removeHandler(caplog.handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def _lifecycle(api: Api, seen: list[str]) -> dict[str, dict[str, Any]]:
    """Take tickets with personal data and walk them through every action; collect every response body."""
    kiosk, clerk1, clerk2 = api.auth(KIOSK), api.auth("clerk1"), api.auth("clerk2")
    h = api.http

    def post(path: str, headers: dict[str, str], expect: int = 200, **kw: Any) -> dict[str, Any]:
        r = h.post(path, headers=headers, **kw)
        seen.append(r.text)
        assert r.status_code == expect, (path, r.status_code, r.text)
        return dict(r.json()) if r.content else {}

    def get(path: str, headers: dict[str, str] | None = None) -> None:
        r = h.get(path, headers=headers or {})
        seen.append(r.text)
        assert r.status_code == 200, (path, r.text)

    take = "/api/v1/halls/t1/tickets"
    t1 = post(take, kiosk, 201, json={"queue": "A", "id_number": ID_1, "phone": PHONE_1})
    t2 = post(take, clerk1, 201, json={"queue": "B", "id_number": ID_2, "phone": "+86 139-8765-4321"})
    t3 = post(take, kiosk, 201, json={"queue": "A", "id_number": ID_X.lower(), "phone": PHONE_1, "channel": "mobile"})
    t4 = post(take, kiosk, 201, json={"queue": "C", "id_number": ID_1, "phone": PHONE_2})
    assert t1["phone_masked"] == "139****5678" and t2["phone_masked"] == "139****4321"
    assert t3["id_number_masked"] == ID_X[:4] + "*" * 10 + ID_X[-4:]
    for t in (t1, t2, t3, t4):
        get(f"/api/v1/track/{t['track_token']}")
    get("/api/v1/halls/t1/board")
    get("/api/v1/halls/t1/queues")

    # t1: call, recall, start, transfer to queue C, called there, completed.
    assert post("/api/v1/halls/t1/windows/1/call-next", clerk1)["id"] == t1["id"]
    get("/api/v1/halls/t1/board")
    post(f"/api/v1/tickets/{t1['id']}/recall", clerk1)
    post(f"/api/v1/tickets/{t1['id']}/start", clerk1)
    post(f"/api/v1/tickets/{t1['id']}/transfer", clerk1, json={"queue": "C"})
    get(f"/api/v1/track/{t1['track_token']}")
    # t2: hold, resume, transfer to window 4, no-show, rejoin, cancelled at the kiosk.
    assert post("/api/v1/halls/t1/windows/2/call-next", clerk2)["id"] == t2["id"]
    post(f"/api/v1/tickets/{t2['id']}/hold", clerk2)
    post(f"/api/v1/tickets/{t2['id']}/resume", clerk2)
    post(f"/api/v1/tickets/{t2['id']}/transfer", clerk2, json={"window": 4})
    assert post("/api/v1/halls/t1/windows/4/call-next", clerk1)["id"] == t2["id"]
    post(f"/api/v1/tickets/{t2['id']}/no-show", clerk1)
    post(f"/api/v1/tickets/{t2['id']}/rejoin", clerk1)
    post(f"/api/v1/tickets/{t2['id']}/cancel", kiosk)
    # t1 again (now in C, the earliest arrival there), t3 by choice out of order; t4 cancelled by the citizen.
    assert post("/api/v1/halls/t1/windows/3/call-next", clerk1)["id"] == t1["id"]
    get("/api/v1/halls/t1/board")
    get("/api/v1/halls/t1/windows")
    post(f"/api/v1/tickets/{t1['id']}/complete", clerk1)
    post("/api/v1/halls/t1/windows/1/call", clerk1, json={"number": t3["number"]})
    post(f"/api/v1/tickets/{t3['id']}/complete", clerk1)
    post(f"/api/v1/track/{t4['track_token']}/cancel", {})
    for t in (t1, t2, t3, t4):
        get(f"/api/v1/track/{t['track_token']}")
        get(f"/api/v1/tickets/{t['id']}", clerk1)
    for status in ("open", "done", "cancelled"):
        get(f"/api/v1/halls/t1/tickets?status={status}", clerk1)
    get("/api/v1/halls/t1/board")
    get("/api/v1/halls/t1/queues")

    # Refusals must not echo what they refuse.
    good = ID_2
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    for body in (
        {"queue": "A", "id_number": bad_check},
        {"queue": "A", "id_number": ID_1 + "99"},  # wrong length
        {"queue": "A", "id_number": ID_1, "phone": PHONE_1 + "0"},  # bad phone, good ID beside it
        {"queue": "A", "id_number": ID_1 * 2},  # beyond the schema's max_length
        {"queue": "Z", "id_number": ID_1, "phone": PHONE_1},  # unknown queue
        {"queue": "A", "lane": 1, "id_number": ID_1, "phone": PHONE_1},  # schema error elsewhere in the body
    ):
        r = h.post(take, json=body, headers=kiosk)
        seen.append(r.text)
        assert r.status_code in (404, 422), (body, r.status_code, r.text)
        assert not _leaks(r.text) and bad_check not in r.text, r.text

    # The one place that shows them (to a clerk, audited): its own log lines must still be clean.
    r = h.post(f"/api/v1/tickets/{t1['id']}/reveal", headers=clerk1)
    assert r.status_code == 200 and r.json()["id_number"] == ID_1 and r.json()["phone"] == PHONE_1
    return {"t1": t1, "t2": t2, "t3": t3, "t4": t4}


def _replay(api: Api) -> list[str]:
    """Every event of the hall as the websocket sends it (replay from seq 0)."""
    with api.server.ctx.db.read() as s:
        head = s.execute(select(col(Hall.last_seq)).where(col(Hall.code) == "t1")).scalar_one()
    frames: list[str] = []
    url = f"{api.server.ws_url}/ws/halls/t1/events?since=0&token={DISPLAY}"
    with connect(url, open_timeout=10) as ws:
        while True:
            msg = ws.recv(timeout=10)
            assert isinstance(msg, str)
            frames.append(msg)
            if orjson.loads(msg)["seq"] >= head:
                return frames


def _dump_database(api: Api) -> str:
    """Every row of every table, as text."""
    parts = []
    with api.server.ctx.db.read() as s:
        for table in SQLModel.metadata.sorted_tables:
            parts += [repr(tuple(row)) for row in s.execute(select(table)).all()]
    return "\n".join(parts)


def test_no_personal_data_in_logs_events_or_public_views(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []
    with _capture_everything(caplog):
        _lifecycle(api, seen)
        frames = _replay(api)
    records = caplog.records
    # The capture works: the access log and the websocket line are there (else this test proves nothing).
    assert any(r.name == "uvicorn.access" and "/api/v1/halls/t1/tickets" in r.getMessage() for r in records)
    assert any("WebSocket /ws/halls/t1/events" in r.getMessage() for r in records)
    for rec in records:
        assert not _leaks(rec.getMessage()), f"log line carries personal data: {rec.name}: {rec.getMessage()}"
    assert not _leaks(caplog.text), "formatted log output (incl. tracebacks) carries personal data"

    for text in seen:
        assert not _leaks(text), f"response carries personal data: {text[:300]}"

    with api.server.ctx.db.read() as s:
        events = list(s.execute(select(Event).where(col(Event.hall_code) == "t1")).scalars())
    types = {e.type for e in events}
    assert {"ticket.issued", "ticket.called", "ticket.transferred", "ticket.completed", "ticket.cancelled"} <= types
    assert {"ticket.held", "ticket.no_show", "ticket.recalled", "ticket.serving", "ticket.rejoined"} <= types
    for e in events:
        assert not _leaks(e.data), f"event {e.seq} {e.type} carries personal data: {e.data}"
        data = orjson.loads(e.data)
        assert not {"phone", "id_number", "phone_masked", "id_number_masked", "name"} & set(data), data
    assert len(frames) == len(events)
    for f in frames:
        assert not _leaks(f), f"websocket frame carries personal data: {f}"


def test_personal_data_is_stored_only_encrypted(api: Api) -> None:
    t1 = api.take("A", id_number=ID_1, phone=PHONE_1)
    tx = api.take("B", id_number=ID_X.lower(), phone="+86 139 8765 4321")
    api.call_next(1)
    api.act(t1["id"], "complete")

    dump = _dump_database(api)
    assert not _leaks(dump), "a table holds a phone or ID number in clear"
    cipher = api.server.ctx.cipher
    with api.server.ctx.db.read() as s:
        rows = {t.id: t for t in s.execute(select(Ticket)).scalars()}
    for tid, idn, phone in ((t1["id"], ID_1, PHONE_1), (tx["id"], ID_X, PHONE_2)):
        t = rows[tid]
        assert t.id_enc and t.phone_enc and t.id_hash
        assert idn not in t.id_enc and phone not in t.phone_enc
        assert cipher.decrypt(t.id_enc, context="id_number") == idn  # really the value, encrypted
        assert cipher.decrypt(t.phone_enc, context="phone") == phone
        assert t.id_hash != idn and idn not in t.id_hash
        assert t.id_hash == cipher.keyed_hash(idn)  # the normalised number, keyed ...
        assert t.id_hash not in {hashlib.sha256(v.encode()).hexdigest() for v in (idn, idn.lower())}  # ... not bare
    assert rows[t1["id"]].id_enc != rows[tx["id"]].id_enc

    if api.server.ctx.db.is_sqlite:  # the bytes on disk, WAL included
        path = Path(api.server.ctx.db.url.split("///", 1)[1])
        for f in (path, Path(f"{path}-wal")):
            if f.exists():
                raw = f.read_bytes()
                for secret in _secrets():
                    assert secret.encode() not in raw, f"{secret} in clear in {f.name}"


def test_invalid_id_number_is_not_echoed(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    bad = ID_1[:-1] + ("0" if ID_1[-1] != "0" else "1")
    with _capture_everything(caplog):
        r = api.http.post("/api/v1/halls/t1/tickets", json={"queue": "A", "id_number": bad}, headers=api.auth(KIOSK))
    assert r.status_code == 422
    assert bad not in r.text and bad[:17] not in r.text
    assert "校验位" in r.text or "check digit" in r.text  # says why, without the number
    assert not any(bad[:17] in rec.getMessage() for rec in caplog.records)


def test_redact_filter_masks_websocket_token(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    # The line uvicorn really logs for a websocket opened with ?token=…
    with _capture_everything(caplog), connect(f"{api.server.ws_url}/ws/halls/t1/events?token={DISPLAY}") as ws:
        ws.recv(timeout=10)  # the snapshot
    lines = [r for r in caplog.records if "WebSocket /ws/halls/t1/events" in r.getMessage()]
    assert lines, "uvicorn logged no websocket line"
    rec = lines[0]
    assert DISPLAY in rec.getMessage()
    assert RedactFilter().filter(rec) is True
    assert DISPLAY not in rec.getMessage()
    assert "token=***" in rec.getMessage()
    assert "/ws/halls/t1/events" in rec.getMessage()  # the rest of the line survives

    for msg in (
        "GET /ws/halls/t1/events?since=5&token=abc.def-ghi HTTP/1.1",
        "POST /api/v1/auth/token username=clerk1&password=s3cret!&x=1",
        "access_token=eyJhbGciOi.payload.sig next",
    ):
        r = logging.LogRecord("t", logging.INFO, __file__, 1, "%s", (msg,), None)
        RedactFilter().filter(r)
        out = r.getMessage()
        assert "abc.def-ghi" not in out and "s3cret!" not in out and "eyJhbGciOi" not in out, out
        assert "***" in out

    # The served configuration puts the filter on the one handler every logger ends in.
    cfg: dict[str, Any] = log_config("debug")
    assert cfg["handlers"]["default"]["filters"][-1] == "redact"  # last: whatever another filter rewrote too
    loggers: dict[str, dict[str, Any]] = cfg["loggers"]
    assert all(v.get("propagate", True) for k, v in loggers.items() if k.startswith("uvicorn"))
