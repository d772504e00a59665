"""Case service: submission (idempotent), every state change with its history row, event and document.

Each function runs inside one hall transaction (`HallTx`): the case, its history row, its document and
its `case.status` event commit together. Events carry only the case number, item code and status.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlmodel import col

from peripherals.documents.fill import format_value

from ..calendar import Calendar
from ..config import HallConfig
from ..crypto import PiiCipher
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..identity import IdType, document
from ..ids import InvalidIdNumber, InvalidPhone, mask_name, mask_phone, validate_phone
from ..models import Ticket
from ..services.auth import Principal
from ..services.tx import HallTx
from . import documents as docs
from . import states
from .catalog import Item
from .items import as_item
from .models import Case, CaseDocument, CaseHistory, CaseItem, CaseMaterial
from .storage import Checked
from .workdays import add_working_days


def role_of(who: Principal | None) -> str:
    """The workflow role of a caller: a kiosk device or an anonymous citizen is ``kiosk``."""
    if who is None or who.role == "kiosk":
        return "kiosk"
    return who.role


ANONYMOUS = "citizen"  # the history's actor of a submission without a login (the web)


def actor_name(who: Principal | None) -> str:
    """Who to write in the history: the user or device name, or ``citizen``."""
    return who.name if who is not None else ANONYMOUS


def last4_hash(cipher: PiiCipher, number: str, id_number: str) -> str:
    """The keyed hash that proves knowledge of the last four characters of the ID number for one case."""
    return cipher.keyed_hash(f"case-last4\0{number}\0{id_number[-4:].upper()}")


@dataclass
class Submission:
    """What a citizen submits (from the kiosk, the web, or a clerk at the counter)."""

    item: CaseItem
    situation: str
    name: str
    id_number: str
    phone: str | None = None
    form: dict[str, Any] = field(default_factory=dict)
    files: list[tuple[str, Checked]] = field(default_factory=list)  # (material code, checked upload)
    submission_id: str | None = None
    channel: str = "kiosk"
    ticket_id: int | None = None
    prereview: bool = False  # 网上预审: a web case waits for the clerk's pre-review before the window
    id_type: IdType | None = None  # None: told by the number's shape (identity.document)
    nationality: str | None = None  # ISO 3166-1 alpha-3; needed for a passport
    lang: str | None = None  # the applicant's language (the kiosk's, the page's or the browser's): messages, receipt


def _event(tx: HallTx, c: Case, item_code: str) -> None:
    tx.emit("case.status", {"number": c.number, "item": item_code, "status": c.status})


def _history(tx: HallTx, c: Case, who: Principal | None, action: str, before: str | None, note: str = "") -> None:
    assert c.id is not None
    tx.session.add(
        CaseHistory(
            case_id=c.id,
            at=tx.now,
            actor=actor_name(who),
            actor_role=role_of(who),
            action=action,
            from_status=before,
            to_status=c.status,
            note=note,
        )
    )


def find_submission(tx: HallTx, submission_id: str) -> Case | None:
    """The case a submission id already made in this hall, if any."""
    return tx.session.execute(
        select(Case).where(col(Case.hall_code) == tx.hall, col(Case.submission_id) == submission_id)
    ).scalar_one_or_none()


def day_prefix(tx: HallTx, tz: Any) -> str:
    """The hall's three-digit case code and the local date (YYMMDD) numbers of the day begin with."""
    day = tx.now.astimezone(tz).date()
    code = tx.config.case_code if tx.config is not None else HallConfig.derived_case_code(tx.hall)
    return f"{code}{day:%y%m%d}"


def new_number(tx: HallTx, tz: Any) -> str:
    """The next 办件编号 of the hall: its three-digit case code, the date (YYMMDD), a four-digit count.

    Unique per hall by construction: the case codes of the configured halls differ (checked when the
    configuration loads) and the count runs inside the hall's write transaction. Digits only, so the
    number can be typed on the kiosk's digit keypad (e.g. 6742612060001).
    """
    prefix = day_prefix(tx, tz)
    n = tx.session.execute(
        select(func.count()).where(col(Case.hall_code) == tx.hall, col(Case.number).like(f"{prefix}%"))
    ).scalar_one()
    return f"{prefix}{int(n) + 1:04d}"


def check_files(item: Item, situation: str, files: list[tuple[str, Checked]]) -> None:
    """422 unless every file names a material of the situation."""
    sit = item.situation(situation)
    assert sit is not None
    for code, _ in files:
        if sit.material(code) is None:
            known = ", ".join(m.code for m in sit.materials)
            raise Invalid(f"此办事情形没有材料 {code} / No material '{code}' in this situation (it has {known})")


def submit(
    tx: HallTx,
    *,
    s: Submission,
    who: Principal | None,
    cipher: PiiCipher,
    tz: Any,
) -> tuple[Case, bool]:
    """Create a case in `submitted` (from the web: `prereview`) with its materials; a repeated submission id
    returns the first case."""
    if s.submission_id:
        existing = find_submission(tx, s.submission_id)
        if existing is not None:
            return existing, False
    item = as_item(s.item)
    if item.situation(s.situation) is None:
        known = ", ".join(x.code for x in item.situations)
        raise Invalid(f"此事项没有办事情形 {s.situation} / Item has no situation '{s.situation}' (it has {known})")
    try:
        doc = document(s.id_type, s.id_number, s.nationality, today=tx.now.date())
        phone = validate_phone(s.phone) if s.phone else None
    except (InvalidIdNumber, InvalidPhone) as exc:
        raise Invalid(str(exc)) from None
    name = " ".join(s.name.split())
    if not name:
        raise Invalid("请填写申请人姓名 / Please give the applicant's name")
    check_files(item, s.situation, s.files)
    if s.ticket_id is not None:
        t = tx.session.get(Ticket, s.ticket_id)
        if t is None or t.hall_code != tx.hall:
            raise Invalid(f"本大厅没有票号 {s.ticket_id} / No ticket {s.ticket_id} in this hall")
    number = new_number(tx, tz)
    c = Case(
        number=number,
        hall_code=tx.hall,
        item_id=s.item.id or 0,
        situation=s.situation,
        status=states.PREREVIEW if s.prereview else states.SUBMITTED,
        channel=s.channel,
        submission_id=s.submission_id,
        query_token=secrets.token_hex(4).upper(),
        name_enc=cipher.encrypt(name, context="name"),
        name_masked=mask_name(name),
        id_enc=cipher.encrypt(doc.number, context="id_number"),
        id_hash=cipher.keyed_hash(doc.key),
        id_masked=doc.masked,
        id_last4_hash=last4_hash(cipher, number, doc.number),
        id_type=doc.id_type,
        nationality=doc.nationality,
        phone_enc=cipher.encrypt(phone, context="phone") if phone else None,
        phone_masked=mask_phone(phone) if phone else None,
        form_enc=cipher.encrypt(orjson.dumps(s.form).decode(), context="case_form"),
        ticket_id=s.ticket_id,
        lang=s.lang,
        submitted_at=tx.now,
        time_limit_days=item.time_limit_days,
        updated_at=tx.now,
    )
    tx.session.add(c)
    tx.session.flush()
    _history(tx, c, who, "submit", None, f"channel={s.channel}")
    add_files(tx, c, s.files, who=who)
    _event(tx, c, s.item.code)
    return c, True


def add_files(tx: HallTx, c: Case, files: list[tuple[str, Checked]], *, who: Principal | None) -> list[CaseMaterial]:
    """The rows of checked uploads (already staged); the caller moves the files into place after the commit."""
    assert c.id is not None
    rows = []
    for code, up in files:
        row = CaseMaterial(
            case_id=c.id,
            material=code,
            storage_name=up.name,
            content_type=up.content_type,
            size=up.size,
            sha256=up.sha256,
            uploaded_at=tx.now,
            uploaded_by=actor_name(who),
        )
        tx.session.add(row)
        rows.append(row)
    tx.session.flush()
    return rows


def load(session: Any, number: str, *, lock: bool = False) -> Case:
    """A case by number; NotFound otherwise."""
    stmt = select(Case).where(col(Case.number) == number)
    if lock:
        stmt = stmt.with_for_update()
    c = session.execute(stmt).scalar_one_or_none()
    if c is None:
        raise NotFound(f"没有这个办件 / No case '{number}'")
    return c


def check_staff(who: Principal | None, hall: str, *roles: str) -> Principal:
    """403 unless a staff user of one of `roles` (or admin) of this hall; 401 is the route's job. The server's
    own actors (kind ``system``: 智能审批, the day job) never come from a token."""
    if who is None or who.kind not in ("user", "system"):
        raise Forbidden("需要工作人员登录 / Staff only")
    who.require(hall, *roles)
    return who


def check_move(c: Case, action: str, who: Principal | None) -> str:
    """The state `action` would lead to: 403 for a role that may never take it, 409 when the state forbids it."""
    if who is not None and not who.in_hall(c.hall_code):
        raise Forbidden("不能操作其他大厅的办件 / This case belongs to another hall")
    try:
        return states.next_state(c.status, action, role_of(who))
    except states.RoleNotAllowed:
        raise Forbidden(f"角色 {role_of(who)} 不能执行 {action} / Role '{role_of(who)}' may not {action}") from None
    except states.IllegalTransition:
        raise Conflict(
            f"办件当前状态为“{states.LABELS[c.status][0]}”，不能执行 {action} / "
            f"Cannot {action} a case that is {c.status}"
        ) from None


def move(tx: HallTx, c: Case, action: str, who: Principal | None, note: str = "") -> str:
    """Apply `action` to the case: state machine check (409/403), history row, event; returns the old status."""
    target = check_move(c, action, who)
    before = c.status
    c.status, c.updated_at = target, tx.now
    tx.session.add(c)
    tx.session.flush()
    _history(tx, c, who, action, before, note)
    item = tx.session.get(CaseItem, c.item_id)
    _event(tx, c, item.code if item else "")
    return before


def texts(value: Any) -> Any:
    """Dates and times as the documents print them (2026年11月27日), recursively; other values as they are."""
    if isinstance(value, dict):
        return {k: texts(v) for k, v in value.items()}
    if isinstance(value, list):
        return [texts(v) for v in value]
    if isinstance(value, date | datetime):
        return format_value(value)
    return value


def issue_document(tx: HallTx, c: Case, kind: str, fields: dict[str, Any], who: Principal) -> CaseDocument:
    """Store a document of the case with its next number; the PDF is drawn from it on request."""
    assert c.id is not None and tx.config is not None
    year = tx.now.year
    serial = (
        tx.session.execute(
            select(func.count())
            .select_from(CaseDocument)
            .join(Case, col(Case.id) == col(CaseDocument.case_id))
            .where(col(Case.hall_code) == tx.hall, col(CaseDocument.kind) == kind)
        ).scalar_one()
        + 1
    )
    doc = CaseDocument(
        case_id=c.id,
        kind=kind,
        document_no=docs.document_no(tx.config, kind, year, int(serial)),
        data=orjson.dumps(texts(fields)).decode(),
        created_at=tx.now,
        created_by=who.name,
    )
    tx.session.add(doc)
    tx.session.flush()
    return doc


def start_deadline(c: Case, cal: Calendar, day: date) -> None:
    """Start the promised time limit on `day` (acceptance, or the day 容缺 materials were completed)."""
    c.deadline = add_working_days(cal, day, c.time_limit_days)


def local_date(at: datetime, tz: Any) -> date:
    """The hall's local date of an instant."""
    return at.astimezone(tz).date()


def item_of(tx: HallTx, c: Case) -> tuple[CaseItem, Item]:
    """The item version of the case (the one it was submitted under)."""
    row = tx.session.get(CaseItem, c.item_id)
    assert row is not None
    return row, as_item(row)


def hall_config(tx: HallTx) -> HallConfig:
    """The hall's configuration of the transaction."""
    assert tx.config is not None
    return tx.config
