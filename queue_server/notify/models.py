"""The notification outbox table: one row per message to a citizen's phone, written with the change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from ..timeutil import UTCDateTime

PENDING, SENT, DEAD = "pending", "sent", "dead"
STATUSES = (PENDING, SENT, DEAD)


class Notification(SQLModel, table=True):
    """A message to a citizen's phone; `msg_id` is the body's "id", so a gateway can drop a repeat."""

    __tablename__ = "notification"

    __table_args__ = (
        Index("ix_notification_due", "status", "next_attempt_at"),
        Index("ix_notification_hall", "hall_code", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    msg_id: str = Field(max_length=32, unique=True)
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    kind: str = Field(max_length=32)
    ticket: str = Field(max_length=32)  # the ticket number ("A023") or the appointment code
    phone_enc: str = Field(sa_column=Column(Text, nullable=False))  # PiiCipher, context "phone"
    text: str = Field(sa_column=Column(Text, nullable=False))  # as staff may see it: secret values masked
    # the message's values by name (JSON, messages.PARAMS), for template providers; secret values masked
    params: str | None = Field(default=None, sa_column=Column(Text))
    # {"text", "ticket", "params"} as sent, when the message carries a secret value (outbox.py); cleared once sent
    secret: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status: str = Field(default=PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_error: str | None = Field(default=None, max_length=300)  # never holds the phone number
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class WeChatBinding(SQLModel, table=True):
    """A ticket's WeChat openid, bound on its tracking page by OAuth (`wechat_bind.py`); the newest one counts.

    `nonce` is the OAuth state's: unique, so a state binds once. `openid_enc` is encrypted as the outbox's
    recipient (`PiiCipher`, context "phone"), the form a message's `phone_enc` takes.
    """

    __tablename__ = "wechat_binding"

    __table_args__ = (Index("ix_wechat_binding_ticket", "hall_code", "ticket_id"),)

    id: int | None = Field(default=None, primary_key=True)
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    ticket_id: int
    nonce: str = Field(max_length=32, unique=True)
    openid_enc: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class WeChatPhoneBinding(SQLModel, table=True):
    """The WeChat openid a phone bound on one of its tickets' tracking pages: the same hall's later tickets of
    that phone get their notices there too, without binding again (bindings.py, PHONE_BINDING_DAYS).

    Keyed by the phone's keyed hash (the ticket's `phone_hash`), never the number; `openid_enc` encrypted as the
    outbox's recipient. One row a phone and hall: binding again replaces it, unbinding removes it.
    """

    __tablename__ = "wechat_phone_binding"

    __table_args__ = (Index("ux_wechat_phone_binding", "hall_code", "phone_hash", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    phone_hash: str = Field(max_length=64)
    openid_enc: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class PhoneCode(SQLModel, table=True):
    """A one-time code sent to a phone to prove it is the caller's (通办取号); only keyed hashes are kept."""

    __tablename__ = "phone_code"

    __table_args__ = (Index("ix_phone_code_phone", "hall_code", "phone_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    phone_hash: str = Field(max_length=64)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    attempts: int = 0  # wrong codes tried against it
    used: bool = False
