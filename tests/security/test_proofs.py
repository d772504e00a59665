"""Guessable proofs: every route that takes a proof, code or ID number from a caller without a token is
rate-limited (429 with Retry-After, long before a 4-digit space is searched), and a case number alone
opens nothing. Real server over HTTP, both databases; the limiter's Redis and database stores are shared
by two servers as by two processes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import nullcontext
from datetime import date
from pathlib import Path

import httpx
import pytest

from queue_server.ids import make_id_number

from ..cases.helpers import ID_NUMBER, act, new_case
from ..conftest import require_backend
from ..harness import KIOSK, Api, fresh_database, runtime, serving

PER_ADDRESS = 60  # queue_server.ratelimit.PER_ADDRESS_HOUR
PER_TARGET = 20  # queue_server.ratelimit.PER_TARGET_HOUR
SPACE = 10_000  # the last four digits of an ID number


def client_from(api: Api, address: str) -> httpx.Client:
    """A client of the live server whose requests come from another loopback address."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=api.server.url, timeout=30, transport=transport)


def tries_until_429(call: Callable[[int], httpx.Response], most: int) -> tuple[int, httpx.Response]:
    """Call until the answer is 429; the number of calls it took and that answer (fails after `most`)."""
    for i in range(1, most + 1):
        r = call(i)
        if r.status_code == 429:
            return i, r
    raise AssertionError(f"no 429 after {most} calls")


def assert_limited(r: httpx.Response) -> None:
    """A 429 with a Retry-After in seconds and a sentence in Chinese and English."""
    assert r.status_code == 429, r.text
    assert 0 < int(r.headers["Retry-After"]) <= 3600
    detail = r.json()["detail"]
    assert re.search(r"[\u4e00-\u9fff]", detail) and " / Too many requests" in detail


@pytest.fixture
def case(api: Api) -> dict[str, object]:
    """A self-submitted case of hall t1 (through its kiosk)."""
    return new_case(api)


def test_receipt_takes_only_the_query_code_and_is_limited_per_case(api: Api, case: dict[str, object]) -> None:
    number, token = case["number"], case["query_token"]
    ok = api.http.get(f"/api/v1/cases/{number}/receipt.pdf", params={"proof": token})
    assert ok.status_code == 200 and ok.content.startswith(b"%PDF")
    # the ID number's last four open the status, never the receipt (which prints the query code)
    assert api.http.get(f"/api/v1/cases/{number}/receipt.pdf", params={"proof": ID_NUMBER[-4:]}).status_code == 404
    n, r = tries_until_429(
        lambda i: api.http.get(f"/api/v1/cases/{number}/receipt.pdf", params={"proof": f"{i:04d}"}), SPACE
    )
    assert n <= PER_TARGET - 1  # two of the case's budget went above
    assert_limited(r)
    # spent: even the right code waits (a guesser must not learn when they hit it)
    assert api.http.get(f"/api/v1/cases/{number}/receipt.pdf", params={"proof": token}).status_code == 429


def test_guesses_spread_over_addresses_still_meet_the_cases_budget(api: Api, case: dict[str, object]) -> None:
    number = case["number"]
    clients = [client_from(api, f"127.0.0.{i}") for i in range(2, 14)]  # twelve addresses
    try:
        codes = [
            clients[i % len(clients)].get(f"/api/v1/cases/{number}/status", params={"proof": f"{i:04d}"}).status_code
            for i in range(PER_TARGET + 4)
        ]
    finally:
        for c in clients:
            c.close()
    assert codes[:PER_TARGET] == [404] * PER_TARGET
    assert set(codes[PER_TARGET:]) == {429}
    # another case is not blocked by this one's guesses
    other = new_case(api, submission_id="6f1c2a52-9d1e-4d3b-9a53-1f7d3c2b9e10")
    r = api.http.get(f"/api/v1/cases/{other['number']}/status", params={"proof": ID_NUMBER[-4:]})
    assert r.status_code == 200 and r.json()["number"] == other["number"]


def test_status_is_limited_per_address(api: Api) -> None:
    # numbers that do not exist: only the address's budget can stop a sweep over numbers
    n, r = tries_until_429(
        lambda i: api.http.get(f"/api/v1/cases/6742612{i:06d}/status", params={"proof": "0000"}), SPACE
    )
    assert n == PER_ADDRESS + 1
    assert_limited(r)


def test_evaluation_by_case_shares_the_cases_budget(api: Api, case: dict[str, object]) -> None:
    number = case["number"]
    for i in range(PER_TARGET):
        assert api.http.get(f"/api/v1/cases/{number}/status", params={"proof": f"{i:04d}"}).status_code == 404
    body = {"level": 5, "case_number": number, "case_token": case["query_token"]}
    assert_limited(api.http.post("/api/v1/halls/t1/evaluations", json=body))


def test_pickup_codes_are_limited_per_kiosk(api: Api) -> None:
    kiosk = api.auth(KIOSK)
    n, r = tries_until_429(
        lambda i: api.http.post("/api/v1/halls/t1/pickup", json={"code": f"{i:08d}"}, headers=kiosk), 10 * PER_ADDRESS
    )
    assert n <= PER_ADDRESS + 1
    assert_limited(r)


def test_appointment_codes_and_id_check_in_are_limited_without_a_token(api: Api) -> None:
    calls: list[Callable[[int], httpx.Response]] = [
        lambda i: api.http.get(f"/api/v1/appointments/ZZ{i:06d}"),
        lambda i: api.http.post(f"/api/v1/appointments/ZZ{i:06d}/check-in"),
        lambda i: api.http.post(f"/api/v1/appointments/ZZ{i:06d}/cancel"),
        lambda i: api.http.post(
            f"/api/v1/appointments/ZZ{i:06d}/reschedule", json={"start": "2026-12-07T09:00:00+08:00"}
        ),
        lambda i: api.http.post(
            "/api/v1/halls/t1/appointments/check-in", json={"id_number": make_id_number(serial=100 + i)}
        ),
    ]
    n, r = tries_until_429(lambda i: calls[i % len(calls)](i), SPACE)
    assert n == PER_ADDRESS + 1
    assert_limited(r)
    # the hall's kiosks scan codes all day: not limited like an anonymous caller
    assert api.http.get("/api/v1/appointments/ZZ000001", headers=api.auth(KIOSK)).status_code == 404


def test_tracking_cancel_and_home_visit_codes_are_limited(api: Api) -> None:
    n, r = tries_until_429(lambda i: api.http.post(f"/api/v1/track/guess{i}/cancel"), SPACE)
    assert n == PER_ADDRESS + 1
    assert_limited(r)
    n, r = tries_until_429(lambda i: api.http.get(f"/api/v1/home-visits/ZZ{i:06d}"), SPACE)
    assert n == PER_ADDRESS + 1
    assert_limited(r)


def test_a_case_number_alone_opens_nothing(api: Api, case: dict[str, object]) -> None:
    """Every route of the OpenAPI document with a case number in its path, called with the number only."""
    number = str(case["number"])
    assert act(api, number, "accept").status_code == 200  # a case with documents to ask for
    paths = api.http.get("/openapi.json").json()["paths"]
    tried = 0
    for path, ops in paths.items():
        if "{number}" not in path or "/handovers/" in path:
            continue
        url = path.replace("{number}", number).replace("{hall}", "t1")
        url = re.sub(r"\{[a-z_]+\}", "1", url)
        for method in ops:
            r = api.http.request(method.upper(), url)
            tried += 1
            assert r.status_code in (401, 403, 404, 422, 429), (method, path, r.status_code, r.text[:200])
            assert ID_NUMBER not in r.text and "张" not in r.text
    assert tried >= 10


# --- the stores several processes share -------------------------------------------------------------------


def _config_with(tmp_path: Path, url: str) -> Path:
    """A small hall without staff (no password hashing at start-up) and the limiter store `url`."""
    text = (
        f'[server]\ndemo = true\nrate_limit_url = "{url}"\n\n[[halls]]\ncode = "t1"\nname = "测试"\n\n'
        '  [[halls.queues]]\n  code = "A"\n  name = "综合"\n  name_en = "General"\n'
    )
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("db", "store"),
    [("postgresql", "redis://127.0.0.1:6379/0"), ("postgresql", "database"), ("sqlite", "redis://127.0.0.1:6379/0")],
)
def test_the_budget_is_shared_by_every_process(db: str, store: str, tmp_path: Path) -> None:
    """Two servers on one PostgreSQL database stand for two processes; SQLite has one process per file."""
    require_backend(db)
    url = fresh_database(db, tmp_path, name=f"rl_{abs(hash(str(tmp_path))) % 10**8}")
    rt = runtime(url, tmp_path / "var", config=_config_with(tmp_path, store))
    with serving(rt) as a, serving(rt) if db == "postgresql" else nullcontext(a) as b:
        assert a.ctx.limiter.kind == b.ctx.limiter.kind == ("redis" if store.startswith("redis") else "database")
        a.ctx.limiter.clear()
        try:
            with httpx.Client(timeout=30) as http:
                codes = [
                    http.get(f"{(a, b)[i % 2].url}/api/v1/cases/6742612{i:06d}/status", params={"proof": "0000"})
                    for i in range(PER_ADDRESS + 2)
                ]
        finally:
            a.ctx.limiter.clear()
    assert [r.status_code for r in codes] == [404] * PER_ADDRESS + [429, 429]


def test_the_default_store_follows_the_database(api: Api) -> None:
    """SQLite is served by one process: memory; PostgreSQL may be served by several: the database."""
    assert api.server.ctx.limiter.kind == ("memory" if api.server.ctx.db.is_sqlite else "database")


# --- complaints and the public event stream ------------------------------------------------------------------


def _complaint(api: Api, **body: object) -> dict[str, object]:
    payload = {"category": "service", "content": "窗口人员态度生硬，等了很久"} | body
    r = api.http.post("/api/v1/halls/t1/complaints", json=payload)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_complaints_answer_needs_the_complainants_proof_and_guesses_are_limited(api: Api) -> None:
    c = _complaint(api, phone="13912345678")
    code, proof = str(c["code"]), str(c["query_code"])
    assert api.http.get(f"/api/v1/complaints/{code}").status_code == 422  # the reference alone opens nothing
    assert api.http.get(f"/api/v1/complaints/{code}", params={"proof": proof}).json()["status"] == "submitted"
    clients = [client_from(api, f"127.0.0.{i}") for i in range(20, 32)]  # guesses from twelve addresses
    try:
        codes = [
            clients[i % 12].get(f"/api/v1/complaints/{code}", params={"proof": f"{i:04d}"}).status_code
            for i in range(PER_TARGET + 2)
        ]
    finally:
        for cl in clients:
            cl.close()
    assert codes == [404] * (PER_TARGET - 1) + [429] * 3  # one of the budget went on the right proof
    n, r = tries_until_429(lambda i: api.http.get(f"/api/v1/complaints/TS{i:08d}", params={"proof": "AAAAAA"}), SPACE)
    assert n == PER_ADDRESS  # this address read the answer once above
    assert_limited(r)


def test_the_public_stream_replays_nothing_that_opens_a_private_record(api: Api) -> None:
    """Every kind of private record made, then the whole history read as anyone can (`?since=0`, no token)."""
    from websockets.sync.client import connect

    from ..harness import events_url

    secrets: list[str] = []
    c = _complaint(api, phone="13912345678", name="张小三")
    secrets += [str(c["code"]), str(c["query_code"])]
    cid = api.http.get("/api/v1/halls/t1/complaints", headers=api.auth("approver1")).json()[0]["id"]
    base = f"/api/v1/halls/t1/complaints/{cid}"
    assert api.http.post(f"{base}/assign", json={"handler": "clerk1"}, headers=api.auth("approver1")).status_code == 200
    assert api.http.post(f"{base}/answer", json={"answer": "已整改"}, headers=api.auth("clerk1")).status_code == 200
    t = api.take("A", phone="13800001111")
    secrets.append(str(t["track_token"]))
    case = new_case(api)
    secrets.append(str(case["query_token"]))
    for action, who in (("accept", "clerk1"), ("review", "approver1"), ("approve", "approver1")):
        assert act(api, str(case["number"]), action, who).status_code == 200
    ready = act(api, str(case["number"]), "ready", "approver1")
    secrets.append(str(ready.json()["pickup_code"]))
    visit = api.http.post(
        "/api/v1/halls/t1/home-visits",
        json={"queue": "A", "name": "王老", "id_number": make_id_number(serial=7, birth=date(1940, 1, 1)),
              "phone": "13700001111", "address": "幸福路1号", "reason": "行动不便"},
        headers=api.auth(KIOSK),
    )  # fmt: skip
    assert visit.status_code == 201, visit.text
    secrets.append(str(visit.json()["code"]))
    last = int(api.http.get("/api/v1/halls/t1/board").json()["seq"])
    replay: list[str] = []
    with connect(events_url(api.server, since=0)) as ws:
        while not replay or json.loads(replay[-1]).get("seq") != last:
            replay.append(str(ws.recv(timeout=10)))
    text = "\n".join(replay)
    assert '"complaint.changed"' in text and '"case.status"' in text
    for secret in secrets:
        assert secret not in text, secret
    for personal in ("张小三", "13912345678", "13800001111", ID_NUMBER, "已整改"):
        assert personal not in text, personal
