"""appointment.reminded_at: the reminder is marked on the appointment (the outbox masks the booking code)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import queue_server.timeutil

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_at", queue_server.timeutil.UTCDateTime(), nullable=True))
    # Appointments reminded before this revision: their reminder names the code in clear (before 0010).
    op.execute(
        "UPDATE appointment SET reminded_at = created_at WHERE EXISTS (SELECT 1 FROM notification n "
        "WHERE n.kind = 'appointment_reminder' AND n.hall_code = appointment.hall_code AND n.ticket = appointment.code)"
    )


def downgrade() -> None:
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")
