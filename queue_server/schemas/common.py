"""Pieces every message shares: the base model, ISO times kept as the server wrote them, the ticket brief."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict

Lane = Literal["normal", "military", "special", "vip", "appointment"]
TicketStatus = Literal["waiting", "called", "serving", "held", "done", "no_show", "cancelled", "expired"]
WindowStatus = Literal["open", "paused", "closed"]


def _iso(value: str) -> str:
    datetime.fromisoformat(value)  # raises ValueError: not an ISO 8601 time
    return value


# Times stay the strings the server wrote (a parsed and re-printed datetime would not be byte-equal);
# `datetime.fromisoformat` reads them.
IsoTime = Annotated[str, AfterValidator(_iso)]


class Shape(BaseModel):
    """Base of the shared shapes: immutable; unknown keys ignored, so an older client reads a newer server."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    def wire(self) -> dict[str, object]:
        """The JSON object as the server sends it (keys that were absent stay absent)."""
        return self.model_dump(mode="json", exclude_unset=True)


class QueueLoad(Shape):
    """A queue's live load: waiting tickets and the estimated wait of the next to arrive."""

    code: str
    waiting: int
    estimated_wait_s: int


class TicketBrief(Shape):
    """A ticket as events and boards carry it: never a name, phone or ID number; `window` when one is involved."""

    id: int
    number: str
    queue: str
    lane: Lane
    status: TicketStatus
    window: int | None = None


class WindowPublic(Shape):
    """A window's public fields, as `window.status` events and boards carry them."""

    number: int
    name: str
    name_en: str
    queues: list[str]
    status: WindowStatus
    reason: str
