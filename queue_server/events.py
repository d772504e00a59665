"""Hall events and the in-process hub that fans them out to websocket subscribers in `seq` order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from websockets.frames import Frame, Opcode

from .schemas.events import envelope

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HallEvent:
    """One committed event; `text` is its wire form, serialised once and shared by every subscriber."""

    hall: str
    seq: int
    type: str
    at: datetime
    data: dict[str, Any]
    text: str = field(default="", compare=False)
    # The websocket frame carrying `text` (unmasked, as a server sends it), built once and written as is to
    # every subscriber whose connection did not negotiate compression (api/routes/ws.py `Stream.write_now`).
    frame: bytes = field(default=b"", compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.text and not self.frame:
            object.__setattr__(self, "frame", Frame(Opcode.TEXT, self.text.encode()).serialize(mask=False))

    @classmethod
    def create(cls, hall: str, seq: int, type: str, at: datetime, data: dict[str, Any]) -> HallEvent:
        """Build an event and its wire text."""
        text = orjson.dumps(envelope(seq, type, at.isoformat(), hall, data)).decode()
        return cls(hall, seq, type, at, data, text)

    def message(self) -> dict[str, Any]:
        """The event as the contract's message object (`queue_server.schemas.Envelope`)."""
        return envelope(self.seq, self.type, self.at.isoformat(), self.hall, self.data)


class Subscriber:
    """A bounded mailbox for one websocket client; overflowing marks it for resync instead of blocking.

    While its stream is caught up and idle, `direct` is set: an event then goes straight to the client's
    socket (it returns False when it cannot take it now: the event is queued and the stream's task woken),
    which spares the task a wake-up, a timer and a trip through the ASGI send per event.
    """

    def __init__(self, hall: str, maxsize: int) -> None:
        self.hall = hall
        self.maxsize = maxsize
        self.items: deque[HallEvent] = deque()
        self.wake = asyncio.Event()
        self.overflowed = False
        self.direct: Callable[[HallEvent], bool] | None = None
        self.sent_direct = 0  # events `direct` took

    def push(self, event: HallEvent) -> None:
        """Queue an event without ever waiting; drop the backlog and flag overflow when full."""
        if self.overflowed:
            return
        if self.direct is not None:  # set only while the mailbox is empty (the stream is parked in `wait`)
            if self.direct(event):
                self.sent_direct += 1
                return
            self.direct = None
        if len(self.items) >= self.maxsize:
            self.overflowed = True
            self.items.clear()
        else:
            self.items.append(event)
        self.wake.set()

    def pop(self) -> HallEvent | None:
        """The next queued event, or None when there is none (or the mailbox overflowed)."""
        if self.overflowed or not self.items:
            return None
        return self.items.popleft()

    async def wait(self, timeout: float) -> None:
        """Until something is queued (or the mailbox overflowed, or `wake` is set), at most `timeout` s."""
        if self.items or self.overflowed:
            return
        self.wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, timeout)):
                await self.wake.wait()

    async def next(self, timeout: float) -> HallEvent | None:
        """The next event, or None after `timeout` seconds of quiet or on overflow."""
        await self.wait(timeout)
        return self.pop()


FetchRange = Callable[[str, int, int], list[HallEvent]]


class Hub:
    """Delivers committed events to subscribers of their hall, in gap-free `seq` order.

    Publishers call `publish` from any thread after commit. Events of one hall can reach the hub out of
    order (two transactions committing close together on PostgreSQL, or events from another server
    process), so the hub keeps a small reorder buffer and, if a gap does not close within
    `gap_wait` seconds, reads the missing events from the event table through `fetch_range`.
    """

    def __init__(self, fetch_range: FetchRange, *, max_queue: int = 2000, gap_wait: float = 0.3) -> None:
        self._fetch_range = fetch_range
        self.max_queue = max_queue
        self.gap_wait = gap_wait
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._head: dict[str, int] = {}
        self._pending: dict[str, dict[int, HallEvent]] = {}
        self._gap_timer: dict[str, asyncio.TimerHandle] = {}
        self._subs: dict[str, set[Subscriber]] = {}
        self.on_count: Callable[[str, int], None] | None = None  # (hall, +1 | -1): the metrics' gauge

    def attach(self, loop: asyncio.AbstractEventLoop, heads: dict[str, int]) -> None:
        """Bind to the server's event loop, starting from each hall's committed head."""
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._head = dict(heads)

    def detach(self) -> None:
        """Stop delivering (server shutdown)."""
        for timer in self._gap_timer.values():
            timer.cancel()
        self._gap_timer.clear()
        self._loop = None

    def head(self, hall: str) -> int:
        """The last `seq` delivered for this hall."""
        return self._head.get(hall, 0)

    def publish(self, events: Iterable[HallEvent]) -> None:
        """Hand committed events to the hub; safe from any thread, never blocks."""
        batch = list(events)
        if batch:
            self._on_loop(self._deliver, batch)

    def _on_loop(self, fn: Callable[[Any], None], arg: Any) -> None:
        """Run `fn(arg)` on the hub's loop: now when called there, else as the loop's next callback."""
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            fn(arg)
        else:
            try:
                loop.call_soon_threadsafe(fn, arg)
            except RuntimeError:  # loop closed during shutdown
                log.debug("hub loop closed; %s not run", fn.__name__)

    def advance(self, heads: dict[str, int]) -> None:
        """Another process committed up to these `seq`s in halls nobody here follows: skip them unread.

        Safe from any thread. A hall that has a subscriber by the time this runs is left alone (its
        events are read and delivered as usual); a subscriber that comes later starts from the
        database anyway (snapshot, or replay from its `since`).
        """
        if heads:
            self._on_loop(self._advance, heads)

    def _advance(self, heads: dict[str, int]) -> None:
        for hall, seq in heads.items():
            if self._subs.get(hall) or seq <= self._head.get(hall, 0):
                continue
            self._head[hall] = seq
            self._drain(hall)  # drops what is now behind the head, delivers what follows it

    def subscribe(self, hall: str) -> Subscriber:
        """Register a mailbox for a hall's events (call from the event loop)."""
        sub = Subscriber(hall, self.max_queue)
        self._subs.setdefault(hall, set()).add(sub)
        if self.on_count is not None:
            self.on_count(hall, 1)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        """Forget a mailbox."""
        subs = self._subs.get(sub.hall)
        if subs is not None and sub in subs:
            subs.discard(sub)
            if self.on_count is not None:
                self.on_count(sub.hall, -1)

    def subscribers(self, hall: str) -> list[Subscriber]:
        """The mailboxes of a hall (a copy)."""
        return list(self._subs.get(hall, ()))

    def subscriber_count(self, hall: str | None = None) -> int:
        """How many mailboxes are registered (for one hall or all)."""
        if hall is not None:
            return len(self._subs.get(hall, ()))
        return sum(len(s) for s in self._subs.values())

    def _deliver(self, batch: list[HallEvent]) -> None:
        halls: set[str] = set()
        for ev in batch:
            if ev.seq > self._head.get(ev.hall, 0):
                self._pending.setdefault(ev.hall, {})[ev.seq] = ev
                halls.add(ev.hall)
        for hall in halls:
            self._drain(hall)

    def _drain(self, hall: str) -> None:
        pending = self._pending.get(hall, {})
        start = head = self._head.get(hall, 0)
        subs = self._subs.get(hall, set())
        while head + 1 in pending:
            ev = pending.pop(head + 1)
            head = ev.seq
            for sub in subs:
                sub.push(ev)
        self._head[hall] = head
        for seq in [s for s in pending if s <= head]:
            del pending[seq]
        timer = self._gap_timer.get(hall)
        if timer is not None and (not pending or head != start):
            timer.cancel()  # the gap it waited for is closed
            del self._gap_timer[hall]
            timer = None
        # Arm the timer when a gap opens, not on every later arrival: re-arming it for each event behind a
        # gap would postpone the fill forever while events keep coming faster than `gap_wait`.
        if pending and timer is None and self._loop is not None:
            self._gap_timer[hall] = self._loop.call_later(self.gap_wait, self._fill_gap, hall)

    def _fill_gap(self, hall: str) -> None:
        self._gap_timer.pop(hall, None)
        pending = self._pending.get(hall)
        if not pending or self._loop is None:
            return
        start, end = self._head.get(hall, 0), min(pending)
        log.info("hall %s: filling event gap %d..%d from the database", hall, start + 1, end - 1)

        async def fill() -> None:
            try:
                missing = await asyncio.to_thread(self._fetch_range, hall, start, end)
            except Exception:
                log.exception("hall %s: could not read missing events", hall)
                missing = []
            self._deliver(missing)
            if self._pending.get(hall) and hall not in self._gap_timer and self._loop is not None:
                self._gap_timer[hall] = self._loop.call_later(self.gap_wait, self._fill_gap, hall)

        self._loop.create_task(fill())
