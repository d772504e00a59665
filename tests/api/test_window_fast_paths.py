"""办结并叫下一位 as one change, and the server's remembered facts (staff tokens, a ticket's hall)."""

from __future__ import annotations

from typing import Any

import jwt
from sqlmodel import col, select

from queue_server.models import Event, Ticket

from ..harness import Api


def _complete_next(api: Api, window: int, ticket_id: int, who: str = "clerk1") -> Any:
    return api.http.post(
        f"/api/v1/halls/t1/windows/{window}/complete-and-call-next",
        json={"ticket_id": ticket_id},
        headers=api.auth(who),
    )


def _ticket(api: Api, ticket_id: int) -> dict[str, Any]:
    r = api.http.get(f"/api/v1/tickets/{ticket_id}", headers=api.auth("clerk1"))
    assert r.status_code == 200, r.text
    return dict(r.json())


def _event_types(api: Api) -> list[tuple[str, int | None]]:
    with api.server.ctx.db.read() as s:
        rows = s.exec(select(Event).where(col(Event.hall_code) == "t1").order_by(col(Event.seq))).all()
    import orjson

    return [(e.type, orjson.loads(e.data).get("id")) for e in rows]


def test_complete_and_call_next_completes_then_calls_in_one_change(api: Api) -> None:
    first, second = api.take("A"), api.take("B")
    assert api.call_next(1).json()["id"] == first["id"]
    before = len(_event_types(api))

    r = _complete_next(api, 1, first["id"])
    assert r.status_code == 200, r.text
    called = r.json()
    assert (called["id"], called["status"], called["window"]) == (second["id"], "called", 1)
    assert _ticket(api, first["id"])["status"] == "done"
    # ticket.completed, then ticket.called, one after the other in the hall's stream
    assert _event_types(api)[before:] == [("ticket.completed", first["id"]), ("ticket.called", second["id"])]

    r = _complete_next(api, 1, second["id"])
    assert r.status_code == 204  # nobody waits: the completion stands
    assert _ticket(api, second["id"])["status"] == "done"
    assert api.call_next(1).status_code == 204  # the window is free again, not stuck with a ticket


def test_complete_and_call_next_refuses_a_ticket_the_window_is_not_serving(api: Api) -> None:
    first, waiting = api.take("A"), api.take("A")
    assert api.call_next(1).json()["id"] == first["id"]
    for ticket_id, window in ((waiting["id"], 1), (first["id"], 2)):
        r = _complete_next(api, window, ticket_id, who="admin")
        assert r.status_code == 409, r.text
        assert "is not the ticket window" in r.json()["detail"]
    assert _ticket(api, first["id"])["status"] == "called"  # nothing happened
    assert _ticket(api, waiting["id"])["status"] == "waiting"
    # a clerk bound to window 2 may not use window 1; an unknown ticket is 404; a bad body 422
    assert _complete_next(api, 1, first["id"], who="clerk2").status_code == 403
    assert _complete_next(api, 1, 10**9).status_code == 404
    r = api.http.post("/api/v1/halls/t1/windows/1/complete-and-call-next", json={}, headers=api.auth("clerk1"))
    assert r.status_code == 422
    assert _ticket(api, first["id"])["status"] == "called"


def test_complete_and_call_next_on_a_paused_window_undoes_the_completion(api: Api) -> None:
    first, _ = api.take("A"), api.take("A")
    assert api.call_next(1).json()["id"] == first["id"]
    r = api.http.post(
        "/api/v1/halls/t1/windows/1/status", json={"status": "paused", "reason": "break"}, headers=api.auth("clerk1")
    )
    assert r.status_code == 200, r.text
    r = _complete_next(api, 1, first["id"])
    assert r.status_code == 409  # the window cannot call while paused …
    assert _ticket(api, first["id"])["status"] == "called"  # … and the completion was rolled back with it


def test_an_action_finds_its_ticket_when_the_remembered_hall_is_wrong(api: Api) -> None:
    t = api.take("A")
    assert api.call_next(1).json()["id"] == t["id"]
    ctx = api.server.ctx
    assert ctx.ticket_halls.get(t["id"]) == "t1"  # remembered from the issue and the call
    ctx.ticket_halls[t["id"]] = "t2"  # as after a database was emptied and ids started again
    r = api.act(t["id"], "complete")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "done"
    assert ctx.ticket_halls[t["id"]] == "t1"
    with ctx.db.read() as s:
        assert s.exec(select(Ticket.status).where(col(Ticket.id) == t["id"])).one() == "done"


def test_a_remembered_token_is_still_refused_once_expired_or_forged(api: Api) -> None:
    tokens = api.server.ctx.tokens
    good = api.token("clerk1")
    assert api.call_next(1).status_code == 204  # verified once, remembered
    claims = jwt.decode(good, options={"verify_signature": False})
    expired = jwt.encode(claims | {"exp": claims["iat"] - 1}, tokens._key, algorithm="HS256")
    forged = jwt.encode(claims | {"role": "admin"}, "not-the-key-not-the-key-not-the-key!", algorithm="HS256")
    for bad in (expired, forged, good[:-2] + ("AA" if not good.endswith("AA") else "BB")):
        r = api.http.post("/api/v1/halls/t1/windows/1/call-next", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad
    assert api.call_next(1).status_code == 204  # the good one still works
