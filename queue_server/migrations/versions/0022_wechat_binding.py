"""wechat_binding: a ticket's WeChat openid bound on its tracking page by OAuth (issue 22)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import queue_server.timeutil

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "wechat_binding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_code", _S(length=32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("nonce", _S(length=32), nullable=False),
        sa.Column("openid_enc", sa.Text(), nullable=False),
        sa.Column("created_at", queue_server.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["hall_code"], ["hall.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("nonce"),
    )
    op.create_index("ix_wechat_binding_ticket", "wechat_binding", ["hall_code", "ticket_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_wechat_binding_ticket", table_name="wechat_binding")
    op.drop_table("wechat_binding")
