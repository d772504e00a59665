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
from queue_server.services import issuing  # noqa: E402
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


def parse(trace: str) -> list[list[tuple[str, str]]]:
    """The frontend's messages grouped into waits: [(kind, statement SQL)], each group ending with a wait."""
    named: dict[str, str] = {}
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=40, help="batches, alternately at the two processes")
    ap.add_argument("--batch", type=int, default=8, help="issues submitted at once per round")
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

        for ctx in procs * 2:  # warm: each lane has its connection and its memo
            asyncio.run(issue(ctx, 2))
        traces = [tmp / "a.trace", tmp / "b.trace"]
        files = [open(p, "w") for p in traces]  # noqa: SIM115 - libpq writes to them until the end
        for ctx, f in zip(procs, files, strict=True):
            pgconn = _lane_connection(ctx).pgconn
            pgconn.trace(f.fileno())
            pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        before = [ctx.writer.batches for ctx in procs]  # type: ignore[union-attr]
        for r in range(args.rounds):
            asyncio.run(issue(procs[r % 2], args.batch))
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
