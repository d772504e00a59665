"""预约上门: requests, eligibility, the clerk's workflow and its states, over real HTTP."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from queue_server.ids import make_id_number

from ..harness import KIOSK, Api

SH = ZoneInfo("Asia/Shanghai")
SENIOR = make_id_number(birth=date(1940, 1, 2), serial=11)
YOUNG = make_id_number(birth=date(1995, 1, 2), serial=12)


def ask(api: Api, id_number: str = SENIOR, **kw: object) -> dict[str, object]:
    body = {
        "queue": "C",
        "name": "孙大爷",
        "id_number": id_number,
        "phone": "13700001111",
        "address": "环翠区文化西路 1 号",
        "reason": "行动不便",
    }
    r = api.http.post("/api/v1/halls/t1/home-visits", json=body | kw)
    return {**(r.json() if r.status_code < 500 else {}), "http": r.status_code}


def test_request_schedule_complete(api: Api) -> None:
    r = ask(api)
    assert r["http"] == 201
    assert r["name_masked"] == "孙*爷" and r["phone_masked"] == "137****1111"
    assert "文化西路" not in str(r)  # the address is never shown
    code = str(r["code"])
    assert ask(api)["http"] == 409  # one open request per person
    listed = api.http.get("/api/v1/halls/t1/home-visits", params={"status": "requested"}, headers=api.auth("clerk1"))
    assert [v["code"] for v in listed.json()] == [code]
    when = (datetime.now(SH) + timedelta(days=2)).replace(microsecond=0)
    s = api.http.post(
        f"/api/v1/home-visits/{code}/schedule", json={"visit_at": when.isoformat()}, headers=api.auth("clerk1")
    )
    assert s.status_code == 200 and s.json()["status"] == "scheduled"
    assert datetime.fromisoformat(s.json()["visit_at"]) == when
    assert (
        api.http.post(
            f"/api/v1/home-visits/{code}/complete", json={"note": "已办结"}, headers=api.auth("clerk1")
        ).json()["status"]
        == "done"
    )
    assert api.http.post(f"/api/v1/home-visits/{code}/cancel").status_code == 409  # done is final
    assert api.http.get(f"/api/v1/home-visits/{code}").json()["note"] == "已办结"


def test_eligibility_and_rejection(api: Api) -> None:
    assert ask(api, YOUNG)["http"] == 422
    r = ask(api, YOUNG, disabled=True)
    assert r["http"] == 201
    code = str(r["code"])
    assert (
        api.http.post(f"/api/v1/home-visits/{code}/reject", json={"note": ""}, headers=api.auth("clerk1")).status_code
        == 422
    )
    rej = api.http.post(
        f"/api/v1/home-visits/{code}/reject", json={"note": "请到就近便民服务中心"}, headers=api.auth("clerk1")
    )
    assert rej.json()["status"] == "rejected"
    assert api.http.post(f"/api/v1/home-visits/{code}/complete", json={}, headers=api.auth("clerk1")).status_code == 409


def test_citizen_cancels_and_kiosks_cannot_schedule(api: Api) -> None:
    code = str(ask(api)["code"])
    when = (datetime.now(SH) + timedelta(days=1)).isoformat()
    assert (
        api.http.post(
            f"/api/v1/home-visits/{code}/schedule", json={"visit_at": when}, headers=api.auth(KIOSK)
        ).status_code
        == 403
    )
    assert api.http.post(f"/api/v1/home-visits/{code}/schedule", json={"visit_at": when}).status_code == 401
    past = (datetime.now(SH) - timedelta(hours=1)).isoformat()
    assert (
        api.http.post(
            f"/api/v1/home-visits/{code}/schedule", json={"visit_at": past}, headers=api.auth("clerk1")
        ).status_code
        == 422
    )
    assert api.http.post(f"/api/v1/home-visits/{code}/cancel").json()["status"] == "cancelled"
    assert ask(api)["http"] == 201  # nothing open any more
