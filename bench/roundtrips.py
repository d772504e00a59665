"""What one writer batch sends to PostgreSQL when two server processes change one hall in turn: statements,
network waits, and those while the hall's row is locked — exact counts, from libpq's protocol trace.

Two server contexts (two writers, as two `hall serve` processes have) on a fresh schema issue tickets of
hall t1 in turn: each round submits `--batch` issues at once to one of them, the next round to the other, so
every batch finds the hall changed by the other process. libpq's trace (`PQtrace`) of each writer lane's
connection records every protocol message. A *wait* is a message after which the client waits for the
server (`Sync`, a simple `Query`, `Flush`); the hall is locked from the `SELECT … FOR UPDATE` through the
`COMMIT`.

    .venv/bin/python bench/roundtrips.py --rounds 40 --batch 8
    # the same for another tree (A/B): its code, this script
    PYTHONPATH=/tmp/old .venv/bin/python bench/roundtrips.py --rounds 40 --batch 8

`--procs 1`: every round at the same process (one server process on the hall): its writer committed the hall
last at every batch and runs the batch's issues ahead of the lock's answer with its own memo (writer.py
`_run_ahead`); with two, with the memo the other process stored in the hall row.

`--mode call`: the windows' changes instead (the console's buttons), with `--batch` windows (1-4) of hall t1
acting at once, each round at the other process: in turn a round of call-next (free windows), of F9
(complete-and-call-next) and of complete. Counted per round's batch and per change, by kind.

    .venv/bin/python bench/roundtrips.py --mode call --rounds 60 --batch 4

The result goes to stdout (and `--json FILE`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import pq
from pydantic import SecretStr

BENCH = Path(__file__).resolve().parent
if str(BENCH.parent) not in sys.path:  # PYTHONPATH (an older tree) comes first; else this tree
    sys.path.append(str(BENCH.parent))

from queue_server.app import build_context, prepare  # noqa: E402
from queue_server.context import HallContext  # noqa: E402
from queue_server.migrations import upgrade  # noqa: E402
from queue_server.services import halls as hall_svc  # noqa: E402
from queue_server.services import issuing  # noqa: E402
from queue_server.services import tickets as ticket_svc  # noqa: E402
from queue_server.services.auth import Principal  # noqa: E402
from queue_server.settings import Settings, resolve  # noqa: E402

PG_BASE = os.environ.get("HALL_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CONFIG = BENCH.parent / "tests" / "data" / "hall.toml"
SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123"
WAITS = ("Sync", "Query", "Flush")


def _context(url: str, var: Path) -> HallContext:
    settings = Settings(config=CONFIG, database_url=url, secret_key=SecretStr(SECRET), var_dir=var)
    return build_context(resolve(settings))


def _lane_connection(ctx: HallContext) -> psycopg.Connection[Any]:
    assert ctx.writer is not None
    lane = ctx.writer._lane_of["t1"]  # a measuring tool looks inside
    engine = lane._engine
    assert engine is not None
    raw = engine.raw_connection()  # the lane's only connection, idle in its pool of one
    conn = raw.driver_connection
    raw.close()  # back to the pool: the lane takes the same connection again
    assert isinstance(conn, psycopg.Connection)
    return conn


_MSG = re.compile(r"^F\t\d+\t(\w+)\t?(.*)$")


def parse(trace: str, named: dict[str, str] | None = None) -> list[list[tuple[str, str]]]:
    """The frontend's messages grouped into waits: [(kind, statement SQL)], each group ending with a wait.
    `named`: the connection's prepared statements by name, kept from trace to trace of one connection."""
    named = {} if named is None else named
    groups: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    last_bound = ""
    messages: list[str] = []
    for line in trace.splitlines():  # a statement's SQL may span lines
        if line[:2] in ("F\t", "B\t") or not messages:
            messages.append(line)
        else:
            messages[-1] += " " + line
    for line in messages:
        m = _MSG.match(line)
        if m is None:
            continue
        kind, rest = m.groups()
        if kind == "Parse":
            name, sql = re.search(r'"([^"]*)" "(.*)"', rest, re.S).groups()  # type: ignore[union-attr]
            named[name] = sql
        elif kind == "Bind":
            last_bound = named.get(re.search(r'"[^"]*" "([^"]*)"', rest).group(1), "?")  # type: ignore[union-attr]
        elif kind == "Execute":
            current.append(("statement", last_bound))
        elif kind == "Query":
            current.append(("statement", rest.strip().strip('"')))
        if kind == "Flush" and not current:  # psycopg's pipeline flushes after its Sync: the same wait
            continue
        if kind in WAITS:
            current.append((kind, ""))
            groups.append(current)
            current = []
    return groups


def batches(groups: list[list[tuple[str, str]]]) -> list[dict[str, Any]]:
    """Per batch: statements and waits in all, and while the hall is locked (FOR UPDATE … COMMIT)."""
    out: list[dict[str, Any]] = []
    cur: dict[str, Any] | None = None
    pending_ping: list[str] = []
    for g in groups:
        sqls = [sql for kind, sql in g if kind == "statement"]
        if any(s.strip().upper().startswith("BEGIN") for s in sqls):
            cur = {"statements": len(pending_ping), "waits": len(pending_ping), "locked_statements": 0}
            cur |= {"locked_waits": 0, "open": True, "locked": False, "sql": list(pending_ping)}
            out.append(cur)
            pending_ping = []
        elif cur is None or not cur["open"]:
            pending_ping.extend(sqls)  # a checkout ping before the batch's BEGIN
            continue
        cur["statements"] += len(sqls)
        cur["waits"] += 1
        cur["sql"].extend(s[:60] for s in sqls)
        if any("FOR UPDATE" in s for s in sqls):
            cur["locked"] = True
        if cur["locked"]:
            cur["locked_statements"] += sum(1 for s in sqls if not s.strip().upper().startswith("BEGIN"))
            cur["locked_waits"] += 1
        if any(s.strip().upper() == "COMMIT" for s in sqls):
            cur["locked"] = cur["open"] = False
    return out


CLERK = Principal(kind="user", name="bench-clerk", role="admin", hall=None)
WINDOWS = (1, 2, 4, 5)  # hall t1's windows of queues A and B (tests/data/hall.toml)
KINDS = ("call-next", "f9", "complete")


def _sum(rows: list[dict[str, Any]], changes: int) -> dict[str, Any]:
    keys = ("statements", "waits", "locked_statements", "locked_waits")
    out: dict[str, Any] = {"batches": len(rows), "changes": changes}
    out["per_batch"] = {k: round(sum(b[k] for b in rows) / max(len(rows), 1), 2) for k in keys}
    out["per_change"] = {k: round(sum(b[k] for b in rows) / max(changes, 1), 2) for k in keys}
    return out


def calls(procs: list[HallContext], rounds: int, width: int, tmp: Path) -> dict[str, Any]:
    """`--mode call`: rounds of call-next, F9 and complete at `width` windows, each round's batch traced alone."""
    windows = WINDOWS[: max(1, min(width, len(WINDOWS)))]
    current: dict[int, int] = {}

    async def run(ctx: HallContext, kind: str) -> list[Any]:
        def change(n: int) -> Callable[[Any], Any]:
            if kind == "call-next":
                return lambda tx: ticket_svc.call_next(tx, number=n, actor=CLERK)
            if kind == "f9":
                return lambda tx: ticket_svc.complete_and_call_next(tx, number=n, ticket_id=current[n], actor=CLERK)
            return lambda tx: ticket_svc.act(tx, ticket_id=current[n], action="complete", actor=CLERK).ticket.id

        got = await asyncio.gather(*(ctx.change("t1", change(n)) for n in windows))
        for n, o in zip(windows, got, strict=True):
            if kind == "complete":
                current.pop(n, None)
            else:
                assert o is not None, "the queues ran dry: issue more"
                current[n] = o.ticket.id
        return got

    async def setup(ctx: HallContext) -> None:
        for n in windows:
            await ctx.change(
                "t1", lambda tx, n=n: hall_svc.set_window_status(tx, number=n, status="open", reason="", actor=CLERK).id
            )
        for _ in range(rounds * len(windows) // 8 + 2):
            await asyncio.gather(
                *(
                    ctx.change_staged("t1", lambda tx, q="AB"[i % 2]: issuing.issue_staged(tx, queue=q))
                    for i in range(8)
                )
            )

    # Traced from the lanes' first statement (psycopg prepares a statement after a few runs: its Parse, with the
    # SQL, is in an earlier trace than the round's), then each round's batch in its own file.
    warm = [tmp / "warm-a.trace", tmp / "warm-b.trace"]
    files = [open(p, "w") for p in warm]  # noqa: SIM115 - libpq writes to them until untraced
    for ctx in procs:  # the lane opens its connection (one batch: below psycopg's threshold for preparing)
        asyncio.run(ctx.change("t1", lambda tx: None))
    for ctx, f in zip(procs, files, strict=True):
        pgconn = _lane_connection(ctx).pgconn
        pgconn.trace(f.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
    asyncio.run(setup(procs[0]))
    asyncio.run(run(procs[1], "call-next"))  # warm: each lane has its memo
    asyncio.run(run(procs[0], "complete"))
    for ctx in procs:
        _lane_connection(ctx).pgconn.untrace()
    for f in files:
        f.close()
    by_kind: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    changes = dict.fromkeys(KINDS, 0)
    examples: dict[str, list[str]] = {}
    prepared: list[dict[str, str]] = [{}, {}]  # each lane connection's named statements (psycopg prepares)
    for names, p in zip(prepared, warm, strict=True):
        parse(p.read_text(), names)
    for r in range(rounds):
        ctx, kind = procs[r % 2], KINDS[r % 3]
        path = tmp / f"round-{r}.trace"
        with open(path, "w") as f:
            pgconn = _lane_connection(ctx).pgconn
            pgconn.trace(f.fileno())
            pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
            asyncio.run(run(ctx, kind))
            pgconn.untrace()
        rows = batches(parse(path.read_text(), prepared[r % 2]))
        by_kind[kind] += rows
        changes[kind] += len(windows)
        if rows and kind not in examples:
            examples[kind] = rows[0]["sql"]
    return {
        "windows": len(windows),
        "rounds": rounds,
        "by_kind": {k: _sum(by_kind[k], changes[k]) for k in KINDS},
        "example": examples,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=("issue", "call"), default="issue", help="take-a-number, or the windows' changes")
    ap.add_argument("--rounds", type=int, default=40, help="batches, alternately at the two processes")
    ap.add_argument("--batch", type=int, default=8, help="issues submitted at once per round (call: windows, 1-4)")
    ap.add_argument("--procs", type=int, choices=(1, 2), default=2, help="issue: the processes taking turns")
    ap.add_argument("--json", type=Path, help="write the result here too")
    args = ap.parse_args()
    schema = f"bench_rt_{os.getpid()}"
    with psycopg.connect(PG_BASE.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    url = f"{PG_BASE}?options=-csearch_path%3D{schema}"
    tmp = Path(tempfile.mkdtemp(prefix="hall-roundtrips-"))
    try:
        upgrade(url)
        procs = [_context(url, tmp / "a"), _context(url, tmp / "b")]
        prepare(procs[0], migrate=False)
        if args.mode == "call":
            result = {"code": str(Path(sys.modules["queue_server"].__file__ or "").parent)}
            result |= calls(procs, args.rounds, args.batch, tmp)
            for ctx in procs:
                ctx.close()
            text = json.dumps(result, indent=2, ensure_ascii=False)
            print(text)
            if args.json:
                args.json.write_text(text)
            return

        async def issue(ctx: HallContext, n: int) -> None:
            # As the route takes a number: in two steps where the tree has them (issue_staged), else in one go.
            if hasattr(issuing, "issue_staged"):
                await asyncio.gather(
                    *(
                        ctx.change_staged("t1", lambda tx, q="AB"[i % 2]: issuing.issue_staged(tx, queue=q))
                        for i in range(n)
                    )
                )
                return
            await asyncio.gather(
                *(
                    ctx.change("t1", lambda tx, q="AB"[i % 2]: issuing.issue(tx, queue=q).ticket.number)
                    for i in range(n)
                )
            )

        turns = procs[: args.procs]
        for ctx in procs * 2:  # warm: each lane has its connection and its memo
            asyncio.run(issue(ctx, 2))
        for ctx in turns * 2:  # and has found how the processes take turns (writer.py `_foreign`)
            asyncio.run(issue(ctx, 2))
        traces = [tmp / "a.trace", tmp / "b.trace"]
        files = [open(p, "w") for p in traces]  # noqa: SIM115 - libpq writes to them until the end
        for ctx, f in zip(procs, files, strict=True):
            pgconn = _lane_connection(ctx).pgconn
            pgconn.trace(f.fileno())
            pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        before = [ctx.writer.batches for ctx in procs]  # type: ignore[union-attr]
        for r in range(args.rounds):
            asyncio.run(issue(turns[r % len(turns)], args.batch))
        for ctx in procs:
            _lane_connection(ctx).pgconn.untrace()
        for f in files:
            f.close()
        made = sum(ctx.writer.batches - b for ctx, b in zip(procs, before, strict=True))  # type: ignore[union-attr]
        rows = [b for p in traces for b in batches(parse(p.read_text()))]
        for ctx in procs:
            ctx.close()
    finally:
        with psycopg.connect(PG_BASE.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    issued = args.rounds * args.batch
    shapes = Counter((b["statements"], b["waits"], b["locked_statements"], b["locked_waits"]) for b in rows)
    result = {
        "code": str(Path(sys.modules["queue_server"].__file__ or "").parent),
        "rounds": args.rounds,
        "procs": args.procs,
        "issues": issued,
        "batches": made,
        "tickets_per_batch": issued / max(made, 1),
        "per_batch": {
            k: sum(b[k] for b in rows) / max(len(rows), 1)
            for k in ("statements", "waits", "locked_statements", "locked_waits")
        },
        "shapes": [
            {"statements": s, "waits": w, "locked_statements": ls, "locked_waits": lw, "batches": n}
            for (s, w, ls, lw), n in shapes.most_common(6)
        ],
        "example": rows[len(rows) // 2]["sql"] if rows else [],
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
