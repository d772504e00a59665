"""The one protocol every ID-card reader backend implements (SAM serial, PC/SC, simulator)."""

from __future__ import annotations

from typing import Protocol, Self, TypeVar, runtime_checkable

from ..health import DeviceHealth

T_co = TypeVar("T_co", covariant=True)


@runtime_checkable
class IdReader(Protocol[T_co]):
    """A card reader at a kiosk or window: `read()` waits for a card, `health()` checks the device.

    SAM readers give `IdCard`s, PC/SC readers `CardUid`s. Methods block; call them off the UI thread and
    the event loop. A reader is used by one caller at a time, except `health()` and `close()`, which may be
    called from another thread while `read()` waits.
    """

    def read(self, timeout: float) -> T_co | None:
        """Wait up to `timeout` seconds for a card and read it; None when none was presented in time.

        Raises `CardError` (e.g. `CardRemoved`) when a card was found but could not be read, and
        `DeviceTimeout`, `DeviceUnavailable` or `ProtocolError` when the reader itself fails.
        """
        ...

    def health(self) -> DeviceHealth:
        """Check the device now: `ok`, `offline` (no answer), `unplugged` (gone) or `error` (with detail)."""
        ...

    def close(self) -> None:
        """Release the device; idempotent. A `read()` waiting in another thread returns soon after."""
        ...

    def __enter__(self) -> Self:
        """Use the reader in a `with` block that closes it."""
        ...

    def __exit__(self, *exc: object) -> None:
        """Close the reader."""
        ...
