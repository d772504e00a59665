"""The staff view of the outbox: masked phones, hall and role checks, requeueing a dead message."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlmodel import col

from queue_server import notify
from queue_server.config import load_config
from queue_server.context import HallContext
from queue_server.crypto import PiiCipher
from queue_server.db import Database
from queue_server.errors import HallError
from queue_server.models import AuditLog, UserAccount
from queue_server.notify.api import router
from queue_server.notify.models import Notification
from queue_server.notify.providers import LogProvider
from queue_server.services.auth import Principal

from ..harness import KIOSK, SECRET, TEST_CONFIG
from .conftest import PHONE, Receiver, add, all_status, rows, run, wait_for, webhook


@pytest.fixture
def ctx(db: Database) -> Iterator[HallContext]:
    """The server's shared parts over the test database (halls already there)."""
    context = HallContext(config=load_config(TEST_CONFIG), db=Database(db.url), secret_key=SECRET)
    yield context
    context.close()


@pytest.fixture
def client(ctx: HallContext) -> Iterator[TestClient]:
    """An app holding only the notification routes, mapping HallError like the server does."""
    app = FastAPI()
    app.state.ctx = ctx
    app.include_router(router)

    @app.exception_handler(HallError)
    async def _hall_error(_req: Request, exc: HallError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    with TestClient(app) as c:
        yield c


def auth(ctx: HallContext, name: str, role: str, hall: str | None) -> dict[str, str]:
    """A bearer header for a staff user (a row of its own; no login needed)."""
    with ctx.db.write() as s:
        s.merge(UserAccount(username=name, role=role, hall_code=hall, password_hash="-"))
    return {"Authorization": f"Bearer {ctx.tokens.issue(Principal('user', name, role, hall), 0)}"}


def make_dead(db: Database, ticket: str) -> int:
    """Mark the message of `ticket` dead as the dispatcher would; returns its id."""
    with db.write() as s:
        row = s.execute(select(Notification).where(col(Notification.ticket) == ticket)).scalar_one()
        s.execute(
            update(Notification)
            .where(col(Notification.id) == row.id)
            .values(status="dead", attempts=8, last_error="HTTP 500")
        )
        assert row.id is not None
        return row.id


@pytest.fixture
def seeded(db: Database, cipher: PiiCipher) -> int:
    """Three messages: A001 (dead) and A002 in t1, B001 in t2; returns the dead one's id."""
    add(db, cipher, ticket="A001")
    add(db, cipher, ticket="A002")
    add(db, cipher, ticket="B001", hall="t2")
    return make_dead(db, "A001")


def test_staff_see_dead_messages_masked(client: TestClient, ctx: HallContext, seeded: int) -> None:
    r = client.get("/api/v1/halls/t1/notifications?status=dead", headers=auth(ctx, "clerk1", "clerk", "t1"))
    assert r.status_code == 200, r.text
    assert PHONE not in r.text
    (item,) = r.json()
    assert item["id"] == seeded and item["ticket"] == "A001" and item["kind"] == "called"
    assert item["phone"] == "138****5678"
    assert (item["status"], item["attempts"], item["last_error"]) == ("dead", 8, "HTTP 500")
    assert item["text"] == "请A001号到3号窗口办理" and len(item["msg_id"]) == 32
    assert item["created_at"].endswith("+08:00")  # in the hall's time zone
    assert item["next_attempt_at"] is None and item["sent_at"] is None


def test_list_is_per_hall_newest_first_and_limited(client: TestClient, ctx: HallContext, seeded: int) -> None:
    auditor = auth(ctx, "auditor1", "auditor", "t1")
    r = client.get("/api/v1/halls/t1/notifications", headers=auditor)
    assert r.status_code == 200
    assert [i["ticket"] for i in r.json()] == ["A002", "A001"]
    assert r.json()[0]["next_attempt_at"] is not None  # pending: when it goes out next
    assert [i["ticket"] for i in client.get("/api/v1/halls/t1/notifications?limit=1", headers=auditor).json()] == [
        "A002"
    ]
    assert client.get("/api/v1/halls/t1/notifications?status=sent", headers=auditor).json() == []
    admin = auth(ctx, "admin", "admin", None)
    assert [i["ticket"] for i in client.get("/api/v1/halls/t2/notifications", headers=admin).json()] == ["B001"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("none", 401),
        ("kiosk", 403),
        ("approver", 403),
        ("other-hall clerk", 403),
    ],
)
def test_list_refuses_others(client: TestClient, ctx: HallContext, seeded: int, who: str, status: int) -> None:
    headers = {
        "none": {},
        "kiosk": {"Authorization": f"Bearer {KIOSK}"},
        "approver": auth(ctx, "approver1", "approver", "t1"),
        "other-hall clerk": auth(ctx, "clerk-t2", "clerk", "t2"),
    }[who]
    assert client.get("/api/v1/halls/t1/notifications", headers=headers).status_code == status


def test_list_validates_its_query(client: TestClient, ctx: HallContext) -> None:
    clerk = auth(ctx, "clerk1", "clerk", "t1")
    assert client.get("/api/v1/halls/t1/notifications?status=lost", headers=clerk).status_code == 422
    assert client.get("/api/v1/halls/t1/notifications?limit=0", headers=clerk).status_code == 422
    assert client.get("/api/v1/halls/nope/notifications", headers=auth(ctx, "a", "admin", None)).status_code == 404


def test_retry_requeues_a_dead_message(
    client: TestClient, ctx: HallContext, db: Database, cipher: PiiCipher, seeded: int
) -> None:
    clerk = auth(ctx, "clerk1", "clerk", "t1")
    assert (
        client.post(f"/api/v1/notifications/{seeded}/retry", headers=auth(ctx, "auditor1", "auditor", "t1")).status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/notifications/{seeded}/retry", headers=auth(ctx, "clerk-t2", "clerk", "t2")).status_code
        == 403
    )
    assert client.post("/api/v1/notifications/999999/retry", headers=clerk).status_code == 404

    r = client.post(f"/api/v1/notifications/{seeded}/retry", headers=clerk)
    assert r.status_code == 200, r.text
    assert PHONE not in r.text
    body = r.json()
    assert (body["status"], body["attempts"], body["phone"]) == ("pending", 0, "138****5678")
    again = client.post(f"/api/v1/notifications/{seeded}/retry", headers=clerk)
    assert again.status_code == 409  # only dead ones
    pending = next(r for r in rows(db) if r.ticket == "A002")
    assert client.post(f"/api/v1/notifications/{pending.id}/retry", headers=clerk).status_code == 409

    with db.read() as s:
        audit = s.execute(select(AuditLog).where(col(AuditLog.action) == "notification.retry")).scalars().all()
    assert [(a.actor, a.hall_code, a.subject) for a in audit] == [("clerk1", "t1", f"notification:{seeded}")]

    # The requeued message goes out again under its old id: a gateway that did get it drops the repeat.
    receiver = Receiver().start()
    try:
        asyncio.run(run(webhook(db, cipher, receiver.url), all_status(db, "sent", 3)))
    finally:
        receiver.stop()
    dead_id = body["msg_id"]
    assert dead_id in receiver.ids() and len(receiver.ids()) == 3


def test_start_runs_the_configured_dispatcher(ctx: HallContext, db: Database, cipher: PiiCipher) -> None:
    add(db, cipher, ticket="A009")

    async def scenario() -> None:
        d = notify.start(ctx)  # what the server's lifespan does
        try:
            assert isinstance(d.provider, LogProvider)  # the test config has no [notify]: the default
            await wait_for(all_status(db, "sent"))
        finally:
            await d.stop()

    asyncio.run(scenario())
