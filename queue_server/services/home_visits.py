"""预约上门: home-visit requests of elderly and disabled citizens, scheduled and closed by a clerk.

States: requested → scheduled → done; requested|scheduled → cancelled (the citizen or a clerk);
requested|scheduled → rejected (a clerk, with the reason). A scheduled visit may be rescheduled.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from ..errors import Conflict, Invalid, NotFound
from ..ids import (
    InvalidIdNumber,
    InvalidPhone,
    age_on,
    mask_id_number,
    mask_name,
    mask_phone,
    validate_identity_number,
    validate_phone,
)
from ..models import HomeVisit
from .appointments import new_code
from .tx import HallTx

REQUESTED, SCHEDULED, DONE, CANCELLED, REJECTED = "requested", "scheduled", "done", "cancelled", "rejected"
OPEN = (REQUESTED, SCHEDULED)


def request(
    tx: HallTx,
    *,
    queue: str,
    name: str,
    id_number: str,
    phone: str,
    address: str,
    reason: str,
    disabled: bool,
) -> HomeVisit:
    """Record a request; only for seniors (by the ID number) or citizens who say they are disabled.

    The hall's configuration and the cipher come with the transaction; the row is for use inside it.
    """
    hall, cipher = tx.hall_config, tx.pii
    try:
        hall.queue(queue)
    except KeyError:
        raise NotFound(f"没有这个业务队列 / No queue '{queue}' in this hall") from None
    today = tx.now.date()
    try:
        idn = validate_identity_number(id_number, today=today)
        ph = validate_phone(phone)
    except (InvalidIdNumber, InvalidPhone) as exc:
        raise Invalid(str(exc)) from None
    senior = hall.senior_age > 0 and age_on(idn, today) >= hall.senior_age
    if not (senior or disabled):
        raise Invalid(
            f"上门服务面向{hall.senior_age}岁以上老人和残疾人 / "
            f"Home visits are for citizens aged {hall.senior_age} or over and for disabled citizens"
        )
    if not name.strip() or not address.strip():
        raise Invalid("请填写姓名和地址 / Please give the name and the address")
    id_hash = cipher.keyed_hash(idn)
    open_one = tx.session.execute(
        select(col(HomeVisit.code)).where(
            col(HomeVisit.hall_code) == tx.hall, col(HomeVisit.id_hash) == id_hash, col(HomeVisit.status).in_(OPEN)
        )
    ).first()
    if open_one is not None:
        raise Conflict("您已有一个待办的上门服务申请 / You already have an open home-visit request")
    v = HomeVisit(
        code=new_code(),
        hall_code=tx.hall,
        queue=queue,
        reason=reason.strip(),
        name_enc=cipher.encrypt(name.strip(), context="name"),
        name_masked=mask_name(name.strip()),
        id_enc=cipher.encrypt(idn, context="id_number"),
        id_hash=id_hash,
        id_masked=mask_id_number(idn),
        phone_enc=cipher.encrypt(ph, context="phone"),
        phone_masked=mask_phone(ph),
        address_enc=cipher.encrypt(address.strip(), context="address"),
        created_at=tx.now,
        updated_at=tx.now,
    )
    tx.session.add(v)
    tx.session.flush()
    tx.emit("home_visit.requested", _event(v))
    return v


def _event(v: HomeVisit) -> dict[str, Any]:
    # Public stream: no code, no name, no address.
    return {"id": v.id, "queue": v.queue, "status": v.status}


def load(session: Any, code: str, hall: str | None = None) -> HomeVisit:
    """The request with this code, or NotFound."""
    v = session.execute(select(HomeVisit).where(col(HomeVisit.code) == code.strip().upper())).scalar_one_or_none()
    if v is None or (hall is not None and v.hall_code != hall):
        raise NotFound("没有这个上门服务申请 / No home-visit request with this code")
    return v


def _move(tx: HallTx, v: HomeVisit, to: str, allowed: tuple[str, ...]) -> None:
    if v.status not in allowed:
        raise Conflict(f"上门服务当前为 {v.status}，不能改为 {to} / Cannot make a {v.status} home visit {to}")
    v.status, v.updated_at = to, tx.now
    tx.emit(f"home_visit.{to}", _event(v))


def schedule(tx: HallTx, *, code: str, visit_at: datetime, clerk: str) -> HomeVisit:
    """Set (or move) the visit's time; the clerk takes it on."""
    v = load(tx.session, code, tx.hall)
    if visit_at <= tx.now:
        raise Invalid("上门时间必须在将来 / The visit must be in the future")
    v.visit_at, v.clerk = visit_at, clerk
    _move(tx, v, SCHEDULED, OPEN)
    return v


def complete(tx: HallTx, *, code: str, note: str) -> HomeVisit:
    """The visit took place."""
    v = load(tx.session, code, tx.hall)
    v.note = note
    _move(tx, v, DONE, (SCHEDULED,))
    return v


def cancel(tx: HallTx, *, code: str) -> HomeVisit:
    """The citizen (by the code) or a clerk withdraws the request."""
    v = load(tx.session, code, tx.hall)
    _move(tx, v, CANCELLED, OPEN)
    return v


def reject(tx: HallTx, *, code: str, reason: str) -> HomeVisit:
    """A clerk declines, saying why (shown to the citizen)."""
    if not reason.strip():
        raise Invalid("请说明原因 / Give the reason")
    v = load(tx.session, code, tx.hall)
    v.note = reason.strip()
    _move(tx, v, REJECTED, OPEN)
    return v
