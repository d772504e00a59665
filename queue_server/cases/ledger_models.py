"""Tables of the 帮办代办 ledger: assisted cases, key projects under full-process proxy service, their milestones."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from ..timeutil import UTCDateTime


class AssistRecord(SQLModel, table=True):
    """One assisted case (帮办) or proxy service (代办): who helped whom, for what, how long, with what outcome."""

    __tablename__ = "assist_record"
    __table_args__ = (Index("ix_assist_record_day", "hall_code", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    day: date  # the hall's local date of the service
    kind: str = Field(max_length=8)  # assist (帮办) | proxy (代办)
    staff: str = Field(max_length=64)  # the username of who helped
    person_enc: str = Field(sa_column=Column(Text, nullable=False))  # whom: name (encrypted)
    person_masked: str = Field(max_length=64)
    phone_enc: str | None = Field(default=None, sa_column=Column(Text))
    organisation: str = Field(default="", max_length=100)  # the enterprise or project helped (not personal)
    item_code: str | None = Field(default=None, max_length=32)  # the catalogue item, if any
    item_name: str = Field(default="", max_length=100)
    project_id: int | None = Field(default=None, foreign_key="assist_project.id")
    case_number: str | None = Field(default=None, max_length=24)
    minutes: int
    outcome: str = Field(max_length=16)  # done | referred | pending | advice
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class AssistProject(SQLModel, table=True):
    """A key project (重点项目) under full-process proxy service (全程代办), e.g. a factory's construction permits."""

    __tablename__ = "assist_project"

    id: int | None = Field(default=None, primary_key=True)
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    name: str = Field(max_length=100)
    organisation: str = Field(max_length=100)
    owner: str = Field(max_length=64)  # the 代办员 in charge (username)
    status: str = Field(max_length=16)  # active | done
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class AssistMilestone(SQLModel, table=True):
    """A milestone of a key project (立项, 用地, 规划许可, 施工许可 …) with its due date."""

    __tablename__ = "assist_milestone"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="assist_project.id", index=True)
    name: str = Field(max_length=100)
    due: date
    done_on: date | None = None
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
