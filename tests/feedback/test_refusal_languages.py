"""Complaints' and evaluations' refusals a citizen sees (issue 22): Chinese first, then the request's language
(Accept-Language) or the ticket's — 한국어, 日本語, Русский — else English."""

from __future__ import annotations

from ..harness import Api
from .helpers import evaluate, served

BASE = "/api/v1/halls/t1/complaints"


def test_a_complaint_refused_in_the_requests_language(api: Api) -> None:
    r = api.http.post(BASE, json={"category": "service", "content": "慢"}, headers={"Accept-Language": "ko-KR"})
    assert r.status_code == 422
    assert r.json()["detail"] == "请写下具体情况（至少5个字） / 어떤 일이 있었는지 적어 주세요(5자 이상)"
    r = api.http.get("/api/v1/complaints/TS0000000", params={"proof": "ABCD"}, headers={"Accept-Language": "ru"})
    assert r.status_code == 404
    assert r.json()["detail"] == "投诉编号或查询码不正确 / Неверный номер жалобы или код для справки"
    r = api.http.post(BASE, json={"category": "service", "content": "慢"})  # no language: English
    assert r.json()["detail"] == "请写下具体情况（至少5个字） / Please describe what happened (5 characters or more)"


def test_an_evaluation_refused_in_the_tickets_or_the_requests_language(api: Api) -> None:
    t = served(api, window=1, lang="ko")
    assert evaluate(api, who=None, track_token=t["track_token"], level=5).status_code == 201
    r = evaluate(api, who=None, track_token=t["track_token"], level=5)  # no Accept-Language: the ticket's
    assert r.status_code == 409
    number = t["number"]
    ko = f"{number}은(는) 이미 평가했습니다. 한 번의 서비스는 한 번만 평가할 수 있습니다"
    want = f"{number} 已评价，一次服务只能评价一次 / {ko}"
    assert r.json()["detail"] == want
    r = api.http.post(
        "/api/v1/halls/t1/evaluations", json={"track_token": "x" * 20, "level": 3}, headers={"Accept-Language": "ja"}
    )
    assert r.status_code == 404 and r.json()["detail"] == "没有这张票 / この番号札はありません"
    r = api.http.post(
        "/api/v1/halls/t1/evaluations",
        json={"case_number": "T1000", "case_token": "ABCD1234", "level": 3},
        headers={"Accept-Language": "ru"},
    )
    assert (
        r.status_code == 404
        and r.json()["detail"] == "没有这个办件，或查询码不对 / Такого дела нет, или код для справки не подходит"
    )
