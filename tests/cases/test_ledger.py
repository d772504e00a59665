"""帮办代办 ledger: a month of records through the HTTP API, key projects with milestones, the month's statistics,
and the CSV and XLSX exports read back (masked persons only)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from openpyxl import load_workbook  # type: ignore[import-untyped]

from ..harness import Api

MONTH = "2026-11"
STAFF = ("clerk1", "clerk2")


def post(api: Api, path: str, body: dict[str, object], who: str = "clerk1") -> dict[str, object]:
    r = api.http.post(path, json=body, headers=api.auth(who))
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


def test_a_month_of_the_ledger(api: Api) -> None:
    project = post(
        api,
        "/api/v1/halls/t1/assist/projects",
        {"name": "威海某精密制造厂房建设", "organisation": "威海某精密制造有限公司"},
    )
    pid = project["id"]
    for name, due in (("立项备案", "2026-11-05"), ("规划许可", "2026-11-20"), ("施工许可", "2026-12-20")):
        project = post(api, f"/api/v1/assist/projects/{pid}/milestones", {"name": name, "due": due})
    ms = project["milestones"]
    assert [m["name"] for m in ms] == ["立项备案", "规划许可", "施工许可"]  # type: ignore[index]
    post(api, f"/api/v1/assist/projects/{pid}/milestones/{ms[0]['id']}/done", {"day": "2026-11-04"})  # type: ignore[index]
    # the working days of November: each day two records by two staff members
    day, n = date(2026, 11, 1), 0
    while day.month == 11:
        if day.weekday() < 5:
            for i, who in enumerate(STAFF):
                n += 1
                body = {
                    "day": day.isoformat(),
                    "kind": "proxy" if i else "assist",
                    "person": f"王{'一二三四五六七八九十'[n % 10]}明",
                    "minutes": 10 + n % 30,
                    "outcome": ("done", "done", "advice", "referred")[n % 4],
                    "item": "SCZT-GTH-001" if n % 3 else None,
                    "organisation": "威海某精密制造有限公司" if i else "",
                    "project_id": pid if i else None,
                }
                post(api, "/api/v1/halls/t1/assist/records", body, who)
        day += timedelta(days=1)
    rows = api.http.get("/api/v1/halls/t1/assist/records", params={"month": MONTH}, headers=api.auth("auditor1")).json()
    assert len(rows) == n == 42
    assert all("*" in r["person"] for r in rows) and rows[0]["staff"] == "clerk1"
    st = api.http.get("/api/v1/halls/t1/assist/stats", params={"month": MONTH}, headers=api.auth("approver1")).json()
    assert st["records"] == 42 and st["by_kind"] == {"assist": 21, "proxy": 21}
    assert st["by_staff"] == {"clerk1": 21, "clerk2": 21}
    assert sum(st["by_outcome"].values()) == 42 and st["by_item"]["个体工商户设立登记"] == 28
    assert st["minutes_total"] == sum(r["minutes"] for r in rows)
    assert st["projects_active"] == 1 and st["milestones_due"] == 2
    assert st["milestones_done"] == 1 and st["milestones_late"] == 1  # 规划许可 (due 11-20) not reached
    # exports
    r = api.http.get("/api/v1/halls/t1/assist/records.csv", params={"month": MONTH}, headers=api.auth("auditor1"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert lines[0][0] == "日期 / Date" and len(lines) == 43
    assert "王" not in "".join(x[3].replace("王*", "") for x in lines[1:])  # masked: only the surname stays
    r = api.http.get("/api/v1/halls/t1/assist/records.xlsx", params={"month": MONTH}, headers=api.auth("auditor1"))
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == [f"台账 {MONTH}", f"统计 {MONTH}"]
    assert wb.worksheets[0].max_row == 43
    figures = {row[0]: row[1] for row in wb.worksheets[1].iter_rows(min_row=2, values_only=True)}
    assert figures["records"] == 42 and figures["milestones_late"] == 1
    # the project is done with its last milestones
    for m in ms[1:]:  # type: ignore[index]
        project = post(api, f"/api/v1/assist/projects/{pid}/milestones/{m['id']}/done", {})
    assert project["status"] == "done"


def test_who_may_write_and_read(api: Api) -> None:
    body = {"kind": "assist", "person": "李四", "minutes": 5, "outcome": "advice"}
    assert api.http.post("/api/v1/halls/t1/assist/records", json=body, headers=api.auth("auditor1")).status_code == 403
    assert api.http.post("/api/v1/halls/t1/assist/records", json=body).status_code == 401
    r = api.http.post("/api/v1/halls/t1/assist/records", json=body | {"item": "NOPE-000"}, headers=api.auth("clerk1"))
    assert r.status_code == 404
    r = api.http.get("/api/v1/halls/t1/assist/stats", params={"month": "2026-13"}, headers=api.auth("auditor1"))
    assert r.status_code == 422
