"""Device health check: open each configured device, ask its health, close it, and report (``hall devices check``).

Each device is checked on its own daemon thread, all at once, each bounded by `timeout_s`: a printer
that never answers its status query shows up as ``offline`` instead of hanging the command (its thread
is abandoned; being a daemon, it does not keep the process alive). The check never raises for a device:

* the driver package cannot be imported (not installed, or not written yet) → ``error`` with the reason;
* the URL cannot be opened → ``unplugged`` when the port or device file does not exist (ENOENT: the
  USB cable is out, or the path in the configuration is wrong), otherwise ``offline`` with the message;
* `health()` raises → ``error``; otherwise the device's own `DeviceHealth`.

Only an unknown *kind* is a programming error in the caller's configuration reader, and it too is
reported as ``error`` rather than raised, so that one bad line does not hide the other devices.
"""

from __future__ import annotations

import errno
import importlib
import logging
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .errors import DeviceUnavailable
from .health import DeviceHealth

log = logging.getLogger(__name__)

DeviceKind = Literal["printer", "id_reader", "scanner"]

OPENERS: dict[str, str] = {"printer": "open_printer", "id_reader": "open_id_reader", "scanner": "open_scanner"}
"""Device kind → the entry point of `peripherals` that opens it."""

DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class DeviceCheck:
    """The outcome of checking one configured device."""

    name: str
    kind: str
    url: str
    health: DeviceHealth


def _opener(kind: str) -> Callable[[str], Any]:
    """The `peripherals.open_*` function for a known `kind`, imported now; raises if the driver cannot be imported."""
    package = importlib.import_module("peripherals")
    opener: Callable[[str], Any] = getattr(package, OPENERS[kind])
    return opener


def _open_failure(exc: Exception) -> DeviceHealth:
    """``unplugged`` when the device file is missing, else ``offline``; the message is kept for staff."""
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    if getattr(cause, "errno", None) == errno.ENOENT:
        return DeviceHealth("unplugged", str(exc))
    return DeviceHealth("offline", str(exc))


def check_device(kind: str, url: str) -> DeviceHealth:
    """Open one device, return its health, close it; never raises (see the module doc for the mapping)."""
    if kind not in OPENERS:
        return DeviceHealth("error", f"unknown device kind {kind!r} (expected {', '.join(OPENERS)})")
    try:
        opener = _opener(kind)
    except Exception as exc:  # ImportError of a driver not installed (or not written yet), or any error in it
        return DeviceHealth("error", f"driver not available: {exc}")
    try:
        device = opener(url)
    except DeviceUnavailable as exc:
        return _open_failure(exc)
    except Exception as exc:  # a driver bug must not hide the other devices
        return DeviceHealth("error", f"cannot open: {type(exc).__name__}: {exc}")
    try:
        health = device.health()
        if not isinstance(health, DeviceHealth):
            health = DeviceHealth("error", f"health() returned {type(health).__name__}")
    except Exception as exc:
        health = DeviceHealth("error", f"health() failed: {type(exc).__name__}: {exc}")
    finally:
        try:
            device.close()
        except Exception as exc:
            log.warning("closing %s failed: %s", url, exc)
    return health


def check_devices(
    devices: Sequence[tuple[str, str, str]], *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> list[DeviceCheck]:
    """Check every ``(name, kind, url)`` concurrently; results in the given order, one per device.

    `kind` is ``printer``, ``id_reader`` or ``scanner``. A device still unanswered after `timeout_s`
    seconds is reported ``offline``.
    """
    results: list[DeviceHealth | None] = [None] * len(devices)

    def run(index: int, kind: str, url: str) -> None:
        results[index] = check_device(kind, url)

    threads = [
        threading.Thread(target=run, args=(i, kind, url), name=f"device-check:{name}", daemon=True)
        for i, (name, kind, url) in enumerate(devices)
    ]
    deadline = time.monotonic() + timeout_s  # all run at once, so one deadline serves them all
    for thread in threads:
        thread.start()
    checks: list[DeviceCheck] = []
    for index, ((name, kind, url), thread) in enumerate(zip(devices, threads, strict=True)):
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
        health = results[index]
        if health is None:
            health = DeviceHealth("offline", f"no answer within {timeout_s:g} s")
        checks.append(DeviceCheck(name=name, kind=kind, url=url, health=health))
    return checks


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _pad(text: str, width: int) -> str:
    """`text` padded with spaces to `width` terminal columns."""
    return text + " " * (width - _width(text))


def format_report(checks: Sequence[DeviceCheck]) -> str:
    """A plain-text table (name, kind, status, URL, detail) and a summary line, for a terminal or a log."""
    header = ("NAME", "KIND", "STATUS", "URL", "DETAIL")
    rows = [(c.name, c.kind, c.health.status, c.url, c.health.detail.replace("\n", " ")) for c in checks]
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [_pad(cell, widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    healthy = sum(1 for c in checks if c.health.ok)
    lines.append("")
    lines.append(f"{len(checks)} device(s): {healthy} ok, {len(checks) - healthy} need attention")
    return "\n".join(lines)
