"""Statistics against hand-computed values on a fixed data set; rollups; exports parsed back; access."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from queue_server.feedback.models import MonthlyRollup

from ..harness import Api
from . import dataset
from .helpers import evaluate

BASE = "/api/v1/halls/t1/reports"


def report(api: Api, path: str = "/summary", who: str = "approver1", **params: Any) -> Any:
    r = api.http.get(BASE + path, params=params, headers=api.auth(who))
    assert r.status_code == 200, r.text
    return r.json() if path.endswith(("summary", "length", "utilisation", "overview")) else r


HALL = {
    "tickets": 6, "served": 3, "no_show": 1, "cancelled": 1, "expired": 1, "abandoned": 3,
    "wait_mean_s": 555.0, "wait_median_s": 300.0, "wait_p90_s": 1200.0,
    "service_mean_s": 500.0, "service_median_s": 600.0, "service_p90_s": 600.0,
    "appointments": 3, "appt_checked_in": 1, "appt_no_show": 1,
}  # fmt: skip


def pick(row: dict[str, Any], keys: Any) -> dict[str, Any]:
    return {k: row[k] for k in keys}


def test_exact_figures_of_one_day(api: Api) -> None:
    day = dataset.today() - timedelta(days=3)
    tickets = dataset.load(api, day)
    evaluate(api, who=None, track_token=tickets["B001"]["track_token"], level=4)
    r = report(api, **{"from": day.isoformat(), "group": "hall"})
    assert r["exact"] is True
    assert pick(r["total"], HALL) == HALL
    assert (r["total"]["evaluations"], r["total"]["satisfied"], r["total"]["satisfaction"]) == (3, 2, 0.6667)
    assert r["total"]["levels"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    # 好评率 counts 非常满意, 满意 and 基本满意; 差评率 不满意 and 非常不满意
    assert (r["total"]["good"], r["total"]["good_rate"], r["total"]["bad"], r["total"]["bad_rate"]) == (
        2,
        0.6667,
        1,
        0.3333,
    )
    windows = report(api, **{"from": day.isoformat(), "group": "window"})
    assert windows["labels"]["1"] == "1号窗口 / Window 1"  # the page names the keys as the export does
    by_window = {row["key"]: row for row in windows["rows"]}
    assert list(by_window) == ["1", "2", ""]
    w1 = by_window["1"]
    assert pick(w1, ["tickets", "served", "no_show", "wait_mean_s", "wait_median_s", "wait_p90_s"]) == {
        "tickets": 3, "served": 2, "no_show": 1, "wait_mean_s": 700.0, "wait_median_s": 600.0, "wait_p90_s": 1200.0
    }  # fmt: skip
    assert pick(w1, ["service_mean_s", "service_median_s", "service_p90_s", "evaluations", "satisfied"]) == {
        "service_mean_s": 450.0, "service_median_s": 300.0, "service_p90_s": 600.0, "evaluations": 2, "satisfied": 1
    }  # fmt: skip
    hours = report(api, **{"from": day.isoformat(), "group": "hour"})["rows"]
    assert [(h["key"], h["tickets"], h["wait_mean_s"]) for h in hours] == [
        ("09", 2, 450.0), ("10", 2, 660.0), ("11", 2, None)
    ]  # fmt: skip
    clerks = report(api, **{"from": day.isoformat(), "group": "clerk"})["rows"]
    assert [(c["key"], c["served"]) for c in clerks] == [("", 0), ("clerk1", 2), ("clerk2", 1)]
    lanes = report(api, **{"from": day.isoformat(), "group": "lane"})["rows"]
    assert [(c["key"], c["tickets"]) for c in lanes] == [("normal", 5), ("vip", 1)]
    queues = report(api, **{"from": day.isoformat(), "group": "queue"})["rows"]
    assert [(c["key"], c["tickets"], c["abandoned"]) for c in queues] == [("A", 3, 1), ("B", 2, 1), ("C", 1, 1)]


@pytest.mark.parametrize(("ago", "span"), [(3, 13), (40, 100)])  # the second spans whole months (month rows)
def test_long_range_uses_rollups_and_late_evaluations(api: Api, ago: int, span: int) -> None:
    day = dataset.today() - timedelta(days=ago)
    tickets = dataset.load(api, day)
    params = {"from": (dataset.today() - timedelta(days=span)).isoformat(), "to": dataset.today().isoformat()}
    r = report(api, **params)
    assert r["exact"] is False
    with api.server.ctx.db.read() as sess:
        months = sess.execute(select(func.count()).select_from(MonthlyRollup)).scalar_one()
    assert (months > 0) == (span > 60)
    # means and counts stay exact; percentiles are the middle of their bucket (10 s wide below 10 min, then 1 min)
    expected = HALL | {"wait_median_s": 305.0, "wait_p90_s": 1230.0, "service_median_s": 630.0, "service_p90_s": 630.0}
    assert pick(r["total"], HALL) == expected
    assert r["total"]["evaluations"] == 2
    daily = report(api, **params, group="day")["rows"]
    assert len(daily) == span + 1  # every day of the range has a row, even empty ones
    assert [d["key"] for d in daily if d["tickets"]] == [day.isoformat()]
    # a late evaluation of that day drops its rollup; the next report rebuilds it
    assert evaluate(api, who=None, track_token=tickets["B001"]["track_token"], level=4).status_code == 201
    again = report(api, **params)["total"]
    assert (again["evaluations"], again["satisfied"]) == (3, 2)
    # today's live tickets join the rolled-up past
    api.take("A")
    assert report(api, **params)["total"]["tickets"] == 7
    by_queue = {r["key"]: r["tickets"] for r in report(api, **params, group="queue")["rows"]}
    assert by_queue == {"A": 4, "B": 2, "C": 1}


def test_queue_length_and_utilisation(api: Api) -> None:
    day = dataset.today() - timedelta(days=3)
    dataset.load(api, day)
    points = {p["at"]: p["waiting"] for p in report(api, "/queue-length", date=day.isoformat())["points"]}
    assert (points["09:00"], points["09:15"], points["10:45"], points["11:15"], points["11:30"]) == (1, 1, 1, 0, 1)
    assert min(points) == "09:00" and max(points) == "11:45"
    u = report(api, "/utilisation", **{"from": day.isoformat()})
    assert u["open_s"] == 24 * 3600  # the test hall has no opening rules: always open
    assert {w["window"]: w["busy_s"] for w in u["windows"]} == {"1": 900.0, "2": 600.0}


def test_exports_match_the_json(api: Api) -> None:
    day = dataset.today() - timedelta(days=3)
    dataset.load(api, day)
    params = {"from": day.isoformat(), "group": "window"}
    data = report(api, **params)
    c = report(api, "/summary.csv", **params)
    assert c.headers["content-type"].startswith("text/csv") and "attachment" in c.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(c.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["分组 / Group", "取号数 / Tickets", "办结数 / Served"]
    # read like the page: 1号窗口 (not "1"), the never-called tickets named, times in minutes, rates in percent
    assert [r[0] for r in rows[1:]] == [
        "1号窗口 / Window 1",
        "2号窗口 / Window 2",
        "未叫号 / Not called yet",
        "合计 / Total",
    ]
    assert [int(r[1]) for r in rows[1:]] == [row["tickets"] for row in data["rows"]] + [6]
    assert rows[0][7] == "平均等候(分) / Mean wait (min)"
    assert float(rows[1][7]) == round(data["rows"][0]["wait_mean_s"] / 60, 1)
    x = report(api, "/summary.xlsx", **params)
    ws = openpyxl.load_workbook(io.BytesIO(x.content)).active
    assert ws is not None
    values = list(ws.iter_rows(values_only=True))
    assert values[0][1] == "取号数 / Tickets"
    assert [v[1] for v in values[1:]] == [3, 1, 2, 6]
    assert values[1][7] == round(700 / 60, 1) and values[-1][0] == "合计 / Total"


def test_overview_counts_open_work(api: Api) -> None:
    day = dataset.today() - timedelta(days=3)
    tickets = dataset.load(api, day)
    evaluate(api, who=None, track_token=tickets["B001"]["track_token"], level=1)
    api.take("A")  # today's ticket counts in 近30天 too: the last 30 days include today
    o = report(api, "/overview")
    assert o["last_30_days"]["figures"]["tickets"] == 7
    assert o["last_30_days"]["to"] == dataset.today().isoformat()
    assert o["last_30_days"]["from"] == (dataset.today() - timedelta(days=29)).isoformat()
    assert o["today"]["figures"]["tickets"] == 1
    assert o["open"]["followups_open"] == 1


@pytest.mark.parametrize(
    ("who", "hall", "status"), [("clerk1", "t1", 403), ("approver1", "t2", 403), ("admin", "t2", 200)]
)
def test_report_access(api: Api, who: str, hall: str, status: int) -> None:
    r = api.http.get(f"/api/v1/halls/{hall}/reports/summary", headers=api.auth(who))
    assert r.status_code == status


def test_bad_ranges(api: Api) -> None:
    h = api.auth("approver1")
    assert (
        api.http.get(BASE + "/summary", params={"from": "2026-02-02", "to": "2026-02-01"}, headers=h).status_code == 422
    )
    assert (
        api.http.get(BASE + "/summary", params={"from": "2020-01-01", "to": "2026-01-01"}, headers=h).status_code == 422
    )
    assert api.http.get(BASE + "/summary", params={"group": "nope"}, headers=h).status_code == 422


def test_reports_asked_at_once_build_the_rollups_once(api: Api) -> None:
    """Eight long-range reports at once all answer (on PostgreSQL two builders raced to a unique violation, 500)."""
    from concurrent.futures import ThreadPoolExecutor

    from queue_server.feedback.models import DailyRollup

    day = dataset.today() - timedelta(days=3)
    dataset.load(api, day)
    params = {"from": (dataset.today() - timedelta(days=20)).isoformat(), "to": dataset.today().isoformat()}
    token = api.token("approver1")

    def ask(_: int) -> tuple[int, int]:
        r = api.http.get(BASE + "/summary", params=params, headers={"Authorization": f"Bearer {token}"})
        return r.status_code, r.json()["total"]["tickets"] if r.status_code == 200 else -1

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert answers == [(200, 6)] * 8
    with api.server.ctx.db.read() as sess:
        rows = sess.execute(
            select(DailyRollup.service_day, func.count())
            .where(DailyRollup.dim == "hall", DailyRollup.hall_code == "t1")
            .group_by(DailyRollup.service_day)
        ).all()
    assert len(rows) == 20 and all(n == 1 for _, n in rows), [r for r in rows if r[1] != 1]  # one hall row a day
