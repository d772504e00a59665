"""网上预审 of a chain (一链办理 from the web): the chain is pre-reviewed as one.

A web chain starts in `prereview` with every member (chains.submit_chain with `prereview`). The clerk passes
the chain (every member `prereview_passed`; the citizen books one slot of the first member's queue and comes
with the card) or returns it with ONE notice in the chain's own words — its shared materials and fields, each
line saying which items it concerns — kept with every member (`Case.prereview_notice`, the same JSON: no
column of its own). The citizen fixes the shared answers and uploads each file once again; every member goes
back to `prereview` together. At the window the chain is accepted as one with the bound card
(chains.chain_action); the members' approvals run in parallel as for any chain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from ..crypto import PiiCipher
from ..errors import Conflict, Invalid
from ..services import appointments
from ..services.auth import Principal
from ..services.tx import HallTx
from . import chains, prereview, states
from .models import Case, CaseChain
from .outcomes import Outcome, apply, plain_move
from .service import check_staff, move
from .service import item_of as case_item
from .storage import Checked


def notice(chain: chains.Chain, fixes: list[prereview.Fix], note: str) -> dict[str, Any]:
    """The one-time notice of a chain's return: each line a shared material or field of the chain (or `other`),
    named from the chain file, with the member items it concerns; 422 for an empty notice or an unknown code."""
    note = note.strip()[: prereview.NOTICE_NOTE_MAX]
    if not fixes and not note:
        raise Invalid("退回须列出需要修改的材料或内容 / List what the applicant has to fix")
    mats = {m.code: m for m in chain.materials}
    fields = {f.code: f for f in chain.fields}
    lines = []
    for f in fixes:
        if f.kind == "material":
            m = mats.get(f.code)
            if m is None:
                raise Invalid(f"此一件事没有材料 {f.code} / No material '{f.code}' in this chain")
            label, label_en, used = m.name, m.name_en, list(m.uses)
        elif f.kind == "field":
            fd = fields.get(f.code)
            if fd is None:
                raise Invalid(f"此一件事没有填写项 {f.code} / The chain's form has no field '{f.code}'")
            label, label_en, used = fd.label, fd.label_en, list(fd.maps)
        else:
            label, label_en, used = "其他", "Other", []
        problem = f.problem.strip() or "请按要求修改"
        lines.append(
            {"kind": f.kind, "code": f.code, "label": label, "label_en": label_en, "problem": problem, "items": used}
        )
    return {"fixes": lines, "note": note, "chain": chain.code}


def _locked_chain(
    tx: HallTx, number: str, who: Principal | None, status: str, doing: str
) -> tuple[CaseChain, list[Case]]:
    """The chain (locked) and its members, when it is in `status` (409 otherwise); staff of its hall if `who`."""
    row = chains.load_chain(tx.session, number, lock=True)
    if who is not None:
        check_staff(who, row.hall_code, "clerk")
    if row.status != status:
        raise Conflict(
            f"一链办理件当前状态为“{states.LABELS[row.status][0]}”，不能{doing} / "
            f"Cannot {doing} a chain that is {row.status}"
        )
    return row, chains.members_of(tx.session, row)


def _settled(tx: HallTx, row: CaseChain, status: str) -> None:
    row.status, row.updated_at = status, tx.now
    tx.session.add(row)


def pass_chain(tx: HallTx, *, number: str, who: Principal, note: str = "") -> bool:
    """The clerk passes the chain's pre-review: every member passes; the citizen books a slot and comes with the
    card. When every member's item says `prereview_output` (as a single such item, prereview.pass_case), the
    chain goes on to its one output at once instead: every member accepted, reviewed and approved by the
    网上预审 actor, and the last approval readies them all (chains.settle: one message with one pickup code).
    True when it went to output."""
    row, members = _locked_chain(tx, number, who, states.PREREVIEW, "预审通过 / pass")
    for c in members:
        move(tx, c, "prereview_pass", who, note.strip()[:500] or f"chain {row.number}")
    if not members or not all(case_item(tx, c)[1].prereview_output for c in members):
        _settled(tx, row, states.PREREVIEW_PASSED)
        prereview.tell(tx, number=row.number, matter=row.name, phone_enc=row.phone_enc, passed=True)
        return False
    _settled(tx, row, states.ACCEPTED)  # chains.settle readies an accepted chain
    row.accepted_at = tx.now
    said = f"一链办理 {row.number} 网上预审通过，结果直接出件 / chain pre-review passed: output at once"

    def take(c: Case, action: str) -> None:
        o = Outcome(action=action, note=said, window=prereview.WINDOW)
        apply(tx, number=c.number, o=o, who=prereview.ACTOR, cal=tx.hall_calendar, tz=tx.tz)

    for c in members:
        take(c, "accept")
        plain_move(tx, number=c.number, action="review", who=prereview.ACTOR, note=said)
    for c in members:  # the last decision settles the chain (outcomes.apply → chains.settle)
        take(c, "approve")
    return True


def return_chain(
    tx: HallTx, *, number: str, who: Principal, fixes: list[prereview.Fix], note: str = ""
) -> dict[str, Any]:
    """The clerk returns the chain with one notice covering every member (kept with each of them)."""
    row, members = _locked_chain(tx, number, who, states.PREREVIEW, "预审退回 / return")
    got = notice(chains.chain_of(row.data), fixes, note) | {"at": tx.now.isoformat()}
    text = orjson.dumps(got).decode()
    n = len(got["fixes"])
    for c in members:
        c.prereview_notice = text
        move(tx, c, "prereview_return", who, f"一链办理 {row.number}：{n} 项需修改 / chain: {n} to fix")
    _settled(tx, row, states.PREREVIEW_RETURNED)
    prereview.tell(tx, number=row.number, matter=row.name, phone_enc=row.phone_enc, passed=False)
    return got


def answers(session: Any, cipher: PiiCipher, row: CaseChain, members: list[Case]) -> dict[str, Any]:
    """The chain's shared answers as the members' forms hold them."""
    item = chains.member_items(session, members)
    forms = {item[c.id or 0]: orjson.loads(cipher.decrypt(c.form_enc, context="case_form")) for c in members}
    return chains.answers_of(chains.chain_of(row.data), forms)


def resubmit_chain(
    tx: HallTx,
    *,
    number: str,
    answers: dict[str, Any] | None,
    files: list[tuple[str, Checked]],
    cipher: PiiCipher,
) -> None:
    """The citizen's fix of a returned chain: the shared answers (if given) and each file once, under every
    member that uses it; every member back to `prereview`."""
    row, members = _locked_chain(tx, number, None, states.PREREVIEW_RETURNED, "重新提交 / resubmit")
    definition = chains.chain_of(row.data)
    forms = chains.forms_of(definition, answers, "web") if answers is not None else None
    by_item = chains.files_of(definition, files)
    item_of = chains.member_items(tx.session, members)
    for c in members:
        item = item_of[c.id or 0]
        prereview.resubmit(tx, c=c, form=forms[item] if forms else None, files=by_item.get(item, []), cipher=cipher)
    _settled(tx, row, states.PREREVIEW)


def book_chain(tx: HallTx, *, number: str, start: datetime, cipher: PiiCipher) -> appointments.AppointmentInfo:
    """One slot for a passed chain, of its first member's queue (where the chain is accepted), in the bound
    applicant's name; every member carries the booking code."""
    row, members = _locked_chain(tx, number, None, states.PREREVIEW_PASSED, "预约 / book")
    if not members:
        raise Conflict("一链办理件没有成员办件 / The chain has no member cases")
    booked = prereview.book(tx, c=members[0], start=start, cipher=cipher)
    for c in members[1:]:
        c.appointment_code = booked.code
        tx.session.add(c)
    row.updated_at = tx.now
    tx.session.add(row)
    return booked
