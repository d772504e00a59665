"""Taking numbers, calling and the window actions, over real HTTP."""

from __future__ import annotations

import pytest

from queue_server.ids import make_id_number

from ..harness import DISPLAY, KIOSK, KIOSK_T2, Api


def test_numbers_are_per_queue_and_gap_free(api: Api) -> None:
    got = [api.take("A")["number"], api.take("A")["number"], api.take("B")["number"], api.take("A")["number"]]
    assert got == ["A001", "A002", "B001", "A003"]


def test_ticket_fields_and_people_ahead(api: Api) -> None:
    first = api.take("A")
    second = api.take("A")
    assert first["status"] == "waiting" and first["lane"] == "normal" and first["queue"] == "A"
    assert first["ahead"] == 0 and second["ahead"] == 1
    assert second["estimated_wait_s"] > 0
    assert second["issued_at"].endswith("+08:00")
    assert len(second["track_token"]) >= 20


def test_unknown_queue_is_404(api: Api) -> None:
    r = api.http.post("/api/v1/halls/t1/tickets", json={"queue": "Z"}, headers=api.auth(KIOSK))
    assert r.status_code == 404
    assert "Z" in r.json()["detail"]


def test_invalid_id_number_is_422_and_nothing_issued(api: Api) -> None:
    good = make_id_number()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    r = api.http.post("/api/v1/halls/t1/tickets", json={"queue": "A", "id_number": bad}, headers=api.auth(KIOSK))
    assert r.status_code == 422
    assert bad not in r.text
    assert api.take("A")["number"] == "A001"  # the failed request used no number


def test_id_number_and_phone_are_masked(api: Api) -> None:
    idn = make_id_number()
    t = api.take("A", id_number=idn, phone="13812345678")
    assert t["id_number_masked"] == idn[:4] + "*" * 10 + idn[-4:]
    assert t["phone_masked"] == "138****5678"
    r = api.http.get(f"/api/v1/tickets/{t['id']}", headers=api.auth("clerk1"))
    assert idn not in r.text and "13812345678" not in r.text


def test_reveal_is_for_clerks_and_audited(api: Api) -> None:
    idn = make_id_number()
    t = api.take("A", id_number=idn, phone="13812345678")
    assert api.http.post(f"/api/v1/tickets/{t['id']}/reveal", headers=api.auth(KIOSK)).status_code == 403
    assert api.http.post(f"/api/v1/tickets/{t['id']}/reveal", headers=api.auth("auditor1")).status_code == 403
    r = api.http.post(f"/api/v1/tickets/{t['id']}/reveal", headers=api.auth("clerk1"))
    assert r.status_code == 200
    assert r.json() == {"id": t["id"], "phone": "13812345678", "id_number": idn}
    from sqlmodel import select

    from queue_server.models import AuditLog

    with api.server.ctx.db.read() as s:
        rows = [(a.actor, a.action, a.subject) for a in s.exec(select(AuditLog)).all()]
    assert rows == [("clerk1", "reveal", f"ticket:{t['id']}")]


def test_idempotency_key_returns_the_same_ticket(api: Api) -> None:
    h = api.auth(KIOSK) | {"Idempotency-Key": "tap-1"}
    r1 = api.http.post("/api/v1/halls/t1/tickets", json={"queue": "A"}, headers=h)
    r2 = api.http.post("/api/v1/halls/t1/tickets", json={"queue": "A"}, headers=h)
    assert r1.status_code == 201 and r2.status_code == 200
    assert r1.json()["id"] == r2.json()["id"]
    assert api.take("A")["number"] == "A002"


def test_call_next_then_actions(api: Api) -> None:
    t = api.take("A")
    r = api.call_next(1)
    assert r.status_code == 200
    called = r.json()
    assert called["id"] == t["id"] and called["status"] == "called" and called["window"] == 1
    assert api.act(t["id"], "recall").json()["recalls"] == 1
    assert api.act(t["id"], "start").json()["status"] == "serving"
    assert api.act(t["id"], "start").status_code == 409
    assert api.act(t["id"], "complete").json()["status"] == "done"
    assert api.act(t["id"], "complete").status_code == 409
    assert api.call_next(1).status_code == 204


def test_call_next_while_busy_is_409(api: Api) -> None:
    api.take("A")
    api.take("A")
    assert api.call_next(1).status_code == 200
    r = api.call_next(1)
    assert r.status_code == 409
    assert "A001" in r.json()["detail"]


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("waiting", "recall"),
        ("waiting", "no-show"),
        ("waiting", "start"),
        ("waiting", "complete"),
        ("waiting", "hold"),
        ("waiting", "resume"),
        ("done", "cancel"),
        ("done", "hold"),
    ],
)
def test_action_that_does_not_fit_is_409(api: Api, status: str, action: str) -> None:
    t = api.take("A")
    if status == "done":
        api.call_next(1)
        api.act(t["id"], "complete")
    r = api.act(t["id"], action)
    assert r.status_code == 409, r.text


def test_no_show_and_rejoin_goes_to_the_back(api: Api) -> None:
    a1 = api.take("A")
    a2 = api.take("A")
    api.call_next(1)
    assert api.act(a1["id"], "no-show").json()["status"] == "no_show"
    rejoined = api.act(a1["id"], "rejoin").json()
    assert rejoined["status"] == "waiting" and rejoined["ahead"] == 1
    assert api.call_next(1).json()["id"] == a2["id"]


def test_hold_and_resume_at_the_same_window(api: Api) -> None:
    a1 = api.take("A")
    a2 = api.take("A")
    api.call_next(1)
    assert api.act(a1["id"], "hold").json()["status"] == "held"
    assert api.call_next(1).json()["id"] == a2["id"]
    assert api.act(a1["id"], "resume").status_code == 409  # window busy with A002
    api.act(a2["id"], "complete")
    resumed = api.act(a1["id"], "resume").json()
    assert resumed["status"] == "called" and resumed["window"] == 1


def test_transfer_keeps_arrival_time(api: Api) -> None:
    early_a = api.take("A")
    api.take("B")
    api.call_next(1)  # calls A001 (earliest across A and B)
    moved = api.http.post(f"/api/v1/tickets/{early_a['id']}/transfer", json={"queue": "B"}, headers=api.auth("clerk1"))
    assert moved.status_code == 200
    assert moved.json()["queue"] == "B" and moved.json()["status"] == "waiting"
    assert moved.json()["arrived_at"] == early_a["arrived_at"]
    # window 2 serves B first, but the transferred A001 arrived before B001
    assert api.call_next(2, who="clerk2").json()["number"] == "A001"


def test_transfer_to_a_window(api: Api) -> None:
    t = api.take("C")
    api.take("A")
    r = api.http.post(f"/api/v1/tickets/{t['id']}/transfer", json={"window": 5}, headers=api.auth("clerk1"))
    assert r.status_code == 200 and r.json()["target_window"] == 5
    assert api.call_next(5).json()["id"] == t["id"]  # window 5 serves only A, but the transfer wins
    bad = api.http.post(
        f"/api/v1/tickets/{t['id']}/transfer", json={"queue": "A", "window": 1}, headers=api.auth("clerk1")
    )
    assert bad.status_code == 422
    r404 = api.http.post(f"/api/v1/tickets/{t['id']}/transfer", json={"window": 99}, headers=api.auth("clerk1"))
    assert r404.status_code in (404, 409)


def test_call_specific_ticket_out_of_order(api: Api) -> None:
    api.take("A")
    second = api.take("A")
    r = api.http.post("/api/v1/halls/t1/windows/1/call", json={"number": "A002"}, headers=api.auth("clerk1"))
    assert r.status_code == 200 and r.json()["id"] == second["id"]


def test_priority_lane_first_and_fairness(api: Api) -> None:
    ordinary = api.take("A")
    prio = [api.take("A", lane="military") for _ in range(5)]
    order = []
    for _ in range(4):
        t = api.call_next(5).json()
        order.append(t["id"])
        api.act(t["id"], "complete")
    assert order[:3] == [p["id"] for p in prio[:3]]
    assert order[3] == ordinary["id"]  # after 3 priority calls in a row, the ordinary ticket


def test_cancel_by_kiosk_and_by_citizen(api: Api) -> None:
    t = api.take("A")
    assert api.act(t["id"], "cancel", who=KIOSK).json()["status"] == "cancelled"
    t2 = api.take("A")
    r = api.http.post(f"/api/v1/track/{t2['track_token']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert api.call_next(1).status_code == 204


def test_track(api: Api) -> None:
    api.take("A")
    t = api.take("A")
    r = api.http.get(f"/api/v1/track/{t['track_token']}")
    assert r.status_code == 200
    body = r.json()
    assert body["number"] == "A002" and body["status"] == "waiting" and body["ahead"] == 1
    assert api.http.get("/api/v1/track/nope").status_code == 404
    api.call_next(1)
    api.call_next(2, who="clerk2")
    called = api.http.get(f"/api/v1/track/{t['track_token']}").json()
    assert called["status"] == "called" and called["window"] == 2


def test_auth_errors(api: Api) -> None:
    assert api.http.post("/api/v1/halls/t1/tickets", json={"queue": "A"}).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert api.http.post("/api/v1/halls/t1/tickets", json={"queue": "A"}, headers=bad).status_code == 401
    assert api.http.post("/api/v1/halls/t1/tickets", json={"queue": "A"}, headers=api.auth(DISPLAY)).status_code == 403
    assert api.http.post("/api/v1/halls/t1/tickets", json={"queue": "A"}, headers=api.auth(KIOSK_T2)).status_code == 403
    assert api.call_next(1, who=KIOSK).status_code == 403
    assert api.call_next(1, who="clerk-t2").status_code == 403
    assert api.call_next(1, who="clerk2").status_code == 403  # bound to window 2
    wrong = api.http.post("/api/v1/auth/token", data={"username": "clerk1", "password": "wrong"})
    assert wrong.status_code == 401


def test_queues_and_board_need_no_login(api: Api) -> None:
    api.take("A")
    api.take("A")
    api.take("C")
    q = {x["code"]: x for x in api.http.get("/api/v1/halls/t1/queues").json()}
    assert q["A"]["waiting"] == 2 and q["C"]["waiting"] == 1 and q["B"]["waiting"] == 0
    api.call_next(1)
    b = api.http.get("/api/v1/halls/t1/board").json()
    assert b["seq"] == 4
    win1 = next(w for w in b["data"]["windows"] if w["number"] == 1)
    assert win1["current"]["number"] == "A001"
    assert b["data"]["recent_calls"][0]["number"] == "A001"


def test_voice_announcement_only_in_halls_that_are_not_silent(api: Api) -> None:
    import orjson
    from sqlmodel import select

    from queue_server.models import Event

    api.take("A", hall="t2", who=KIOSK_T2)
    api.take("A")
    assert api.call_next(1, hall="t2", who="clerk-t2").status_code == 200
    assert api.call_next(1).status_code == 200
    with api.server.ctx.db.read() as s:
        called = {
            e.hall_code: orjson.loads(e.data) for e in s.exec(select(Event).where(Event.type == "ticket.called")).all()
        }
    assert called["t2"]["announce"] == "请A001号到1号窗口办理 / Ticket A001, please go to window 1"
    assert "announce" not in called["t1"]


def test_vip_lane_is_assigned_by_staff_only(api: Api) -> None:
    r = api.http.post("/api/v1/halls/t1/tickets", json={"queue": "A", "lane": "vip"}, headers=api.auth(KIOSK))
    assert r.status_code == 403
    ok = api.http.post(
        "/api/v1/halls/t1/tickets", json={"queue": "A", "lane": "vip", "channel": "counter"}, headers=api.auth("clerk1")
    )
    assert ok.status_code == 201
    assert ok.json()["lane"] == "vip"
