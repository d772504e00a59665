"""The outbox: a message is a row written in the transaction of the change it reports.

So a message exists exactly when its change committed: a rolled-back call leaves no message, and a
committed one is never lost. The dispatcher sends the rows later, off the request path.

Waking the dispatcher: `enqueue` hooks the session's commit, and after the outermost commit of a
transaction that enqueued, every running dispatcher of that database is woken (thread-safe). Nothing
has to be called after the commit; `Dispatcher.wake()` stays available, and polling is the fallback.
(`tx.cache` cannot carry a marker: the SQLite batch writer shares it between the changes of a batch.)
"""

from __future__ import annotations

import logging
import threading
import uuid
import weakref
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import event, insert
from sqlmodel import Session

from .messages import KINDS
from .models import PENDING, Notification

if TYPE_CHECKING:
    from ..services.tx import HallTx

__all__ = ["enqueue", "new_msg_id", "register", "unregister", "wake_after_commit"]

log = logging.getLogger("queue_server.notify")

_HOOKED = "notify.hooked"  # session.info: the after-commit listener is installed on this session
_WAKE = "notify.wake"  # session.info: this transaction enqueued a message
_INSERT = insert(Notification)


class _Wakeable(Protocol):
    def wake(self) -> None: ...


# Running dispatchers by the engine they read from; weak, so a forgotten dispatcher is not kept alive.
_listeners: weakref.WeakKeyDictionary[_Wakeable, Any] = weakref.WeakKeyDictionary()
_listeners_lock = threading.Lock()  # commits happen on worker threads, registration on the loop


def register(dispatcher: _Wakeable, engine: Any) -> None:
    """Wake `dispatcher` after every commit on `engine` that enqueued a message."""
    with _listeners_lock:
        _listeners[dispatcher] = engine


def unregister(dispatcher: _Wakeable) -> None:
    """Stop waking `dispatcher`."""
    with _listeners_lock:
        _listeners.pop(dispatcher, None)


def new_msg_id() -> str:
    """A fresh message id (32 hex digits): the webhook body's "id", by which a gateway drops repeats."""
    return uuid.uuid4().hex


def enqueue(tx: HallTx, *, kind: str, ticket: str, phone_enc: str | None, text: str) -> None:
    """Add a pending message in the caller's transaction; it commits or rolls back with the change.

    `phone_enc` is the phone number encrypted with `PiiCipher.encrypt(phone, context="phone")` (the
    ticket's or appointment's `phone_enc` as it is; None or empty: no phone, nothing is queued);
    `ticket` is the number ("A023") or the booking code; `kind` one of `messages.KINDS`.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if not phone_enc:
        return
    row = {
        "msg_id": new_msg_id(),
        "hall_code": tx.hall,
        "kind": kind,
        "ticket": ticket,
        "phone_enc": phone_enc,
        "text": text,
        "created_at": tx.now,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": tx.now,
        "last_error": None,
        "sent_at": None,
    }
    tx.session.connection().execute(_INSERT, row)
    wake_after_commit(tx.session)


def wake_after_commit(session: Session) -> None:
    """Wake the running dispatchers once the session's outermost transaction commits."""
    session.info[_WAKE] = True
    if not session.info.get(_HOOKED):
        session.info[_HOOKED] = True
        event.listen(session, "after_commit", _after_commit)


def _after_commit(session: Session) -> None:
    # Also fired when a SAVEPOINT is released (the SQLite batch writer runs each change in one): only
    # the outermost commit makes the rows visible to the dispatcher.
    if session.in_nested_transaction() or not session.info.pop(_WAKE, False):
        return
    # Never raise here: the commit has happened, and an error would tell the caller it had not.
    try:
        bind = session.get_bind()
        with _listeners_lock:
            woken = [d for d, engine in _listeners.items() if engine is bind]
        for dispatcher in woken:
            dispatcher.wake()
    except Exception:
        log.exception("notify: waking the dispatcher failed; it finds the messages at its next poll")
