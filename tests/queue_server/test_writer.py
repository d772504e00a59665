"""The group-commit writer and its contract (writer.py, `BatchWriter.submit`): a failing change in a batch
is undone alone, a job that raises anything or returns an ORM instance fails only its own request, and a
request the writer cannot answer in time gets 503."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlmodel import col, select

from queue_server.app import build_context, prepare
from queue_server.context import HallContext
from queue_server.errors import Unavailable
from queue_server.models import Event, Hall, Ticket
from queue_server.services import issuing as svc
from queue_server.services.tx import HallTx
from queue_server.writer import BatchWriter, ContractBroken

from ..harness import KIOSK, fresh_database, runtime, serving


@pytest.fixture
def ctx(tmp_db: str, tmp_path: Path) -> Iterator[HallContext]:
    c = build_context(runtime(tmp_db, tmp_path / "var"))
    prepare(c, migrate=False)
    assert c.writer is not None
    yield c
    c.close()


class Boom(Exception):
    pass


def test_failed_change_is_undone_alone(ctx: HallContext) -> None:

    def change(i: int):  # type: ignore[no-untyped-def]
        def fn(tx: HallTx) -> str:
            out = svc.issue(tx, queue="A")
            if i % 3 == 1:
                raise Boom(i)  # after writing the ticket and its event
            return out.ticket.number

        return fn

    async def run() -> list[object]:
        return await asyncio.gather(*(ctx.change("t1", change(i)) for i in range(30)), return_exceptions=True)

    results = asyncio.run(run())
    assert ctx.writer is not None
    assert ctx.writer.batches < 30  # changes were batched
    failed = [r for r in results if isinstance(r, Boom)]
    numbers = [r for r in results if isinstance(r, str)]
    assert len(failed) == 10
    assert sorted(numbers) == [f"A{n:03d}" for n in range(1, 21)]  # gap-free: failed ones used no number
    with ctx.db.read() as s:
        assert sorted(t.number for t in s.exec(select(Ticket)).all()) == sorted(numbers)
        seqs = [e.seq for e in s.exec(select(Event).where(Event.hall_code == "t1").order_by(Event.seq)).all()]
    assert seqs == list(range(1, 21))


@dataclass
class Wrapped:
    hall: object


def _leaks(tx: HallTx, shape: str) -> object:
    """Write an event, then return an ORM row in one of the shapes a service might use."""
    tx.emit("test.leak", {"shape": shape})
    row = tx.session.get(Hall, "t1")
    return {
        "bare": row,
        "tuple": (1, row),
        "list": ["x", [row]],
        "dict": {"t": row},
        "dataclass": Wrapped(row),
    }[shape]


def _plain(tx: HallTx) -> tuple[str, int]:
    return tx.emit("test.plain", {}).type, tx.last_seq


def _stored_types(ctx: HallContext) -> list[str]:
    with ctx.db.read() as s:
        return [e.type for e in s.exec(select(Event).where(Event.hall_code == "t1").order_by(Event.seq)).all()]


def test_a_result_holding_an_orm_instance_is_refused_and_undone(ctx: HallContext) -> None:
    """No ORM instance crosses the writer's boundary: the job fails with a clear error, what it wrote is
    undone, and the plain jobs of the same batch commit."""
    writer = BatchWriter(ctx.db, None)  # every ORM class refused
    shapes = ["bare", "tuple", "list", "dict", "dataclass"]

    async def run() -> list[object]:
        jobs = [writer.submit("t1", lambda tx, s=s: _leaks(tx, s)) for s in shapes]
        return await asyncio.gather(*jobs, writer.submit("t1", _plain), return_exceptions=True)

    try:
        *refused, ok = asyncio.run(run())
    finally:
        writer.close()
    for shape, r in zip(shapes, refused, strict=True):
        assert isinstance(r, ContractBroken), shape
        assert "ORM instance (Hall)" in str(r) and "plain values" in str(r)
    assert ok == ("test.plain", 1)
    assert _stored_types(ctx) == ["test.plain"]


class Stop(BaseException):
    pass


@pytest.mark.parametrize("raised", [SystemExit(3), KeyboardInterrupt(), Stop()])
def test_a_base_exception_fails_its_request_not_the_lane(ctx: HallContext, raised: BaseException) -> None:
    def bad(tx: HallTx) -> None:
        tx.emit("test.bad", {})
        raise raised

    async def run() -> tuple[list[object], list[object], object]:
        w = ctx.writer
        first = await asyncio.gather(w.submit("t1", bad), w.submit("t1", _plain), return_exceptions=True)
        alone = await asyncio.gather(ctx.writer.submit("t1", bad), return_exceptions=True)
        return first, alone, await ctx.writer.submit("t1", _plain)  # the lane serves on

    (failed, first), (again,), later = asyncio.run(run())
    for r in (failed, again):
        assert isinstance(r, ContractBroken) and type(raised).__name__ in str(r)
        assert r.__cause__ is raised
    assert (first, later) == (("test.plain", 1), ("test.plain", 2))
    assert _stored_types(ctx) == ["test.plain", "test.plain"]


def test_a_submit_past_its_deadline_answers_503_and_is_skipped(tmp_path: Path) -> None:
    """A lane stuck on a slow job: a ticket request waiting behind it gets 503 with a clear detail and is
    not issued once the lane is free again; the lane then serves the next request."""
    with serving(runtime(fresh_database("sqlite", tmp_path), tmp_path / "var")) as server:
        release, started = threading.Event(), threading.Event()

        def stuck(tx: HallTx) -> None:
            started.set()
            release.wait(30)

        blocker = threading.Thread(target=lambda: asyncio.run(server.ctx.writer.submit("t1", stuck, timeout_s=60)))
        blocker.start()
        kiosk = {"Authorization": f"Bearer {KIOSK}"}
        try:
            assert started.wait(10)
            server.ctx.writer.timeout_s = 0.3
            t0 = time.monotonic()
            r = httpx.post(f"{server.url}/api/v1/halls/t1/tickets", json={"queue": "A"}, headers=kiosk, timeout=30)
            waited = time.monotonic() - t0
        finally:
            release.set()
            blocker.join(30)
        assert r.status_code == 503, r.text
        assert "try again" in r.json()["detail"] and "服务繁忙" in r.json()["detail"]
        assert r.headers["Retry-After"] == "1"
        assert waited < 10
        server.ctx.writer.timeout_s = 30
        r = httpx.post(f"{server.url}/api/v1/halls/t1/tickets", json={"queue": "A"}, headers=kiosk, timeout=30)
        assert r.status_code == 201 and r.json()["number"] == "A001"  # the timed-out one took no number


def test_a_closed_writer_answers_unavailable(ctx: HallContext) -> None:
    writer = BatchWriter(ctx.db, None)
    writer.close()
    with pytest.raises(Unavailable):
        asyncio.run(writer.submit("t1", lambda tx: None))


def test_the_server_refuses_orm_results(ctx: HallContext) -> None:
    """The server's writer refuses a hot aggregate's ORM row (here `Hall`); no class is let through
    (context.ORM_RESULTS_STILL_ALLOWED, once the list of issue 19's debts, is empty)."""
    from queue_server.context import ORM_RESULTS_STILL_ALLOWED

    assert not {"Hall", "Queue", "Window", "Ticket", "TicketCounter", "Event"} & ORM_RESULTS_STILL_ALLOWED
    (refused,) = asyncio.run(_gather(ctx.writer.submit("t1", lambda tx: _leaks(tx, "tuple"))))
    assert isinstance(refused, ContractBroken)
    assert _stored_types(ctx) == []


def test_the_server_refuses_the_cold_paths_rows_it_no_longer_lets_through(ctx: HallContext) -> None:
    """Appointments, home visits, notifications, evaluations, follow-ups, complaints and cases were debts of
    issue 19; their changes now return plain values (the routes' tests pass through this writer), and a row
    of any of them is refused like a ticket's."""
    from queue_server.cases.models import (
        Case,
        CaseDelivery,
        CaseDocument,
        CaseHandover,
        CaseHistory,
        CaseItem,
        CaseMaterial,
    )
    from queue_server.context import ORM_RESULTS_STILL_ALLOWED
    from queue_server.feedback.models import Complaint, Evaluation, FollowUp
    from queue_server.models import Appointment, HomeVisit
    from queue_server.notify.models import Notification

    assert frozenset() == ORM_RESULTS_STILL_ALLOWED
    struck = [Appointment, HomeVisit, Notification, Evaluation, FollowUp, Complaint]
    struck += [Case, CaseItem, CaseHistory, CaseMaterial, CaseDocument, CaseHandover, CaseDelivery]

    def leak(tx: HallTx, cls: type) -> object:
        tx.emit("test.leak", {})
        return {"row": cls()}

    results = asyncio.run(_gather(*(ctx.writer.submit("t1", lambda tx, c=c: leak(tx, c)) for c in struck)))
    for cls, r in zip(struck, results, strict=True):
        assert isinstance(r, ContractBroken) and f"ORM instance ({cls.__name__})" in str(r), cls
    assert _stored_types(ctx) == []


async def _gather(*aws: object) -> list[object]:
    return await asyncio.gather(*aws, return_exceptions=True)  # type: ignore[arg-type]


def _principal_admin() -> Any:
    from queue_server.services.auth import Principal

    return Principal(kind="user", name="admin", role="admin", hall=None)


def _truth(ctx: HallContext, queues: list[str]) -> dict[str, tuple[int, int]]:
    """Each queue's waiting count and estimated wait, read afresh from the database."""
    from queue_server.services.stats import HallLoad
    from queue_server.store import halls as hall_store
    from queue_server.store import tickets as ticket_store

    with ctx.db.read() as s:
        conn = s.connection()
        load = HallLoad(hall_store.queue_avgs(conn, "t1"), hall_store.window_loads(conn, "t1"))
        counts = ticket_store.waiting_counts(conn, "t1")
    return {q: (counts.get(q, 0), load.estimate(q, counts.get(q, 0))) for q in queues}


def _last_queues(ctx: HallContext) -> list[dict[str, Any]]:
    with ctx.db.read() as s:
        ev = s.exec(select(Event).where(Event.hall_code == "t1").order_by(col(Event.seq).desc()).limit(1)).one()
    return list(orjson.loads(ev.data).get("queues", []))


def test_two_processes_take_the_halls_load_from_its_row(tmp_db: str, tmp_path: Path, monkeypatch: Any) -> None:
    """Two server processes (two writers) change one hall in turn on PostgreSQL: a batch that finds the hall
    changed by the other takes the queue averages and windows from the hall row (stamped with the hall's seq)
    instead of reading them under the lock, and every event's waiting counts and estimated waits still equal
    what the database says — after completions (a new average), a window paused and opened, issues and calls."""
    if not tmp_db.startswith("postgresql"):
        pytest.skip("several server processes share a hall on PostgreSQL only")
    from queue_server.services import halls as hall_svc
    from queue_server.services import tickets as ticket_svc
    from queue_server.services.stats import HallLoad

    a = build_context(runtime(tmp_db, tmp_path / "a"))
    prepare(a, migrate=False)
    b = build_context(runtime(tmp_db, tmp_path / "b"))
    reads: list[int] = []
    real_read = HallLoad.read.__func__  # type: ignore[attr-defined]
    counted = classmethod(lambda cls, conn, hall: reads.append(1) or real_read(cls, conn, hall))
    monkeypatch.setattr(HallLoad, "read", counted)
    admin = _principal_admin()
    try:

        def run(ctx: HallContext, fn: Any) -> Any:
            return asyncio.run(ctx.change("t1", fn))

        def check(step: str) -> None:
            queues = _last_queues(a)
            truth = _truth(a, [q["code"] for q in queues])
            for q in queues:
                assert (q["waiting"], q["estimated_wait_s"]) == truth[q["code"]], (step, q, truth)

        for i in range(12):  # both warm up: each reads the load once at most, then takes the other's from the row
            run(a if i % 2 else b, lambda tx: svc.issue(tx, queue="A").ticket.number)
            check(f"issue {i}")
        warm = len(reads)
        for i in range(10):
            run(a if i % 2 else b, lambda tx, q="AB"[i % 2]: svc.issue(tx, queue=q).ticket.number)
            check(f"issue after warm-up {i}")
        assert len(reads) == warm, "a batch after the other process's commit read the load again"
        steps = [
            ("call", lambda tx: ticket_svc.call_next(tx, number=1, actor=admin)),
            ("complete", lambda tx: ticket_svc.act(tx, ticket_id=_current(tx, 1), action="complete", actor=admin)),
            ("pause", lambda tx: hall_svc.set_window_status(tx, number=2, status="paused", reason="x", actor=admin)),
            ("issue", lambda tx: svc.issue(tx, queue="B").ticket.number),
            ("open", lambda tx: hall_svc.set_window_status(tx, number=2, status="open", reason="", actor=admin)),
            ("issue", lambda tx: svc.issue(tx, queue="A").ticket.number),
        ]
        for rnd in range(3):
            for j, (name, fn) in enumerate(steps):
                run(a if (rnd + j) % 2 else b, fn)
                check(f"round {rnd} {name}")
    finally:
        a.close()
        b.close()


def _current(tx: HallTx, window: int) -> int:
    from queue_server.store import halls as hall_store

    w = hall_store.window(tx.conn, tx.hall, window)
    assert w is not None and w.current_ticket_id is not None
    return w.current_ticket_id


@pytest.mark.parametrize("staged", [False, True], ids=["plain", "staged"])
def test_a_lost_database_connection_is_replaced_before_the_batch(ctx: HallContext, staged: bool) -> None:
    """PostgreSQL: the writer lane does not ping its connection before each batch; when the database dropped
    it (a restart, an administrator's pg_terminate_backend), the batch finds it broken at its first round
    trip, before anything ran, and runs again on a new connection: the caller never sees the loss. `staged`:
    the take-a-number route's change, whose first step went out with the lock (writer.py `_run_ahead`)."""
    if ctx.db.is_sqlite:
        pytest.skip("the lane's own connection is PostgreSQL's")
    assert ctx.writer is not None
    first = asyncio.run(ctx.change("t1", lambda tx: svc.issue(tx, queue="A").ticket.number))
    (lane,) = {ctx.writer._lane_of["t1"]}
    assert lane._engine is not None
    raw = lane._engine.raw_connection()  # the lane's only connection, idle in its pool
    pid = raw.driver_connection.info.backend_pid  # type: ignore[union-attr]
    raw.close()
    with ctx.db.write() as s:
        assert s.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar() is True
    if staged:
        second = asyncio.run(ctx.change_staged("t1", lambda tx: svc.issue_staged(tx, queue="A"))).ticket.number
    else:
        second = asyncio.run(ctx.change("t1", lambda tx: svc.issue(tx, queue="A").ticket.number))
    assert (first, second) == ("A001", "A002")
    assert ctx.writer.ahead == ((1, 0) if staged else (0, 0))
