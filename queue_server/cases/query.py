"""Reading cases: the masked public timeline (办件查询), the staff view, and the back-office worklist."""

from __future__ import annotations

import hmac
from datetime import date
from typing import Any

import orjson
from sqlalchemy import select
from sqlmodel import Session, col

from ..calendar import Calendar
from ..crypto import PiiCipher
from ..errors import NotFound
from ..services.ticketing import staff_names
from . import certificates, smart, states
from .items import detail
from .models import Case, CaseChain, CaseDocument, CaseHistory, CaseItem, CaseMaterial
from .output import deliveries
from .service import ANONYMOUS, last4_hash, load
from .workdays import light


def _history(session: Session, c: Case) -> list[CaseHistory]:
    stmt = select(CaseHistory).where(col(CaseHistory.case_id) == c.id).order_by(col(CaseHistory.id))
    return list(session.execute(stmt).scalars())


def traffic(c: Case, cal: Calendar, today: date) -> dict[str, Any]:
    """Deadline, working days left and the traffic light of a case (light None when the limit is not running)."""
    if c.deadline is None or c.status not in states.RUNNING:
        return {"deadline": c.deadline.isoformat() if c.deadline else None, "light": None, "days_left": None}
    colour, left = light(cal, today, c.deadline, c.time_limit_days)
    return {"deadline": c.deadline.isoformat(), "light": colour, "days_left": left}


def public(session: Session, c: Case, cal: Calendar, today: date) -> dict[str, Any]:
    """What anyone with the proof sees: item, status and a timeline without names or staff."""
    item = session.get(CaseItem, c.item_id)
    assert item is not None
    return {
        "number": c.number,
        "hall": c.hall_code,
        "item": {"code": item.code, "version": item.version, "name": item.name, "name_en": item.name_en},
        "status": c.status,
        "status_label": states.label(c.status),
        "applicant_masked": c.name_masked,
        "submitted_at": c.submitted_at.isoformat(),
        "supplement_deadline": c.supplement_deadline.isoformat() if c.supplement_deadline else None,
        **traffic(c, cal, today),
        "timeline": [
            {"at": h.at.isoformat(), "status": h.to_status, "label": states.label(h.to_status)}
            for h in _history(session, c)
        ],
    }


def _entry(h: CaseHistory, names: dict[str, str]) -> dict[str, Any]:
    """One history entry for staff: who by display name (王芳); the submission's channel as `channel` (its
    note says ``channel=web``); an anonymous citizen's submission (recorded with the kiosk's role) as ``citizen``."""
    channel = h.note.removeprefix("channel=") if h.action == "submit" and h.note.startswith("channel=") else None
    return {
        "at": h.at.isoformat(),
        "actor": h.actor,
        "actor_name": names.get(h.actor, h.actor),
        "role": "citizen" if h.actor == ANONYMOUS else h.actor_role,
        "action": h.action,
        "from": h.from_status,
        "to": h.to_status,
        "channel": channel,
        "note": "" if channel else h.note,
    }


def staff(session: Session, c: Case, cal: Calendar, today: date, role: str) -> dict[str, Any]:
    """The case as staff see it: masked applicant, history with who, materials, documents, deliveries, actions."""
    item = session.get(CaseItem, c.item_id)
    assert item is not None
    mats = session.execute(select(CaseMaterial).where(col(CaseMaterial.case_id) == c.id).order_by(col(CaseMaterial.id)))
    documents = session.execute(
        select(CaseDocument).where(col(CaseDocument.case_id) == c.id).order_by(col(CaseDocument.id))
    )
    names = staff_names(session.connection())
    return public(session, c, cal, today) | {
        "situation": c.situation,
        "channel": c.channel,
        "id_number_masked": c.id_masked,
        "id_type": c.id_type,
        "nationality": c.nationality,
        "phone_masked": c.phone_masked,
        "time_limit_days": c.time_limit_days,
        "decision": c.decision,
        "decision_reason": c.decision_reason,
        "handed_over": c.handover_id is not None,
        "ticket_id": c.ticket_id,
        "history": [_entry(h, names) for h in _history(session, c)],
        "materials": [
            {"id": m.id, "material": m.material, "content_type": m.content_type, "size": m.size, "sha256": m.sha256}
            for m in mats.scalars()
        ],
        "documents": [
            {
                "id": d.id,
                "kind": d.kind,
                "document_no": d.document_no,
                "url": f"/api/v1/cases/{c.number}/documents/{d.id}.pdf",
            }
            for d in documents.scalars()
        ],
        "deliveries": deliveries(session, c),
        "certificates": certificates.staff_listing(session, c, today),
        "smart_check": smart.shown(c),
        "chain": chain_view(session, c.chain_id, cal, today, own=c.id),
        "prereview_notice": orjson.loads(c.prereview_notice) if c.prereview_notice else None,
        "appointment_code": c.appointment_code,
        # a chain member's result comes with the chain's (chains.settle), never on its own
        "actions": [a for a in states.allowed_actions(c.status, role) if not (c.chain_id and a == "ready")],
        "item_detail": detail(item),  # the template, with each situation's form fields
    }


def by_proof(session: Session, cipher: PiiCipher, number: str, proof: str, *, last4: bool = True) -> Case:
    """A case by number and proof (the receipt's query code, or with `last4` the ID number's last four); 404
    either way. Never by the number alone: numbers are sequential and public in events."""
    try:
        c = load(session, number)
    except NotFound:
        c = None
    p = proof.strip().upper()
    if c is not None and (
        hmac.compare_digest(c.query_token, p)
        or (last4 and hmac.compare_digest(c.id_last4_hash, last4_hash(cipher, number, p)))
    ):
        return c
    raise NotFound("办件编号或查询码不正确 / Wrong case number or query code")


def by_person(session: Session, hall: str, id_hash: str) -> list[Case]:
    """A person's cases in a hall, newest first."""
    stmt = (
        select(Case)
        .where(col(Case.hall_code) == hall, col(Case.id_hash) == id_hash)
        .order_by(col(Case.submitted_at).desc())
    )
    return list(session.execute(stmt).scalars())


def listing(session: Session, c: Case, cal: Calendar, today: date) -> dict[str, Any]:
    """A case as one line of a list (masked)."""
    item = session.get(CaseItem, c.item_id)
    assert item is not None
    return {
        "number": c.number,
        "item": item.code,
        "item_name": item.name,
        "status": c.status,
        "status_label": states.label(c.status),
        "applicant_masked": c.name_masked,
        "submitted_at": c.submitted_at.isoformat(),
        "handed_over": c.handover_id is not None,
        "smart_failed": smart.failed_labels(c),  # 秒批秒办 rules that sent it to the ordinary acceptance
        "chain": chain.number if c.chain_id is not None and (chain := session.get(CaseChain, c.chain_id)) else None,
        **traffic(c, cal, today),
    }


def chain_view(
    session: Session, chain_id: int | None, cal: Calendar, today: date, *, own: int | None = None
) -> dict[str, Any] | None:
    """一链办理: the chain a case belongs to, with every member's state and deadline light (`own`: the member
    being looked at is marked `self`)."""
    chain = session.get(CaseChain, chain_id) if chain_id is not None else None
    if chain is None:
        return None
    members = session.execute(select(Case).where(col(Case.chain_id) == chain.id).order_by(col(Case.id))).scalars()
    return {
        "number": chain.number,
        "code": chain.code,
        "name": chain.name,
        "name_en": chain.name_en,
        "status": chain.status,
        "status_label": states.label(chain.status),
        "members": [listing(session, m, cal, today) | {"self": m.id == own} for m in members],
    }


def worklist(
    session: Session, hall: str, cal: Calendar, today: date, statuses: frozenset[str] | None = None
) -> list[dict[str, Any]]:
    """Cases of the hall in the given statuses (default: where the time limit runs), nearest deadline first."""
    wanted = statuses or states.RUNNING
    stmt = select(Case).where(col(Case.hall_code) == hall, col(Case.status).in_(sorted(wanted)))
    rows = [listing(session, c, cal, today) for c in session.execute(stmt).scalars()]
    return sorted(rows, key=lambda r: (r["deadline"] is None, r["deadline"] or "", r["number"]))
