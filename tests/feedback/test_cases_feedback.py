"""一事一评 of a case by its number and receipt query code, and cases by deadline colour in the statistics."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlmodel import col

from queue_server.cases.models import Case, CaseItem
from queue_server.timeutil import utcnow

from ..harness import Api
from .dataset import today
from .helpers import evaluate


def add_case(api: Api, number: str, status: str, deadline: date | None, limit: int = 20) -> str:
    """Write a case row (the cases package's table) straight to the database; returns its query code."""
    token = f"q{number[-6:]}"
    with api.server.ctx.db.write() as s:
        item = s.execute(select(CaseItem).where(col(CaseItem.code) == "FB-TEST")).scalar_one_or_none()
        if item is None:
            item = CaseItem(
                code="FB-TEST", version=1, name="测试事项", name_en="Test item", domain="测试", domain_en="Test",
                data="{}", digest="0" * 64, source="admin", created_at=utcnow(), created_by="admin",
            )  # fmt: skip
            s.add(item)
            s.flush()
        assert item.id is not None
        s.add(
            Case(
                number=number, hall_code="t1", item_id=item.id, situation="default", status=status, channel="web",
                query_token=token, name_enc="x", name_masked="x", id_enc="x", id_hash="x", id_masked="x",
                id_last4_hash="x", form_enc="x", submitted_at=utcnow(), time_limit_days=limit, deadline=deadline,
                decision_reason="", updated_at=utcnow(),
            )
        )  # fmt: skip
        s.commit()
    return token


def test_case_is_rated_once_with_its_query_code(api: Api) -> None:
    token = add_case(api, "T1202611270001", "delivered", None)
    running = add_case(api, "T1202611270002", "in_review", today() + timedelta(days=10))
    assert evaluate(api, who=None, case_number="T1202611270001", case_token="wrong", level=5).status_code == 404
    assert evaluate(api, who=None, case_number="T1202611279999", case_token=token, level=5).status_code == 404
    assert evaluate(api, who=None, case_number="T1202611270002", case_token=running, level=5).status_code == 409
    r = evaluate(api, who=None, case_number="T1202611270001", case_token=token, level=2, reasons=["repeat"])
    assert r.status_code == 201, r.text
    assert (r.json()["case_number"], r.json()["ticket_id"], r.json()["channel"]) == ("T1202611270001", None, "web")
    assert r.json()["followup_id"] is not None  # a bad review of a case is followed up too
    assert evaluate(api, who=None, case_number="T1202611270001", case_token=token, level=5).status_code == 409
    total = api.http.get("/api/v1/halls/t1/reports/summary", headers=api.auth("approver1")).json()["total"]
    assert (total["evaluations"], total["levels"]["2"]) == (1, 1)


def test_cases_by_deadline_colour(api: Api) -> None:
    d = today()
    add_case(api, "T1202611270011", "accepted", d + timedelta(days=60))  # green
    add_case(api, "T1202611270012", "in_review", d - timedelta(days=1))  # red: overdue
    add_case(api, "T1202611270013", "delivered", d - timedelta(days=5))  # not running
    r = api.http.get("/api/v1/halls/t1/reports/cases", headers=api.auth("auditor1"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["running"] == {"green": 1, "yellow": 0, "red": 1, "without_deadline": 0}
    assert body["submitted"] == {"accepted": 1, "in_review": 1, "delivered": 1}
    assert api.http.get("/api/v1/halls/t1/reports/cases", headers=api.auth("clerk1")).status_code == 403
