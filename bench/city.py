"""A city's day: many halls, tickets with appointments and priority lanes on a morning-peak arrival curve.

The day is planned first (deterministic for a seed): for every hall, arrival times between 08:30 and
17:00 drawn from a half-hourly curve with its peak at 10:00-11:00, a queue, a lane (appointment, military,
special, vip or normal) and a service time. Appointments are booked over HTTP before the day starts
(bookings are made on earlier days in a real hall; this part is timed separately as "prep").

The replay then runs every hall at once, each as one keep-alive connection that works through its own
day in simulated-time order as fast as the server answers: an arrival issues a ticket (or checks in
an appointment) and wakes one idle window that serves its queue; a window calls next, "serves" for the
planned time and completes, then calls again; with nothing waiting it goes idle until woken. The
server decides who is called (priority, appointments, fairness); the driver only follows.

One board per hall (in a separate process) follows the hall's event stream. The **queue lag** of a
change is the time from the moment its HTTP answer reached the driver to the moment the hall's board
received the event (CLOCK_MONOTONIC on one machine); the worst over all ticket events of the day is
reported with p50/p99. Errors are any request that did not answer as the contract says.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers import Conn, login, run_async
from halls import ADMIN, CityShape, city_config, hall_code, kiosk_token, write
from harness import (
    FreshDb,
    RssSampler,
    Server,
    _fair,
    latency_summary,
    machine_busy_s,
    percentile,
    postgres_cpu_s,
    raise_fd_limit,
    server_on_fresh_db,
    wait_quiet,
)
from results_tables import _verdict

# Share of the day's arrivals per half hour from 08:30 to 17:00: a morning peak, a lunch dip, a smaller afternoon.
CURVE = [3, 7, 9, 10, 10, 9, 7, 5, 3, 2, 3, 5, 6, 6, 5, 4, 3]
DAY_START_S = 8.5 * 3600
LANES = [("appointment", 0.10), ("military", 0.015), ("special", 0.02), ("vip", 0.005)]  # the rest: normal
QUEUE_SHARE = [0.35, 0.30, 0.20, 0.15]
MEAN_SERVICE_S = 150.0


@dataclass
class Planned:
    """One citizen of the day."""

    arrive_s: float
    queue: str
    lane: str
    service_s: float
    id_number: str = ""
    code: str = ""  # the appointment's booking code, after prep


def _id_number(rng: random.Random) -> str:
    from queue_server.ids import check_character

    birth = f"{rng.randint(1960, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = f"371002{birth}{rng.randint(0, 999):03d}"
    return first17 + check_character(first17)


def plan_day(shape: CityShape, tickets: int, seed: int = 1) -> dict[str, list[Planned]]:
    """Every hall's citizens in arrival order."""
    rng = random.Random(seed)
    per_hall = [tickets // shape.halls + (i < tickets % shape.halls) for i in range(shape.halls)]
    plan: dict[str, list[Planned]] = {}
    for i, n in enumerate(per_hall):
        people = []
        for _ in range(n):
            slot = rng.choices(range(len(CURVE)), weights=CURVE)[0]
            arrive = DAY_START_S + (slot + rng.random()) * 1800
            r, lane = rng.random(), "normal"
            for name, share in LANES:
                if r < share:
                    lane = name
                    break
                r -= share
            queues = shape.queues[:2] if lane == "appointment" else shape.queues
            queue = rng.choices(queues, weights=QUEUE_SHARE[: len(queues)])[0]
            service = min(1200.0, rng.expovariate(1 / MEAN_SERVICE_S) + 30)
            people.append(Planned(arrive, queue, lane, service, _id_number(rng) if lane == "appointment" else ""))
        people.sort(key=lambda p: p.arrive_s)
        plan[hall_code(i)] = people
    return plan


# ---------------------------------------------------------------------------------------------
# Prep: book the appointments (over HTTP, with the hall's kiosk token)
# ---------------------------------------------------------------------------------------------


async def book_all(port: int, plan: dict[str, list[Planned]], concurrency: int = 16) -> int:
    """Book every appointment of the plan in a slot starting within the next few hours; returns the count."""
    import datetime as dt

    # the first slot starts at a full hour at least 10 minutes away: booking takes a while, and a slot that
    # began meanwhile is refused ("That slot has already begun": a run started at 19:59 booked 20:00 at 20:00)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    first = soon.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    jobs = [(h, p) for h, people in plan.items() for p in people if p.lane == "appointment"]
    it = iter(enumerate(jobs))

    async def worker() -> None:
        c = await Conn(port).open()
        try:
            for k, (hall, p) in it:
                start = first + dt.timedelta(minutes=30 * (k % 6))  # within checkin_early_min (240) of now
                body = {"queue": p.queue, "start": start.isoformat(), "name": "测试", "id_number": p.id_number}
                hdr = {"Content-Type": "application/json", "Authorization": f"Bearer {kiosk_token(hall)}"}
                st, raw = await c.request("POST", f"/api/v1/halls/{hall}/appointments", hdr, json.dumps(body).encode())
                if st != 201:
                    raise RuntimeError(f"booking in {hall}: {st} {raw[:300]!r}")
                p.code = json.loads(raw)["code"]
        finally:
            c.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(jobs)


# ---------------------------------------------------------------------------------------------
# The replay
# ---------------------------------------------------------------------------------------------


@dataclass
class HallRun:
    """What happened in one hall."""

    hall: str
    resp: dict[str, dict[int, float]] = field(default_factory=lambda: {"issued": {}, "called": {}, "completed": {}})
    lat: dict[str, list[float]] = field(default_factory=lambda: {"issue": [], "call-next": [], "complete": []})
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    waits_s: list[float] = field(default_factory=list)  # simulated: call time - arrival time
    calls: int = 0
    empty_calls: int = 0
    finished_at: float = 0.0


async def replay_hall(
    port: int, out: HallRun, people: list[Planned], windows: list[list[str]], admin: str, f9: bool = True
) -> None:
    """One hall's day in simulated-time order, as fast as the server answers; recorded into `out`.

    With `f9` a window ends a citizen the way a clerk does with the console's F9 key (办结并叫下一位):
    one `complete-and-call-next` request; otherwise `complete`, then `call-next`.
    """
    hall = out.hall
    c = await Conn(port).open()
    kiosk = {"Content-Type": "application/json", "Authorization": f"Bearer {kiosk_token(hall)}"}
    staff = {"Content-Type": "application/json", "Authorization": f"Bearer {admin}"}
    calls = {
        w: c.prepare("POST", f"/api/v1/halls/{hall}/windows/{w}/call-next", staff) for w in range(1, 1 + len(windows))
    }
    heap: list[tuple[float, int, str, int]] = [(p.arrive_s, i, "arrive", i) for i, p in enumerate(people)]
    heapq.heapify(heap)
    order = len(people)
    idle = set(calls)
    arrived: dict[int, tuple[float, float]] = {}  # ticket id -> (arrival, service) in simulated seconds
    mono = time.monotonic

    async def send(kind: str, method: str, path: str, hdr: dict[str, str], body: bytes = b"") -> tuple[int, Any, float]:
        t0 = mono()
        st, raw = await c.request(method, path, hdr, body)
        t1 = mono()
        out.lat[kind].append(t1 - t0)
        out.statuses[f"{kind} {st}"] += 1
        return st, (json.loads(raw) if raw and st < 300 else raw), t1

    def serve(t: float, t1: float, w: int, data: Any, order: int) -> int:
        """Window `w` called the ticket in `data` at simulated time `t`: plan its completion."""
        tid = int(data["id"])
        out.calls += 1
        out.resp["called"][tid] = t1
        at, service = arrived.get(tid, (t, MEAN_SERVICE_S))
        out.waits_s.append(t - at)
        heapq.heappush(heap, (t + service, order + 1, "complete", tid * 100 + w))
        return order + 1

    try:
        while heap:
            t, _, what, arg = heapq.heappop(heap)
            if what == "arrive":
                p = people[arg]
                if p.lane == "appointment":
                    st, data, t1 = await send("issue", "POST", f"/api/v1/appointments/{p.code}/check-in", kiosk)
                else:
                    body = json.dumps({"queue": p.queue, "lane": p.lane}).encode()
                    hdr = staff if p.lane == "vip" else kiosk  # the vip lane is assigned by staff
                    st, data, t1 = await send("issue", "POST", f"/api/v1/halls/{hall}/tickets", hdr, body)
                if st != 201:
                    out.errors.append(f"issue {st} {data!r:.200}")
                    continue
                out.resp["issued"][int(data["id"])] = t1
                arrived[int(data["id"])] = (t, p.service_s)
                w = next((w for w in sorted(idle) if data["queue"] in windows[w - 1]), None)
                if w is not None:
                    idle.discard(w)
                    order += 1
                    heapq.heappush(heap, (t, order, "call", w))
            elif what == "call":
                st, data, t1 = await _call(c, calls[arg], out)
                if st == 204:
                    out.empty_calls += 1
                    idle.add(arg)
                    continue
                if st != 200:
                    out.errors.append(f"call-next {arg}: {st} {data!r:.200}")
                    idle.add(arg)
                    continue
                order = serve(t, t1, arg, data, order)
            elif f9:
                tid, w = divmod(arg, 100)
                path = f"/api/v1/halls/{hall}/windows/{w}/complete-and-call-next"
                st, data, t1 = await send("complete", "POST", path, staff, b'{"ticket_id":%d}' % tid)
                if st not in (200, 204):
                    out.errors.append(f"complete-and-call-next {tid}: {st} {data!r:.200}")
                    idle.add(w)
                    continue
                out.resp["completed"][tid] = t1
                if st == 204:
                    out.empty_calls += 1
                    idle.add(w)
                    continue
                order = serve(t, t1, w, data, order)
            else:
                tid, w = divmod(arg, 100)
                st, data, t1 = await send("complete", "POST", f"/api/v1/tickets/{tid}/complete", staff)
                if st != 200:
                    out.errors.append(f"complete {tid}: {st} {data!r:.200}")
                else:
                    out.resp["completed"][tid] = t1
                order += 1
                heapq.heappush(heap, (t, order, "call", w))
    finally:
        out.finished_at = mono()
        c.close()


async def _call(c: Conn, raw_req: bytes, out: HallRun) -> tuple[int, Any, float]:
    t0 = time.monotonic()
    st, raw = await c.send(raw_req)
    t1 = time.monotonic()
    out.lat["call-next"].append(t1 - t0)
    out.statuses[f"call-next {st}"] += 1
    return st, (json.loads(raw) if st == 200 else raw), t1


# ---------------------------------------------------------------------------------------------
# Boards: one websocket per hall in a separate process, every frame timed
# ---------------------------------------------------------------------------------------------


async def _boards(port_of: dict[str, int], out: str) -> None:
    from websockets.asyncio.client import connect

    halls = list(port_of)
    frames: dict[str, list[tuple[float, str]]] = {h: [] for h in halls}
    snaps: dict[str, int] = {}
    final: dict[str, int] = {}
    mono = time.monotonic
    ready = asyncio.Event()

    async def board(hall: str) -> None:
        url = f"ws://127.0.0.1:{port_of[hall]}/ws/halls/{hall}/events"
        async with connect(url, proxy=None, ping_interval=None, open_timeout=60, max_size=None) as ws:
            snaps[hall] = int(json.loads(await ws.recv())["seq"])
            if len(snaps) == len(halls):
                ready.set()
            got = frames[hall]
            while True:
                if hall in final and (not got or _seq(got[-1][1]) >= final[hall]):
                    return
                try:
                    msg = await asyncio.wait_for(ws.recv(), 1.0)
                except TimeoutError:
                    continue
                got.append((mono(), msg))  # type: ignore[arg-type]

    async def control() -> None:
        await ready.wait()
        print("READY", flush=True)
        loop = asyncio.get_running_loop()
        line = await loop.run_in_executor(None, sys.stdin.readline)  # "END hall=seq hall=seq ..."
        for item in line.split()[1:]:
            h, _, seq = item.partition("=")
            final[h] = int(seq)

    await asyncio.wait_for(asyncio.gather(control(), *(board(h) for h in halls)), 3600)
    Path(out).write_text(json.dumps({"snapshots": snaps, "frames": frames}))


def _seq(raw: str) -> int:
    return int(json.loads(raw).get("seq", -1))


def boards_main(args: argparse.Namespace) -> int:
    """(internal) the boards of `city`, in their own process."""
    halls = [item.partition("=") for item in args.halls.split(",")]  # hall=port
    raise_fd_limit(len(halls) + 256)
    run_async(_boards({h: int(p) for h, _, p in halls}, args.out))
    return 0


def queue_lag(runs: list[HallRun], boards: dict[str, Any]) -> dict[str, Any]:
    """Board arrival − HTTP answer for every ticket event; and the boards' seqs gap-free and complete."""
    kinds = {"ticket.issued": "issued", "ticket.called": "called", "ticket.completed": "completed"}
    lags: list[float] = []
    problems: list[str] = []
    seen: Counter[tuple[str, str, int]] = Counter()
    for r in runs:
        got = boards["frames"].get(r.hall, [])
        seqs = []
        for t, raw in got:
            m = json.loads(raw)
            if m["type"] == "heartbeat":
                continue
            seqs.append(m["seq"])
            if m["type"] == "resync":
                problems.append(f"{r.hall}: board told to resync (slow consumer)")
            k = kinds.get(m["type"])
            if k is None:
                continue
            tid = int(m["data"]["id"])
            seen[(r.hall, k, tid)] += 1
            if tid in r.resp[k]:
                lags.append(t - r.resp[k][tid])
        snap = boards["snapshots"].get(r.hall)
        if snap is None or seqs != list(range(snap + 1, snap + 1 + len(seqs))):
            problems.append(f"{r.hall}: board seqs not gap-free from its snapshot")
        missing = sum(1 for k in kinds.values() for tid in r.resp[k] if seen[(r.hall, k, tid)] != 1)
        if missing:
            problems.append(f"{r.hall}: {missing} ticket changes not on the board exactly once")
    return {"latency_ms": latency_summary(lags), "samples": len(lags), "problems": problems}


# ---------------------------------------------------------------------------------------------
# Checks in the database and the whole run
# ---------------------------------------------------------------------------------------------


def check_city(db: FreshDb, plan: dict[str, list[Planned]], partial: bool = False) -> dict[str, Any]:
    """Every planned citizen has one ticket, done, called once; numbers per hall/queue 1..n.

    `partial`: the day was stopped at the time limit, so only what happened is checked (no ticket
    called twice, numbers gap-free); the problems list says the day is incomplete.
    """
    problems: list[str] = ["stopped at the time limit: the day is incomplete"] if partial else []
    with db.cursor() as cur:
        cur.execute("SELECT hall_code, issue_queue, seq, status FROM ticket")
        rows = cur.fetchall()
        cur.execute("SELECT hall_code, data FROM hall_event WHERE type = 'ticket.called'")
        called = Counter((h, int(json.loads(d)["id"])) for h, d in cur.fetchall())
    by_hall = Counter(h for h, *_ in rows)
    for h, people in plan.items():
        if by_hall[h] != len(people) and not partial:
            problems.append(f"{h}: {by_hall[h]} tickets for {len(people)} citizens")
    not_done = Counter(s for *_, s in rows if s != "done")
    if not_done and not partial:
        problems.append(f"tickets not done at the end of the day: {dict(not_done)}")
    twice = [k for k, n in called.items() if n > 1]
    if twice:
        problems.append(f"{len(twice)} tickets called more than once")
    seqs: dict[tuple[str, str], list[int]] = {}
    for h, q, seq, _ in rows:
        seqs.setdefault((h, q), []).append(int(seq))
    gaps = [k for k, v in seqs.items() if sorted(v) != list(range(1, len(v) + 1))]
    if gaps:
        problems.append(f"{len(gaps)} hall queues whose numbers are not 1..n: {gaps[:5]}")
    return {"tickets": len(rows), "called_events": sum(called.values()), "problems": problems}


def bench_city(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """Plan, book, replay, check; one level (one city) per database."""
    shape = CityShape(halls=args.halls, windows=args.windows_per_hall)
    if shape.windows < len(shape.queues):  # window i serves queues i and i+1: fewer windows leave a queue unserved
        raise SystemExit(f"--windows-per-hall must be at least {len(shape.queues)}")
    plan = plan_day(shape, args.tickets, args.seed)
    cfg_dir = Path(tempfile.mkdtemp(prefix="hall-bench-city-"))
    config = write(city_config(shape), cfg_dir / "city.toml")
    windows = [[shape.queues[i % 4], shape.queues[(i + 1) % 4]] for i in range(shape.windows)]
    raise_fd_limit(4096)
    print(
        f"[city/{kind}] {len(plan)} halls, {args.tickets} tickets, {args.workers} server process(es)", file=sys.stderr
    )
    idle_before = wait_quiet(args.wait_quiet)
    affinity = args.affinity and args.workers > 1
    if affinity and kind != "postgresql":
        raise SystemExit("--affinity runs several server processes: PostgreSQL only")
    tag = f"city{args.workers}" + ("a" if affinity else "")
    one = 1 if affinity else args.workers
    with (
        server_on_fresh_db(kind, tag, args.server_env, args.keep, config=config, workers=one) as first,
        _Processes(first, args.workers if affinity else 1, args.server_env, config) as srv,
    ):
        time.sleep(0.5)
        rss_idle = srv.rss_kib()
        port_of = srv.ports_of(list(plan))
        admin = run_async(login(srv.port, ADMIN))
        t0 = time.monotonic()
        booked = run_async(book_all(srv.port, plan))
        prep_s = time.monotonic() - t0
        boards = None
        if args.boards:
            out = cfg_dir / "boards.json"
            cmd = [sys.executable, str(Path(__file__).resolve()), "--out", str(out)]
            halls = ",".join(f"{h}={port_of[h]}" for h in plan)
            boards = subprocess.Popen(
                [*cmd, "--halls", halls], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            assert boards.stdout is not None and boards.stdin is not None
            if boards.stdout.readline().strip() != "READY":
                raise RuntimeError("boards did not connect")
        cpu0, m0, pg0 = srv.cpu(), machine_busy_s(), postgres_cpu_s()
        load_start = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        t1 = time.monotonic()
        with RssSampler(srv, every=1.0) as rss:
            runs = run_async(_replay(port_of, plan, windows, admin, args.time_limit, args.f9))
        wall = time.monotonic() - t1
        server_cpu = 100.0 * (srv.cpu() - cpu0) / wall
        machine_cpu = 100.0 * (machine_busy_s() - m0) / wall
        pg_cpu = 100.0 * _fair(postgres_cpu_s() - pg0) / wall if kind == "postgresql" else 0.0
        lag: dict[str, Any] = {"latency_ms": {}, "samples": 0, "problems": []}
        if boards is not None:
            final = run_async(_final_seqs(srv.port, list(plan)))
            boards.communicate("END " + " ".join(f"{h}={s}" for h, s in final.items()) + "\n", timeout=300)
            lag = queue_lag(runs, json.loads((cfg_dir / "boards.json").read_text()))
        srv.stop()
        if not args.keep:
            shutil.rmtree(cfg_dir, ignore_errors=True)  # the boards' frames are large
        stopped = sum(len(r.resp["completed"]) for r in runs) < args.tickets
        check = check_city(srv.db, plan, partial=stopped)
    errors = [e for r in runs for e in r.errors]
    check["problems"] += lag["problems"]
    if errors:
        check["problems"].append(f"{len(errors)} errors, e.g. {errors[:3]}")
    check["ok"] = not check["problems"]
    waits = sorted(w for r in runs for w in r.waits_s)
    level = {
        "halls": len(plan),
        "clients": len(plan),
        "tickets": args.tickets,
        "tickets_done": sum(len(r.resp["completed"]) for r in runs),
        "stopped_at_limit": stopped,
        "appointments": booked,
        "lanes": dict(Counter(p.lane for people in plan.values() for p in people)),
        "prep_s": prep_s,
        "wall_s": wall,
        "throughput": sum(len(r.resp["completed"]) for r in runs) / wall,
        "requests": sum(sum(r.statuses.values()) for r in runs),
        "empty_calls": sum(r.empty_calls for r in runs),
        "latency_ms": {
            k: latency_summary([x for r in runs for x in r.lat[k]]) for k in ("issue", "call-next", "complete")
        },
        "queue_lag_ms": lag["latency_ms"],
        "queue_lag_samples": lag["samples"],
        "sim_wait_min": {"p50": percentile(waits, 50) / 60, "max": waits[-1] / 60 if waits else 0},
        "errors": len(errors),
        "statuses": dict(sum((r.statuses for r in runs), Counter())),
        "rss_kib": {"idle": rss_idle, "load_max": rss.peak},
        "server_cpu_pct": server_cpu,
        "postgres_cpu_pct": pg_cpu,
        "machine_cpu_pct": machine_cpu,
        "busy_before_pct": idle_before,
        "loadavg_start": load_start,
        "check": check,
    }
    ok = "ok" if check["ok"] else "FAIL " + "; ".join(check["problems"])
    print(f"[city/{kind}] {wall:.0f}s for {args.tickets} tickets, errors {len(errors)}, check: {ok}", file=sys.stderr)
    params = {"workers": args.workers, "affinity": affinity, "seed": args.seed, "boards": args.boards, "f9": args.f9}
    return {"levels": [level], "params": params}


class _Processes:
    """The server of the city: `first` (one process, or `hall serve --workers N`), or with hall affinity
    `first` and n - 1 more `hall serve` processes on the same database, as `hall@` units behind nginx's
    `hash $hall_affinity` (deploy/nginx/hall.conf): each hall's kiosk, windows and board talk to one
    process, the halls dealt out in turn (an even split; nginx's consistent hash is near it)."""

    def __init__(self, first: Server, n: int, env: dict[str, str], config: Path) -> None:
        self.first, self.port = first, first.port
        self.db = first.db
        self.more = [Server(first.db, env, config) for _ in range(n - 1)]

    def __enter__(self) -> _Processes:
        for srv in self.more:
            srv.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def ports_of(self, halls: list[str]) -> dict[str, int]:
        """The port each hall's clients use."""
        ports = [self.first.port, *(s.port for s in self.more)]
        return {h: ports[i % len(ports)] for i, h in enumerate(halls)}

    def cpu(self) -> float:
        return self.first.cpu() + sum(s.cpu() for s in self.more)

    def rss_kib(self) -> int:
        return self.first.rss_kib() + sum(s.rss_kib() for s in self.more)

    def stop(self) -> None:
        for srv in self.more:
            srv.stop()
        self.first.stop()


async def _replay(
    port_of: dict[str, int],
    plan: dict[str, list[Planned]],
    windows: list[list[str]],
    admin: str,
    limit_s: float,
    f9: bool,
) -> list[HallRun]:
    runs = [HallRun(h) for h in plan]
    progress = asyncio.create_task(_progress(runs, sum(len(p) for p in plan.values())))
    tasks = [asyncio.create_task(replay_hall(port_of[r.hall], r, plan[r.hall], windows, admin, f9)) for r in runs]
    try:
        _, late = await asyncio.wait(tasks, timeout=limit_s or None)
        for t in late:  # the time limit: stop where each hall is (the table marks the run as stopped)
            t.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        for t in tasks:
            if not t.cancelled() and t.exception() is not None:
                raise t.exception()  # type: ignore[misc]
    finally:
        progress.cancel()
    return runs


async def _progress(runs: list[HallRun], total: int, every: float = 30.0) -> None:
    """A line on stderr every `every` s: tickets completed so far and the rate."""
    t0 = time.monotonic()
    while True:
        await asyncio.sleep(every)
        done = sum(len(r.resp["completed"]) for r in runs)
        errors = sum(len(r.errors) for r in runs)
        el = time.monotonic() - t0
        print(f"  {el:.0f}s: {done:,} of {total:,} tickets done ({done / el:.0f}/s), {errors} errors", file=sys.stderr)


async def _final_seqs(port: int, halls: list[str]) -> dict[str, int]:
    c = await Conn(port).open()
    try:
        out = {}
        for h in halls:
            st, raw = await c.request("GET", f"/api/v1/halls/{h}/board", {})
            if st != 200:
                raise RuntimeError(f"board of {h}: {st}")
            out[h] = int(json.loads(raw)["seq"])
        return out
    finally:
        c.close()


def city_table(kind: str, data: dict[str, Any]) -> str:
    """The markdown table of a city result."""
    m = data["machine"]
    dirty = " (+ uncommitted server changes)" if m["server_code_dirty"] else ""
    w = data.get("params", {}).get("workers", 1)
    procs = f" · {w} server processes" if w > 1 else ""
    rows = []
    for lv in data["levels"]:
        lat, lag = lv["latency_ms"], lv["queue_lag_ms"] or {}
        nan = float("nan")
        rows.append(
            f"| {lv['halls']} | {_done(lv)} | {lv['appointments']:,} | {lv['wall_s']:.0f} | "
            f"{lv['throughput']:,.0f} | {lv['requests'] / lv['wall_s']:,.0f} | "
            f"{lat['issue'].get('p50', 0):.1f} / {lat['issue'].get('p99', 0):.1f} | "
            f"{lat['call-next'].get('p50', 0):.1f} / {lat['call-next'].get('p99', 0):.1f} | "
            f"{lag.get('p50', nan):.1f} / {lag.get('p99', nan):.1f} / {lag.get('max', nan):.0f} | "
            f"{lv['errors']} | {lv['rss_kib']['idle'] / 1024:.0f} / {lv['rss_kib']['load_max'] / 1024:.0f} | "
            f"{lv['server_cpu_pct']:.0f}% | {lv['loadavg_start']} | {_verdict(lv)} |"
        )
    head = (
        "| halls | tickets | appointments | wall s | tickets/s | requests/s | issue p50/p99 ms | call-next p50/p99 ms "
        "| queue lag p50/p99/max ms | errors | RSS idle/peak MiB | server CPU | load avg | check |"
    )
    sep = "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
    speed = f"; Python loop {m['python_loop_ms']} ms" if m.get("python_loop_ms") else ""
    title = f"**city · {kind}{procs}** — commit `{m['commit']}`{dirty}, {m['date']}{speed}"
    return "\n".join([title, "", head, sep, *rows, ""])


def _done(lv: dict[str, Any]) -> str:
    if lv.get("stopped_at_limit"):
        return f"{lv['tickets_done']:,} of {lv['tickets']:,} (stopped)"
    return f"{lv['tickets']:,}"


def add_parser(sub: Any, common: Any) -> None:
    """The `city` subcommand of run.py."""
    sp = sub.add_parser("city", help="a city's day: many halls replayed as fast as possible")
    common(sp)
    sp.add_argument("--halls", type=int, default=50)
    sp.add_argument("--tickets", type=int, default=150_000, help="citizens of the day over all halls")
    sp.add_argument("--windows-per-hall", type=int, default=20)
    sp.add_argument("--workers", type=int, default=1, help="server processes (`hall serve --workers`, PostgreSQL)")
    sp.add_argument(
        "--affinity",
        action="store_true",
        help="with --workers N (PostgreSQL): N separate processes, each hall's clients on one (nginx's hash)",
    )
    sp.add_argument("--seed", type=int, default=1)
    sp.add_argument("--boards", action=argparse.BooleanOptionalAction, default=True, help="a board per hall")
    sp.add_argument("--time-limit", type=float, default=0, help="stop the replay after this many s (0: none)")
    sp.add_argument(
        "--f9",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="windows end a citizen with complete-and-call-next (the console's F9); --no-f9: complete, then call-next",
    )


if __name__ == "__main__":  # the boards process
    bp = argparse.ArgumentParser()
    bp.add_argument("--halls", required=True, help="hall=port,…: each board's hall and the port it connects to")
    bp.add_argument("--out", required=True)
    sys.exit(boards_main(bp.parse_args()))
