"""appointment_case_language: the citizen's language on an appointment and a case (issue 22), for their messages,
refusals and documents (Chinese first, then that language)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("appointment", "hall_case"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("lang", sa.String(length=8), nullable=True))


def downgrade() -> None:
    for table in ("appointment", "hall_case"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("lang")
