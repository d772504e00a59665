"""The outbox: a message row commits or rolls back with the change; a commit wakes the dispatcher."""

from __future__ import annotations

import asyncio
import threading

import pytest

from queue_server.crypto import PiiCipher
from queue_server.db import Database
from queue_server.notify import enqueue, outbox
from queue_server.services.tx import HallTx, hall_tx
from queue_server.writer import BatchWriter

from .conftest import PHONE, add, rows


class FakeDispatcher:
    """Counts wake-ups and, like a real dispatcher, looks (from another connection) at what it can see."""

    def __init__(self, db: Database | None = None) -> None:
        self.db = db
        self.wakes = 0
        self.visible: list[int] = []  # outbox rows another connection saw at each wake-up
        self._lock = threading.Lock()

    def wake(self) -> None:
        with self._lock:
            self.wakes += 1
            if self.db is not None:
                self.visible.append(len(rows(self.db)))


def _enqueue(tx: HallTx, cipher: PiiCipher, ticket: str = "A001") -> None:
    enqueue(tx, kind="called", ticket=ticket, phone_enc=cipher.encrypt(PHONE, context="phone"), text="hello")


def test_enqueue_commits_a_pending_row(db: Database, cipher: PiiCipher) -> None:
    add(db, cipher, ticket="A023")
    add(db, cipher, ticket="A024")
    first, second = rows(db)
    assert (first.hall_code, first.kind, first.ticket, first.status, first.attempts) == (
        "t1",
        "called",
        "A023",
        "pending",
        0,
    )
    assert first.next_attempt_at == first.created_at
    assert first.sent_at is None and first.last_error is None
    assert PHONE not in first.phone_enc and cipher.decrypt(first.phone_enc, context="phone") == PHONE
    assert len(first.msg_id) == 32 and first.msg_id != second.msg_id


def _failing_change(db: Database, cipher: PiiCipher) -> None:
    with hall_tx(db, None, "t1") as tx:
        _enqueue(tx, cipher)
        raise RuntimeError("the change failed")


def test_rolled_back_change_leaves_no_message(db: Database, cipher: PiiCipher) -> None:
    with pytest.raises(RuntimeError):
        _failing_change(db, cipher)
    assert rows(db) == []


def test_batch_writer_drops_only_the_failed_changes_message(db: Database, cipher: PiiCipher) -> None:
    writer = BatchWriter(db, None)

    def good(tx: HallTx) -> None:
        _enqueue(tx, cipher, "A001")

    def bad(tx: HallTx) -> None:
        _enqueue(tx, cipher, "A002")
        raise ValueError("nope")

    async def both() -> list[object]:
        return await asyncio.gather(writer.submit("t1", good), writer.submit("t1", bad), return_exceptions=True)

    try:
        results = asyncio.run(both())
    finally:
        writer.close()
    assert results[0] is None and isinstance(results[1], ValueError)
    assert [r.ticket for r in rows(db)] == ["A001"]


def test_unknown_kind_is_refused(db: Database, cipher: PiiCipher) -> None:
    with pytest.raises(ValueError, match="kind"), hall_tx(db, None, "t1") as tx:
        enqueue(tx, kind="spam", ticket="A001", phone_enc=cipher.encrypt(PHONE, context="phone"), text="x")
    assert rows(db) == []


def test_commit_wakes_the_dispatchers_of_that_database(db: Database, cipher: PiiCipher, tmp_path: object) -> None:
    mine, other = FakeDispatcher(db), FakeDispatcher()
    outbox.register(mine, db.engine)
    outbox.register(other, object())  # a dispatcher of another database
    try:
        with hall_tx(db, None, "t1") as tx:
            _enqueue(tx, cipher, "A001")
            _enqueue(tx, cipher, "A002")
            assert mine.wakes == 0  # not before the commit
        assert mine.wakes == 1 and other.wakes == 0
        assert mine.visible == [2]  # woken once both rows were committed

        with pytest.raises(RuntimeError):
            _failing_change(db, cipher)
        assert mine.wakes == 1  # rolled back: nothing to send

        with hall_tx(db, None, "t1") as tx:
            tx.emit("noop", {})  # a change without messages wakes nobody
        assert mine.wakes == 1
    finally:
        outbox.unregister(mine)
        outbox.unregister(other)


def test_batch_writer_wakes_after_the_batch_commit_not_the_savepoint(db: Database, cipher: PiiCipher) -> None:
    mine = FakeDispatcher(db)
    outbox.register(mine, db.engine)
    writer = BatchWriter(db, None)
    seen_in_fn: list[int] = []

    def change(tx: HallTx) -> None:
        _enqueue(tx, cipher)
        seen_in_fn.append(mine.wakes)

    try:
        asyncio.run(writer.submit("t1", change))
    finally:
        writer.close()
        outbox.unregister(mine)
    assert seen_in_fn == [0]
    assert mine.wakes == 1
    assert mine.visible == [1]  # not at the SAVEPOINT's release, when no other connection sees the row


def test_no_phone_no_message(db: Database) -> None:
    with hall_tx(db, None, "t1") as tx:
        enqueue(tx, kind="called", ticket="A001", phone_enc=None, text="x")
        enqueue(tx, kind="called", ticket="A002", phone_enc="", text="x")
    assert rows(db) == []


class BrokenDispatcher:
    def wake(self) -> None:
        raise RuntimeError("boom")


def test_a_failing_wake_never_fails_the_commit(db: Database, cipher: PiiCipher) -> None:
    broken = BrokenDispatcher()
    outbox.register(broken, db.engine)
    try:
        with hall_tx(db, None, "t1") as tx:
            _enqueue(tx, cipher)
    finally:
        outbox.unregister(broken)
    assert len(rows(db)) == 1
