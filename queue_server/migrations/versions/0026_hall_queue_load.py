"""hall.queue_load, hall.load_seq: the hall's load (queue averages, window capacity) as of an event seq (issue 23)

Server processes on PostgreSQL share it like the waiting counts (0024): a batch that finds a hall changed by
another process takes the queue averages and the windows' queues and status from the hall row it locks
(when stamped with the hall's last seq) instead of reading them again under the lock.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hall", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue_load", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("load_seq", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hall", schema=None) as batch_op:
        batch_op.drop_column("load_seq")
        batch_op.drop_column("queue_load")
