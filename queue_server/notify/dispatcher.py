"""The dispatcher: sends pending outbox rows, retries with backoff, dead-letters, survives restarts.

Delivery is at-least-once on the wire and exactly-once for the citizen:

- A row is marked `sent` only after the provider accepted it (a 2xx answer from the webhook).
- Claiming a row raises its `attempts` and moves `next_attempt_at` a lease into the future, by a
  conditional UPDATE (still pending, same `attempts`, due): of two server processes (or a process and its
  restarted self) exactly one wins a row, on SQLite and PostgreSQL alike, without holding locks while
  sending.
- If the process dies between sending and marking, the row becomes due again when its lease ends and is
  sent again **with the same `msg_id`**; the gateway drops the repeat by that id (the webhook body's
  "id"), so the citizen gets the message once.

Sending happens on the event loop with timeouts; every database step runs in a worker thread, and no
transaction is open while a message is on the wire: a slow or failing gateway delays only messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import timedelta

import orjson
from sqlalchemy import select, update
from sqlmodel import col

from ..config import NotifyConfig
from ..crypto import PiiCipher, PiiDecryptError
from ..db import Database
from ..ids import mask_phone
from ..timeutil import utcnow
from . import outbox
from .models import DEAD, PENDING, SENT, Notification
from .providers import DeliveryError, OutgoingMessage, Provider, make_provider

__all__ = ["Dispatcher"]

log = logging.getLogger("queue_server.notify")

_rng = random.SystemRandom()
N = Notification


@dataclass(slots=True)
class _Claim:
    id: int
    attempts: int  # including this attempt
    msg: OutgoingMessage | None  # None: the phone number cannot be decrypted (e.g. the secret changed)


def _scrub(reason: str, phone: str) -> str:
    """An error text fit for storage and logs: never the full phone number, at most 300 characters."""
    if phone and phone in reason:
        reason = reason.replace(phone, mask_phone(phone))
    return reason[:300]


class Dispatcher:
    """Delivers the notification outbox of one database through the configured provider."""

    def __init__(
        self,
        db: Database,
        cipher: PiiCipher,
        config: NotifyConfig,
        *,
        provider: Provider | None = None,
        batch_size: int = 20,
        concurrency: int = 8,
        poll_s: float = 1.0,
        backoff_base_s: float = 2.0,
        backoff_cap_s: float = 300.0,
        lease_s: float | None = None,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.config = config
        self.provider: Provider = provider if provider is not None else make_provider(config)
        self.batch_size = batch_size
        self.poll_s = poll_s
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        # Longer than any send may take (the provider's timeout bounds it), or a row would go out twice.
        self.lease_s = lease_s if lease_s is not None else config.timeout_s + 60.0
        self.sent = 0
        self.failed = 0
        self._limit = asyncio.Semaphore(concurrency)
        self._wakeup = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._running = False
        self._finished = asyncio.Event()

    # --- life cycle -------------------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        """Run the dispatcher as a task of the running event loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name="notify-dispatcher")
        return self._task

    async def run(self) -> None:
        """Send due messages until `stop()`: claim a batch, send it, then wait for a wake-up or the poll."""
        self._loop = asyncio.get_running_loop()
        self._running = True
        outbox.register(self, self.db.engine)
        try:
            while not self._stopping:
                self._wakeup.clear()  # before claiming: a wake-up during the round starts another
                try:
                    n = await self.run_once()
                except Exception:  # a database blip: keep going, the rows wait
                    log.exception("notify: dispatch round failed")
                    n = 0
                if n >= self.batch_size or self._stopping:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self.poll_s)
        finally:
            outbox.unregister(self)
            with contextlib.suppress(Exception):
                await self.provider.aclose()
            self._running = False
            self._finished.set()

    def wake(self) -> None:
        """Look for due messages now (thread-safe; call after committing an enqueue)."""
        loop = self._loop
        if loop is None:
            return  # not running yet: the first round looks anyway
        with contextlib.suppress(RuntimeError):  # the loop is closed
            loop.call_soon_threadsafe(self._wakeup.set)

    async def stop(self, grace_s: float | None = None) -> None:
        """Finish the messages on the wire (up to `grace_s`, default the send timeout + 5 s), then stop."""
        self._stopping = True
        self.wake()
        task = self._task
        if task is None and not self._running:
            return
        grace = grace_s if grace_s is not None else self.config.timeout_s + 5.0
        done = task if task is not None else self._finished.wait()
        try:
            await asyncio.wait_for(asyncio.shield(done), grace)
        except TimeoutError:
            # Rows still on the wire stay claimed; after their lease they go out again with the same id.
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # --- one round ----------------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim up to `batch_size` due messages and send them; returns how many were claimed."""
        claims = await asyncio.to_thread(self._claim)
        if not claims:
            return 0
        # Messages of one ticket go out in order; different tickets in parallel.
        groups: dict[tuple[str, str], list[_Claim]] = {}
        for c in claims:
            key = (c.msg.hall, c.msg.ticket) if c.msg is not None else ("", str(c.id))
            groups.setdefault(key, []).append(c)
        await asyncio.gather(*(self._send_group(g) for g in groups.values()))
        return len(claims)

    async def _send_group(self, claims: list[_Claim]) -> None:
        async with self._limit:
            for c in claims:
                if self._stopping:  # shutting down: hand the rest back for the next start, not after the lease
                    await asyncio.to_thread(self._release, c)
                    continue
                error, final = await self._deliver(c)
                try:
                    await asyncio.to_thread(self._mark, c, error, final)
                except Exception:
                    # Not recorded: the row stays claimed and is sent again, same id, after the lease.
                    log.exception("notify: cannot record the outcome of notification %d", c.id)

    async def _deliver(self, c: _Claim) -> tuple[str | None, bool]:
        """Send one message: (None, _) when delivered, else (reason, whether retrying is pointless)."""
        if c.msg is None:
            return "the phone number cannot be decrypted (was the secret key changed?)", True
        try:
            await self.provider.send(c.msg)
        except DeliveryError as exc:
            return _scrub(exc.reason, c.msg.phone), False
        except Exception as exc:  # a provider bug must not stop the dispatcher
            return f"provider error: {type(exc).__name__}", False
        return None, False

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after `attempts` failed ones: base·2^(n-1), capped, plus ≤25 % jitter."""
        delay = min(self.backoff_cap_s, self.backoff_base_s * 2 ** max(0, attempts - 1))
        return delay * (1.0 + _rng.uniform(0.0, 0.25))

    # --- database steps (worker threads) ------------------------------------------------------------

    def _claim(self) -> list[_Claim]:
        now = utcnow()
        due_q = (
            select(col(N.id), col(N.attempts))
            .where(col(N.status) == PENDING, col(N.next_attempt_at) <= now)
            .order_by(col(N.next_attempt_at), col(N.id))
            .limit(self.batch_size)
        )
        with self.db.read() as s:  # idle rounds never take the write lock
            due = s.execute(due_q).all()
        if not due:
            return []
        lease_until = now + timedelta(seconds=self.lease_s)
        won: list[int] = []
        with self.db.write() as s:
            conn = s.connection()
            for row_id, attempts in due:
                r = conn.execute(
                    update(N)
                    .where(
                        col(N.id) == row_id,
                        col(N.status) == PENDING,
                        col(N.attempts) == attempts,
                        col(N.next_attempt_at) <= now,
                    )
                    .values(attempts=attempts + 1, next_attempt_at=lease_until)
                )
                if r.rowcount == 1:
                    won.append(row_id)
            rows = s.execute(select(N).where(col(N.id).in_(won)).order_by(col(N.id))).scalars().all() if won else []
        return [self._prepare(r) for r in rows]

    def _prepare(self, row: Notification) -> _Claim:
        assert row.id is not None
        try:
            phone = self.cipher.decrypt(row.phone_enc, context="phone")
        except PiiDecryptError:
            return _Claim(row.id, row.attempts, None)
        ticket, text = row.ticket, row.text
        params: dict[str, str] = orjson.loads(row.params) if row.params else {}
        if row.secret:  # the message as sent; the row's own columns are as staff see it (outbox.py)
            sent = orjson.loads(row.secret)
            ticket, text = str(sent["ticket"]), str(sent["text"])
            params = sent.get("params", params)
        msg = OutgoingMessage(
            row.msg_id, row.kind, row.hall_code, ticket, phone, text, row.created_at, row.ticket, row.text, params
        )
        return _Claim(row.id, row.attempts, msg)

    def _release(self, c: _Claim) -> None:
        with self.db.write() as s:
            s.connection().execute(
                update(N)
                .where(col(N.id) == c.id, col(N.status) == PENDING, col(N.attempts) == c.attempts)
                .values(attempts=c.attempts - 1, next_attempt_at=utcnow())
            )

    def _mark(self, c: _Claim, error: str | None, final: bool) -> None:
        now = utcnow()
        if error is None:
            # Delivered: record it even if another process reclaimed the row meanwhile.
            stmt = (
                update(N)
                .where(col(N.id) == c.id, col(N.status).in_((PENDING, DEAD)))
                .values(status=SENT, sent_at=now, last_error=None, secret=None)
            )
            self.sent += 1
        else:
            self.failed += 1
            mine = update(N).where(col(N.id) == c.id, col(N.status) == PENDING, col(N.attempts) == c.attempts)
            if final or c.attempts >= self.config.max_attempts:
                stmt = mine.values(status=DEAD, last_error=error)
                log.warning("notify: notification %d is dead after %d attempts: %s", c.id, c.attempts, error)
            else:
                retry_at = now + timedelta(seconds=self.backoff(c.attempts))
                stmt = mine.values(next_attempt_at=retry_at, last_error=error)
                log.info("notify: notification %d failed (attempt %d): %s", c.id, c.attempts, error)
        with self.db.write() as s:
            if s.connection().execute(stmt).rowcount != 1:
                log.info("notify: notification %d changed meanwhile; outcome not recorded", c.id)
