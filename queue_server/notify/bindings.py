"""A ticket's WeChat openid bound on its tracking page (`wechat_bind.py`): the binding table's writes and reads.

The openid is stored encrypted as the outbox's recipient (`PiiCipher`, context "phone"), the form a message's
`phone_enc` takes, so `services/notices.py` hands it to the outbox as it is. A ticket's newest binding counts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from ..errors import Forbidden
from ..services.tx import HallTx
from .models import WeChatBinding

__all__ = ["USED", "bind", "bound_recipient", "used"]

USED = "此授权已使用过 / This WeChat sign-in was already used"


def used(session: Any, nonce: str) -> bool:
    """Whether an OAuth state's nonce has bound an openid already."""
    q = select(col(WeChatBinding.id)).where(col(WeChatBinding.nonce) == nonce)
    return session.execute(q).first() is not None


def bind(tx: HallTx, *, ticket_id: int, nonce: str, openid: str) -> None:
    """Store the openid (encrypted as the outbox's recipient) for the ticket; a used nonce is refused."""
    if used(tx.session, nonce):
        raise Forbidden(USED)
    tx.session.add(
        WeChatBinding(
            hall_code=tx.hall,
            ticket_id=ticket_id,
            nonce=nonce,
            openid_enc=tx.pii.encrypt(openid, context="phone"),
            created_at=tx.now,
        )
    )


def bound_recipient(tx: HallTx, ticket_id: int) -> str | None:
    """The encrypted openid bound to the ticket last (the outbox's `phone_enc`), or None."""
    q = (
        select(col(WeChatBinding.openid_enc))
        .where(col(WeChatBinding.hall_code) == tx.hall, col(WeChatBinding.ticket_id) == ticket_id)
        .order_by(col(WeChatBinding.id).desc())
        .limit(1)
    )
    return tx.session.execute(q).scalar_one_or_none()
