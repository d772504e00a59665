"""The 帮办代办 ledger (工作台账): assisted and proxy-served cases, key projects with milestones, the month's
statistics the hall reports, and the ledger as CSV or XLSX (masked names only: exports leave the system)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlmodel import Session, col

from ..crypto import PiiCipher
from ..errors import Conflict, Invalid, NotFound
from ..ids import InvalidPhone, mask_name, validate_phone
from ..services.auth import Principal
from ..services.tx import HallTx
from .ledger_models import AssistMilestone, AssistProject, AssistRecord

KINDS: Final = {"assist": "帮办 / Assisted", "proxy": "代办 / Proxy"}
OUTCOMES: Final = {
    "done": "办结 / Done",
    "referred": "转办 / Referred",
    "pending": "办理中 / Pending",
    "advice": "咨询指导 / Advice",
}
COLUMNS: Final = (
    ("day", "日期 / Date"),
    ("kind", "类型 / Kind"),
    ("staff", "帮办代办员 / Staff"),
    ("person", "服务对象 / Person"),
    ("organisation", "企业或项目 / Organisation"),
    ("item", "事项 / Item"),
    ("project", "重点项目 / Key project"),
    ("case_number", "办件编号 / Case"),
    ("minutes", "用时(分) / Minutes"),
    ("outcome", "结果 / Outcome"),
    ("note", "备注 / Note"),
)


@dataclass(frozen=True)
class RecordIn:
    """One assisted case as the 帮办代办 window records it."""

    day: date
    kind: str
    person: str
    minutes: int
    outcome: str
    phone: str | None = None
    organisation: str = ""
    item_code: str | None = None
    item_name: str = ""
    project_id: int | None = None
    case_number: str | None = None
    note: str = ""


def month_range(month: str) -> tuple[date, date]:
    """First and last day of ``YYYY-MM``; Invalid otherwise."""
    try:
        year, mon = (int(x) for x in month.split("-"))
        first = date(year, mon, 1)
    except ValueError:
        raise Invalid("月份格式为 YYYY-MM / The month is YYYY-MM") from None
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def add_record(tx: HallTx, *, r: RecordIn, who: Principal, cipher: PiiCipher) -> AssistRecord:
    """Record one assisted case (the staff member is the caller)."""
    if r.kind not in KINDS or r.outcome not in OUTCOMES:
        raise Invalid("类型或结果不正确 / Unknown kind or outcome")
    name = " ".join(r.person.split())
    if not name:
        raise Invalid("请填写服务对象 / Whom was helped?")
    try:
        phone = validate_phone(r.phone) if r.phone else None
    except InvalidPhone as exc:
        raise Invalid(str(exc)) from None
    if r.project_id is not None:
        p = tx.session.get(AssistProject, r.project_id)
        if p is None or p.hall_code != tx.hall:
            raise NotFound("没有这个重点项目 / No such key project")
    row = AssistRecord(
        hall_code=tx.hall,
        day=r.day,
        kind=r.kind,
        staff=who.name,
        person_enc=cipher.encrypt(name, context="assist_person"),
        person_masked=mask_name(name),
        phone_enc=cipher.encrypt(phone, context="phone") if phone else None,
        organisation=r.organisation.strip(),
        item_code=r.item_code,
        item_name=r.item_name,
        project_id=r.project_id,
        case_number=r.case_number,
        minutes=r.minutes,
        outcome=r.outcome,
        note=r.note.strip(),
        created_at=tx.now,
    )
    tx.session.add(row)
    tx.session.flush()
    return row


def records(session: Session, hall: str, first: date, last: date) -> list[AssistRecord]:
    """The hall's records of the days first..last, in order."""
    stmt = (
        select(AssistRecord)
        .where(col(AssistRecord.hall_code) == hall, col(AssistRecord.day) >= first, col(AssistRecord.day) <= last)
        .order_by(col(AssistRecord.day), col(AssistRecord.id))
    )
    return list(session.execute(stmt).scalars())


def projects(session: Session, hall: str) -> list[AssistProject]:
    """The hall's key projects, newest first."""
    stmt = select(AssistProject).where(col(AssistProject.hall_code) == hall).order_by(col(AssistProject.id).desc())
    return list(session.execute(stmt).scalars())


def milestones(session: Session, project_id: int) -> list[AssistMilestone]:
    """A project's milestones by due date."""
    stmt = (
        select(AssistMilestone)
        .where(col(AssistMilestone.project_id) == project_id)
        .order_by(col(AssistMilestone.due), col(AssistMilestone.id))
    )
    return list(session.execute(stmt).scalars())


def add_project(tx: HallTx, *, name: str, organisation: str, owner: str | None, who: Principal) -> AssistProject:
    """A key project under full-process proxy service."""
    if not name.strip() or not organisation.strip():
        raise Invalid("请填写项目名称和企业 / Give the project's name and organisation")
    p = AssistProject(
        hall_code=tx.hall,
        name=name.strip(),
        organisation=organisation.strip(),
        owner=owner or who.name,
        status="active",
        created_at=tx.now,
    )
    tx.session.add(p)
    tx.session.flush()
    return p


def project_of(session: Session, project_id: int) -> AssistProject:
    """A project by id; NotFound otherwise."""
    p = session.get(AssistProject, project_id)
    if p is None:
        raise NotFound("没有这个重点项目 / No such key project")
    return p


def add_milestone(tx: HallTx, *, project_id: int, name: str, due: date, note: str = "") -> AssistMilestone:
    """A milestone of an active project."""
    p = project_of(tx.session, project_id)
    if p.status != "active":
        raise Conflict("项目已办结 / The project is done")
    m = AssistMilestone(project_id=project_id, name=name.strip(), due=due, note=note.strip())
    tx.session.add(m)
    tx.session.flush()
    return m


def reach_milestone(tx: HallTx, *, milestone_id: int, day: date) -> AssistMilestone:
    """A milestone reached; the project is done when all its milestones are."""
    m = tx.session.get(AssistMilestone, milestone_id)
    if m is None:
        raise NotFound("没有这个节点 / No such milestone")
    if m.done_on is not None:
        raise Conflict("节点已完成 / The milestone was already reached")
    m.done_on = day
    tx.session.add(m)
    tx.session.flush()
    p = project_of(tx.session, m.project_id)
    if all(x.done_on is not None for x in milestones(tx.session, p.id or 0)):
        p.status, p.done_at = "done", tx.now
        tx.session.add(p)
    return m


def project_view(session: Session, p: AssistProject, today: date) -> dict[str, Any]:
    """A project with its milestones, each late or not."""
    ms = milestones(session, p.id or 0)
    return {
        "id": p.id,
        "name": p.name,
        "organisation": p.organisation,
        "owner": p.owner,
        "status": p.status,
        "milestones": [
            {
                "id": m.id,
                "name": m.name,
                "due": m.due.isoformat(),
                "done_on": m.done_on.isoformat() if m.done_on else None,
                "late": (m.done_on or today) > m.due,
            }
            for m in ms
        ],
    }


def record_view(r: AssistRecord, project_names: dict[int, str]) -> dict[str, Any]:
    """A record as the ledger lists and exports it (the person masked)."""
    return {
        "id": r.id,
        "day": r.day.isoformat(),
        "kind": r.kind,
        "staff": r.staff,
        "person": r.person_masked,
        "organisation": r.organisation,
        "item": r.item_name or (r.item_code or ""),
        "project": project_names.get(r.project_id or 0, ""),
        "case_number": r.case_number or "",
        "minutes": r.minutes,
        "outcome": r.outcome,
        "note": r.note,
    }


def month_stats(session: Session, hall: str, month: str, today: date) -> dict[str, Any]:
    """The month's figures: records by kind, outcome, staff and item, time spent; key projects and milestones."""
    first, last = month_range(month)
    rows = records(session, hall, first, last)
    minutes = [r.minutes for r in rows]
    ms = [m for p in projects(session, hall) for m in milestones(session, p.id or 0)]
    in_month = [m for m in ms if first <= m.due <= last]
    return {
        "month": month,
        "records": len(rows),
        "by_kind": dict(Counter(r.kind for r in rows)),
        "by_outcome": dict(Counter(r.outcome for r in rows)),
        "by_staff": dict(Counter(r.staff for r in rows)),
        "by_item": dict(Counter(r.item_name or r.item_code or "其他 / Other" for r in rows)),
        "minutes_total": sum(minutes),
        "minutes_mean": round(sum(minutes) / len(minutes), 1) if minutes else None,
        "done_rate": round(sum(r.outcome == "done" for r in rows) / len(rows), 3) if rows else None,
        "organisations": len({r.organisation for r in rows if r.organisation}),
        "projects_active": sum(p.status == "active" for p in projects(session, hall)),
        "milestones_due": len(in_month),
        "milestones_done": sum(m.done_on is not None and m.done_on <= m.due for m in in_month),
        "milestones_late": sum((m.done_on or today) > m.due for m in in_month),
    }


def _line(v: dict[str, Any]) -> list[Any]:
    out = [v[k] for k, _ in COLUMNS]
    out[1], out[9] = KINDS[v["kind"]], OUTCOMES[v["outcome"]]
    return out


def to_csv(views: list[dict[str, Any]]) -> bytes:
    """The ledger as CSV (UTF-8 with BOM for spreadsheet programs)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([h for _, h in COLUMNS])
    for v in views:
        w.writerow(_line(v))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(views: list[dict[str, Any]], stats: dict[str, Any]) -> bytes:
    """The ledger as XLSX: a sheet of records and one of the month's statistics."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"台账 {stats['month']}"
    ws.append([h for _, h in COLUMNS])
    for v in views:
        ws.append(_line(v))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    st = wb.create_sheet(f"统计 {stats['month']}")
    st.append(["指标 / Figure", "数值 / Value"])
    for key in ("records", "minutes_total", "minutes_mean", "done_rate", "organisations", "projects_active"):
        st.append([key, stats[key]])
    for key in ("milestones_due", "milestones_done", "milestones_late"):
        st.append([key, stats[key]])
    for group in ("by_kind", "by_outcome", "by_staff", "by_item"):
        for k, n in stats[group].items():
            st.append([f"{group}: {KINDS.get(k) or OUTCOMES.get(k) or k}", n])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
