"""The console's read models over real HTTP, on both databases: who may see them, and what they say."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select, update
from sqlmodel import col

from queue_server.app import close_past_days
from queue_server.ids import make_id_number
from queue_server.models import AuditLog, DeviceStatus, Ticket
from queue_server.timeutil import utcnow

from ..harness import DISPLAY, KIOSK, KIOSK_T2, TEST_CONFIG, Api, LiveServer, runtime, serving

SH = ZoneInfo("Asia/Shanghai")
SCRIPT_NAME = "<script>alert(1)</script>"


def console_config(tmp: Path) -> Path:
    """The test halls plus appointments and a queue-length alert on queue A of t1."""
    text = TEST_CONFIG.read_text(encoding="utf-8")
    marker = 'name_en = "Market access"\n'
    assert marker in text
    path = tmp / "console-hall.toml"
    path.write_text(text.replace(marker, marker + "  slot_capacity = 4\n  alert_length = 3\n", 1), encoding="utf-8")
    return path


def next_slot(http: httpx.Client, hall: str = "t1", queue: str = "A") -> str:
    """The start of the next slot of today or tomorrow (it begins within 30 minutes: check-in is open)."""
    now = datetime.now(SH)
    for day in (now.date(), now.date() + timedelta(days=1)):
        r = http.get(f"/api/v1/halls/{hall}/slots", params={"queue": queue, "date": day.isoformat()})
        assert r.status_code == 200, r.text
        for s in r.json():
            if datetime.fromisoformat(s["start"]) > now:
                return str(s["start"])
    raise AssertionError("no slot ahead")


def book_and_check_in(api: Api, name: str) -> dict[str, Any]:
    """Book the next slot of queue A for `name` and check in: the appointment's ticket."""
    body = {
        "queue": "A",
        "start": next_slot(api.http),
        "name": name,
        "id_number": make_id_number(),
        "phone": "13812345678",
    }
    r = api.http.post("/api/v1/halls/t1/appointments", json=body, headers=api.auth("clerk1"))
    assert r.status_code == 201, r.text
    r = api.http.post(f"/api/v1/appointments/{r.json()['code']}/check-in", headers=api.auth(KIOSK))
    assert r.status_code == 201, r.text
    return dict(r.json())


def desk(api: Api, window: int, who: str = "clerk1", hall: str = "t1") -> dict[str, Any]:
    r = api.http.get(f"/api/v1/halls/{hall}/console/windows/{window}", headers=api.auth(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


def overview(api: Api, who: str = "admin", hall: str = "t1") -> dict[str, Any]:
    r = api.http.get(f"/api/v1/halls/{hall}/console/overview", headers=api.auth(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_pages_and_assets_are_served_with_strict_headers(api: Api) -> None:
    for path in ("/console", "/console/hall"):
        r = api.http.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"
    names = ["console/console.js", "console/hall.js", "console/api.js", "console/dom.js", "console/desk.js"]
    names += ["console/overview.js", "console/keys.js", "console/labels.js", "console/login.js", "console/panels.js"]
    names += ["shared/stream.js"]  # the one event follower of the pages
    scripts = []
    for name in names:
        r = api.http.get(f"/static/{name}")
        assert r.status_code == 200 and "javascript" in r.headers["content-type"], name
        scripts.append(r.text)
    assert api.http.get("/static/console/console.css").status_code == 200
    code = "".join(scripts)
    assert "innerHTML" not in code and "insertAdjacentHTML" not in code and "eval(" not in code
    assert "http://" not in code and "https://" not in code  # nothing comes from outside the server


def test_no_token_no_data(api: Api) -> None:
    t = api.take("A")
    for method, path in (
        ("GET", "/api/v1/halls/t1/console/windows/1"),
        ("GET", "/api/v1/halls/t1/console/overview"),
        ("POST", f"/api/v1/console/tickets/{t['id']}/reveal"),
    ):
        r = api.http.request(method, path)
        assert r.status_code == 401, (path, r.text)
        r = api.http.request(method, path, headers={"Authorization": "Bearer forged.token.value"})
        assert r.status_code == 401, (path, r.text)


def test_roles_and_halls(api: Api) -> None:
    t2 = api.take("A", hall="t2", who=KIOSK_T2)
    deny = [
        ("clerk-t2", "GET", "/api/v1/halls/t1/console/windows/1"),
        ("clerk-t2", "GET", "/api/v1/halls/t1/console/overview"),
        ("clerk1", "GET", "/api/v1/halls/t2/console/windows/1"),
        ("clerk1", "GET", "/api/v1/halls/t2/console/overview"),
        ("clerk1", "POST", f"/api/v1/console/tickets/{t2['id']}/reveal"),
        ("clerk2", "GET", "/api/v1/halls/t1/console/windows/1"),  # bound to window 2
        ("approver1", "GET", "/api/v1/halls/t1/console/windows/1"),  # watches, does not call
        ("auditor1", "GET", "/api/v1/halls/t1/console/windows/1"),
        (KIOSK, "GET", "/api/v1/halls/t1/console/overview"),
        (DISPLAY, "GET", "/api/v1/halls/t1/console/overview"),
    ]
    for who, method, path in deny:
        r = api.http.request(method, path, headers=api.auth(who))
        assert r.status_code == 403, (who, path, r.text)
        assert r.json()["detail"]
    for who in ("clerk1", "clerk2", "approver1", "auditor1", "admin"):
        assert overview(api, who)["hall"] == {
            "code": "t1",
            "name": "测试政务服务中心",
            "name_en": "Test Service Centre",
            "timezone": "Asia/Shanghai",
        }
    assert desk(api, 2, "clerk2")["window"]["number"] == 2
    assert desk(api, 1, "clerk-t2", "t2")["window"]["number"] == 1
    assert api.http.get("/api/v1/halls/t1/console/windows/99", headers=api.auth("clerk1")).status_code == 404
    assert api.http.get("/api/v1/halls/nope/console/overview", headers=api.auth("admin")).status_code == 404


def test_desk_lists_what_the_window_may_call_and_predicts_call_next(api: Api) -> None:
    a1 = api.take("A")
    b1 = api.take("B")
    c1 = api.take("C")  # not a queue of window 1
    a2 = api.take("A", lane="special")
    d = desk(api, 1)
    assert d["current"] is None and d["held"] == []
    assert [t["number"] for t in d["waiting"]] == [a1["number"], b1["number"], a2["number"]]
    assert [(q["code"], q["waiting"]) for q in d["queues"]] == [("A", 2), ("B", 1)]
    assert d["next_id"] == a2["id"]  # the priority lane goes first
    assert all("phone" not in t and "id_number" not in t for t in d["waiting"])
    called = api.call_next(1).json()
    assert called["id"] == d["next_id"]
    d = desk(api, 1)
    cur = d["current"]
    assert isinstance(cur, dict) and cur["number"] == a2["number"] and cur["status"] == "called"
    assert cur["called_at"] and cur["arrived_at"] and cur["appointment"] is None
    assert c1["id"] not in [t["id"] for t in d["waiting"]]
    # a ticket transferred to this window is listed (and goes first)
    assert api.act(a2["id"], "complete").status_code == 200
    r = api.http.post(f"/api/v1/tickets/{c1['id']}/transfer", json={"window": 1}, headers=api.auth("clerk1"))
    assert r.status_code == 200, r.text
    d = desk(api, 1)
    assert d["next_id"] == c1["id"] and c1["id"] in [t["id"] for t in d["waiting"]]


def test_counts_of_today_per_window(api: Api) -> None:
    tickets = [api.take("A") for _ in range(5)]
    first = api.call_next(1).json()
    assert api.act(first["id"], "recall").status_code == 200
    assert api.act(first["id"], "start").status_code == 200
    assert api.act(first["id"], "complete").status_code == 200
    second = api.call_next(1).json()
    assert api.act(second["id"], "no-show").status_code == 200
    third = api.call_next(1).json()
    r = api.http.post(f"/api/v1/tickets/{third['id']}/transfer", json={"queue": "B"}, headers=api.auth("clerk1"))
    assert r.status_code == 200
    fourth = api.call_next(1).json()
    assert api.act(fourth["id"], "hold").status_code == 200
    other = api.call_next(2, who="clerk2").json()
    assert api.act(other["id"], "complete", who="clerk2").status_code == 200
    d = desk(api, 1)
    counts = d["counts"]
    assert isinstance(counts, dict)
    assert {k: counts[k] for k in ("called", "recalled", "completed", "no_show", "transferred", "held")} == {
        "called": 4,
        "recalled": 1,
        "completed": 1,
        "no_show": 1,
        "transferred": 1,
        "held": 1,
    }
    assert isinstance(counts["avg_service_s"], int) and 0 <= counts["avg_service_s"] < 60
    assert [t["id"] for t in d["held"]] == [fourth["id"]]
    assert desk(api, 2, "clerk2")["counts"]["completed"] == 1
    r = api.http.get("/api/v1/halls/t1/console/windows/1?counts=false", headers=api.auth("clerk1"))
    assert r.status_code == 200 and r.json()["counts"] is None and r.json()["held"] == d["held"]
    ov = overview(api)
    by_window = {w["number"]: w for w in ov["windows"]}
    assert by_window[1]["counts"]["called"] == 4 and by_window[1]["held"] == 1
    assert by_window[2]["counts"]["completed"] == 1
    assert by_window[3]["counts"]["called"] == 0
    assert len(tickets) == 5


def test_overview_windows_queues_and_devices(api: Api, live: LiveServer) -> None:
    r = api.http.post("/api/v1/halls/t1/windows/1/status", json={"status": "open"}, headers=api.auth("clerk1"))
    assert r.status_code == 200
    r = api.http.post(
        "/api/v1/halls/t1/windows/4/status", json={"status": "paused", "reason": "午休"}, headers=api.auth("clerk1")
    )
    assert r.status_code == 200
    a = api.take("A")
    api.take("A")
    api.take("C")
    assert api.call_next(1).json()["id"] == a["id"]
    assert api.act(a["id"], "start").status_code == 200
    r = api.http.post("/api/v1/devices/health", json={"status": "paper_out", "detail": "缺纸"}, headers=api.auth(KIOSK))
    assert r.status_code == 200
    ov = overview(api, "approver1")
    w = {x["number"]: x for x in ov["windows"]}
    assert w[1]["clerk"] == "clerk1" and w[1]["status"] == "open"
    assert w[1]["current"]["number"] == a["number"] and w[1]["current"]["status"] == "serving"
    assert w[1]["current"]["serving_at"] is not None
    assert w[4]["status"] == "paused" and w[4]["reason"] == "午休" and w[4]["current"] is None
    q = {x["code"]: x for x in ov["queues"]}
    assert (q["A"]["waiting"], q["B"]["waiting"], q["C"]["waiting"]) == (1, 0, 1)
    assert q["A"]["oldest_arrived_at"] is not None and q["B"]["oldest_arrived_at"] is None
    assert q["A"]["windows"] == [1, 2, 4, 5]
    devs = {d["name"]: d for d in ov["devices"]}
    assert "kiosk-t2" not in devs  # another hall's devices are not shown
    assert devs["kiosk-t1"]["status"] == "paper_out" and devs["kiosk-t1"]["online"] is True
    assert devs["kiosk-t1"]["detail"] == "缺纸"
    assert devs["display-t1"]["status"] == "offline" and devs["display-t1"]["last_seen"] is None
    assert ov["offline_after_s"] == 180
    # a kiosk that stopped sending heartbeats four minutes ago is offline
    with live.ctx.db.write() as s:
        s.execute(
            update(DeviceStatus).where(col(DeviceStatus.name) == "kiosk-t1").values(at=utcnow() - timedelta(minutes=4))
        )
        s.commit()
    devs = {d["name"]: d for d in overview(api)["devices"]}
    assert devs["kiosk-t1"]["status"] == "offline" and devs["kiosk-t1"]["reported"] == "paper_out"
    assert devs["kiosk-t1"]["online"] is False


def test_reveal_is_audited_and_limited_to_the_clerks_window(api: Api, live: LiveServer) -> None:
    idn = make_id_number(birth=datetime(1985, 5, 5).date())
    t = api.take("A", who="clerk1", phone="13912345678", id_number=idn, channel="counter")
    assert api.call_next(1).json()["id"] == t["id"]
    cur = desk(api, 1)["current"]
    assert isinstance(cur, dict) and cur["id_number_masked"] != idn and cur["phone_masked"] != "13912345678"
    r = api.http.post(f"/api/v1/console/tickets/{t['id']}/reveal", headers=api.auth("clerk2"))
    assert r.status_code == 403  # clerk2 sits at window 2
    r = api.http.post(f"/api/v1/console/tickets/{t['id']}/reveal", headers=api.auth("approver1"))
    assert r.status_code == 403
    r = api.http.post(f"/api/v1/console/tickets/{t['id']}/reveal", headers=api.auth("clerk1"))
    assert r.status_code == 200, r.text
    assert r.json() == {"id": t["id"], "name": None, "phone": "13912345678", "id_number": idn}
    with live.ctx.db.read() as s:
        rows = s.execute(select(AuditLog).where(col(AuditLog.subject) == f"ticket:{t['id']}")).scalars().all()
        assert [(a.actor, a.action, a.hall_code) for a in rows] == [("clerk1", "reveal", "t1")]
        assert s.get(Ticket, t["id"]) is not None
    assert api.http.post("/api/v1/console/tickets/999999/reveal", headers=api.auth("clerk1")).status_code == 404


@pytest.fixture
def own(tmp_db: str, tmp_path: Path) -> Iterator[Api]:
    """A server of its own with appointments and a queue alert (the shared test halls have neither)."""
    with serving(runtime(tmp_db, tmp_path / "var", config=console_config(tmp_path))) as srv:
        client = Api(srv)
        yield client
        client.close()


def test_appointment_details_masked_and_queue_alerts(own: Api) -> None:
    api = own
    t = book_and_check_in(api, SCRIPT_NAME)
    assert api.call_next(1).json()["id"] == t["id"]
    cur = desk(api, 1)["current"]
    assert isinstance(cur, dict) and cur["lane"] == "appointment"
    appt = cur["appointment"]
    assert appt["name_masked"] != SCRIPT_NAME and appt["name_masked"].startswith("<")
    assert appt["start"] and appt["end"] and appt["id_number_masked"] and appt["phone_masked"] == "138****5678"
    r = api.http.post(f"/api/v1/console/tickets/{t['id']}/reveal", headers=api.auth("clerk1"))
    assert r.status_code == 200 and r.json()["name"] == SCRIPT_NAME and r.json()["phone"] == "13812345678"
    # three waiting in A reaches its alert_length: the housekeeping raises it, the overview lists it
    for _ in range(3):
        api.take("A")
    assert overview(api)["alerts"] == []
    close_past_days(api.server.ctx)
    assert overview(api)["alerts"] == [{"queue": "A", "kind": "length", "threshold": 3}]
    r = api.http.get("/api/v1/halls/t1/board")
    assert r.status_code == 200
