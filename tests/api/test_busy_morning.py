"""A randomised busy morning over real HTTP, every call replayed against the queue policy.

Kiosks take numbers concurrently (normal and priority lanes) while four windows call next, start,
complete (also 办结并叫下一位), recall, mark no-shows (one rejoins), hold and resume, and transfer the
ticket they just called to a queue or a window; a supervisor transfers waiting tickets meanwhile. Each
seed is a different morning. Afterwards the hall's event log is replayed: every `ticket.called` must be
the ticket `policy.choose` picks from the tickets waiting at that point (so nobody is called twice), the
event seqs and the ticket numbers are gap-free, no answer was a 5xx, and the replayed end state equals
the ticket rows and the board.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import orjson
import pytest
from sqlmodel import col, select

from queue_server import policy
from queue_server.models import Event, Hall, Ticket

from ..harness import KIOSK, Api

HALL = "t1"
WINDOWS = {1: ("A", "B"), 2: ("B", "A"), 3: ("C",), 4: ("A", "B", "C")}  # tests/data/hall.toml
STRICT = {4}
RULES = policy.Rules(max_priority_streak=3)
KIOSKS, TICKETS_PER_KIOSK = 3, 12
SUPERVISOR_TRANSFERS = 6
FINAL = {"done", "no_show", "cancelled", "expired"}
EXPECTED = {200, 201, 204, 409}  # 409: an action that no longer fits (another window or the supervisor was first)


@dataclass
class Morning:
    """What the clients of one morning share."""

    api: Api
    rng_seed: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    news: threading.Condition = field(default_factory=threading.Condition)
    generation: int = 0  # bumped whenever a ticket may have become callable
    kiosks_left: int = KIOSKS
    supervisor_done: bool = False
    taken: list[int] = field(default_factory=list)
    answers: list[tuple[str, int, str]] = field(default_factory=list)  # (request, status, body) of every call
    rejoined: bool = False

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.api.server.url, timeout=30)

    def post(self, http: httpx.Client, path: str, token: str, body: dict[str, Any] | None = None) -> httpx.Response:
        r = http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        with self.lock:
            self.answers.append((f"POST {path} {body or ''}", r.status_code, r.text[:300]))
        return r

    def bump(self) -> None:
        with self.news:
            self.generation += 1
            self.news.notify_all()

    def quiet(self) -> bool:
        return self.kiosks_left == 0 and self.supervisor_done


def _kiosk(m: Morning, n: int) -> None:
    rng = random.Random(m.rng_seed * 100 + n)
    with m.client() as http:
        try:
            for _ in range(TICKETS_PER_KIOSK):
                lane = rng.choices(["normal", "military", "special"], [8, 1, 1])[0]
                r = m.post(http, f"/api/v1/halls/{HALL}/tickets", KIOSK, {"queue": rng.choice("AABBC"), "lane": lane})
                if r.status_code == 201:
                    with m.lock:
                        m.taken.append(r.json()["id"])
                m.bump()
        finally:
            with m.news:
                m.kiosks_left -= 1
                m.news.notify_all()


def _supervisor(m: Morning, token: str) -> None:
    rng = random.Random(m.rng_seed * 100 + 99)
    with m.client() as http:
        try:
            for _ in range(SUPERVISOR_TRANSFERS):
                with m.news:  # wait for a few more tickets before the next transfer
                    target = m.generation + 4
                    m.news.wait_for(lambda t=target: m.generation >= t or m.kiosks_left == 0, timeout=10)
                with m.lock:
                    if not m.taken:
                        continue
                    tid = rng.choice(m.taken[-10:])
                body = {"queue": rng.choice("ABC")} if rng.random() < 0.5 else {"window": rng.choice(list(WINDOWS))}
                if m.post(http, f"/api/v1/tickets/{tid}/transfer", token, body).status_code == 200:
                    m.bump()
        finally:
            with m.news:
                m.supervisor_done = True
                m.news.notify_all()


def _window(m: Morning, number: int, token: str) -> None:
    rng = random.Random(m.rng_seed * 100 + 50 + number)
    held: list[int] = []
    current: tuple[int, str] | None = None  # the window's ticket and its status
    idle_rounds = 0
    with m.client() as http:
        while True:
            if current is not None:
                current = _serve(m, http, rng, number, token, current, held)
                continue
            gen = m.generation
            if held and rng.random() < 0.5:
                tid = held.pop(rng.randrange(len(held)))
                if m.post(http, f"/api/v1/tickets/{tid}/resume", token).status_code == 200:
                    current = (tid, "called")
                continue
            r = m.post(http, f"/api/v1/halls/{HALL}/windows/{number}/call-next", token)
            if r.status_code == 200:
                current, idle_rounds = (r.json()["id"], "called"), 0
            elif r.status_code != 204:
                return  # the window is not free although this client thinks so: the answer is reported
            elif not held:
                with m.news:
                    if m.quiet() and m.generation == gen:
                        idle_rounds += 1
                        if idle_rounds >= 2:
                            return
                    m.news.wait_for(lambda g=gen: m.generation != g or m.quiet(), timeout=5)


def _serve(
    m: Morning, http: httpx.Client, rng: random.Random, number: int, token: str, now: tuple[int, str], held: list[int]
) -> tuple[int, str] | None:
    """One action on the window's ticket; the window's ticket afterwards (None when free).

    A 409 means the supervisor transferred the ticket away meanwhile: the window is free."""
    tid, status = now
    kinds = ["complete", "f9", "transfer-queue", "transfer-window", "hold"]
    weights = [5, 3, 2, 2, 1]
    if status == "called":
        kinds += ["no-show", "recall", "start"]
        weights += [2, 2, 3]
    kind = rng.choices(kinds, weights)[0]
    path = f"/api/v1/tickets/{tid}"
    if kind == "f9":
        r = m.post(http, f"/api/v1/halls/{HALL}/windows/{number}/complete-and-call-next", token, {"ticket_id": tid})
        return (r.json()["id"], "called") if r.status_code == 200 else None
    if kind in ("recall", "start"):
        r = m.post(http, f"{path}/{kind}", token)
        return (tid, "serving" if kind == "start" else "called") if r.status_code == 200 else None
    if kind.startswith("transfer"):
        if kind == "transfer-queue":
            body: dict[str, Any] = {"queue": rng.choice("ABC")}
        else:
            body = {"window": rng.choice([w for w in WINDOWS if w != number])}
        if m.post(http, f"{path}/transfer", token, body).status_code == 200:
            m.bump()
        return None
    r = m.post(http, f"{path}/{kind}", token)
    if r.status_code == 200 and kind == "hold":
        held.append(tid)
    if r.status_code == 200 and kind == "no-show":
        with m.lock:
            rejoin, m.rejoined = not m.rejoined or rng.random() < 0.2, True
        if rejoin and m.post(http, f"{path}/rejoin", token).status_code == 200:
            m.bump()
    return None


def _guarded(m: Morning, fn: Callable[..., None], *args: Any) -> Callable[[], None]:
    """Run a client; a failure (e.g. the server dropping the connection after a 500) is reported as an answer."""

    def run() -> None:
        try:
            fn(m, *args)
        except Exception as exc:
            with m.lock:
                m.answers.append((f"{fn.__name__}{args[:1]}", 0, repr(exc)))
            m.bump()

    return run


def _run_morning(api: Api, seed: int) -> Morning:
    m = Morning(api, seed)
    clerk = api.token("clerk1")
    threads = [threading.Thread(target=_guarded(m, _kiosk, n)) for n in range(KIOSKS)]
    threads += [threading.Thread(target=_guarded(m, _window, w, clerk)) for w in WINDOWS]
    threads.append(threading.Thread(target=_guarded(m, _supervisor, clerk)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "the morning did not finish"
    return m


@dataclass
class _T:
    queue: str
    lane: str
    arrived_at: datetime
    status: str = "waiting"
    window: int | None = None
    target_window: int | None = None


Events = list[tuple[int, str, datetime, dict[str, Any]]]


def _replay(events: Events) -> tuple[dict[int, _T], dict[int, int | None], int]:
    """Replay the hall's events; every policy call is checked. Returns the tickets, windows' current tickets,
    and how many calls were checked against the policy."""
    tickets: dict[int, _T] = {}
    streak: dict[int, int] = defaultdict(int)
    current: dict[int, int | None] = {w: None for w in (1, 2, 3, 4, 5)}
    checked = 0

    def release(t: _T, tid: int) -> None:
        if t.window is not None and current.get(t.window) == tid:
            current[t.window] = None

    for seq, kind, at, data in events:
        tid = data.get("id")
        if kind == "ticket.issued":
            assert tid not in tickets, (seq, "issued twice", tid)
            tickets[tid] = _T(data["queue"], data["lane"], at)
            continue
        if tid is None or not kind.startswith("ticket."):
            continue
        t = tickets[tid]
        if kind == "ticket.called":
            w = data["window"]
            if t.status == "held":  # resume at the window that held it
                assert t.window == w and current[w] is None, (seq, "resume at a busy window")
            else:
                assert t.status == "waiting", (seq, f"ticket {tid} called while {t.status}")
                assert current[w] is None, (seq, f"window {w} called {tid} while serving {current[w]}")
                view = policy.WindowView(w, WINDOWS[w], w in STRICT, streak[w])
                waiting = [
                    policy.Candidate(i, x.queue, x.lane, x.arrived_at, x.target_window)
                    for i, x in tickets.items()
                    if x.status == "waiting"
                ]
                chosen = policy.choose(view, waiting, at, RULES)
                assert chosen is not None and chosen.id == tid, (seq, f"window {w} called {tid}, policy says {chosen}")
                streak[w] = policy.next_streak(streak[w], chosen, at)
                checked += 1
            t.status, t.window, t.target_window = "called", w, None
            current[w] = tid
        elif kind == "ticket.recalled":
            assert t.status == "called", (seq, kind, t)
        elif kind == "ticket.serving":
            assert t.status == "called", (seq, kind, t)
            t.status = "serving"
        elif kind in ("ticket.completed", "ticket.no_show", "ticket.cancelled", "ticket.held"):
            assert t.status in ("waiting", "called", "serving", "held"), (seq, kind, t)
            release(t, tid)
            t.status = {"ticket.completed": "done", "ticket.no_show": "no_show", "ticket.held": "held"}.get(
                kind, "cancelled"
            )
        elif kind == "ticket.transferred":
            assert t.status in ("waiting", "called", "serving", "held"), (seq, kind, t)
            assert data["from_queue"] == t.queue, (seq, kind, data, t)
            release(t, tid)
            t.status, t.queue, t.target_window = "waiting", data["queue"], data.get("window")
            t.window = t.target_window
        elif kind == "ticket.rejoined":
            assert t.status == "no_show", (seq, kind, t)
            t.status, t.window, t.arrived_at = "waiting", None, at
        else:
            raise AssertionError(f"unexpected event {kind} at seq {seq}")
    return tickets, current, checked


def _events(api: Api) -> tuple[int, Events]:
    with api.server.ctx.db.read() as s:
        last = s.execute(select(col(Hall.last_seq)).where(col(Hall.code) == HALL)).scalar_one()
        rows = s.execute(
            select(col(Event.seq), col(Event.type), col(Event.at), col(Event.data))
            .where(col(Event.hall_code) == HALL)
            .order_by(col(Event.seq))
        ).all()
    return last, [(seq, kind, at, orjson.loads(data)) for seq, kind, at, data in rows]


@pytest.mark.parametrize("seed", range(20))
def test_busy_morning(api: Api, seed: int) -> None:
    m = _run_morning(api, seed)

    bad = [a for a in m.answers if a[1] not in EXPECTED]
    assert not bad, f"{len(bad)} unexpected answers of {len(m.answers)}, first: {bad[:3]}"
    codes = Counter(status for _, status, _ in m.answers)
    assert codes[201] == KIOSKS * TICKETS_PER_KIOSK

    last, events = _events(api)
    assert [e[0] for e in events] == list(range(1, last + 1)), "event seqs are not gap-free"
    tickets, current, checked = _replay(events)
    assert checked >= KIOSKS * TICKETS_PER_KIOSK // 2
    assert set(m.taken) == set(tickets)
    kinds = Counter(e[1] for e in events)
    assert kinds["ticket.rejoined"] >= 1 and kinds["ticket.transferred"] >= 1

    with api.server.ctx.db.read() as s:
        rows = s.execute(select(Ticket).where(col(Ticket.hall_code) == HALL)).scalars().all()
        stored = {
            t.id: (t.status, t.queue, t.window, t.target_window, t.issue_queue, t.seq, t.number, t.arrived_at)
            for t in rows
        }
    for tid, t in tickets.items():
        status, queue, window, target, *_, arrived = stored[tid]
        assert (status, queue, window, target, arrived) == (t.status, t.queue, t.window, t.target_window, t.arrived_at)
    numbers: dict[str, list[int]] = defaultdict(list)
    for *_, issue_queue, n, number, _ in stored.values():
        numbers[issue_queue].append(n)
        assert number == f"{issue_queue}{n:03d}"
    for q, ns in numbers.items():
        assert sorted(ns) == list(range(1, len(ns) + 1)), f"queue {q} numbers have gaps: {sorted(ns)}"

    board = api.http.get(f"/api/v1/halls/{HALL}/board").json()
    assert board["seq"] == last
    on_board = {w["number"]: (w["current"] or {}).get("id") for w in board["data"]["windows"]}
    assert on_board == current
    waiting = Counter(t.queue for t in tickets.values() if t.status == "waiting")
    assert {q["code"]: q["waiting"] for q in board["data"]["queues"]} == {q: waiting[q] for q in "ABC"}
