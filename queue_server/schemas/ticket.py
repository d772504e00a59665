"""The public ticket: what taking a number (and any ticket answer) returns — personal data only masked."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from .common import Lane, TicketStatus


class PublicTicket(BaseModel):
    """A ticket as the API returns it to kiosks, consoles and apps (staff lists, window and ticket actions):
    without the holder's tracking token, which cancels the ticket."""

    id: int
    number: str
    queue: str
    lane: Lane
    status: TicketStatus
    ahead: int
    estimated_wait_s: int
    issued_at: datetime
    arrived_at: datetime
    called_at: datetime | None = None
    hall: str
    channel: str
    window: int | None = None
    target_window: int | None = None
    recalls: int = 0
    phone_masked: str | None = None
    id_number_masked: str | None = None


class IssuedTicket(PublicTicket):
    """The answer to whoever took the number (take a number, remote ticket, check-in): with its tracking token."""

    track_token: str
