"""好差评 over real HTTP: one evaluation per ticket, who may post, bad reviews open a follow-up."""

from __future__ import annotations

from ..harness import DISPLAY, KIOSK, Api
from .helpers import PAD, evaluate, served


def test_pad_evaluates_the_ticket_its_window_completed(api: Api) -> None:
    t = served(api, window=1)
    pending = api.http.get("/api/v1/halls/t1/windows/1/evaluation", headers=api.auth(PAD))
    assert pending.status_code == 200
    got = pending.json()
    assert got.pop("remaining_s") <= 60 and got == {
        "ticket_id": t["id"],
        "number": t["number"],
        "window": 1,
        "lang": None,  # no language besides Chinese and English: the pad speaks English
    }
    r = evaluate(api, ticket_id=t["id"], level=5, reasons=["fast", "friendly"])
    assert r.status_code == 201, r.text
    e = r.json()
    assert (e["ticket_number"], e["window"], e["clerk"], e["level"], e["channel"]) == (
        t["number"],
        1,
        "clerk1",
        5,
        "pad",
    )
    assert e["reasons"] == ["fast", "friendly"] and e["followup_id"] is None
    # one evaluation per service (一次一评)
    again = evaluate(api, ticket_id=t["id"], level=1)
    assert again.status_code == 409 and "已评价" in again.json()["detail"]
    assert api.http.get("/api/v1/halls/t1/windows/1/evaluation", headers=api.auth(PAD)).status_code == 204
    listed = api.http.get("/api/v1/halls/t1/evaluations", headers=api.auth("approver1")).json()
    assert [x["id"] for x in listed] == [e["id"]]


def test_who_may_evaluate(api: Api) -> None:
    t = served(api, window=2, who="clerk2")
    # the pad of window 1 cannot rate window 2's ticket; a hall-wide display or the kiosk can
    r = evaluate(api, ticket_id=t["id"], level=4)
    assert r.status_code == 403 and "window 1" in r.json()["detail"]
    assert evaluate(api, who="kiosk-t2-token-0123456789", ticket_id=t["id"], level=4).status_code == 403
    staff = api.http.post(
        "/api/v1/halls/t1/evaluations", json={"ticket_id": t["id"], "level": 4}, headers=api.auth("clerk1")
    )
    assert staff.status_code == 403
    assert evaluate(api, who=DISPLAY, ticket_id=t["id"], level=4, channel="evaluator").status_code == 201
    # not yet completed → 409; unknown ticket → 404; bad level / reason → 422
    waiting = api.take("A")
    assert evaluate(api, who=KIOSK, ticket_id=waiting["id"], level=3).status_code == 409
    assert evaluate(api, who=KIOSK, ticket_id=999999, level=3).status_code == 404
    assert evaluate(api, who=KIOSK, ticket_id=waiting["id"], level=6).status_code == 422
    bad_reason = evaluate(api, who=KIOSK, ticket_id=waiting["id"], level=3, reasons=["nope"])
    assert bad_reason.status_code == 422 and "nope" in bad_reason.json()["detail"]


def test_citizen_evaluates_online_by_track_token(api: Api) -> None:
    t = served(api, window=1)
    r = evaluate(api, who=None, track_token=t["track_token"], level=3, comment="还行")
    assert r.status_code == 201 and r.json()["channel"] == "web" and r.json()["comment"] == "还行"
    assert evaluate(api, who=None, track_token=t["track_token"], level=3).status_code == 409
    assert evaluate(api, who=None, track_token="x" * 20, level=3).status_code == 404
    both = evaluate(api, who=None, track_token=t["track_token"], case_number="C1", level=3)
    assert both.status_code == 422


def test_bad_review_follow_up_workflow(api: Api) -> None:
    t = served(api, window=1, phone="13800001234")
    r = evaluate(api, ticket_id=t["id"], level=1, reasons=["attitude", "slow"], comment="态度差")
    assert r.status_code == 201
    fid = r.json()["followup_id"]
    assert fid is not None
    base = "/api/v1/halls/t1/followups"
    open_list = api.http.get(base, headers=api.auth("approver1")).json()
    assert [(f["id"], f["status"], f["overdue"]) for f in open_list] == [(fid, "opened", False)]
    assert open_list[0]["evaluation"]["reasons"] == ["attitude", "slow"]
    # out of order → 409; a clerk may not; a note is required
    assert api.http.post(f"{base}/{fid}/reply", json={"note": "x"}, headers=api.auth("approver1")).status_code == 409
    assert api.http.post(f"{base}/{fid}/close", json={}, headers=api.auth("approver1")).status_code == 409
    assert api.http.post(f"{base}/{fid}/verify", json={"note": "x"}, headers=api.auth("clerk1")).status_code == 403
    assert api.http.post(f"{base}/{fid}/verify", json={"note": ""}, headers=api.auth("approver1")).status_code == 422
    steps = [("verify", "核实属实"), ("rectify", "已约谈窗口人员"), ("reply", "已整改，欢迎再次监督"), ("close", "")]
    for step, note in steps:
        s = api.http.post(f"{base}/{fid}/{step}", json={"note": note}, headers=api.auth("approver1"))
        assert s.status_code == 200, s.text
    done = s.json()
    assert done["status"] == "closed"
    assert [(x["step"], x["by"]) for x in done["steps"]] == [
        ("verified", "approver1"),
        ("rectified", "approver1"),
        ("replied", "approver1"),
        ("closed", "approver1"),
    ]
    assert api.http.post(f"{base}/{fid}/verify", json={"note": "x"}, headers=api.auth("approver1")).status_code == 409
    assert api.http.get(base, headers=api.auth("approver1")).json() == []
    closed = api.http.get(base, params={"open": "false"}, headers=api.auth("auditor1")).json()
    assert [f["status"] for f in closed] == ["closed"]
    # the reply reached the citizen's phone through the outbox, masked for staff
    msgs = api.http.get("/api/v1/halls/t1/notifications", headers=api.auth("clerk1"))
    assert msgs.status_code == 200, msgs.text
    mine = [m for m in msgs.json() if m["kind"] == "feedback_reply"]
    assert len(mine) == 1 and "已整改" in mine[0]["text"] and mine[0]["phone"] == "138****1234"


def test_follow_ups_belong_to_their_hall(api: Api) -> None:
    t = served(api, window=1)
    fid = evaluate(api, ticket_id=t["id"], level=2).json()["followup_id"]
    assert api.http.get("/api/v1/halls/t2/followups", headers=api.auth("approver1")).status_code == 403
    r = api.http.post(f"/api/v1/halls/t2/followups/{fid}/verify", json={"note": "x"}, headers=api.auth("admin"))
    assert r.status_code == 404
