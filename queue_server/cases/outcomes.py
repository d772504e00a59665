"""Acceptance outcomes at the window (收件受理) and the back-office decision, each with its document."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from ..calendar import Calendar
from ..errors import Conflict, Invalid
from ..services.auth import Principal
from ..services.ticketing import staff_name
from ..services.tx import HallTx
from . import certificates, states
from . import documents as docs
from .catalog import Item
from .models import Case, CaseDocument, CaseHandover, CaseMaterial
from .service import check_move, check_staff, issue_document, item_of, load, local_date, move, start_deadline
from .workdays import add_working_days, is_working_day

DEFAULT_SUPPLEMENT_DAYS = 5  # 容缺: working days to bring what is missing, unless the clerk sets a date
MAX_SUPPLEMENT_DAYS = 30
DEFAULT_VERIFICATION_DAYS = 30  # 告知承诺: working days within which the commitment is checked


@dataclass
class Outcome:
    """What the clerk or approver decided, with what the document needs."""

    action: str
    note: str = ""
    window: str = ""  # the window's name, printed on the documents
    problems: list[dict[str, str]] | None = None  # one-time notice: material, problem, requirement
    reason: str = ""  # non-acceptance / refusal
    legal_basis: str = ""
    competent_authority: str = ""
    pending: list[dict[str, str]] | None = None  # 容缺: material, requirement
    supplement_by: date | None = None
    commitments: list[str] | None = None  # 告知承诺: material codes
    signed: bool = False
    verification_days: int = DEFAULT_VERIFICATION_DAYS


def _materials_received(tx: HallTx, c: Case, item: Item) -> list[dict[str, Any]]:
    sit = item.situation(c.situation)
    assert sit is not None
    uploaded = {
        m.material for m in tx.session.execute(select(CaseMaterial).where(col(CaseMaterial.case_id) == c.id)).scalars()
    }
    rows = []
    for m in sit.materials:
        form = m.form + ("（已扫描）" if m.code in uploaded else "")
        rows.append({"name": m.name, "form": form, "copies": m.copies or 1})
    return rows


def _name_of(item: Item, c: Case, code: str) -> tuple[str, Any]:
    sit = item.situation(c.situation)
    assert sit is not None
    m = sit.material(code)
    return (m.name if m else code), m


def commitment_fields(item: Item, c: Case, codes: list[str], verification_days: int) -> dict[str, Any]:
    """The commitment letter's own fields; 422 unless the item and each chosen material allow 告知承诺."""
    if not item.commitment_allowed:
        raise Invalid("此事项不适用告知承诺制 / This item does not allow 告知承诺")
    if not codes:
        raise Invalid("请选择以承诺替代的证明材料 / Choose the proofs replaced by the commitment")
    names = []
    for code in codes:
        name, m = _name_of(item, c, code)
        if m is None or not m.commitment_allowed:
            raise Invalid(f"材料“{name}”不适用告知承诺 / Material '{code}' cannot be replaced by a commitment")
        names.append(name)
    return {
        "proof_item": "、".join(names),
        "legal_basis": item.legal_basis,
        "requirement": "申请人承诺已符合上述证明事项所要求的条件",
        "verification_days": verification_days,
    }


@dataclass
class _Apply:
    """One outcome being applied: the case, what was decided, and the document fields gathered so far."""

    tx: HallTx
    c: Case
    item: Item
    o: Outcome
    who: Principal
    cal: Calendar
    today: date
    fields: dict[str, Any]
    note: str
    receipt_too: bool = False  # an acceptance receipt follows the outcome's own document

    def move(self) -> None:
        """The state change itself (validated by `check_move` already), logged with the note."""
        move(self.tx, self.c, self.o.action, self.who, self.note)

    def accepted(self) -> None:
        """The case is accepted now (if not before): its legal deadline starts."""
        self.c.accepted_at = self.c.accepted_at or self.tx.now
        start_deadline(self.c, self.cal, self.today)

    def receipt_fields(self) -> None:
        """What the acceptance receipt adds: the materials received and the promised date."""
        self.fields["materials"] = _materials_received(self.tx, self.c, self.item)
        self.fields |= {"promised_days": self.c.time_limit_days, "promised_by": self.c.deadline}
        self.fields["clerk"] = staff_name(self.tx.session.connection(), self.who.name)  # 王芳, not clerk1


# One handler per outcome. Each validates its body before changing anything (the transaction is all or
# nothing anyway), fills its document's fields, moves the case and records what the outcome means for it.


def _notify_missing(a: _Apply) -> None:
    """一次性告知: every missing or wrong material at once."""
    if not a.o.problems:
        raise Invalid("一次性告知书须列出全部问题 / List every missing or wrong material")
    a.fields["problems"] = [
        {
            "name": _name_of(a.item, a.c, p.get("material", ""))[0],
            "problem": p.get("problem", "").strip() or "缺少",
            "requirement": p.get("requirement", "").strip() or "请补齐",
        }
        for p in a.o.problems
    ]
    a.note = a.note or f"{len(a.o.problems)} problems"
    a.move()


def _reject(a: _Apply) -> None:
    """不予受理, with its reason and legal basis."""
    reason = a.o.reason.strip()
    if not reason:
        raise Invalid("不予受理须写明理由 / Give the reason for non-acceptance")
    basis = a.o.legal_basis.strip() or "《中华人民共和国行政许可法》第三十二条"
    a.fields |= {"reason": reason, "legal_basis": basis}
    if a.o.competent_authority.strip():
        a.fields["competent_authority"] = a.o.competent_authority.strip()
    a.note = reason
    a.move()


def _accept(a: _Apply) -> None:
    """受理 (or accepted after the supplement): the deadline starts, the receipt lists the materials."""
    a.move()
    a.accepted()
    a.receipt_fields()


def _accept_shortfall(a: _Apply) -> None:
    """容缺受理: accepted with materials to follow by a working day within the allowed period."""
    pending = a.o.pending or []
    if not pending:
        raise Invalid("容缺受理须列出容缺材料 / List the materials to follow")
    rows = []
    for p in pending:
        name, m = _name_of(a.item, a.c, p.get("material", ""))
        if m is None or not m.shortfall_allowed:
            raise Invalid(f"材料“{name}”不允许容缺 / Material '{p.get('material')}' cannot be supplied later")
        rows.append({"name": name, "requirement": p.get("requirement", "").strip() or "提交原件"})
    cal, today = a.cal, a.today
    by = a.o.supplement_by or add_working_days(cal, today, DEFAULT_SUPPLEMENT_DAYS)
    if by <= today or by > add_working_days(cal, today, MAX_SUPPLEMENT_DAYS) or not is_working_day(cal, by):
        raise Invalid(
            f"补齐期限须为今后 {MAX_SUPPLEMENT_DAYS} 个工作日内的工作日 / "
            f"The supplement deadline must be a working day within {MAX_SUPPLEMENT_DAYS} working days"
        )
    a.c.supplement_deadline = by
    a.fields |= {
        "pending_materials": rows,
        "supplement_deadline": by,
        "policy_basis": "《优化营商环境条例》第四十条及本地容缺受理制度",
    }
    a.note = a.note or f"supplement by {by.isoformat()}"
    a.move()
    a.c.accepted_at = a.tx.now


def _accept_commitment(a: _Apply) -> None:
    """告知承诺: the signed letter replaces the chosen proofs; the case is accepted, with a receipt too."""
    a.fields |= commitment_fields(a.item, a.c, a.o.commitments or [], a.o.verification_days)
    if not a.o.signed:
        raise Invalid("告知承诺书须由申请人签字后才能受理 / The applicant must sign the commitment letter first")
    a.note = a.note or "signed commitment: " + ",".join(a.o.commitments or [])
    a.move()
    a.accepted()
    a.receipt_too = True


def _decide(a: _Apply) -> None:
    """The back office's 准予 / 不予许可 decision, with its legal basis (and reasons for a refusal)."""
    a.fields["legal_basis"] = a.o.legal_basis.strip() or a.item.legal_basis
    refused = a.o.action == "refuse"
    if refused:
        if not a.o.reason.strip():
            raise Invalid("不予许可须写明理由 / Give the reasons for the refusal")
        a.fields["reason"] = a.note = a.o.reason.strip()
    elif a.o.note.strip():
        a.fields["note"] = a.o.note.strip()
    a.move()
    a.c.decision, a.c.decided_at = ("refused" if refused else "approved"), a.tx.now
    a.c.decision_reason = a.o.reason.strip()


def _resubmit(a: _Apply) -> None:
    """The applicant hands in again: no supplement deadline any more."""
    a.move()
    a.c.supplement_deadline = None


HANDLERS: dict[str, Callable[[_Apply], None]] = {
    "notify_missing": _notify_missing,
    "reject": _reject,
    "accept": _accept,
    "supplement": _accept,
    "accept_shortfall": _accept_shortfall,
    "accept_commitment": _accept_commitment,
    "approve": _decide,
    "refuse": _decide,
    "resubmit": _resubmit,
}


def apply(
    tx: HallTx, *, number: str, o: Outcome, who: Principal, cal: Calendar, tz: Any
) -> tuple[Case, list[CaseDocument]]:
    """Apply one outcome or decision to a case (its handler in `HANDLERS`); the case and the documents issued."""
    c = load(tx.session, number, lock=True)
    check_staff(who, c.hall_code, "clerk", "approver")
    check_move(c, o.action, who)  # 403/409 before any complaint about the body
    _, item = item_of(tx, c)
    today = local_date(tx.now, tz)
    hall = tx.config
    assert hall is not None
    fields = docs.base_fields(hall, c, item.name, tz) | {"issue_date": today, "window": o.window or hall.name}
    fields["accepted_on"] = tx.now.astimezone(tz).replace(tzinfo=None)
    step = _Apply(tx, c, item, o, who, cal, today, fields, o.note)
    HANDLERS.get(o.action, _Apply.move)(step)
    issued: list[CaseDocument] = []
    kind = docs.ISSUED_BY.get(o.action)
    if kind is not None:
        issued.append(issue_document(tx, c, kind, fields, who))
    if o.action == "approve":  # 电子证照 with the decision (signed after this transaction: api_certificates)
        certificates.issue(tx, c, item, who)
    if o.action in ("approve", "refuse") and c.chain_id is not None:  # 一链办理: the last decision readies all
        from .chains import settle  # chains applies outcomes

        settle(tx, c.chain_id)
    if step.receipt_too:  # the acceptance receipt goes with the signed letter
        step.receipt_fields()
        issued.append(issue_document(tx, c, "acceptance_receipt", fields, who))
    tx.session.add(c)
    return c, issued


def plain_move(tx: HallTx, *, number: str, action: str, who: Principal | None, note: str = "") -> Case:
    """An action without a document (review, resubmit, withdraw); the state machine decides 403/409."""
    c = load(tx.session, number, lock=True)
    move(tx, c, action, who, note)
    if action == "resubmit":
        c.supplement_deadline = None
    return c


def handover(tx: HallTx, *, numbers: list[str], who: Principal) -> tuple[CaseHandover, CaseDocument]:
    """A hand-over list (移交清单) of accepted cases to the back office; each case appears in one list only
    (its rows, for use inside the transaction)."""
    check_staff(who, tx.hall, "clerk")
    if not numbers:
        raise Invalid("移交清单不能为空 / The hand-over list is empty")
    cases = []
    for n in dict.fromkeys(numbers):
        c = load(tx.session, n, lock=True)
        if c.hall_code != tx.hall:
            raise Invalid(f"办件 {n} 不属于本大厅 / Case {n} belongs to another hall")
        if c.status not in (states.ACCEPTED, states.ON_COMMITMENT, states.PENDING_SUPPLEMENT):
            raise Conflict(f"办件 {n} 尚未受理或已在审批 / Case {n} is not waiting for hand-over ({c.status})")
        if c.handover_id is not None:
            raise Conflict(f"办件 {n} 已经移交 / Case {n} was already handed over")
        cases.append(c)
    count = tx.session.execute(select(CaseHandover).where(col(CaseHandover.hall_code) == tx.hall)).all()
    day = local_date(tx.now, tx.tz)
    h = CaseHandover(
        hall_code=tx.hall,
        number=f"{tx.hall.upper()}-YJ-{day:%Y%m%d}-{len(count) + 1:03d}",
        created_at=tx.now,
        created_by=who.name,
    )
    tx.session.add(h)
    tx.session.flush()
    rows = []
    for c in cases:
        c.handover_id = h.id
        _, item = item_of(tx, c)
        files = tx.session.execute(select(CaseMaterial).where(col(CaseMaterial.case_id) == c.id)).all()
        rows.append(
            {
                "case_no": c.number,
                "matter": item.name,
                "status": states.LABELS[c.status][0],
                "materials": len(files),
                "deadline": c.deadline or "补齐后起算",
            }
        )
    hall = tx.config
    assert hall is not None
    by = staff_name(tx.session.connection(), who.name)  # the display name (王芳), not the username
    fields = {"organ": hall.name, "cases": rows, "created_by": by, "issue_date": day}
    doc = issue_document(tx, cases[0], "handover_list", fields, who)
    h.document_id = doc.id
    tx.session.add(h)
    return h, doc


SYSTEM = Principal("system", "system", "admin", None)


def expire_shortfalls(tx: HallTx, *, tz: Any) -> int:
    """容缺 cases whose supplement deadline has passed are withdrawn (视为撤回申请, as the notice says)."""
    today = local_date(tx.now, tz)
    overdue = tx.session.execute(
        select(Case).where(
            col(Case.hall_code) == tx.hall,
            col(Case.status) == states.PENDING_SUPPLEMENT,
            col(Case.supplement_deadline) < today,
        )
    ).scalars()
    n = 0
    for c in overdue:
        move(tx, c, "withdraw", SYSTEM, "容缺材料逾期未补齐 / materials to follow not supplied in time")
        n += 1
    return n
