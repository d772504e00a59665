"""Database tables (SQLModel). The schema itself is managed by Alembic migrations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from .timeutil import UTCDateTime

# Ticket statuses of the contract; "expired" closes what is left at the end of the service day.
WAITING, CALLED, SERVING, HELD = "waiting", "called", "serving", "held"
DONE, NO_SHOW, CANCELLED, EXPIRED = "done", "no_show", "cancelled", "expired"
OPEN_STATUSES = frozenset({WAITING, CALLED, SERVING, HELD})
FINAL_STATUSES = frozenset({DONE, NO_SHOW, CANCELLED, EXPIRED})
AT_WINDOW = frozenset({CALLED, SERVING})


class Hall(SQLModel, table=True):
    """A service hall; `last_seq` is the last event sequence number handed out (the hall's write lock)."""

    __tablename__ = "hall"

    code: str = Field(primary_key=True, max_length=32)
    name: str
    name_en: str = ""
    timezone: str = "Asia/Shanghai"
    silent: bool = True
    last_seq: int = 0
    notice: str = ""
    # The queues' waiting counts (JSON {queue: n}) as of event `waiting_seq`; exact while that is `last_seq`.
    # Written by PostgreSQL writers with each batch (services/tx.py), read by the next batch of another process.
    waiting_counts: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    waiting_seq: int | None = None
    # The hall's load (JSON: each queue's average service time, each window's queues and whether it is open) as
    # of event `load_seq`; exact while that is `last_seq`. Written and read like the waiting counts (issue 23).
    queue_load: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    load_seq: int | None = None


class Queue(SQLModel, table=True):
    """A domain of a hall (市场准入 …); its code is the ticket prefix."""

    __tablename__ = "hall_queue"

    __table_args__ = (UniqueConstraint("hall_code", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    code: str = Field(max_length=2)
    name: str
    name_en: str = ""
    position: int = 0
    avg_service_s: float = 300.0  # moving average of recent service times


class Window(SQLModel, table=True):
    """A counter window: its queues (ordered), status and the ticket it is serving now."""

    __tablename__ = "hall_window"

    __table_args__ = (UniqueConstraint("hall_code", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    number: int
    name: str = ""
    name_en: str = ""
    queues: str = ""  # comma-separated queue codes, in the window's order
    strict_order: bool = False
    status: str = "open"  # open | paused | closed
    status_reason: str = ""
    current_ticket_id: int | None = None
    priority_streak: int = 0
    clerk: str | None = None


class TicketCounter(SQLModel, table=True):
    """Last number handed out per hall, service day and queue: numbers are gap-free."""

    __tablename__ = "ticket_counter"

    hall_code: str = Field(primary_key=True, max_length=32)
    service_day: date = Field(primary_key=True)
    queue_code: str = Field(primary_key=True, max_length=2)
    last: int = 0


class Ticket(SQLModel, table=True):
    """A queue ticket from issue to its final outcome."""

    __tablename__ = "ticket"

    __table_args__ = (
        UniqueConstraint("hall_code", "service_day", "issue_queue", "seq"),
        UniqueConstraint("hall_code", "idempotency_key"),
        # Covers the waiting-count and call-next queries entirely (no table look-ups per waiting ticket).
        # In call order (migration 0009): the queue and lane are compared, so a queue's first ticket by
        # arrival is one seek, not a sort of the waiting queue; the rare transferred tickets (target_window
        # set) are skipped on the way, and found directly through ix_ticket_targeted.
        Index(
            "ix_ticket_waiting",
            "hall_code",
            "status",
            "queue",
            "lane",
            "arrived_at",
            "id",
            "target_window",
            "slot_start",
        ),
        Index(
            "ix_ticket_targeted",  # covering the candidates' columns too: it holds only transferred tickets
            "hall_code",
            "target_window",
            "status",
            "queue",
            "lane",
            "arrived_at",
            "slot_start",
            sqlite_where=text("target_window IS NOT NULL"),
            postgresql_where=text("target_window IS NOT NULL"),
        ),
        Index("ix_ticket_day", "hall_code", "service_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    service_day: date
    issue_queue: str = Field(max_length=2)  # the queue that gave the number
    seq: int  # 1, 2, 3 … within (hall, day, issue_queue)
    number: str = Field(max_length=16)  # "A001"
    queue: str = Field(max_length=2)  # current queue (changes on transfer)
    lane: str = Field(default="normal", max_length=16)
    status: str = Field(default=WAITING, max_length=16)
    channel: str = Field(default="kiosk", max_length=16)
    arrived_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    issued_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    called_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    serving_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    slot_start: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    window: int | None = None  # window that called it (or holds it)
    target_window: int | None = None  # transferred to this window explicitly
    recalls: int = 0
    rejoins: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # 过号重排 so far (rejoin_times)
    phone_enc: str | None = Field(default=None, sa_column=Column(Text))
    phone_masked: str | None = Field(default=None, max_length=16)
    phone_hash: str | None = Field(default=None, max_length=64, index=True)  # keyed hash: one remote ticket per phone
    id_enc: str | None = Field(default=None, sa_column=Column(Text))
    id_hash: str | None = Field(default=None, max_length=64, index=True)
    id_masked: str | None = Field(default=None, max_length=24)
    track_token: str = Field(max_length=64, unique=True)
    idempotency_key: str | None = Field(default=None, max_length=128)
    clerk: str | None = Field(default=None, max_length=64)  # who completed it (statistics by clerk)
    lang: str | None = Field(default=None, max_length=8)  # the citizen's language at issue (the kiosk's), for the
    # tracking page, the printed ticket and the messages; None: Chinese and English
    interpreter: str | None = Field(default=None, max_length=8)  # 需要语言服务: the language; shown to the clerk only


class Event(SQLModel, table=True):
    """The hall event stream, source of truth: appended in the transaction of the change it records."""

    __tablename__ = "hall_event"

    __table_args__ = (UniqueConstraint("hall_code", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    hall_code: str = Field(max_length=32)
    seq: int
    type: str = Field(max_length=32)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    data: str = Field(sa_column=Column(Text, nullable=False))  # JSON object


class UserAccount(SQLModel, table=True):
    """A staff login (admin, clerk, approver, auditor)."""

    __tablename__ = "user_account"

    username: str = Field(primary_key=True, max_length=64)
    display_name: str = ""
    role: str = Field(max_length=16)
    hall_code: str | None = Field(default=None, max_length=32)
    windows: str = ""  # comma-separated window numbers a clerk is bound to; empty = any
    password_hash: str
    # Keyed fingerprint of a plain-text password given in the config file, to notice a change without
    # an argon2 run per user at every start (the plain text sits beside the secret key anyway).
    config_fp: str = Field(default="", max_length=64)
    active: bool = True  # false once the user is gone from the configuration file
    # Stamped into every token at login; raised when the user is removed, demoted, given another password
    # or revoked (`hall users revoke`), so every token issued before is refused.
    session_gen: int = 0


class AuditLog(SQLModel, table=True):
    """Who saw or did what with personal data (R18)."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    actor: str = Field(max_length=64)
    action: str = Field(max_length=32)
    hall_code: str | None = Field(default=None, max_length=32)
    subject: str = Field(max_length=64)  # e.g. "ticket:123"


class DeviceStatus(SQLModel, table=True):
    """Last reported health of a configured device."""

    __tablename__ = "device_status"

    name: str = Field(primary_key=True, max_length=64)
    hall_code: str = Field(max_length=32)
    role: str = Field(max_length=16)
    status: str = Field(default="unknown", max_length=32)
    detail: str = ""
    at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class DeskCard(SQLModel, table=True):
    """A card the general desk's reader read (api/routes/desk_agent.py): held encrypted for the desk page's one
    authorized fetch, then deleted; left-overs go after a few minutes. Never in an event."""

    __tablename__ = "desk_card"

    id: int | None = Field(default=None, primary_key=True)
    hall_code: str = Field(max_length=32, index=True)
    device: str = Field(max_length=64)  # the desk agent (its [[devices]] name)
    request: str = Field(max_length=64)  # the page's 读卡 request it answers
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    data_enc: str = Field(sa_column=Column(Text, nullable=False))  # JSON of the card, encrypted (PiiCipher)


class Appointment(SQLModel, table=True):
    """A booked time slot of a queue (预约); checked in at the kiosk it becomes a ticket in lane `appointment`."""

    __tablename__ = "appointment"
    __table_args__ = (
        Index("ix_appointment_person", "hall_code", "queue", "service_day", "id_hash"),
        Index("ix_appointment_due", "status", "slot_end"),
        Index("ux_appointment_idempotency", "hall_code", "idempotency_key", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)  # booking code, also the QR payload
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    queue: str = Field(max_length=2)
    service_day: date
    slot_start: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    slot_end: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status: str = Field(default="booked", max_length=16)  # booked | checked_in | cancelled | no_show
    channel: str = Field(default="web", max_length=16)
    name_enc: str = Field(sa_column=Column(Text, nullable=False))
    name_masked: str = Field(max_length=64)
    id_enc: str = Field(sa_column=Column(Text, nullable=False))
    id_hash: str = Field(max_length=64)
    id_masked: str = Field(max_length=24)
    id_type: str = Field(default="resident", max_length=24)  # identity.IdType: the document booked with
    nationality: str | None = Field(default=None, max_length=3)  # ISO 3166-1 alpha-3; a passport's always
    phone_enc: str | None = Field(default=None, sa_column=Column(Text))
    phone_masked: str | None = Field(default=None, max_length=16)
    ticket_id: int | None = None
    idempotency_key: str | None = Field(default=None, max_length=128)  # a repeated booking request's key
    reminded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))  # the reminder SMS queued
    lang: str | None = Field(default=None, max_length=8)  # the citizen's language: messages, refusals, PDF (issue 22)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class SlotBooking(SQLModel, table=True):
    """How many appointments a slot holds: raised only while below capacity, so it is never exceeded."""

    __tablename__ = "slot_booking"

    hall_code: str = Field(primary_key=True, max_length=32)
    queue: str = Field(primary_key=True, max_length=2)
    slot_start: datetime = Field(sa_column=Column(UTCDateTime, primary_key=True))
    booked: int = 0


class HomeVisit(SQLModel, table=True):
    """预约上门: an elderly or disabled citizen asks for a visit; a clerk schedules and closes it."""

    __tablename__ = "home_visit"
    __table_args__ = (Index("ix_home_visit_hall_status", "hall_code", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    queue: str = Field(max_length=2)
    status: str = Field(default="requested", max_length=16)  # requested | scheduled | done | cancelled | rejected
    reason: str = Field(default="", max_length=200)  # why a visit (行动不便 …), as the citizen put it
    name_enc: str = Field(sa_column=Column(Text, nullable=False))
    name_masked: str = Field(max_length=64)
    id_enc: str = Field(sa_column=Column(Text, nullable=False))
    id_hash: str = Field(max_length=64, index=True)
    id_masked: str = Field(max_length=24)
    phone_enc: str = Field(sa_column=Column(Text, nullable=False))
    phone_masked: str = Field(max_length=16)
    address_enc: str = Field(sa_column=Column(Text, nullable=False))
    visit_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    clerk: str | None = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=200)  # the clerk's note: rejection reason, outcome
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


# The case workflow's and feedback's tables live in their own packages; importing them here puts them in
# SQLModel.metadata, which the migrations and their tests compare against.
from .cases import ledger_models as _ledger_models  # noqa: E402,F401
from .cases import models as _cases_models  # noqa: E402,F401
from .feedback import models as _feedback_models  # noqa: E402,F401
