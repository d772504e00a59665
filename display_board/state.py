"""The board-state reducer: a pure function from (state, event) to the next state, no I/O.

A board starts from the server's snapshot (`from_snapshot`) and folds every event of the hall stream into it
(`apply`). `snapshot_view` gives back exactly the dict the server's `GET /api/v1/halls/{hall}/board` (and the
websocket `snapshot` message) would carry after the same event, so the reducer is tested against the server.

Rules mirrored from the server (`queue_server/services/halls.py::board_state` and `services/tickets.py`):

- `queues`: waiting count and estimated wait come from the `queues` stats every `ticket.*` and `queue.stats`
  event carries for the queues it changed.
- `windows`: `window.status` carries the window's public fields; the current ticket is the ticket last
  called (or resumed) at the window while it stays `called`/`serving` there; any other status clears it.
  `ticket.expired` clears every window (the server's day-end expiry does the same, without other events).
- `recent_calls`: the last `RECENT_CALLS` tickets by called time that have a window, each with its *current*
  brief and `at` (its called time). `ticket.called`/`ticket.recalled` move a ticket to the top with the
  event's `at`; a transfer or a rejoin clears the called time, so the ticket leaves the list and an older
  call moves up. The reducer keeps up to `HISTORY` calls for that; when it cannot know the call that moves
  up (it started from a snapshot, which holds only ten), `apply` raises `SnapshotNeeded` (a `Gap`).
- `notice`: the `notice` event's text. `last_call` and `alerts` are board extras, not in the snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

RECENT_CALLS = 10  # what the server's snapshot lists (queue_server.services.halls.RECENT_CALLS)
HISTORY = 50  # calls the reducer remembers, so that a call leaving the list can be replaced exactly
AT_WINDOW = frozenset({"called", "serving"})
BRIEF_KEYS = ("id", "number", "queue", "lane", "status", "window")


class Gap(Exception):
    """The event does not follow the state (`seq > state.seq + 1`): the caller must resync."""

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(f"event seq {got} does not follow {expected - 1}: resync")
        self.expected = expected
        self.got = got


class SnapshotNeeded(Gap):
    """The state cannot follow this event exactly (see the module doc); fetch a fresh snapshot."""


@dataclass(frozen=True, slots=True)
class BoardState:
    """What a board shows, as of event `seq`. Treat as immutable: `apply` returns a new state.

    `history` is the recent calls, newest first (the snapshot's `recent_calls` is its first ten);
    `history_complete` says whether every older call is known too (no call with a window exists beyond it).
    `last_call` is the newest `ticket.called`/`ticket.recalled` message seen (with `announce` in halls that
    are not silent), for flashing and voice; `alerts` the standing `queue.alert`s by (queue, kind).
    """

    seq: int
    hall: dict[str, Any]
    queues: tuple[dict[str, Any], ...]
    windows: tuple[dict[str, Any], ...]
    history: tuple[dict[str, Any], ...]
    history_complete: bool
    notice: str
    last_call: dict[str, Any] | None = None
    alerts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def from_snapshot(seq: int, data: dict[str, Any]) -> BoardState:
    """The state of a `snapshot` message (or of `GET …/board`: its `seq` and `data`)."""
    recent = tuple(dict(r) for r in data.get("recent_calls", []))
    return BoardState(
        seq=seq,
        hall=dict(data.get("hall", {})),
        queues=tuple(dict(q) for q in data.get("queues", [])),
        windows=tuple(_copy_window(w) for w in data.get("windows", [])),
        history=recent,
        history_complete=len(recent) < RECENT_CALLS,
        notice=str(data.get("notice", "")),
    )


def snapshot_view(state: BoardState) -> dict[str, Any]:
    """Exactly the snapshot-shaped dict the server would send at `state.seq`."""
    return {
        "hall": dict(state.hall),
        "queues": [dict(q) for q in state.queues],
        "windows": [_copy_window(w) for w in state.windows],
        "recent_calls": [dict(r) for r in state.history[:RECENT_CALLS]],
        "notice": state.notice,
    }


def apply(state: BoardState, event: dict[str, Any]) -> BoardState:
    """The state after one stream message `{"seq", "type", "at", "hall", "data"}`.

    Messages with `seq <= state.seq` (duplicates, replays, heartbeats) return `state` unchanged; a gap
    raises `Gap`. Event types a board does not show (appointments, home visits, device health, unknown
    future types) only advance `seq`.
    """
    seq = int(event["seq"])
    if seq <= state.seq:
        return state
    if seq != state.seq + 1:
        raise Gap(state.seq + 1, seq)
    kind = str(event.get("type", ""))
    data: dict[str, Any] = event.get("data") or {}
    if kind.startswith("ticket."):
        return _ticket(state, seq, kind, str(event["at"]), data)
    if kind == "queue.stats":
        return replace(state, seq=seq, queues=_with_stats(state.queues, data.get("queues", [])))
    if kind == "window.status":
        return replace(state, seq=seq, windows=_with_window_status(state.windows, data))
    if kind == "notice":
        return replace(state, seq=seq, notice=str(data.get("text", "")))
    if kind == "queue.alert":
        alerts = dict(state.alerts)
        key = (str(data.get("queue")), str(data.get("kind")))
        if data.get("cleared"):
            alerts.pop(key, None)
        else:
            alerts[key] = dict(data)
        return replace(state, seq=seq, alerts=alerts)
    return replace(state, seq=seq)


def brief_of(data: dict[str, Any]) -> dict[str, Any]:
    """The ticket brief (`id`, `number`, `queue`, `lane`, `status`, `window`?) of a `ticket.*` event."""
    return {k: data[k] for k in BRIEF_KEYS if k in data}


def utc_iso(at: str) -> str:
    """An event's `at` (hall-local) as the server writes stored times: ISO 8601 in UTC."""
    return datetime.fromisoformat(at).astimezone(UTC).isoformat()


def _copy_window(w: dict[str, Any]) -> dict[str, Any]:
    d = dict(w)
    if isinstance(d.get("queues"), list):
        d["queues"] = list(d["queues"])
    if isinstance(d.get("current"), dict):
        d["current"] = dict(d["current"])
    return d


def _with_stats(queues: tuple[dict[str, Any], ...], stats: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    by_code = {s["code"]: s for s in stats}
    out = []
    for q in queues:
        s = by_code.get(q["code"])
        out.append(q if s is None else q | {"waiting": s["waiting"], "estimated_wait_s": s["estimated_wait_s"]})
    return tuple(out)


def _with_window_status(windows: tuple[dict[str, Any], ...], data: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    fields = {k: data[k] for k in ("number", "name", "name_en", "queues", "status", "reason") if k in data}
    if "queues" in fields:
        fields["queues"] = list(fields["queues"])
    found = False
    out = []
    for w in windows:
        if w["number"] == data.get("number"):
            found = True
            out.append(w | fields)
        else:
            out.append(w)
    if not found:  # a window added to the configuration after the snapshot
        out.append(fields | {"current": None})
        out.sort(key=lambda w: int(w["number"]))
    return tuple(out)


def _ticket(state: BoardState, seq: int, kind: str, at: str, data: dict[str, Any]) -> BoardState:
    b = brief_of(data)
    tid = b.get("id")
    queues = _with_stats(state.queues, data.get("queues", []))

    # Windows: the current ticket while it is called or serving there.
    at_window = b.get("status") in AT_WINDOW and "window" in b
    windows = []
    for w in state.windows:
        cur = w.get("current")
        if kind == "ticket.expired" and cur is not None:
            w = w | {"current": None}  # the day-end expiry empties every window
        elif at_window and w["number"] == b["window"]:
            w = w | {"current": dict(b)}
        elif cur is not None and cur.get("id") == tid:
            w = w | {"current": dict(b) if at_window and w["number"] == b.get("window") else None}
        windows.append(w)

    # Recent calls: moved to the top by a (re)call, dropped when the called time is cleared.
    history = list(state.history)
    complete = state.history_complete
    last_call = state.last_call
    index = next((i for i, r in enumerate(history) if r.get("id") == tid), None)
    if kind in ("ticket.called", "ticket.recalled") and "window" in b:
        if index is not None:
            del history[index]
        history.insert(0, b | {"at": utc_iso(at)})
        if len(history) > HISTORY:
            del history[HISTORY:]
            complete = False
        last_call = {"seq": seq, "type": kind, "at": at, **b}
        if "announce" in data:
            last_call["announce"] = data["announce"]
    elif index is not None:
        if kind in ("ticket.transferred", "ticket.rejoined"):
            del history[index]
            if len(history) < RECENT_CALLS and not complete:
                raise SnapshotNeeded(state.seq + 1, seq)
        else:
            history[index] = b | {"at": history[index]["at"]}
    return replace(
        state,
        seq=seq,
        queues=queues,
        windows=tuple(windows),
        history=tuple(history),
        history_complete=complete,
        last_call=last_call,
    )
