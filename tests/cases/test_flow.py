"""Every transition of a case through the HTTP API, the illegal ones (409), roles (403), other halls (403)."""

from __future__ import annotations

from typing import Any

import pytest

from ..harness import KIOSK, KIOSK_T2, Api
from .helpers import act, new_case


def status(api: Api, number: str) -> str:
    r = api.http.get(f"/api/v1/cases/{number}", headers=api.auth("auditor1"))
    assert r.status_code == 200, r.text
    return str(r.json()["status"])


def ok(api: Api, number: str, action: str, who: str = "clerk1", **body: Any) -> dict[str, Any]:
    r = act(api, number, action, who, **body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_accept_review_approve_ready_deliver(api: Api) -> None:
    n = new_case(api)["number"]
    view = ok(api, n, "accept", window="1号窗口")
    assert view["status"] == "accepted" and view["deadline"] and view["light"] in ("green", "yellow", "red")
    assert [d["kind"] for d in view["documents"]] == ["acceptance_receipt"]
    ok(api, n, "review", "approver1")
    view = ok(api, n, "approve", "approver1", note="准予登记")
    assert view["decision"] == "approved" and view["light"] is None
    view = ok(api, n, "ready", "clerk1")
    assert view["status"] == "result_ready" and len(view["pickup_code"]) == 8
    view = ok(api, n, "deliver")
    assert view["status"] == "delivered"
    assert [d["method"] for d in view["deliveries"]] == ["window"]
    hist = view["history"]
    assert [(h["from"], h["to"]) for h in hist] == [
        (None, "submitted"),
        ("submitted", "accepted"),
        ("accepted", "in_review"),
        ("in_review", "approved"),
        ("approved", "result_ready"),
        ("result_ready", "delivered"),
    ]
    assert [h["actor"] for h in hist] == ["kiosk-t1", "clerk1", "approver1", "approver1", "clerk1", "clerk1"]
    assert all(h["at"] for h in hist)


def test_shortfall_then_supplement(api: Api) -> None:
    n = new_case(api)["number"]
    r = act(api, n, "accept_shortfall", pending=[{"material": "id_card", "requirement": "原件"}])
    assert r.status_code == 422 and "不允许容缺" in r.json()["detail"]  # id_card is not 容缺
    view = ok(api, n, "accept_shortfall", pending=[{"material": "premises", "requirement": "租赁合同原件"}])
    assert view["status"] == "accepted_pending_supplement" and view["supplement_deadline"]
    assert view["deadline"] is None  # the time limit starts when the materials are complete
    assert act(api, n, "review", "approver1").status_code == 409
    view = ok(api, n, "supplement")
    assert view["status"] == "accepted" and view["deadline"]


def test_commitment_needs_signature_and_allowed_material(api: Api) -> None:
    n = new_case(api)["number"]
    assert act(api, n, "accept_commitment", commitments=["premises"]).status_code == 422  # not signed
    assert act(api, n, "accept_commitment", commitments=["id_card"], signed=True).status_code == 422
    view = ok(api, n, "accept_commitment", commitments=["premises"], signed=True)
    assert view["status"] == "accepted_on_commitment"
    assert sorted(d["kind"] for d in view["documents"]) == ["acceptance_receipt", "commitment_letter"]
    ok(api, n, "review", "approver1")


def test_commitment_refused_for_an_item_without_it(api: Api) -> None:
    n = new_case(api, item="SBYB-SBK-001", situation="first")["number"]
    r = act(api, n, "accept_commitment", commitments=["photo"], signed=True)
    assert r.status_code == 422 and "告知承诺" in r.json()["detail"]


def test_one_time_notice_resubmit_accept(api: Api) -> None:
    n = new_case(api)["number"]
    assert act(api, n, "notify_missing", problems=[]).status_code == 422
    problems = [
        {"material": "premises", "problem": "未提交", "requirement": "提交租赁合同复印件"},
        {"material": "application", "problem": "未签名", "requirement": "经营者本人签字"},
    ]
    view = ok(api, n, "notify_missing", problems=problems)
    assert view["status"] == "needs_more"
    assert act(api, n, "accept").status_code == 409
    assert act(api, n, "resubmit", KIOSK_T2).status_code == 403  # another hall's kiosk
    view = ok(api, n, "resubmit", KIOSK)
    assert view["status"] == "submitted"
    ok(api, n, "accept")


def test_reject_is_final(api: Api) -> None:
    n = new_case(api)["number"]
    assert act(api, n, "reject").status_code == 422  # no reason
    view = ok(api, n, "reject", reason="申请事项依法不需要取得行政许可", competent_authority="区市场监管局")
    assert view["status"] == "rejected" and view["actions"] == []
    for action in ("accept", "resubmit", "withdraw", "notify_missing"):
        assert act(api, n, action).status_code == 409, action


def test_refuse_ready_mail_sign(api: Api) -> None:
    n = new_case(api)["number"]
    ok(api, n, "accept")
    ok(api, n, "review", "approver1")
    assert act(api, n, "refuse", "approver1").status_code == 422  # no reasons
    view = ok(api, n, "refuse", "approver1", reason="经营场所位于禁止经营区域")
    assert view["decision"] == "refused"
    ok(api, n, "ready", "approver1")
    assert act(api, n, "mail", recipient="张小三", address="", waybill="EA123456789CN").status_code == 422
    view = ok(api, n, "mail", recipient="张小三", address="山东省威海市环翠区某路1号", waybill="EA123456789CN")
    assert view["status"] == "mailed"
    assert act(api, n, "deliver").status_code == 409
    view = ok(api, n, "sign", signed_by="张小三")
    assert view["status"] == "delivered"
    [d] = view["deliveries"]
    assert d["method"] == "ems" and d["waybill"] == "EA123456789CN" and d["status"] == "delivered"
    assert d["recipient_masked"] == "张*三" and d["signed_by_masked"] == "张*三" and "address" not in d


@pytest.mark.parametrize("step", ["submitted", "needs_more", "accepted", "in_review"])
def test_withdraw(api: Api, step: str) -> None:
    n = new_case(api)["number"]
    if step == "needs_more":
        ok(api, n, "notify_missing", problems=[{"material": "premises", "problem": "缺", "requirement": "补"}])
    if step in ("accepted", "in_review"):
        ok(api, n, "accept")
    if step == "in_review":
        ok(api, n, "review", "approver1")
    assert ok(api, n, "withdraw", note="申请人撤回")["status"] == "withdrawn"
    assert act(api, n, "withdraw").status_code == 409


def test_illegal_transitions_are_409(api: Api) -> None:
    n = new_case(api)["number"]
    for action, who in (
        ("approve", "approver1"),
        ("review", "approver1"),
        ("ready", "clerk1"),
        ("deliver", "clerk1"),
        ("mail", "clerk1"),
        ("sign", "clerk1"),
        ("supplement", "clerk1"),
        ("resubmit", "clerk1"),
    ):
        r = act(api, n, action, who, reason="x", recipient="a", address="b", waybill="C1")
        assert r.status_code == 409, (action, r.text)
        assert "submitted" in r.json()["detail"]
    assert status(api, n) == "submitted"


def test_roles_are_403(api: Api) -> None:
    n = new_case(api)["number"]
    assert act(api, n, "accept", "approver1").status_code == 403  # the back office does not accept
    assert act(api, n, "accept", "auditor1").status_code == 403
    assert act(api, n, "accept", KIOSK).status_code == 403
    assert act(api, n, "accept", "clerk-t2").status_code == 403  # another hall's clerk
    assert api.http.post(f"/api/v1/cases/{n}/actions/accept", json={}).status_code == 401
    ok(api, n, "accept")
    assert act(api, n, "review", "clerk1").status_code == 403
    ok(api, n, "review", "approver1")
    assert act(api, n, "approve", "clerk1").status_code == 403
    assert act(api, n, "approve", "admin").status_code == 200  # admin may do everything
    assert api.http.get(f"/api/v1/cases/{n}", headers=api.auth("clerk-t2")).status_code == 403
    assert api.http.get(f"/api/v1/cases/{n}", headers=api.auth(KIOSK)).status_code == 403
    assert act(api, "T1209901010001", "accept").status_code == 404


def test_worklist_orders_by_deadline(api: Api) -> None:
    slow = new_case(api, item="SBYB-SBK-001", situation="first")["number"]  # 10 working days
    fast = new_case(api)["number"]  # 1 working day
    idle = new_case(api)["number"]  # not accepted: not on the worklist
    ok(api, slow, "accept")
    ok(api, fast, "accept")
    r = api.http.get("/api/v1/halls/t1/worklist", headers=api.auth("approver1"))
    assert r.status_code == 200
    rows = r.json()
    assert [x["number"] for x in rows] == [fast, slow]
    assert rows[0]["light"] == "red" and rows[1]["light"] == "green"
    assert idle not in {x["number"] for x in rows}
    assert api.http.get("/api/v1/halls/t1/worklist", headers=api.auth("clerk-t2")).status_code == 403
    listed = api.http.get("/api/v1/halls/t1/cases", params={"status": "submitted"}, headers=api.auth("clerk1")).json()
    assert [x["number"] for x in listed] == [idle]


def test_handover_list(api: Api) -> None:
    a, b = new_case(api)["number"], new_case(api)["number"]
    c = new_case(api)["number"]
    ok(api, a, "accept")
    ok(api, b, "accept_commitment", commitments=["premises"], signed=True)
    r = api.http.post("/api/v1/halls/t1/handovers", json={"cases": [a, c]}, headers=api.auth("clerk1"))
    assert r.status_code == 409  # c is not accepted
    r = api.http.post("/api/v1/halls/t1/handovers", json={"cases": [a, b]}, headers=api.auth("approver1"))
    assert r.status_code == 403
    r = api.http.post("/api/v1/halls/t1/handovers", json={"cases": [a, b]}, headers=api.auth("clerk1"))
    assert r.status_code == 201, r.text
    assert (
        api.http.post("/api/v1/halls/t1/handovers", json={"cases": [a]}, headers=api.auth("clerk1")).status_code == 409
    )
    pdf = api.http.get(r.json()["url"], headers=api.auth("approver1"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert api.http.get(f"/api/v1/cases/{a}", headers=api.auth("clerk1")).json()["handed_over"] is True
    number = r.json()["number"]
    listed = api.http.get("/api/v1/halls/t1/handovers", headers=api.auth("approver1")).json()
    assert [(h["number"], h["cases"], h["received_by"]) for h in listed] == [(number, sorted([a, b]), None)]
    receive = f"/api/v1/halls/t1/handovers/{number}/receive"
    assert api.http.post(receive, headers=api.auth("clerk1")).status_code == 403
    got = api.http.post(receive, headers=api.auth("approver1"))
    assert got.status_code == 200 and got.json()["received_by"] == "approver1"
    assert api.http.post(receive, headers=api.auth("approver1")).status_code == 409
    assert api.http.post("/api/v1/halls/t1/handovers/NOPE/receive", headers=api.auth("approver1")).status_code == 404


def test_cases_of_a_called_ticket(api: Api) -> None:
    from .helpers import ID_NUMBER

    mine = new_case(api)["number"]
    t = api.take("A", id_number=ID_NUMBER)
    r = api.http.get(f"/api/v1/tickets/{t['id']}/cases", headers=api.auth("clerk1"))
    assert r.status_code == 200 and [x["number"] for x in r.json()] == [mine]
    assert api.http.get(f"/api/v1/tickets/{t['id']}/cases", headers=api.auth("clerk-t2")).status_code == 403


def test_overdue_shortfall_is_withdrawn_by_the_day_job(api: Api) -> None:
    from datetime import date, timedelta

    from sqlalchemy import update

    from queue_server.app import close_past_days
    from queue_server.cases.models import Case

    late, on_time = new_case(api)["number"], new_case(api)["number"]
    for n in (late, on_time):
        ok(api, n, "accept_shortfall", pending=[{"material": "premises", "requirement": "原件"}])
    with api.server.ctx.db.write() as s:
        s.execute(update(Case).where(Case.number == late).values(supplement_deadline=date.today() - timedelta(days=2)))
    close_past_days(api.server.ctx)
    assert status(api, late) == "withdrawn"
    assert status(api, on_time) == "accepted_pending_supplement"
    last = api.http.get(f"/api/v1/cases/{late}", headers=api.auth("clerk1")).json()["history"][-1]
    assert last["actor"] == "system" and last["action"] == "withdraw" and "逾期" in last["note"]


def test_reveal_for_review_is_audited(api: Api) -> None:
    from sqlalchemy import select

    from queue_server.models import AuditLog

    from .helpers import ID_NUMBER, NAME, PHONE

    n = new_case(api)["number"]
    r = api.http.post(f"/api/v1/cases/{n}/reveal", headers=api.auth("clerk1"))
    assert r.status_code == 200
    assert r.json() == {
        "number": n,
        "name": NAME,
        "id_number": ID_NUMBER,
        "phone": PHONE,
        "form": {"business_name": "小三日用百货店", "scope": "日用百货零售"},
    }
    for who in ("auditor1", "clerk-t2", KIOSK):
        assert api.http.post(f"/api/v1/cases/{n}/reveal", headers=api.auth(who)).status_code == 403
    with api.server.ctx.db.read() as s:
        rows = s.execute(select(AuditLog).where(AuditLog.subject == f"case:{n}")).scalars().all()
    assert [(a.actor, a.action) for a in rows] == [("clerk1", "reveal")]


def test_counter_case_for_a_ticket(api: Api) -> None:
    from .helpers import post_case, submission

    t = api.take("A")
    r = post_case(api, submission(ticket_id=t["id"]), who="clerk1")
    assert r.status_code == 201
    assert post_case(api, submission(ticket_id=999999), who="clerk1").status_code == 422
