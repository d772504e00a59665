"""Take-a-number's fast path (api/middleware.py) answers exactly as the FastAPI route does, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from queue_server.api.middleware import HallMiddleware
from queue_server.ids import make_id_number

from ..harness import KIOSK, Api

URL = "/api/v1/halls/t1/tickets"
VOLATILE = {"id", "issued_at", "arrived_at", "track_token", "track_url"}  # differ between two issues


def _middleware(api: Api) -> HallMiddleware:
    stack: Any = api.server.app.middleware_stack
    while not isinstance(stack, HallMiddleware):
        stack = stack.app
    return stack


def _cases(api: Api) -> list[tuple[str, str, dict[str, str], bytes]]:
    """(what, path, headers, body): the kiosk's request, and each way of getting it wrong."""
    kiosk = api.auth(KIOSK) | {"Content-Type": "application/json"}
    good = b'{"queue": "A"}'
    bad_idn = make_id_number()[:-1] + "X"
    return [
        ("kiosk", URL, kiosk, good),
        ("charset", URL, kiosk | {"Content-Type": "application/json; charset=utf-8"}, b'{"queue": "B"}'),
        ("idempotent 1", URL, kiosk | {"Idempotency-Key": "k-1"}, good),
        ("idempotent 2", URL, kiosk | {"Idempotency-Key": "k-1"}, good),
        ("long key", URL, kiosk | {"Idempotency-Key": "k" * 129}, good),
        ("extra field", URL, kiosk, b'{"queue": "A", "colour": "red"}'),
        ("clerk", URL, api.auth("clerk1") | {"Content-Type": "application/json"}, b'{"queue": "A", "lane": "vip"}'),
        ("kiosk vip", URL, kiosk, b'{"queue": "A", "lane": "vip"}'),
        ("auditor", URL, api.auth("auditor1") | {"Content-Type": "application/json"}, good),
        ("no token", URL, {"Content-Type": "application/json"}, good),
        ("basic auth", URL, {"Content-Type": "application/json", "Authorization": "Basic a2lvc2s6eA=="}, good),
        ("forged token", URL, {"Content-Type": "application/json", "Authorization": "Bearer x.y.z"}, good),
        ("other hall", "/api/v1/halls/t2/tickets", kiosk, good),
        ("no hall", "/api/v1/halls/nope/tickets", kiosk, good),
        ("unknown queue", URL, kiosk, b'{"queue": "Z"}'),
        ("bad id number", URL, kiosk, b'{"queue": "A", "id_number": "%s"}' % bad_idn.encode()),
        ("empty queue", URL, kiosk, b'{"queue": ""}'),
        ("bad lane", URL, kiosk, b'{"queue": "A", "lane": "gold"}'),
        ("control char", URL, kiosk, b'{"queue": "A\\u0000"}'),
        ("not json", URL, kiosk, b'{"queue": '),
        ("a list", URL, kiosk, b'["A"]'),
        ("empty body", URL, kiosk, b""),
        ("text/plain", URL, kiosk | {"Content-Type": "text/plain"}, good),
        ("big body", URL, kiosk, b'{"queue": "A", "pad": "' + b"x" * 5000 + b'"}'),
    ]


def _run(api: Api) -> list[tuple[str, int, str | None, Any]]:
    got = []
    for what, path, headers, body in _cases(api):
        r = api.http.post(path, content=body, headers=headers)
        data = r.json()
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k not in VOLATILE}
        got.append((what, r.status_code, r.headers.get("www-authenticate"), data))
    return got


def both_ways(api: Api, scenario: Callable[[Api], list[Any]]) -> tuple[list[Any], int]:
    """The scenario's answers through FastAPI, then (the database emptied) by the fast routes; they must be the
    same. Returns them and how many requests the fast routes answered."""
    mw = _middleware(api)
    mw.fast = False
    try:
        by_fastapi = scenario(api)
    finally:
        mw.fast = True
    api.server.reset()
    before = mw.fast_served
    fast = scenario(api)
    assert fast == by_fastapi
    return fast, mw.fast_served - before


def test_fast_path_answers_as_the_route_does(api: Api) -> None:
    fast, served = both_ways(api, _run)
    statuses = {what: status for what, status, _, _ in fast}
    assert statuses["kiosk"] == statuses["charset"] == statuses["idempotent 1"] == 201
    assert statuses["idempotent 2"] == 200
    assert statuses["no token"] == statuses["forged token"] == statuses["basic auth"] == 401
    assert statuses["kiosk vip"] == statuses["auditor"] == statuses["other hall"] == 403
    assert statuses["empty queue"] == statuses["not json"] == statuses["text/plain"] == statuses["long key"] == 422
    # every well-formed request went the fast way; the nine malformed ones went on to FastAPI
    assert served == len(fast) - 9


def test_fast_path_tickets_are_the_routes(api: Api) -> None:
    idn = make_id_number()
    t = api.take("A", id_number=idn, phone="13812345678")
    assert t["number"] == "A001" and t["id_number_masked"] == idn[:4] + "*" * 10 + idn[-4:]
    assert t["track_url"].endswith(t["track_token"])
    r = api.http.get(f"/api/v1/tickets/{t['id']}", headers=api.auth("clerk1"))
    assert r.status_code == 200 and r.json()["number"] == "A001"


@pytest.mark.parametrize("chunks", [[b'{"queue"', b': "A"}'], [b"", b'{"queue": "A"}', b""]])
def test_a_body_in_pieces_is_read_whole(api: Api, chunks: list[bytes]) -> None:
    r = api.http.post(URL, content=iter(chunks), headers=api.auth(KIOSK) | {"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["number"] == "A001"
