"""秒批秒办: a kiosk submission meeting every rule of its item is approved at once (documents, signed certificate,
the citizen's message, 智能审批 in the history); a failing rule sends it to the clerk with the rules listed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from queue_server.cases import signing
from queue_server.cases.catalog import CatalogError, default_items_dir, parse_item
from queue_server.cases.rules import Rule, evaluate
from queue_server.cases.sources import FixtureSource
from queue_server.ids import make_id_number
from queue_server.notify.models import Notification

from ..harness import KIOSK, Api
from .helpers import jpeg, pdf, png, post_case, submission

GOOD = "371002199001018017"  # in config/shared-data: identity 正常, credit clean, card reported lost
DISHONEST = "371002199001018025"  # on the credit source's 失信 list
CARD_NOT_LOST = "371002199001018033"  # insured, card not reported lost
SHOP = {"business_name": "小三日用百货店", "scope": "日用百货零售"}
GTH_FILES = [
    ("file.application", ("form.pdf", pdf(), "application/pdf")),
    ("file.id_card", ("id.jpg", jpeg(), "image/jpeg")),
    ("file.premises", ("lease.pdf", pdf(), "application/pdf")),
]


def submit(api: Api, id_number: str, files: list[Any] | None = None, **over: Any) -> dict[str, Any]:
    body = submission(**over)
    body["applicant"] = body["applicant"] | {"id_number": id_number}
    r = post_case(api, body, GTH_FILES if files is None else files, who=KIOSK)
    assert r.status_code == 201, r.text
    return dict(r.json()) | {"submission": body}


def view(api: Api, number: str) -> dict[str, Any]:
    r = api.http.get(f"/api/v1/cases/{number}", headers=api.auth("clerk1"))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_kiosk_submission_meeting_every_rule_is_approved_at_once(api: Api) -> None:
    got = submit(api, GOOD, form=SHOP)
    assert got["smart_approved"] is True and got["status"] == "result_ready"
    n = got["number"]
    v = view(api, n)
    steps = [(h["action"], h["actor"]) for h in v["history"]]
    assert steps == [
        ("submit", "kiosk-t1"),
        ("accept", "智能审批"),
        ("review", "智能审批"),
        ("approve", "智能审批"),
        ("ready", "智能审批"),
    ]
    assert "全部通过" in v["history"][1]["note"] and "第 " in v["history"][1]["note"]
    assert v["decision"] == "approved"
    assert [d["kind"] for d in v["documents"]] == ["acceptance_receipt", "approval_decision"]
    check = v["smart_check"]
    assert check["passed"] and len(check["results"]) == 7 and all(r["passed"] for r in check["results"])
    # the signed certificate, its verification
    [cert] = v["certificates"]
    assert cert["signed"]
    signed = api.http.get(cert["url"], headers=api.auth("clerk1")).content
    signer = api.server.ctx.signer
    assert signer is not None and signing.validate(signed, signer.trust_roots).ok
    assert api.http.get(f"/api/v1/verify/{cert['code']}").json()["status"] == "valid"
    # the citizen is told (silent-calling channel: the notify outbox), with the pickup code
    with api.server.ctx.db.read() as s:
        notes = s.execute(select(Notification).where(col(Notification.ticket) == n)).scalars().all()
    assert [x.kind for x in notes] == ["case_ready"]
    # an outbox replay of the same submission is the same case, approved once
    again = post_case(api, got["submission"], GTH_FILES, who=KIOSK)
    assert again.status_code == 200 and again.json()["number"] == n and again.json()["smart_approved"] is False
    assert len(view(api, n)["history"]) == 5


def test_a_failing_rule_lands_in_the_clerks_worklist_with_the_rules_listed(api: Api) -> None:
    got = submit(api, DISHONEST, form={"business_name": "好运来食品店", "scope": "预包装食品销售"})
    assert got["smart_approved"] is False and got["status"] == "submitted"
    n = got["number"]
    r = api.http.get("/api/v1/halls/t1/cases", params={"status": "submitted"}, headers=api.auth("clerk1"))
    [row] = [x for x in r.json() if x["number"] == n]
    assert any("失信" in label for label in row["smart_failed"])
    assert any("经营范围" in label for label in row["smart_failed"])
    assert len(row["smart_failed"]) == 2  # the name, the materials and the identity passed
    v = view(api, n)
    failed = {x["code"]: x["detail"] for x in v["smart_check"]["results"] if not x["passed"]}
    assert set(failed) == {"scope", "credit"}
    assert "食品" in failed["scope"] and "dishonest" in failed["credit"] and DISHONEST not in json.dumps(v)
    assert v["certificates"] == [] and [h["action"] for h in v["history"]] == ["submit"]
    # the clerk accepts it the ordinary way
    r = api.http.post(f"/api/v1/cases/{n}/actions/accept", json={"window": "1号窗口"}, headers=api.auth("clerk1"))
    assert r.status_code == 200 and r.json()["status"] == "accepted"


def test_missing_material_and_unknown_person_are_listed(api: Api) -> None:
    files = [("file.id_card", ("id.jpg", jpeg(), "image/jpeg"))]
    got = submit(api, make_id_number(serial=950), files=files, form=SHOP)  # in no data source
    assert got["status"] == "submitted"
    v = view(api, got["number"])
    failed = {x["code"] for x in v["smart_check"]["results"] if not x["passed"]}
    assert failed == {"application", "premises", "identity", "credit"}


def test_social_security_card_replacement(api: Api) -> None:
    card = [("file.id_card", ("id.png", png(), "image/png"))]
    ok = submit(api, GOOD, files=card, item="SBYB-SBK-001", situation="lost", form={"collect": "邮寄到家"})
    assert ok["smart_approved"] is True and ok["status"] == "result_ready"
    assert view(api, ok["number"])["certificates"] == []  # the item issues no licence
    no = submit(api, CARD_NOT_LOST, files=card, item="SBYB-SBK-001", situation="lost", form={"collect": "邮寄到家"})
    assert no["status"] == "submitted"
    assert view(api, no["number"])["smart_check"]["results"][-1] == {
        "code": "insured",
        "label": "已参保且原社会保障卡已挂失（社保信息核验）",
        "label_en": "Insured, and the old card reported lost (social insurance source)",
        "passed": False,
        "detail": "社会保险参保信息（模拟）核验不符：card_status / 'social_insurance' does not confirm: card_status",
    }
    # a situation without rules is not checked at all
    first = submit(api, GOOD, files=card, item="SBYB-SBK-001", situation="first", form={})
    assert first["status"] == "submitted" and view(api, first["number"])["smart_check"] is None


def _rule(**kw: Any) -> Rule:
    return Rule.model_validate({"code": "r", "label": "规则", "label_en": "rule"} | kw)


def test_evaluate_each_kind() -> None:
    src = FixtureSource(
        "credit", "信用", [{"id_number": "X1", "dishonest": False}, {"id_number": "X2", "dishonest": True}]
    )
    rules = [
        _rule(code="name", kind="field", field="name", pattern="^.+店$", max_length=5),
        _rule(code="scope", kind="field", field="scope", forbid_words=["烟草"], required=False),
        _rule(code="pick", kind="field", field="pick", one_of=["a", "b"]),
        _rule(code="doc", kind="material", material="doc"),
        _rule(code="credit", kind="data", source="credit", expect={"dishonest": False}),
        _rule(code="tax", kind="data", source="tax", situations=["other"]),
    ]

    def run(form: dict[str, Any], mats: set[str], idn: str) -> dict[str, bool]:
        got = evaluate(
            rules, version=3, situation="self", form=form, materials=mats, id_number=idn, sources={"credit": src}
        )
        assert got.version == 3
        return {r.code: r.passed for r in got.results}

    assert run({"name": "小店", "pick": "a"}, {"doc"}, "x1") == dict.fromkeys(
        ["name", "scope", "pick", "doc", "credit"], True
    )
    bad = run({"name": "小小小小小店", "scope": "卷烟烟草", "pick": "c"}, set(), "X2")
    assert not any(bad.values())
    assert run({"name": "小铺", "pick": "a"}, {"doc"}, "X3") == {
        "name": False,
        "scope": True,
        "pick": True,
        "doc": True,
        "credit": False,
    }


def test_catalogue_rules_are_checked_when_loading() -> None:
    text = (default_items_dir() / "06-shebaoka.toml").read_text(encoding="utf-8")
    assert parse_item(text).rules
    with pytest.raises(CatalogError, match="no material 'nothing'"):
        parse_item(text.replace('material = "id_card"\nlabel = "已上传', 'material = "nothing"\nlabel = "已上传'))
    with pytest.raises(CatalogError, match="needs 'source'"):
        parse_item(text.replace('source = "social_insurance"\n', ""))
    with pytest.raises(CatalogError, match="no situation"):
        parse_item(text.replace('situations = ["lost"]\none_of', 'situations = ["stolen"]\none_of'))
