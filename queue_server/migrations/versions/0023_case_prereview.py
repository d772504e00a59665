"""hall_case.prereview_notice (网上预审: the last return's one-time notice, JSON) and hall_case.appointment_code
(the slot a passed web case booked)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hall_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prereview_notice", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("appointment_code", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hall_case", schema=None) as batch_op:
        batch_op.drop_column("appointment_code")
        batch_op.drop_column("prereview_notice")
