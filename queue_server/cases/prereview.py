"""网上预审 (online pre-review): the web applicant's phone proof, the clerk's pass or return with a one-time notice
of everything to fix, the citizen's resubmission, the slot a passed case books, and the card check at the window.

A web submission starts in `prereview` (`Submission.prereview`), bound to the ID number it was given. A clerk
passes it (`prereview_passed`: the citizen books a slot of the item's queue and comes with the card; an item
with `prereview_output` is accepted, approved and made ready at once instead) or returns it
(`prereview_returned`) with a notice listing each material or form field to fix; the citizen fixes it on the
same page and resubmits. At the window, accepting a web case needs the card read there to carry the bound
ID number (409 otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import orjson

from ..config import HallConfig
from ..crypto import PiiCipher, PiiDecryptError
from ..errors import Conflict, Invalid
from ..identity import ID_TYPES, IdType, document
from ..ids import InvalidIdNumber
from ..notify import messages
from ..notify.outbox import enqueue
from ..services import appointments
from ..services.auth import Principal
from ..services.tx import HallTx
from . import states
from .catalog import Item, Situation
from .models import Case
from .rules import form_fields
from .service import add_files, check_files, check_move, check_staff, item_of, load, move
from .smart import to_output
from .storage import Checked

PROOF_TTL = timedelta(minutes=30)  # how long a proven phone may submit, fix and book without a new code
_PROOF_CONTEXT = "web-phone-proof"
ACTOR = Principal("system", "网上预审", "admin", None)  # the steps after a pass of a prereview_output item
WINDOW = "网上预审（结果直接出件） / Online pre-review"
CARD_CHECKED = frozenset({"accept", "accept_shortfall", "accept_commitment"})  # what needs the card of a web case
NOTICE_NOTE_MAX = 1000


# --- the phone proof ---------------------------------------------------------------------------------------


def make_proof(cipher: PiiCipher, *, hall: str, phone: str, now: datetime) -> str:
    """A proof that `phone` spent a one-time code of `hall` (authenticated encryption: opaque, unforgeable,
    carrying the phone and its expiry); what the web page sends with each step."""
    claims = {"h": hall, "p": phone, "e": int((now + PROOF_TTL).timestamp())}
    return cipher.encrypt(orjson.dumps(claims).decode(), context=_PROOF_CONTEXT)


def proven_phone(cipher: PiiCipher, proof: str | None, *, hall: str, now: datetime) -> str | None:
    """The phone a live proof of `hall` was made for; None for no, a forged, another hall's or an expired proof."""
    if not proof:
        return None
    try:
        claims = orjson.loads(cipher.decrypt(proof.strip(), context=_PROOF_CONTEXT))
    except (PiiDecryptError, orjson.JSONDecodeError):
        return None
    if not isinstance(claims, dict) or claims.get("h") != hall or int(claims.get("e", 0)) <= now.timestamp():
        return None
    phone = claims.get("p")
    return phone if isinstance(phone, str) else None


def phone_of(cipher: PiiCipher, c: Case) -> str | None:
    """The phone the case was submitted with (the web's proven one)."""
    return cipher.decrypt(c.phone_enc, context="phone") if c.phone_enc else None


# --- the form and the notice ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fix:
    """One line of a pre-review notice: a material or form field (or `other`) and what is wrong with it."""

    kind: Literal["material", "field", "other"]
    code: str
    problem: str


def notice(item: Item, sit: Situation, fixes: list[Fix], note: str) -> dict[str, Any]:
    """The one-time notice (一次性告知) of a return: each line named from the catalogue; 422 for an empty notice
    or a material or field the situation does not have."""
    note = note.strip()[:NOTICE_NOTE_MAX]
    if not fixes and not note:
        raise Invalid("退回须列出需要修改的材料或内容 / List what the applicant has to fix")
    fields = {f["code"]: f for f in form_fields(item.rules or [], sit.code)}
    lines = []
    for f in fixes:
        if f.kind == "material":
            m = sit.material(f.code)
            if m is None:
                raise Invalid(f"此办事情形没有材料 {f.code} / No material '{f.code}' in this situation")
            label, label_en = m.name, m.name_en
        elif f.kind == "field":
            if f.code not in fields:
                raise Invalid(f"申报表没有填写项 {f.code} / The form has no field '{f.code}'")
            label, label_en = fields[f.code]["label"], fields[f.code]["label_en"]
        else:
            label, label_en = "其他", "Other"
        problem = f.problem.strip() or "请按要求修改"
        lines.append({"kind": f.kind, "code": f.code, "label": label, "label_en": label_en, "problem": problem})
    return {"fixes": lines, "note": note}


def shown_notice(c: Case) -> dict[str, Any] | None:
    """The last return's notice, while the case waits for the citizen's fix (None otherwise)."""
    if c.status != states.PREREVIEW_RETURNED or not c.prereview_notice:
        return None
    got: dict[str, Any] = orjson.loads(c.prereview_notice)
    return got


# --- the clerk's pass and return -----------------------------------------------------------------------------


def pass_case(tx: HallTx, *, number: str, who: Principal, note: str = "") -> bool:
    """The clerk passes the pre-review; an item with `prereview_output` goes on to `result_ready` at once (the
    citizen's message with a pickup code). True when it went to output."""
    c = load(tx.session, number, lock=True)
    check_staff(who, c.hall_code, "clerk")
    move(tx, c, "prereview_pass", who, note.strip()[:500])
    _, item = item_of(tx, c)
    if not item.prereview_output:
        _tell(tx, c, item, passed=True)
        return False
    to_output(tx, c, who=ACTOR, note="网上预审通过，结果直接出件 / pre-review passed: output at once", window=WINDOW)
    return True


def return_case(tx: HallTx, *, number: str, who: Principal, fixes: list[Fix], note: str = "") -> dict[str, Any]:
    """The clerk returns the case with the one-time notice of everything to fix (kept with the case)."""
    c = load(tx.session, number, lock=True)
    check_staff(who, c.hall_code, "clerk")
    check_move(c, "prereview_return", who)  # 403/409 before any complaint about the notice
    _, item = item_of(tx, c)
    sit = item.situation(c.situation)
    assert sit is not None
    got = notice(item, sit, fixes, note)
    got |= {"at": tx.now.isoformat()}
    c.prereview_notice = orjson.dumps(got).decode()
    move(tx, c, "prereview_return", who, f"{len(got['fixes'])} 项需修改 / {len(got['fixes'])} to fix")
    _tell(tx, c, item, passed=False)
    return got


def _tell(tx: HallTx, c: Case, item: Item, *, passed: bool) -> None:
    tell(tx, number=c.number, matter=item.name, phone_enc=c.phone_enc, passed=passed, lang=c.lang)


def tell(tx: HallTx, *, number: str, matter: str, phone_enc: str | None, passed: bool, lang: str | None = None) -> None:
    """The applicant's message (their proven phone) that the pre-review passed or returned a case (or a chain:
    one message for all its members), Chinese first and then the applicant's `lang` (else English)."""
    hall = tx.hall_config
    enqueue(
        tx,
        kind="case_prereview",
        ticket=number,
        phone_enc=phone_enc,
        text=messages.case_prereview(hall.name, number, matter, passed, hall_en=hall.name_en, lang=lang),
        params={"hall": hall.name, "case_no": number, "matter": matter, "result": "passed" if passed else "returned"},
    )


# --- the citizen's fix and booking ---------------------------------------------------------------------------


def resubmit(
    tx: HallTx,
    *,
    c: Case,
    form: dict[str, Any] | None,
    files: list[tuple[str, Checked]],
    cipher: PiiCipher,
) -> None:
    """The citizen's fixed application: new form answers (if given), the new files, back to `prereview`."""
    check_move(c, "prereview_resubmit", None)
    _, item = item_of(tx, c)
    check_files(item, c.situation, files)
    if form is not None:
        c.form_enc = cipher.encrypt(orjson.dumps(form).decode(), context="case_form")
    add_files(tx, c, files, who=None)
    move(tx, c, "prereview_resubmit", None, f"重新提交 {len(files)} 份材料 / {len(files)} files")


def queue_of(hall: HallConfig, item: Item) -> str | None:
    """The hall's queue for an item: the one named as the item's domain (市场准入 → A), if any takes bookings."""
    for q in hall.queues:
        if item.domain in (q.name, q.name_en) or item.domain_en in (q.name, q.name_en):
            return q.code if q.slot_capacity > 0 else None
    return None


def book(tx: HallTx, *, c: Case, start: datetime, cipher: PiiCipher) -> appointments.AppointmentInfo:
    """A slot of the item's queue for a passed case, in the applicant's bound name, ID number and phone."""
    if c.status != states.PREREVIEW_PASSED:
        raise Conflict(f"办件尚未通过预审，不能预约 / Only a case that passed pre-review books a slot ({c.status})")
    if c.appointment_code is not None:
        raise Conflict("此办件已经预约 / This case has an appointment already")
    _, item = item_of(tx, c)
    queue = queue_of(tx.hall_config, item)
    if queue is None:
        raise Conflict("此事项不接受预约，请到大厅取号办理 / This item takes no bookings: take a number in the hall")
    a = appointments.book(
        tx,
        queue=queue,
        start=start,
        name=cipher.decrypt(c.name_enc, context="name"),
        id_number=cipher.decrypt(c.id_enc, context="id_number"),
        phone=phone_of(cipher, c),
        channel="web",
        id_type=_id_type(c),
        nationality=c.nationality,
    )
    c.appointment_code = a.code
    tx.session.add(c)
    return a


# --- at the window -------------------------------------------------------------------------------------------


def _id_type(c: Case) -> IdType | None:
    return c.id_type if c.id_type in ID_TYPES else None  # type: ignore[return-value]


def check_card(cipher: PiiCipher, c: Case, action: str, card_id: str | None) -> None:
    """Accepting a web case needs the ID card (or the passport, for a case bound to one) read at the window:
    422 without it, 409 when its number is not the one the application is bound to. Other channels and actions
    pass. The number is validated as the submission's was (`identity.document`, of the case's document type)."""
    if c.channel != "web" or action not in CARD_CHECKED:
        return
    if not card_id:
        raise Invalid("网上申报的办件须读取申请人身份证后受理 / Read the applicant's ID card to accept a web case")
    try:
        doc = document(_id_type(c), card_id, c.nationality)
    except InvalidIdNumber as exc:
        raise Invalid(str(exc)) from None
    if cipher.keyed_hash(doc.key) != c.id_hash:
        raise Conflict(
            f"身份证与网上申报绑定的证件号码（{c.id_masked}）不一致，不能受理 / The ID card read is not the one this "
            f"web application is bound to ({c.id_masked})"
        )
