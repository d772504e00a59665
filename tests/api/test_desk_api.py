"""The general desk's reads and its rejoin, over real HTTP on both databases (the page: tests/web/test_desk.py)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from queue_server.models import Ticket
from queue_server.timeutil import service_day, utcnow

from ..harness import KIOSK, Api


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
