"""The one exception hierarchy of `peripherals`: library errors are caught at the boundary and re-raised as these."""

from __future__ import annotations


class PeripheralError(Exception):
    """Base of every error a device driver raises."""


class DeviceUnavailable(PeripheralError):
    """The device named by the URL cannot be opened (missing port, refused connection, unknown scheme)."""


class DeviceTimeout(PeripheralError):
    """The device did not answer in time."""


class ProtocolError(PeripheralError):
    """The device answered with bytes that do not follow its protocol (bad header, length, checksum)."""


class CardError(PeripheralError):
    """The card reader reported a problem with the card (none present, unreadable, removed mid-read)."""


class PrinterError(PeripheralError):
    """The printer cannot print now (paper out, cover open, offline)."""
