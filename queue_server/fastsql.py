"""The writer's hottest statements, compiled once per database and run on the driver's cursor.

Why not `connection.execute(stmt)` as everywhere else: for a statement that is already compiled and cached,
SQLAlchemy still spends 15-20 µs per execution (cache key, parameter processing, execution context,
result metadata) where the SQLite driver itself takes 2-3 µs (measured; bench/README.md). A change runs
4-11 such statements while it holds the hall's write lock, so that overhead was a third of the writer's
time. The statements stay SQLAlchemy Core objects, written once for both databases and compiled by
SQLAlchemy; only their execution is short-cut, with SQLAlchemy's own type processors for parameters and
result columns (so a `UTCDateTime` is stored and read exactly as through the ORM). Statements whose SQL
depends on the parameters (an expanding `IN`) are refused at compile time.

Write-behind (`write_behind`, PostgreSQL): an UPDATE whose answer nobody reads (`Prepared.defer`,
`UpdateById.run`) is queued rather than sent, and goes out with the next statement in one psycopg pipeline (one
network wait for both, not two), or at the end of the block. Its failure then surfaces at that next statement:
whoever runs such a block must treat any failure inside it as possibly another statement's (the writer runs
the batch again with a savepoint per change, without write-behind), and `failed_behind` tells it afterwards
even when the code that met the error swallowed it.
"""

from __future__ import annotations

import contextlib
import weakref
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import Compiled

_Proc = Callable[[Any], Any] | None
_BEHIND = "fastsql.behind"  # key of the queued writes in the SQLAlchemy connection's `info` (`write_behind`)
_FAILED = "fastsql.behind_failed"

# A statement held back on a connection, to be sent with others later (store.tickets `issue_ticket_pending`: a
# batch's tickets as one INSERT): it is sent before the connection's next statement run here, so statements run
# in the order they were given. Keyed weakly by the SQLAlchemy `Connection` (one per session): what a transaction
# rolled back still held is never sent on the next one's.
_HELD: weakref.WeakKeyDictionary[Connection, Any] = weakref.WeakKeyDictionary()


def hold(conn: Connection, held: Any) -> None:
    """Hold `held` (an object with `send(conn)`) back on `conn`, after sending what was held before."""
    send_held(conn)
    _HELD[conn] = held


def held(conn: Connection) -> Any:
    """What is held back on `conn` now, or None."""
    return _HELD.get(conn)


def send_held(conn: Connection) -> None:
    """Send what is held back on `conn` (`hold`), if anything."""
    held = _HELD.pop(conn, None)
    if held is not None:
        held.send(conn)


def _columns(stmt: Any) -> Any:
    """The columns of the statement's rows: a SELECT's, or the RETURNING columns of an INSERT/UPDATE."""
    return stmt.exported_columns if stmt.is_dml else stmt.selected_columns


class _Compiled:
    """One statement's SQL and processors for one dialect."""

    __slots__ = ("binds", "defaults", "dialect", "names", "plan", "positional", "results", "sql", "types")

    def __init__(self, stmt: Any, dialect: Dialect, column_keys: Sequence[str] | None) -> None:
        compiled: Compiled = stmt.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None)
        if getattr(compiled, "post_compile_params", None) or getattr(compiled, "literal_execute_params", None):
            raise ValueError("a statement with an expanding parameter cannot be prepared once")
        self.sql: str = compiled.string
        self.positional: bool = dialect.positional
        names = compiled.positiontup if self.positional else list(compiled.binds)  # type: ignore[attr-defined]
        self.names: list[str] = list(names or ())
        binds = compiled.binds  # type: ignore[attr-defined]
        self.defaults: dict[str, Any] = {n: None if binds[n].required else binds[n].effective_value for n in self.names}
        self.binds: list[_Proc] = [binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in self.names]
        self.plan = list(zip(self.names, [self.defaults[n] for n in self.names], self.binds, strict=True))
        self.types = [c.type.dialect_impl(dialect) for c in _columns(stmt)]
        self.dialect = dialect
        self.results: list[_Proc] | None = None  # known at the first result: they depend on the driver's type codes

    def params(self, given: Mapping[str, Any]) -> Any:
        values = []  # one pass: the given value or the statement's own, through the type's bind processor
        for name, default, proc in self.plan:
            v = given.get(name, default)
            values.append(v if proc is None or v is None else proc(v))
        return tuple(values) if self.positional else dict(zip(self.names, values, strict=True))

    def rows(self, raw: Sequence[Any], description: Sequence[Any]) -> list[tuple[Any, ...]]:
        procs = self.results
        if procs is None:
            procs = self.results = [
                t.result_processor(self.dialect, d[1]) for t, d in zip(self.types, description, strict=True)
            ]
        if not any(procs):
            return [tuple(r) for r in raw]
        return [tuple(v if p is None or v is None else p(v) for v, p in zip(r, procs, strict=True)) for r in raw]


class Prepared:
    """A Core statement executed without SQLAlchemy's per-execution work (see the module's docstring).

    `all`/`one_or_none`/`scalar` run it in the transaction of a SQLAlchemy `Connection` (the session's);
    rows are plain tuples, `keys` their column names.
    """

    def __init__(self, stmt: Any, *, column_keys: Sequence[str] | None = None) -> None:
        self.stmt = stmt
        self.column_keys = column_keys
        self.keys: tuple[str, ...] = tuple(c.key for c in _columns(stmt))
        self.Row: Any = namedtuple("Row", self.keys, rename=True)  # type: ignore[misc]
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, conn: Connection) -> _Compiled:
        dialect = conn.dialect
        c = self._by_dialect.get(dialect.name)
        if c is None:
            c = self._by_dialect[dialect.name] = _Compiled(self.stmt, dialect, self.column_keys)
        return c

    def _execute(self, conn: Connection, params: Any, *, many: bool = False) -> tuple[_Compiled, Any]:
        """Run on a cursor of the connection's driver connection; the driver's errors become SQLAlchemy's
        (`IntegrityError`, `OperationalError`, …: the app's handlers answer them), without parameters,
        which may hold personal data. What is held back (`hold`) and writes queued by `write_behind` go first, in
        one pipeline with this one."""
        if _HELD:
            send_held(conn)
        c = self._compiled(conn)
        raw = conn.connection.dbapi_connection
        behind = conn.info.get(_BEHIND)
        if behind:
            if many:  # psycopg's executemany syncs a pipeline of its own: the queue goes first, on its own
                flush_behind(conn)
            else:
                return c, _with_behind(conn, raw, behind, c, params)
        cur = raw.cursor()  # type: ignore[union-attr]
        try:
            if many:
                cur.executemany(c.sql, [c.params(p) for p in params])
            else:
                cur.execute(c.sql, c.params(params))
        except conn.dialect.loaded_dbapi.Error as err:
            cur.close()
            raise driver_error(conn, err, c.sql) from err
        return c, cur

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row of the result (none for a statement without RETURNING); in psycopg's pipeline mode (store.halls
        `pipelined`) it waits for the answers of the statements sent before it."""
        return self.pending(conn, params)()

    def pending(self, conn: Connection, params: Mapping[str, Any]) -> Callable[[], list[tuple[Any, ...]]]:
        """Send the statement and answer a function that reads its rows later: in psycopg's pipeline mode the
        statement is queued, and its rows are there once the pipeline has synced (store.halls `begin_and_lock`)."""
        c, cur = self._execute(conn, params)

        def rows() -> list[tuple[Any, ...]]:
            # Rows are fetched before the description is read: in pipeline mode the description is there only
            # once the fetch has waited for the statement's answer.
            try:
                return c.rows(cur.fetchall(), cur.description) if self.keys else []
            finally:
                cur.close()

        return rows

    def sql(self, conn: Connection) -> str:
        """The statement's SQL for the connection's dialect (for error messages)."""
        return self._compiled(conn).sql

    def named(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every row, as named tuples (`row.id`, …)."""
        return [self.Row._make(r) for r in self.all(conn, params)]

    def one_or_none(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The only row, or None."""
        rows = self.all(conn, params)
        if len(rows) > 1:
            raise ValueError(f"expected at most one row, got {len(rows)}")
        return rows[0] if rows else None

    def scalar_row(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The only row (an aggregate's)."""
        row = self.one_or_none(conn, params)
        if row is None:
            raise ValueError("expected one row, got none")
        return row

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first column of the only row."""
        return self.scalar_row(conn, params)[0]

    def run(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Execute a statement without rows; the number of rows it changed."""
        _, cur = self._execute(conn, params)
        changed = int(cur.rowcount)
        cur.close()
        return changed

    def defer(self, conn: Connection, params: Mapping[str, Any]) -> None:
        """Execute a statement whose answer (rows, rowcount) nobody reads: inside `write_behind`, queued and sent
        with the next statement; else now."""
        behind = conn.info.get(_BEHIND)
        if behind is None:
            self.run(conn, params)
        else:
            behind.append((self, params))

    def many(self, conn: Connection, params: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per parameter set (executemany)."""
        _, cur = self._execute(conn, params, many=True)
        cur.close()


class UpdateById:
    """`UPDATE <table> SET <the changed columns> WHERE id = :pk`, one `Prepared` per set of columns changed."""

    def __init__(self, table: Table) -> None:
        self._table = table
        self._by_columns: dict[tuple[str, ...], Prepared] = {}

    def run(self, conn: Connection, pk: Any, changes: Mapping[str, Any]) -> None:
        """Set `changes` on the row whose id is `pk` (inside `write_behind`: with the next statement)."""
        keys = tuple(sorted(changes))
        stmt = self._by_columns.get(keys)
        if stmt is None:
            t = self._table
            stmt = self._by_columns[keys] = Prepared(
                update(t).where(t.c.id == bindparam("pk")).values({k: bindparam("v_" + k) for k in keys})
            )
        stmt.defer(conn, {"pk": pk} | {"v_" + k: v for k, v in changes.items()})


def driver_error(conn: Connection, err: Exception, sql: str) -> DBAPIError:
    """The driver's error as SQLAlchemy's (`IntegrityError`, `OperationalError`, …), without parameters, which
    may hold personal data; a connection the error left broken (psycopg's `broken`/`closed`) is invalidated, so
    the pool replaces it and the exception says so (`connection_invalidated`)."""
    raw = conn.connection.dbapi_connection
    broken = bool(getattr(raw, "broken", False) or getattr(raw, "closed", False))
    if broken:
        conn.invalidate(err)
    wrapped = DBAPIError.instance(
        sql,
        None,
        err,
        conn.dialect.loaded_dbapi.Error,
        hide_parameters=True,
        dialect=conn.dialect,
        connection_invalidated=broken,
    )
    assert isinstance(wrapped, DBAPIError)  # a driver error always becomes one
    return wrapped


@contextlib.contextmanager
def write_behind(conn: Connection) -> Iterator[None]:
    """PostgreSQL (psycopg): inside, `Prepared.defer` (and `UpdateById.run`) queue their statement; the next
    statement on the connection (a `Prepared` one, or one through SQLAlchemy on an engine that listens with
    `flush_before_cursor`) sends the queue first, in the same pipeline: one network wait for all. The caller
    sends what is left with `flush_behind` before the block ends (what is queued at an exception is dropped:
    the transaction is to be rolled back). A queued statement's failure is raised by the statement that sent
    it, and marks the connection (`failed_behind`) until the next `write_behind`."""
    info = conn.info
    info[_BEHIND] = []
    info.pop(_FAILED, None)
    try:
        yield
    finally:
        info.pop(_BEHIND, None)


def failed_behind(conn: Connection) -> bool:
    """Whether a queued write of the last `write_behind` on this connection failed (even if the error was caught)."""
    return bool(conn.info.get(_FAILED))


def flush_behind(conn: Connection) -> None:
    """Send the writes queued by `write_behind` now (one pipeline, one network wait), if any."""
    behind = conn.info.get(_BEHIND)
    if not behind:
        return
    raw = conn.connection.dbapi_connection
    if raw.pgconn.pipeline_status != 0:  # type: ignore[union-attr]  # in a pipeline already: they join it
        _send(conn, raw, behind)
        return
    try:
        with raw.pipeline():  # type: ignore[union-attr]
            _send(conn, raw, behind)
    except conn.dialect.loaded_dbapi.Error as err:
        conn.info[_FAILED] = True
        raise driver_error(conn, err, "queued writes") from err


def flush_before_cursor(conn: Connection, *_: Any) -> None:
    """A SQLAlchemy `before_cursor_execute` listener: the queued writes go before a statement run through
    SQLAlchemy (it reads its answer at once, so it cannot join their pipeline: one more wait)."""
    if conn.info.get(_BEHIND) and conn.connection.dbapi_connection.pgconn.pipeline_status == 0:  # type: ignore[union-attr]
        flush_behind(conn)


def _send(conn: Connection, raw: Any, behind: list[tuple[Prepared, Mapping[str, Any]]]) -> None:
    """Queue the writes on the connection, in pipeline mode (their cursors are read by the pipeline's sync)."""
    queued = list(behind)
    behind.clear()
    for stmt, params in queued:
        c = stmt._compiled(conn)
        raw.cursor().execute(c.sql, c.params(params))


def _with_behind(conn: Connection, raw: Any, behind: list[Any], c: _Compiled, params: Any) -> Any:
    """The queued writes and then this statement in one pipeline (joining one already open); its cursor."""
    if raw.pgconn.pipeline_status != 0:
        _send(conn, raw, behind)
        cur = raw.cursor()
        cur.execute(c.sql, c.params(params))
        return cur
    cur = raw.cursor()
    try:
        with raw.pipeline():
            _send(conn, raw, behind)
            cur.execute(c.sql, c.params(params))
    except conn.dialect.loaded_dbapi.Error as err:
        cur.close()
        conn.info[_FAILED] = True
        raise driver_error(conn, err, c.sql) from err
    return cur
