"""Item versions in the database: sync from the catalog files at start-up, admin versions, browse and search."""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import orjson
from pypinyin import Style, lazy_pinyin
from sqlalchemy import func, select
from sqlmodel import Session, col

from ..errors import NotFound
from ..languages import all_names
from ..timeutil import utcnow
from .catalog import Item
from .models import CaseItem
from .rules import form_fields


def _canonical(item: Item) -> bytes:
    # without the optional parts an item does not use (licence, rules): adding such a field to the catalogue
    # keeps the digest, hence the version, of every item that does not use it
    return orjson.dumps(item.model_dump(mode="json", exclude_none=True), option=orjson.OPT_SORT_KEYS)


def _latest(session: Session, code: str, source: str | None = None) -> CaseItem | None:
    stmt = select(CaseItem).where(col(CaseItem.code) == code)
    if source is not None:
        stmt = stmt.where(col(CaseItem.source) == source)
    return session.execute(stmt.order_by(col(CaseItem.version).desc()).limit(1)).scalar_one_or_none()


def add_version(session: Session, item: Item, *, source: str, actor: str) -> CaseItem:
    """Store `item` as the next version of its code."""
    last = session.execute(select(func.max(CaseItem.version)).where(col(CaseItem.code) == item.code)).scalar()
    data = _canonical(item)
    row = CaseItem(
        code=item.code,
        version=int(last or 0) + 1,
        name=item.name,
        name_en=item.name_en,
        domain=item.domain,
        domain_en=item.domain_en,
        data=data.decode(),
        digest=hashlib.sha256(data).hexdigest(),
        source=source,
        created_at=utcnow(),
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row


def sync_catalog(session: Session, items: list[Item]) -> int:
    """Add a version for each file item that is new or changed since its last file version; returns how many.

    An admin's version made through the API stays current until the file itself changes.
    """
    added = 0
    for item in items:
        last = _latest(session, item.code, "file")
        if last is None or last.digest != hashlib.sha256(_canonical(item)).hexdigest():
            add_version(session, item, source="file", actor="config")
            added += 1
    return added


def as_item(row: CaseItem) -> Item:
    """The catalog model of a stored version."""
    return Item.model_validate_json(row.data, strict=False)


def current(session: Session, code: str) -> CaseItem:
    """The current (highest) version of an item; NotFound otherwise."""
    row = _latest(session, code)
    if row is None:
        raise NotFound(f"没有这个事项 / No item '{code}'")
    return row


def version(session: Session, code: str, number: int) -> CaseItem:
    """One version of an item; NotFound otherwise."""
    row = session.execute(
        select(CaseItem).where(col(CaseItem.code) == code, col(CaseItem.version) == number)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"事项 {code} 没有第 {number} 版 / Item '{code}' has no version {number}")
    return row


def version_by_id(session: Session, item_id: int) -> CaseItem:
    """An item version by its row id."""
    row = session.get(CaseItem, item_id)
    if row is None:
        raise NotFound(f"没有这个事项版本 / No item version {item_id}")
    return row


def current_all(session: Session) -> list[CaseItem]:
    """The current version of every item, by domain then code."""
    top = select(col(CaseItem.code), func.max(CaseItem.version).label("v")).group_by(col(CaseItem.code)).subquery()
    stmt = select(CaseItem).join(top, (col(CaseItem.code) == top.c.code) & (col(CaseItem.version) == top.c.v))
    rows = list(session.execute(stmt).scalars())
    return sorted(rows, key=lambda r: (r.domain, r.code))


@functools.lru_cache(maxsize=4096)
def initials(name: str) -> str:
    """The pinyin initials of a name, lower case (个体工商户设立登记 → gtgshsldj), to find an item by typing them.

    pypinyin's phrase dictionary picks the right reading of 多音字 (登记 dengji, 银行 yinhang), which a
    character table cannot."""
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()


def summary(row: CaseItem) -> dict[str, Any]:
    """An item in a list: code, version, names, pinyin initials, keywords, domain, time limit."""
    item = as_item(row)
    return {
        "code": row.code,
        "version": row.version,
        "name": row.name,
        "name_en": row.name_en,
        "names": all_names(row.name, row.name_en, item.names),  # every language, English where it has none
        "initials": initials(row.name),
        "keywords": item.keywords,
        "domain": row.domain,
        "domain_en": row.domain_en,
        "domain_names": all_names(row.domain, row.domain_en, item.domain_names),
        "time_limit_days": item.time_limit_days,
        "commitment_allowed": item.commitment_allowed,
        "situations": [{"code": s.code, "name": s.name, "name_en": s.name_en} for s in item.situations],
    }


def detail(row: CaseItem) -> dict[str, Any]:
    """The whole item with its version: the zero-basis template of every situation, and the form fields each
    situation asks for (`form_fields`: those its 秒批秒办 rules check)."""
    item = as_item(row)
    fields = {s.code: form_fields(item.rules or [], s.code) for s in item.situations}
    return {"version": row.version, "source": row.source, **item.model_dump(mode="json"), "form_fields": fields}


def browse(session: Session, *, domain: str | None = None, q: str | None = None) -> list[dict[str, Any]]:
    """Current items, optionally of one domain and matching a text (name, English name, pinyin initials, code,
    keywords)."""
    out = []
    needle = (q or "").strip().lower()
    for row in current_all(session):
        if domain and domain not in (row.domain, row.domain_en):
            continue
        if needle:
            item = as_item(row)
            words = [item.code, item.name, item.name_en, initials(item.name), item.department, *item.keywords]
            hay = " ".join(words).lower()
            if needle not in hay:
                continue
        out.append(summary(row))
    return out


def domains(session: Session) -> list[dict[str, Any]]:
    """The domains of the current items with how many items each has."""
    counts: dict[tuple[str, str], int] = {}
    names: dict[tuple[str, str], dict[str, str]] = {}
    for row in current_all(session):
        counts[(row.domain, row.domain_en)] = counts.get((row.domain, row.domain_en), 0) + 1
        known = names.setdefault((row.domain, row.domain_en), {})
        known |= {k: v for k, v in (as_item(row).domain_names or {}).items() if k not in known}
    return [
        {"domain": d, "domain_en": e, "domain_names": all_names(d, e, names[(d, e)]), "items": n}
        for (d, e), n in sorted(counts.items())
    ]
