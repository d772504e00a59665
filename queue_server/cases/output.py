"""Unified output (统一出件): result ready (notify the citizen), pickup ticket, EMS mailing, pickup code."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from ..crypto import PiiCipher
from ..errors import Conflict, Invalid, NotFound
from ..ids import mask_name
from ..notify import enqueue, messages
from ..services import issuing as ticket_svc
from ..services.auth import Principal
from ..services.ticketing import TicketOut
from ..services.tx import HallTx
from . import states
from .models import Case, CaseDelivery
from .service import check_staff, item_of, load, move

PICKUP_CODE_DIGITS = 8


def _pickup_hash(cipher: PiiCipher, hall: str, code: str) -> str:
    return cipher.keyed_hash(f"case-pickup\0{hall}\0{code}")


def ready(tx: HallTx, *, number: str, who: Principal, cipher: PiiCipher) -> tuple[Case, str]:
    """The result is ready: move the case, tell the citizen (silent-calling channel), make a pickup code.

    Returns the case and the one-time pickup code (shown to staff once; only its keyed hash is kept).
    """
    c = load(tx.session, number, lock=True)
    check_staff(who, c.hall_code, "clerk", "approver")
    if c.chain_id is not None:
        raise Conflict("此办件属于一链办理，全部办结后统一出件 / Part of a chain: its result comes with the chain's")
    move(tx, c, "ready", who)
    code = "".join(secrets.choice("0123456789") for _ in range(PICKUP_CODE_DIGITS))
    c.pickup_code_hash = _pickup_hash(cipher, c.hall_code, code)
    tx.session.add(c)
    _, item = item_of(tx, c)
    hall = tx.config
    name, name_en = (hall.name, hall.name_en) if hall is not None else (tx.hall, "")
    enqueue(
        tx,
        kind="case_ready",
        ticket=c.number,
        phone_enc=c.phone_enc,
        text=messages.case_ready(name, c.number, item.name, code, hall_en=name_en, lang=c.lang),
        params={"hall": name, "case_no": c.number, "matter": item.name, "code": messages.secret(code)},
    )
    return c, code


def _delivery(tx: HallTx, c: Case, method: str, who: Principal | None, **kw: Any) -> CaseDelivery:
    assert c.id is not None
    d = CaseDelivery(case_id=c.id, method=method, created_at=tx.now, created_by=who.name if who else "citizen", **kw)
    tx.session.add(d)
    tx.session.flush()
    return d


def pickup_ticket(tx: HallTx, *, number: str, who: Principal | None) -> TicketOut:
    """A ticket of the hall's 统一出件 queue to collect a ready result; one per case (a repeat the same day
    returns it). The hall's configuration and timezone come with the transaction."""
    c = load(tx.session, number, lock=True)
    if who is not None and not who.in_hall(c.hall_code):
        raise Conflict("办件不属于本大厅 / The case belongs to another hall")
    if c.status != states.RESULT_READY:
        raise Conflict(f"办理结果尚不能领取 / The result is not ready ({c.status})")
    hall = tx.config
    if hall is None or hall.output_queue is None:
        raise Conflict("本大厅未设置统一出件队列 / This hall has no output queue (output_queue)")
    key = f"case-pickup:{c.number}:{tx.now.astimezone(tx.tz).date():%Y%m%d}"
    t = ticket_svc.issue(
        tx,
        queue=hall.output_queue,
        channel="kiosk",
        idempotency_key=key,
        while_closed=True,
        personal={
            "phone_enc": c.phone_enc,
            "phone_masked": c.phone_masked,
            "id_enc": c.id_enc,
            "id_hash": c.id_hash,
            "id_masked": c.id_masked,
        },
    )
    existing = tx.session.execute(
        select(CaseDelivery).where(col(CaseDelivery.case_id) == c.id, col(CaseDelivery.method) == "window")
    ).scalar_one_or_none()
    if existing is None:
        _delivery(tx, c, "window", who, status="prepared", ticket_number=t.ticket.number)
    return t


def deliver_at_window(tx: HallTx, *, number: str, who: Principal, note: str = "") -> CaseDelivery:
    """Handed over at the output window: the case is delivered."""
    c = load(tx.session, number, lock=True)
    check_staff(who, c.hall_code, "clerk")
    move(tx, c, "deliver", who, note or "window")
    d = tx.session.execute(
        select(CaseDelivery).where(col(CaseDelivery.case_id) == c.id, col(CaseDelivery.method) == "window")
    ).scalar_one_or_none() or _delivery(tx, c, "window", who, status="prepared")
    d.status, d.delivered_at, d.delivered_by = "delivered", tx.now, who.name
    c.pickup_code_hash = None
    tx.session.add_all([c, d])
    return d


def mail(
    tx: HallTx, *, number: str, who: Principal, cipher: PiiCipher, recipient: str, address: str, waybill: str
) -> CaseDelivery:
    """Mailed free by EMS: the address is kept encrypted, the waybill number in clear."""
    if not address.strip() or not recipient.strip() or not waybill.strip():
        raise Invalid("请填写收件人、地址和运单号 / Give the recipient, the address and the waybill number")
    c = load(tx.session, number, lock=True)
    check_staff(who, c.hall_code, "clerk")
    move(tx, c, "mail", who, f"EMS {waybill.strip()}")
    c.pickup_code_hash = None
    return _delivery(
        tx,
        c,
        "ems",
        who,
        status="mailed",
        address_enc=cipher.encrypt(f"{recipient.strip()}\n{address.strip()}", context="address"),
        recipient_masked=mask_name(recipient),
        waybill=waybill.strip(),
    )


def sign(tx: HallTx, *, number: str, who: Principal, signed_by: str) -> CaseDelivery:
    """EMS signed receipt returned (回执): the case is delivered."""
    c = load(tx.session, number, lock=True)
    check_staff(who, c.hall_code, "clerk")
    d = tx.session.execute(
        select(CaseDelivery).where(col(CaseDelivery.case_id) == c.id, col(CaseDelivery.method) == "ems")
    ).scalar_one_or_none()
    move(tx, c, "sign", who, "EMS signed")
    assert d is not None  # a mailed case always has its EMS row
    d.status, d.delivered_at, d.delivered_by = "delivered", tx.now, who.name
    d.signed_by_masked = mask_name(signed_by) if signed_by.strip() else None
    tx.session.add(d)
    return d


def pickup_with_code(tx: HallTx, *, code: str, who: Principal, cipher: PiiCipher) -> Case:
    """A 24-hour kiosk verifies a pickup code: single use, then the case is delivered."""
    digest = _pickup_hash(cipher, tx.hall, code.strip())
    c = tx.session.execute(
        select(Case).where(col(Case.hall_code) == tx.hall, col(Case.pickup_code_hash) == digest).with_for_update()
    ).scalar_one_or_none()
    if c is None:
        raise NotFound("取件码无效或已使用 / The pickup code is wrong or already used")
    move(tx, c, "deliver", who, "self-service pickup code")
    c.pickup_code_hash = None
    tx.session.add(c)
    _delivery(tx, c, "self_pickup", who, status="delivered", delivered_at=tx.now, delivered_by=who.name)
    return c


def deliveries(session: Any, c: Case) -> list[dict[str, Any]]:
    """Every delivery of a case (masked: no address)."""
    rows = session.execute(select(CaseDelivery).where(col(CaseDelivery.case_id) == c.id).order_by(col(CaseDelivery.id)))
    return [
        {
            "method": d.method,
            "status": d.status,
            "ticket": d.ticket_number,
            "waybill": d.waybill,
            "recipient_masked": d.recipient_masked,
            "signed_by_masked": d.signed_by_masked,
            "created_at": d.created_at.isoformat(),
            "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
        }
        for d in rows.scalars()
    ]
