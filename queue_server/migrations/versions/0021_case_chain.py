"""case_chain (一链办理): a chain application and its member cases (hall_case.chain_id); a chain's shared
material is one stored file named by a row in each member case, so case_material.storage_name is no longer unique

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import queue_server.timeutil

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite keeps the unique constraint of 0006 unnamed: batch mode names it by this convention to drop it
_SQLITE_UQ = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    op.create_table(
        "case_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("hall_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("submission_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("query_token", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name_masked", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id_masked", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=True),
        sa.Column("submitted_at", queue_server.timeutil.UTCDateTime(), nullable=False),
        sa.Column("accepted_at", queue_server.timeutil.UTCDateTime(), nullable=True),
        sa.Column("ready_at", queue_server.timeutil.UTCDateTime(), nullable=True),
        sa.Column("delivered_at", queue_server.timeutil.UTCDateTime(), nullable=True),
        sa.Column("pickup_code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("updated_at", queue_server.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["hall_code"], ["hall.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hall_code", "submission_id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("pickup_code_hash"),
        sa.UniqueConstraint("query_token"),
    )
    with op.batch_alter_table("hall_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_hall_case_chain_id"), ["chain_id"], unique=False)
        batch_op.create_foreign_key("fk_hall_case_chain_id", "case_chain", ["chain_id"], ["id"])
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("case_material_storage_name_key", "case_material", type_="unique")
        op.create_index(op.f("ix_case_material_storage_name"), "case_material", ["storage_name"], unique=False)
    else:
        with op.batch_alter_table("case_material", naming_convention=_SQLITE_UQ) as batch_op:
            batch_op.drop_constraint("uq_case_material_storage_name", type_="unique")
            batch_op.create_index(batch_op.f("ix_case_material_storage_name"), ["storage_name"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_material", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_material_storage_name"))
        batch_op.create_unique_constraint("case_material_storage_name_key", ["storage_name"])
    with op.batch_alter_table("hall_case", schema=None) as batch_op:
        batch_op.drop_constraint("fk_hall_case_chain_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_hall_case_chain_id"))
        batch_op.drop_column("chain_id")
    op.drop_table("case_chain")
