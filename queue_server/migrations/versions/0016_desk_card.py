"""desk_card: a card the general desk's reader read, held encrypted for the desk page's one fetch

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import queue_server.timeutil

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "desk_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_code", sa.String(length=32), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("request", sa.String(length=64), nullable=False),
        sa.Column("at", queue_server.timeutil.UTCDateTime(), nullable=False),
        sa.Column("data_enc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_desk_card_hall_code"), "desk_card", ["hall_code"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_desk_card_hall_code"), table_name="desk_card")
    op.drop_table("desk_card")
