"""网上预审 over HTTP on a real server (both databases), the phone's code read at a real SMS gateway on loopback:
a web case is returned with a one-time notice, fixed, resubmitted, passed and booked; an output item goes
straight to result_ready; wrong, expired and spent codes, the per-phone limit (429); the card check at the
window (409 for another person's card); roles; and neither logs nor staff lists carry the citizen's data.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import update

from queue_server.cases.prereview import make_proof
from queue_server.ids import make_id_number
from queue_server.notify.models import PhoneCode
from queue_server.timeutil import utcnow

from ..harness import KIOSK, PASSWORDS, TEST_CONFIG, LiveServer
from ..notify.conftest import HOOK_SECRET, Receiver
from .helpers import ID_NUMBER, NAME, jpeg, pdf, png, served

PHONE = "13912340001"
OTHER_ID = make_id_number("371002", serial=418)


def config(url: str) -> str:
    """The test hall, its citizens' messages going to the gateway, queue A (市场准入) taking bookings."""
    text = TEST_CONFIG.read_text(encoding="utf-8")
    notify = f'[notify]\nprovider = "webhook"\nurl = "{url}"\nsecret = "{HOOK_SECRET}"\n\n[[halls]]'
    text = text.replace("[[halls]]", notify, 1)
    a = 'code = "A"\n  name = "市场准入"\n  name_en = "Market access"\n'
    assert a in text
    return text.replace(a, a + "  slot_capacity = 2\n", 1)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def srv(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, gateway: Receiver
) -> Iterator[LiveServer]:
    """One server per backend for the module: the pre-review test halls (`config`), messages to `gateway`."""
    yield from served(request.param, tmp_path_factory, "prereview", config(gateway.url))


@pytest.fixture
def http(srv: LiveServer) -> Iterator[httpx.Client]:
    """A client of the module's server; the rate limits start afresh."""
    srv.ctx.limiter.clear()
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        yield c


def staff(http: httpx.Client, user: str) -> dict[str, str]:
    """A staff user's bearer header."""
    r = http.post("/api/v1/auth/token", data={"username": user, "password": PASSWORDS[user]})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def prove(http: httpx.Client, gateway: Receiver, phone: str = PHONE) -> str:
    """Send the code, read it at the gateway, spend it: the phone's proof."""
    after = len(gateway.hits)
    r = http.post("/api/v1/halls/t1/web-cases/code", json={"phone": phone})
    assert r.status_code == 202, r.text
    assert r.json()["phone_masked"] == f"{phone[:3]}****{phone[-4:]}"
    got = http.post("/api/v1/halls/t1/web-cases/proof", json={"phone": phone, "code": gateway.code_for(phone, after)})
    assert got.status_code == 200, got.text
    return str(got.json()["proof"])


def submit(
    http: httpx.Client, proof: str, item: str = "SCZT-GTH-001", situation: str = "self", **form: str
) -> httpx.Response:
    """A web submission with the proof; 个体工商户设立登记 with its application and ID card unless told."""
    files: list[tuple[str, tuple[str, bytes, str]]] = [("file.id_card", ("id.jpg", jpeg(), "image/jpeg"))]
    if item == "SCZT-GTH-001":
        files.append(("file.application", ("form.pdf", pdf(), "application/pdf")))
    else:
        files.append(("file.residence", ("proof.png", png(), "image/png")))
    data = {
        "submission_id": str(uuid.uuid4()),
        "item": item,
        "situation": situation,
        "applicant": {"name": NAME, "id_number": ID_NUMBER},
        "form": form,
    }
    return http.post(
        "/api/v1/halls/t1/cases", data={"data": json.dumps(data)}, files=files, headers={"X-Phone-Proof": proof}
    )


def told(gateway: Receiver, kind: str, after: int) -> str:
    """The first message of `kind` to PHONE among the gateway's hits from number `after` on (the dispatcher
    sends off the request path: waits for it)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        sent = [h.json["text"] for h in gateway.hits[after:] if h.json["kind"] == kind and h.json["phone"] == PHONE]
        if sent:
            return str(sent[0])
        time.sleep(0.05)
    raise AssertionError(f"no {kind} message reached the gateway")


def mine(http: httpx.Client, number: str, **proof: str) -> httpx.Response:
    """The citizen's view of a web case (case_proof: the query code; phone_proof)."""
    headers = {"X-Case-Proof": proof["case"]} if "case" in proof else {"X-Phone-Proof": proof["phone"]}
    return http.get(f"/api/v1/web-cases/{number}", headers=headers)


def test_returned_fixed_passed_booked_and_checked_with_the_card(
    srv: LiveServer, gateway: Receiver, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    proof = prove(http, gateway)
    r = submit(http, proof, business_name="小三", scope="日用百货零售")
    assert r.status_code == 201, r.text
    case = r.json()
    number, code = case["number"], case["query_token"]
    assert case["status"] == "prereview" and not case["smart_approved"]
    clerk = staff(http, "clerk1")

    # the clerk's 网上预审 list: masked, oldest first
    [line] = http.get("/api/v1/halls/t1/prereview", headers=clerk).json()
    assert line["number"] == number and line["applicant_masked"] != NAME and "*" in line["id_number_masked"]
    assert line["phone_masked"] == "139****0001" and ID_NUMBER not in json.dumps(line) and PHONE not in json.dumps(line)
    view = http.get(f"/api/v1/cases/{number}", headers=clerk).json()
    assert view["channel"] == "web" and view["actions"] == ["withdraw", "prereview_pass", "prereview_return"]
    assert view["smart_check"] is not None and not view["smart_check"]["passed"]  # 小三: no organisation form

    # returned with the one-time notice: a material, a form field and free text
    fixes = [
        {"kind": "material", "code": "id_card", "problem": "照片模糊，请重新拍摄身份证正反面"},
        {"kind": "field", "code": "business_name", "problem": "名称须含组织形式，如“小三日用百货店”"},
    ]
    after = len(gateway.hits)
    back = http.post(
        f"/api/v1/cases/{number}/prereview/return", json={"fixes": fixes, "note": "另请补充经营场所证明"}, headers=clerk
    )
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "prereview_returned"
    assert "需要修改" in told(gateway, "case_prereview", after)  # the applicant's phone is told
    got = mine(http, number, case=code).json()
    assert got["status"] == "prereview_returned" and got["notice"]["note"] == "另请补充经营场所证明"
    lines = got["notice"]["fixes"]
    assert [(f["kind"], f["code"], f["problem"]) for f in lines] == [
        (f["kind"], f["code"], f["problem"]) for f in fixes
    ]
    assert lines[1]["label"].startswith("个体工商户名称") and lines[0]["label"]  # named from the catalogue
    assert got["form"] == {"business_name": "小三", "scope": "日用百货零售"}
    assert sorted(m["material"] for m in got["materials"]) == ["application", "id_card"]
    assert mine(http, number, phone=proof).json()["notice"] == got["notice"]  # the phone's proof opens it too
    assert mine(http, number, case="FFFFFFFF").status_code == 404
    assert mine(http, number, phone=prove(http, gateway, "13912340002")).status_code == 404  # another phone

    # fixed and resubmitted from the page: new answers, a new scan, the premises proof
    files = [
        ("file.id_card", ("id2.jpg", jpeg((96, 64)), "image/jpeg")),
        ("file.premises", ("lease.pdf", pdf(), "application/pdf")),
    ]
    form = {"business_name": "小三日用百货店", "scope": "日用百货零售"}
    fixed = http.post(
        f"/api/v1/web-cases/{number}/resubmit",
        data={"data": json.dumps({"form": form})},
        files=files,
        headers={"X-Case-Proof": code},
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["status"] == "prereview" and fixed.json()["form"] == form and fixed.json()["notice"] is None
    again = http.post(f"/api/v1/web-cases/{number}/resubmit", data={"data": "{}"}, headers={"X-Case-Proof": code})
    assert again.status_code == 409  # in pre-review again: nothing to fix

    # passed: the citizen books a slot of queue A
    assert (
        http.post(f"/api/v1/cases/{number}/prereview/pass", json={}, headers=staff(http, "approver1")).status_code
        == 403
    )
    after = len(gateway.hits)
    ok = http.post(f"/api/v1/cases/{number}/prereview/pass", json={"note": "材料齐全"}, headers=clerk)
    assert ok.status_code == 200 and ok.json()["status"] == "prereview_passed" and not ok.json()["output"]
    assert "已通过预审" in told(gateway, "case_prereview", after)
    got = mine(http, number, case=code).json()
    assert got["queue"] == "A" and got["appointment"] is None
    day = (utcnow() + timedelta(days=1)).astimezone().date()
    slots = http.get("/api/v1/halls/t1/slots", params={"queue": "A", "date": day.isoformat()}).json()
    start = slots[len(slots) // 2]["start"]
    booked = http.post(f"/api/v1/web-cases/{number}/appointment", json={"start": start}, headers={"X-Case-Proof": code})
    assert booked.status_code == 201, booked.text
    appt = booked.json()["appointment"]
    assert appt["queue"] == "A" and appt["start"] == start and booked.json()["queue"] is None
    twice = http.post(f"/api/v1/web-cases/{number}/appointment", json={"start": start}, headers={"X-Case-Proof": code})
    assert twice.status_code == 409
    held = http.get(f"/api/v1/appointments/{appt['code']}").json()
    assert held["name_masked"] != NAME and held["phone_masked"] == "139****0001"

    # at the window: the card must be the bound one
    act = f"/api/v1/cases/{number}/actions/accept"
    none = http.post(act, json={}, headers=clerk)
    assert none.status_code == 422 and "身份证" in none.json()["detail"]
    other = http.post(act, json={"card_id_number": OTHER_ID}, headers=clerk)
    assert other.status_code == 409 and "bound" in other.json()["detail"] and OTHER_ID not in other.json()["detail"]
    accepted = http.post(act, json={"card_id_number": ID_NUMBER}, headers=clerk)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    history = [(h["action"], h["role"]) for h in accepted.json()["history"]]
    assert history == [
        ("submit", "citizen"),
        ("prereview_return", "clerk"),
        ("prereview_resubmit", "citizen"),
        ("prereview_pass", "clerk"),
        ("accept", "clerk"),
    ]
    # no name, ID number or phone in any log line (the server runs in this process)
    for secret in (NAME, ID_NUMBER, PHONE, proof):
        assert secret not in caplog.text


def test_an_output_item_goes_straight_to_result_ready(srv: LiveServer, gateway: Receiver, http: httpx.Client) -> None:
    proof = prove(http, gateway)
    r = submit(http, proof, item="SBYB-YD-002", situation="resident")  # 异地就医备案: prereview_output = true
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    after = len(gateway.hits)
    ok = http.post(f"/api/v1/cases/{number}/prereview/pass", json={}, headers=staff(http, "clerk1"))
    assert ok.status_code == 200, ok.text
    assert ok.json()["output"] and ok.json()["status"] == "result_ready"
    steps = [(h["action"], h["actor"]) for h in ok.json()["history"]]
    assert steps[1:] == [
        ("prereview_pass", "clerk1"),
        ("accept", "网上预审"),
        ("review", "网上预审"),
        ("approve", "网上预审"),
        ("ready", "网上预审"),
    ]
    got = mine(http, number, case=r.json()["query_token"]).json()
    assert got["prereview_output"] and got["queue"] is None and got["status"] == "result_ready"
    deadline = time.monotonic() + 10  # the dispatcher sends off the request path
    while time.monotonic() < deadline and not any(h.json["kind"] == "case_ready" for h in gateway.hits[after:]):
        time.sleep(0.05)
    assert any(h.json["kind"] == "case_ready" and h.json["phone"] == PHONE for h in gateway.hits[after:])
    booked = http.post(
        f"/api/v1/web-cases/{number}/appointment",
        json={"start": f"{date.today() + timedelta(days=1)}T10:00:00+08:00"},
        headers={"X-Case-Proof": r.json()["query_token"]},
    )
    assert booked.status_code == 409  # nothing to book: the result is ready


def test_codes_wrong_expired_spent_and_limited(srv: LiveServer, gateway: Receiver, http: httpx.Client) -> None:
    phone = "13912340003"
    step = "/api/v1/halls/t1/web-cases/proof"
    assert http.post(step, json={"phone": phone, "code": "123456"}).status_code == 422  # none asked for
    after = len(gateway.hits)
    assert http.post("/api/v1/halls/t1/web-cases/code", json={"phone": phone}).status_code == 202
    code = gateway.code_for(phone, after)
    sent = [h.json for h in gateway.hits[after:] if h.json["phone"] == phone][-1]
    assert "网上申报" in sent["text"]  # the message says what the code is for
    wrong = http.post(step, json={"phone": phone, "code": f"{(int(code) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == 422 and "wrong" in wrong.json()["detail"]
    with srv.ctx.db.write() as s:  # five minutes later
        s.execute(update(PhoneCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert http.post(step, json={"phone": phone, "code": code}).status_code == 422  # expired
    statuses = [http.post(step, json={"phone": phone, "code": "000000"}).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]  # six tries an hour per phone (two above, the first)
    assert http.post("/api/v1/halls/t1/web-cases/code", json={"phone": "12345"}).status_code == 422
    # a submission without a live proof of this hall is refused before the upload is read
    stale = make_proof(srv.ctx.cipher, hall="t1", phone=PHONE, now=utcnow() - timedelta(hours=1))
    for bad in ("", "v1.forged", stale, make_proof(srv.ctx.cipher, hall="t2", phone=PHONE, now=utcnow())):
        r = submit(http, bad)
        assert r.status_code == 401 and "X-Phone-Proof" in r.json()["detail"], bad
    proof = make_proof(srv.ctx.cipher, hall="t1", phone=PHONE, now=utcnow())
    r = http.post(
        "/api/v1/halls/t1/cases",
        data={
            "data": json.dumps(
                {
                    "submission_id": str(uuid.uuid4()),
                    "item": "SCZT-GTH-001",
                    "situation": "self",
                    "applicant": {"name": NAME, "id_number": ID_NUMBER, "phone": "13912349999"},
                }
            )
        },
        files=[("file.id_card", ("id.jpg", jpeg(), "image/jpeg"))],
        headers={"X-Phone-Proof": proof},
    )
    assert r.status_code == 422 and "proved" in r.json()["detail"]  # the phone is the proven one


def test_the_notice_and_who_may_pre_review(srv: LiveServer, gateway: Receiver, http: httpx.Client) -> None:
    proof = make_proof(srv.ctx.cipher, hall="t1", phone=PHONE, now=utcnow())
    number = submit(http, proof, business_name="小三日用百货店", scope="日用百货零售").json()["number"]
    clerk = staff(http, "clerk1")
    back = f"/api/v1/cases/{number}/prereview/return"
    assert http.post(back, json={"fixes": []}, headers=clerk).status_code == 422  # an empty notice
    bad = http.post(back, json={"fixes": [{"kind": "material", "code": "passport"}]}, headers=clerk)
    assert bad.status_code == 422 and "passport" in bad.json()["detail"]
    bad = http.post(back, json={"fixes": [{"kind": "field", "code": "nope"}]}, headers=clerk)
    assert bad.status_code == 422
    for who in ("approver1", "auditor1", "clerk-t2"):
        assert http.post(back, json={"note": "x"}, headers=staff(http, who)).status_code == 403
        assert http.get("/api/v1/halls/t1/prereview", headers=staff(http, who)).status_code == 403
    kiosk = {"Authorization": f"Bearer {KIOSK}"}
    assert http.post(back, json={"note": "x"}, headers=kiosk).status_code == 403
    assert http.get("/api/v1/halls/t1/prereview").status_code == 401
    assert (
        http.post(
            f"/api/v1/cases/{number}/actions/accept", json={"card_id_number": ID_NUMBER}, headers=clerk
        ).status_code
        == 409
    )
    ok = http.post(back, json={"note": "请补充经营场所证明"}, headers=clerk)
    assert ok.status_code == 200 and ok.json()["prereview_notice"]["note"] == "请补充经营场所证明"
    assert http.post(f"/api/v1/cases/{number}/prereview/pass", json={}, headers=clerk).status_code == 409
    listed = http.get("/api/v1/halls/t1/prereview", params={"status": "prereview_returned"}, headers=clerk).json()
    assert number in [c["number"] for c in listed]
    waiting = http.get("/api/v1/halls/t1/prereview", headers=clerk).json()
    assert number not in [c["number"] for c in waiting] and all(c["status"] == "prereview" for c in waiting)
    # a kiosk or counter submission is not a web case: its applicant's page does not open it
    counter = http.post(
        "/api/v1/halls/t1/cases",
        data={
            "data": json.dumps(
                {
                    "submission_id": str(uuid.uuid4()),
                    "item": "SCZT-GTH-001",
                    "situation": "self",
                    "applicant": {"name": NAME, "id_number": ID_NUMBER},
                }
            )
        },
        files=[("file.id_card", ("id.jpg", jpeg(), "image/jpeg"))],
        headers=kiosk,
    ).json()
    assert counter["status"] == "submitted"
    assert mine(http, counter["number"], case=counter["query_token"]).status_code == 404
