"""The code-scanner protocol and the plumbing every backend shares: pull codes with `read()` or push them to a callback.

Threads
-------
A backend hands each complete code to `QueuedScanner._deliver` from whatever thread produced it (the serial
reader thread, the UI thread feeding a keyboard wedge, a test calling `scan()`). From there a code goes one
of two ways:

* no callback registered: into the *pull* queue, where `read()` takes it (oldest first);
* a callback registered with `on_code(fn)`: into the *push* queue, drained by the scanner's own delivery
  thread (named ``scanner-delivery:<url>``, a daemon), which calls ``fn(code)`` for each code in order.

Callbacks therefore never run on the thread that reads the port or on the UI thread: a slow callback cannot
make the scanner drop bytes, and a Kivy UI must hop back to its own thread (``@mainthread`` or
``Clock.schedule_once``) before touching widgets. An exception raised by a callback is logged and the next
code is still delivered.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Protocol, Self, runtime_checkable

from ..health import DeviceHealth

log = logging.getLogger(__name__)

CodeCallback = Callable[[str], None]
"""Receives one scanned code (without its line ending), on the scanner's delivery thread."""


@runtime_checkable
class CodeScanner(Protocol):
    """What every code scanner offers, whatever the hardware behind the URL."""

    url: str

    def read(self, timeout: float | None = None) -> str | None:
        """Wait up to `timeout` seconds (None: until closed) for the next code; None when none came."""
        ...

    def on_code(self, fn: CodeCallback | None) -> None:
        """Send every later code to `fn` on the scanner's delivery thread; None goes back to `read()`."""
        ...

    def health(self) -> DeviceHealth:
        """The scanner's state now: ``ok``, or why it cannot scan."""
        ...

    def close(self) -> None:
        """Release the device; idempotent. A blocked `read()` returns None."""
        ...


class _Stop:
    """Sentinel in the push queue: the delivery thread ends when it reaches it."""


class _Replace:
    """Item in the push queue: from here on the delivery thread calls a new callback."""

    def __init__(self, fn: CodeCallback) -> None:
        """Carry the replacement callback."""
        self.fn = fn


_PushQueue = queue.Queue[str | _Stop | _Replace]


class QueuedScanner:
    """Base class holding the two queues and the delivery thread; backends call `_deliver(code)`.

    Subclasses implement `health()` and may extend `close()` (calling ``super().close()`` last, after the
    producer has stopped, so that no code is delivered to a closed scanner).
    """

    def __init__(self, url: str) -> None:
        """Start with no callback: codes wait in the pull queue for `read()`."""
        self.url = url
        self._lock = threading.Lock()
        self._pull: queue.Queue[str | None] = queue.Queue()  # None wakes readers once closed
        self._push: _PushQueue | None = None  # each delivery thread has its own queue
        self._delivery: threading.Thread | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether `close()` was called."""
        return self._closed

    def _deliver(self, code: str) -> None:
        """Hand one complete code to the callback (if registered) or to `read()`; any thread may call this."""
        with self._lock:
            if self._closed:
                log.debug("scanner %s closed, dropping a code", self.url)
                return
            (self._push if self._push is not None else self._pull).put(code)

    def read(self, timeout: float | None = None) -> str | None:
        """Return the next scanned code, or None after `timeout` seconds or once the scanner is closed.

        Raises RuntimeError while a callback is registered: the codes go to it, and a `read()` would wait for
        nothing.
        """
        if self._push is not None:
            raise RuntimeError(f"scanner {self.url}: codes go to the on_code callback; call on_code(None) to read()")
        try:
            item = self._pull.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is None:  # closed: wake the next reader too
            self._pull.put(None)
        return item

    def on_code(self, fn: CodeCallback | None) -> None:
        """Register `fn` to receive every code on the delivery thread, replacing any earlier callback.

        Codes already waiting for `read()` are handed to `fn` first, in order. ``on_code(None)`` stops the
        delivery thread after it has delivered the codes it holds; later codes wait for `read()` again.
        """
        with self._lock:
            if self._closed:
                raise RuntimeError(f"scanner {self.url} is closed")
            if fn is None:
                if self._push is not None:
                    self._push.put(_Stop())
                self._push, self._delivery = None, None
                return
            if self._push is not None:  # replace in order: codes already queued go to the old callback
                self._push.put(_Replace(fn))
                return
            push: _PushQueue = queue.Queue()
            while True:  # codes scanned before the callback existed go to it first
                try:
                    waiting = self._pull.get_nowait()
                except queue.Empty:
                    break
                if waiting is not None:
                    push.put(waiting)
            self._push = push
            self._delivery = threading.Thread(
                target=self._run_delivery, args=(push, fn), name=f"scanner-delivery:{self.url}", daemon=True
            )
            self._delivery.start()

    def _run_delivery(self, push: _PushQueue, fn: CodeCallback) -> None:
        """Body of a delivery thread: call `fn` for each code in its own queue until a stop sentinel."""
        while True:
            item = push.get()
            if isinstance(item, _Stop):
                return
            if isinstance(item, _Replace):
                fn = item.fn
                continue
            try:
                fn(item)
            except Exception:  # a broken callback must not end delivery for the next citizen
                log.exception("scanner %s: on_code callback failed", self.url)

    def close(self) -> None:
        """Stop delivering codes; wake blocked readers and end the delivery thread (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            delivery, self._delivery = self._delivery, None
            if self._push is not None:
                self._push.put(_Stop())
            self._push = None
            self._pull.put(None)
        if delivery is not None and delivery is not threading.current_thread():
            delivery.join(timeout=2.0)

    def __enter__(self) -> Self:
        """Use the scanner in a ``with`` block that closes it."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the scanner."""
        self.close()
