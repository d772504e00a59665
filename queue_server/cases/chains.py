"""一链办理 (one chain): several items applied for at once — catalogue files, merged form, and the workflow.

A chain file (``config/chains/*.toml``) names its member items (each with the situation it is applied in),
the shared form fields (asked once, each mapped to the field of every item that uses it) and the shared
materials (uploaded once, each mapped to the material of every item that needs it). A member's material
that the chain's own results provide (the business licence member 1 issues, 证照共享) is listed under
the member's ``provided``. Every required material of every member is covered by one or the other: a
file that leaves one out is refused at start-up with its line, like an item file.

Workflow: one submission makes the chain row and one case per member in one transaction, the shared files
named once on disk and by a material row in each member case; one acceptance at the window moves every
member (``chain_action``); each member then goes to its own approver with its own deadline (并联审批);
when every member has its decision (approved or refused: a refusal of one member does not hold back the
others), every member moves to ``result_ready`` together and the citizen gets one notice with one pickup
code (``settle``); one hand-over delivers them all.
"""

from __future__ import annotations

import functools
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import func, select
from sqlmodel import col

from ..config import ConfigProblem, locate_line
from ..crypto import PiiCipher
from ..errors import Conflict, Invalid, NotFound
from ..identity import IdType, document
from ..ids import mask_name
from ..languages import BASE, all_names, name_problems
from ..notify import enqueue, messages
from ..services.auth import Principal
from ..services.tx import HallTx
from . import states
from .catalog import ITEM_CODE, PART_CODE, CatalogError, Item, _problems
from .items import as_item, version_by_id
from .models import Case, CaseChain, CaseItem, CaseMaterial
from .outcomes import SYSTEM, Outcome, apply, plain_move
from .prereview import check_card
from .service import Submission, _history, check_staff, day_prefix, move, submit
from .storage import Checked

_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True)
PICKUP_CODE_DIGITS = 8


class Member(BaseModel):
    """One item of the chain, in the situation the chain applies it."""

    model_config = _STRICT
    item: str = Field(pattern=ITEM_CODE)
    situation: str = Field(pattern=PART_CODE)
    provided: list[str] = Field(default_factory=list)  # its materials the chain's own results provide (证照共享)


class ChainField(BaseModel):
    """A form field asked once for the whole chain, mapped to the field of each item that uses it."""

    model_config = _STRICT
    code: str = Field(pattern=PART_CODE)
    label: str = Field(min_length=1, max_length=60)
    label_en: str = Field(min_length=1, max_length=120)
    kind: Literal["text", "number", "choice"] = "text"
    choices: list[str] = Field(default_factory=list)
    required: bool = True
    sample: str = ""
    maps: dict[str, str] = Field(min_length=1)  # item code -> that item's form field

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.kind == "choice") != bool(self.choices):
            raise ValueError(f"field '{self.code}': choices go with kind = \"choice\" (and only with it)")
        return self


class ChainMaterial(BaseModel):
    """A material uploaded once and reused by each item that needs it."""

    model_config = _STRICT
    code: str = Field(pattern=PART_CODE)
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    sample: str = ""
    notes: str = ""
    uses: dict[str, str] = Field(min_length=1)  # item code -> that item's material code


class Chain(BaseModel):
    """A chain (一件事) as one chain file describes it."""

    model_config = _STRICT
    code: str = Field(pattern=ITEM_CODE)
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    names: dict[str, str] = Field(default_factory=dict)  # {ko = "…", ja = "…", ru = "…"}; absent: English
    summary: str = ""
    summary_en: str = ""
    keywords: list[str] = Field(default_factory=list)
    members: list[Member] = Field(min_length=2)
    fields: list[ChainField] = Field(default_factory=list)
    materials: list[ChainMaterial] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Self:
        for what, codes in (
            ("member item", [m.item for m in self.members]),
            ("field", [f.code for f in self.fields]),
            ("material", [m.code for m in self.materials]),
        ):
            twice = sorted({c for c in codes if codes.count(c) > 1})
            if twice:
                raise ValueError(f"chain '{self.code}' lists {what} {', '.join(twice)} twice")
        bad = name_problems(self.names)
        if bad:
            raise ValueError(bad[0])
        return self

    def member(self, item: str) -> Member | None:
        """The member of this item, or None."""
        return next((m for m in self.members if m.item == item), None)


def default_chains_dir() -> Path:
    """The chains shipped with the server (``queue_server/defaults/chains``: ``config/chains``)."""
    return (Path(__file__).parent.parent / "defaults" / "chains").resolve()


def chains_dir(items_dir: Path | None) -> Path | None:
    """The chains beside a hall's own item catalogue (``chains/`` next to ``items/``), the shipped ones with the
    shipped catalogue; None: a hall with its own items and no chains of its own has no chains."""
    if items_dir is None:
        return default_chains_dir()
    own = items_dir.parent / "chains"
    return own if own.is_dir() else None


def _cross_check(chain: Chain, items: dict[str, Item], text: str) -> list[ConfigProblem]:
    """What the chain says that its items contradict: unknown items, situations, fields, materials; a required
    material of a member that neither a chain material nor `provided` covers."""
    out: list[ConfigProblem] = []

    def problem(loc: tuple[str | int, ...], msg: str) -> None:
        out.append(ConfigProblem(".".join(str(p) for p in loc), msg, locate_line(text, loc)))

    members = {m.item: m for m in chain.members}
    for i, m in enumerate(chain.members):
        item = items.get(m.item)
        if item is None:
            problem(("members", i, "item"), f"no item '{m.item}' in the catalogue")
            continue
        sit = item.situation(m.situation)
        if sit is None:
            problem(("members", i, "situation"), f"item '{m.item}' has no situation '{m.situation}'")
            continue
        covered = {code for c in chain.materials for it, code in c.uses.items() if it == m.item}
        for code in m.provided:
            if sit.material(code) is None:
                problem(("members", i, "provided"), f"item '{m.item}' ({m.situation}) has no material '{code}'")
        lacking = [x.code for x in sit.materials if x.required and x.code not in covered and x.code not in m.provided]
        if lacking:
            problem(
                ("members", i, "item"),
                f"required material {', '.join(lacking)} of item '{m.item}' is in no chain material and not provided",
            )
    for j, f in enumerate(chain.fields):
        for it in f.maps:
            if it not in members:
                problem(("fields", j, "maps"), f"field '{f.code}' maps item '{it}', which is not a member")
    for j, c in enumerate(chain.materials):
        for it, code in c.uses.items():
            mem = members.get(it)
            if mem is None:
                problem(("materials", j, "uses"), f"material '{c.code}' is used by item '{it}', which is not a member")
                continue
            sit = items[it].situation(mem.situation) if it in items else None
            if sit is not None and sit.material(code) is None:
                problem(("materials", j, "uses"), f"item '{it}' ({mem.situation}) has no material '{code}'")
    return out


def parse_chain(text: str, items: dict[str, Item], source: str = "<chain>") -> Chain:
    """Parse and validate one chain file against the catalogue; CatalogError naming `source`, line and field."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError([ConfigProblem("", f"TOML syntax error: {exc}")], source) from exc
    try:
        chain = Chain.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(_problems(exc, text), source) from None
    problems = _cross_check(chain, items, text)
    if problems:
        raise CatalogError(problems, source)
    return chain


def load_chains(directory: Path | None, items: list[Item]) -> list[Chain]:
    """Every chain of the directory (``*.toml``, by file name), checked against the items; codes unique."""
    if directory is None or not directory.is_dir():
        return []
    by_code = {i.code: i for i in items}
    out: list[Chain] = []
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            chain = parse_chain(path.read_text(encoding="utf-8-sig"), by_code, str(path))
        except CatalogError as exc:
            problems.append(str(exc))
            continue
        if chain.code in seen or chain.code in by_code:
            other = seen[chain.code].name if chain.code in seen else "an item"
            problems.append(f"{path}: code: chain code '{chain.code}' is also used by {other}")
            continue
        seen[chain.code] = path
        out.append(chain)
    if problems:
        raise CatalogError([ConfigProblem("", "\n".join(problems))])
    return out


def missing_names(chains: list[Chain], languages: list[str]) -> list[str]:
    """Each chain name a language of `languages` lacks (shown in English instead), as sentences."""
    wanted = [x for x in dict.fromkeys(languages) if x not in BASE]
    return [f"chain {c.code} has no name in '{x}': add names.{x}" for c in chains for x in wanted if x not in c.names]


@functools.cache
def _parsed(directory: Path) -> tuple[Chain, ...]:
    """The chain files of a directory, parsed once per process (checked against the items at start-up)."""
    return tuple(
        Chain.model_validate(tomllib.loads(p.read_text(encoding="utf-8-sig"))) for p in sorted(directory.glob("*.toml"))
    )


def catalogue(items_dir: Path | None) -> list[Chain]:
    """The chains the server offers (those of `chains_dir(items_dir)`)."""
    where = chains_dir(items_dir)
    return list(_parsed(where)) if where is not None and where.is_dir() else []


def find(items_dir: Path | None, code: str) -> Chain:
    """A chain by code; NotFound otherwise."""
    chain = next((c for c in catalogue(items_dir) if c.code == code), None)
    if chain is None:
        raise NotFound(f"没有这个一件事 / No chain '{code}'")
    return chain


# --- the merged form and material list -------------------------------------------------------------------


def member_rows(session: Any, chain: Chain) -> list[tuple[Member, CaseItem, Item]]:
    """Each member with the current version of its item."""
    from .items import current

    out = []
    for m in chain.members:
        row = current(session, m.item)
        out.append((m, row, as_item(row)))
    return out


def summary(chain: Chain) -> dict[str, Any]:
    """A chain in a list."""
    return {
        "code": chain.code,
        "name": chain.name,
        "name_en": chain.name_en,
        "names": all_names(chain.name, chain.name_en, chain.names),  # every language, English where it has none
        "summary": chain.summary,
        "summary_en": chain.summary_en,
        "keywords": chain.keywords,
        "items": [m.item for m in chain.members],
    }


def merged_materials(chain: Chain, rows: list[tuple[Member, CaseItem, Item]]) -> list[dict[str, Any]]:
    """The one material list: each chain material once, required if any member requires it, 容缺/告知承诺 only
    where every member using it allows it."""
    by_item = {m.item: (m, item) for m, _, item in rows}
    out = []
    for c in chain.materials:
        used = []
        for it, code in c.uses.items():
            m, item = by_item[it]
            sit = item.situation(m.situation)
            mat = sit.material(code) if sit else None
            if mat is not None:
                used.append((it, mat))
        required = any(mat.required for _, mat in used)
        needed = [mat for _, mat in used if mat.required] or [mat for _, mat in used]
        out.append(
            {
                "code": c.code,
                "name": c.name,
                "name_en": c.name_en,
                "required": required,
                "shortfall_allowed": required and all(mat.shortfall_allowed for mat in needed),
                "commitment_allowed": all(mat.commitment_allowed for mat in needed),
                "form": used[0][1].form if used else "原件",
                "sample": c.sample or next((mat.sample for _, mat in used if mat.sample), ""),
                "notes": c.notes or next((mat.notes for _, mat in used if mat.notes), ""),
                "used_by": [it for it, _ in used],
            }
        )
    return out


def detail(chain: Chain, rows: list[tuple[Member, CaseItem, Item]]) -> dict[str, Any]:
    """The chain's one form and one material list, with its members (for the kiosk and the web).

    `situations` holds one situation ("chain") with the merged materials, so a client that shows an item's
    zero-basis template shows the chain's the same way."""
    materials = merged_materials(chain, rows)
    members = []
    for m, row, item in rows:
        sit = item.situation(m.situation)
        members.append(
            {
                "item": row.code,
                "version": row.version,
                "name": row.name,
                "name_en": row.name_en,
                "department": item.department,
                "situation": m.situation,
                "situation_name": sit.name if sit else m.situation,
                "time_limit_days": item.time_limit_days,
                "provided": m.provided,
            }
        )
    return summary(chain) | {
        "members": members,
        "time_limit_days": max(item.time_limit_days for _, _, item in rows),  # in parallel: the longest
        "fields": [f.model_dump(mode="json") for f in chain.fields],
        "materials": materials,
        "situations": [{"code": "chain", "name": chain.name, "name_en": chain.name_en, "materials": materials}],
    }


# --- submission -----------------------------------------------------------------------------------------


@dataclass
class ChainSubmission:
    """What a citizen submits for a chain: the shared answers and files by the chain's codes."""

    chain: Chain
    rows: list[tuple[Member, CaseItem, Item]]
    name: str
    id_number: str
    phone: str | None = None
    form: dict[str, Any] = field(default_factory=dict)
    files: list[tuple[str, Checked]] = field(default_factory=list)  # (chain material code, checked upload)
    submission_id: str | None = None
    channel: str = "kiosk"
    ticket_id: int | None = None
    id_type: IdType | None = None  # None: told by the number's shape (identity.document)
    nationality: str | None = None
    prereview: bool = False  # 网上预审: a web chain waits for the clerk's pre-review (of the chain as one)


def forms_of(chain: Chain, answers: dict[str, Any], channel: str) -> dict[str, dict[str, Any]]:
    """Each member's form from the shared answers (422 for an unknown field, a missing required one, or a
    choice not offered). At a kiosk, which has no keyboard, a text field left empty is completed at the window."""
    known = {f.code: f for f in chain.fields}
    unknown = sorted(k for k in answers if k not in known and k not in ("bring_later", "commit"))
    if unknown:
        raise Invalid(f"此一件事没有表单项 {', '.join(unknown)} / No form field {', '.join(unknown)} in this chain")
    out: dict[str, dict[str, Any]] = {m.item: {} for m in chain.members}
    later: list[str] = []
    for f in chain.fields:
        value = answers.get(f.code)
        blank = value is None or (isinstance(value, str) and not value.strip())
        if blank:
            if f.required and (channel != "kiosk" or f.kind != "text"):
                raise Invalid(f"请填写“{f.label}” / Please fill in '{f.label_en}'")
            if f.required:
                later.append(f.code)
            continue
        if f.kind == "choice" and str(value) not in f.choices:
            raise Invalid(f"“{f.label}”只能选 {'、'.join(f.choices)} / '{f.label_en}': choose one of the options")
        if f.kind == "number":
            try:
                float(str(value))
            except ValueError:
                raise Invalid(f"“{f.label}”须为数字 / '{f.label_en}' must be a number") from None
        for it, code in f.maps.items():
            out[it][code] = value
    mats = {c.code: c for c in chain.materials}
    for key in ("bring_later", "commit"):  # 容缺 / 告知承诺 chosen on the one list: each member's own codes
        chosen = [b for b in str(answers.get(key) or "").split(",") if b]
        for it, form in out.items():
            mapped = sorted({mats[b].uses[it] for b in chosen if b in mats and it in mats[b].uses})
            if mapped:
                form[key] = ",".join(mapped)
    for it, form in out.items():
        if later:
            form["to_complete_at_window"] = ",".join(
                f.maps[it] for f in chain.fields if f.code in later and it in f.maps
            )
    return out


def answers_of(chain: Chain, forms: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The shared answers back from the members' forms (the first member mapping each field has it), with the
    容缺 / 告知承诺 choices by the chain's material codes."""
    out: dict[str, Any] = {}
    for f in chain.fields:
        for it, code in f.maps.items():
            if code in forms.get(it, {}):
                out[f.code] = forms[it][code]
                break
    for key in ("bring_later", "commit"):
        chosen = {it: str(form.get(key) or "").split(",") for it, form in forms.items()}
        codes = [m.code for m in chain.materials if any(own in chosen.get(it, []) for it, own in m.uses.items())]
        if codes:
            out[key] = ",".join(codes)
    return out


def files_of(chain: Chain, files: list[tuple[str, Checked]]) -> dict[str, list[tuple[str, Checked]]]:
    """Each member's files: the same stored upload under each member's own material code (422 for a file
    naming no material of the chain)."""
    mats = {c.code: c for c in chain.materials}
    out: dict[str, list[tuple[str, Checked]]] = {m.item: [] for m in chain.members}
    for code, up in files:
        c = mats.get(code)
        if c is None:
            raise Invalid(f"此一件事没有材料 {code} / No material '{code}' in this chain (it has {', '.join(mats)})")
        for it, own in c.uses.items():
            out[it].append((own, up))
    return out


def new_chain_number(tx: HallTx, tz: Any) -> str:
    """L, the hall's case code, the date (YYMMDD) and a four-digit count: L6742612060001."""
    prefix = "L" + day_prefix(tx, tz)
    n = tx.session.execute(
        select(func.count()).where(col(CaseChain.hall_code) == tx.hall, col(CaseChain.number).like(f"{prefix}%"))
    ).scalar_one()
    return f"{prefix}{int(n) + 1:04d}"


def members_of(session: Any, chain: CaseChain) -> list[Case]:
    """The member cases of a chain, in the chain's order."""
    return list(session.execute(select(Case).where(col(Case.chain_id) == chain.id).order_by(col(Case.id))).scalars())


def submit_chain(
    tx: HallTx, *, s: ChainSubmission, who: Principal | None, cipher: PiiCipher, tz: Any
) -> tuple[CaseChain, bool]:
    """The chain row and one case per member, in the caller's transaction; a repeated submission id returns the
    first chain (nothing new is written)."""
    if s.submission_id:
        existing = tx.session.execute(
            select(CaseChain).where(
                col(CaseChain.hall_code) == tx.hall, col(CaseChain.submission_id) == s.submission_id
            )
        ).scalar_one_or_none()
        if existing is not None:
            return existing, False
    forms, files = forms_of(s.chain, s.form, s.channel), files_of(s.chain, s.files)
    doc = document(s.id_type, s.id_number, s.nationality, today=tx.now.date())
    number = new_chain_number(tx, tz)
    data = {
        "chain": s.chain.model_dump(mode="json"),
        "versions": {row.code: row.version for _, row, _ in s.rows},
    }
    chain = CaseChain(
        number=number,
        hall_code=tx.hall,
        code=s.chain.code,
        name=s.chain.name,
        name_en=s.chain.name_en,
        data=orjson.dumps(data).decode(),
        status=states.PREREVIEW if s.prereview else states.SUBMITTED,
        channel=s.channel,
        submission_id=s.submission_id,
        query_token=secrets.token_hex(4).upper(),
        name_masked=mask_name(" ".join(s.name.split())),
        id_hash=cipher.keyed_hash(doc.key),
        id_masked=doc.masked,
        submitted_at=tx.now,
        updated_at=tx.now,
    )
    tx.session.add(chain)
    tx.session.flush()
    for m, row, _ in s.rows:
        sub = Submission(
            item=row,
            situation=m.situation,
            name=s.name,
            id_number=s.id_number,
            phone=s.phone,
            form=forms[m.item],
            files=files[m.item],
            channel=s.channel,
            ticket_id=s.ticket_id,
            id_type=s.id_type,
            nationality=s.nationality,
            prereview=s.prereview,
        )
        c, _ = submit(tx, s=sub, who=who, cipher=cipher, tz=tz)
        c.chain_id = chain.id
        chain.phone_enc = chain.phone_enc or c.phone_enc
        tx.session.add(c)
        note = f"属于一链办理 {number}（{s.chain.name}）/ part of chain {number}"
        _history(tx, c, who, "chain", c.status, note)  # a line that changes nothing of its state
    tx.session.add(chain)
    tx.session.flush()
    return chain, True


def load_chain(session: Any, number: str, *, lock: bool = False) -> CaseChain:
    """A chain by number; NotFound otherwise."""
    stmt = select(CaseChain).where(col(CaseChain.number) == number.strip().upper())
    if lock:
        stmt = stmt.with_for_update()
    chain = session.execute(stmt).scalar_one_or_none()
    if chain is None:
        raise NotFound(f"没有这个一链办理件 / No chain '{number}'")
    return chain


def chain_of(data: str) -> Chain:
    """The chain definition a chain row was submitted under."""
    return Chain.model_validate(orjson.loads(data)["chain"], strict=False)


def rows_of(session: Any, members: list[Case], chain: Chain) -> list[tuple[Member, CaseItem, Item]]:
    """Each member with the item version its case was submitted under."""
    out = []
    for c in members:
        row = version_by_id(session, c.item_id)
        m = chain.member(row.code)
        if m is not None:
            out.append((m, row, as_item(row)))
    return out


# --- one acceptance -------------------------------------------------------------------------------------

ACCEPTANCE = ("accept", "accept_shortfall", "accept_commitment", "notify_missing", "reject", "resubmit", "withdraw")
CHAIN_STATUS = {
    "accept": states.ACCEPTED,
    "accept_shortfall": states.ACCEPTED,
    "accept_commitment": states.ACCEPTED,
    "notify_missing": states.NEEDS_MORE,
    "reject": states.REJECTED,
    "resubmit": states.SUBMITTED,
    "withdraw": states.WITHDRAWN,
}


def member_items(session: Any, members: list[Case]) -> dict[int, str]:
    """The item code of each member case, by case id."""
    return {c.id or 0: version_by_id(session, c.item_id).code for c in members}


def shared_files(session: Any, chain: Chain, members: list[Case]) -> dict[str, list[dict[str, Any]]]:
    """The files of each shared material by the chain's code, each once (as stored under the first member that
    uses it: `case` and `id` open it at GET /api/v1/cases/{case}/materials/{id} for staff)."""
    item = member_items(session, members)
    number = {c.id: c.number for c in members}
    stmt = select(CaseMaterial).where(col(CaseMaterial.case_id).in_(list(item))).order_by(col(CaseMaterial.id))
    seen: set[str] = set()
    out: dict[str, list[dict[str, Any]]] = {}
    for r in session.execute(stmt).scalars():
        code = next((m.code for m in chain.materials if m.uses.get(item[r.case_id]) == r.material), None)
        if code is None or r.storage_name in seen:
            continue
        seen.add(r.storage_name)
        out.setdefault(code, []).append(
            {
                "case": number[r.case_id],
                "id": r.id,
                "content_type": r.content_type,
                "size": r.size,
                "at": r.uploaded_at.isoformat(),
            }
        )
    return out


# --- members act through their chain ----------------------------------------------------------------------

# What a chain does as one (its acceptance, the citizen's resubmission, withdrawal, pre-review, the one output),
# with the chain's route for each; a member's own decision (review, approve, refuse: 并联审批) and its 容缺
# supplement stay the member's.
THROUGH_CHAIN = {
    **{a: f"POST /api/v1/chain-cases/{{n}}/actions/{a}" for a in ACCEPTANCE},
    **{
        a: "POST /api/v1/chain-cases/{n}/actions/deliver"
        for a in ("ready", "deliver", "mail", "sign", "pickup", "pickup_ticket")
    },
    "prereview_pass": "POST /api/v1/chain-cases/{n}/prereview/pass",
    "prereview_return": "POST /api/v1/chain-cases/{n}/prereview/return",
    "prereview_resubmit": "POST /api/v1/web-chains/{n}/resubmit",
    "appointment": "POST /api/v1/web-chains/{n}/appointment",
}


def locked(session: Any, c: Case, action: str) -> None:
    """409 when `action` on a chain's member alone is one the chain takes as a whole: the detail names the
    chain's number and the route to use instead."""
    route = THROUGH_CHAIN.get(action)
    if c.chain_id is None or route is None:
        return
    chain = session.get(CaseChain, c.chain_id)
    n = chain.number if chain is not None else "?"
    raise Conflict(
        f"办件 {c.number} 属于一链办理 {n}，请对整链办理：{route.format(n=n)} / Case {c.number} is a member of "
        f"chain {n}: {action} is taken on the whole chain ({route.format(n=n)})"
    )


def _own(chain: Chain, item: str, code: str) -> str | None:
    """The member's own material code of a chain material (or of its own code), None if it has none."""
    c = next((x for x in chain.materials if x.code == code), None)
    if c is not None:
        return c.uses.get(item)
    return None


def _member_outcome(chain: Chain, item: str, o: Outcome) -> Outcome:
    """The chain's outcome for one member: its materials by the member's own codes. 容缺 and 告知承诺 touch only
    the members whose materials they name (the others are accepted plainly); the one-time notice lists every
    problem in each member's notice."""
    action = o.action
    pending = [p | {"material": own} for p in o.pending or [] if (own := _own(chain, item, p.get("material", "")))]
    commitments = [own for code in o.commitments or [] if (own := _own(chain, item, code))]
    names = {c.code: c.name for c in chain.materials}
    problems = [
        p | {"material": _own(chain, item, p.get("material", "")) or names.get(p.get("material", ""), p["material"])}
        for p in o.problems or []
    ]
    if action == "accept_shortfall" and not pending:
        action = "accept"
    if action == "accept_commitment" and not commitments:
        action = "accept"
    return Outcome(
        action=action,
        note=o.note,
        window=o.window,
        problems=problems,
        reason=o.reason,
        legal_basis=o.legal_basis,
        competent_authority=o.competent_authority,
        pending=pending,
        supplement_by=o.supplement_by,
        commitments=commitments,
        signed=o.signed,
        verification_days=o.verification_days,
    )


def chain_action(tx: HallTx, *, number: str, o: Outcome, who: Principal, card_id: str | None = None) -> CaseChain:
    """One acceptance outcome for the whole chain, applied to every member case in this transaction. A web
    chain is accepted only with the card read at the window (`card_id`): the one its application is bound to."""
    chain = load_chain(tx.session, number, lock=True)
    if not who.in_hall(chain.hall_code):
        raise NotFound(f"没有这个一链办理件 / No chain '{number}'")
    if o.action not in ACCEPTANCE:
        raise Conflict(
            f"一链办理件只能整体受理，{o.action} 请在各成员办件上进行 / "
            f"'{o.action}' is taken on each member case, not on the chain"
        )
    if o.action != "resubmit":  # resubmit: the state machine lets the kiosk do it too
        check_staff(who, chain.hall_code, "clerk")
    if o.action == "accept_commitment" and not o.commitments:
        raise Invalid("请选择以承诺替代的证明材料 / Choose the proofs replaced by the commitment")
    if o.action == "accept_shortfall" and not o.pending:
        raise Invalid("容缺受理须列出容缺材料 / List the materials to follow")
    definition = chain_of(chain.data)
    known = {c.code for c in definition.materials}
    named = [p.get("material", "") for p in (o.pending or [])] + list(o.commitments or [])
    bad = sorted({n for n in named if n not in known})
    if bad:
        raise Invalid(f"此一件事没有材料 {', '.join(bad)} / No material {', '.join(bad)} in this chain")
    cal = tx.hall_calendar
    item_codes = {r.id: r.code for r in tx.session.execute(select(CaseItem)).scalars()}
    members = members_of(tx.session, chain)
    if members:  # the members carry the chain's channel and bound ID number
        check_card(tx.pii, members[0], o.action, card_id)
    for c in members:
        if o.action == "withdraw" and c.status in states.FINAL:
            continue
        mo = _member_outcome(definition, item_codes.get(c.item_id, ""), o)
        if mo.action in ("resubmit", "withdraw"):
            plain_move(tx, number=c.number, action=mo.action, who=who, note=mo.note or f"chain {chain.number}")
        else:
            apply(tx, number=c.number, o=mo, who=who, cal=cal, tz=tx.tz)
    chain.status = CHAIN_STATUS[o.action]
    if chain.status == states.ACCEPTED:
        chain.accepted_at = chain.accepted_at or tx.now
    chain.updated_at = tx.now
    tx.session.add(chain)
    return chain


# --- one output -----------------------------------------------------------------------------------------

DECIDED = frozenset({states.APPROVED, states.REFUSED})


def _pickup_hash(cipher: PiiCipher, hall: str, code: str) -> str:
    return cipher.keyed_hash(f"case-pickup\0{hall}\0{code}")  # the same as a case's: one code space per hall


def settle(tx: HallTx, chain_id: int) -> str | None:
    """After a member's decision: when every member has one (or ended otherwise), the chain is ready — every
    decided member moves to result_ready, the citizen gets one notice with one pickup code. Returns the code
    (None while members are still under review)."""
    chain = tx.session.get(CaseChain, chain_id, with_for_update=True)
    if chain is None or chain.status not in (states.SUBMITTED, states.NEEDS_MORE, states.ACCEPTED):
        return None  # (members accepted one by one leave the chain 'submitted': it is settled all the same)
    members = members_of(tx.session, chain)
    if not all(c.status in DECIDED or c.status in states.FINAL for c in members):
        return None
    decided = [c for c in members if c.status in DECIDED]
    result = []
    for c in members:
        row = tx.session.get(CaseItem, c.item_id)
        assert row is not None
        result.append({"number": c.number, "item": row.code, "name": row.name, "decision": c.decision or c.status})
    for c in decided:
        move(tx, c, "ready", SYSTEM, f"一链办理 {chain.number} 统一出件 / chain {chain.number}: one output")
    approved = sum(1 for c in members if c.decision == "approved")
    refused = sum(1 for c in members if c.decision == "refused")
    code = "".join(secrets.choice("0123456789") for _ in range(PICKUP_CODE_DIGITS))
    chain.pickup_code_hash = _pickup_hash(tx.pii, chain.hall_code, code)
    chain.status, chain.ready_at, chain.updated_at = states.RESULT_READY, tx.now, tx.now
    chain.result = orjson.dumps({"approved": approved, "refused": refused, "members": result}).decode()
    tx.session.add(chain)
    hall = tx.config
    name, name_en = (hall.name, hall.name_en) if hall is not None else (tx.hall, "")
    matter = f"{chain.name}（一链办理{len(members)}项：准予{approved}项" + (
        f"、不予许可{refused}项）" if refused else "）"
    )
    enqueue(
        tx,
        kind="case_ready",
        ticket=chain.number,
        phone_enc=chain.phone_enc,
        text=messages.case_ready(name, chain.number, matter, code, hall_en=name_en),
        params={"hall": name, "case_no": chain.number, "matter": matter, "code": messages.secret(code)},
    )
    return code


def deliver(tx: HallTx, *, number: str, who: Principal | None, note: str = "", code: str | None = None) -> CaseChain:
    """The one hand-over: every ready member is delivered (at the window by a clerk, or at a 24-hour kiosk with
    the chain's pickup code, single use)."""
    from .output import deliver_at_window

    chain = load_chain(tx.session, number, lock=True)
    if chain.status != states.RESULT_READY:
        raise Conflict(f"一链办理件尚未办结 / The chain's results are not ready ({chain.status})")
    if code is None:
        assert who is not None
        check_staff(who, chain.hall_code, "clerk")
        for c in members_of(tx.session, chain):
            if c.status == states.RESULT_READY:
                deliver_at_window(tx, number=c.number, who=who, note=note or f"chain {chain.number}")
    else:
        from .output import _delivery

        for c in members_of(tx.session, chain):
            if c.status == states.RESULT_READY:
                move(tx, c, "deliver", who, f"chain {chain.number}: self-service pickup code")
                by = who.name if who is not None else "citizen"
                _delivery(tx, c, "self_pickup", who, status="delivered", delivered_at=tx.now, delivered_by=by)
    chain.status, chain.delivered_at, chain.updated_at = states.DELIVERED, tx.now, tx.now
    chain.pickup_code_hash = None
    tx.session.add(chain)
    return chain


def by_pickup_code(tx: HallTx, code: str) -> CaseChain | None:
    """The ready chain of this pickup code in the hall, if any."""
    digest = _pickup_hash(tx.pii, tx.hall, code.strip())
    return tx.session.execute(
        select(CaseChain).where(col(CaseChain.hall_code) == tx.hall, col(CaseChain.pickup_code_hash) == digest)
    ).scalar_one_or_none()
