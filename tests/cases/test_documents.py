"""Each document of the workflow, drawn as PDF and read back with pdftotext."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest

from queue_server.ids import mask_id_number

from ..harness import Api
from .helpers import ID_NUMBER, NAME, act, new_case


def text_of(pdf: bytes) -> str:
    """The PDF's text (pdftotext from poppler-utils), white space removed for CJK matching."""
    assert pdf.startswith(b"%PDF")
    exe = shutil.which("pdftotext")
    assert exe, "pdftotext (poppler-utils) is required"
    out = subprocess.run([exe, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return re.sub(r"\s+", "", out.decode("utf-8"))


def docs_of(api: Api, view: dict[str, Any], kind: str) -> str:
    [doc] = [d for d in view["documents"] if d["kind"] == kind]
    r = api.http.get(doc["url"], headers=api.auth("auditor1"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    return text_of(r.content)


def ok(api: Api, number: str, action: str, who: str = "clerk1", **body: Any) -> dict[str, Any]:
    r = act(api, number, action, who, **body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_acceptance_receipt(api: Api) -> None:
    n = new_case(api)["number"]
    view = ok(api, n, "accept", window="综合受理1号窗口")
    text = docs_of(api, view, "acceptance_receipt")
    for want in (
        "受理凭证",
        NAME,
        "个体工商户设立登记",
        n,
        "综合受理1号窗口",
        "1个工作日",
        "经营者身份证件",
        "（已扫描）",
    ):
        assert want in text, want
    y, m, d = (int(x) for x in view["deadline"].split("-"))
    assert f"{y}年{m}月{d}日前办结" in text
    assert ID_NUMBER not in text


def test_one_time_notice_lists_every_problem(api: Api) -> None:
    n = new_case(api)["number"]
    problems = [
        {"material": "premises", "problem": "未提交", "requirement": "提交房屋租赁合同复印件"},
        {"material": "application", "problem": "经营范围表述不规范", "requirement": "按规范表述目录重新填写"},
        {"material": "其他说明", "problem": "缺少", "requirement": "补充经营场所照片"},
    ]
    text = docs_of(api, ok(api, n, "notify_missing", problems=problems), "one_time_notice")
    assert "一次性告知书" in text and NAME in text
    for p in (
        "经营场所使用证明",
        "提交房屋租赁合同复印件",
        "个体工商户登记（备案）申请书",
        "按规范表述目录重新填写",
        "补充经营场所照片",
    ):
        assert p in text, p
    assert "不再要求补正本告知书所列以外的内容" in text


def test_non_acceptance_notice_states_reason_and_remedies(api: Api) -> None:
    n = new_case(api)["number"]
    view = ok(api, n, "reject", reason="该申请事项依法不属于本机关职权范围", competent_authority="威海市市场监督管理局")
    text = docs_of(api, view, "non_acceptance_notice")
    for want in (
        "不予受理通知书",
        "该申请事项依法不属于本机关职权范围",
        "威海市市场监督管理局",
        "六十日内",
        "行政复议",
        "六个月内",
        "行政诉讼",
    ):
        assert want in text, want


def test_conditional_acceptance_notice_has_the_deadline(api: Api) -> None:
    n = new_case(api)["number"]
    view = ok(api, n, "accept_shortfall", pending=[{"material": "premises", "requirement": "租赁合同原件"}])
    text = docs_of(api, view, "conditional_acceptance_notice")
    y, m, d = (int(x) for x in view["supplement_deadline"].split("-"))
    for want in ("容缺受理通知书", "经营场所使用证明", "租赁合同原件", f"{y}年{m}月{d}日前"):
        assert want in text, want


def test_commitment_letter_is_for_the_applicant_to_sign(api: Api) -> None:
    n = new_case(api)["number"]
    view = ok(api, n, "accept_commitment", commitments=["premises"], signed=True)
    text = docs_of(api, view, "commitment_letter")  # as the auditor reads it: the ID number masked
    masked = mask_id_number(ID_NUMBER)
    for want in ("告知承诺书", "经营场所使用证明", NAME, masked, "申请人（签字或盖章）", "30个工作日内"):
        assert want in text, want
    assert ID_NUMBER not in text
    assert "受理凭证" in docs_of(api, view, "acceptance_receipt")


@pytest.mark.parametrize("decision", ["approve", "refuse"])
def test_decisions(api: Api, decision: str) -> None:
    n = new_case(api)["number"]
    ok(api, n, "accept")
    ok(api, n, "review", "approver1")
    view = ok(api, n, decision, "approver1", reason="经营场所位于禁止经营区域", note="准予登记")
    if decision == "approve":
        text = docs_of(api, view, "approval_decision")
        assert "准予行政许可决定书" in text and "准予登记" in text and "统一出件窗口" in text
    else:
        text = docs_of(api, view, "refusal_decision")
        for want in (
            "不予行政许可决定书",
            "经营场所位于禁止经营区域",
            "六十日内",
            "申请行政复议",
            "六个月内",
            "提起行政诉讼",
        ):
            assert want in text, want


def test_handover_list_and_receipt(api: Api) -> None:
    c = new_case(api)
    ok(api, c["number"], "accept")
    r = api.http.post("/api/v1/halls/t1/handovers", json={"cases": [c["number"]]}, headers=api.auth("clerk1"))
    text = text_of(api.http.get(r.json()["url"], headers=api.auth("clerk1")).content)
    for want in ("移交清单", c["number"], "个体工商户设立登记", "已受理", "clerk1", "接收人"):
        assert want in text, want
    assert NAME not in text
    receipt = api.http.get(c["receipt_url"])
    assert receipt.status_code == 200
    text = text_of(receipt.content)
    for want in ("自助申报回执", c["number"], c["query_token"], "张*三", "2份"):
        assert want in text, want
    assert NAME not in text and ID_NUMBER not in text
    assert api.http.get(f"/api/v1/cases/{c['number']}/receipt.pdf", params={"proof": "WRONG1"}).status_code == 404


def test_commitment_letter_preview_before_signing(api: Api) -> None:
    n = new_case(api)["number"]
    url = f"/api/v1/cases/{n}/commitment-letter.pdf"
    r = api.http.get(url, params={"commitments": "premises"}, headers=api.auth("clerk1"))
    assert r.status_code == 200
    text = text_of(r.content)
    assert "告知承诺书" in text and "经营场所使用证明" in text and NAME in text and "（待编号）" in text
    assert api.http.get(url, params={"commitments": "id_card"}, headers=api.auth("clerk1")).status_code == 422
    assert api.http.get(url, params={"commitments": "premises"}, headers=api.auth("approver1")).status_code == 403
    view = api.http.get(f"/api/v1/cases/{n}", headers=api.auth("clerk1")).json()
    assert view["status"] == "submitted" and view["documents"] == []  # nothing stored


@pytest.mark.parametrize(
    ("lang", "want", "absent"),
    [
        ("ko", ("자가신청확인서", "신청번호", "조회코드", "신청서가제출되어"), "Self-SubmissionReceipt"),
        ("ja", ("セルフ申請控え", "案件番号", "照会コード"), "Self-SubmissionReceipt"),
        ("ru", ("Квитанция", "Номердела", "Заявитель"), "Casenumber"),
        (None, ("Self-SubmissionReceipt", "Casenumber", "Querycode"), "신청번호"),
    ],
)
def test_the_receipt_speaks_the_applicants_language(
    api: Api, lang: str | None, want: tuple[str, ...], absent: str
) -> None:
    c = new_case(api, **({"lang": lang} if lang else {}))
    text = text_of(api.http.get(c["receipt_url"]).content)
    assert text.index("自助申报回执") < text.index(want[0])  # Chinese first, then the language
    for w in want:
        assert w in text, w
    assert absent not in text
    assert NAME not in text and ID_NUMBER not in text
