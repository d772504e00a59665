"""Self-submission: idempotent replay, upload checks, storage outside any web root, download roles."""

from __future__ import annotations

import json
import stat

from ..harness import KIOSK, KIOSK_T2, Api
from .helpers import ID_NUMBER, jpeg, pdf, png, post_case, submission


def test_replay_returns_the_same_case(api: Api) -> None:
    data = submission()
    root = api.server.ctx.var_dir / "data" / "cases"
    before = set(root.iterdir()) if root.exists() else set()
    first = post_case(api, data)
    assert first.status_code == 201, first.text
    for _ in range(3):  # the kiosk's outbox may send it any number of times
        again = post_case(api, data)
        assert again.status_code == 200, again.text
        assert again.json()["number"] == first.json()["number"] and again.json()["replayed"] is True
    search = {"id_number": ID_NUMBER}
    cases = api.http.post("/api/v1/halls/t1/cases/search", json=search, headers=api.auth("clerk1")).json()
    assert [c["number"] for c in cases] == [first.json()["number"]]
    view = api.http.get(f"/api/v1/cases/{first.json()['number']}", headers=api.auth("clerk1")).json()
    assert len(view["materials"]) == 2  # the replays stored no more files
    assert len(set(root.iterdir()) - before) == 2


def test_exe_renamed_jpg_is_422(api: Api) -> None:
    exe = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
    r = post_case(api, files=[("file.id_card", ("photo.jpg", exe, "image/jpeg"))])
    assert r.status_code == 422
    assert "photo.jpg" in r.json()["detail"] and "JPEG" in r.json()["detail"]


def test_damaged_image_and_pdf_are_422(api: Api) -> None:
    broken = jpeg()[:40]
    r = post_case(api, files=[("file.id_card", ("scan.jpg", broken, "image/jpeg"))])
    assert r.status_code == 422 and "damaged" in r.json()["detail"]
    r = post_case(api, files=[("file.application", ("form.pdf", b"%PDF-1.7\nnothing here", "application/pdf"))])
    assert r.status_code == 422 and "form.pdf" in r.json()["detail"]


def test_oversize_is_413(api: Api) -> None:
    limit = api.server.ctx.hall("t1").case_upload_max_kb * 1024
    big = jpeg() + b"\x00" * limit
    r = post_case(api, files=[("file.id_card", ("big.jpg", big, "image/jpeg"))])
    assert r.status_code == 413 and "big.jpg" in r.json()["detail"]


def test_png_and_pdf_accepted(api: Api) -> None:
    r = post_case(
        api, files=[("file.id_card", ("a.png", png(), "image/png")), ("file.application", ("b.pdf", pdf(), "x/y"))]
    )
    assert r.status_code == 201, r.text


def test_bad_material_code_and_bad_data(api: Api) -> None:
    r = post_case(api, files=[("file.passport", ("a.png", png(), "image/png"))])
    assert r.status_code == 422 and "passport" in r.json()["detail"]
    r = post_case(api, files=[("photo", ("a.png", png(), "image/png"))])
    assert r.status_code == 422 and "file.<material>" in r.json()["detail"]
    r = post_case(api, submission(situation="nope"))
    assert r.status_code == 422 and "nope" in r.json()["detail"]
    bad_id = submission(applicant={"name": "张三", "id_number": "110101199001011230"})
    assert post_case(api, bad_id).status_code == 422
    r = api.http.post("/api/v1/halls/t1/cases", data={"data": "{"}, headers=api.auth(KIOSK))
    assert r.status_code == 422
    assert post_case(api, submission(item="NOPE-000")).status_code == 404


def test_who_may_submit(api: Api) -> None:
    assert post_case(api, who=KIOSK_T2).status_code == 403  # another hall's kiosk
    assert post_case(api, who="approver1").status_code == 403
    r = post_case(api, who="clerk1")  # at the counter
    assert r.status_code == 201
    view = api.http.get(f"/api/v1/cases/{r.json()['number']}", headers=api.auth("clerk1")).json()
    assert view["channel"] == "counter"
    web = post_case(api, who=None)  # online, with the proof of a phone code (网上预审), rate limited
    assert web.status_code == 201 and web.json()["status"] == "prereview"
    bare = api.http.post("/api/v1/halls/t1/cases", data={"data": "{}"}, files=[("file.id_card", ("a.png", png()))])
    assert bare.status_code == 401 and "X-Phone-Proof" in bare.json()["detail"]  # no phone proven: refused


def test_files_stored_privately_and_readable_by_staff_only(api: Api) -> None:
    scan = jpeg((80, 60))
    r = post_case(api, files=[("file.id_card", ("id.jpg", scan, "image/jpeg"))])
    number = r.json()["number"]
    view = api.http.get(f"/api/v1/cases/{number}", headers=api.auth("clerk1")).json()
    [m] = view["materials"]
    url = f"/api/v1/cases/{number}/materials/{m['id']}"
    for who in ("clerk1", "approver1", "auditor1"):
        got = api.http.get(url, headers=api.auth(who))
        assert got.status_code == 200 and got.content == scan
        assert got.headers["content-type"] == "image/jpeg" and got.headers["x-content-type-options"] == "nosniff"
    assert api.http.get(url, headers=api.auth(KIOSK)).status_code == 403
    assert api.http.get(url, headers=api.auth("clerk-t2")).status_code == 403
    assert api.http.get(url).status_code == 401
    root = api.server.ctx.var_dir / "data" / "cases"
    [stored] = [f for f in root.iterdir() if f.read_bytes() == scan]
    assert stored.read_bytes() == scan and "id" not in stored.name and len(stored.name) == 32
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    from sqlalchemy import select

    from queue_server.models import AuditLog

    with api.server.ctx.db.read() as s:
        audits = s.execute(select(AuditLog).where(AuditLog.action == "case.material")).scalars().all()
    assert {a.actor for a in audits} == {"clerk1", "approver1", "auditor1"}


def test_more_materials_until_accepted(api: Api) -> None:
    number = post_case(api).json()["number"]
    url = f"/api/v1/cases/{number}/materials"
    r = api.http.post(url, files=[("file.premises", ("lease.pdf", pdf(), "application/pdf"))], headers=api.auth(KIOSK))
    assert r.status_code == 201 and r.json()["materials"][0]["material"] == "premises"
    assert api.http.post(url, files=[], headers=api.auth(KIOSK)).status_code in (400, 422)
    bad = api.http.post(url, files=[("file.premises", ("x.jpg", b"GIF89a", "image/jpeg"))], headers=api.auth(KIOSK))
    assert bad.status_code == 422
    api.http.post(f"/api/v1/cases/{number}/actions/accept", json={}, headers=api.auth("clerk1"))
    late = api.http.post(url, files=[("file.premises", ("l.pdf", pdf(), "application/pdf"))], headers=api.auth(KIOSK))
    assert late.status_code == 409
    assert json.loads(late.text)["detail"]


def test_concurrent_replays_make_one_case(api: Api) -> None:
    """The outbox may resend while the first attempt is still running: still exactly one case."""
    from concurrent.futures import ThreadPoolExecutor

    data = submission()
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: post_case(api, data), range(6)))
    assert sorted(r.status_code for r in answers) == [200] * 5 + [201]
    assert len({r.json()["number"] for r in answers}) == 1
    search = {"id_number": ID_NUMBER}
    cases = api.http.post("/api/v1/halls/t1/cases/search", json=search, headers=api.auth("clerk1")).json()
    assert len(cases) == 1
