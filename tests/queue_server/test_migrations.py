"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from queue_server.db import plain_engine
from queue_server.migrations import upgrade
from queue_server.models import SQLModel


def test_migrations_match_models(tmp_db: str) -> None:
    engine = plain_engine(tmp_db)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diff == []
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_upgrade_is_idempotent(tmp_db: str) -> None:
    upgrade(tmp_db)  # already at head: nothing to do, no error
    upgrade(tmp_db)


def test_ticket_row_has_the_ticket_columns() -> None:
    import dataclasses

    from queue_server.models import Hall, Ticket, Window
    from queue_server.store.rows import HallRow, TicketRow, WindowRow

    columns = {c.name for c in Ticket.__table__.columns}  # type: ignore[attr-defined]
    assert {f.name for f in dataclasses.fields(TicketRow)} == columns
    window_columns = {c.name for c in Window.__table__.columns}  # type: ignore[attr-defined]
    assert {f.name for f in dataclasses.fields(WindowRow)} == window_columns
    hall_columns = {c.name for c in Hall.__table__.columns}  # type: ignore[attr-defined]
    assert {f.name for f in dataclasses.fields(HallRow)} == hall_columns
