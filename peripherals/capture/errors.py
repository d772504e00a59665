"""Capture-device errors: refinements of the package's one hierarchy (`peripherals.errors`), never a second one.

Callers catch `PeripheralError` (or `DeviceTimeout`, `ProtocolError`); the classes here add what the kiosk
branches on: nothing on the platen (ask the citizen to place the page) versus a device fault (tell staff).
"""

from __future__ import annotations

from ..errors import PeripheralError, ProtocolError


class CaptureError(PeripheralError):
    """The device answered that it cannot capture now; `code` is its error byte, `detail` its own words."""

    def __init__(self, code: int, detail: str = "") -> None:
        """Keep the device's error code and text."""
        super().__init__(f"capture error 0x{code:02x}: {detail or 'no detail'}")
        self.code, self.detail = code, detail


class NothingToCapture(CaptureError):
    """No page on the platen / under the camera (error 0x01): the citizen should place the page and retry."""


class FrameError(ProtocolError):
    """A capture frame with a bad checksum, an implausible length or an unknown type."""
