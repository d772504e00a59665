"""The general desk's reads and its rejoin, over real HTTP on both databases (the page: tests/web/test_desk.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from queue_server.models import Ticket
from queue_server.timeutil import service_day, utcnow

from ..harness import KIOSK, TEST_CONFIG, Api, LiveServer, fresh_database, runtime, serving

# The rejoin rule of the desk tests' hall t1: ordinary and priority tickets, once, within 30 minutes of the
# missed call, behind the first waiting person (顺延1位).
REJOIN_KEYS = 'rejoin_lanes = ["normal", "special"]\nrejoin_times = 1\nrejoin_within_min = 30\nrejoin_place = 1\n'


def desk_config(tmp: Path, base: Path = TEST_CONFIG, rejoin: str = REJOIN_KEYS) -> Path:
    """`base` with the rejoin keys on hall t1."""
    text = base.read_text(encoding="utf-8")
    marker = "max_priority_streak = 3\n"
    assert marker in text
    path = tmp / "desk-hall.toml"
    path.write_text(text.replace(marker, marker + rejoin, 1), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def rule_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server whose hall t1 has the rejoin keys."""
    tmp = tmp_path_factory.mktemp(f"desk-rule-{backend}")
    rt = runtime(fresh_database(backend, tmp, name="deskrule"), tmp / "var", config=desk_config(tmp))
    with serving(rt, heartbeat_s=1.0) as srv:
        yield srv


@pytest.fixture
def rule_api(rule_server: LiveServer) -> Iterator[Api]:
    """A client of the rule server, whose database was just emptied."""
    rule_server.reset()
    client = Api(rule_server)
    yield client
    client.close()


def missed(api: Api, queue: str, window: int) -> dict[str, object]:
    """A ticket called at `window` that did not come (过号)."""
    t = api.take(queue, who=KIOSK, phone="13812345678")
    r = api.http.post(
        f"/api/v1/halls/t1/windows/{window}/call", json={"ticket_id": t["id"]}, headers=api.auth("clerk1")
    )
    assert r.status_code == 200, r.text
    assert api.act(int(t["id"]), "no-show").status_code == 200
    return t


def test_no_shows_are_today_s_of_this_hall_latest_first_and_any_desk_clerk_rejoins(api: Api) -> None:
    first, second = missed(api, "A", 1), missed(api, "C", 3)
    old = missed(api, "B", 1)
    with api.server.ctx.db.write() as s:  # a missed ticket of yesterday cannot come back
        yesterday = service_day(utcnow(), ZoneInfo("Asia/Shanghai")) - timedelta(days=1)
        s.execute(update(Ticket).where(Ticket.id == old["id"]).values(service_day=yesterday))
    r = api.http.get("/api/v1/halls/t1/desk/no-shows", headers=api.auth("clerk1"))
    assert r.status_code == 200
    rows = r.json()
    assert [x["number"] for x in rows] == [second["number"], first["number"]]
    assert rows[1]["window"] == 1 and rows[1]["phone_masked"] == "138****5678" and "13812345678" not in r.text
    # clerk2 is bound to window 2; the ticket missed its call at window 1: the desk's rejoin is any clerk's
    back = api.act(int(first["id"]), "rejoin", who="clerk2")
    assert back.status_code == 200 and back.json()["status"] == "waiting"
    assert api.act(int(old["id"]), "rejoin").status_code == 409  # not today's
    assert [x["number"] for x in api.http.get("/api/v1/halls/t1/desk/no-shows", headers=api.auth("clerk1")).json()] == [
        second["number"]
    ]
    assert api.http.get("/api/v1/halls/t1/desk/no-shows", headers=api.auth("clerk-t2")).status_code == 403


def test_desk_qr_is_the_text_s_code(api: Api) -> None:
    url = "https://hall.example/track/abcdef0123456789"
    r = api.http.post("/api/v1/halls/t1/desk/qr", json={"text": url}, headers=api.auth("clerk1"))
    assert r.status_code == 200
    qr = r.json()
    assert qr["size"] == len(qr["rows"]) and all(len(row) == qr["size"] for row in qr["rows"])
    assert qr["rows"][0].startswith("1111111")  # a finder pattern in the corner
    assert (
        api.http.post("/api/v1/halls/t1/desk/qr", json={"text": "x" * 513}, headers=api.auth("clerk1")).status_code
        == 422
    )


def test_the_hall_s_rejoin_keys_decide_who_how_often_until_when_and_where(rule_api: Api) -> None:
    api = rule_api
    setup = api.http.get("/api/v1/halls/t1/desk/setup", headers=api.auth("clerk1"))
    assert setup.status_code == 200
    rule = setup.json()["rejoin_rule"]
    assert "30 分钟内" in rule and "顺延 1 位" in rule and "最多 1 次" in rule and "within 30 min" in rule
    first, second = api.take("A"), api.take("A")  # two waiting in A
    late, vip = missed(api, "A", 1), missed(api, "A", 1)
    with api.server.ctx.db.write() as s:  # one missed 31 minutes ago, one a key-project (vip) ticket
        s.execute(update(Ticket).where(Ticket.id == late["id"]).values(finished_at=utcnow() - timedelta(minutes=31)))
        s.execute(update(Ticket).where(Ticket.id == vip["id"]).values(lane="vip"))
    on_time = missed(api, "A", 1)
    rows = {x["number"]: x for x in api.http.get("/api/v1/halls/t1/desk/no-shows", headers=api.auth("clerk1")).json()}
    assert rows[on_time["number"]]["rejoin_refusal"] is None
    assert "30 分钟" in rows[late["number"]]["rejoin_refusal"]
    assert "不能重新排队" in rows[vip["number"]]["rejoin_refusal"]
    # the tracking page of a missed ticket shows the rule, or why this one cannot come back
    assert api.http.get(f"/api/v1/track/{on_time['track_token']}").json()["rejoin_rule"] == rule
    assert "30 分钟" in api.http.get(f"/api/v1/track/{late['track_token']}").json()["rejoin_rule"]
    assert api.act(int(late["id"]), "rejoin").status_code == 409
    refused = api.act(int(vip["id"]), "rejoin")
    assert refused.status_code == 409 and "不能重新排队" in refused.json()["detail"]
    back = api.act(int(on_time["id"]), "rejoin")
    assert back.status_code == 200 and back.json()["ahead"] == 1  # 顺延1位: behind the first waiting, before the second
    assert api.call_next(1).json()["id"] == first["id"]
    assert api.act(int(first["id"]), "complete").status_code == 200
    again = api.call_next(1).json()
    assert again["id"] == on_time["id"]
    assert api.act(int(on_time["id"]), "no-show").status_code == 200
    twice = api.act(int(on_time["id"]), "rejoin")  # once only
    assert twice.status_code == 409 and "上限 1 次" in twice.json()["detail"]
    assert "上限 1 次" in api.http.get(f"/api/v1/track/{on_time['track_token']}").json()["rejoin_rule"]
    assert second["status"] == "waiting"
