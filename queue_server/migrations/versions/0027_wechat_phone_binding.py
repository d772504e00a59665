"""wechat_phone_binding: the WeChat openid a phone bound, for the same hall's later tickets of that phone (issue 22)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import queue_server.timeutil

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "wechat_phone_binding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_code", _S(length=32), nullable=False),
        sa.Column("phone_hash", _S(length=64), nullable=False),
        sa.Column("openid_enc", sa.Text(), nullable=False),
        sa.Column("created_at", queue_server.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["hall_code"], ["hall.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_wechat_phone_binding", "wechat_phone_binding", ["hall_code", "phone_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_wechat_phone_binding", table_name="wechat_phone_binding")
    op.drop_table("wechat_phone_binding")
