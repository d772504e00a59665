"""fastsql.Prepared runs a Core statement on the driver's cursor: same rows, same stored values as SQLAlchemy."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from queue_server.context import HallContext
from queue_server.fastsql import Prepared
from queue_server.models import Queue, Ticket, Window
from queue_server.services import issuing as svc

TICKET_COLUMNS = list(Ticket.__table__.columns)  # type: ignore[attr-defined]


def test_rows_and_values_are_those_of_sqlalchemy(ctx: HallContext) -> None:
    """Datetimes (UTCDateTime), dates, booleans, floats, NULLs and literal binds come out as through SQLAlchemy."""
    with ctx.transaction("t1") as tx:
        first = svc.issue(tx, queue="A").ticket
        svc.issue(tx, queue="A", lane="military")
        conn = tx.session.connection()
        statements: list[tuple[Any, dict[str, Any]]] = [
            (select(*TICKET_COLUMNS).where(col(Ticket.hall_code) == bindparam("h")), {"h": "t1"}),
            (select(Window).where(col(Window.hall_code) == "t1", col(Window.number) == bindparam("n")), {"n": 1}),
            (select(col(Queue.code), col(Queue.avg_service_s)).where(col(Queue.hall_code) == "t1"), {}),
            (select(col(Ticket.service_day), col(Ticket.called_at)).where(col(Ticket.id) == first.id), {}),
        ]
        for stmt, params in statements:
            expected = [tuple(r) for r in conn.execute(stmt, params).all()]
            assert expected  # the comparison means something
            assert Prepared(stmt).all(conn, params) == expected
        row = Prepared(statements[0][0]).named(conn, {"h": "t1"})[0]
        assert isinstance(row.arrived_at, datetime) and row.arrived_at.tzinfo is not None
        assert isinstance(row.service_day, date) and row.called_at is None


def test_writes_store_what_sqlalchemy_would(ctx: HallContext) -> None:
    """An UPDATE with a datetime, an INSERT … RETURNING, and executemany: read back through the ORM's types."""
    at = datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=UTC)
    with ctx.transaction("t1") as tx:
        t = svc.issue(tx, queue="A").ticket
        conn = tx.session.connection()
        set_called = Prepared(update(Ticket).where(col(Ticket.id) == bindparam("pk")).values(called_at=bindparam("c")))
        assert set_called.run(conn, {"pk": t.id, "c": at}) == 1
        assert conn.execute(select(col(Ticket.called_at)).where(col(Ticket.id) == t.id)).scalar_one() == at
        keys = [c.name for c in TICKET_COLUMNS if c.name != "id"]
        copy = {k: getattr(t, k) for k in keys} | {"number": "A900", "seq": 900, "track_token": "copy-of-a-ticket"}
        new_id = Prepared(insert(Ticket).returning(col(Ticket.id)), column_keys=keys).scalar(conn, copy)
        assert new_id > t.id
        stored = conn.execute(select(col(Ticket.number), col(Ticket.arrived_at)).where(col(Ticket.id) == new_id)).one()
        assert tuple(stored) == ("A900", t.arrived_at)
        later = at + timedelta(minutes=1)
        set_called.many(conn, [{"pk": t.id, "c": later}, {"pk": new_id, "c": later}])
        got = conn.execute(select(col(Ticket.called_at)).where(col(Ticket.id).in_([t.id, new_id]))).scalars().all()
        assert got == [later, later]


def test_a_statement_whose_sql_depends_on_its_parameters_is_refused(ctx: HallContext) -> None:
    stmt = select(col(Ticket.id)).where(col(Ticket.queue).in_(bindparam("qs", expanding=True)))
    with ctx.db.write() as session, pytest.raises(ValueError, match="expanding"):
        Prepared(stmt).all(session.connection(), {"qs": ["A", "B"]})


def test_driver_errors_become_sqlalchemys_without_the_parameters(ctx: HallContext) -> None:
    """The app answers SQLAlchemy's errors (503 for OperationalError, 422 for DataError); personal data in
    the parameters must not reach a log line through the error's text."""
    with ctx.db.write() as session:
        conn = session.connection()
        keys = ["hall_code", "service_day", "issue_queue", "seq", "number", "queue", "lane", "status", "channel"]
        keys += ["arrived_at", "issued_at", "track_token", "recalls", "rejoins", "phone_masked"]
        row = dict(
            zip(keys, ["t1", date(2026, 11, 27), "A", 1, "A001", "A", "normal", "waiting", "kiosk"], strict=False)
        )
        now = datetime(2026, 11, 27, 9, tzinfo=UTC)
        row |= {"arrived_at": now, "issued_at": now, "track_token": "same", "recalls": 0, "rejoins": 0}
        row |= {"phone_masked": "138****0000"}
        add = Prepared(insert(Ticket).returning(col(Ticket.id)), column_keys=keys)
        add.scalar(conn, row)
        with pytest.raises(IntegrityError) as caught:
            add.scalar(conn, row | {"seq": 2, "number": "A002", "phone_masked": "139****1111"})
        assert "139****1111" not in str(caught.value)
