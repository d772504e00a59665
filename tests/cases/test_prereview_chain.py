"""一链办理 from the web (网上预审 of a chain as one) over HTTP on a real server, both databases, the phone's code
read at a real SMS gateway on loopback: the three-item chain 开办餐饮店 submitted with each shared material
once, returned with ONE notice covering every member, fixed and resubmitted, passed, booked (one slot), accepted
at the window only with the bound card, approved in parallel by two approvers, one output with one pickup code;
a member alone is refused (409 naming the chain) wherever the chain acts as one; the return's notice checked;
no name, ID number or phone in the logs."""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from queue_server.cases.catalog import default_items_dir
from queue_server.cases.chains import default_chains_dir
from queue_server.cases.models import Case, CaseMaterial
from queue_server.cases.prereview import make_proof
from queue_server.notify.models import Notification
from queue_server.timeutil import utcnow

from ..harness import LiveServer
from ..notify.conftest import Receiver
from .helpers import ID_NUMBER, NAME, jpeg, served
from .test_chains import CHAIN, FORM, MEMBERS, files, two_approvers
from .test_prereview import OTHER_ID, PHONE, config, prove, staff


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def srv(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, gateway: Receiver
) -> Iterator[LiveServer]:
    """The pre-review test halls (queue A takes bookings) with a second approver, on each database."""
    yield from served(request.param, tmp_path_factory, "webchain", two_approvers(base=config(gateway.url)))


@pytest.fixture
def http(srv: LiveServer) -> Iterator[httpx.Client]:
    """A client of the module's server; the rate limits start afresh."""
    srv.ctx.limiter.clear()
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        yield c


def submit_chain(http: httpx.Client, proof: str, **over: Any) -> httpx.Response:
    """A web chain submission with the phone's proof: the shared answers once, each material once."""
    data = {
        "submission_id": str(uuid.uuid4()),
        "chain": CHAIN,
        "applicant": {"name": NAME, "id_number": ID_NUMBER},
        "form": dict(FORM),
    } | over
    return http.post(
        "/api/v1/halls/t1/chains", data={"data": json.dumps(data)}, files=files(), headers={"X-Phone-Proof": proof}
    )


def ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return dict(r.json())


def refused_alone(r: httpx.Response, chain: str, route: str) -> None:
    """409 whose detail names the chain and the chain's route to use."""
    assert r.status_code == 409, r.text
    assert chain in r.json()["detail"] and f"/api/v1/chain-cases/{chain}/{route}" in r.json()["detail"]


def messages(srv: LiveServer, kind: str, ticket: str) -> list[Notification]:
    with srv.ctx.db.read() as s:
        stmt = select(Notification).where(Notification.kind == kind, Notification.ticket == ticket)
        return list(s.execute(stmt).scalars())


def test_web_chain_returned_fixed_passed_accepted_approved_in_parallel_one_output(
    srv: LiveServer, gateway: Receiver, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    proof = prove(http, gateway)
    out = ok(submit_chain(http, proof), 201)
    number, code = out["number"], out["query_token"]
    members = [m["number"] for m in out["members"]]
    assert out["status"] == "prereview" and [m["status"] for m in out["members"]] == ["prereview"] * 3
    assert [m["item"]["code"] for m in out["members"]] == MEMBERS
    clerk = staff(http, "clerk1")

    # the 网上预审 list: the chain is one entry with its members (they are not listed alone)
    [line] = http.get("/api/v1/halls/t1/prereview", headers=clerk).json()
    assert line["kind"] == "chain" and line["number"] == number and line["item_name"] == "开办餐饮店"
    assert [m["number"] for m in line["members"]] == members and line["phone_masked"] == "139****0001"
    assert NAME not in json.dumps(line, ensure_ascii=False) and ID_NUMBER not in json.dumps(line)
    view = ok(http.get(f"/api/v1/chain-cases/{number}", headers=clerk))
    assert view["actions"] == ["prereview_pass", "prereview_return", "withdraw"]
    assert {m["code"]: len(m["files"]) for m in view["materials"]} == {
        "application": 1,
        "id_card": 1,
        "premises": 1,
        "layout": 1,
        "rules": 1,
        "hygiene_report": 0,
        "staff_health": 1,
    }
    # a member alone is never pre-reviewed
    refused_alone(http.post(f"/api/v1/cases/{members[1]}/prereview/pass", json={}, headers=clerk), number, "prereview")
    refused_alone(
        http.post(f"/api/v1/cases/{members[2]}/prereview/return", json={"note": "x"}, headers=clerk),
        number,
        "prereview",
    )

    # returned with ONE notice covering every member: shared materials and fields by the chain's codes
    fixes = [
        {"kind": "material", "code": "layout", "problem": "平面布局图未标明设备和卫生设施位置"},
        {"kind": "field", "code": "area", "problem": "面积与租赁合同不符"},
    ]
    back = ok(
        http.post(
            f"/api/v1/chain-cases/{number}/prereview/return", json={"fixes": fixes, "note": "其余齐全"}, headers=clerk
        )
    )
    assert back["status"] == "prereview_returned" and {m["status"] for m in back["members"]} == {"prereview_returned"}
    assert [f["items"] for f in back["notice"]["fixes"]] == [["SCZT-SP-002", "WSJK-GGCS-001"]] * 2
    assert len(messages(srv, "case_prereview", number)) == 1  # one message for the chain, not one per member
    mine = ok(http.get(f"/api/v1/web-chains/{number}", headers={"X-Case-Proof": code}))
    assert mine["kind"] == "chain" and mine["status"] == "prereview_returned" and mine["notice"]["note"] == "其余齐全"
    assert [(f["code"], f["label"]) for f in mine["notice"]["fixes"]] == [
        ("layout", "经营场所平面布局图（含设备、卫生设施布局和工艺流程）"),
        ("area", "经营场所面积（平方米）"),
    ]
    assert mine["form"] == FORM and len(mine["materials"]) == 6  # each shared file once
    assert [m["code"] for m in mine["chain_detail"]["materials"]][:2] == ["application", "id_card"]
    assert ok(http.get(f"/api/v1/web-chains/{number}", headers={"X-Phone-Proof": proof}))["number"] == number
    assert http.get(f"/api/v1/web-chains/{number}", headers={"X-Case-Proof": "FFFFFFFF"}).status_code == 404
    another = prove(http, gateway, "13912340002")
    assert http.get(f"/api/v1/web-chains/{number}", headers={"X-Phone-Proof": another}).status_code == 404
    # a member is fixed with its chain
    fix_member = http.post(
        f"/api/v1/web-cases/{members[1]}/resubmit", data={"data": "{}"}, headers={"X-Phone-Proof": proof}
    )
    assert fix_member.status_code == 409 and number in fix_member.json()["detail"]

    # fixed: the new answer once, the new plan once for both members that use it
    fixed = ok(
        http.post(
            f"/api/v1/web-chains/{number}/resubmit",
            data={"data": json.dumps({"form": FORM | {"area": "150"}})},
            files=[("file.layout", ("plan2.jpg", jpeg((120, 90)), "image/jpeg"))],
            headers={"X-Case-Proof": code},
        )
    )
    assert fixed["status"] == "prereview" and fixed["notice"] is None and fixed["form"]["area"] == "150"
    assert {m["status"] for m in fixed["members"]} == {"prereview"}
    with srv.ctx.db.read() as s:
        layouts = list(s.execute(select(CaseMaterial).where(CaseMaterial.material == "layout")).scalars())
        forms = {
            c.number: json.loads(srv.ctx.cipher.decrypt(c.form_enc, context="case_form"))
            for c in s.execute(select(Case).where(col(Case.number).in_(members))).scalars()
        }
    assert len(layouts) == 4 and len({m.storage_name for m in layouts}) == 2  # two uploads, each under 2 members
    assert forms[members[1]]["area"] == forms[members[2]]["area"] == "150"
    again = http.post(f"/api/v1/web-chains/{number}/resubmit", data={"data": "{}"}, headers={"X-Case-Proof": code})
    assert again.status_code == 409

    # passed as one: one slot of the first member's queue (A) for every member
    assert (
        http.post(f"/api/v1/chain-cases/{number}/prereview/pass", json={}, headers=staff(http, "approver1")).status_code
        == 403
    )
    passed = ok(http.post(f"/api/v1/chain-cases/{number}/prereview/pass", json={"note": "齐全"}, headers=clerk))
    assert passed["status"] == "prereview_passed" and {m["status"] for m in passed["members"]} == {"prereview_passed"}
    assert len(messages(srv, "case_prereview", number)) == 2
    mine = ok(http.get(f"/api/v1/web-chains/{number}", headers={"X-Case-Proof": code}))
    assert mine["queue"] == "A" and mine["appointment"] is None
    day = (utcnow() + timedelta(days=1)).astimezone().date()
    slots = http.get("/api/v1/halls/t1/slots", params={"queue": "A", "date": day.isoformat()}).json()
    start = slots[len(slots) // 2]["start"]
    alone = http.post(
        f"/api/v1/web-cases/{members[0]}/appointment", json={"start": start}, headers={"X-Phone-Proof": proof}
    )
    assert alone.status_code == 409 and number in alone.json()["detail"]
    booked = ok(
        http.post(f"/api/v1/web-chains/{number}/appointment", json={"start": start}, headers={"X-Case-Proof": code}),
        201,
    )
    assert booked["appointment"]["queue"] == "A" and booked["queue"] is None
    codes = {http.get(f"/api/v1/cases/{m}", headers=clerk).json()["appointment_code"] for m in members}
    assert codes == {booked["appointment"]["code"]}

    # at the window: the card must be the bound one, then one acceptance of every member
    accept = f"/api/v1/chain-cases/{number}/actions/accept"
    refused_alone(
        http.post(f"/api/v1/cases/{members[0]}/actions/accept", json={"card_id_number": ID_NUMBER}, headers=clerk),
        number,
        "actions/accept",
    )
    none = http.post(accept, json={}, headers=clerk)
    assert none.status_code == 422 and "身份证" in none.json()["detail"]
    other = http.post(accept, json={"card_id_number": OTHER_ID}, headers=clerk)
    assert other.status_code == 409 and "bound" in other.json()["detail"] and OTHER_ID not in other.json()["detail"]
    accepted = ok(http.post(accept, json={"card_id_number": ID_NUMBER, "window": "综合窗口"}, headers=clerk))
    assert accepted["status"] == "accepted" and [m["status"] for m in accepted["members"]] == ["accepted"] * 3
    assert all(m["light"] for m in accepted["members"])  # each member's own deadline light

    # 并联审批: each member decided on its own, by two approvers, interleaved
    a1, a2 = staff(http, "approver1"), staff(http, "approver2")
    for n, who in ((members[2], a2), (members[0], a1), (members[1], a2)):
        assert http.post(f"/api/v1/cases/{n}/actions/review", json={}, headers=who).status_code == 200
    for n, who in ((members[0], a1), (members[2], a2)):
        assert http.post(f"/api/v1/cases/{n}/actions/approve", json={}, headers=who).status_code == 200
    assert ok(http.get(f"/api/v1/chain-cases/{number}", headers=clerk))["status"] == "accepted"
    assert messages(srv, "case_ready", number) == []
    assert http.post(f"/api/v1/cases/{members[1]}/actions/approve", json={}, headers=a2).status_code == 200
    view = ok(http.get(f"/api/v1/chain-cases/{number}", headers=clerk))
    assert view["status"] == "result_ready" and view["result"]["approved"] == 3
    assert [m["status"] for m in view["members"]] == ["result_ready"] * 3
    assert len(messages(srv, "case_ready", number)) == 1  # one output, one pickup code
    refused_alone(
        http.post(f"/api/v1/cases/{members[2]}/actions/deliver", json={}, headers=clerk), number, "actions/deliver"
    )
    done = ok(http.post(f"/api/v1/chain-cases/{number}/actions/deliver", json={}, headers=clerk))
    assert done["status"] == "delivered" and [m["status"] for m in done["members"]] == ["delivered"] * 3
    steps = [h["action"] for h in http.get(f"/api/v1/cases/{members[1]}", headers=clerk).json()["history"]]
    assert steps == [
        "submit",
        "chain",
        "prereview_return",
        "prereview_resubmit",
        "prereview_pass",
        "accept",
        "review",
        "approve",
        "ready",
        "deliver",
    ]
    for secret in (NAME, ID_NUMBER, PHONE, proof):  # the server runs in this process
        assert secret not in caplog.text


def test_a_web_chain_needs_the_proven_phone_and_a_notice_in_its_own_codes(srv: LiveServer, http: httpx.Client) -> None:
    assert submit_chain(http, "").status_code == 401  # no proof: refused before the upload is read
    proof = make_proof(srv.ctx.cipher, hall="t1", phone=PHONE, now=utcnow())
    other = submit_chain(http, proof, applicant={"name": NAME, "id_number": ID_NUMBER, "phone": "13912349999"})
    assert other.status_code == 422 and "proved" in other.json()["detail"]  # the phone is the proven one
    bad = submit_chain(http, proof, form={k: v for k, v in FORM.items() if k != "address"})
    assert bad.status_code == 422 and "经营场所" in bad.json()["detail"]  # from the web every field is asked
    number = ok(submit_chain(http, proof), 201)["number"]
    clerk = staff(http, "clerk1")
    back = f"/api/v1/chain-cases/{number}/prereview/return"
    assert http.post(back, json={"fixes": []}, headers=clerk).status_code == 422  # an empty notice
    wrong = http.post(back, json={"fixes": [{"kind": "material", "code": "safety_rules"}]}, headers=clerk)
    assert wrong.status_code == 422 and "safety_rules" in wrong.json()["detail"]  # a member's own code: not the chain's
    assert http.post(back, json={"fixes": [{"kind": "field", "code": "unit_name"}]}, headers=clerk).status_code == 422
    for who in ("approver1", "auditor1", "clerk-t2"):
        assert http.post(back, json={"note": "x"}, headers=staff(http, who)).status_code == 403
    accept = http.post(
        f"/api/v1/chain-cases/{number}/actions/accept", json={"card_id_number": ID_NUMBER}, headers=clerk
    )
    assert accept.status_code == 409  # not before the pre-review passes
    assert (
        http.post(
            f"/api/v1/web-chains/{number}/resubmit", data={"data": "{}"}, headers={"X-Phone-Proof": proof}
        ).status_code
        == 409
    )
    # a chain's number alone opens nothing, and its proof cannot be searched: limited per number (429)
    tries = [
        http.get(f"/api/v1/web-chains/{number}", headers={"X-Case-Proof": f"{i:08X}"}).status_code for i in range(22)
    ]
    assert tries[0] == 404 and tries[-1] == 429 and set(tries) == {404, 429}
    srv.ctx.limiter.clear()
    gone = ok(http.post(f"/api/v1/chain-cases/{number}/actions/withdraw", json={}, headers=clerk))
    assert gone["status"] == "withdrawn" and {m["status"] for m in gone["members"]} == {"withdrawn"}
    listed = http.get("/api/v1/halls/t1/prereview", headers=clerk).json()
    assert number not in [c["number"] for c in listed]
    # a passport holder applies too: the chain is bound to the passport (and its nationality)
    passport = {"name": "KIM MINJI", "id_number": "M12345678", "id_type": "passport", "nationality": "KOR"}
    foreign = ok(submit_chain(http, proof, applicant=passport), 201)
    view = ok(http.get(f"/api/v1/chain-cases/{foreign['number']}", headers=clerk))
    assert view["id_number_masked"] == "*******78" and view["status"] == "prereview"


class _OwnCatalogue:
    """A tmp_path_factory whose directories hold the hall's own items/ and chains/ beside its configuration
    (settings.items_dir): the shipped ones, with `prereview_output = true` in the items named."""

    def __init__(self, factory: pytest.TempPathFactory, output_items: list[str]) -> None:
        self.factory, self.output_items = factory, output_items

    def mktemp(self, name: str) -> Path:
        d = self.factory.mktemp(name)
        shutil.copytree(default_items_dir(), d / "items")
        shutil.copytree(default_chains_dir(), d / "chains")
        for f in (d / "items").glob("*.toml"):
            text = f.read_text(encoding="utf-8")
            if any(text.startswith(f'code = "{code}"') for code in self.output_items):
                f.write_text(text.replace("\nkeywords = ", "\nprereview_output = true\nkeywords = ", 1), "utf-8")
        return d


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def output_srv(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, gateway: Receiver
) -> Iterator[LiveServer]:
    """A hall whose 开办餐饮店 members all say `prereview_output` (a passed pre-review is their output)."""
    factory = cast(pytest.TempPathFactory, _OwnCatalogue(tmp_path_factory, MEMBERS))
    yield from served(request.param, factory, "webchain-out", config(gateway.url))


def test_a_web_chain_of_output_items_goes_to_its_one_output_on_pass(output_srv: LiveServer) -> None:
    with httpx.Client(base_url=output_srv.url, timeout=30) as http:
        proof = make_proof(output_srv.ctx.cipher, hall="t1", phone=PHONE, now=utcnow())
        out = ok(submit_chain(http, proof), 201)
        number, code, members = out["number"], out["query_token"], [m["number"] for m in out["members"]]
        clerk = staff(http, "clerk1")
        passed = ok(http.post(f"/api/v1/chain-cases/{number}/prereview/pass", json={}, headers=clerk))
        assert passed["status"] == "result_ready" and {m["status"] for m in passed["members"]} == {"result_ready"}
        assert passed["result"] == passed["result"] | {"approved": 3, "refused": 0} and passed["actions"] == ["deliver"]
        # one message with one pickup code, no 'passed, book a slot' message; nothing to book
        assert len(messages(output_srv, "case_ready", number)) == 1
        assert messages(output_srv, "case_prereview", number) == []
        assert all(messages(output_srv, "case_ready", m) == [] for m in members)
        mine = ok(http.get(f"/api/v1/web-chains/{number}", headers={"X-Case-Proof": code}))
        assert mine["status"] == "result_ready" and mine["queue"] is None and mine["appointment"] is None
        history = ok(http.get(f"/api/v1/cases/{members[2]}", headers=clerk))["history"]
        steps = [(h["action"], h["actor"]) for h in history]
        assert ("accept", "网上预审") in steps and ("approve", "网上预审") in steps  # no person decided it
        refused_alone(http.post(f"/api/v1/cases/{members[0]}/pickup-ticket", headers=clerk), number, "actions/deliver")
        assert ok(http.post(f"/api/v1/chain-cases/{number}/actions/deliver", json={}, headers=clerk))["status"] == (
            "delivered"
        )
