"""电子证照: an approval signs a PDF certificate (pyHanko validates it; a tampered copy fails), the public
verification page's data (valid, revoked, unknown; masked), revocation by the approver (audited), rate limits."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from queue_server.cases import signing
from queue_server.models import AuditLog

from ..harness import Api
from .helpers import NAME, act, new_case
from .test_documents import text_of


def approved(api: Api, **over: Any) -> dict[str, Any]:
    """A case of the catalogue's licence item (个体工商户设立登记) accepted, reviewed and approved: its view."""
    c = new_case(api, **over)
    n = c["number"]
    for action, who in (("accept", "clerk1"), ("review", "approver1"), ("approve", "approver1")):
        r = act(api, n, action, who, window="1号窗口")
        assert r.status_code == 200, r.text
    return dict(r.json()) | {"query_token": c["query_token"]}


def test_approval_issues_a_signed_certificate_that_validates(api: Api) -> None:
    view = approved(api)
    [cert] = view["certificates"]
    assert cert["signed"] and cert["status"] == "valid" and len(cert["code"]) >= 32
    r = api.http.get(cert["url"], headers=api.auth("auditor1"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = r.content
    signer = api.server.ctx.signer
    assert signer is not None  # demo mode: the demo CA under var/pki
    v = signing.validate(pdf, signer.trust_roots)
    assert v.ok, v
    assert "电子证照签章" in v.signer
    # PDF/A-2b identification and the output intent are in the signed revision
    assert b"pdfaid:part" in pdf and b"/GTS_PDFA1" in pdf and b"/ETSI.CAdES.detached" in pdf
    text = text_of(pdf)
    assert "个体工商户营业执照" in text and NAME in text and "小三日用百货店" in text
    assert f"/verify/{cert['code']}" in text
    # any change to the signed bytes breaks the signature
    at = pdf.index(b"/Producer")
    tampered = pdf[:at] + b"/Producex" + pdf[at + 9 :]
    bad = signing.validate(tampered, signer.trust_roots)
    assert not bad.intact and not bad.ok
    # bytes added after the signature are seen too
    assert not signing.validate(pdf + b"\n% appended\n", signer.trust_roots).ok
    # the download is audited; the same signed file comes back every time
    again = api.http.get(cert["url"], headers=api.auth("approver1")).content
    assert again == pdf
    with api.server.ctx.db.read() as s:
        audits = s.execute(select(AuditLog).where(col(AuditLog.action) == "case.certificate")).scalars().all()
    assert [a.actor for a in audits] == ["auditor1", "approver1"]


def test_the_citizen_gets_the_certificate_with_the_query_code(api: Api) -> None:
    view = approved(api)
    n, token = view["number"], view["query_token"]
    r = api.http.get(f"/api/v1/cases/{n}/certificate.pdf", params={"proof": token})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert api.http.get(f"/api/v1/cases/{n}/certificate.pdf", params={"proof": "WRONG123"}).status_code == 404


def test_verify_shows_valid_then_revoked_masked(api: Api) -> None:
    view = approved(api)
    [cert] = view["certificates"]
    r = api.http.get(f"/api/v1/verify/{cert['code']}")
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["status"] == "valid" and got["name"] == "个体工商户营业执照"
    assert got["holder"] != NAME and got["holder"].startswith(NAME[0]) and "*" in got["holder"]
    assert got["valid_until"] is None and got["revoked_on"] is None and re.fullmatch(r"[0-9a-f]{64}", got["sha256"])
    assert view["number"] not in r.text and NAME not in r.text
    # revocation: the approver's (a clerk may not), with a reason; audited and in the case's history
    url = f"/api/v1/certificates/{cert['code']}/revoke"
    assert api.http.post(url, json={"reason": "x"}, headers=api.auth("clerk1")).status_code == 403
    assert api.http.post(url, json={"reason": "x"}).status_code == 401
    r = api.http.post(url, json={"reason": "以欺骗手段取得登记 / obtained by deception"}, headers=api.auth("approver1"))
    assert r.status_code == 200, r.text
    assert api.http.post(url, json={"reason": "again"}, headers=api.auth("approver1")).status_code == 409
    got = api.http.get(f"/api/v1/verify/{cert['code']}").json()
    assert got["status"] == "revoked" and got["revoked_on"] and "欺骗" in got["revoke_reason"]
    staff = api.http.get(f"/api/v1/cases/{view['number']}", headers=api.auth("auditor1")).json()
    assert staff["certificates"][0]["status"] == "revoked"
    assert staff["history"][-1]["action"] == "revoke_certificate" and staff["history"][-1]["actor"] == "approver1"
    with api.server.ctx.db.read() as s:
        audit = s.execute(select(AuditLog).where(col(AuditLog.action) == "certificate.revoke")).scalar_one()
    assert audit.actor == "approver1" and audit.subject == f"case:{view['number']}"


def test_unknown_codes_are_404_and_an_address_is_limited(api: Api) -> None:
    assert api.http.get("/api/v1/verify/" + "A" * 32).status_code == 404
    assert api.http.get("/api/v1/verify/short").status_code == 422
    from queue_server.ratelimit import PER_ADDRESS_HOUR

    codes = [api.http.get("/api/v1/verify/" + "B" * 32).status_code for _ in range(PER_ADDRESS_HOUR + 1)]
    assert codes[-1] == 429 and set(codes[:-2]) == {404}


def test_an_item_without_a_licence_issues_no_certificate(api: Api) -> None:
    view = approved(api, item="SBYB-SBK-001", situation="first", form={})
    assert view["decision"] == "approved" and view["certificates"] == []


def test_a_long_hall_name_still_makes_the_demo_ca(tmp_path: Path) -> None:
    long_name = "某某省某某市某某区人民政府政务服务中心（市民中心）" * 3  # over X.520's 64 characters
    s = signing.load_signer(signing.demo_pki(tmp_path, long_name))
    assert "某某省" in s.subject  # the name cut to 64 bytes, never refused
