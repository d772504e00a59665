"""Case documents: which document each outcome issues, its number, and rendering it through `peripherals`.

A document's non-personal fields are stored with it (`CaseDocument.data`); the applicant's name (and, on
the commitment letter, the ID number the applicant signs under) is decrypted only when the PDF is drawn.
The ID number is drawn in full only for a role that may reveal it (`REVEALERS`); every download of a
document by staff is written to the audit log (`downloaded`), saying whether it carried the full number.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from peripherals.documents import CaseTemplate, load_templates, render_case_document
from peripherals.documents.templates import second_lines
from peripherals.documents.text import OTHER_LANGS, second

from ..config import HallConfig
from ..crypto import PiiCipher
from ..models import AuditLog
from ..services.auth import Principal
from .models import Case, CaseDocument

EXTRA_TEMPLATES = Path(__file__).with_name("documents.toml")
ENQUIRY_PHONE = "12345"  # 政务服务便民热线
REVIEW_AUTHORITY = "本机关的上一级主管部门或者本级人民政府"
COURT = "有管辖权的人民法院"

# Document kind per action, and the letters of its number (威审受字〔2026〕第12号).
ISSUED_BY: dict[str, str] = {
    "accept": "acceptance_receipt",
    "supplement": "acceptance_receipt",
    "notify_missing": "one_time_notice",
    "reject": "non_acceptance_notice",
    "accept_shortfall": "conditional_acceptance_notice",
    "accept_commitment": "commitment_letter",
    "approve": "approval_decision",
    "refuse": "refusal_decision",
}
_PREFIX = {
    "acceptance_receipt": "受",
    "one_time_notice": "补",
    "non_acceptance_notice": "不受",
    "conditional_acceptance_notice": "容",
    "commitment_letter": "诺",
    "approval_decision": "准",
    "refusal_decision": "不准",
    "handover_list": "移",
}
KINDS = (*_PREFIX, "submission_receipt")
REVEALERS = frozenset({"clerk", "approver", "admin"})  # who may see an applicant's ID number in full


@functools.cache
def templates() -> dict[str, CaseTemplate]:
    """The five built-in templates of `peripherals` and the workflow's own four."""
    return {**load_templates(), **load_templates(EXTRA_TEMPLATES)}


def document_no(hall: HallConfig, kind: str, year: int, serial: int) -> str:
    """The document number, e.g. ``T1审受字〔2026〕第12号``."""
    return f"{hall.code.upper()}审{_PREFIX[kind]}字〔{year}〕第{serial}号"


def base_fields(hall: HallConfig, case: Case, matter: str, tz: Any) -> dict[str, Any]:
    """The fields every case document shares (the applicant is added when drawing)."""
    return {
        "organ": hall.name,
        "matter": matter,
        "case_no": case.number,
        "submitted_on": case.submitted_at.astimezone(tz).replace(tzinfo=None),
        "phone": ENQUIRY_PHONE,
        "review_authority": REVIEW_AUTHORITY,
        "court": COURT,
    }


@dataclass(frozen=True, slots=True)
class Printable:
    """A document ready to draw: its kind and its fields, the applicant's name decrypted (plain values, built
    inside the transaction that read the rows; drawn after it, off the writer)."""

    kind: str
    fields: dict[str, Any]


def printable(doc: CaseDocument, case: Case | None, cipher: PiiCipher, *, full_id: bool = False) -> Printable:
    """A stored document's fields, decrypting the applicant's name for it (and the ID number, where the
    document carries one, in full only with `full_id`: else masked)."""
    fields: dict[str, Any] = orjson.loads(doc.data)
    fields["document_no"] = doc.document_no
    if case is not None:
        fields["applicant"] = cipher.decrypt(case.name_enc, context="name")
        if doc.kind == "commitment_letter":
            fields["applicant_id_no"] = cipher.decrypt(case.id_enc, context="id_number") if full_id else case.id_masked
    return Printable(doc.kind, fields)


def render(p: Printable) -> bytes:
    """Draw a document as PDF (seconds of CPU for a long one: never on the event loop or in a writer job)."""
    return render_case_document(p.kind, p.fields, templates=templates())


def full_id_for(who: Principal) -> bool:
    """Whether documents drawn for this caller carry ID numbers in full."""
    return who.role in REVEALERS


def downloaded(who: Principal, hall: str, subject: str, kind: str, at: Any) -> AuditLog:
    """The audit entry of a staff download of a document (`case.document.full` when the ID was in full)."""
    action = "case.document.full" if kind == "commitment_letter" and full_id_for(who) else "case.document"
    return AuditLog(at=at, actor=who.name, action=action, hall_code=hall, subject=f"{subject}:{kind}")


# The receipt's English second lines (documents.toml) and their keys in the documents' catalogue (peripherals).
RECEIPT_KEYS = {
    "Self-Submission Receipt": "receipt_title",
    "Case number": "receipt_case_no",
    "Query code": "receipt_query_code",
    "Applicant": "receipt_applicant",
    "Service matter": "receipt_matter",
    "Situation": "receipt_situation",
    "Submitted on": "receipt_submitted",
    "Materials uploaded": "receipt_materials",
    "Your application has been submitted and awaits acceptance. Bring this receipt, your ID card and the original "
    "materials to the acceptance window; track progress with the case number and query code.": "receipt_note",
}


def receipt_pdf(fields: dict[str, Any], lang: str | None = None) -> bytes:
    """The self-submission receipt (masked name, case number, query code): Chinese first, the second lines in the
    applicant's `lang` (한국어, 日本語, Русский; else English)."""
    kind, t = "submission_receipt", templates()["submission_receipt"]
    if lang in OTHER_LANGS:
        t = second_lines(t, {en: second(lang, key, en) for en, key in RECEIPT_KEYS.items()})
    return render_case_document(kind, fields, templates={kind: t})
