"""Case-document templates: a declarative model, loaded and checked from TOML (pure, no rendering).

A template is a title, an optional header line (the issuing authority) and reference line (the document
number), and a list of blocks rendered top to bottom:

``paragraph``  text with ``{placeholders}``; ``style`` is ``body`` (first line indented two characters, as
               Chinese official letters are), ``plain`` (no indent: salutations, numbered clauses) or
               ``note`` (smaller, grey).
``heading``    a section heading, ``text`` and ``text_en``.
``fields``     a two-column table of label → value; each row ``{label, label_en, value}``.
``table``      one row per item of a list field (``source``), columns ``{header, header_en, cell, width}``;
               cells see the item's keys and ``{index}`` (1, 2, …); ``min_rows`` (default 1) rows needed.
``signature``  one or more parties side by side, each ``{label, label_en, name, date}``; an empty
               ``name`` or ``date`` leaves a line to sign or date by hand.

Any block or ``fields`` row may carry ``when = "field"``: it is rendered only when that field is given and
not empty, and only then are its placeholders required. Placeholders are plain names (``{matter}``), no
format specs, attributes or indexes; ``{{`` and ``}}`` are literal braces. Only filled-in text may hold
placeholders (paragraph and heading ``text``, row ``value``, column ``cell``, party ``name`` and ``date``,
``header``, ``reference``); titles, labels, column headers and English subtitles are fixed. All text is plain
text, not markup.

The five documents of R9 ship in ``case_templates.toml`` next to this module; a hall may load its own
wording from another file with `load_templates(path)` and pass it to the renderer.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from .errors import TemplateError

BUILTIN_TEMPLATES = Path(__file__).with_name("case_templates.toml")

ParagraphStyle = Literal["body", "plain", "note"]


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph of text."""

    text: str
    style: ParagraphStyle = "body"
    when: str | None = None


@dataclass(frozen=True, slots=True)
class Heading:
    """A section heading in Chinese with its English."""

    text: str
    text_en: str = ""
    when: str | None = None


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One label → value row of a `Fields` block."""

    label: str
    label_en: str
    value: str
    when: str | None = None


@dataclass(frozen=True, slots=True)
class Fields:
    """A two-column table of labelled values."""

    rows: tuple[FieldRow, ...]
    when: str | None = None


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a `Table`: headers, the cell template, and a relative width."""

    header: str
    header_en: str
    cell: str
    width: float = 1.0


@dataclass(frozen=True, slots=True)
class Table:
    """A table with one row per item of the list field `source` (materials, problems, …)."""

    source: str
    columns: tuple[Column, ...]
    min_rows: int = 1
    when: str | None = None


@dataclass(frozen=True, slots=True)
class Party:
    """One signer of a `Signature` block; empty `name`/`date` leave a line to fill in by hand."""

    label: str
    label_en: str
    name: str = ""
    date: str = ""


@dataclass(frozen=True, slots=True)
class Signature:
    """The signature and seal block: parties side by side, the issuing authority last (on the right)."""

    parties: tuple[Party, ...]
    when: str | None = None


Block = Paragraph | Heading | Fields | Table | Signature


@dataclass(frozen=True, slots=True)
class CaseTemplate:
    """One kind of case document."""

    kind: str
    title: str
    title_en: str
    blocks: tuple[Block, ...]
    header: str = ""
    reference: str = ""


def placeholders(text: str) -> list[str]:
    """The placeholder names in `text`, in order; TemplateError for anything but plain ``{name}``."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(f"bad braces in {text!r}: {exc}") from exc
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise TemplateError(f"placeholder {{{name}}} in {text!r} must be a plain name")
        names.append(name)
    return names


def _text(raw: Mapping[str, Any], key: str, where: str, default: str | None = None, *, filled: bool = True) -> str:
    """A string entry of a TOML table, checked for valid placeholders (none at all unless `filled`)."""
    value = raw.get(key, default)
    if not isinstance(value, str):
        raise TemplateError(f"{where}: {key!r} must be a string")
    if placeholders(value) and not filled:
        raise TemplateError(f"{where}: {key!r} is fixed text and cannot hold placeholders")
    return value


def _when(raw: Mapping[str, Any], where: str) -> str | None:
    """The optional ``when`` field name of a block or row."""
    value = raw.get("when")
    if value is not None and not (isinstance(value, str) and value.isidentifier()):
        raise TemplateError(f"{where}: 'when' must be a field name")
    return value


def _block(raw: Any, where: str) -> Block:
    """One block from its TOML table."""
    if not isinstance(raw, Mapping):
        raise TemplateError(f"{where}: a block must be a table")
    kind = raw.get("type")
    when = _when(raw, where)
    if kind == "paragraph":
        style = raw.get("style", "body")
        if style not in ("body", "plain", "note"):
            raise TemplateError(f"{where}: style must be body, plain or note")
        return Paragraph(_text(raw, "text", where), style, when)
    if kind == "heading":
        return Heading(_text(raw, "text", where), _text(raw, "text_en", where, "", filled=False), when)
    if kind == "fields":
        rows = tuple(
            FieldRow(
                _text(row, "label", f"{where} row {i}", filled=False),
                _text(row, "label_en", f"{where} row {i}", "", filled=False),
                _text(row, "value", f"{where} row {i}"),
                _when(row, f"{where} row {i}"),
            )
            for i, row in enumerate(_list(raw, "rows", where), 1)
        )
        return Fields(rows, when)
    if kind == "table":
        source = raw.get("source")
        if not (isinstance(source, str) and source.isidentifier()):
            raise TemplateError(f"{where}: 'source' must be a field name")
        columns = []
        for i, col in enumerate(_list(raw, "columns", where), 1):
            width = col.get("width", 1.0)
            if not isinstance(width, int | float) or width <= 0:
                raise TemplateError(f"{where} column {i}: width must be a positive number")
            columns.append(
                Column(
                    _text(col, "header", f"{where} column {i}", filled=False),
                    _text(col, "header_en", f"{where} column {i}", "", filled=False),
                    _text(col, "cell", f"{where} column {i}"),
                    float(width),
                )
            )
        min_rows = raw.get("min_rows", 1)
        if not isinstance(min_rows, int) or min_rows < 0:
            raise TemplateError(f"{where}: min_rows must be a non-negative integer")
        return Table(source, tuple(columns), min_rows, when)
    if kind == "signature":
        parties = tuple(
            Party(
                _text(p, "label", f"{where} party {i}", filled=False),
                _text(p, "label_en", f"{where} party {i}", "", filled=False),
                _text(p, "name", f"{where} party {i}", ""),
                _text(p, "date", f"{where} party {i}", ""),
            )
            for i, p in enumerate(_list(raw, "parties", where), 1)
        )
        return Signature(parties, when)
    raise TemplateError(f"{where}: unknown block type {kind!r}")


def _list(raw: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
    """A non-empty array of tables."""
    value = raw.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, Mapping) for v in value):
        raise TemplateError(f"{where}: {key!r} must be a non-empty array of tables")
    return value


def parse_templates(data: Mapping[str, Any]) -> dict[str, CaseTemplate]:
    """Build and check templates from parsed TOML: one top-level table per kind."""
    templates: dict[str, CaseTemplate] = {}
    for kind, raw in data.items():
        if not isinstance(raw, Mapping):
            raise TemplateError(f"template {kind!r} must be a table")
        blocks = raw.get("blocks")
        if not isinstance(blocks, list) or not blocks:
            raise TemplateError(f"template {kind!r} has no blocks")
        templates[kind] = CaseTemplate(
            kind=kind,
            title=_text(raw, "title", kind, filled=False),
            title_en=_text(raw, "title_en", kind, "", filled=False),
            blocks=tuple(_block(b, f"template {kind!r} block {i}") for i, b in enumerate(blocks, 1)),
            header=_text(raw, "header", kind, ""),
            reference=_text(raw, "reference", kind, ""),
        )
    return templates


def load_templates(path: str | Path | None = None) -> dict[str, CaseTemplate]:
    """Load and check templates from a TOML file (default: the built-in five); TemplateError if malformed."""
    source = Path(path) if path is not None else BUILTIN_TEMPLATES
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TemplateError(f"cannot load templates from {source}: {exc}") from exc
    return parse_templates(data)


def second_lines(t: CaseTemplate, say: Mapping[str, str]) -> CaseTemplate:
    """`t` with its second lines in another language (issue 22): each English text — the title's, a label's, a
    heading's, a column's, a party's, a note paragraph's — that `say` has is replaced by its text there."""

    def tr(en: str) -> str:
        return say.get(en, en)

    def block(b: Block) -> Block:
        if isinstance(b, Fields):
            return replace(b, rows=tuple(replace(r, label_en=tr(r.label_en)) for r in b.rows))
        if isinstance(b, Heading):
            return replace(b, text_en=tr(b.text_en))
        if isinstance(b, Table):
            return replace(b, columns=tuple(replace(c, header_en=tr(c.header_en)) for c in b.columns))
        if isinstance(b, Signature):
            return replace(b, parties=tuple(replace(p, label_en=tr(p.label_en)) for p in b.parties))
        return replace(b, text=tr(b.text)) if b.style == "note" else b

    return replace(t, title_en=tr(t.title_en), blocks=tuple(block(b) for b in t.blocks))
