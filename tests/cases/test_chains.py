"""一链办理 over HTTP on both databases: the 开办餐饮店 chain (three items) submitted once with its shared fields and
materials, stored once; accepted once; approved in parallel by two approvers in either order (and with one
refusal); one output with one notice; an idempotent replay; a bad chain file's line-numbered error."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from queue_server.cases.catalog import CatalogError, load_catalog
from queue_server.cases.chains import default_chains_dir, load_chains, parse_chain
from queue_server.cases.models import CaseMaterial
from queue_server.notify.models import Notification

from ..harness import KIOSK, PASSWORDS, TEST_CONFIG, Api, LiveServer
from ..notify.conftest import HOOK_SECRET, Receiver
from .helpers import ID_NUMBER, NAME, PHONE, act, jpeg, pdf, served

CHAIN = "YL-CYD-001"  # 开办餐饮店
MEMBERS = ["SCZT-GTH-001", "SCZT-SP-002", "WSJK-GGCS-001"]
PASSWORDS.setdefault("approver2", "approver2-pass")
FORM = {
    "business_name": "环翠区小三家常菜馆",
    "address": "威海市环翠区文化西路1号",
    "scope": "餐饮服务；歌舞娱乐活动",
    "food_category": "热食类食品制售",
    "place_kind": "歌舞厅",
    "area": "120",
}


def two_approvers(hook: str | None = None, base: str | None = None) -> str:
    """The test configuration (or `base`) with a second approver of hall t1 (and messages to the webhook
    `hook`)."""
    extra = '\n[[users]]\nusername = "approver2"\npassword = "approver2-pass"\nrole = "approver"\nhall = "t1"\n'
    text = base or TEST_CONFIG.read_text(encoding="utf-8")
    if hook:
        notify = f'[notify]\nprovider = "webhook"\nurl = "{hook}"\nsecret = "{HOOK_SECRET}"\n\n'
        text = text.replace("[[halls]]", notify + "[[halls]]", 1)
    head, devices = text.split("[[devices]]", 1)
    return head + extra + "\n[[devices]]" + devices


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """The citizen's message channel: a webhook on loopback."""
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, receiver: Receiver
) -> Iterator[LiveServer]:
    """A live server with two approvers whose messages go to the webhook, on each database."""
    yield from served(request.param, tmp_path_factory, "chains", two_approvers(receiver.url))


@pytest.fixture
def api(server: LiveServer) -> Iterator[Api]:
    server.reset()
    client = Api(server)
    yield client
    client.close()


def files() -> list[tuple[str, tuple[str, bytes, str]]]:
    """Each chain material once (the hygiene report, 容缺, left out)."""
    return [
        ("file.application", ("form.pdf", pdf(), "application/pdf")),
        ("file.id_card", ("id.jpg", jpeg(), "image/jpeg")),
        ("file.premises", ("lease.pdf", pdf(), "application/pdf")),
        ("file.layout", ("plan.jpg", jpeg((80, 60)), "image/jpeg")),
        ("file.rules", ("rules.pdf", pdf(), "application/pdf")),
        ("file.staff_health", ("health.jpg", jpeg((40, 40)), "image/jpeg")),
    ]


def body(**over: Any) -> dict[str, Any]:
    """The JSON part of a chain submission."""
    b: dict[str, Any] = {
        "submission_id": str(uuid.uuid4()),
        "chain": CHAIN,
        "applicant": {"name": NAME, "id_number": ID_NUMBER, "phone": PHONE},
        "form": dict(FORM),
    }
    return b | over


def post_chain(api: Api, data: dict[str, Any], who: str | None = KIOSK, **kw: Any) -> httpx.Response:
    return api.http.post(
        "/api/v1/halls/t1/chains",
        data={"data": json.dumps(data)},
        files=kw.get("files", files()),
        headers=api.auth(who) if who else {},
    )


def staff_view(api: Api, number: str, who: str = "clerk1") -> dict[str, Any]:
    r = api.http.get(f"/api/v1/chain-cases/{number}", headers=api.auth(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


def chain_act(api: Api, number: str, action: str, who: str = "clerk1", **b: Any) -> httpx.Response:
    return api.http.post(f"/api/v1/chain-cases/{number}/actions/{action}", json=b, headers=api.auth(who))


def case(api: Api, number: str, who: str = "auditor1") -> dict[str, Any]:
    r = api.http.get(f"/api/v1/cases/{number}", headers=api.auth(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


def ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return dict(r.json())


def submitted(api: Api) -> dict[str, Any]:
    r = post_chain(api, body())
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_chain_catalogue_is_public_with_one_form_and_one_material_list(api: Api) -> None:
    listed = api.http.get("/api/v1/chains").json()
    assert {c["code"] for c in listed} >= {CHAIN, "YL-QYKB-001"}
    d = api.http.get(f"/api/v1/chains/{CHAIN}").json()
    assert [m["item"] for m in d["members"]] == MEMBERS
    fields = {f["code"]: f for f in d["fields"]}
    assert fields["business_name"]["maps"]["WSJK-GGCS-001"] == "unit_name"  # asked once, mapped to three items
    mats = {m["code"]: m for m in d["materials"]}
    assert mats["id_card"]["used_by"] == ["SCZT-GTH-001", "WSJK-GGCS-001"]
    assert mats["layout"]["commitment_allowed"] and not mats["layout"]["shortfall_allowed"]
    assert mats["hygiene_report"]["shortfall_allowed"]  # 容缺 where every member using it allows it
    assert d["time_limit_days"] == 5  # in parallel: the longest member's promise
    assert api.http.get("/api/v1/chains/NO-SUCH-1").status_code == 404


def test_one_submission_makes_three_cases_with_shared_fields_and_materials_stored_once(api: Api) -> None:
    out = submitted(api)
    number = out["number"]
    assert out["status"] == "submitted" and number.startswith("L") and not out["replayed"]
    members = out["members"]
    assert [m["item"]["code"] for m in members] == MEMBERS
    assert all(m["status"] == "submitted" for m in members)
    # shared fields: the clerk's reveal of each member shows the one answer under each item's own field
    forms = [
        ok(api.http.post(f"/api/v1/cases/{m['number']}/reveal", headers=api.auth("clerk1")))["form"] for m in members
    ]
    assert forms[0]["business_name"] == forms[1]["business_name"] == forms[2]["unit_name"] == FORM["business_name"]
    assert forms[1]["category"] == "热食类食品制售" and "category" not in forms[0]
    # shared materials: one stored file named by a row of each member that uses it (no copy of the bytes)
    with api.server.ctx.db.read() as s:
        rows = list(s.execute(select(CaseMaterial)).scalars())
    by_name: dict[str, list[str]] = {}
    for r in rows:
        by_name.setdefault(r.storage_name, []).append(r.material)
    assert len(by_name) == 6  # six uploads
    assert sorted(len(v) for v in by_name.values()) == [1, 1, 2, 2, 2, 3]  # application ×3, id_card ×2 …
    stored = [p for p in api.server.ctx.materials.root.rglob("*") if p.is_file() and p.name in by_name]
    assert len(stored) == 6
    # the history of each case says it is part of the chain
    for m in members:
        hist = case(api, m["number"])["history"]
        assert any(h["action"] == "chain" and number in h["note"] for h in hist)
        assert case(api, m["number"])["chain"]["number"] == number


def test_replay_returns_the_same_chain_and_stores_nothing(api: Api) -> None:
    b = body()
    first = post_chain(api, b)
    assert first.status_code == 201, first.text
    again = post_chain(api, b)
    assert again.status_code == 200 and again.json()["replayed"]
    assert again.json()["number"] == first.json()["number"]
    with api.server.ctx.db.read() as s:
        assert len(list(s.execute(select(CaseMaterial)).scalars())) == 11  # 3 + 2 + 1 + 2 + 2 + 1, once
    listed = api.http.get("/api/v1/halls/t1/cases", headers=api.auth("clerk1")).json()
    assert len(listed) == 3


def test_bad_submissions_say_what_is_wrong(api: Api) -> None:
    r = post_chain(api, body(form={**FORM, "food_category": "烧烤"}))
    assert r.status_code == 422 and "食品经营项目" in r.json()["detail"]
    r = post_chain(api, body(form={k: v for k, v in FORM.items() if k != "business_name"}), who="clerk1")
    assert r.status_code == 422 and "店名" in r.json()["detail"]
    r = post_chain(api, body(), files=[("file.nothing", ("x.jpg", jpeg(), "image/jpeg"))])
    assert r.status_code == 422 and "nothing" in r.json()["detail"]
    assert post_chain(api, body(), who="clerk-t2").status_code == 403
    assert api.http.get("/api/v1/halls/t1/cases", headers=api.auth("clerk1")).json() == []
    # at the kiosk (no keyboard) a text field may be left for the window
    r = post_chain(api, body(form={k: v for k, v in FORM.items() if k != "address"}))
    assert r.status_code == 201, r.text


def test_accepted_once_approved_in_parallel_one_output_one_notice(api: Api) -> None:
    out = submitted(api)
    number, members = out["number"], [m["number"] for m in out["members"]]
    assert act(api, members[0], "ready", "clerk1").status_code == 409  # not ready, and never alone
    view = ok(chain_act(api, number, "accept", window="综合窗口"))
    assert view["status"] == "accepted"
    assert [m["status"] for m in view["members"]] == ["accepted"] * 3
    assert all(m["light"] in ("green", "yellow", "red") for m in view["members"])  # each its own deadline
    assert chain_act(api, number, "accept").status_code == 409  # once
    # two approvers, interleaved: the third member last
    for n, who in ((members[1], "approver2"), (members[0], "approver1"), (members[2], "approver2")):
        assert act(api, n, "review", who).status_code == 200
    assert act(api, members[1], "approve", "approver2").status_code == 200
    assert act(api, members[0], "approve", "approver1").status_code == 200
    seen = case(api, members[2], "approver2")["chain"]  # the approver sees the other members' states
    assert [m["status"] for m in seen["members"]] == ["approved", "approved", "in_review"]
    assert [m["self"] for m in seen["members"]] == [False, False, True]
    assert staff_view(api, number)["status"] == "accepted"
    assert notices(api) == []
    assert act(api, members[2], "approve", "approver2").status_code == 200
    view = staff_view(api, number)
    assert view["status"] == "result_ready" and view["actions"] == ["deliver"]
    assert [m["status"] for m in view["members"]] == ["result_ready"] * 3
    assert view["result"]["approved"] == 3 and view["result"]["refused"] == 0
    sent = notices(api)
    assert len(sent) == 1 and sent[0].ticket == number and sent[0].kind == "case_ready"
    assert "开办餐饮店" in sent[0].text and "准予3项" in sent[0].text
    actors = {h["actor"] for m in members for h in case(api, m)["history"] if h["action"] == "approve"}
    assert actors == {"approver1", "approver2"}
    # the public status with the query code shows every member
    st = api.http.get(f"/api/v1/chain-cases/{number}/status", params={"proof": out["query_token"]}).json()
    assert st["status"] == "result_ready" and len(st["members"]) == 3
    assert api.http.get(f"/api/v1/chain-cases/{number}/status", params={"proof": "WRONG1"}).status_code == 404
    # one hand-over
    view = ok(chain_act(api, number, "deliver"))
    assert view["status"] == "delivered" and [m["status"] for m in view["members"]] == ["delivered"] * 3


def wait_for(check: Any, timeout: float = 20.0) -> Any:
    """The first true result of `check`, polled (the message goes out after the commit)."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.05)
    return result


def test_one_refusal_the_others_still_issue_one_output(api: Api, receiver: Receiver) -> None:
    receiver.hits.clear()  # numbers start again after each test's reset: only this test's messages
    out = submitted(api)
    number, members = out["number"], [m["number"] for m in out["members"]]
    ok(chain_act(api, number, "accept"))
    for n, who in zip(members, ("approver1", "approver2", "approver1"), strict=True):
        assert act(api, n, "review", who).status_code == 200
    assert act(api, members[2], "refuse", "approver1", reason="卫生设施不符合要求").status_code == 200
    assert act(api, members[0], "approve", "approver1").status_code == 200
    assert staff_view(api, number)["status"] == "accepted"
    assert act(api, members[1], "approve", "approver2").status_code == 200
    view = staff_view(api, number)
    assert view["status"] == "result_ready" and view["result"] == view["result"] | {"approved": 2, "refused": 1}
    sent = notices(api)
    assert len(sent) == 1 and "不予许可1项" in sent[0].text
    # the one pickup code of the message (to the citizen only) hands every result over at a 24-hour kiosk, once
    hit = wait_for(
        lambda: next(
            (h for h in list(receiver.hits) if h.json["ticket"] == number and "不予许可1项" in h.json["text"]), None
        )
    )
    code = re.search(r"取件码(\d{8})", hit.json["text"]).group(1)  # type: ignore[union-attr]
    assert code not in sent[0].text
    r = api.http.post("/api/v1/halls/t1/pickup", json={"code": code}, headers=api.auth(KIOSK))
    assert r.status_code == 200 and r.json() == r.json() | {"number": number, "status": "delivered"}, r.text
    assert [m["status"] for m in staff_view(api, number)["members"]] == ["delivered"] * 3
    assert [d["method"] for d in case(api, members[2])["deliveries"]] == ["self_pickup"]
    assert api.http.post("/api/v1/halls/t1/pickup", json={"code": code}, headers=api.auth(KIOSK)).status_code == 404


def test_chain_shortfall_and_one_time_notice_apply_to_the_chain(api: Api) -> None:
    number = submitted(api)["number"]
    r = chain_act(api, number, "notify_missing", problems=[{"material": "layout", "problem": "图纸不清晰"}])
    view = ok(r)
    assert view["status"] == "needs_more" and {m["status"] for m in view["members"]} == {"needs_more"}
    ok(chain_act(api, number, "resubmit"))
    view = ok(chain_act(api, number, "accept_shortfall", pending=[{"material": "hygiene_report"}]))
    assert view["status"] == "accepted"
    # only the member needing the report waits for it; the others' time limits run
    assert [m["status"] for m in view["members"]] == ["accepted", "accepted", "accepted_pending_supplement"]


def test_members_act_through_their_chain_and_decide_on_their_own(api: Api) -> None:
    out = submitted(api)
    number, members = out["number"], [m["number"] for m in out["members"]]

    def alone(r: httpx.Response, route: str) -> None:
        assert r.status_code == 409, r.text
        detail = r.json()["detail"]
        assert number in detail and members[1] in detail and f"/api/v1/chain-cases/{number}/{route}" in detail

    for action in ("accept", "accept_shortfall", "notify_missing", "reject", "withdraw"):
        alone(act(api, members[1], action), f"actions/{action}")
    alone(api.http.post(f"/api/v1/cases/{members[1]}/prereview/pass", json={}, headers=api.auth("clerk1")), "prereview")
    assert {m["status"] for m in staff_view(api, number)["members"]} == {"submitted"}  # nothing moved
    ok(chain_act(api, number, "accept"))
    # the back office decides each member on its own (并联审批)
    for n in members:
        assert act(api, n, "review", "approver1").status_code == 200
        assert act(api, n, "approve", "approver1").status_code == 200
    assert staff_view(api, number)["status"] == "result_ready"
    for action in ("deliver", "mail", "ready"):
        alone(act(api, members[1], action), "actions/deliver")
    # a pickup ticket for one member would hand it over alone: the kiosk and the clerk are sent to the chain
    for who in (KIOSK, "clerk1"):
        alone(api.http.post(f"/api/v1/cases/{members[1]}/pickup-ticket", headers=api.auth(who)), "actions/deliver")
    assert {m["status"] for m in staff_view(api, number)["members"]} == {"result_ready"}
    assert ok(chain_act(api, number, "deliver"))["status"] == "delivered"


def notices(api: Api) -> list[Notification]:
    with api.server.ctx.db.read() as s:
        return list(s.execute(select(Notification).where(Notification.kind == "case_ready")).scalars())


def test_a_bad_chain_file_names_its_line() -> None:
    items = {i.code: i for i in load_catalog()}
    good = (default_chains_dir() / "01-kaiban-canyindian.toml").read_text(encoding="utf-8")
    bad = good.replace('item = "WSJK-GGCS-001"     #', 'item = "WSJK-NONE-001"     #')
    line = bad.splitlines().index(next(x for x in bad.splitlines() if "WSJK-NONE-001" in x)) + 1
    with pytest.raises(CatalogError) as exc:
        parse_chain(bad, items, "chain.toml")
    assert f"chain.toml:{line}: members.2.item: no item 'WSJK-NONE-001'" in str(exc.value)
    # a required material nobody uploads
    lacking = good.replace('uses = { "SCZT-GTH-001" = "premises" }', 'uses = { "SCZT-SP-002" = "layout" }')
    with pytest.raises(CatalogError) as exc:
        parse_chain(lacking, items, "chain.toml")
    assert "required material premises of item 'SCZT-GTH-001'" in str(exc.value)
    with pytest.raises(CatalogError) as exc:
        parse_chain(good.replace('kind = "choice"', 'kind = "chioce"', 1), items, "chain.toml")
    assert "chain.toml:" in str(exc.value) and "fields" in str(exc.value)
    assert len(load_chains(default_chains_dir(), list(items.values()))) >= 2
