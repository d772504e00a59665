"""The tracking page's server side over real HTTP and websockets, on both databases: `track_url` on the ticket
answer, the page behind it, the ticket's public state, its own stream (`/ws/track/<token>`), and the limit on
unknown tokens."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from queue_server.api.headers import PAGE_CSP
from queue_server.ids import make_id_number
from queue_server.ratelimit import PER_ADDRESS_HOUR
from queue_server.schemas import REJOIN_RULE, TrackState

from ..harness import Api

PHONE, ID_NUMBER = "13812345678", make_id_number(serial=77)
NOTICE = "午间不休 / Open at noon"


def stream_url(api: Api, token: str) -> str:
    """The ticket's own stream on the live server."""
    return f"{api.server.ws_url}/ws/track/{token}"


def closed_with(url: str) -> int | None:
    """The close code a stream answers with before sending anything."""
    with connect(url, open_timeout=10) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    return closed.value.rcvd.code if closed.value.rcvd else None


def until(ws: ClientConnection, check: Any, seconds: float = 10) -> dict[str, Any]:
    """The first snapshot whose state passes `check` (heartbeats and other snapshots are read past)."""
    deadline = time.monotonic() + seconds
    while True:
        msg = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        assert msg["type"] in ("snapshot", "heartbeat"), msg
        if msg["type"] == "snapshot":
            assert set(msg["data"]) == set(TrackState.model_fields), msg  # only the ticket's public state
            if check(msg["data"]):
                return dict(msg["data"])


def test_the_answer_carries_track_url_and_it_is_a_page(api: Api) -> None:
    t = api.take("A")
    assert t["track_url"] == f"{api.server.url}/track/{t['track_token']}"  # no public_url: the server's address
    page = api.http.get(t["track_url"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == PAGE_CSP and "<script" not in page.text.split("</head>")[1]


def test_the_public_state_names_the_queue_and_the_notice_and_nothing_personal(api: Api) -> None:
    first = api.take("A")
    t = api.take("A", phone=PHONE, id_number=ID_NUMBER)
    notice = api.http.post("/api/v1/halls/t1/notice", json={"text": NOTICE}, headers=api.auth("clerk1"))
    assert notice.status_code == 200, notice.text
    r = api.http.get(f"/api/v1/track/{t['track_token']}")
    assert r.status_code == 200, r.text
    s = r.json()
    assert (s["number"], s["status"], s["ahead"], s["queue"], s["queue_name"], s["queue_name_en"]) == (
        t["number"], "waiting", 1, "A", "市场准入", "Market access",
    )  # fmt: skip
    assert s["hall_name"] == "测试政务服务中心" and s["notice"] == NOTICE
    assert s["issued_at"].endswith("+08:00") and not s["transferred"] and not s["evaluated"]
    for secret in (PHONE, PHONE[-4:], ID_NUMBER, ID_NUMBER[-4:], "****", first["track_token"]):
        assert secret not in r.text


def test_unknown_tokens_are_limited_per_address(api: Api) -> None:
    t = api.take("A")
    for i in range(PER_ADDRESS_HOUR):
        assert api.http.get(f"/api/v1/track/guess{i}").status_code == 404
    assert api.http.get(f"/api/v1/track/guess{PER_ADDRESS_HOUR}").status_code == 429
    spent = api.http.get(f"/api/v1/track/{t['track_token']}")  # a spent address learns nothing more
    assert spent.status_code == 429 and int(spent.headers["Retry-After"]) > 0
    assert closed_with(stream_url(api, t["track_token"])) == 4429  # nor from the stream
    other = httpx.Client(base_url=api.server.url, transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    with other:  # another address is not affected, and hits do not count
        for _ in range(PER_ADDRESS_HOUR + 5):
            assert other.get(f"/api/v1/track/{t['track_token']}").status_code == 200


def test_the_ticket_stream_follows_the_ticket_through_its_day(api: Api) -> None:
    ahead = api.take("A")
    t = api.take("A")
    token = t["track_token"]
    assert closed_with(stream_url(api, "no-such-token")) == 4404
    with connect(stream_url(api, token), open_timeout=10) as ws:
        s = until(ws, lambda d: True)
        assert (s["number"], s["status"], s["ahead"]) == (t["number"], "waiting", 1)
        assert api.call_next(1).json()["id"] == ahead["id"]  # another ticket: the one ahead goes
        assert until(ws, lambda d: d["ahead"] == 0)["status"] == "waiting"
        assert api.act(ahead["id"], "complete").status_code == 200
        assert api.call_next(1).json()["id"] == t["id"]
        s = until(ws, lambda d: d["status"] == "called")
        assert s["window"] == 1 and s["recalls"] == 0
        assert api.act(t["id"], "recall").status_code == 200
        assert until(ws, lambda d: d["recalls"] == 1)["status"] == "called"
        assert api.act(t["id"], "no-show").status_code == 200
        assert until(ws, lambda d: d["status"] == "no_show")["rejoin_rule"] == REJOIN_RULE
        assert api.act(t["id"], "rejoin").status_code == 200
        assert until(ws, lambda d: d["status"] == "waiting")["window"] is None
        moved = api.http.post(f"/api/v1/tickets/{t['id']}/transfer", json={"queue": "B"}, headers=api.auth("clerk1"))
        assert moved.status_code == 200, moved.text
        s = until(ws, lambda d: d["transferred"])
        assert (s["queue"], s["queue_name_en"], s["status"]) == ("B", "Investment & construction", "waiting")
        api.http.post("/api/v1/halls/t1/notice", json={"text": "请保管好随身物品"}, headers=api.auth("clerk1"))
        assert until(ws, lambda d: d["notice"] == "请保管好随身物品")["number"] == t["number"]
        assert api.call_next(1).json()["id"] == t["id"]
        assert api.act(t["id"], "complete").status_code == 200
        assert until(ws, lambda d: d["status"] == "done")["evaluated"] is False
        rated = api.http.post("/api/v1/halls/t1/evaluations", json={"track_token": token, "level": 5})
        assert rated.status_code == 201, rated.text
        assert until(ws, lambda d: d["evaluated"])["status"] == "done"
        ws.send(json.dumps({"type": "snapshot"}))  # the follower's resync: the state again
        assert until(ws, lambda d: True)["evaluated"] is True
