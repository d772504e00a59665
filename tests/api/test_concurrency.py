"""Concurrent kiosks and windows over real HTTP: no duplicate number, no double call, arrival order kept."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from typing import Any

import httpx
import orjson
from sqlalchemy import select
from sqlmodel import col

from queue_server.models import Event, Hall, Ticket, TicketCounter

from ..harness import KIOSK, Api

KIOSKS = 16
TICKETS_PER_KIOSK = 10
QUEUES = ("A", "B", "C")
# window -> (clerk at it, queues it serves per tests/data/hall.toml); clerk2 may only use window 2.
WINDOWS = {1: ("clerk1", {"A", "B"}), 2: ("clerk2", {"B", "A"}), 3: ("clerk1", {"C"}), 4: ("clerk1", {"A", "B", "C"})}
DEADLINE_S = 90.0


def _client(api: Api, who: str) -> httpx.Client:
    return httpx.Client(base_url=api.server.url, timeout=30, headers=api.auth(who))


def _run_threads(targets: list[Any]) -> list[BaseException]:
    """Start every target in its own thread, wait for all; the exceptions they raised."""
    errors: list[BaseException] = []

    def wrap(fn: Any) -> Any:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # reported by the test, not lost in a thread
                errors.append(exc)

        return run

    threads = [threading.Thread(target=wrap(fn), daemon=True) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE_S + 30)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    return errors


def _events(api: Api, hall: str = "t1") -> list[Event]:
    with api.server.ctx.db.read() as s:
        return list(s.execute(select(Event).where(col(Event.hall_code) == hall).order_by(col(Event.seq))).scalars())


def _assert_seq_gap_free(api: Api, hall: str = "t1") -> list[Event]:
    events = _events(api, hall)
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(seqs) + 1)), "event seq of the hall is not 1..N without gaps"
    with api.server.ctx.db.read() as s:
        last_seq = s.execute(select(col(Hall.last_seq)).where(col(Hall.code) == hall)).scalar_one()
    assert last_seq == len(seqs)
    return events


def test_concurrent_kiosks_and_windows(api: Api) -> None:
    issued: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []  # every 200 of call-next, as returned
    unexpected: list[tuple[str, int, str]] = []
    lock = threading.Lock()
    kiosks_left = [KIOSKS]
    completed = [0]
    start = threading.Barrier(KIOSKS + len(WINDOWS))
    deadline = time.monotonic() + DEADLINE_S

    def kiosk(k: int) -> None:
        with _client(api, KIOSK) as c:
            start.wait()
            try:
                for i in range(TICKETS_PER_KIOSK):
                    queue = QUEUES[(k + i) % len(QUEUES)]
                    r = c.post("/api/v1/halls/t1/tickets", json={"queue": queue})
                    with lock:
                        if r.status_code == 201:
                            issued.append(r.json())
                        else:
                            unexpected.append(("issue", r.status_code, r.text))
            finally:
                with lock:
                    kiosks_left[0] -= 1

    def window(number: int) -> None:
        clerk = WINDOWS[number][0]
        with _client(api, clerk) as c:
            start.wait()
            while time.monotonic() < deadline:
                r = c.post(f"/api/v1/halls/t1/windows/{number}/call-next")
                if r.status_code == 204:
                    with lock:
                        if kiosks_left[0] == 0 and completed[0] == len(issued):
                            return
                    time.sleep(0.01)
                    continue
                if r.status_code != 200:
                    with lock:
                        unexpected.append((f"call-next {number}", r.status_code, r.text))
                    return
                t = r.json()
                with lock:
                    calls.append(t | {"_window": number})
                d = c.post(f"/api/v1/tickets/{t['id']}/complete")
                with lock:
                    if d.status_code == 200 and d.json()["status"] == "done":
                        completed[0] += 1
                    else:
                        unexpected.append((f"complete {t['number']}", d.status_code, d.text))
                        return

    errors = _run_threads([lambda k=k: kiosk(k) for k in range(KIOSKS)] + [lambda n=n: window(n) for n in WINDOWS])
    assert not errors, errors
    assert not unexpected, unexpected[:5]
    total = KIOSKS * TICKETS_PER_KIOSK
    assert len(issued) == total

    # Numbers: unique within a queue and exactly 1..n, in arrival order.
    by_queue: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in issued:
        by_queue[t["queue"]].append(t)
    assert set(by_queue) == set(QUEUES)
    for q, tickets in by_queue.items():
        numbers = [t["number"] for t in tickets]
        assert len(set(numbers)) == len(numbers), f"duplicate numbers in {q}: {Counter(numbers).most_common(3)}"
        assert sorted(numbers) == [f"{q}{i:03d}" for i in range(1, len(tickets) + 1)], f"gaps in queue {q}"
        in_number_order = sorted(tickets, key=lambda t: t["number"])
        arrivals = [t["arrived_at"] for t in in_number_order]
        assert arrivals == sorted(arrivals), f"queue {q}: numbers not given in arrival order"
    assert len({t["id"] for t in issued}) == total

    # Calls: every ticket exactly once, by a window that serves its queue.
    called_ids = [t["id"] for t in calls]
    assert len(called_ids) == len(set(called_ids)), f"called twice: {Counter(called_ids).most_common(3)}"
    assert set(called_ids) == {t["id"] for t in issued}
    for t in calls:
        assert t["status"] == "called" and t["window"] == t["_window"]
        assert t["queue"] in WINDOWS[t["_window"]][1], f"window {t['_window']} called {t['number']}"

    # The database agrees: every ticket done, once; counters end at n.
    with api.server.ctx.db.read() as s:
        rows = list(s.execute(select(Ticket).where(col(Ticket.hall_code) == "t1")).scalars())
        counters = {c.queue_code: c.last for c in s.execute(select(TicketCounter)).scalars()}
    assert len(rows) == total
    assert Counter(t.status for t in rows) == {"done": total}
    assert counters == {q: len(ts) for q, ts in by_queue.items()}
    for q in QUEUES:
        assert len({(t.service_day, t.number) for t in rows if t.issue_queue == q}) == len(by_queue[q])

    # The event stream: gap-free, one issue / call / completion per ticket, calls in arrival order per queue.
    events = _assert_seq_gap_free(api)
    kinds: dict[str, Counter[int]] = defaultdict(Counter)
    called_in_commit_order: dict[str, list[int]] = defaultdict(list)
    for e in events:
        data = orjson.loads(e.data)
        if e.type.startswith("ticket."):
            kinds[e.type][data["id"]] += 1
        if e.type == "ticket.called":
            called_in_commit_order[data["queue"]].append(int(data["number"][1:]))
    types = [e.type for e in events]
    last_issue = max(i for i, ty in enumerate(types) if ty == "ticket.issued")
    assert "ticket.called" in types[:last_issue], "windows never called while kiosks were issuing: no concurrency"
    for kind in ("ticket.issued", "ticket.called", "ticket.completed"):
        assert set(kinds[kind].values()) == {1}, f"{kind} more than once for a ticket"
        assert len(kinds[kind]) == total, kind
    for q in QUEUES:
        order = called_in_commit_order[q]
        assert order == sorted(order), f"queue {q} called out of arrival order: {order}"
        assert order == list(range(1, len(by_queue[q]) + 1))
    # Called-at times (taken under the hall lock) agree with the commit order.
    for q in QUEUES:
        seq_called = sorted((t for t in rows if t.queue == q), key=lambda t: t.seq)
        times = [t.called_at for t in seq_called]
        assert all(x is not None for x in times)
        assert times == sorted(times), f"queue {q}: a later number was called before an earlier one"


def _race(api: Api, requests: list[tuple[str, str]]) -> list[httpx.Response]:
    """POST each (who, path) from its own client at the same moment; the responses in the same order."""
    clients = [_client(api, who) for who, _ in requests]
    results: list[httpx.Response | None] = [None] * len(requests)
    barrier = threading.Barrier(len(requests))

    def go(i: int) -> None:
        barrier.wait()
        results[i] = clients[i].post(requests[i][1])

    try:
        for c in clients:  # open the connections first so the requests leave together
            c.get("/healthz")
        errors = _run_threads([lambda i=i: go(i) for i in range(len(requests))])
    finally:
        for c in clients:
            c.close()
    assert not errors, errors
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def test_two_clerks_press_call_next_on_the_same_window(api: Api) -> None:
    rounds = 8
    for _ in range(rounds + 1):
        api.take("B")
    path = "/api/v1/halls/t1/windows/2/call-next"
    for i in range(rounds):
        rs = _race(api, [("clerk1", path), ("clerk2", path)])
        codes = sorted(r.status_code for r in rs)
        assert codes == [200, 409], [(r.status_code, r.text) for r in rs]
        winner = next(r for r in rs if r.status_code == 200).json()
        assert winner["number"] == f"B{i + 1:03d}" and winner["window"] == 2
        with api.server.ctx.db.read() as s:
            at_window = s.execute(select(Ticket).where(col(Ticket.window) == 2, col(Ticket.status) == "called")).all()
        assert len(at_window) == 1
        assert api.act(winner["id"], "complete").status_code == 200
    _assert_seq_gap_free(api)


def test_windows_race_for_the_last_ticket(api: Api) -> None:
    for _ in range(6):
        t = api.take("A")
        rs = _race(
            api,
            [("clerk1", f"/api/v1/halls/t1/windows/{n}/call-next") for n in (1, 4, 5)]
            + [("clerk2", "/api/v1/halls/t1/windows/2/call-next")],
        )
        codes = sorted(r.status_code for r in rs)
        assert codes == [200, 204, 204, 204], [(r.status_code, r.text) for r in rs]
        winner = next(r for r in rs if r.status_code == 200).json()
        assert winner["id"] == t["id"]
        assert api.act(t["id"], "complete", who="clerk2" if winner["window"] == 2 else "clerk1").status_code == 200
    events = _assert_seq_gap_free(api)
    assert sum(e.type == "ticket.called" for e in events) == 6


def test_same_idempotency_key_at_once_gives_one_ticket(api: Api) -> None:
    n = 8
    clients = [_client(api, KIOSK) for _ in range(n)]
    results: list[httpx.Response | None] = [None] * n
    barrier = threading.Barrier(n)

    def go(i: int) -> None:
        barrier.wait()
        results[i] = clients[i].post(
            "/api/v1/halls/t1/tickets", json={"queue": "A"}, headers={"Idempotency-Key": "tap-concurrent-1"}
        )

    try:
        for c in clients:
            c.get("/healthz")
        errors = _run_threads([lambda i=i: go(i) for i in range(n)])
    finally:
        for c in clients:
            c.close()
    assert not errors, errors
    rs = [r for r in results if r is not None]
    codes = Counter(r.status_code for r in rs)
    assert codes == {201: 1, 200: n - 1}, [(r.status_code, r.text) for r in rs]
    assert len({r.json()["id"] for r in rs}) == 1
    assert {r.json()["number"] for r in rs} == {"A001"}
    with api.server.ctx.db.read() as s:
        rows = s.execute(select(Ticket)).scalars().all()
    assert len(rows) == 1 and rows[0].idempotency_key == "tap-concurrent-1"
    assert api.take("A")["number"] == "A002"  # no number was used up by the repeats
    events = _assert_seq_gap_free(api)
    assert [e.type for e in events].count("ticket.issued") == 2
