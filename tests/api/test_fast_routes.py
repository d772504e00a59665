"""The fast routes (api/fast.py) of the windows and the check-in answer exactly as their FastAPI routes do, over
real HTTP on both databases: each way of calling them right and wrong, once through FastAPI and once fast.
(Take-a-number's cases: test_fast_path.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from queue_server.ids import make_id_number

from ..harness import KIOSK, KIOSK_T2, TEST_CONFIG, Api, LiveServer, fresh_database, runtime, serving
from .test_fast_path import _middleware, both_ways

# Times, ids and tokens differ from one run to the other; everything else must be the same.
VOLATILE = {"id", "issued_at", "arrived_at", "called_at", "serving_at", "finished_at", "track_token", "track_url"}
VOLATILE |= {"appointment", "slot_start"}
Case = tuple[str, str, str, dict[str, str], bytes | None]  # (what, method, path, headers, body)
Answer = tuple[str, int, str | None, Any]


@pytest.fixture(scope="module")
def bookable(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The test halls, with appointments in t1's queue A that may check in for four hours before and after."""
    tmp = tmp_path_factory.mktemp(f"fast-{backend}")
    text = TEST_CONFIG.read_text(encoding="utf-8")
    text = text.replace("max_priority_streak = 3\n", "max_priority_streak = 3\ncheckin_early_min = 240\n", 1)
    text = text.replace('name_en = "Market access"\n', 'name_en = "Market access"\n  slot_capacity = 50\n', 1)
    cfg = tmp / "hall.toml"
    cfg.write_text(text, encoding="utf-8")
    with serving(runtime(fresh_database(backend, tmp, name="fast"), tmp / "var", config=cfg)) as srv:
        yield srv


@pytest.fixture
def api2(bookable: LiveServer) -> Iterator[Api]:
    bookable.reset()
    client = Api(bookable)
    yield client
    client.close()


def _clean(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _clean(v) for k, v in data.items() if k not in VOLATILE}
    if isinstance(data, list):
        return [_clean(v) for v in data]
    return data


def _send(api: Api, cases: list[Case]) -> list[Answer]:
    got = []
    for what, method, path, headers, body in cases:
        r = api.http.request(method, path, content=body, headers=headers)
        data = r.json() if r.content else None
        got.append((what, r.status_code, r.headers.get("www-authenticate"), _clean(data)))
    return got


def _windows(api: Api) -> list[Answer]:
    """A window's morning: call next, F9, complete; each refused as it should be on the way."""
    json = {"Content-Type": "application/json"}
    clerk, kiosk = api.auth("clerk1"), api.auth(KIOSK)
    a1, a2, c1 = api.take("A"), api.take("A"), api.take("C")
    w1, w3 = "/api/v1/halls/t1/windows/1", "/api/v1/halls/t1/windows/3"
    got = _send(
        api,
        [
            ("no token", "POST", f"{w1}/call-next", {}, None),
            ("forged token", "POST", f"{w1}/call-next", {"Authorization": "Bearer x.y.z"}, None),
            ("basic auth", "POST", f"{w1}/call-next", {"Authorization": "Basic a2lvc2s6eA=="}, None),
            ("kiosk calls", "POST", f"{w1}/call-next", kiosk, None),
            ("auditor calls", "POST", f"{w1}/call-next", api.auth("auditor1"), None),
            ("clerk of window 2", "POST", f"{w1}/call-next", api.auth("clerk2"), None),
            ("clerk of t2", "POST", f"{w1}/call-next", api.auth("clerk-t2"), None),
            ("no such hall", "POST", "/api/v1/halls/nope/windows/1/call-next", clerk, None),
            ("no such window", "POST", "/api/v1/halls/t1/windows/77/call-next", clerk, None),
            ("window 0", "POST", "/api/v1/halls/t1/windows/0/call-next", clerk, None),  # FastAPI: 422
            ("window x", "POST", "/api/v1/halls/t1/windows/x/call-next", clerk, None),  # FastAPI: 422
            ("GET call-next", "GET", f"{w1}/call-next", clerk, None),  # FastAPI: 405
            ("call", "POST", f"{w1}/call-next", clerk, b"ignored"),
            ("busy", "POST", f"{w1}/call-next", clerk, None),
            ("F9 not this one", "POST", f"{w1}/complete-and-call-next", clerk | json, b'{"ticket_id": %d}' % a2["id"]),
            ("F9 id 0", "POST", f"{w1}/complete-and-call-next", clerk | json, b'{"ticket_id": 0}'),  # FastAPI
            ("F9 no body", "POST", f"{w1}/complete-and-call-next", clerk | json, None),  # FastAPI
            ("F9 not json", "POST", f"{w1}/complete-and-call-next", clerk | json, b'{"ticket_id": '),  # FastAPI
            ("F9 text", "POST", f"{w1}/complete-and-call-next", clerk | {"Content-Type": "text/plain"}, b"{}"),
            ("F9 kiosk", "POST", f"{w1}/complete-and-call-next", kiosk | json, b'{"ticket_id": %d}' % a1["id"]),
            ("F9", "POST", f"{w1}/complete-and-call-next", clerk | json, b'{"ticket_id": %d, "x": 1}' % a1["id"]),
        ],
    )
    done, other = f"/api/v1/tickets/{a2['id']}", f"/api/v1/tickets/{c1['id']}"
    got += _send(
        api,
        [
            ("complete by kiosk", "POST", f"{done}/complete", kiosk, None),
            ("complete by clerk of window 2", "POST", f"{done}/complete", api.auth("clerk2"), None),
            ("no such action", "POST", f"{done}/finish", clerk, None),  # FastAPI: 422
            ("ticket 0", "POST", "/api/v1/tickets/0/complete", clerk, None),  # FastAPI: 422
            ("no such ticket", "POST", "/api/v1/tickets/999999/complete", clerk, None),
            ("recall", "POST", f"{done}/recall", clerk, None),
            ("complete", "POST", f"{done}/complete", clerk, None),
            ("complete again", "POST", f"{done}/complete", clerk, None),
            ("transfer (its own route)", "POST", f"{other}/transfer", clerk | json, b'{"window": 3}'),
            ("reveal (its own route)", "POST", f"{other}/reveal", clerk, None),
            ("call C", "POST", f"{w3}/call-next", clerk, None),
            ("F9, nobody waits", "POST", f"{w3}/complete-and-call-next", clerk | json, b'{"ticket_id": %d}' % c1["id"]),
            ("nobody waits", "POST", f"{w3}/call-next", clerk, None),
        ],
    )
    return got


def test_window_routes_answer_as_their_routes_do(api2: Api) -> None:
    got, fast = both_ways(api2, _windows)
    status = {what: s for what, s, _, _ in got}
    assert status["no token"] == status["forged token"] == status["basic auth"] == 401
    assert status["kiosk calls"] == status["auditor calls"] == status["clerk of window 2"] == 403
    assert status["clerk of t2"] == status["complete by kiosk"] == status["complete by clerk of window 2"] == 403
    assert status["no such hall"] == status["no such window"] == status["no such ticket"] == 404
    assert status["busy"] == status["F9 not this one"] == status["complete again"] == 409
    assert status["window 0"] == status["window x"] == status["F9 id 0"] == status["F9 no body"] == 422
    assert status["F9 not json"] == status["F9 text"] == status["no such action"] == status["ticket 0"] == 422
    assert status["GET call-next"] == 405
    assert status["call"] == status["F9"] == status["complete"] == status["call C"] == 200
    assert status["transfer (its own route)"] == status["reveal (its own route)"] == 200
    assert status["F9, nobody waits"] == status["nobody waits"] == 204
    called = {what: data for what, _, _, data in got}
    assert (called["call"]["number"], called["F9"]["number"], called["call C"]["number"]) == ("A001", "A002", "C001")
    # every well-formed request went fast (and the three tickets taken); the eight malformed ones, the GET and
    # the two other routes did not
    assert fast == 3 + len(got) - 11


def _check_ins(api: Api) -> list[Answer]:
    """Appointments checked in by kiosk and by a citizen's own phone (anonymous); and the ways it fails."""
    tz = ZoneInfo("Asia/Shanghai")
    now = datetime.now(tz)
    start = (now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).isoformat()
    codes = []
    for serial in (1, 2, 3, 4):
        body = {"queue": "A", "start": start, "name": "张三", "id_number": make_id_number(serial=serial)}
        r = api.http.post("/api/v1/halls/t1/appointments", json=body, headers=api.auth(KIOSK))
        assert r.status_code == 201, r.text
        codes.append(r.json()["code"])
    kiosk, url = api.auth(KIOSK), "/api/v1/appointments/{}/check-in"
    json = kiosk | {"Content-Type": "application/json"}
    return _send(
        api,
        [
            ("forged token", "POST", url.format(codes[0]), {"Authorization": "Bearer x.y.z"}, None),
            ("auditor", "POST", url.format(codes[0]), api.auth("auditor1"), None),
            ("kiosk of t2", "POST", url.format(codes[0]), api.auth(KIOSK_T2), None),
            ("short code", "POST", url.format("AB"), kiosk, None),  # FastAPI: 422
            ("not a code", "POST", url.format("AB-CD"), kiosk, None),  # FastAPI: 422
            ("unknown code", "POST", url.format("ZZZZ9999"), kiosk, None),
            ("kiosk", "POST", url.format(codes[0]), kiosk | {"Accept-Language": "en"}, None),
            ("again", "POST", url.format(codes[0]), kiosk, None),
            ("anonymous", "POST", url.format(codes[1]), {}, None),
            ("bad lang", "POST", url.format(codes[2]), json, b'{"lang": "xx"}'),  # FastAPI: 422
            ("not json", "POST", url.format(codes[2]), json, b'{"lang": '),  # FastAPI: 422
            ("text", "POST", url.format(codes[2]), kiosk | {"Content-Type": "text/plain"}, b"en"),  # FastAPI: 422
            ("interpreter not offered", "POST", url.format(codes[2]), json, b'{"interpreter": "ru"}'),
            ("null body", "POST", url.format(codes[2]), json, b"null"),
            ("empty body", "POST", url.format(codes[3]), json, b""),
            ("kiosk language", "POST", url.format(codes[3]), json, b'{"lang": "en"}'),
        ],
    )


def test_check_in_answers_as_its_route_does(api2: Api) -> None:
    got, fast = both_ways(api2, _check_ins)
    status = {what: s for what, s, _, _ in got}
    assert status["forged token"] == 401
    assert status["auditor"] == status["kiosk of t2"] == 403
    assert status["short code"] == status["not a code"] == status["bad lang"] == status["not json"] == 422
    assert status["text"] == status["interpreter not offered"] == 422
    assert status["unknown code"] == 404 and status["again"] == status["kiosk language"] == 409
    assert status["kiosk"] == status["anonymous"] == status["null body"] == status["empty body"] == 201
    answer = {what: data for what, _, _, data in got}
    assert answer["kiosk"]["lane"] == "appointment" and answer["kiosk"]["number"] == "A001"
    assert fast == len(got) - 5  # the malformed codes and bodies went on to FastAPI


def _route_counts(api: Api, route: str) -> dict[str, float]:
    """The metrics' request counts of a route template, by status."""
    key = f'method="POST",route="{route}"'
    return {
        line.split('status="')[1][:3]: float(line.rsplit(" ", 1)[1])
        for line in api.http.get("/metrics").text.splitlines()
        if line.startswith("hall_http_request_duration_seconds_count{") and key in line
    }


def test_metrics_see_each_fast_request_with_its_route(api2: Api) -> None:
    route = "/api/v1/halls/{hall}/windows/{number}/call-next"
    before = _route_counts(api2, route)
    served = _middleware(api2).fast_served
    api2.take("A")
    assert api2.call_next(1).status_code == 200
    assert api2.call_next(1).status_code == 409
    assert _middleware(api2).fast_served == served + 3
    after = _route_counts(api2, route)
    assert {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)} == {"200": 1, "409": 1}


def test_a_fast_route_a_router_would_not_reach_is_left_to_it(api2: Api) -> None:
    """A fast route goes on to FastAPI for a path an earlier route of the app matches (the app's order rules)."""
    from fastapi import APIRouter

    from queue_server.api.fast import FastRoutes

    app = api2.server.app
    earlier = APIRouter()

    @earlier.post("/api/v1/halls/{hall}/windows/9/call-next")
    async def ninth(hall: str) -> dict[str, str]:
        return {"hall": hall}

    table = FastRoutes()

    probe = SimpleNamespace(routes=[*earlier.routes, *app.routes])  # the app with the extra route in front
    scope = {"type": "http", "method": "POST", "path": "/api/v1/halls/t1/windows/9/call-next", "app": probe}
    assert table.match(scope) is None
    found = table.match({**scope, "path": "/api/v1/halls/t1/windows/8/call-next"})
    assert found is not None and found[1] == {"hall": "t1", "number": "8"}
    assert table.match({**scope, "path": "/api/v1/tickets/5/transfer"}) is None  # tickets.transfer comes first
    assert table.match({**scope, "path": "/api/v1/tickets/5/complete"}) is not None


def test_a_check_in_knows_its_hall_from_the_booking(api2: Api) -> None:
    """The server remembers each booking code's hall, so a check-in does not read the appointment before its change;
    an emptied database forgets them."""
    ctx = api2.server.ctx
    got = _check_ins(api2)
    assert {what: s for what, s, _, _ in got}["kiosk"] == 201
    assert len(ctx.appointment_halls) == 4 and set(ctx.appointment_halls.values()) == {"t1"}
    api2.server.reset()
    assert ctx.appointment_halls == {}
