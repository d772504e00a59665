"""The public ticket: what taking a number (and any ticket answer) returns — personal data only masked."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

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
    lang: str | None = Field(default=None, description="the citizen's language at issue (the kiosk's)")
    interpreter: str | None = Field(default=None, description="需要语言服务: the language an interpreter is needed in")


class IssuedTicket(PublicTicket):
    """The answer to whoever took the number (take a number, remote ticket, check-in): with its tracking token
    and the tracking page's address — what the QR code on the screen and on the paper encodes, as it is."""

    track_token: str
    track_url: str = Field(
        description="absolute URL of the citizen's tracking page (HTML), built from the hall's public_url"
    )


TRACK_PAGE = "/track/"  # the tracking page's path on the server, followed by the ticket's tracking token


def track_url(public_url: str, token: str) -> str:
    """The tracking page of the ticket with this token, under `public_url` (a base URL, with or without '/')."""
    return f"{public_url.rstrip('/')}{TRACK_PAGE}{token}"
