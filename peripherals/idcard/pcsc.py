"""`PcscReader`: card UIDs (staff badges, member cards) from a PC/SC reader through pcscd and pyscard.

Insertions and removals come from pyscard's `CardMonitor` through a `CardObserver`; the UID is read with
the PC/SC pseudo-APDU GET DATA `FF CA 00 00 00`. `read(timeout)` has the shape of every ID-card reader and
returns a `CardUid`; `wait_removed()`, `card_present` and `subscribe()` serve a window that logs a clerk
out when the badge leaves.

Threads: pyscard delivers card events on its own monitoring thread (and the first one, for cards already
present, on the thread that opens the reader), so callbacks given to `subscribe()` run there too: they must
be quick, must not block on the UI, and should hand over to the UI thread (Kivy: `@mainthread`/`Clock`).
An exception escaping a pyscard observer kills pyscard's monitoring thread, so ours are caught and logged.

pyscard quirks written down here:
- `CardMonitor` is pyscard's process-wide singleton with one daemon thread; we keep no singleton of our
  own, only our observer, which `close()` removes. The thread outlives the last reader (it is pyscard's).
- When pcscd stops, that thread dies for good and pyscard never replaces it. We notice a dead monitor
  (on `read()` and `health()`), drop pyscard's dead instance and register again once pcscd is back.
- pyscard's `ReaderMonitor` is not used: constructing a second one resets the observer list it shares with
  the first. Reader presence is checked by listing readers in `health()` instead.
- pyscard compares cards by reader and ATR; swapping one badge for another of the same kind faster than
  the monitor polls shows no removal.
- Right after an insertion, pcscd may still be powering the card up: connecting then fails with "card is
  unpowered" (0x80100067). We retry for up to a second while the card stays present.
- GET UID is answered by the reader, not the card, on real readers (PC/SC part 3); a contact card in a
  reader without that pseudo-APDU answers `6A 81` or `6D 00`. Under vpcd the virtual card answers it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

from smartcard.CardMonitoring import (  # type: ignore[import-untyped]
    CardMonitor,
    CardMonitoringThread,
    CardObserver,
)
from smartcard.Exceptions import (  # type: ignore[import-untyped]
    CardConnectionException,
    NoCardException,
    SmartcardException,
)
from smartcard.pcsc.PCSCExceptions import BaseSCardException  # type: ignore[import-untyped]
from smartcard.pcsc.PCSCReader import PCSCReader  # type: ignore[import-untyped]
from smartcard.scard import (  # type: ignore[import-untyped]
    SCARD_E_NO_SMARTCARD,
    SCARD_W_REMOVED_CARD,
    SCARD_W_RESET_CARD,
    SCARD_W_UNPOWERED_CARD,
)
from smartcard.System import readers as _pcsc_readers  # type: ignore[import-untyped]

from ..errors import CardError, DeviceUnavailable
from ..health import DeviceHealth
from .card import CardUid
from .errors import CardRemoved

log = logging.getLogger(__name__)

CardEvent = Literal["inserted", "removed"]
GET_UID = (0xFF, 0xCA, 0x00, 0x00, 0x00)
_CARD_GONE = frozenset(code & 0xFFFFFFFF for code in (SCARD_W_REMOVED_CARD, SCARD_E_NO_SMARTCARD))
_NOT_READY = frozenset(code & 0xFFFFFFFF for code in (SCARD_W_UNPOWERED_CARD, SCARD_W_RESET_CARD))
_POWER_UP_GRACE = 1.0
"""Seconds to retry connecting while pcscd reports a just-inserted card as unpowered (see module notes)."""
_REMOVAL_GRACE = 1.0
"""Seconds to wait for a removal event after a failed APDU before calling it a card error."""
_PYSCARD_ERRORS = (SmartcardException, BaseSCardException)
_MONITOR_CHECK = 1.0
"""Seconds between checks that pyscard's monitor still runs while `read()` waits."""


def list_reader_names() -> list[str]:
    """The names of the PC/SC readers pcscd sees now; `DeviceUnavailable` when pcscd cannot be reached."""
    try:
        return [str(reader) for reader in _pcsc_readers()]
    except _PYSCARD_ERRORS as exc:
        raise DeviceUnavailable(f"PC/SC service (pcscd) unavailable: {exc}") from exc


def _monitor_alive() -> bool:
    """Whether pyscard's card-monitoring thread exists and runs."""
    thread = CardMonitoringThread.instance
    return thread is not None and bool(thread.is_alive())


def _forget_dead_monitor() -> None:
    """Drop pyscard's dead monitor singleton so that the next `CardMonitor()` starts a new thread.

    Its PC/SC context died with the old pcscd; releasing it fails, and pyscard's `__del__` would print that
    failure when the object is collected, so the handle is released here, quietly, and cleared.
    """
    request = getattr(getattr(CardMonitoringThread.instance, "cardrequest", None), "pcsccardrequest", None)
    if request is not None:
        with contextlib.suppress(*_PYSCARD_ERRORS):
            request.release()
        request.hcontext = None
    CardMonitor.instance = None
    CardMonitoringThread.instance = None


class _Observer(CardObserver):
    """Forwards pyscard's card events to a `PcscReader`, never letting an exception into pyscard's thread."""

    def __init__(self, sink: Callable[[list[Any], list[Any]], None]) -> None:
        """Forward to `sink(added, removed)`."""
        self._sink = sink

    def update(self, observable: object, handlers: tuple[list[Any], list[Any]]) -> None:
        """pyscard's callback: (added cards, removed cards) for every reader."""
        try:
            added, removed = handlers
            self._sink(list(added), list(removed))
        except Exception:
            log.exception("card event handler failed")


class PcscReader:
    """A PC/SC reader giving card UIDs (implements `IdReader[CardUid]`)."""

    def __init__(
        self, reader: str | None = None, *, list_readers: Callable[[], Sequence[str]] = list_reader_names
    ) -> None:
        """Find the reader (exact name, else a unique prefix, else the only reader) and start watching it.

        Raises `DeviceUnavailable` when pcscd cannot be reached or no such reader is connected.
        """
        self._list_readers = list_readers
        self.name = _pick_reader(reader, list(list_readers()))
        self._cond = threading.Condition()
        self._present = False
        self._insertions = 0
        self._closed = False
        self._listeners: list[Callable[[CardEvent], None]] = []
        self._observer = _Observer(self._on_cards)
        self._registered_with: Any = None
        self._monitor_lock = threading.Lock()
        self._ensure_monitor()

    def __enter__(self) -> PcscReader:
        """Use as a context manager that closes the reader."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the reader."""
        self.close()

    def __repr__(self) -> str:
        """Name the reader."""
        return f"PcscReader({self.name!r})"

    @property
    def card_present(self) -> bool:
        """Whether a card is in the reader, as the last card event said."""
        with self._cond:
            return self._present

    def read(self, timeout: float) -> CardUid | None:
        """Wait up to `timeout` seconds for a card and return its UID; None if no card came.

        A card already present is read at once (and again on every call while it stays). Raises
        `CardRemoved` when the card leaves before its UID is read, `CardError` when it will not give a UID,
        `DeviceUnavailable` when pcscd is gone, the reader is unplugged or was closed (checked every second).
        """
        deadline = time.monotonic() + max(0.0, timeout)
        self._check_reader()
        while True:
            with self._cond:
                remaining = max(0.0, deadline - time.monotonic())
                self._cond.wait_for(lambda: self._present or self._closed, timeout=min(remaining, _MONITOR_CHECK))
                if self._closed:
                    raise DeviceUnavailable(f"PC/SC reader {self.name!r} was closed")
                if self._present:
                    insertion = self._insertions
                    break
            if time.monotonic() >= deadline:
                return None
            self._check_reader()  # pcscd or the reader may have gone away while we waited
        uid = self._get_uid()
        with self._cond:
            if not self._present or self._insertions != insertion:
                raise CardRemoved("card removed while its UID was read")
        return CardUid(uid=uid, reader=self.name)

    def wait_removed(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds until no card is in the reader; True if none is."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._present or self._closed, timeout=timeout)

    def subscribe(self, callback: Callable[[CardEvent], None]) -> Callable[[], None]:
        """Call `callback("inserted" | "removed")` on pyscard's thread for this reader; returns an unsubscribe."""
        with self._cond:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            """Stop calling `callback`."""
            with self._cond:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    def health(self) -> DeviceHealth:
        """ok; `unplugged` when the reader is no longer listed; `offline` when pcscd cannot be reached."""
        if self._closed:
            return DeviceHealth("offline", "reader closed")
        try:
            names = self._list_readers()
        except DeviceUnavailable as exc:
            return DeviceHealth("offline", str(exc))
        if self.name not in names:
            return DeviceHealth("unplugged", f"PC/SC reader {self.name!r} is not connected")
        try:
            self._ensure_monitor()
        except DeviceUnavailable as exc:
            return DeviceHealth("offline", str(exc))
        return DeviceHealth("ok", f"PC/SC reader {self.name!r}")

    def close(self) -> None:
        """Stop watching the reader (our observer leaves pyscard's monitor); a waiting `read()` raises."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._listeners.clear()
            self._cond.notify_all()
        self._unregister()

    def _unregister(self) -> None:
        """Remove our observer from the pyscard monitor it was added to."""
        monitor, self._registered_with = self._registered_with, None
        if monitor is not None:
            with contextlib.suppress(ValueError):  # already gone
                monitor.deleteObserver(self._observer)

    def _check_reader(self) -> None:
        """Raise `DeviceUnavailable` unless pcscd answers and lists our reader; keep the monitor alive."""
        if self.name not in self._list_readers():
            raise DeviceUnavailable(f"PC/SC reader {self.name!r} is not connected")
        self._ensure_monitor()

    def _ensure_monitor(self) -> None:
        """Make sure our observer sits on a live pyscard monitor, restarting pyscard's after a pcscd restart."""
        with self._monitor_lock:
            if self._closed:
                return
            registered = self._registered_with
            if registered is not None and registered is CardMonitor.instance and _monitor_alive():
                return
            list_reader_names()  # raises DeviceUnavailable while pcscd is down: a new monitor would die at once
            with CardMonitor.lock:
                if CardMonitor.instance is not None and not _monitor_alive():
                    log.warning("pyscard's card monitor had stopped (pcscd restarted?); starting a new one")
                    _forget_dead_monitor()
            self._unregister()
            with self._cond:
                self._present = False  # the new monitor reports the cards present now
            CardMonitor().addObserver(self._observer)
            self._registered_with = CardMonitor.instance

    def _on_cards(self, added: list[Any], removed: list[Any]) -> None:
        """Card events for all readers (pyscard's thread): keep ours, update state, tell the listeners."""
        events: list[CardEvent] = []
        with self._cond:
            if any(str(card.reader) == self.name for card in removed):
                self._present = False
                events.append("removed")
            if any(str(card.reader) == self.name for card in added):
                self._present = True
                self._insertions += 1
                events.append("inserted")
            self._cond.notify_all()
            listeners = list(self._listeners)
        for event in events:
            for listener in listeners:
                try:
                    listener(event)
                except Exception:
                    log.exception("card %s listener failed", event)

    def _get_uid(self) -> bytes:
        """Connect to the card, send GET UID, disconnect; map pyscard's failures to ours."""
        connection = self._connect()
        try:
            data, sw1, sw2 = connection.transmit(list(GET_UID))
        except _PYSCARD_ERRORS as exc:
            raise self._connection_error(exc) from exc
        finally:
            with contextlib.suppress(*_PYSCARD_ERRORS):  # the card or reader may be gone already
                connection.disconnect()
            with contextlib.suppress(*_PYSCARD_ERRORS):
                connection.release()
        if (sw1, sw2) != (0x90, 0x00):
            meaning = {0x6A81: "function not supported", 0x6D00: "instruction not supported"}.get(
                sw1 << 8 | sw2, "refused"
            )
            raise CardError(f"GET UID answered {sw1:02X} {sw2:02X} ({meaning})")
        if not data:
            raise CardError("GET UID answered an empty UID")
        return bytes(data)

    def _connect(self) -> Any:
        """A pyscard connection to the card, retrying while pcscd is still powering a fresh card up."""
        deadline = time.monotonic() + _POWER_UP_GRACE
        while True:
            try:
                connection = PCSCReader(self.name).createConnection()
                connection.connect()
                return connection
            except NoCardException as exc:
                raise CardRemoved("card removed before it could be read") from exc
            except _PYSCARD_ERRORS as exc:
                hresult = getattr(exc, "hresult", -1) & 0xFFFFFFFF
                if hresult not in _NOT_READY or time.monotonic() > deadline or not self.card_present:
                    raise self._connection_error(exc) from exc
            time.sleep(0.05)

    def _connection_error(self, exc: Exception) -> Exception:
        """Our error for a pyscard failure while talking to the card.

        A card pulled away mid-APDU does not always fail with "card removed": vpcd, and some contactless
        readers, report an empty or invalid response instead. So for any other failure we give the monitor
        a moment to report a removal before calling it a card error.
        """
        hresult = getattr(exc, "hresult", -1) & 0xFFFFFFFF
        if hresult in _CARD_GONE or (isinstance(exc, CardConnectionException) and self.wait_removed(_REMOVAL_GRACE)):
            return CardRemoved("card removed while its UID was read")
        if isinstance(exc, CardConnectionException):
            return CardError(f"cannot talk to the card: {exc}")
        return DeviceUnavailable(f"PC/SC reader {self.name!r}: {exc}")


def _pick_reader(wanted: str | None, names: list[str]) -> str:
    """The reader named exactly, else the one whose name starts with `wanted`, else the only one."""
    if wanted is None:
        if len(names) == 1:
            return names[0]
        raise DeviceUnavailable(f"pcsc:// needs ?reader=NAME; readers present: {names}")
    if wanted in names:
        return wanted
    matches = [name for name in names if name.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    raise DeviceUnavailable(f"no single PC/SC reader named {wanted!r}; readers present: {names}")
