"""Filling a case template from data (pure): every field is checked before any is substituted, so no half-filled output.

Values: strings as given; ``datetime.date`` as ``2026年11月27日``; ``datetime.datetime`` as
``2026年11月27日 09:42``; numbers with `str()`. A field that is absent, None or only white space counts
as missing. A table's source must be a list of mappings with at least the template's ``min_rows`` items.
`fill()` collects *every* missing name (``materials[2].copies`` for a table cell) before raising
`MissingFieldsError`, so the caller fixes its data in one go.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import MissingFieldsError
from .templates import Block, CaseTemplate, FieldRow, Fields, Heading, Paragraph, Party, Signature, Table, placeholders


@dataclass(frozen=True, slots=True)
class FilledTable:
    """A table with its headers and cell texts resolved."""

    headers: tuple[tuple[str, str], ...]
    widths: tuple[float, ...]
    rows: tuple[tuple[str, ...], ...]


FilledBlock = Paragraph | Heading | Fields | FilledTable | Signature


@dataclass(frozen=True, slots=True)
class FilledDocument:
    """A template with every placeholder replaced: what the rendering engine draws."""

    kind: str
    title: str
    title_en: str
    header: str
    reference: str
    blocks: tuple[FilledBlock, ...]


def format_value(value: object) -> str:
    """The text a field value is shown as (dates the Chinese way)."""
    if isinstance(value, dt.datetime):
        return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value)


def _present(fields: Mapping[str, Any], name: str) -> bool:
    """Whether `name` has a usable value."""
    value = fields.get(name)
    return value is not None and not (isinstance(value, str) and not value.strip())


def _texts(block: Block) -> list[str]:
    """The top-level texts of a block (table cells excluded: they see the row's fields)."""
    if isinstance(block, Paragraph | Heading):
        return [block.text]
    if isinstance(block, Fields):
        return [row.value for row in block.rows]
    if isinstance(block, Signature):
        return [t for p in block.parties for t in (p.name, p.date)]
    return []


def _included(block: Block | FieldRow, fields: Mapping[str, Any]) -> bool:
    """Whether a block or row is rendered: no ``when``, or its field is present."""
    return block.when is None or _present(fields, block.when)


def missing_fields(template: CaseTemplate, fields: Mapping[str, Any]) -> list[str]:
    """Every field `template` needs that `fields` lacks, in template order, without duplicates."""
    missing: dict[str, None] = {}
    for text in (template.header, template.reference):
        missing.update((n, None) for n in placeholders(text) if not _present(fields, n))
    for block in template.blocks:
        if not _included(block, fields):
            continue
        texts = _texts(block)
        if isinstance(block, Fields):
            texts = [row.value for row in block.rows if _included(row, fields)]
        for text in texts:
            missing.update((n, None) for n in placeholders(text) if not _present(fields, n))
        if isinstance(block, Table):
            items = fields.get(block.source)
            if not isinstance(items, Sequence) or not _is_rows(items) or len(items) < block.min_rows:
                missing[block.source] = None
                continue
            for i, item in enumerate(items, 1):
                for column in block.columns:
                    for name in placeholders(column.cell):
                        if name != "index" and not _present(item, name):
                            missing[f"{block.source}[{i}].{name}"] = None
    return list(missing)


def _is_rows(items: object) -> bool:
    """Whether a table source is a sequence of mappings (and not a string)."""
    return (
        isinstance(items, Sequence)
        and not isinstance(items, str | bytes)
        and all(isinstance(item, Mapping) for item in items)
    )


def required_fields(template: CaseTemplate) -> list[str]:
    """The field names `template` may use at top level (including optional ``when`` fields and table sources)."""
    names: dict[str, None] = {}
    for text in (template.header, template.reference):
        names.update((n, None) for n in placeholders(text))
    for block in template.blocks:
        for text in _texts(block):
            names.update((n, None) for n in placeholders(text))
        if isinstance(block, Table):
            names[block.source] = None
    return list(names)


def _sub(text: str, values: Mapping[str, Any]) -> str:
    """Substitute placeholders, all known to be present."""
    return text.format_map({n: format_value(values[n]) for n in placeholders(text)})


def fill(template: CaseTemplate, fields: Mapping[str, Any]) -> FilledDocument:
    """Resolve `template` with `fields`; MissingFieldsError naming every missing field, before any output."""
    missing = missing_fields(template, fields)
    if missing:
        raise MissingFieldsError(template.kind, missing)
    blocks: list[FilledBlock] = []
    for block in template.blocks:
        if not _included(block, fields):
            continue
        if isinstance(block, Paragraph):
            blocks.append(Paragraph(_sub(block.text, fields), block.style))
        elif isinstance(block, Heading):
            blocks.append(Heading(_sub(block.text, fields), block.text_en))
        elif isinstance(block, Fields):
            rows = tuple(
                FieldRow(row.label, row.label_en, _sub(row.value, fields))
                for row in block.rows
                if _included(row, fields)
            )
            blocks.append(Fields(rows))
        elif isinstance(block, Table):
            items = fields[block.source]
            blocks.append(
                FilledTable(
                    headers=tuple((c.header, c.header_en) for c in block.columns),
                    widths=tuple(c.width for c in block.columns),
                    rows=tuple(
                        tuple(_sub(c.cell, {**item, "index": i}) for c in block.columns)
                        for i, item in enumerate(items, 1)
                    ),
                )
            )
        else:
            parties = tuple(
                Party(p.label, p.label_en, _sub(p.name, fields), _sub(p.date, fields)) for p in block.parties
            )
            blocks.append(Signature(parties))
    return FilledDocument(
        kind=template.kind,
        title=template.title,
        title_en=template.title_en,
        header=_sub(template.header, fields),
        reference=_sub(template.reference, fields),
        blocks=tuple(blocks),
    )
