"""hall.waiting_counts, hall.waiting_seq: the queues' waiting counts as of an event seq (issue 23)

Server processes on PostgreSQL share them: a batch that finds a hall changed by another process takes the
counts from the hall row it locks (when they are stamped with the hall's last seq) instead of counting
every waiting ticket again.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hall", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waiting_counts", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("waiting_seq", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hall", schema=None) as batch_op:
        batch_op.drop_column("waiting_seq")
        batch_op.drop_column("waiting_counts")
