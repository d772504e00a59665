"""The world the route × role table's calls run against: one object of each kind in hall t1."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..cases.helpers import new_case
from ..harness import Api, LiveServer

SH = ZoneInfo("Asia/Shanghai")


def _slot(api: Api) -> str:
    now = datetime.now(SH)
    for day in (now.date(), now.date() + timedelta(days=1), now.date() + timedelta(days=2)):
        r = api.http.get("/api/v1/halls/t1/slots", params={"queue": "A", "date": day.isoformat()})
        starts = [s["start"] for s in r.json() if datetime.fromisoformat(s["start"]) > now] if r.is_success else []
        if starts:
            return str(starts[-1])
    return (now + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0).isoformat()


def _appointment(live: LiveServer) -> str:
    from queue_server.ids import make_id_number, mask_id_number
    from queue_server.models import Appointment

    cipher, now = live.ctx.cipher, datetime.now(SH)
    idn = make_id_number(serial=9)
    start = (now + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    a = Appointment(
        code="RT12345678", hall_code="t1", queue="A", service_day=start.date(), slot_start=start,
        slot_end=start + timedelta(minutes=30), name_enc=cipher.encrypt("张三", context="name"), name_masked="张*",
        id_enc=cipher.encrypt(idn, context="id_number"), id_hash=cipher.keyed_hash(idn), id_masked=mask_id_number(idn),
        created_at=now, updated_at=now,
    )  # fmt: skip
    with live.ctx.db.write() as s:
        s.add(a)
    return a.code


def build_world(api: Api) -> dict[str, Any]:
    """A ticket, a case with a document and a material, a notification, a complaint, a follow-up… in hall t1."""
    from queue_server.ids import make_id_number

    from ..cases.helpers import ID_NUMBER, act

    w: dict[str, Any] = {"hall": "t1", "today": datetime.now(SH).date().isoformat(), "id_number": ID_NUMBER}
    w["web_domain"], w["web_lang"] = "web", "ko"  # GET /web/i18n/{domain}/{lang}.js
    w["username"] = "no-such-user"  # revoking a real user's sessions would end the tokens the table uses
    w["slot"] = _slot(api)
    # a served ticket with a bad review (a follow-up), then the ticket the window calls
    t0 = api.take("A", phone="13800001111")
    assert api.call_next(1).json()["id"] == t0["id"]
    assert api.act(t0["id"], "complete").status_code == 200
    r = api.http.post("/api/v1/halls/t1/evaluations", json={"level": 1, "track_token": t0["track_token"]})
    assert r.status_code == 201, r.text
    w["evaluation"] = r.json()["id"]
    t = api.take("A", phone="13800001111", id_number=make_id_number(serial=5))
    assert api.call_next(1).json()["id"] == t["id"]
    w |= {"ticket_id": t["id"], "track_token": t["track_token"], "action": "recall", "number": 1, "n": 1}
    notes = api.http.get("/api/v1/halls/t1/notifications", headers=api.auth("clerk1")).json()
    w["notification_id"] = notes[0]["id"]
    followups = api.http.get("/api/v1/halls/t1/followups", headers=api.auth("approver1")).json()
    w["followup"], w["step"] = followups[0]["id"], "verify"
    # an appointment (the test hall takes no bookings: written as the booking service would) and a home visit
    w["code_appointment"] = _appointment(api.server)
    visit = {"queue": "C", "name": "孙大爷", "id_number": make_id_number(serial=11, birth=datetime(1940, 1, 2).date())}
    visit |= {"phone": "13700001111", "address": "环翠区文化西路 1 号", "reason": "行动不便"}
    r = api.http.post("/api/v1/halls/t1/home-visits", json=visit)
    assert r.status_code == 201, r.text
    w["code_visit"] = r.json()["code"]
    # a case, accepted (its acceptance notice is a document), handed over
    c = new_case(api)
    w |= {"case": c["number"], "proof": c["receipt_url"].split("proof=")[1]}
    view = act(api, c["number"], "accept", window="1号窗口").json()
    w["material_id"] = view["materials"][0]["id"]
    w["doc_id"] = view["documents"][0]["id"]
    r = api.http.post("/api/v1/halls/t1/handovers", json={"cases": [c["number"]]}, headers=api.auth("clerk1"))
    assert r.status_code == 201, r.text
    w["handover"] = r.json()["number"]
    w["item"], w["case_action"] = "SCZT-GTH-001", "review"
    # an approved case of a licence item: its signed 电子证照
    c2 = new_case(api)["number"]
    for action, who in (("accept", "clerk1"), ("review", "approver1"), ("approve", "approver1")):
        r = act(api, c2, action, who)
        assert r.status_code == 200, r.text
    w["cert_case"], w["cert_code"] = c2, r.json()["certificates"][0]["code"]
    # a key project of the 帮办代办 ledger with one milestone
    r = api.http.post(
        "/api/v1/halls/t1/assist/projects",
        json={"name": "厂房建设", "organisation": "某公司"},
        headers=api.auth("clerk1"),
    )
    assert r.status_code == 201, r.text
    w["assist_project"] = r.json()["id"]
    r = api.http.post(
        f"/api/v1/assist/projects/{w['assist_project']}/milestones",
        json={"name": "规划许可", "due": w["today"]},
        headers=api.auth("clerk1"),
    )
    assert r.status_code == 201, r.text
    w["assist_milestone"] = r.json()["milestones"][0]["id"]
    w["fmt"] = "csv"
    r = api.http.post("/api/v1/halls/t1/complaints", json={"category": "service", "content": "窗口人员态度不好"})
    assert r.status_code == 201, r.text
    w["complaint_code"], w["complaint_proof"] = r.json()["code"], r.json()["query_code"]
    listed = api.http.get("/api/v1/halls/t1/complaints", headers=api.auth("approver1")).json()
    w["complaint"] = listed[0]["id"]
    # a chain application (一链办理) with its query code
    from ..cases.test_chains import body, post_chain

    r = post_chain(api, body())
    assert r.status_code == 201, r.text
    w |= {"chain": r.json()["number"], "chain_proof": r.json()["query_token"], "chain_code": "YL-CYD-001"}
    w["chain_action"] = "notify_missing"
    return w
