"""notification.secret: a message's secret values (pickup and booking codes) kept apart from the text staff see

`notification.text` and `ticket` now hold what staff and logs may see, with the codes masked; the text as
sent is in `secret`, read by the dispatcher only and cleared once the message is sent. Rows written before
keep their text as it was (already sent, or sent as it is).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column."""
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("secret", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("secret")
