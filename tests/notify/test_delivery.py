"""Delivery against a real HTTP receiver on loopback: once, signed, retried, dead-lettered, restart-safe."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from queue_server.config import NotifyConfig
from queue_server.crypto import PiiCipher
from queue_server.db import Database
from queue_server.notify import Dispatcher

from .conftest import FAST, HOOK_SECRET, PHONE, Receiver, add, all_status, outbox, rows, run, wait_for, webhook


def test_delivered_exactly_once_with_a_valid_signature(db: Database, cipher: PiiCipher, receiver: Receiver) -> None:
    add(db, cipher, ticket="A001", kind="issued")
    add(db, cipher, ticket="A001", kind="called")
    add(db, cipher, ticket="B002", kind="called", hall="t2")
    asyncio.run(run(webhook(db, cipher, receiver.url), all_status(db, "sent", 3)))

    sent = rows(db)
    assert sorted(receiver.ids()) == sorted(r.msg_id for r in sent)  # each once, none twice
    assert all(r.attempts == 1 and r.sent_at is not None and r.last_error is None for r in sent)
    by_id = {r.msg_id: r for r in sent}
    for hit in receiver.hits:
        expected = "sha256=" + hmac.new(HOOK_SECRET.encode(), hit.body, hashlib.sha256).hexdigest()
        assert hit.headers["X-Hall-Signature"] == expected
        assert hit.headers["Content-Type"] == "application/json"
        body = hit.json
        assert set(body) == {"id", "kind", "hall", "ticket", "phone", "text", "at"}
        row = by_id[body["id"]]
        assert (body["kind"], body["hall"], body["ticket"], body["text"]) == (
            row.kind,
            row.hall_code,
            row.ticket,
            row.text,
        )
        assert body["phone"] == PHONE  # the gateway needs the number to send the SMS
        assert body["at"].endswith("Z")
    # One ticket's messages go out in the order they were written.
    a001 = [h.json["kind"] for h in receiver.hits if h.json["ticket"] == "A001"]
    assert a001 == ["issued", "called"]


def test_retried_when_the_receiver_answers_500(db: Database, cipher: PiiCipher, receiver: Receiver) -> None:
    receiver.status = lambda n: 500 if n <= 2 else 200
    add(db, cipher)
    asyncio.run(run(webhook(db, cipher, receiver.url), all_status(db, "sent")))

    (row,) = rows(db)
    assert row.attempts == 3 and row.status == "sent"
    assert receiver.ids() == [row.msg_id] * 3  # retries keep the id, so the gateway can drop repeats
    assert len({h.body for h in receiver.hits}) == 1  # byte for byte the same message, same signature


def test_retried_while_the_receiver_is_down(db: Database, cipher: PiiCipher) -> None:
    down = Receiver()  # not listening yet: connections are refused
    add(db, cipher)

    async def scenario() -> None:
        d = webhook(db, cipher, down.url, max_attempts=100)
        d.start()
        try:

            async def failed_twice() -> bool:
                (r,) = await outbox(db)
                return r.attempts >= 2

            await wait_for(failed_twice)
            (r,) = await outbox(db)
            assert r.status == "pending" and r.last_error and "Connect" in r.last_error
            down.start()
            await wait_for(all_status(db, "sent"))
        finally:
            await d.stop()
            down.stop()

    asyncio.run(scenario())
    assert len(down.hits) == 1


def test_dead_lettered_after_max_attempts(
    db: Database, cipher: PiiCipher, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.status = lambda _n: 500
    add(db, cipher)
    asyncio.run(run(webhook(db, cipher, receiver.url, max_attempts=3), all_status(db, "dead"), linger=0.3))

    (row,) = rows(db)
    assert row.status == "dead" and row.attempts == 3 and row.last_error == "HTTP 500" and row.sent_at is None
    assert len(receiver.hits) == 3  # and no more once dead
    assert PHONE not in caplog.text


def test_not_sent_again_after_a_restart(db: Database, cipher: PiiCipher, receiver: Receiver) -> None:
    add(db, cipher, ticket="A001")
    asyncio.run(run(webhook(db, cipher, receiver.url), all_status(db, "sent")))
    assert len(receiver.hits) == 1

    # A new process: its own engine over the same database.
    again = Database(db.url)
    try:

        async def restarted() -> None:
            d = webhook(again, cipher, receiver.url)
            d.start()
            await asyncio.sleep(0.2)
            assert len(receiver.hits) == 1
            await asyncio.to_thread(add, again, cipher, ticket="A002")
            await wait_for(all_status(again, "sent", 2))
            await asyncio.sleep(0.2)
            await d.stop()

        asyncio.run(restarted())
    finally:
        again.dispose()
    assert [h.json["ticket"] for h in receiver.hits] == ["A001", "A002"]


class CrashAfterSend(Dispatcher):
    """Dies (as far as the database can tell) between sending and recording the outcome."""

    def _mark(self, *args: Any) -> None:
        pass


def test_a_crash_between_send_and_mark_resends_with_the_same_id(
    db: Database, cipher: PiiCipher, receiver: Receiver
) -> None:
    add(db, cipher)

    async def crash() -> None:
        d = CrashAfterSend(db, cipher, webhook(db, cipher, receiver.url).config, lease_s=1.0, **FAST)
        d.start()

        async def got_it() -> bool:
            return len(receiver.hits) == 1

        await wait_for(got_it)
        await d.stop()

    asyncio.run(crash())
    (row,) = rows(db)
    assert row.status == "pending" and row.attempts == 1  # claimed, sent, but not recorded

    async def restart() -> None:
        d = webhook(Database(db.url), cipher, receiver.url)
        d.start()
        await asyncio.sleep(0.2)
        assert len(receiver.hits) == 1  # the claim's lease still runs: not sent again yet
        await wait_for(all_status(db, "sent"))
        await asyncio.sleep(0.2)
        await d.stop()
        d.db.dispose()

    asyncio.run(restart())
    assert receiver.ids() == [row.msg_id, row.msg_id]  # the gateway drops the second by its id
    assert receiver.hits[0].body == receiver.hits[1].body


def test_two_processes_never_send_a_message_twice(db: Database, cipher: PiiCipher, receiver: Receiver) -> None:
    for i in range(20):
        add(db, cipher, ticket=f"A{i:03d}")
    other = Database(db.url)

    async def both() -> None:
        d1, d2 = webhook(db, cipher, receiver.url, batch_size=4), webhook(other, cipher, receiver.url, batch_size=4)
        d1.start()
        d2.start()
        try:
            await wait_for(all_status(db, "sent", 20), timeout=10)
            await asyncio.sleep(0.2)
        finally:
            await d1.stop()
            await d2.stop()
        assert d1.sent + d2.sent == 20

    try:
        asyncio.run(both())
    finally:
        other.dispose()
    ids = receiver.ids()
    assert len(ids) == 20 and len(set(ids)) == 20


def test_commit_wakes_a_running_dispatcher(db: Database, cipher: PiiCipher, receiver: Receiver) -> None:
    async def scenario() -> float:
        d = webhook(db, cipher, receiver.url, poll_s=30.0)  # polling would take 30 s
        d.start()
        await asyncio.sleep(0.1)  # its first round found nothing; now it sleeps
        t0 = time.monotonic()
        await asyncio.to_thread(add, db, cipher)
        await wait_for(all_status(db, "sent"), timeout=3)
        await d.stop()
        return time.monotonic() - t0

    assert asyncio.run(scenario()) < 2.0


def test_a_slow_gateway_times_out_without_blocking_the_loop(
    db: Database, cipher: PiiCipher, receiver: Receiver
) -> None:
    receiver.delay_s = 1.0
    add(db, cipher)

    async def scenario() -> float:
        worst = 0.0
        stop = asyncio.Event()

        async def ticker() -> None:  # stands for the rest of the server on the same loop
            nonlocal worst
            while not stop.is_set():
                t = time.monotonic()
                await asyncio.sleep(0.01)
                worst = max(worst, time.monotonic() - t)

        tick = asyncio.create_task(ticker())
        await run(webhook(db, cipher, receiver.url, max_attempts=1, timeout_s=0.3), all_status(db, "dead"), linger=0)
        stop.set()
        await tick
        return worst

    worst = asyncio.run(scenario())
    (row,) = rows(db)
    assert row.last_error == "no answer within 0.3 s"
    assert worst < 0.2


def test_an_undecryptable_phone_is_dead_at_once(db: Database, cipher: PiiCipher, receiver: Receiver) -> None:
    add(db, PiiCipher("another-secret-entirely-0123456789"))
    asyncio.run(run(webhook(db, cipher, receiver.url), all_status(db, "dead")))
    (row,) = rows(db)
    assert row.attempts == 1 and "decrypt" in (row.last_error or "")
    assert receiver.hits == []


def test_log_provider_masks_the_phone(db: Database, cipher: PiiCipher, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    add(db, cipher, ticket="A023")
    asyncio.run(run(Dispatcher(db, cipher, NotifyConfig(), **FAST), all_status(db, "sent")))

    lines = [r.getMessage() for r in caplog.records if "A023" in r.getMessage()]
    assert len(lines) == 1
    assert "138****5678" in lines[0] and "请A023号到3号窗口办理" in lines[0]
    assert PHONE not in caplog.text


def test_backoff_grows_is_capped_and_jittered(tmp_path: Path, cipher: PiiCipher) -> None:
    d = Dispatcher(Database(f"sqlite:///{tmp_path / 'unused.db'}"), cipher, NotifyConfig())
    for n, base in ((1, 2.0), (2, 4.0), (3, 8.0), (9, 300.0), (50, 300.0)):
        delays = [d.backoff(n) for _ in range(50)]
        assert all(base <= x <= base * 1.25 for x in delays)
    assert len({d.backoff(3) for _ in range(10)}) > 1


def test_stop_finishes_the_send_on_the_wire_and_hands_back_the_rest(
    db: Database, cipher: PiiCipher, receiver: Receiver
) -> None:
    receiver.delay_s = 0.3
    add(db, cipher, ticket="A001", kind="issued")
    add(db, cipher, ticket="A001", kind="called")  # same ticket: sent after the first

    async def scenario() -> None:
        d = webhook(db, cipher, receiver.url)
        d.start()

        async def on_the_wire() -> bool:
            return len(receiver.hits) == 1

        await wait_for(on_the_wire)
        await d.stop()

    asyncio.run(scenario())
    first, second = rows(db)
    assert (first.status, first.attempts) == ("sent", 1)  # not cut off mid-send
    assert (second.status, second.attempts) == ("pending", 0)  # released, not left leased
    assert second.next_attempt_at <= second.created_at + timedelta(seconds=5)
    assert len(receiver.hits) == 1
