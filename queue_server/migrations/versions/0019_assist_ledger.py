"""assist_record, assist_project, assist_milestone: the 帮办代办 ledger (issue 24)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import queue_server.timeutil

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "assist_project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_code", _S(length=32), nullable=False),
        sa.Column("name", _S(length=100), nullable=False),
        sa.Column("organisation", _S(length=100), nullable=False),
        sa.Column("owner", _S(length=64), nullable=False),
        sa.Column("status", _S(length=16), nullable=False),
        sa.Column("created_at", queue_server.timeutil.UTCDateTime(), nullable=False),
        sa.Column("done_at", queue_server.timeutil.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["hall_code"], ["hall.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "assist_milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", _S(length=100), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["assist_project.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_assist_milestone_project_id"), "assist_milestone", ["project_id"], unique=False)
    op.create_table(
        "assist_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_code", _S(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", _S(length=8), nullable=False),
        sa.Column("staff", _S(length=64), nullable=False),
        sa.Column("person_enc", sa.Text(), nullable=False),
        sa.Column("person_masked", _S(length=64), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=True),
        sa.Column("organisation", _S(length=100), nullable=False),
        sa.Column("item_code", _S(length=32), nullable=True),
        sa.Column("item_name", _S(length=100), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("case_number", _S(length=24), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("outcome", _S(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", queue_server.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["hall_code"], ["hall.code"]),
        sa.ForeignKeyConstraint(["project_id"], ["assist_project.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_assist_record_day", "assist_record", ["hall_code", "day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_assist_record_day", table_name="assist_record")
    op.drop_table("assist_record")
    op.drop_index(op.f("ix_assist_milestone_project_id"), table_name="assist_milestone")
    op.drop_table("assist_milestone")
    op.drop_table("assist_project")
