"""Group commit: one writer thread runs queued hall changes in batches, one commit per batch.

SQLite admits one writer at a time and, with `synchronous=FULL`, pays an fsync per commit — under load
the fsync, not the work, is the cost. On PostgreSQL a change on its own costs a transaction of ten
round trips from one of many threads sharing the GIL, a WAL flush at commit, and a NOTIFY, which takes
a database-wide lock for the length of the commit (so notifying commits go one at a time whatever the
number of connections). Both are paid per batch here.

The writer thread takes whatever changes are waiting (up to `max_batch`), opens each of their halls once
(on PostgreSQL locking the halls' rows `FOR UPDATE` in the order of their codes, so two server processes'
batches never deadlock), runs each change in turn (a failing change is undone alone, see `_run`), writes
the events and `seq`s, sends one NOTIFY per hall (PostgreSQL), commits once, and answers every caller.
Nothing is answered before the commit, so a ticket the citizen holds is always stored.

SQLite is served by one process per file (this writer is then the file's only writer); several processes
are for PostgreSQL, where each hall's batch locks the hall's row.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import queue
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from datetime import time as dt_time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from .db import Database, write_session
from .errors import NotFound, Unavailable
from .events import HallEvent, Hub
from .fastsql import failed_behind, flush_before_cursor, send_held, write_behind
from .services.stats import HallLoad
from .services.tx import HallTx, open_halls, opened_tx, write_events
from .store.halls import Opened, begun_and_locked, pipelined, refuse_inside_pipeline
from .timeutil import utcnow

log = logging.getLogger(__name__)

BUSY = "服务繁忙，请稍后再试 / The hall's changes are backed up; this one was not answered in time, try again"
TIMEOUT_S = 30.0  # a change not answered this long after its submit answers 503 (`Unavailable`)


class _Retry(Exception):
    """A change failed in a batch run without savepoints: run the batch again, isolating each change."""


class _Reconnect(Exception):
    """The lane's connection was found broken by the batch's first statement: nothing ran, run it again."""


class _Foreign(Exception):
    """A batch run ahead of the lock's answer found a hall without an exact memo to finish with: run it again."""


class _Behind(Exception):
    """The lane's batch before failed at its `COMMIT` once this one was sent (`_Lane._run_ahead`): this one is rolled
    back, and runs again the ordinary way once the one before has run again with savepoints."""

    def __init__(self, batch: list[_Job]) -> None:
        super().__init__(len(batch))
        self.batch = batch


class ContractBroken(RuntimeError):
    """A job broke the writer's contract (see `BatchWriter.submit`): its request fails, the lane goes on."""


_PLAIN = (str, int, float, bool, bytes, type(None), datetime, date, dt_time, timedelta, Decimal, UUID, Enum)
# The exact types of nearly every value a change returns (a row's columns): one set look-up, no isinstance walk.
_PLAIN_EXACT = frozenset({str, int, float, bool, bytes, type(None), datetime, date, dt_time, timedelta, Decimal, UUID})
_FIELDS: dict[type, tuple[str, ...]] = {}  # a dataclass's field names, read once per class


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def orm_inside(value: Any, allowed: frozenset[str] = frozenset(), depth: int = 0) -> str | None:
    """The class name of an ORM instance (SQLModel table or SQLAlchemy mapped object) in `value`, else None.

    Looks inside tuples (named too), lists, sets, dicts (keys and values), dataclasses and pydantic models;
    instances of the classes named in `allowed` are let through (and not looked into).
    """
    cls = type(value)
    if cls in _PLAIN_EXACT or isinstance(value, _PLAIN):
        return None
    if getattr(cls, "_sa_class_manager", None) is not None:
        return None if cls.__name__ in allowed else cls.__name__
    if depth > 8:
        return None
    items: Any
    if isinstance(value, dict):
        items = (*value.keys(), *value.values())
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [getattr(value, name) for name in _field_names(cls)]
    elif isinstance(value, BaseModel):
        items = value.__dict__.values()
    else:
        return None
    for item in items:
        if type(item) in _PLAIN_EXACT:  # a row's columns: skip the call
            continue
        found = orm_inside(item, allowed, depth + 1)
        if found is not None:
            return found
    return None


def _failure(exc: BaseException) -> Exception:
    """What the caller is given for a job that raised `exc`: itself, or a wrapper for a BaseException
    (a SystemExit or KeyboardInterrupt raised into a request's coroutine would stop the server)."""
    if isinstance(exc, Exception):
        return exc
    wrapped = ContractBroken(f"the change raised {type(exc).__name__}")
    wrapped.__cause__ = exc
    return wrapped


@dataclass
class _Job:
    hall: str
    fn: Callable[[HallTx], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    tz: tzinfo | None
    staged: bool = False  # `fn` is the change's first step and answers its second (`BatchWriter.submit`)
    abandoned: bool = False  # the caller stopped waiting (timeout, cancelled): skip it if not yet run


_Outcomes = list[tuple[_Job, Any, BaseException | None]]  # each job with its result or its error, to answer


def _settle_all(outcomes: _Outcomes) -> None:
    """Answer the jobs on their callers' loops: one `call_soon_threadsafe` per loop for the whole batch, which
    settles every job of that loop. Each call writes to the loop's self-pipe to wake it, and the loop then
    reads it and runs the callback: per job, that was a good part of a small batch's hand-off."""
    by_loop: dict[asyncio.AbstractEventLoop, _Outcomes] = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome[0].loop, []).append(outcome)
    for loop, settled in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the caller's loop is gone (shutdown)
            loop.call_soon_threadsafe(_resolve, settled)


def _resolve(outcomes: _Outcomes) -> None:
    """On the callers' loop: each job's future gets its result or error (unless it timed out or was cancelled)."""
    for job, result, error in outcomes:
        if job.future.done():
            continue
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)


class BatchWriter:
    """Runs hall changes on writer threads, many per transaction (SQLite and PostgreSQL).

    Each hall is always written by the same thread (lane), so its changes stay in order and its memo
    stays with one thread. SQLite has one lane (one writer at a time anyway). On PostgreSQL several lanes
    overlap their round trips to the database: a lane spends most of its time waiting for answers.
    """

    def __init__(
        self,
        db: Database,
        hub: Hub | None,
        *,
        max_batch: int = 64,
        lanes: int = 1,
        timeout_s: float = TIMEOUT_S,
        orm_allowed: frozenset[str] = frozenset(),
    ) -> None:
        self.timeout_s = timeout_s
        self._lanes = [_Lane(db, hub, max_batch, f"hall-writer-{i}", orm_allowed) for i in range(max(1, lanes))]
        self._lane_of: dict[str, _Lane] = {}

    def observe(self, fn: BatchObserver) -> None:
        """Call `fn(changes, seconds, events)` after each committed batch, on the writer thread (metrics.py)."""
        for lane in self._lanes:
            lane.observer = fn

    @property
    def batches(self) -> int:
        """Transactions committed (or failed) so far."""
        return sum(lane.batches for lane in self._lanes)

    @property
    def changes(self) -> int:
        """Changes run so far."""
        return sum(lane.changes for lane in self._lanes)

    @property
    def overlapped(self) -> int:
        """Batches whose first round trip went out while the lane's batch before waited for its `COMMIT`'s answer."""
        return sum(lane.overlapped for lane in self._lanes)

    @property
    def ahead(self) -> tuple[int, int]:
        """Batches begun ahead of the lock's answer (`_Lane._run_ahead`) so far, and those of them that found the
        hall otherwise than they assumed (rolled back, and run again the ordinary way)."""
        return sum(lane.ahead for lane in self._lanes), sum(lane.ahead_foreign for lane in self._lanes)

    async def submit(
        self,
        hall: str,
        fn: Callable[[HallTx], Any],
        *,
        tz: tzinfo | None = None,
        timeout_s: float | None = None,
        staged: bool = False,
    ) -> Any:
        """Queue `fn` to run in a write transaction of `hall`; resolves with its result after the commit.

        The contract of a job (`fn`):
        - database work only: it gets the transaction (`tx`) and nothing else — no files, no network, no
          waiting on anything outside the database; whatever else a request needs happens before or after;
        - deterministic and safe to run again: a batch in which any job fails is rolled back and run once
          more with each job in its own savepoint, so a job may run twice (only the last run commits);
        - a failing job fails its own request and never the lane: its exception (a `BaseException` too,
          given as `ContractBroken`) is the caller's, its writes are undone, the other jobs commit;
        - it returns plain values: a result holding an ORM instance (a SQLModel/SQLAlchemy mapped object,
          also inside tuples, lists, dicts, dataclasses or pydantic models) is refused with
          `ContractBroken` and the job undone — such an object is bound to a session closed at the commit
          (`orm_allowed` could name classes to let through; the server's list, context.py's
          `ORM_RESULTS_STILL_ALLOWED`, is empty: no ORM result crosses).
        `staged`: `fn` is the change's first step (its checks and statements sent, no read of what it sends) and
        answers a function, its second step (reads its statements' answers, emits, answers the result). On
        PostgreSQL consecutive staged changes of a batch are pipelined: every first step, one network wait for
        all their statements, then every second step in order (services/issuing.py `issue_staged`). So a
        staged change must read the database in its first step only: by its second, the statements of the
        changes after it have run. Its first step may run before the hall's lock is granted, its statements
        sent with the lock's (`_Lane._run_ahead`); when `tx.memo_later` it must not use `tx.cache` nor
        `tx.last_seq`, which are set before its second step.
        Every submit has a deadline (`timeout_s`, default the writer's): past it the caller gets
        `Unavailable` (HTTP 503) and the job is skipped if it has not started yet (if it has, it may still
        commit). Nothing here blocks the event loop: the job runs on the hall's writer thread.
        """
        lane = self._lane_of.get(hall)
        if lane is None:  # the same in every process: two processes' lanes i take the same halls' locks
            lane = self._lane_of.setdefault(hall, self._lanes[zlib.crc32(hall.encode()) % len(self._lanes)])
        if not lane.thread.is_alive():  # after close(): fail, rather than wait for ever
            raise Unavailable("服务正在停止，请稍后再试 / The server is stopping; try again shortly")
        loop = asyncio.get_running_loop()
        job = _Job(hall, fn, loop.create_future(), loop, tz, staged)
        lane.jobs.put(job)
        timer = loop.call_later(self.timeout_s if timeout_s is None else timeout_s, _expire, job)
        try:
            return await job.future
        except asyncio.CancelledError:
            job.abandoned = True
            raise
        finally:
            timer.cancel()

    def forget(self) -> None:
        """Drop the halls' memos (the database was changed behind the writer's back)."""
        for lane in self._lanes:
            lane.stale = True  # read by the lane's thread before its next batch

    def close(self) -> None:
        """Finish what is queued, then stop the threads."""
        for lane in self._lanes:
            lane.jobs.put(None)
        for lane in self._lanes:
            lane.thread.join(timeout=30)


def _expire(job: _Job) -> None:
    """The job's deadline passed (on the caller's loop): answer 503 and let the lane skip it."""
    if job.future.done():
        return
    job.abandoned = True
    job.future.set_exception(Unavailable(BUSY))


BatchObserver = Callable[[int, float, list[HallEvent]], None]
_Sent = tuple[_Job, HallTx, datetime, Callable[[], Any]]  # a staged job, its hall, its clock, its second step


@dataclass
class _Ending:
    """A batch run up to its end sent (PostgreSQL: its `COMMIT` too, the answer not read yet): `_Lane._close`."""

    batch: list[_Job]
    session: Session
    stack: contextlib.ExitStack  # the write transaction
    end: contextlib.ExitStack  # inside it: `write_behind` and the end's pipeline, whose exit reads the answers
    opened: list[HallTx]
    outcomes: _Outcomes
    started: float


@contextlib.contextmanager
def _retried_behind(behind: bool) -> Iterator[None]:
    """A failure at the batch's end: inside `write_behind` (`behind`) it is a queued write's, some change's, so the
    batch runs again with savepoints (`_Retry`). A lost connection is not retried: the `COMMIT` may have been
    carried out."""
    try:
        yield
    except DBAPIError as exc:
        if behind and not exc.connection_invalidated:
            raise _Retry from None
        raise


class _Lane:
    """One writer thread and the halls' memos it keeps."""

    def __init__(
        self,
        db: Database,
        hub: Hub | None,
        max_batch: int,
        name: str,
        orm_allowed: frozenset[str],
    ) -> None:
        self.db = db
        # PostgreSQL: the lane's own connection, not one of the shared pool's. psycopg prepares a statement on
        # the server after a few executions on a connection and forgets them all at any ROLLBACK, which ends
        # every read of the shared pool: there the writer's statements were parsed and planned afresh at
        # nearly every execution. In autocommit mode: the lane sends its own `BEGIN` with the hall's lock and
        # its `COMMIT` with the batch's end, one round trip each (store.halls `begin_and_lock`,
        # `end_and_commit`). Not pinged at checkout (a round trip per batch): a connection found broken by
        # the batch's first round trip is replaced and the batch run again (`_run`). Two connections: a batch's
        # first round trip goes out on one while the batch before waits for its `COMMIT`'s answer on the other
        # (`_run_ahead`).
        self._engine: Engine | None = (
            None
            if db.is_sqlite
            else create_engine(db.engine.url, pool_size=2, max_overflow=0, isolation_level="AUTOCOMMIT")
        )
        if self._engine is not None:  # a staged change read through SQLAlchemy in a pipeline: run again one by one
            event.listen(self._engine, "before_cursor_execute", refuse_inside_pipeline)
            # Writes queued by a batch's changes (`_run_all`) go before a statement run through SQLAlchemy.
            event.listen(self._engine, "before_cursor_execute", flush_before_cursor)
        self.orm_allowed = orm_allowed
        self.hub = hub
        self.max_batch = max_batch
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.batches = 0
        self.changes = 0
        # Each hall's memo (`HallTx.cache`: service averages and window capacity, and the waiting counts
        # stamped with the hall's seq), kept from batch to batch while this lane is the hall's only writer:
        # it is stamped with the hall's `seq` after this lane's commit, and a batch that finds the hall at
        # another `seq` (a commit of another process, or of a `hall_tx` outside the writer) starts afresh.
        # Whatever changes the memo's rows keeps it right (`_load`, `_waiting` in services/tickets.py).
        # Dropped when a batch fails or on `forget()`.
        self._memo: dict[str, tuple[int, dict[str, object]]] = {}  # hall -> (seq after our commit, memo)
        # Halls whose last batch found them at another seq than the memo's: another writer takes turns with this
        # lane there (two processes on one hall); their memo comes from what it stored in the hall row.
        self._foreign: set[str] = set()
        self._unstored: set[str] = set()  # halls whose row lacked it at the last try: one ordinary batch first
        self.ahead = 0  # batches run ahead of the lock's answer (`_run_ahead`)
        self.ahead_foreign = 0  # of which rolled back and ran again
        self.overlapped = 0  # of which sent while the batch before waited for its COMMIT's answer
        self.stale = False
        self.observer: BatchObserver | None = None
        # PostgreSQL: the last batch, its `COMMIT` sent and its answer not read yet. The lane reads it once it has
        # sent the next batch's first round trip (`_run_ahead`), or before a batch that opens its halls the ordinary
        # way (reading their memos at once), or when no change is waiting.
        self._pending: _Ending | None = None
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            first = self._next()
            if first is None:
                self._stop()
                return
            batch = [first]
            stop = self._take(batch)
            try:
                self._run(batch)
            except BaseException as exc:  # a bug of the writer itself: fail this batch, keep the lane
                log.exception("write batch of %d failed", len(batch))
                _settle_all([(job, None, _failure(exc)) for job in batch])
            if stop:
                self._stop()
                return

    def _next(self) -> _Job | None:
        """The next change, waiting for one; the pending batch is answered first if none is waiting now."""
        if self._pending is not None:
            try:
                return self.jobs.get_nowait()
            except queue.Empty:
                self._settle_pending()
        return self.jobs.get()

    def _stop(self) -> None:
        self._settle_pending()
        if self._engine is not None:
            self._engine.dispose()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        """A write transaction: on PostgreSQL on the lane's own connection, on SQLite the database's (its lock)."""
        with self.db.write() if self._engine is None else write_session(self._engine) as session:
            yield session

    def _take(self, batch: list[_Job]) -> bool:
        """Add the changes waiting now to `batch` (up to `max_batch`); True if told to stop."""
        while len(batch) < self.max_batch:
            try:
                nxt = self.jobs.get_nowait()
            except queue.Empty:
                return False
            if nxt is None:
                return True
            batch.append(nxt)
        return False

    def _run(self, batch: list[_Job]) -> None:
        # First try the batch without savepoints (they cost a fifth of a change); if any change fails,
        # the transaction is rolled back and the batch runs again, each change in its own savepoint, so
        # only the failing one is undone. Nothing has been answered before the commit, so a second run
        # is invisible to callers.
        batch[:] = [job for job in batch if not job.abandoned]
        if not batch:
            return
        try:
            try:
                sent = self._send(batch, isolate=False, ahead=self._ahead(batch))
            except _Behind as exc:  # rolled back: the batch before runs again first
                self._rerun(exc.batch)
                sent = self._send(batch, isolate=False)
            except _Foreign:  # another writer committed the hall since this lane's memo: the ordinary way
                sent = self._send(batch, isolate=False)
            except _Reconnect:  # the connection was gone before anything ran (a database restart): once more
                sent = self._send(batch, isolate=False)
        except _Retry:
            sent = self._send(batch, isolate=True)
        if isinstance(sent, _Ending):
            self._pending = sent
            if self._engine is None:  # SQLite: one connection, nothing to overlap
                self._settle_pending()
        else:
            self._settled(batch, sent)

    def _settled(self, batch: list[_Job], outcomes: _Outcomes) -> None:
        self.batches += 1
        self.changes += len(batch)
        _settle_all(outcomes)

    def _finish(self) -> None:
        """Answer the pending batch once its `COMMIT`'s answer is read (`_close`); raise `_Behind` if it is to run
        again with savepoints. Then drop the memos if told to (`forget`): what comes next reads them."""
        ending, self._pending = self._pending, None
        try:
            if ending is not None:
                try:
                    outcomes = self._close(ending)
                except _Retry:
                    raise _Behind(ending.batch) from None
                self._settled(ending.batch, outcomes)
        finally:
            if self.stale:
                self.stale = False
                self._memo.clear()

    def _settle_pending(self) -> None:
        """`_finish`, with nothing else in flight: a batch to run again runs at once."""
        try:
            self._finish()
        except _Behind as exc:
            self._rerun(exc.batch)

    def _rerun(self, batch: list[_Job]) -> None:
        """The batch again, each change in its savepoint, answered at once."""
        try:
            outcomes = self._attempt(batch, isolate=True)
        except BaseException as exc:  # nothing more to try (a connection lost at its first statement)
            log.exception("write batch of %d failed", len(batch))
            outcomes = [(job, None, _failure(exc)) for job in batch]
        self._settled(batch, outcomes)

    def _attempt(self, batch: list[_Job], *, isolate: bool) -> _Outcomes:
        """The batch in one transaction, its `COMMIT`'s answer read."""
        sent = self._send(batch, isolate=isolate)
        return self._close(sent) if isinstance(sent, _Ending) else sent

    def _send(self, batch: list[_Job], *, isolate: bool, ahead: int = 0) -> _Ending | _Outcomes:
        """The batch in one transaction up to its end sent, on PostgreSQL with the `COMMIT`, whose answer `_close`
        reads (`ahead`: its first changes run before the lock's answer, `_run_ahead`); a failure to run again raised,
        another one answered: the outcomes. Opening the halls the ordinary way reads their memos at once: the pending
        batch is answered before."""
        if not ahead:
            self._settle_pending()
        started = time.perf_counter()
        try:
            with contextlib.ExitStack() as stack:
                session = stack.enter_context(self._write())
                end = stack.enter_context(contextlib.ExitStack())
                # Writes nobody reads back are queued and sent with the next statement, the last ones with the end.
                behind = not isolate and self._engine is not None
                if behind:
                    end.enter_context(write_behind(session.connection()))
                if ahead:
                    halls, outcomes = self._run_ahead(session, batch, ahead)
                else:
                    try:
                        halls = self._open(session, batch)
                    except DBAPIError as exc:
                        self._lost(session, exc)
                        raise
                    outcomes = self._run_all(session, halls, batch, isolate)
                opened = [tx for tx in halls.values() if isinstance(tx, HallTx)]
                self._end(session, opened, end, behind=behind)
                return _Ending(batch, session, stack.pop_all(), end, opened, outcomes, started)
        except BaseException as exc:
            return self._failed(batch, exc)

    def _close(self, ending: _Ending) -> _Outcomes:
        """Read the batch's `COMMIT`'s answer (PostgreSQL), keep the halls' memos, publish the events to the hub;
        the outcomes to answer."""
        try:
            with ending.stack:
                ending.end.close()
                ending.session.commit()
                for tx in ending.opened:
                    self._memo[tx.hall] = (tx.last_seq, tx.cache)
                committed = [ev for tx in ending.opened for ev in tx.events]
                if self.hub is not None:  # SQLite: still under the write lock, so the hub sees commit order
                    self.hub.publish(committed)
        except BaseException as exc:
            return self._failed(ending.batch, exc)
        if self.observer is not None:
            try:
                self.observer(len(ending.batch), time.perf_counter() - ending.started, committed)
            except Exception:  # metrics never fail a committed batch
                log.exception("batch observer failed")
        return ending.outcomes

    def _failed(self, batch: list[_Job], exc: BaseException) -> _Outcomes:
        """Raise `exc` again if it runs the batch again; else every change of the batch fails with it."""
        if isinstance(exc, _Reconnect):
            log.warning("writer lane: the database connection was lost; reconnecting")
        if not isinstance(exc, (_Foreign, _Behind, _Reconnect)):
            self._memo.clear()  # it may hold what the rolled-back changes wrote
        if isinstance(exc, (_Retry, _Foreign, _Behind, _Reconnect)):
            raise exc
        log.error("write batch of %d failed", len(batch), exc_info=exc)  # the commit failed: nothing happened
        return [(job, None, _failure(exc)) for job in batch]

    def _lost(self, session: Any, exc: DBAPIError) -> None:
        """Raise `_Reconnect` if `exc`, met at the batch's first round trip (nothing ran), lost the connection.

        psycopg does not always mark the connection broken yet when the server's goodbye (AdminShutdown) is what
        it read, so any OperationalError here counts; invalidated first, so the rollback on the way out is skipped.
        """
        if self._engine is not None and (exc.connection_invalidated or isinstance(exc, OperationalError)):
            session.connection().invalidate(exc)
            raise _Reconnect from exc

    def _ahead(self, batch: list[_Job]) -> int:
        """How many of the batch's first changes may run ahead of the lock's answer (`_run_ahead`): the staged
        ones at its head whose hall this lane committed before, or is committing (PostgreSQL)."""
        if self._engine is None or self.stale:
            return 0
        committing = () if self._pending is None else [tx.hall for tx in self._pending.opened]
        n = 0
        for job in batch:
            if not job.staged or job.hall in self._unstored:
                break
            if job.hall not in self._memo and job.hall not in self._foreign and job.hall not in committing:
                break
            n += 1
        return n

    def _run_ahead(self, session: Any, batch: list[_Job], ahead: int) -> tuple[dict[str, HallTx | NotFound], _Outcomes]:
        """The batch with its first `ahead` staged changes run before the lock's answer: their first steps are sent
        in the pipeline of `BEGIN` and the lock (store.halls `begun_and_locked`), one network wait for all, where
        the ordinary way waits for the lock's answer first; the server runs them once the locks are granted.

        The halls' transactions start without their memo and seq (`HallTx.memo_later`: the first steps use
        neither) and get them from the lock's answer (`_hall_memo`): the lane's memo if the hall is as its last
        commit left it, else what the last writer (another process, a `hall_tx` outside the writer) stored in
        the hall row. That memo must hold the waiting counts and the load exact as of the hall's seq (counted
        after the batch's statements, the waiting tickets would include its own); else nothing of this is kept
        (`_Foreign`: rolled back, the batch runs again the ordinary way, and so does the hall's next batch,
        `_unstored`). Failures as in `_pipelined`.

        The lane's batch before may still wait for its `COMMIT`'s answer: it is read once this batch's first round
        trip is sent (`_finish`), so the halls' locks are granted at that `COMMIT` and this batch's statements run
        right after it, with no wait of the lane between. Its memos are then as that batch left them; if it failed
        there and is to run again, this one is rolled back (`_Behind`): that one's locks were given to it."""
        conn = session.connection()
        at = utcnow()
        early: dict[str, HallTx] = {}
        for job in batch[:ahead]:
            if job.hall not in early:  # the memo and seq come with the lock's answer
                tx = early[job.hall] = HallTx(session, job.hall, -1, at)
                tx.memo_later = True
        self.ahead += 1
        self.overlapped += self._pending is not None
        try:
            with begun_and_locked(conn, sorted({job.hall for job in batch})) as opened:
                try:
                    sent = self._first_steps(conn, batch[:ahead], lambda job: early[job.hall])
                finally:  # even if a first step raised: the lock's answer may wait for that COMMIT's end
                    self._finish()
        except _Behind:
            raise
        except DBAPIError as exc:
            for code in early:  # the first steps may have read into them before the error was known
                self._memo.pop(code, None)
            self._lost(session, exc)
            raise _Retry from None
        except BaseException:
            raise _Retry from None
        rows = {row.code: row for row in opened()}
        self._check_ahead(early, rows)
        halls: dict[str, HallTx | NotFound] = dict(early)
        rest = {job.hall for job in batch} - halls.keys()
        self._opened(halls, rest, {code: opened_tx(session, rows[code], at) for code in rest if code in rows})
        outcomes = self._second_steps(sent)
        outcomes += self._run_staged(session, halls, batch[ahead:])
        self._check_behind(conn)  # inside `_send`'s `write_behind`
        return halls, outcomes

    def _check_ahead(self, halls: dict[str, HallTx], rows: dict[str, Opened]) -> None:
        """Give the halls run ahead their seq and memo from the lock's answer; raise `_Foreign` unless the memo
        holds the waiting counts and the load exact as of the seq (`_run_ahead`)."""
        for code, tx in halls.items():
            row = rows.get(code)
            if row is not None:
                tx.first_seq = tx.last_seq = row.last_seq
                tx.stored = row
                tx.cache = self._hall_memo(tx)
                tx.memo_later = False
                if tx.exact_waiting() is not None and tx.exact_load() is not None:
                    continue
                self._unstored.add(code)
            self.ahead_foreign += 1
            for other in halls:  # their memos may hold what the changes run ahead read or wrote
                self._memo.pop(other, None)
            raise _Foreign(code)

    def _hall_memo(self, tx: HallTx) -> dict[str, object]:
        """The hall's memo if nobody else wrote the hall since this lane's last commit of it, else a new one
        (PostgreSQL: with the waiting counts and the load another process's commit stored in the hall row, when
        exact: then a batch after that commit reads nothing more under the lock than after one of this lane)."""
        seq, memo = self._memo.get(tx.hall) or (-1, {})
        if seq == tx.first_seq:
            self._foreign.discard(tx.hall)
            return memo
        if tx.hall in self._memo:  # another writer committed the hall since this lane did
            self._foreign.add(tx.hall)
        fresh: dict[str, object] = {}
        if tx.stored is not None:
            if (waiting := tx.stored.waiting) is not None:
                fresh["waiting"] = waiting
            if (load := tx.stored.load) is not None:
                fresh["load"] = HallLoad(*load)
        return fresh

    def _open(self, session: Any, batch: list[_Job]) -> dict[str, HallTx | NotFound]:
        """Open the batch's halls in one statement (PostgreSQL: lock their rows, in the order of their codes)."""
        wanted = {job.hall for job in batch}
        opened = open_halls(session, wanted, lock=not self.db.is_sqlite, begin=self._engine is not None)
        halls: dict[str, HallTx | NotFound] = {}
        self._opened(halls, wanted, opened)
        return halls

    def _opened(self, halls: dict[str, HallTx | NotFound], wanted: set[str], opened: dict[str, HallTx]) -> None:
        """Add the `wanted` halls to `halls`: as `opened`, each with its memo, or NotFound when it has no row."""
        self._unstored -= wanted
        for hall in wanted:
            tx = opened.get(hall)
            if tx is None:  # that hall's changes fail with this; the others go on
                halls[hall] = NotFound(f"大厅不存在 / No hall '{hall}'")
            else:
                tx.cache = self._hall_memo(tx)
                halls[hall] = tx

    def _run_all(
        self, session: Any, halls: dict[str, HallTx | NotFound], batch: list[_Job], isolate: bool
    ) -> _Outcomes:
        """Run the batch's changes in order; on PostgreSQL without savepoints, each run of two or more
        consecutive staged changes pipelined (`_pipelined`): one network wait for their statements, not one each,
        and the UPDATEs nobody reads back written behind (fastsql `write_behind`, begun by `_send`): each goes
        out with the next statement, in its pipeline, so it costs no network wait of its own; the last ones with
        the batch's end (`_end`). A failure of one surfaces at a later statement, maybe another change's: any
        failure here runs the batch again, each change in its savepoint and every statement sent at once
        (`isolate`), so each change's error is its own again."""
        if isolate or self._engine is None:
            return [self._one(session, halls, job, isolate) for job in batch]
        outcomes = self._run_staged(session, halls, batch)
        self._check_behind(session.connection())
        return outcomes

    def _end(self, session: Any, opened: list[HallTx], end: contextlib.ExitStack, *, behind: bool) -> None:
        """The halls' events, seqs and notifications; on PostgreSQL with the `COMMIT` (store.halls `end_and_commit`)
        and, inside `write_behind` (`behind`), the writes still queued, in one round trip, its answers read when
        `end` closes. Failures there: `_retried_behind`, whether raised now or then."""
        end.enter_context(_retried_behind(behind))
        write_events(session, opened, self.db, self.hub, commit=end if self._engine is not None else None)

    def _check_behind(self, conn: Any) -> None:
        """After a `write_behind` run's changes: a change caught a queued write's error as its own (not its own):
        `_Retry`."""
        if failed_behind(conn):
            raise _Retry

    def _run_staged(self, session: Any, halls: dict[str, HallTx | NotFound], batch: list[_Job]) -> _Outcomes:
        outcomes: _Outcomes = []
        i = 0
        while i < len(batch):
            j = i
            while j < len(batch) and batch[j].staged and isinstance(halls[batch[j].hall], HallTx):
                j += 1
            if j - i >= 2:
                outcomes += self._pipelined(session, halls, batch[i:j])
                i = j
            else:
                outcomes.append(self._one(session, halls, batch[i], False))
                i += 1
        return outcomes

    def _pipelined(self, session: Any, halls: dict[str, HallTx | NotFound], jobs: list[_Job]) -> _Outcomes:
        """Staged changes: every first step in a pipeline (their statements go out back to back, one Sync),
        then every second step in order, each at its own clock. Any failure: the batch runs again with
        savepoints, where each change runs in one go (`_Retry`)."""
        conn = session.connection()

        def opened(job: _Job) -> HallTx:
            tx = halls[job.hall]
            assert isinstance(tx, HallTx)  # `_run_all` groups the jobs of opened halls only
            return tx

        try:
            with pipelined(conn):
                sent = self._first_steps(conn, jobs, opened)
        except BaseException:
            raise _Retry from None
        return self._second_steps(sent)

    def _first_steps(self, conn: Any, jobs: list[_Job], tx_of: Callable[[_Job], HallTx]) -> list[_Sent]:
        """Each staged job's first step at its own clock, then what they held back (store.tickets: their tickets
        as one statement); inside a pipeline, so nothing is read back yet."""
        sent: list[_Sent] = []
        for job in jobs:
            tx = tx_of(job)
            sent.append((job, tx, _clock(tx, job), job.fn(tx)))
        send_held(conn)
        return sent

    def _second_steps(self, sent: list[_Sent]) -> _Outcomes:
        """Each job's second step in order, at the clock of its first; any failure: the batch runs again with
        savepoints (`_Retry`)."""
        outcomes: _Outcomes = []
        try:
            for job, tx, now, finish in sent:
                tx.now = now
                outcomes.append((job, self._checked(finish()), None))
        except BaseException:
            raise _Retry from None
        return outcomes

    def _one(
        self, session: Any, halls: dict[str, HallTx | NotFound], job: _Job, isolate: bool
    ) -> tuple[_Job, Any, BaseException | None]:
        tx = halls[job.hall]
        if isinstance(tx, NotFound):
            return job, None, tx
        _clock(tx, job)
        mark_events, mark_seq = len(tx.events), tx.last_seq
        if not isolate:
            try:
                result = self._call(job, tx)
            except BaseException:
                raise _Retry from None
            return job, result, None
        savepoint = session.begin_nested()
        try:
            result = self._call(job, tx)
            savepoint.commit()
        except BaseException as exc:
            savepoint.rollback()
            del tx.events[mark_events:]
            tx.last_seq = mark_seq
            tx.cache.clear()  # it may hold what the undone change wrote
            return job, None, _failure(exc)
        return job, result, None

    def _call(self, job: _Job, tx: HallTx) -> Any:
        """Run the job (a staged one in one go); refuse a result that holds an ORM instance (`BatchWriter.submit`)."""
        result = job.fn(tx)
        return self._checked(result() if job.staged else result)

    def _checked(self, result: Any) -> Any:
        leaked = orm_inside(result, self.orm_allowed)
        if leaked is not None:
            raise ContractBroken(
                f"a hall change returned an ORM instance ({leaked}); return plain values (rows, dataclasses)"
            )
        return result


def _clock(tx: HallTx, job: _Job) -> datetime:
    """Set the transaction's clock for the job: now, in the job's timezone."""
    now = utcnow()
    tx.now = now.astimezone(job.tz) if job.tz is not None else now
    return tx.now
