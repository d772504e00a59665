"""The outbox: a message is a row written in the transaction of the change it reports.

So a message exists exactly when its change committed: a rolled-back call leaves no message, and a
committed one is never lost. The dispatcher sends the rows later, off the request path.

Secrets: a text's values marked with `messages.secret` (pickup, booking, verification codes) are kept
apart. The row's `text`, `ticket` and `params` are what staff and logs may see, with those values
masked; the text, ticket and params as sent are in `secret` (JSON), read only by the dispatcher for the
provider's send and cleared once the message is sent.

Params: the message's values by name (`messages.PARAMS`), for the providers that send a registered
template instead of our text (Alibaba Cloud and Tencent Cloud SMS, WeChat subscription messages).

Waking the dispatcher: `enqueue` hooks the session's commit, and after the outermost commit of a
transaction that enqueued, every running dispatcher of that database is woken (thread-safe). Nothing
has to be called after the commit; `Dispatcher.wake()` stays available, and polling is the fallback.
(`tx.cache` cannot carry a marker: the SQLite batch writer shares it between the changes of a batch.)
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from sqlalchemy import event, insert
from sqlmodel import Session

from .messages import KINDS, PARAMS, SECRET_CLOSE, SECRET_OPEN
from .models import PENDING, Notification

if TYPE_CHECKING:
    from ..services.tx import HallTx

__all__ = ["enqueue", "mask_secret", "new_msg_id", "register", "split_secrets", "unregister", "wake_after_commit"]

log = logging.getLogger("queue_server.notify")

_HOOKED = "notify.hooked"  # session.info: the after-commit listener is installed on this session
_WAKE = "notify.wake"  # session.info: this transaction enqueued a message
_INSERT = insert(Notification)
_SECRET = re.compile(f"{SECRET_OPEN}(.*?){SECRET_CLOSE}", re.DOTALL)
_MARKS = str.maketrans("", "", SECRET_OPEN + SECRET_CLOSE)


def mask_secret(value: str) -> str:
    """A secret value as staff see it: nothing of it, only that there was one."""
    return "*" * max(4, len(value))


def split_secrets(text: str) -> tuple[str, str, list[str]]:
    """(the text as staff and logs see it, the text as sent, its secret values) of a marked text."""
    values = _SECRET.findall(text)
    shown = _SECRET.sub(lambda m: mask_secret(m.group(1)), text).translate(_MARKS)
    return shown, _SECRET.sub(r"\1", text).translate(_MARKS), values


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


def enqueue(
    tx: HallTx,
    *,
    kind: str,
    ticket: str,
    phone_enc: str | None,
    text: str,
    params: Mapping[str, object] | None = None,
) -> None:
    """Add a pending message in the caller's transaction; it commits or rolls back with the change.

    `phone_enc` is the phone number encrypted with `PiiCipher.encrypt(phone, context="phone")` (the
    ticket's or appointment's `phone_enc` as it is; None or empty: no phone, nothing is queued);
    `ticket` is the number ("A023") or the booking code; `kind` one of `messages.KINDS`. Values of
    `text` marked with `messages.secret` are masked in the stored text (and `ticket`, when it is one of
    them) and kept for the send only. `params` are the message's values by name (`messages.PARAMS[kind]`,
    secret ones marked the same way), for the template providers.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if params is not None and set(params) != set(PARAMS[kind]):
        raise ValueError(f"a {kind} message carries {sorted(PARAMS[kind])}, not {sorted(params)}")
    if not phone_enc:
        return
    shown, sent, values = split_secrets(text)
    shown_params: dict[str, str] = {}
    sent_params: dict[str, str] = {}
    for name, value in (params or {}).items():
        shown_params[name], sent_params[name], secret_values = split_secrets(str(value))
        values += secret_values
    row = {
        "msg_id": new_msg_id(),
        "hall_code": tx.hall,
        "kind": kind,
        "ticket": mask_secret(ticket) if ticket in values else ticket,
        "phone_enc": phone_enc,
        "text": shown,
        "params": orjson.dumps(shown_params).decode() if params is not None else None,
        "secret": orjson.dumps({"text": sent, "ticket": ticket, "params": sent_params}).decode() if values else None,
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
        url = bind.engine.url
        with _listeners_lock:
            # the same database, not only the same engine: PostgreSQL writer lanes commit on engines of their own
            woken = [d for d, e in _listeners.items() if e is bind or getattr(e, "url", None) == url]
        for dispatcher in woken:
            dispatcher.wake()
    except Exception:
        log.exception("notify: waking the dispatcher failed; it finds the messages at its next poll")
