"""Electronic certificates (电子证照): issued with an approval, signed after it, verified publicly, revoked by staff.

An approval of an item with a `licence` makes a certificate row in the approval's transaction (its random code,
its number, what and to whom, masked); the PDF is drawn and signed after that transaction, off the event loop
and the writer (`signing_input` → `licence_pdf` + `signing.sign_pdf` → `store_signed`), and a certificate whose
signing was cut short is signed on its first download. The signed PDF is kept encrypted (it carries the holder's
name). The public verification (`/verify/<code>`) shows valid, revoked or unknown, what was issued, to whom
(masked) and when; a revocation is the approver's, audited and written in the case's history.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlmodel import Session, col

from peripherals.documents.fill import format_value

from ..crypto import PiiCipher
from ..errors import Conflict, Invalid, NotFound
from ..models import AuditLog
from ..services.auth import Principal
from ..services.tx import HallTx
from .catalog import Item
from .licence_pdf import LicenceFields
from .models import Case, CaseCertificate, CaseHistory
from .service import check_staff, local_date

CODE_BYTES = 24  # 192 random bits: 32 URL-safe characters in the QR's address
LONG_TERM = "长期 Long-term"


def certificate_no(hall: str, year: int, serial: int) -> str:
    """The certificate number, e.g. ``T1证字〔2026〕第7号``."""
    return f"{hall.upper()}证字〔{year}〕第{serial}号"


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def issue(tx: HallTx, c: Case, item: Item, who: Principal) -> CaseCertificate | None:
    """The certificate of an approved case whose item issues a licence (None for other items); unsigned yet."""
    if item.licence is None or tx.config is None:
        return None
    assert c.id is not None
    today = local_date(tx.now, tx.tz)
    serial = tx.session.execute(
        select(func.count()).select_from(CaseCertificate).where(col(CaseCertificate.hall_code) == tx.hall)
    ).scalar_one()
    lic = item.licence
    cert = CaseCertificate(
        case_id=c.id,
        hall_code=tx.hall,
        code=secrets.token_urlsafe(CODE_BYTES),
        certificate_no=certificate_no(tx.hall, today.year, int(serial) + 1),
        name=lic.name,
        name_en=lic.name_en,
        holder_masked=c.name_masked,
        data=orjson.dumps({"organ": tx.config.name, "organ_en": tx.config.name_en, "matter": item.name}).decode(),
        issued_at=tx.now,
        valid_until=_add_years(today, lic.valid_years) if lic.valid_years else None,
        issued_by=who.name,
        revoke_reason="",
    )
    tx.session.add(cert)
    tx.session.flush()
    return cert


@dataclass(frozen=True)
class ToSign:
    """A certificate waiting for its signature: its row id, hall, code and the fields to draw (holder in clear)."""

    id: int
    hall: str
    code: str
    fields: LicenceFields


def signing_input(
    session: Session, cipher: PiiCipher, c: Case, cert: CaseCertificate, tz: Any, base_url: str
) -> ToSign:
    """What to draw for a certificate: the holder's name and the item's form lines decrypted here, not stored."""
    from .items import as_item, version_by_id

    item = as_item(version_by_id(session, c.item_id))
    data = orjson.loads(cert.data)
    form = orjson.loads(cipher.decrypt(c.form_enc, context="case_form"))
    shows = item.licence.shows if item.licence else {}
    lines = [(label, str(form[key])) for label, key in shows.items() if form.get(key) not in (None, "")]
    fields = LicenceFields(
        organ=data["organ"],
        name=cert.name,
        name_en=cert.name_en,
        certificate_no=cert.certificate_no,
        holder=cipher.decrypt(c.name_enc, context="name"),
        holder_id_masked=c.id_masked,
        matter=data["matter"],
        case_no=c.number,
        issued_on=format_value(cert.issued_at.astimezone(tz).date()),
        valid_until=format_value(cert.valid_until) if cert.valid_until else LONG_TERM,
        verify_url=base_url.rstrip("/") + f"/verify/{cert.code}",
        lines=lines,
    )
    assert cert.id is not None
    return ToSign(cert.id, cert.hall_code, cert.code, fields)


def of_case(session: Session, c: Case) -> list[CaseCertificate]:
    """The certificates of a case, oldest first."""
    stmt = select(CaseCertificate).where(col(CaseCertificate.case_id) == c.id).order_by(col(CaseCertificate.id))
    return list(session.execute(stmt).scalars())


def by_code(session: Session, code: str) -> CaseCertificate:
    """A certificate by its code; NotFound otherwise."""
    row = session.execute(select(CaseCertificate).where(col(CaseCertificate.code) == code)).scalar_one_or_none()
    if row is None:
        raise NotFound("没有这份电子证照 / No such certificate")
    return row


def store_signed(tx: HallTx, *, cert_id: int, pdf: bytes, signer: str, cipher: PiiCipher) -> bool:
    """Keep a certificate's signed PDF (encrypted); the first signature wins (False when one was there)."""
    stmt = select(CaseCertificate).where(col(CaseCertificate.id) == cert_id).with_for_update()
    cert = tx.session.execute(stmt).scalar_one()
    if cert.pdf_enc is not None:
        return False
    cert.pdf_enc = cipher.encrypt(base64.b64encode(pdf).decode("ascii"), context="certificate_pdf")
    cert.sha256, cert.signer = hashlib.sha256(pdf).hexdigest(), signer[:300]
    tx.session.add(cert)
    return True


def pdf_of(cert: CaseCertificate, cipher: PiiCipher) -> bytes | None:
    """The signed PDF of a certificate (None while unsigned)."""
    if cert.pdf_enc is None:
        return None
    return base64.b64decode(cipher.decrypt(cert.pdf_enc, context="certificate_pdf"))


def revoke(tx: HallTx, *, code: str, who: Principal, reason: str) -> CaseCertificate:
    """Revoke a certificate (approver of its hall, or admin): audited, and a line in the case's history."""
    cert = by_code(tx.session, code)
    check_staff(who, cert.hall_code, "approver")
    if not reason.strip():
        raise Invalid("吊销须写明理由 / Give the reason for the revocation")
    if cert.revoked_at is not None:
        raise Conflict("此电子证照已被吊销 / This certificate was already revoked")
    cert.revoked_at, cert.revoked_by, cert.revoke_reason = tx.now, who.name, reason.strip()
    tx.session.add(cert)
    c = tx.session.get(Case, cert.case_id)
    assert c is not None
    tx.session.add(
        CaseHistory(
            case_id=cert.case_id,
            at=tx.now,
            actor=who.name,
            actor_role=who.role,
            action="revoke_certificate",
            from_status=c.status,
            to_status=c.status,
            note=f"{cert.certificate_no}: {cert.revoke_reason}",
        )
    )
    tx.session.add(
        AuditLog(
            at=tx.now, actor=who.name, action="certificate.revoke", hall_code=cert.hall_code, subject=f"case:{c.number}"
        )
    )
    return cert


def status_of(cert: CaseCertificate, today: date) -> str:
    """valid | revoked | expired."""
    if cert.revoked_at is not None:
        return "revoked"
    if cert.valid_until is not None and cert.valid_until < today:
        return "expired"
    return "valid"


def public(cert: CaseCertificate, tz: Any, today: date) -> dict[str, Any]:
    """What the verification page shows: status, what, to whom (masked), when, by whom; never the case number."""
    data = orjson.loads(cert.data)
    return {
        "status": status_of(cert, today),
        "certificate_no": cert.certificate_no,
        "name": cert.name,
        "name_en": cert.name_en,
        "holder": cert.holder_masked,
        "organ": data["organ"],
        "organ_en": data.get("organ_en", ""),
        "issued_on": cert.issued_at.astimezone(tz).date().isoformat(),
        "valid_until": cert.valid_until.isoformat() if cert.valid_until else None,
        "revoked_on": cert.revoked_at.astimezone(tz).date().isoformat() if cert.revoked_at else None,
        "revoke_reason": cert.revoke_reason or None,
        "sha256": cert.sha256,
    }


def staff_listing(session: Session, c: Case, today: date) -> list[dict[str, Any]]:
    """The case's certificates as the staff view lists them."""
    return [
        {
            "code": x.code,
            "certificate_no": x.certificate_no,
            "name": x.name,
            "status": status_of(x, today),
            "signed": x.pdf_enc is not None,
            "url": f"/api/v1/cases/{c.number}/certificates/{x.code}.pdf",
            "verify_url": f"/verify/{x.code}",
        }
        for x in of_case(session, c)
    ]
