"""Result ready (notification), every delivery path, and the masked case query (public, kiosk)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select

from queue_server.models import Event
from queue_server.notify.models import Notification

from ..harness import KIOSK, KIOSK_T2, Api
from .helpers import ID_NUMBER, NAME, PHONE, act, new_case


def ok(api: Api, number: str, action: str, who: str = "clerk1", **body: Any) -> dict[str, Any]:
    r = act(api, number, action, who, **body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def ready_case(api: Api) -> tuple[str, str, dict[str, Any]]:
    c = new_case(api)
    n = c["number"]
    ok(api, n, "accept")
    ok(api, n, "review", "approver1")
    ok(api, n, "approve", "approver1")
    view = ok(api, n, "ready", "approver1")
    return n, view["pickup_code"], c


def test_ready_notifies_through_the_outbox(api: Api) -> None:
    n, code, _ = ready_case(api)
    with api.server.ctx.db.read() as s:
        rows = s.execute(select(Notification).where(Notification.kind == "case_ready")).scalars().all()
    [msg] = rows
    assert msg.ticket == n and "个体工商户设立登记" in msg.text and "统一出件" in msg.text
    # staff see it masked; only the send carries it, and the row forgets it once sent
    assert code not in msg.text and (msg.secret is None if msg.status == "sent" else code in (msg.secret or ""))
    assert api.server.ctx.cipher.decrypt(msg.phone_enc, context="phone") == PHONE
    assert NAME not in msg.text and ID_NUMBER not in msg.text


def test_no_phone_no_message(api: Api) -> None:
    c = new_case(api, applicant={"name": NAME, "id_number": ID_NUMBER})
    ok(api, c["number"], "accept")
    ok(api, c["number"], "review", "approver1")
    ok(api, c["number"], "approve", "approver1")
    ok(api, c["number"], "ready")
    with api.server.ctx.db.read() as s:
        assert s.execute(select(Notification).where(Notification.kind == "case_ready")).first() is None


def test_pickup_ticket_at_the_output_queue(api: Api) -> None:
    n, _, _ = ready_case(api)
    r = api.http.post(f"/api/v1/cases/{n}/pickup-ticket", headers=api.auth(KIOSK))
    assert r.status_code == 201, r.text
    t = r.json()["ticket"]
    assert t["queue"] == api.server.ctx.hall("t1").output_queue == "C" and t["number"].startswith("C")
    again = api.http.post(f"/api/v1/cases/{n}/pickup-ticket", headers=api.auth("clerk1"))
    assert again.json()["ticket"]["number"] == t["number"]  # one ticket per case and day
    assert api.http.post(f"/api/v1/cases/{n}/pickup-ticket", headers=api.auth(KIOSK_T2)).status_code == 403
    view = ok(api, n, "deliver", note="窗口领取")
    [d] = view["deliveries"]
    assert d == d | {"method": "window", "status": "delivered", "ticket": t["number"]}
    not_ready = new_case(api)["number"]
    assert api.http.post(f"/api/v1/cases/{not_ready}/pickup-ticket", headers=api.auth(KIOSK)).status_code == 409


def test_pickup_code_single_use(api: Api) -> None:
    n, code, _ = ready_case(api)
    assert api.http.post("/api/v1/halls/t1/pickup", json={"code": code}, headers=api.auth("clerk1")).status_code == 403
    assert api.http.post("/api/v1/halls/t2/pickup", json={"code": code}, headers=api.auth(KIOSK_T2)).status_code == 404
    wrong = "0" * 8 if code != "0" * 8 else "1" * 8
    assert api.http.post("/api/v1/halls/t1/pickup", json={"code": wrong}, headers=api.auth(KIOSK)).status_code == 404
    r = api.http.post("/api/v1/halls/t1/pickup", json={"code": code}, headers=api.auth(KIOSK))
    assert r.status_code == 200 and r.json() == r.json() | {"number": n, "status": "delivered"}
    assert api.http.post("/api/v1/halls/t1/pickup", json={"code": code}, headers=api.auth(KIOSK)).status_code == 404
    view = api.http.get(f"/api/v1/cases/{n}", headers=api.auth("clerk1")).json()
    assert [(d["method"], d["status"]) for d in view["deliveries"]] == [("self_pickup", "delivered")]
    assert view["history"][-1]["actor"] == "kiosk-t1"


def test_public_query_by_token_or_last_four(api: Api) -> None:
    c = new_case(api)
    n = c["number"]
    ok(api, n, "accept")
    for proof in (c["query_token"], ID_NUMBER[-4:], ID_NUMBER[-4:].lower()):
        r = api.http.get(f"/api/v1/cases/{n}/status", params={"proof": proof})
        assert r.status_code == 200, proof
        body = r.json()
        assert body["status"] == "accepted" and [t["status"] for t in body["timeline"]] == ["submitted", "accepted"]
        assert body["applicant_masked"] == "张*三" and body["light"] in ("green", "yellow", "red")
    for proof in ("0000", "ABCDEFGH"):
        assert api.http.get(f"/api/v1/cases/{n}/status", params={"proof": proof}).status_code == 404
    assert api.http.get("/api/v1/cases/T1209901019999/status", params={"proof": "1234"}).status_code == 404


def test_kiosk_lookup_by_id_card(api: Api) -> None:
    a, b = new_case(api)["number"], new_case(api)["number"]
    r = api.http.post("/api/v1/halls/t1/cases/lookup", json={"id_number": ID_NUMBER}, headers=api.auth(KIOSK))
    assert r.status_code == 200 and {x["number"] for x in r.json()} == {a, b}
    assert api.http.post("/api/v1/halls/t1/cases/lookup", json={"id_number": ID_NUMBER}).status_code == 401
    r = api.http.post("/api/v1/halls/t1/cases/lookup", json={"id_number": ID_NUMBER}, headers=api.auth(KIOSK_T2))
    assert r.status_code == 403


def test_nothing_personal_in_public_answers_or_events(api: Api) -> None:
    n, code, c = ready_case(api)
    answers = [
        orjson.dumps(c),
        api.http.get(f"/api/v1/cases/{n}/status", params={"proof": c["query_token"]}).content,
        api.http.post("/api/v1/halls/t1/cases/lookup", json={"id_number": ID_NUMBER}, headers=api.auth(KIOSK)).content,
        api.http.get(f"/api/v1/cases/{n}", headers=api.auth("clerk1")).content,
        api.http.get("/api/v1/halls/t1/worklist", headers=api.auth("approver1")).content,
    ]
    with api.server.ctx.db.read() as s:
        events = s.execute(select(Event).where(Event.type == "case.status")).scalars().all()
    assert events and all(set(orjson.loads(e.data)) == {"number", "item", "status"} for e in events)
    answers += [e.data.encode() for e in events]
    for blob in answers:
        text = blob.decode()
        for secret in (NAME, ID_NUMBER, PHONE, ID_NUMBER[6:14], code):
            assert secret not in text, secret
