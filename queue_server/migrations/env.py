"""Alembic environment: runs migrations online, under an advisory lock on PostgreSQL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

from queue_server import models  # noqa: F401  (registers the tables)
from queue_server.db import normalize_url, plain_engine
from queue_server.notify import models as notify_models  # noqa: F401  (the notification outbox)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    url = normalize_url(config.get_main_option("sqlalchemy.url") or "")
    engine = plain_engine(url)
    with engine.connect() as connection:
        is_pg = connection.dialect.name == "postgresql"
        if is_pg:
            # Several server processes may start at once: only one migrates, the others wait.
            connection.execute(text("SELECT pg_advisory_lock(7401)"))
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            if is_pg:
                connection.execute(text("SELECT pg_advisory_unlock(7401)"))
                connection.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
run_migrations_online()
