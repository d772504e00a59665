"""the waiting-ticket indexes in call order: a queue's head is one seek, a window's transfers one lookup

`ix_ticket_waiting` was (hall_code, status, queue, target_window, lane, slot_start, arrived_at). With
`target_window` (compared with IS NULL, which PostgreSQL does not count as an equality for ordering) and
`slot_start` before `arrived_at`, "the first ordinary ticket of a queue by arrival" (call-next, the
N-ahead message) sorted every waiting ticket of the queue on each call, and "the tickets transferred to
this window" read every waiting ticket of the hall. Now the compared columns come first, then the order
(arrival, id), then what the candidates also read (so the index still covers them); transfers have a
small partial index of their own.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ["hall_code", "status", "queue", "target_window", "lane", "slot_start", "arrived_at"]
NEW = ["hall_code", "status", "queue", "lane", "arrived_at", "id", "target_window", "slot_start"]
TARGETED = sa.text("target_window IS NOT NULL")

# Plain index operations, not batch mode: on SQLite that would copy the whole ticket table.


def upgrade() -> None:
    op.drop_index("ix_ticket_waiting", table_name="ticket")
    op.create_index("ix_ticket_waiting", "ticket", NEW, unique=False)
    op.create_index(
        "ix_ticket_targeted",
        "ticket",
        ["hall_code", "target_window", "status", "queue", "lane", "arrived_at", "slot_start"],
        unique=False,
        sqlite_where=TARGETED,
        postgresql_where=TARGETED,
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_targeted", table_name="ticket")
    op.drop_index("ix_ticket_waiting", table_name="ticket")
    op.create_index("ix_ticket_waiting", "ticket", OLD, unique=False)
