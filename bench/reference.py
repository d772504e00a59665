"""The reference endpoint for `run.py issue`: the least a ticket needs, on the same database (SQLite or PostgreSQL).

`POST /api/v1/halls/t1/tickets` checks the kiosk's bearer token, allocates the queue's next number (the
same counter row) and inserts one ticket row, then answers 201 — no calendar, no caps, no estimate, no
event, no outbox. Durability is the product's: WAL, `synchronous` from HALL_SQLITE_SYNCHRONOUS (FULL by
default), nobody answered before the commit, with the commits grouped the same way (one thread commits
whatever arrived while the previous batch was written). The schema and the hall's rows come from the
product's own migration and configuration sync, so `check_issuance` checks the reference's tickets too.
On PostgreSQL the same two statements run on one psycopg connection (the same schema, through the URL's
`search_path`), a transaction per batch, committed with the server's own `synchronous_commit`.

    HALL_DATABASE_URL=sqlite:///… HALL_SECRET_KEY=… python bench/reference.py --config FILE --port P
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import uvicorn
from sqlalchemy.engine import make_url

from queue_server.app import build_context, prepare
from queue_server.services.auth import token_digest
from queue_server.settings import Settings, resolve

HALL = "t1"
PATH = f"/api/v1/halls/{HALL}/tickets"
_COUNTER = (
    "INSERT INTO ticket_counter (hall_code, service_day, queue_code, last) VALUES (?, ?, ?, 1) "
    "ON CONFLICT (hall_code, service_day, queue_code) DO UPDATE SET last = last + 1 RETURNING last"
)
_COUNTER_PG = _COUNTER.replace("?", "%s").replace("last = last", "last = ticket_counter.last")
_TICKET = (
    "INSERT INTO ticket (hall_code, service_day, issue_queue, seq, number, queue, lane, status, channel, "
    "arrived_at, issued_at, track_token, recalls) "
    "VALUES (?, ?, ?, ?, ?, ?, 'normal', 'waiting', 'kiosk', ?, ?, ?, 0) RETURNING id"
)


class Reference:
    """The ASGI app: token, number, row, commit (grouped), answer."""

    def __init__(self, url: str, synchronous: str, digests: set[str], queues: set[str], tz: ZoneInfo) -> None:
        self.pg = not url.startswith("sqlite")
        if self.pg:
            import psycopg

            u = make_url(url).set(drivername="postgresql")
            self.db: Any = psycopg.connect(u.render_as_string(hide_password=False), autocommit=True)
        else:
            self.db = sqlite3.connect(make_url(url).database or "", isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=WAL", f"synchronous={synchronous}", "foreign_keys=ON"):
                self.db.execute(f"PRAGMA {pragma}")
        self.digests, self.queues, self.tz = digests, queues, tz
        self.pending: list[tuple[str, asyncio.Future[dict[str, Any]]]] = []
        self.writing = False
        self._task: asyncio.Task[None] | None = None  # the running writer (held: the loop keeps weak references)

    def _write(self, batch: list[str]) -> list[dict[str, Any]]:
        """One transaction for the batch (on a thread): each ticket's number and row."""
        now = datetime.now(UTC)
        day, at = now.astimezone(self.tz).date().isoformat(), now.replace(tzinfo=None).isoformat(" ")
        counter, ticket = (_COUNTER, _TICKET) if not self.pg else (_COUNTER_PG, _TICKET.replace("?", "%s"))
        if self.pg:
            day, at = now.astimezone(self.tz).date(), now.replace(tzinfo=None)  # type: ignore[assignment]
        out = []
        self.db.execute("BEGIN" if self.pg else "BEGIN IMMEDIATE")
        try:
            for queue in batch:
                seq = self.db.execute(counter, (HALL, day, queue)).fetchone()[0]
                number = f"{queue}{seq:03d}"
                row = (HALL, day, queue, seq, number, queue, at, at, secrets.token_urlsafe(24))
                tid = self.db.execute(ticket, row).fetchone()[0]
                out.append({"id": tid, "number": number, "queue": queue, "status": "waiting"})
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return out

    async def _writer(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending, []
                try:
                    results = await asyncio.to_thread(self._write, [q for q, _ in batch])
                except Exception as exc:
                    for _, fut in batch:
                        fut.set_exception(exc)
                    continue
                for (_, fut), res in zip(batch, results, strict=True):
                    fut.set_result(res)
        finally:
            self.writing = False

    async def issue(self, queue: str) -> dict[str, Any]:
        """Queue one ticket for the next commit; its row once committed."""
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending.append((queue, fut))
        if not self.writing:  # one writer at a time: the others' tickets wait for its next batch
            self.writing = True
            self._task = asyncio.get_running_loop().create_task(self._writer())
        return await fut

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/healthz":
            return await _answer(send, 200, {"status": "ok"})
        if scope["path"] != PATH or scope["method"] != "POST":
            return await _answer(send, 404, {"detail": "Not Found"})
        auth = dict(scope["headers"]).get(b"authorization", b"").decode()
        if not auth.startswith("Bearer ") or token_digest(auth[7:]) not in self.digests:
            return await _answer(send, 401, {"detail": "Not authenticated"})
        body, more = b"", True
        while more:
            msg = await receive()
            body, more = body + msg.get("body", b""), msg.get("more_body", False)
        queue = orjson.loads(body).get("queue")
        if queue not in self.queues:
            return await _answer(send, 422, {"detail": "unknown queue"})
        await _answer(send, 201, await self.issue(queue))


async def _answer(send: Any, status: int, body: dict[str, Any]) -> None:
    raw = orjson.dumps(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


def main() -> int:
    """Prepare the database as the product does, then serve the reference endpoint."""
    p = argparse.ArgumentParser()
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    rt = resolve(Settings(config=args.config))
    ctx = build_context(rt)
    prepare(ctx)
    ctx.close()
    hall = next(h for h in rt.config.halls if h.code == HALL)
    digests = {token_digest(d.token.get_secret_value()) for d in rt.config.devices if d.hall == HALL}
    app = Reference(
        rt.database_url,
        rt.settings.sqlite_synchronous,
        digests,
        {q.code for q in hall.queues},
        ZoneInfo(hall.timezone),
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
