"""Staff view of the outbox: what went to citizens' phones, what failed, and requeueing a dead message."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlalchemy import select, update
from sqlmodel import Session, col

from ..api.deps import CtxDep, PrincipalDep
from ..crypto import PiiCipher, PiiDecryptError
from ..errors import Conflict, Forbidden, NotFound
from ..ids import mask_phone
from ..models import AuditLog
from ..services.tx import HallTx
from .models import DEAD, PENDING, Notification
from .outbox import wake_after_commit

__all__ = ["NotificationInfo", "router"]

MAX_ID = 2**31 - 1
N = Notification

router = APIRouter(tags=["notifications"])


class NotificationInfo(BaseModel):
    """A message to a citizen as staff see it: the phone number masked, never in full."""

    id: int
    msg_id: str
    kind: str
    ticket: str
    phone: str  # masked: "138****5678"
    text: str
    status: Literal["pending", "sent", "dead"]
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None  # None once sent or dead
    sent_at: datetime | None

    @classmethod
    def of(cls, n: Notification, cipher: PiiCipher, tz: tzinfo) -> NotificationInfo:
        """Build from a row, decrypting the phone number only to mask it."""
        assert n.id is not None
        try:
            phone = mask_phone(cipher.decrypt(n.phone_enc, context="phone"))
        except PiiDecryptError:
            phone = "***"
        return cls(
            id=n.id,
            msg_id=n.msg_id,
            kind=n.kind,
            ticket=n.ticket,
            phone=phone,
            text=n.text,
            status=n.status,  # pydantic checks it is one of the three
            attempts=n.attempts,
            last_error=n.last_error,
            created_at=n.created_at.astimezone(tz),
            next_attempt_at=n.next_attempt_at.astimezone(tz) if n.status == PENDING else None,
            sent_at=n.sent_at.astimezone(tz) if n.sent_at else None,
        )


@router.get("/api/v1/halls/{hall}/notifications", response_model=list[NotificationInfo])
async def list_notifications(
    hall: str,
    ctx: CtxDep,
    who: PrincipalDep,
    status: Literal["pending", "sent", "dead"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[NotificationInfo]:
    """The hall's messages to citizens, newest first, optionally of one status (dead: failed for good)."""
    ctx.hall(hall)
    who.require(hall, "clerk", "auditor")
    tz = ctx.zones[hall]

    def fetch(s: Session) -> list[NotificationInfo]:
        q = select(N).where(col(N.hall_code) == hall)
        if status is not None:
            q = q.where(col(N.status) == status)
        rows = s.execute(q.order_by(col(N.id).desc()).limit(limit)).scalars().all()
        return [NotificationInfo.of(r, ctx.cipher, tz) for r in rows]

    return await ctx.read(fetch)


@router.post("/api/v1/notifications/{notification_id}/retry", response_model=NotificationInfo)
async def retry_notification(
    notification_id: Annotated[int, Path(ge=1, le=MAX_ID)], ctx: CtxDep, who: PrincipalDep
) -> NotificationInfo:
    """Requeue a dead message (same id, so a gateway that did get it drops the repeat) with fresh attempts."""
    if who.role not in ("clerk", "admin"):
        raise Forbidden(f"角色 {who.role} 无权进行此操作 / Role '{who.role}' may not do this")

    def hall_of(s: Session) -> str | None:
        return s.execute(select(col(N.hall_code)).where(col(N.id) == notification_id)).scalar_one_or_none()

    hall = await ctx.read(hall_of)
    if hall is None:
        raise NotFound(f"消息不存在 / No notification {notification_id}")
    who.require(hall, "clerk")

    def requeue(tx: HallTx) -> NotificationInfo:
        r = tx.session.connection().execute(
            update(N)
            .where(col(N.id) == notification_id, col(N.status) == DEAD)
            .values(status=PENDING, attempts=0, next_attempt_at=tx.now)
        )
        if r.rowcount != 1:
            raise Conflict("只能重发已失败的消息 / Only a dead notification can be retried")
        tx.session.add(
            AuditLog(
                at=tx.now,
                actor=who.name,
                action="notification.retry",
                hall_code=hall,
                subject=f"notification:{notification_id}",
            )
        )
        wake_after_commit(tx.session)
        row = tx.session.execute(select(N).where(col(N.id) == notification_id)).scalar_one()
        return NotificationInfo.of(row, tx.pii, tx.tz)

    return await ctx.change(hall, requeue)
