"""Tables of the feedback package: evaluations (好差评), bad-review follow-ups, complaints, daily rollups."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..models import Appointment
from ..timeutil import UTCDateTime

# Statistics read a hall's appointments by service day; the table's own indexes lead with other columns.
Index("ix_appointment_day", Appointment.hall_code, Appointment.service_day, Appointment.status)  # type: ignore[arg-type]


class Evaluation(SQLModel, table=True):
    """One citizen's evaluation of one service (一次一评, by ticket) or one case (一事一评, by case number)."""

    __tablename__ = "evaluation"
    __table_args__ = (
        UniqueConstraint("ticket_id"),
        UniqueConstraint("hall_code", "case_number"),
        Index("ix_evaluation_day", "hall_code", "service_day", "level"),
    )

    id: int | None = Field(default=None, primary_key=True)
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    case_number: str | None = Field(default=None, max_length=32)
    ticket_number: str = Field(default="", max_length=16)
    queue: str = Field(default="", max_length=2)
    window: int | None = None
    clerk: str | None = Field(default=None, max_length=64)
    level: int  # 5 非常满意 … 1 非常不满意
    reasons: str = Field(default="", max_length=200)  # comma-separated reason codes from the catalogue
    comment: str = Field(default="", max_length=500)
    channel: str = Field(max_length=16)  # pad | evaluator | web
    service_day: date
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class FollowUp(SQLModel, table=True):
    """差评核实整改反馈: a bad review verified, rectified and answered within a deadline, then closed."""

    __tablename__ = "eval_followup"
    __table_args__ = (Index("ix_followup_hall_status", "hall_code", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    evaluation_id: int = Field(foreign_key="evaluation.id", unique=True)
    status: str = Field(default="opened", max_length=16)  # opened|verified|rectified|replied|closed
    deadline: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    opened_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    verified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    verified_by: str | None = Field(default=None, max_length=64)
    verify_note: str = Field(default="", max_length=500)
    rectified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    rectified_by: str | None = Field(default=None, max_length=64)
    rectify_note: str = Field(default="", max_length=500)
    replied_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    replied_by: str | None = Field(default=None, max_length=64)
    reply_text: str = Field(default="", max_length=500)
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    closed_by: str | None = Field(default=None, max_length=64)


class Complaint(SQLModel, table=True):
    """吐槽找茬 / 投诉: a complaint from the kiosk or the web, routed to a handler, answered and closed."""

    __tablename__ = "complaint"
    __table_args__ = (
        Index("ix_complaint_hall_status", "hall_code", "status"),
        Index("ux_complaint_idempotency", "hall_code", "idempotency_key", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)  # the citizen's reference to follow it up
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    channel: str = Field(max_length=16)  # kiosk | web
    category: str = Field(max_length=16)
    content: str = Field(sa_column=Column(Text, nullable=False))
    anonymous: bool = True
    name_enc: str | None = Field(default=None, sa_column=Column(Text))
    name_masked: str | None = Field(default=None, max_length=64)
    phone_enc: str | None = Field(default=None, sa_column=Column(Text))
    phone_masked: str | None = Field(default=None, max_length=16)
    status: str = Field(default="submitted", max_length=16)  # submitted|assigned|answered|closed
    handler: str | None = Field(default=None, max_length=64)
    answer: str = Field(default="", max_length=1000)
    deadline: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    idempotency_key: str | None = Field(default=None, max_length=128)  # a repeated submission's key


class RollupFigures(SQLModel):
    """The figures a rollup row keeps of one grouping key; histograms are packed bucket counts
    (feedback/figures.py `pack`), so percentiles of any date range merge without the tickets."""

    tickets: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    expired: int = 0
    waits: int = 0  # tickets with a wait (called at least once)
    wait_sum_s: float = 0.0
    service_n: int = 0
    service_sum_s: float = 0.0
    wait_hist: bytes = Field(default=b"", sa_type=LargeBinary, nullable=False)
    service_hist: bytes = Field(default=b"", sa_type=LargeBinary, nullable=False)
    evaluations: int = 0
    satisfied: int = 0  # levels 4 and 5
    level_1: int = 0  # evaluations per level, 1 非常不满意 … 5 非常满意
    level_2: int = 0
    level_3: int = 0
    level_4: int = 0
    level_5: int = 0
    appointments: int = 0  # dim "hall" only: appointments of the day, and how they ended
    appt_checked_in: int = 0
    appt_no_show: int = 0
    appt_cancelled: int = 0
    built_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class DailyRollup(RollupFigures, table=True):
    """One hall's figures of one finished service day for one grouping key (dim, key).

    dim is one of hall (key ""), queue, window, clerk, lane, hour.
    """

    __tablename__ = "report_daily"
    __table_args__ = (Index("ix_report_daily_dim", "hall_code", "dim", "service_day"),)

    hall_code: str = Field(primary_key=True, max_length=32)
    service_day: date = Field(primary_key=True)
    dim: str = Field(primary_key=True, max_length=8)
    key: str = Field(primary_key=True, max_length=64)


class MonthlyRollup(RollupFigures, table=True):
    """The same figures summed over one whole finished month (`month` is its first day): a year is 12 rows."""

    __tablename__ = "report_monthly"
    __table_args__ = (Index("ix_report_monthly_dim", "hall_code", "dim", "month"),)

    hall_code: str = Field(primary_key=True, max_length=32)
    month: date = Field(primary_key=True)
    dim: str = Field(primary_key=True, max_length=8)
    key: str = Field(primary_key=True, max_length=64)
