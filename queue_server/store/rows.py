"""Plain immutable rows of the hot tables, as the store returns them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class TicketRow:
    """A ticket row: the same fields as `models.Ticket`'s columns (tests/queue_server/test_migrations.py)."""

    id: int
    hall_code: str
    service_day: date
    issue_queue: str
    seq: int
    number: str
    queue: str
    lane: str
    status: str
    channel: str
    arrived_at: datetime
    issued_at: datetime
    track_token: str
    called_at: datetime | None = None
    serving_at: datetime | None = None
    finished_at: datetime | None = None
    slot_start: datetime | None = None
    window: int | None = None
    target_window: int | None = None
    recalls: int = 0
    rejoins: int = 0
    phone_enc: str | None = None
    phone_masked: str | None = None
    phone_hash: str | None = None
    id_enc: str | None = None
    id_hash: str | None = None
    id_masked: str | None = None
    idempotency_key: str | None = None
    clerk: str | None = None
    lang: str | None = None
    interpreter: str | None = None


@dataclass(frozen=True, slots=True)
class WindowRow:
    """A window row: the same fields as `models.Window`'s columns."""

    id: int
    hall_code: str
    number: int
    name: str
    name_en: str
    queues: str
    strict_order: bool
    status: str
    status_reason: str
    current_ticket_id: int | None
    priority_streak: int
    clerk: str | None


@dataclass(frozen=True, slots=True)
class HallRow:
    """A hall row: the same fields as `models.Hall`'s columns."""

    code: str
    name: str
    name_en: str
    timezone: str
    silent: bool
    last_seq: int
    notice: str
    waiting_counts: str | None = None
    waiting_seq: int | None = None
    queue_load: str | None = None
    load_seq: int | None = None
