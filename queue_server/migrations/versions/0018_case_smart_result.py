"""hall_case.smart_result: the outcome of the item's 秒批秒办 rules at submission (JSON), for the clerk

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hall_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("smart_result", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hall_case", schema=None) as batch_op:
        batch_op.drop_column("smart_result")
