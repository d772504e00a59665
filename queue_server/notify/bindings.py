"""A ticket's WeChat openid bound on its tracking page (`wechat_bind.py`): the binding tables' writes and reads.

The openid is stored encrypted as the outbox's recipient (`PiiCipher`, context "phone"), the form a message's
`phone_enc` takes, so `services/notices.py` hands it to the outbox as it is. A ticket's newest binding counts.

A phone's later tickets (issue 22): binding a ticket that was taken with a phone also binds the phone, keyed by
the ticket's `phone_hash` (a keyed hash, never the number), in that hall. For PHONE_BINDING_DAYS after that, a
later ticket of the same phone in the same hall that has no binding of its own gets its notices at the same
openid, without binding again — the citizen who chose WeChat once keeps it for the tickets of the next months,
as a WeChat service account's "follow" would; binding again renews it. Another hall never sees it. Unbinding
on a tracking page (`unbind`) stops it for that ticket and every other ticket of the phone in the hall.
Nothing of it goes to an event or a log line.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlmodel import col

from ..errors import Forbidden
from ..models import Ticket
from ..services.tx import HallTx
from .models import WeChatBinding, WeChatPhoneBinding

__all__ = ["PHONE_BINDING_DAYS", "USED", "bind", "bound", "bound_recipient", "unbind", "used"]

USED = "此授权已使用过 / This WeChat sign-in was already used"
PHONE_BINDING_DAYS = 180  # how long a phone's binding serves its later tickets (from the last binding)
_UNBOUND = ""  # a ticket binding's openid once unbound (the row stays: its nonce must stay used)


def used(session: Any, nonce: str) -> bool:
    """Whether an OAuth state's nonce has bound an openid already."""
    q = select(col(WeChatBinding.id)).where(col(WeChatBinding.nonce) == nonce)
    return session.execute(q).first() is not None


def bind(tx: HallTx, *, ticket_id: int, nonce: str, openid: str, phone_hash: str | None = None) -> None:
    """Store the openid (encrypted as the outbox's recipient) for the ticket, and for its phone's later tickets
    when it was taken with one (`phone_hash`); a used nonce is refused."""
    if used(tx.session, nonce):
        raise Forbidden(USED)
    openid_enc = tx.pii.encrypt(openid, context="phone")
    tx.session.add(
        WeChatBinding(hall_code=tx.hall, ticket_id=ticket_id, nonce=nonce, openid_enc=openid_enc, created_at=tx.now)
    )
    if phone_hash:
        _forget_phone(tx, phone_hash)
        tx.session.add(
            WeChatPhoneBinding(hall_code=tx.hall, phone_hash=phone_hash, openid_enc=openid_enc, created_at=tx.now)
        )


def unbind(tx: HallTx, *, ticket_id: int, phone_hash: str | None) -> bool:
    """Stop WeChat notices for the ticket and for every ticket of its phone in the hall (earlier and later ones);
    whether anything was bound."""
    tickets = col(WeChatBinding.ticket_id) == ticket_id
    if phone_hash:
        same_phone = select(col(Ticket.id)).where(
            col(Ticket.hall_code) == tx.hall, col(Ticket.phone_hash) == phone_hash
        )
        tickets = or_(tickets, col(WeChatBinding.ticket_id).in_(same_phone))
    q = (
        update(WeChatBinding)
        .where(col(WeChatBinding.hall_code) == tx.hall, tickets, col(WeChatBinding.openid_enc) != _UNBOUND)
        .values(openid_enc=_UNBOUND)
        .execution_options(synchronize_session=False)
    )
    changed = bool(tx.session.execute(q).rowcount)  # type: ignore[attr-defined]
    if phone_hash:
        changed = _forget_phone(tx, phone_hash) or changed
    return changed


def _forget_phone(tx: HallTx, phone_hash: str) -> bool:
    q = delete(WeChatPhoneBinding).where(
        col(WeChatPhoneBinding.hall_code) == tx.hall, col(WeChatPhoneBinding.phone_hash) == phone_hash
    )
    return bool(tx.session.execute(q).rowcount)  # type: ignore[attr-defined]


def _own(session: Any, hall: str, ticket_id: int) -> str | None:
    """The ticket's newest binding: its encrypted openid, "" once unbound, None when it never had one."""
    q = (
        select(col(WeChatBinding.openid_enc))
        .where(col(WeChatBinding.hall_code) == hall, col(WeChatBinding.ticket_id) == ticket_id)
        .order_by(col(WeChatBinding.id).desc())
        .limit(1)
    )
    return session.execute(q).scalar_one_or_none()


def _phone(session: Any, hall: str, phone_hash: str | None, now: datetime) -> str | None:
    """The phone's binding in the hall, if it is younger than PHONE_BINDING_DAYS."""
    if not phone_hash:
        return None
    q = select(col(WeChatPhoneBinding.openid_enc)).where(
        col(WeChatPhoneBinding.hall_code) == hall,
        col(WeChatPhoneBinding.phone_hash) == phone_hash,
        col(WeChatPhoneBinding.created_at) > now - timedelta(days=PHONE_BINDING_DAYS),
    )
    return session.execute(q).scalar_one_or_none()


def recipient_of(session: Any, hall: str, ticket_id: int, phone_hash: str | None, now: datetime) -> str | None:
    """The encrypted openid the ticket's notices go to: its own binding, else (none ever) its phone's; None."""
    own = _own(session, hall, ticket_id)
    if own is not None:
        return own or None  # unbound on its page: not even the phone's
    return _phone(session, hall, phone_hash, now)


def bound_recipient(tx: HallTx, ticket_id: int, phone_hash: str | None = None) -> str | None:
    """The encrypted openid the ticket's messages go to (the outbox's `phone_enc`), or None."""
    return recipient_of(tx.session, tx.hall, ticket_id, phone_hash, tx.now)


def bound(session: Any, hall: str, ticket_id: int, phone_hash: str | None, now: datetime) -> bool:
    """Whether the ticket's notices go to a WeChat openid (its tracking page then offers to stop them)."""
    return recipient_of(session, hall, ticket_id, phone_hash, now) is not None
