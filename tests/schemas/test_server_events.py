"""Every event the server emits in a real session fits its shared model, exactly (server and schema cannot drift).

A session over HTTP — tickets taken (one by a senior's ID card), called, recalled, started, held, resumed,
completed, rated, no-show and rejoined, transferred to a queue and to a window, cancelled; window status and
notice; device health — then the whole stream is read back over the websocket (`?since=0`) and each message
is validated against `Envelope` and its type's data model; re-serialising the model must give back the very
JSON the server sent (no unknown key dropped, no value coerced). The snapshot and `GET …/board` fit
`BoardState`, and every ticket answer fits `PublicTicket`.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from websockets.sync.client import connect

from queue_server.ids import make_id_number
from queue_server.schemas import (
    EVENT_TYPES,
    BoardSnapshot,
    BoardState,
    Envelope,
    PublicTicket,
    data_model,
    event_data,
)

from ..harness import DISPLAY, Api, events_url

PAD = "pad-t1-w1-token-0123456789"
SENIOR_ID = make_id_number(birth=date(1940, 1, 1))  # the senior (special) lane


def _ok(r: Any, *codes: int) -> dict[str, Any]:
    assert r.status_code in (codes or (200,)), r.text
    body: dict[str, Any] = r.json()
    PublicTicket.model_validate(body)  # every ticket answer is the shared public ticket
    return body


def session(api: Api) -> None:
    """A small morning that makes every ticket, window and hall event the boards follow."""
    clerk = api.auth("clerk1")
    a1, a2, a3, b1 = (api.take(q) for q in ("A", "A", "A", "B"))
    senior = api.take("C", id_number=SENIOR_ID)
    assert senior["lane"] == "special"
    for t in (a1, a2, a3, b1, senior):
        PublicTicket.model_validate(t)
    first = _ok(api.call_next(1))
    _ok(api.act(first["id"], "recall"))
    _ok(api.act(first["id"], "start"))
    _ok(api.act(first["id"], "hold"))
    _ok(api.act(first["id"], "resume"))
    _ok(api.act(first["id"], "complete"))
    rating = {"ticket_id": first["id"], "level": 5}
    r = api.http.post("/api/v1/halls/t1/evaluations", json=rating, headers=api.auth(PAD))
    assert r.status_code == 201, r.text
    gone = _ok(api.call_next(1))
    _ok(api.act(gone["id"], "no-show"))
    _ok(api.act(gone["id"], "rejoin"))
    moved = _ok(api.call_next(5))
    _ok(api.act(moved["id"], "transfer", queue="B"))  # a called ticket leaves the board's list
    _ok(api.act(b1["id"], "transfer", window=2))  # a waiting one goes to a window
    _ok(api.call_next(2))
    _ok(api.call_next(3))  # the senior
    _ok(api.act(a3["id"], "cancel"), 200)
    r = api.http.post("/api/v1/halls/t1/windows/4/status", json={"status": "paused", "reason": "午休"}, headers=clerk)
    assert r.status_code == 200, r.text
    r = api.http.post("/api/v1/halls/t1/windows/4/status", json={"status": "open"}, headers=clerk)
    assert r.status_code == 200, r.text
    r = api.http.post("/api/v1/halls/t1/notice", json={"text": "午休 12:00-13:30 / Lunch break"}, headers=clerk)
    assert r.status_code == 200, r.text
    r = api.http.post("/api/v1/devices/health", json={"status": "paper_low", "detail": "纸将尽"}, headers=api.auth(PAD))
    assert r.status_code == 200, r.text


def read_stream(api: Api, *, since: int | None, until: int) -> list[dict[str, Any]]:
    """The stream's messages (snapshot or replay, then live) up to event `until`, as the server sent them."""
    got: list[dict[str, Any]] = []
    with connect(events_url(api.server, since=since, token=DISPLAY), open_timeout=10) as ws:
        while not got or got[-1]["seq"] < until or got[-1]["type"] == "heartbeat":
            got.append(json.loads(ws.recv(timeout=10)))
            if got[-1]["type"] == "snapshot" and got[-1]["seq"] >= until:
                break
    return got


def test_every_event_of_a_session_fits_its_model(api: Api) -> None:
    session(api)
    board = api.http.get("/api/v1/halls/t1/board").json()
    head = int(board["seq"])
    events = [m for m in read_stream(api, since=0, until=head) if m["type"] != "heartbeat"]
    assert [m["seq"] for m in events] == list(range(1, head + 1))
    kinds = set()
    for msg in events:
        env = Envelope.model_validate(msg)
        assert env.model_dump() == msg  # the envelope has exactly its five keys
        model = data_model(env.type)
        assert model is not None, f"{env.type} has no shared model"
        data = event_data(env)
        assert data is not None
        assert data.wire() == msg["data"], f"{env.type}: the model and the server's data differ"
        kinds.add(env.type)
    wanted = {
        "ticket.issued", "ticket.called", "ticket.recalled", "ticket.serving", "ticket.held", "ticket.completed",
        "ticket.no_show", "ticket.rejoined", "ticket.transferred", "ticket.cancelled", "window.status",
        "queue.stats", "notice", "device.health", "evaluation.created",
    }  # fmt: skip
    assert wanted <= kinds, wanted - kinds
    assert kinds <= EVENT_TYPES | {"appointment.booked"}


def test_board_and_snapshot_fit_the_board_state(api: Api) -> None:
    session(api)
    body = api.http.get("/api/v1/halls/t1/board").json()
    snap = BoardSnapshot.model_validate(body)
    assert snap.wire() == body
    assert any(w.current is not None for w in snap.data.windows) and snap.data.recent_calls
    (msg,) = read_stream(api, since=None, until=snap.seq)
    assert msg["type"] == "snapshot" and msg["seq"] == snap.seq
    assert BoardState.model_validate(msg["data"]).wire() == msg["data"] == body["data"]
