"""Keyboard-wedge scanners (USB HID keyboard mode): telling a scanned code from a human typing.

A wedge scanner is a keyboard to the operating system: it "types" the decoded code and then Enter. The
kiosk cannot open it as a device, so the UI pushes its key events into a `KeyboardWedgeScanner` (from
Kivy: ``Window.bind(on_key_down=...)``, passing the typed character, or the key's name for Enter), which
assembles them into codes.

The timing rule (pure, in `WedgeAssembler`)
-------------------------------------------
A scanner types a whole code in one burst: a few milliseconds between keys, however long the code. A
person needs 100-300 ms per key. So:

1. A character that comes more than `max_gap_s` (default 50 ms) after the previous one starts a new
   burst: the characters before it are discarded.
2. Enter ends the burst. The burst is a code when Enter itself came within `max_gap_s` of the last
   character *and* the burst holds at least `min_length` characters (default 4). Otherwise it is dropped.
3. Modifier keys (Shift, which scanners press for upper-case letters, Ctrl, Alt, Caps Lock) neither count
   nor reset. Any other non-character key (Backspace, Tab, arrows, Escape) discards the burst.

A person would have to type `min_length` keys with no gap over 50 ms (over 20 keys a second) to be taken
for a scanner; in practice never. The price: a UI thread stalled for more than 50 ms in the middle of a
burst splits the code and it is dropped (the citizen scans again), because timestamps are taken when
the event is handled. Pass the event's own time as `at` when the toolkit provides one.

Set the scanner's suffix to Enter (CR) and its keyboard layout to US; a Chinese IME must not be active
on the window that receives the keys.
"""

from __future__ import annotations

import threading
import time

from ..health import DeviceHealth
from .base import QueuedScanner

DEFAULT_MAX_GAP_S = 0.05
DEFAULT_MIN_LENGTH = 4
DEFAULT_MAX_LENGTH = 512

ENTER_KEYS = frozenset({"\r", "\n", "enter", "return", "numpadenter", "kp_enter"})
"""Key names (case-insensitive) and characters that end a code."""

MODIFIER_KEYS = frozenset(
    {"shift", "lshift", "rshift", "ctrl", "lctrl", "rctrl", "alt", "lalt", "ralt", "alt-gr", "capslock", "numlock"}
)
"""Key names that a scanner may press inside a code and that are therefore ignored."""


class WedgeAssembler:
    """Pure state machine applying the timing rule of the module doc to (key, time) events."""

    def __init__(
        self,
        max_gap_s: float = DEFAULT_MAX_GAP_S,
        min_length: int = DEFAULT_MIN_LENGTH,
        max_length: int = DEFAULT_MAX_LENGTH,
    ) -> None:
        """Start with an empty burst; raise ValueError for nonsensical limits."""
        if max_gap_s <= 0 or min_length < 1 or max_length < min_length:
            raise ValueError("need max_gap_s > 0 and 1 <= min_length <= max_length")
        self.max_gap_s = max_gap_s
        self.min_length = min_length
        self.max_length = max_length
        self._chars: list[str] = []
        self._last_at: float | None = None

    @property
    def pending(self) -> str:
        """The characters of the burst so far."""
        return "".join(self._chars)

    def push(self, key: str, at: float) -> str | None:
        """Feed one key event at time `at` (seconds, monotonic); return the code it completed, if any.

        `key` is either one typed character or a key name (``enter``, ``shift``, ``backspace``, …).
        """
        name = key.lower() if len(key) != 1 else key
        if name in MODIFIER_KEYS:
            return None
        in_burst = self._last_at is not None and at - self._last_at <= self.max_gap_s
        if name in ENTER_KEYS:
            code = self.pending if in_burst and len(self._chars) >= self.min_length else None
            self.reset()
            return code
        if len(key) != 1 or not key.isprintable():
            self.reset()  # backspace, tab, arrows, escape: a person is editing
            return None
        if not in_burst:
            self._chars.clear()
        if len(self._chars) >= self.max_length:
            self.reset()
            return None
        self._chars.append(key)
        self._last_at = at
        return None

    def reset(self) -> None:
        """Discard the current burst."""
        self._chars.clear()
        self._last_at = None


class KeyboardWedgeScanner(QueuedScanner):
    """``keyboard://`` — a feeder the UI pushes key events into; codes come out of `read()` / `on_code()`.

    URL parameters: ``max_gap_ms`` (default 50), ``min_length`` (default 4). `feed()` may be called from
    any one thread (normally the UI thread); callbacks still arrive on the delivery thread (see
    `peripherals.scanner.base`).
    """

    def __init__(
        self,
        url: str = "keyboard://",
        *,
        max_gap_s: float = DEFAULT_MAX_GAP_S,
        min_length: int = DEFAULT_MIN_LENGTH,
    ) -> None:
        """Create the feeder with the given timing rule."""
        super().__init__(url)
        self._assembler = WedgeAssembler(max_gap_s=max_gap_s, min_length=min_length)
        self._feed_lock = threading.Lock()
        self.codes_seen = 0

    def feed(self, key: str, at: float | None = None) -> bool:
        """Push one key event (a character or a key name); True when it completed a code.

        `at` is the event time from `time.monotonic()` (taken now when omitted). The UI may use the return
        value to swallow the Enter that ended a scan, so it does not also press a focused button.
        """
        when = time.monotonic() if at is None else at
        with self._feed_lock:
            code = self._assembler.push(key, when)
        if code is None:
            return False
        self.codes_seen += 1
        self._deliver(code)
        return True

    def health(self) -> DeviceHealth:
        """Always ``ok`` while open (a wedge scanner has no status line); ``offline`` once closed."""
        if self.closed:
            return DeviceHealth("offline", "closed")
        return DeviceHealth("ok", f"keyboard wedge, {self.codes_seen} code(s) so far (no status line)")
