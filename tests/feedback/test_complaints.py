"""吐槽找茬 / 投诉: submit (kiosk, web, anonymous or not), route, answer, close; privacy; rate limit."""

from __future__ import annotations

from ..harness import KIOSK, Api

BASE = "/api/v1/halls/t1/complaints"


def submit(api: Api, who: str | None = None, **body: object) -> tuple[int, dict[str, object]]:
    headers = api.auth(who) if who else {}
    payload = {"category": "service", "content": "窗口人员玩手机，等了很久"} | body
    r = api.http.post(BASE, json=payload, headers=headers)
    return r.status_code, r.json()


def test_complaint_lifecycle_with_reply_by_message(api: Api) -> None:
    status, c = submit(api, name="张小三", phone="13912345678")
    assert status == 201 and c["status"] == "submitted" and str(c["code"]).startswith("TS")
    code = str(c["code"])
    staff = api.http.get(BASE, headers=api.auth("approver1")).json()
    assert len(staff) == 1
    row = staff[0]
    assert (row["name_masked"], row["phone_masked"], row["anonymous"], row["channel"]) == (
        "张*三", "139****5678", False, "web"
    )  # fmt: skip
    assert "13912345678" not in str(staff) and "张小三" not in str(staff)
    cid = row["id"]
    # answer before routing → 409; route to clerk1; clerk2 may not answer; clerk1 sees it in their list
    assert api.http.post(f"{BASE}/{cid}/answer", json={"answer": "x"}, headers=api.auth("clerk1")).status_code == 409
    bad = api.http.post(f"{BASE}/{cid}/assign", json={"handler": "clerk-t2"}, headers=api.auth("approver1"))
    assert bad.status_code == 422
    assert (
        api.http.post(f"{BASE}/{cid}/assign", json={"handler": "clerk1"}, headers=api.auth("clerk1")).status_code == 403
    )
    a = api.http.post(f"{BASE}/{cid}/assign", json={"handler": "clerk1"}, headers=api.auth("approver1"))
    assert a.status_code == 200 and a.json()["status"] == "assigned"
    assert [x["id"] for x in api.http.get(BASE, headers=api.auth("clerk1")).json()] == [cid]
    assert api.http.get(BASE, headers=api.auth("clerk2")).json() == []
    other = api.http.post(f"{BASE}/{cid}/answer", json={"answer": "x"}, headers=api.auth("clerk2"))
    assert other.status_code == 409
    ans = api.http.post(f"{BASE}/{cid}/answer", json={"answer": "已批评教育，感谢监督"}, headers=api.auth("clerk1"))
    assert ans.status_code == 200 and ans.json()["status"] == "answered"
    proof = str(c["query_code"])
    public = api.http.get(f"/api/v1/complaints/{code}", params={"proof": proof}).json()
    assert (public["status"], public["answer"]) == ("answered", "已批评教育，感谢监督")
    assert "name_masked" not in public and "content" not in public and public["query_code"] is None
    by_phone = api.http.get(f"/api/v1/complaints/{code}", params={"proof": "5678"})  # the phone's last four
    assert by_phone.status_code == 200 and by_phone.json()["answer"] == public["answer"]
    assert api.http.get(f"/api/v1/complaints/{code}").status_code == 422  # the code alone opens nothing
    assert api.http.get(f"/api/v1/complaints/{code}", params={"proof": "1234"}).status_code == 404
    closed = api.http.post(f"{BASE}/{cid}/close", headers=api.auth("approver1"))
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert api.http.post(f"{BASE}/{cid}/close", headers=api.auth("approver1")).status_code == 409
    msgs = [m for m in api.http.get("/api/v1/halls/t1/notifications", headers=api.auth("clerk1")).json()]
    replies = [m for m in msgs if m["kind"] == "feedback_reply"]
    assert len(replies) == 1 and code in replies[0]["text"] and replies[0]["phone"] == "139****5678"


def test_anonymous_kiosk_complaint_and_validation(api: Api) -> None:
    status, _c = submit(api, who=KIOSK, category="facility", content="自助机打印机没纸了")
    assert status == 201
    row = api.http.get(BASE, headers=api.auth("auditor1")).json()[0]
    assert (row["anonymous"], row["name_masked"], row["phone_masked"], row["channel"]) == (True, None, None, "kiosk")
    assert submit(api, category="nope")[0] == 422
    assert submit(api, content="短")[0] == 422
    assert submit(api, phone="12345")[0] == 422
    assert submit(api, who="kiosk-t2-token-0123456789")[0] == 403
    assert api.http.get("/api/v1/complaints/TSNOPE1234", params={"proof": "ABCDEF"}).status_code == 404


def test_public_complaints_are_rate_limited(api: Api) -> None:
    codes = [submit(api)[0] for _ in range(21)]
    assert codes[:20] == [201] * 20 and codes[20] == 429


def test_repeated_idempotency_key_gives_the_first_complaint(api: Api) -> None:
    headers = api.auth(KIOSK) | {"Idempotency-Key": "kiosk-complaint-5b1d"}
    body = {"category": "service", "content": "窗口人员态度生硬", "phone": "13912345678"}
    first = api.http.post(BASE, json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = api.http.post(BASE, json=body, headers=headers)
    assert again.status_code == 200 and again.json() == first.json()
    other = api.http.post(BASE, json=body, headers=api.auth(KIOSK) | {"Idempotency-Key": "kiosk-complaint-9c2a"})
    assert other.status_code == 201 and other.json()["code"] != first.json()["code"]
    rows = api.http.get(BASE, headers=api.auth("approver1")).json()
    assert len(rows) == 2 and all(r["phone_masked"] == "139****5678" for r in rows)
