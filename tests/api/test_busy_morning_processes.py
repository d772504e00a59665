"""A randomised busy morning served by two server processes on one PostgreSQL database, replayed against the policy.

Two `hall serve` processes (each its own writer lanes, hub and listener; one secret, one database) serve the same
hall, told they are workers 0 and 1 of 2 as `hall serve --workers 2` tells its own: a take-a-number received by
the process that does not own the hall is forwarded to the owner (queue_server/forward.py).
Every request of the morning goes to one of them at random: kiosks take numbers (a few cancel theirs) and
check appointments in (签到); windows 1-4 call next, recall, start, finish (also 办结并叫下一位), hold and resume,
mark no-shows and transfer; a supervisor transfers waiting tickets; the general desk issues tickets (VIP too),
checks appointments in, rejoins missed tickets from its list and reads its lists. Half of the appointments have
begun (lane `appointment` called before ordinary tickets), half have not. Two boards follow the hall on each
process, one from the start (snapshot) and one joining mid-morning from seq 0 (replay, then live).

Afterwards the hall's event log is replayed (tests/api/test_busy_morning.py's checks): no unexpected answer (no
5xx), every ticket issued once and stored as the replay leaves it, ticket numbers per queue 1..n, every call the
one `policy.choose` picks from the tickets waiting then (so no ticket is called twice at once), every event's
queue counts and estimated waits those of the replay at that point (what a batch takes over from the hall row
after the other process's commit, migration 0024), event seqs gap-free; every board's seqs gap-free up to the
last, each process's board state the replayed end; the waiting counts stored on the hall row equal a COUNT of
the waiting tickets after a closing ticket from each process in turn; nothing logged at ERROR by either process.

Each seed's morning runs on a hall of its own (m<seed>) of the same two processes, started once per module.
PostgreSQL only (SQLite is served by one process per file). Seeds: 3 in the suite; many with

    HALL_MORNING_SEEDS=0-99 nice -n 19 .venv/bin/pytest tests/api/test_busy_morning_processes.py -q
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import create_engine, func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from websockets.sync.client import connect

from queue_server.ids import make_id_number
from queue_server.models import Appointment, Hall, Ticket
from queue_server.services.stats import HallLoad
from queue_server.timeutil import utcnow

from ..conftest import require_backend
from ..harness import PASSWORDS, SECRET, free_port, fresh_database, noon_zone
from ..test_cli import HALL, env
from .test_busy_morning import Morning, Replayed, Spread, check_board, check_morning, run_morning, seeds

SEEDS = seeds(range(3))
ZONE = noon_zone()  # the halls' local time is about noon: a long run of seeds stays in one service day
APPOINTMENTS = 6  # booked before the morning, per hall: half of them have begun
DESK_ROUNDS = 8
PROCESSES = 2

HALL_TOML = """
[[halls]]
code = "{code}"
name = "并发测试中心{code}"
name_en = "Concurrency Centre {code}"
timezone = "{zone}"
case_prefix = "{prefix}"
national_holidays = false
max_priority_streak = 3

  [[halls.queues]]
  code = "A"
  name = "市场准入"
  name_en = "Market access"
  slot_capacity = 10

  [[halls.queues]]
  code = "B"
  name = "投资建设"
  name_en = "Investment & construction"
  slot_capacity = 10

  [[halls.queues]]
  code = "C"
  name = "社会事务"
  name_en = "Social affairs"
  default_service_s = 120

  [[halls.windows]]
  number = 1
  queues = ["A", "B"]

  [[halls.windows]]
  number = 2
  queues = ["B", "A"]

  [[halls.windows]]
  number = 3
  queues = ["C"]

  [[halls.windows]]
  number = 4
  queues = ["A", "B", "C"]
  strict_order = true

  [[halls.windows]]
  number = 5
  queues = ["A"]
"""
DEVICE_TOML = """
[[devices]]
name = "kiosk-{code}"
role = "kiosk"
hall = "{code}"
token = "{token}"
"""


def hall_of(seed: int) -> str:
    return f"m{seed}"


def kiosk_of(hall: str) -> str:
    return f"kiosk-{hall}-token-0123456789"


def config_text(halls: list[str]) -> str:
    """Halls laid out like tests/data/hall.toml's t1 (the replay's windows), with appointments in A and B."""
    parts = ['[server]\ndemo = true\n\n[[users]]\nusername = "admin"\npassword = "admin-pass"\nrole = "admin"\n']
    parts += [
        HALL_TOML.replace("{code}", h).replace("{zone}", ZONE).replace("{prefix}", str(100 + i % 900))
        for i, h in enumerate(halls)  # case numbers' prefixes: derived from the codes, a few of 100 halls clash
    ]
    parts += [DEVICE_TOML.replace("{code}", h).replace("{token}", kiosk_of(h)) for h in halls]
    return "".join(parts)


@dataclass
class Process:
    """One `hall serve` process; its output goes to a file (a pipe nobody reads would stop it when full)."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    seen: int = 0  # bytes of the log already looked at

    def new_errors(self) -> list[str]:
        """Lines logged at ERROR (or tracebacks) since the last look."""
        text = self.log.read_bytes()
        fresh, self.seen = text[self.seen :].decode(errors="replace"), len(text)
        return [line for line in fresh.splitlines() if "ERROR" in line or "Traceback" in line]


@dataclass
class Pair:
    processes: list[Process]
    engine: Engine
    admin: str  # a bearer token (any process accepts it: one secret)

    @property
    def urls(self) -> list[str]:
        return [p.url for p in self.processes]


def _worker(n: int) -> dict[str, str]:
    """Worker `n` of `PROCESSES`, as `hall serve --workers` tells its processes: each hall's take-a-number is then
    written by its owner (queue_server/forward.py) whichever process receives it; HALL_MORNING_FORWARD=0: not."""
    forward = os.environ.get("HALL_MORNING_FORWARD", "1")
    return {"HALL_WORKER": str(n), "HALL_WORKERS": str(PROCESSES), "HALL_FORWARD": forward}


def _start(tmp: Path, cfg: Path, url: str, n: int) -> Process:
    port = free_port()
    log = tmp / f"serve-{n}.log"
    cmd = [HALL, "serve", "--config", str(cfg), "--port", str(port), "--no-migrate"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=tmp,
            env=env(tmp, HALL_DATABASE_URL=url, HALL_SECRET_KEY=SECRET, **_worker(n)),
            stdout=out,
            stderr=out,
        )
    p = Process(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + 180  # a loaded machine starts slowly; not a speed test
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(errors="replace")
        try:
            if httpx.get(f"{p.url}/healthz", timeout=1).status_code == 200:
                return p
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise AssertionError(f"hall serve did not answer /healthz: {log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """Two server processes on one PostgreSQL database, with a hall for each seed of the run."""
    require_backend("postgresql")
    tmp = tmp_path_factory.mktemp("mornings")
    url = fresh_database("postgresql", tmp, name="mornings")
    cfg = tmp / "hall.toml"
    cfg.write_text(config_text([hall_of(s) for s in SEEDS]), encoding="utf-8")
    processes: list[Process] = []
    engine = create_engine(url)
    try:
        for n in range(PROCESSES):  # one after the other: the first syncs the configuration into the database
            processes.append(_start(tmp, cfg, url, n))
        r = httpx.post(
            f"{processes[0].url}/api/v1/auth/token", data={"username": "admin", "password": PASSWORDS["admin"]}
        )
        assert r.status_code == 200, r.text
        yield Pair(processes, engine, r.json()["access_token"])
    finally:
        for p in processes:
            p.proc.terminate()
        for p in processes:
            p.proc.wait(timeout=30)
        engine.dispose()


class Board(threading.Thread):
    """A board on one process: from a snapshot (`since` None) or replaying from `since`; it records each frame's
    (type, seq) and, told to resync (a slow consumer: the server closes), reconnects with `since` as the contract
    says."""

    def __init__(self, url: str, hall: str, since: int | None = None) -> None:
        super().__init__(daemon=True)
        self.base = url.replace("http://", "ws://") + f"/ws/halls/{hall}/events"
        self.since = since
        self.frames: list[tuple[str, int]] = []
        self.pos: int | None = since  # the seq the board has reached
        self.broken: list[str] = []  # gaps and disorder, as found
        self.until: int | None = None  # stop once this seq is reached
        self.ready = threading.Event()
        self.error: BaseException | None = None

    def _done(self) -> bool:
        return self.until is not None and self.pos is not None and self.pos >= self.until

    def run(self) -> None:
        url = self.base if self.since is None else f"{self.base}?since={self.since}"
        try:
            while not self._done():
                with connect(url, open_timeout=30) as ws:
                    self.ready.set()
                    while not self._done():
                        try:
                            msg = json.loads(ws.recv(timeout=0.5))
                        except TimeoutError:
                            continue
                        self._frame(msg["type"], msg["seq"])
                        if msg["type"] == "resync":
                            break
                url = f"{self.base}?since={self.pos}" if self.pos is not None else self.base
        except BaseException as exc:
            self.error = exc
            self.ready.set()

    def _frame(self, kind: str, seq: int) -> None:
        self.frames.append((kind, seq))
        if kind in ("heartbeat", "resync"):
            return
        if kind == "snapshot":
            if self.pos is not None and seq < self.pos:
                self.broken.append(f"snapshot at {seq} after {self.pos}")
            self.pos = seq
        elif self.pos is None or seq != self.pos + 1:
            self.broken.append(f"{kind} at {seq} after {self.pos}")
            self.pos = max(seq, self.pos or 0)
        else:
            self.pos = seq

    def finish(self, last: int, timeout: float = 30) -> None:
        """Wait until the board has seen seq `last`; gap-free and in order up to it."""
        self.until = last
        self.join(timeout)
        where = f"board {self.base} (since {self.since})"
        assert self.error is None, f"{where}: {self.error!r}"
        assert not self.is_alive(), f"{where} reached {self.pos} of {last} (last frames {self.frames[-5:]})"
        assert not self.broken, f"{where}: {self.broken[:5]}"
        assert self.pos == last


def _book(pair: Pair, hall: str) -> list[str]:
    """Appointments booked before the morning at the first slot still to come; half are moved to have begun two
    minutes ago (the hall's appointment lane then goes before ordinary tickets). Their booking codes."""
    kiosk = {"Authorization": f"Bearer {kiosk_of(hall)}"}
    now = datetime.now(ZoneInfo(ZONE))
    with httpx.Client(base_url=pair.urls[0], timeout=30) as http:
        slots = [  # the first slot to come (tomorrow's first, should the run reach 23:30)
            s
            for day in (now.date(), now.date() + timedelta(days=1))
            for s in http.get(f"/api/v1/halls/{hall}/slots", params={"queue": "A", "date": str(day)}).json()
        ]
        start = next(s["start"] for s in slots if datetime.fromisoformat(s["start"]) > now)  # A and B: same slots
        codes = []
        for i in range(APPOINTMENTS):
            queue = "AB"[i % 2]
            body = {"queue": queue, "start": start, "name": "预约人", "id_number": make_id_number(serial=i)}
            r = http.post(f"/api/v1/halls/{hall}/appointments", json=body, headers=kiosk)
            assert r.status_code == 201, r.text
            codes.append(r.json()["code"])
    begun = codes[: APPOINTMENTS // 2]
    with Session(pair.engine) as s:
        s.execute(
            update(Appointment)
            .where(col(Appointment.code).in_(begun))
            .values(slot_start=utcnow() - timedelta(minutes=2))
        )
        s.commit()
    return codes


def _desk(m: Morning, token: str) -> None:
    """The general desk: issues tickets (VIP too), checks appointments in, rejoins missed tickets from its list."""
    rng = random.Random(m.rng_seed * 100 + 98)
    with m.client() as http:
        try:
            for _ in range(DESK_ROUNDS):
                with m.news:
                    target = m.generation + 3
                    m.news.wait_for(lambda t=target: m.generation >= t or m.kiosks_left == 0, timeout=10)
                kind = rng.choice(["issue", "check-in", "rejoin", "rejoin", "look"])
                with m.lock:
                    code = m.appointments.pop() if kind == "check-in" and m.appointments else None
                if kind == "issue":
                    lane = rng.choice(["vip", "normal", "special"])
                    m.issue(http, f"/api/v1/halls/{m.hall}/tickets", token, {"queue": rng.choice("ABC"), "lane": lane})
                elif code is not None:
                    m.issue(http, f"/api/v1/appointments/{code}/check-in", token)
                elif kind == "rejoin":
                    r = m.get(http, f"/api/v1/halls/{m.hall}/desk/no-shows", token)
                    missed = [x["id"] for x in r.json() if x["rejoin_refusal"] is None] if r.status_code == 200 else []
                    if (
                        missed
                        and m.post(http, f"/api/v1/tickets/{rng.choice(missed)}/rejoin", token).status_code == 200
                    ):
                        m.bump()
                else:
                    m.get(http, f"/api/v1/halls/{m.hall}/desk/appointments", token)
        finally:
            m.helper_done()


def _late_boards(m: Morning, boards: list[Board]) -> None:
    """Boards that join mid-morning, replaying from seq 0 and then following live."""
    with m.news:
        m.news.wait_for(lambda: m.generation >= 20 or m.quiet(), timeout=60)
    for b in boards:
        b.start()


@dataclass
class Stamps:
    stamped: int = 0
    unstamped_after: list[str] = field(default_factory=list)


def _closing_tickets(pair: Pair, m: Morning) -> Stamps:
    """A ticket from each process in turn after the morning; after each, the hall row's waiting counts (when
    stamped with its last seq, as an issue leaves them) equal a COUNT of the waiting tickets."""
    found = Stamps()
    for p in [*pair.processes, pair.processes[0]]:
        with Spread([p.url], random.Random(0)) as one:
            r = m.issue(one, f"/api/v1/halls/{m.hall}/tickets", m.kiosk, {"queue": "A"})
        assert r.status_code == 201, r.text
        with Session(pair.engine) as s:
            last, wseq, stored = s.execute(
                select(col(Hall.last_seq), col(Hall.waiting_seq), col(Hall.waiting_counts)).where(
                    col(Hall.code) == m.hall
                )
            ).one()
            counted = dict(
                s.execute(
                    select(col(Ticket.queue), func.count())
                    .where(col(Ticket.hall_code) == m.hall, col(Ticket.status) == "waiting")
                    .group_by(col(Ticket.queue))
                ).all()
            )
            if wseq == last:
                counts = {q: n for q, n in json.loads(stored).items() if n}
                assert counts == counted, f"hall row counts {counts} at seq {last}, waiting tickets {counted}"
                found.stamped += 1
            else:  # something else committed after the issue (day-end housekeeping): it does not keep counts
                found.unstamped_after.append(f"seq {last}, counts of {wseq}")
    return found


def _board_state(url: str, hall: str, last: int) -> dict[str, Any]:
    """The process's board state once it has heard the last event (its listener may be a moment behind)."""
    deadline = time.monotonic() + 20
    while True:
        board = httpx.get(f"{url}/api/v1/halls/{hall}/board", timeout=30).json()
        if board["seq"] >= last or time.monotonic() > deadline:
            return dict(board)
        time.sleep(0.1)


@pytest.mark.parametrize("seed", SEEDS)
def test_busy_morning_over_two_processes(pair: Pair, seed: int) -> None:
    hall = hall_of(seed)
    codes = _book(pair, hall)
    with Session(pair.engine) as s:
        load = HallLoad.read(s.connection(), hall)
    m = Morning(pair.urls, seed, hall=hall, kiosk=kiosk_of(hall), appointments=list(codes), helpers_left=2)
    boards = [Board(url, hall) for url in pair.urls]
    for b in boards:
        b.start()
    for b in boards:
        assert b.ready.wait(30) and b.error is None, b.error
    late = [Board(url, hall, since=0) for url in pair.urls]
    starter = threading.Thread(target=_late_boards, args=(m, late))
    starter.start()
    run_morning(m, pair.admin, lambda: _desk(m, pair.admin))
    starter.join(60)
    stamps = _closing_tickets(pair, m)

    with Session(pair.engine) as s:
        last, replayed = check_morning(m, s, load)
    _check_appointments(replayed, codes, pair)
    for b in boards + late:
        b.finish(last)
    for p in pair.processes:
        check_board(_board_state(p.url, hall, last), last, replayed)
    assert stamps.stamped >= 1, f"the hall row's waiting counts were never stamped: {stamps.unstamped_after}"
    errors = {p.url: p.new_errors() for p in pair.processes}
    assert not any(errors.values()), errors
    total = sum(m.served.values())
    assert all(m.served[url] > total // 5 for url in pair.urls), m.served  # both processes served the morning


def _check_appointments(r: Replayed, codes: list[str], pair: Pair) -> None:
    """The appointments checked in became tickets of lane `appointment`; those that had begun are appointment
    class at their call (the replay checked each call with their slot starts)."""
    with Session(pair.engine) as s:
        rows = s.execute(
            select(col(Appointment.code), col(Appointment.status), col(Appointment.ticket_id)).where(
                col(Appointment.code).in_(codes)
            )
        ).all()
    checked_in = [tid for _, status, tid in rows if status == "checked_in"]
    assert all(tid in r.tickets and r.tickets[tid].lane == "appointment" for tid in checked_in), rows
