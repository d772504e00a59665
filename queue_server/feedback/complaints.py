"""吐槽找茬 / 投诉受理: complaints from kiosk or web, routed to a handler, answered and closed."""

from __future__ import annotations

import hmac
import secrets
from typing import Final

from sqlalchemy import select
from sqlmodel import Session, col

from ..citizen_text import both
from ..crypto import PiiCipher
from ..errors import Conflict, Invalid, NotFound
from ..ids import InvalidPhone, mask_name, mask_phone, validate_phone
from ..models import UserAccount
from ..notify import enqueue, messages
from ..services.tx import HallTx
from .catalogue import COMPLAINT_CATEGORIES
from .deadlines import working_days_after
from .models import Complaint

ANSWER_WORKING_DAYS = 5
OPEN: Final = ("submitted", "assigned", "answered")
HANDLER_ROLES: Final = ("clerk", "approver", "admin")  # who can answer a complaint routed to them
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone


PROOF_LENGTH = 6


def new_code() -> str:
    """A citizen's reference, e.g. "TS7K2Q9M4X"."""
    return "TS" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def proof_of(cipher: PiiCipher, code: str) -> str:
    """The complaint's query code (查询码), e.g. "K7Q2MX": given only to the complainant at submission.

    Derived from the reference with the server's hash key, so a repeated submission (Idempotency-Key) gets
    it again without it being stored; staff lists and events never show it.
    """
    digest = bytes.fromhex(cipher.keyed_hash(f"complaint-proof\0{code.upper()}"))
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:PROOF_LENGTH])


def submit(
    tx: HallTx,
    *,
    channel: str,
    category: str,
    content: str,
    name: str = "",
    phone: str = "",
    idempotency_key: str | None = None,
    lang: str | None = None,
) -> Complaint:
    """Accept a complaint; without a name and phone it is anonymous. Personal data is stored encrypted. A
    refusal's second half is in `lang` (한국어, 日本語, Русский; else English).

    The hall's calendar (the answer's deadline) and the cipher come with the transaction.
    """
    cal, cipher = tx.hall_calendar, tx.pii
    if category not in COMPLAINT_CATEGORIES:
        raise Invalid(f"未知的类别 / Unknown category '{category}'")
    content = content.strip()
    if len(content) < 5:
        en = "Please describe what happened (5 characters or more)"
        raise Invalid(both("请写下具体情况（至少5个字）", en, lang, "fb_too_short"))
    name, phone = name.strip(), phone.strip()
    c = Complaint(
        code=new_code(),
        hall_code=tx.hall,
        channel=channel,
        category=category,
        content=content,
        anonymous=not (name or phone),
        deadline=working_days_after(cal, tx.now, ANSWER_WORKING_DAYS),
        idempotency_key=idempotency_key or None,
        created_at=tx.now,
        updated_at=tx.now,
    )
    if name:
        c.name_enc, c.name_masked = cipher.encrypt(name, context="name"), mask_name(name)
    if phone:
        try:
            digits = validate_phone(phone)
        except InvalidPhone as exc:
            raise Invalid(f"手机号码无效 / Invalid phone number: {exc}") from None
        c.phone_enc, c.phone_masked = cipher.encrypt(digits, context="phone"), mask_phone(digits)
    tx.session.add(c)
    tx.session.flush()
    tx.emit("complaint.changed", _event(c))
    return c


def _event(c: Complaint) -> dict[str, object]:
    # Public stream (boards watch without a token): never the reference code, which with its proof opens it.
    return {"id": c.id, "status": c.status, "category": c.category}


def submitted_with_key(tx: HallTx, key: str) -> Complaint | None:
    """The complaint an earlier request with this Idempotency-Key submitted (a retry after a lost answer)."""
    stmt = select(Complaint).where(col(Complaint.hall_code) == tx.hall, col(Complaint.idempotency_key) == key)
    return tx.session.execute(stmt).scalar_one_or_none()


def _load(tx: HallTx, complaint_id: int) -> Complaint:
    c = tx.session.get(Complaint, complaint_id)
    if c is None or c.hall_code != tx.hall:
        raise NotFound("没有这条投诉 / No such complaint")
    return c


def _changed(tx: HallTx, c: Complaint) -> Complaint:
    c.updated_at = tx.now
    tx.session.flush()
    tx.emit("complaint.changed", _event(c))
    return c


def assign(tx: HallTx, *, complaint_id: int, handler: str) -> Complaint:
    """Route an open, unanswered complaint to a staff user of the hall (or an admin)."""
    c = _load(tx, complaint_id)
    if c.status not in ("submitted", "assigned"):
        raise Conflict(f"投诉当前为 {c.status}，不能转派 / Cannot assign a complaint that is {c.status}")
    user = tx.session.get(UserAccount, handler)
    if user is None or not user.active or (user.role != "admin" and user.hall_code != tx.hall):
        raise Invalid(f"没有这个经办人 / No staff user '{handler}' in this hall")
    if user.role not in HANDLER_ROLES:
        raise Invalid(f"{handler} 不能答复投诉 / '{handler}' ({user.role}) cannot answer complaints")
    c.handler, c.status = handler, "assigned"
    return _changed(tx, c)


def answer(tx: HallTx, *, complaint_id: int, text: str, actor: str, is_admin: bool) -> Complaint:
    """The handler answers; the citizen is told by message when a phone was given."""
    c = _load(tx, complaint_id)
    if c.status != "assigned":
        raise Conflict(f"投诉当前为 {c.status}，不能答复 / Cannot answer a complaint that is {c.status}")
    if c.handler != actor and not is_admin:
        raise Conflict(f"该投诉由 {c.handler} 处理 / This complaint is handled by {c.handler}")
    text = text.strip()
    if not text:
        raise Invalid("请填写答复内容 / The answer is empty")
    c.answer, c.status, c.answered_at = text, "answered", tx.now
    body, params = messages.feedback_reply(c.code, text), {"reference": c.code, "answer": text}
    enqueue(tx, kind="feedback_reply", ticket=c.code, phone_enc=c.phone_enc, text=body, params=params)
    return _changed(tx, c)


def close(tx: HallTx, *, complaint_id: int) -> Complaint:
    """Close an answered complaint."""
    c = _load(tx, complaint_id)
    if c.status != "answered":
        raise Conflict(f"投诉当前为 {c.status}，不能办结 / Cannot close a complaint that is {c.status}")
    c.status, c.closed_at = "closed", tx.now
    return _changed(tx, c)


def by_proof(session: Session, cipher: PiiCipher, code: str, proof: str, lang: str | None = None) -> Complaint:
    """A complaint by its reference and the complainant's proof (the query code, or the phone's last four
    digits when a phone was given); the same 404 for a wrong code or a wrong proof."""
    c = session.execute(select(Complaint).where(col(Complaint.code) == code.strip().upper())).scalar_one_or_none()
    p = proof.strip().upper()
    if c is not None and (
        hmac.compare_digest(proof_of(cipher, c.code), p)
        or (c.phone_enc is not None and len(p) == 4 and hmac.compare_digest(_phone_last4(cipher, c.phone_enc), p))
    ):
        return c
    en = "Wrong complaint reference or query code"
    raise NotFound(both("投诉编号或查询码不正确", en, lang, "fb_complaint_not_found"))


def _phone_last4(cipher: PiiCipher, phone_enc: str) -> str:
    return cipher.decrypt(phone_enc, context="phone")[-4:]
