"""A randomised busy morning over real HTTP, every call replayed against the queue policy.

Kiosks take numbers concurrently (normal and priority lanes; a few cancel theirs) while four windows call
next, start, complete (also 办结并叫下一位), recall, mark no-shows (one rejoins), hold and resume, transfer
the ticket they just called to a queue or a window, and now and then pause (暂停服务) and open again; a
supervisor transfers waiting tickets meanwhile. Each seed is a different morning. Afterwards the hall's event
log is replayed: every `ticket.called` must be the ticket `policy.choose` picks from the tickets waiting at
that point (so nobody is called twice), every event's queue counts and estimated waits must be those of the
replay at that point (waiting tickets; service averages from the replayed completions, the windows open then),
the event seqs and the ticket numbers are gap-free, no answer was a 5xx, and the replayed end state equals
the ticket rows and the board.

Seeds: 20 in the suite (0-19); `HALL_MORNING_SEEDS` picks others, e.g. many of them at low priority:

    HALL_MORNING_SEEDS=0-199 HALL_TEST_DB=postgresql nice -n 19 .venv/bin/pytest tests/api/test_busy_morning.py -q

(seeds and ranges: `7`, `3,17`, `100-149`; tests/api/test_busy_morning_processes.py reads it too). A failing
seed is in the test's id; rerun it alone with `HALL_MORNING_SEEDS=<seed>`. Threads make a seed's morning
differ from run to run in its timing, so a failure found once may need a few runs of its seed.
"""

from __future__ import annotations

import os
import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
from sqlmodel import Session, col, select

from queue_server import policy
from queue_server.estimate import updated_average
from queue_server.models import Event, Hall, Ticket
from queue_server.services.stats import HallLoad

from ..harness import KIOSK, Api, clear_of_midnight

HALL = "t1"
WINDOWS = {1: ("A", "B"), 2: ("B", "A"), 3: ("C",), 4: ("A", "B", "C")}  # tests/data/hall.toml
ALL_WINDOWS = (1, 2, 3, 4, 5)  # the hall's windows (5 serves A; the morning's clerks work at 1-4)
STRICT = {4}
RULES = policy.Rules(max_priority_streak=3)
KIOSKS, TICKETS_PER_KIOSK = 3, 12
SUPERVISOR_TRANSFERS = 6
FINAL = {"done", "no_show", "cancelled", "expired"}
EXPECTED = frozenset(
    {200, 201, 204, 409}
)  # 409: an action that no longer fits (another window or the supervisor was first)
KIOSK_CANCEL = EXPECTED | {403}  # a kiosk may cancel only a waiting ticket: 403 once it is called
SEEDS_ENV = "HALL_MORNING_SEEDS"


def seeds(default: range) -> list[int]:
    """The seeds to run: `HALL_MORNING_SEEDS` (seeds and ranges: "7", "3,17", "100-149"), else `default`."""
    chosen = os.environ.get(SEEDS_ENV, "").strip()
    if not chosen:
        return list(default)
    out: list[int] = []
    for part in chosen.split(","):
        first, _, last = part.strip().partition("-")
        out += range(int(first), int(last or first) + 1)
    return out


class Spread:
    """HTTP clients of the server processes (one or more); each request goes to one of them at random."""

    def __init__(self, urls: list[str], rng: random.Random) -> None:
        self.clients = [httpx.Client(base_url=u, timeout=30) for u in urls]
        self.rng = rng  # a stream of its own: with one process a seed's moves stay what they were

    def pick(self) -> httpx.Client:
        return self.clients[0] if len(self.clients) == 1 else self.rng.choice(self.clients)

    def __enter__(self) -> Spread:
        return self

    def __exit__(self, *exc: object) -> None:
        for c in self.clients:
            c.close()


@dataclass
class Morning:
    """What the clients of one morning share."""

    urls: list[str]  # the server processes the clients spread their requests over
    rng_seed: int
    hall: str = HALL
    kiosk: str = KIOSK  # the hall's kiosk token
    appointments: list[str] = field(default_factory=list)  # booking codes the kiosks check in during the morning
    lock: threading.Lock = field(default_factory=threading.Lock)
    news: threading.Condition = field(default_factory=threading.Condition)
    generation: int = 0  # bumped whenever a ticket may have become callable
    kiosks_left: int = KIOSKS
    helpers_left: int = 1  # the supervisor (and the general desk, where one works); the morning ends at 0
    issuing: int = 0  # requests that must issue a ticket (201): taking a number, checking in
    taken: list[int] = field(default_factory=list)
    answers: list[tuple[str, int, str]] = field(default_factory=list)  # (request, status, body) of every call
    unexpected: list[tuple[str, int, str]] = field(default_factory=list)  # the answers not among the request's
    rejoined: bool = False
    routes: int = 0  # clients made so far (each routes with a random stream of its own)
    served: Counter[str] = field(default_factory=Counter)  # requests per server process (base URL)

    def client(self) -> Spread:
        with self.lock:
            self.routes += 1
            return Spread(self.urls, random.Random(self.rng_seed * 1000 + self.routes))

    def post(
        self,
        http: Spread,
        path: str,
        token: str,
        body: dict[str, Any] | None = None,
        expect: frozenset[int] = EXPECTED,
    ) -> httpx.Response:
        c = http.pick()
        r = c.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        self._answer(f"POST {path} {body or ''}", r, str(c.base_url), expect)
        return r

    def get(self, http: Spread, path: str, token: str) -> httpx.Response:
        c = http.pick()
        r = c.get(path, headers={"Authorization": f"Bearer {token}"})
        self._answer(f"GET {path}", r, str(c.base_url), EXPECTED)
        return r

    def _answer(self, request: str, r: httpx.Response, served_by: str, expect: frozenset[int]) -> None:
        answer = (request, r.status_code, r.text[:300])
        with self.lock:
            self.answers.append(answer)
            self.served[served_by] += 1
            if r.status_code not in expect:
                self.unexpected.append(answer)

    def issue(self, http: Spread, path: str, token: str, body: dict[str, Any] | None = None) -> httpx.Response:
        """A request that must issue a ticket (201); the ticket is one of the morning's."""
        with self.lock:
            self.issuing += 1
        r = self.post(http, path, token, body)
        if r.status_code == 201:
            with self.lock:
                self.taken.append(r.json()["id"])
        self.bump()
        return r

    def bump(self) -> None:
        with self.news:
            self.generation += 1
            self.news.notify_all()

    def quiet(self) -> bool:
        return self.kiosks_left == 0 and self.helpers_left == 0

    def helper_done(self) -> None:
        with self.news:
            self.helpers_left -= 1
            self.news.notify_all()


def _kiosk(m: Morning, n: int) -> None:
    rng = random.Random(m.rng_seed * 100 + n)
    mine: list[int] = []
    with m.client() as http:
        try:
            for _ in range(TICKETS_PER_KIOSK):
                lane = rng.choices(["normal", "military", "special"], [8, 1, 1])[0]
                body = {"queue": rng.choice("AABBC"), "lane": lane}
                r = m.issue(http, f"/api/v1/halls/{m.hall}/tickets", m.kiosk, body)
                if r.status_code == 201:
                    mine.append(r.json()["id"])
                if rng.random() < 0.1:  # a citizen gives up: cancels at the kiosk (409 once called)
                    m.post(http, f"/api/v1/tickets/{rng.choice(mine)}/cancel", m.kiosk, expect=KIOSK_CANCEL)
                with m.lock:
                    code = m.appointments.pop() if m.appointments and rng.random() < 0.3 else None
                if code is not None:  # an appointment's holder checks in (签到) at this kiosk
                    m.issue(http, f"/api/v1/appointments/{code}/check-in", m.kiosk)
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
            m.helper_done()


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
            if rng.random() < 0.05:  # a break (暂停服务): the window's queues lose its capacity meanwhile
                status = f"/api/v1/halls/{m.hall}/windows/{number}/status"
                if m.post(http, status, token, {"status": "paused", "reason": "休息"}).status_code == 200:
                    m.post(http, status, token, {"status": "open"})
                continue
            if held and rng.random() < 0.5:
                tid = held.pop(rng.randrange(len(held)))
                if m.post(http, f"/api/v1/tickets/{tid}/resume", token).status_code == 200:
                    current = (tid, "called")
                continue
            r = m.post(http, f"/api/v1/halls/{m.hall}/windows/{number}/call-next", token)
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
    m: Morning, http: Spread, rng: random.Random, number: int, token: str, now: tuple[int, str], held: list[int]
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
    if status == "called" and not m.rejoined:
        # Every morning has a no-show that rejoins (asserted at the end): a seed whose draws gave none
        # (seed 231 on SQLite, once in ~500 seeds: threads decide who gets which draw) proved nothing there.
        kind = "no-show"
    path = f"/api/v1/tickets/{tid}"
    if kind == "f9":
        r = m.post(http, f"/api/v1/halls/{m.hall}/windows/{number}/complete-and-call-next", token, {"ticket_id": tid})
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
                m.unexpected.append(m.answers[-1])
            m.bump()

    return run


def run_morning(m: Morning, clerk: str, *helpers: Callable[[], None]) -> Morning:
    """Run the morning's kiosks, windows 1-4 and supervisor (and `helpers`, each counted in `m.helpers_left`)."""
    threads = [threading.Thread(target=_guarded(m, _kiosk, n)) for n in range(KIOSKS)]
    threads += [threading.Thread(target=_guarded(m, _window, w, clerk)) for w in WINDOWS]
    threads.append(threading.Thread(target=_guarded(m, _supervisor, clerk)))
    threads += [threading.Thread(target=h) for h in helpers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "the morning did not finish"
    return m


@dataclass
class _T:
    queue: str
    lane: str
    arrived_at: datetime
    slot_start: datetime | None = None
    status: str = "waiting"
    window: int | None = None
    target_window: int | None = None
    called_at: datetime | None = None
    serving_at: datetime | None = None


Events = list[tuple[int, str, datetime, dict[str, Any]]]


@dataclass
class Replayed:
    """The hall as the replay of its events leaves it."""

    tickets: dict[int, _T]
    current: dict[int, int | None]  # each window's ticket
    checked: int  # calls checked against the policy
    counted: int  # queue counts of events checked against the replay's waiting tickets (and estimates)


def _replay(events: Events, slots: dict[int, datetime | None] | None = None, load: HallLoad | None = None) -> Replayed:
    """Replay the hall's events; every policy call and every event's queue counts are checked.

    `slots`: the appointment tickets' slot starts by ticket id (events do not carry them; the rows do).
    `load`: the hall's service averages and windows before the first event: each event's estimated waits are
    then checked too (the averages follow the replayed completions: `estimate.updated_average`)."""
    tickets: dict[int, _T] = {}
    streak: dict[int, int] = defaultdict(int)
    current: dict[int, int | None] = dict.fromkeys(ALL_WINDOWS)
    checked = counted = 0
    now_load = None if load is None else HallLoad(dict(load.avg), list(load.windows))

    def release(t: _T, tid: int) -> None:
        if t.window is not None and current.get(t.window) == tid:
            current[t.window] = None

    def check_counts(seq: int, kind: str, queues: list[dict[str, Any]]) -> None:
        """The counts an event carries (boards show them): those of the hall after it."""
        nonlocal counted
        waiting_now = Counter(x.queue for x in tickets.values() if x.status == "waiting")
        shown = {q["code"]: q["waiting"] for q in queues}
        assert shown == {q: waiting_now[q] for q in shown}, (seq, kind, f"counts {shown}, waiting {waiting_now}")
        if now_load is not None:  # to a second: the windows' capacity may be summed in another order
            for q in queues:
                want = now_load.estimate(q["code"], waiting_now[q["code"]])
                assert abs(q["estimated_wait_s"] - want) <= 1, (seq, kind, q, f"estimate {want}", now_load.avg)
        counted += 1

    for seq, kind, at, data in events:
        tid = data.get("id")
        if kind == "window.status":  # its queues' capacity changes (the test halls' windows serve other queues)
            if now_load is not None:
                served, up = tuple(data["queues"]), data["status"] == "open"
                now_load.windows = [(qs, up if qs == served else was) for qs, was in now_load.windows]
            continue
        if kind == "queue.stats":
            check_counts(seq, kind, data["queues"])
            continue
        if kind == "ticket.issued":
            assert tid not in tickets, (seq, "issued twice", tid)
            tickets[tid] = _T(data["queue"], data["lane"], at, (slots or {}).get(tid))
        elif tid is None or not kind.startswith("ticket."):
            continue
        t = tickets[tid]
        if kind == "ticket.issued":
            pass
        elif kind == "ticket.called":
            w = data["window"]
            if t.status == "held":  # resume at the window that held it
                assert t.window == w and current[w] is None, (seq, "resume at a busy window")
            else:
                assert t.status == "waiting", (seq, f"ticket {tid} called while {t.status}")
                assert current[w] is None, (seq, f"window {w} called {tid} while serving {current[w]}")
                view = policy.WindowView(w, WINDOWS[w], w in STRICT, streak[w])
                waiting = [
                    policy.Candidate(i, x.queue, x.lane, x.arrived_at, x.target_window, x.slot_start)
                    for i, x in tickets.items()
                    if x.status == "waiting"
                ]
                chosen = policy.choose(view, waiting, at, RULES)
                assert chosen is not None and chosen.id == tid, (seq, f"window {w} called {tid}, policy says {chosen}")
                streak[w] = policy.next_streak(streak[w], chosen, at)
                checked += 1
            t.status, t.window, t.target_window, t.called_at = "called", w, None, at
            current[w] = tid
        elif kind == "ticket.recalled":
            assert t.status == "called", (seq, kind, t)
            t.called_at = at
        elif kind == "ticket.serving":
            assert t.status == "called", (seq, kind, t)
            t.status, t.serving_at = "serving", at
        elif kind in ("ticket.completed", "ticket.no_show", "ticket.cancelled", "ticket.held"):
            assert t.status in ("waiting", "called", "serving", "held"), (seq, kind, t)
            release(t, tid)
            began = t.serving_at or t.called_at
            if kind == "ticket.completed" and now_load is not None and began is not None:
                avg = now_load.avg[t.queue]
                now_load.avg[t.queue] = updated_average(avg, (at - began).total_seconds())
            t.status = {"ticket.completed": "done", "ticket.no_show": "no_show", "ticket.held": "held"}.get(
                kind, "cancelled"
            )
        elif kind == "ticket.transferred":
            assert t.status in ("waiting", "called", "serving", "held"), (seq, kind, t)
            assert data["from_queue"] == t.queue, (seq, kind, data, t)
            release(t, tid)
            t.status, t.queue, t.target_window = "waiting", data["queue"], data.get("window")
            t.window, t.called_at, t.serving_at = t.target_window, None, None
        elif kind == "ticket.rejoined":
            assert t.status == "no_show", (seq, kind, t)
            t.status, t.window, t.arrived_at, t.called_at = "waiting", None, at, None
        else:
            raise AssertionError(f"unexpected event {kind} at seq {seq}")
        if "queues" in data:
            check_counts(seq, kind, data["queues"])
    return Replayed(tickets, current, checked, counted)


def events_of(s: Session, hall: str) -> tuple[int, Events]:
    """The hall's last seq and its events in seq order."""
    last = s.execute(select(col(Hall.last_seq)).where(col(Hall.code) == hall)).scalar_one()
    rows = s.execute(
        select(col(Event.seq), col(Event.type), col(Event.at), col(Event.data))
        .where(col(Event.hall_code) == hall)
        .order_by(col(Event.seq))
    ).all()
    return last, [(seq, kind, at, orjson.loads(data)) for seq, kind, at, data in rows]


def check_morning(m: Morning, s: Session, load: HallLoad | None = None) -> tuple[int, Replayed]:
    """The checks of every morning, on one database session: no unexpected answer, every ticket issued once
    and stored as the replay leaves it, event seqs and numbers per queue gap-free (`load`: the hall's before
    the morning, see `_replay`). Returns the last seq and the replay."""
    bad = m.unexpected
    assert not bad, f"{len(bad)} unexpected answers of {len(m.answers)}, first: {bad[:3]}"
    assert len(m.taken) == m.issuing, "a request that must issue a ticket did not"
    assert len(set(m.taken)) == len(m.taken), "one ticket issued to two requests"

    rows = s.execute(select(Ticket).where(col(Ticket.hall_code) == m.hall)).scalars().all()
    stored = {
        t.id: (t.status, t.queue, t.window, t.target_window, t.issue_queue, t.seq, t.number, t.arrived_at, t.slot_start)
        for t in rows
    }
    last, events = events_of(s, m.hall)
    assert [e[0] for e in events] == list(range(1, last + 1)), "event seqs are not gap-free"
    r = _replay(events, {tid: row[-1] for tid, row in stored.items()}, load)
    assert r.checked >= KIOSKS * TICKETS_PER_KIOSK // 2
    assert set(m.taken) == set(r.tickets) == set(stored), "tickets lost or not answered"
    kinds = Counter(e[1] for e in events)
    assert kinds["ticket.rejoined"] >= 1 and kinds["ticket.transferred"] >= 1

    for tid, t in r.tickets.items():
        status, queue, window, target, *_, arrived, _slot = stored[tid]
        assert (status, queue, window, target, arrived) == (t.status, t.queue, t.window, t.target_window, t.arrived_at)
    numbers: dict[str, list[int]] = defaultdict(list)
    for *_, issue_queue, n, number, _, _ in stored.values():
        numbers[issue_queue].append(n)
        assert number == f"{issue_queue}{n:03d}"
    for q, ns in numbers.items():
        assert sorted(ns) == list(range(1, len(ns) + 1)), f"queue {q} numbers have gaps: {sorted(ns)}"
    return last, r


def check_board(board: dict[str, Any], last: int, r: Replayed) -> None:
    """A board state (`GET …/board`, a snapshot) shows the replayed end: windows' tickets and waiting counts."""
    assert board["seq"] == last
    on_board = {w["number"]: (w["current"] or {}).get("id") for w in board["data"]["windows"]}
    assert on_board == r.current
    waiting = Counter(t.queue for t in r.tickets.values() if t.status == "waiting")
    assert {q["code"]: q["waiting"] for q in board["data"]["queues"]} == {q: waiting[q] for q in "ABC"}


@pytest.mark.parametrize("seed", seeds(range(20)))
def test_busy_morning(api: Api, seed: int) -> None:
    clear_of_midnight(ZoneInfo("Asia/Shanghai"))  # t1's: a morning across it would span two service days
    with api.server.ctx.db.read() as s:
        load = HallLoad.read(s.connection(), HALL)
    m = run_morning(Morning([api.server.url], seed), api.token("clerk1"))
    assert Counter(status for _, status, _ in m.answers)[201] == KIOSKS * TICKETS_PER_KIOSK
    with api.server.ctx.db.read() as s:
        last, r = check_morning(m, s, load)
    check_board(api.http.get(f"/api/v1/halls/{HALL}/board").json(), last, r)
