"""The board reducer against the live server: any run of actions, folded from any snapshot, ends in the board.

Hypothesis drives the real server over HTTP (both backends); the events are read back from the event table,
and every intermediate `GET …/board` is kept, so the reducer is checked after every action, from every
starting snapshot, and with duplicated and replayed events.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from display_board.state import (
    BoardState,
    Gap,
    SnapshotNeeded,
    apply,
    from_snapshot,
    snapshot_view,
)
from queue_server.services.tx import read_events

from ..harness import Api

QUEUES = ("A", "B", "C")
LANES = ("normal", "normal", "normal", "military", "special", "vip")
WINDOWS = (1, 2, 3, 4, 5)
TICKET_ACTIONS = ("recall", "start", "complete", "hold", "resume", "no-show", "cancel", "rejoin")

Action = tuple[Any, ...]
FITS = {  # the statuses each action applies to (a called ticket on the board with one is picked)
    "recall": {"called"},
    "start": {"called"},
    "no-show": {"called"},
    "complete": {"called", "serving"},
    "hold": {"called", "serving"},
    "resume": {"held"},
    "cancel": {"called", "held"},
    "rejoin": {"no_show"},
}

ticket_ref = st.integers(0, 5)  # 0: the newest ticket, 1: the one before, ... (most actions find a fit)

actions = st.one_of(
    st.tuples(st.just("take"), st.sampled_from(QUEUES), st.sampled_from(LANES)),
    st.tuples(st.just("call"), st.sampled_from(WINDOWS)),
    st.tuples(st.just("call"), st.sampled_from(WINDOWS)),
    st.tuples(st.just("cycle"), st.sampled_from(WINDOWS)),  # take, call and complete: many calls
    st.tuples(st.just("act"), st.sampled_from(TICKET_ACTIONS), ticket_ref),
    st.tuples(st.just("act"), st.sampled_from(("complete", "start", "recall")), ticket_ref),
    st.tuples(st.just("act_recent"), st.sampled_from(TICKET_ACTIONS), ticket_ref),  # on a called ticket
    st.tuples(st.just("act_recent"), st.sampled_from(TICKET_ACTIONS), ticket_ref),
    st.tuples(st.just("transfer"), ticket_ref, st.sampled_from(QUEUES), st.none()),
    st.tuples(st.just("transfer"), ticket_ref, st.none(), st.sampled_from(WINDOWS)),
    st.tuples(st.just("status"), st.sampled_from(WINDOWS), st.sampled_from(("open", "paused", "open"))),
    st.tuples(st.just("notice"), st.sampled_from(("", "午休 12:00-13:30", "Notice 2"))),
)


def run(api: Api, action: Action, ids: list[int], recent: list[dict[str, Any]] | None = None) -> None:
    """Perform one action over HTTP; refusals (4xx) are part of the game and ignored.

    `recent` is the last board's `recent_calls`, for actions on tickets that were called.
    """
    kind = action[0]
    clerk = api.auth("clerk1")
    if kind == "take":
        r = api.http.post("/api/v1/halls/t1/tickets", json={"queue": action[1], "lane": action[2]}, headers=clerk)
        if r.status_code == 201:
            ids.append(int(r.json()["id"]))
        return
    if kind == "cycle":
        queue = {3: "C", 5: "A"}.get(action[1], "B")
        ids.append(int(api.take(queue, who="clerk1")["id"]))
        r = api.call_next(action[1])
        if r.status_code == 200:
            r = api.act(int(r.json()["id"]), "complete")
    elif kind == "call":
        r = api.call_next(action[1])
    elif kind == "status":
        reason = "" if action[2] == "open" else "暂停服务"
        body = {"status": action[2], "reason": reason}
        r = api.http.post(f"/api/v1/halls/t1/windows/{action[1]}/status", json=body, headers=clerk)
    elif kind == "notice":
        r = api.http.post("/api/v1/halls/t1/notice", json={"text": action[1]}, headers=clerk)
    elif kind == "act_recent":
        fits = [t for t in recent or [] if t["status"] in FITS[action[1]]]
        if not fits:
            return
        r = api.act(int(fits[action[2] % len(fits)]["id"]), action[1])
    elif not ids:
        return
    elif kind == "act":
        r = api.act(ids[-1 - action[2] % len(ids)], action[1])
    else:
        _, index, queue, window = action
        body = {"queue": queue} if queue is not None else {"window": window}
        r = api.act(ids[-1 - index % len(ids)], "transfer", **body)
    assert r.status_code < 500, r.text


def board(api: Api) -> tuple[int, dict[str, Any]]:
    """The server's board state and its seq."""
    r = api.http.get("/api/v1/halls/t1/board")
    assert r.status_code == 200, r.text
    body = r.json()
    return int(body["seq"]), body["data"]


def stream(api: Api) -> list[dict[str, Any]]:
    """Every committed event of hall t1, as the stream sends them."""
    ctx = api.server.ctx
    with ctx.db.read() as s:
        return [ev.message() for ev in read_events(s, "t1", 0, limit=100_000, tz=ctx.zones["t1"])]


def fold(
    start: tuple[int, dict[str, Any]], events: list[dict[str, Any]], snapshots: list[tuple[int, dict[str, Any]]]
) -> BoardState:
    """Apply events from a snapshot; on `SnapshotNeeded`, resync from the first later snapshot, as a board does."""
    state = from_snapshot(*start)
    for ev in events:
        try:
            state = apply(state, ev)
        except SnapshotNeeded:
            seq, data = next((seq, data) for seq, data in snapshots if seq >= ev["seq"])
            state = from_snapshot(seq, data)
    return state


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(warmup=st.integers(0, 12), script=st.lists(actions, min_size=15, max_size=35))
def test_reducer_reproduces_the_board(api: Api, warmup: int, script: list[Action]) -> None:
    api.server.reset()
    snapshots = [board(api)]
    ids: list[int] = []
    for _ in range(warmup):  # calls beyond the snapshot's ten: exercises calls leaving a full list
        run(api, ("cycle", 5), ids)
    if warmup:
        snapshots.append(board(api))
    for action in script:
        run(api, action, ids, snapshots[-1][1]["recent_calls"])
        snapshots.append(board(api))
    events = stream(api)
    final_seq, final = snapshots[-1]
    assert [e["seq"] for e in events] == list(range(snapshots[0][0] + 1, final_seq + 1))

    # From the first snapshot (an empty hall: every call is known), event by event, matching every board.
    state = from_snapshot(*snapshots[0])
    by_seq = dict(snapshots)
    for ev in events:
        state = apply(state, ev)
        if ev["seq"] in by_seq:
            assert snapshot_view(state) == by_seq[ev["seq"]], f"after event {ev['seq']} ({ev['type']})"
    assert state.seq == final_seq
    assert snapshot_view(state) == final

    # From any intermediate snapshot, the rest of the events give the same final board.
    for seq, data in snapshots:
        later = [e for e in events if e["seq"] > seq]
        assert snapshot_view(fold((seq, data), later, snapshots)) == final, f"from snapshot at seq {seq}"

    # Duplicates and replays (a resume that overlaps what was seen) change nothing.
    state = from_snapshot(*snapshots[0])
    for i, ev in enumerate(events):
        state = apply(state, ev)
        assert apply(state, ev) is state
        for old in events[max(0, i - 3) : i]:
            assert apply(state, old) is state
    assert snapshot_view(state) == final


def test_a_gap_raises(api: Api) -> None:
    api.take("A")
    api.take("A")
    seq, data = board(api)
    events = stream(api)
    state = from_snapshot(0, board_at_zero(data))
    with pytest.raises(Gap):
        apply(state, events[1])
    assert apply(apply(state, events[0]), events[1]).seq == seq


def board_at_zero(data: dict[str, Any]) -> dict[str, Any]:
    """The board of the fresh hall (no tickets) with the same halls and windows."""
    return data | {"queues": [q | {"waiting": 0, "estimated_wait_s": 0} for q in data["queues"]], "recent_calls": []}


def test_a_call_leaving_a_full_list_asks_for_a_snapshot(api: Api) -> None:
    """Eleven calls, a snapshot (ten of them), then the newest is transferred: the eleventh must come back."""
    for _ in range(11):
        t = api.take("A")
        assert api.call_next(5).status_code == 200
        assert api.act(t["id"], "complete").status_code == 200
    start = board(api)
    assert len(start[1]["recent_calls"]) == 10
    t = api.take("A")
    assert api.call_next(5).status_code == 200
    assert api.act(t["id"], "transfer", queue="B").status_code == 200
    end = board(api)
    later = [e for e in stream(api) if e["seq"] > start[0]]
    state = from_snapshot(*start)
    state = apply(state, later[0])  # issued
    state = apply(state, later[1])  # called: eleven known calls
    state = apply(state, later[2])  # transferred: back to the ten of the snapshot, still exact
    assert snapshot_view(state) == end[1]
    # One more leaving would need the call before the snapshot's ten: the reducer asks for a snapshot.
    first = start[1]["recent_calls"][0]
    data = {k: first[k] for k in ("id", "number", "queue", "lane")} | {"status": "waiting"}
    fake = {"seq": state.seq + 1, "type": "ticket.rejoined", "at": later[2]["at"], "hall": "t1", "data": data}
    with pytest.raises(SnapshotNeeded):
        apply(state, fake)


def test_every_ticket_action_in_one_story(api: Api) -> None:
    """A fixed story through every action (hold, resume, no-show, rejoin, recall, transfers, pause), checked
    against the board after each step, from the empty hall and from every snapshot."""
    snapshots = [board(api)]
    ids: list[int] = []
    story: list[Action] = [
        *[("cycle", 5)] * 11,
        ("take", "A", "normal"),
        ("take", "B", "military"),
        ("take", "C", "normal"),
        ("take", "A", "vip"),
        ("call", 1),
        ("call", 2),
        ("call", 3),
        ("act_recent", "recall", 0),
        ("act_recent", "start", 0),
        ("act_recent", "hold", 0),
        ("act_recent", "resume", 0),
        ("act_recent", "no-show", 0),
        ("act_recent", "rejoin", 0),
        ("status", 2, "paused"),
        ("transfer", 0, None, 4),
        ("call", 4),
        ("act_recent", "cancel", 0),
        ("act_recent", "hold", 0),
        ("act_recent", "cancel", 0),
        ("status", 2, "open"),
        ("call", 1),
        ("transfer", 0, "C", None),
        ("notice", "午休 12:00-13:30"),
        ("call", 3),
        ("act_recent", "complete", 0),
    ]
    for action in story:
        run(api, action, ids, snapshots[-1][1]["recent_calls"])
        snapshots.append(board(api))
    events = stream(api)
    kinds = {e["type"] for e in events}
    for kind in ("recalled", "serving", "held", "no_show", "rejoined", "transferred", "cancelled", "completed"):
        assert f"ticket.{kind}" in kinds, kind
    state = from_snapshot(*snapshots[0])
    by_seq = dict(snapshots)
    for ev in events:
        state = apply(state, ev)
        if ev["seq"] in by_seq:
            assert snapshot_view(state) == by_seq[ev["seq"]], f"after event {ev['seq']} ({ev['type']})"
    final = snapshots[-1][1]
    assert snapshot_view(state) == final
    for seq, data in snapshots:
        later = [e for e in events if e["seq"] > seq]
        assert snapshot_view(fold((seq, data), later, snapshots)) == final, f"from snapshot at seq {seq}"
