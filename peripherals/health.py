"""Device health, as every driver reports it and the server raises it to staff (`device.health`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The same words as the server's POST /api/v1/devices/health accepts.
HealthStatus = Literal["ok", "paper_low", "paper_out", "cover_open", "offline", "error", "unplugged"]


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """A driver's view of its device right now; `detail` is for staff, never personal data."""

    status: HealthStatus
    detail: str = ""

    @property
    def ok(self) -> bool:
        """Whether the device can do its job."""
        return self.status in ("ok", "paper_low")
