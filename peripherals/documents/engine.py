"""The one rendering engine for case documents: a filled template in, an A4 PDF out.

`render_case_document(kind, fields)` loads the template (the built-in five unless a hall passes its
own), checks and fills it (`fill`), and only then draws it, so a missing field never yields a half-filled
PDF. Output is deterministic (reportlab's invariant mode: no creation time or random document ID), so the
same data gives the same bytes.

Layout: authority and title centred, English subtitle under the title, the document number on the
right, blocks in order, the signature block last with the issuing authority on the right, and the page
number at the foot of every page. Where the seal goes, the document says so in words ("（印章）"): the
seal is stamped on paper or added by the electronic-seal service, never drawn by us.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .errors import TemplateError
from .fill import FilledDocument, FilledTable, fill
from .fonts import cjk_font
from .styles import FRAME_WIDTH, GREY, MARGIN_X, MARGIN_Y, PAGE_SIZE, Styles, bilingual, grid, make_styles, plain
from .templates import CaseTemplate, Fields, Heading, Signature, load_templates
from .templates import Paragraph as TextBlock

CASE_DOCUMENT_KINDS = (
    "acceptance_receipt",
    "one_time_notice",
    "non_acceptance_notice",
    "conditional_acceptance_notice",
    "commitment_letter",
)
"""The built-in kinds: 受理凭证, 一次性告知书, 不予受理通知书, 容缺受理通知书, 告知承诺书."""

# A table cell that is one code (case number 6742612060001, waybill, item code SCZT-GTH-001): never broken
# across lines — the CJK line breaker would split it anywhere — but drawn smaller when the column is narrow.
CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-_/.]*")
CELL_PADDING = 10.0  # left + right padding of `grid` cells
BLANK_NAME = "_" * 18
BLANK_DATE = "______年____月____日"


def _fields_table(block: Fields, styles: Styles) -> Table:
    """Label → value rows, labels a third of the width."""
    rows = [[bilingual(styles, r.label, r.label_en), Paragraph(plain(r.value), styles.cell)] for r in block.rows]
    return grid(rows, [FRAME_WIDTH * 0.3, FRAME_WIDTH * 0.7])


def _list_table(block: FilledTable, styles: Styles) -> Table:
    """Header row and one row per item, column widths in proportion to the template's weights."""
    total = sum(block.widths)
    widths = [FRAME_WIDTH * w / total for w in block.widths]
    data: list[list[object]] = [[bilingual(styles, zh, en, stacked=True) for zh, en in block.headers]]
    data += [[_cell(cell, styles, width) for cell, width in zip(row, widths, strict=True)] for row in block.rows]
    return grid(data, widths, header=True)


def _cell(text: str, styles: Styles, width: float) -> Paragraph:
    """A table cell; a code (`CODE`) on one line, shrunk to the column's width when it would not fit."""
    if not CODE.fullmatch(text):
        return Paragraph(plain(text), styles.cell)
    room = width - CELL_PADDING
    size = min(styles.cell.fontSize, room / stringWidth(text, styles.font, 1.0))
    if size >= styles.cell.fontSize:
        return Paragraph(plain(text), styles.cell)
    style = ParagraphStyle("cell_code", parent=styles.cell, fontSize=size, wordWrap=None, splitLongWords=False)
    return Paragraph(plain(text), style)


def _signature(block: Signature, styles: Styles) -> Flowable:
    """Parties side by side, right-aligned so that a lone authority sits at the right, as in official letters."""
    columns = max(2, len(block.parties))
    cells: list[object] = [""] * (columns - len(block.parties))
    for party in block.parties:
        cells.append(
            [
                bilingual(styles, party.label, party.label_en),
                Spacer(1, 3 * mm),
                Paragraph(plain(party.name or BLANK_NAME), styles.plain),
                Paragraph(plain(party.date or BLANK_DATE), styles.plain),
            ]
        )
    table = Table([cells], colWidths=[FRAME_WIDTH / columns] * columns)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 12)]))
    return KeepTogether([Spacer(1, 4 * mm), table])


def flowables(document: FilledDocument, styles: Styles) -> list[Flowable]:
    """The document as reportlab flowables, top to bottom."""
    story: list[Flowable] = []
    if document.header:
        story.append(Paragraph(plain(document.header), styles.header))
    story.append(Paragraph(plain(document.title), styles.title))
    if document.title_en:
        story.append(Paragraph(plain(document.title_en), styles.title_en))
    if document.reference:
        story.append(Paragraph(plain(document.reference), styles.reference))
    for block in document.blocks:
        if isinstance(block, TextBlock):
            style = {"body": styles.body, "plain": styles.plain, "note": styles.note}[block.style]
            story.append(Paragraph(plain(block.text), style))
        elif isinstance(block, Heading):
            story.append(CondPageBreak(30 * mm))  # never a heading alone at the foot of a page
            en = f'  <font size="9" color="#606060">{plain(block.text_en)}</font>' if block.text_en else ""
            story.append(Paragraph(plain(block.text) + en, styles.heading))
        elif isinstance(block, Fields):
            story += [_fields_table(block, styles), Spacer(1, 3 * mm)]
        elif isinstance(block, FilledTable):
            story += [_list_table(block, styles), Spacer(1, 3 * mm)]
        else:
            story.append(_signature(block, styles))
    return story


def render_filled(document: FilledDocument, *, font_path: str | Path | None = None) -> bytes:
    """Draw an already filled document as an A4 PDF (deterministic bytes)."""
    styles = make_styles(cjk_font(font_path))

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(styles.font, 8.5)
        canvas.setFillColor(GREY)
        canvas.drawCentredString(PAGE_SIZE[0] / 2, MARGIN_Y / 2, f"第 {doc.page} 页  Page {doc.page}")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_Y,
        bottomMargin=MARGIN_Y,
        title=f"{document.title} {document.title_en}".strip(),
        author=document.header,
        subject=document.reference,
        creator="one-window-hall",
        invariant=1,
        pageCompression=1,
    )
    doc.build(flowables(document, styles), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def render_case_document(
    kind: str,
    fields: Mapping[str, Any],
    *,
    templates: Mapping[str, CaseTemplate] | None = None,
    font_path: str | Path | None = None,
) -> bytes:
    """Render the case document `kind` filled from `fields` as an A4 PDF.

    Raises TemplateError for an unknown kind, MissingFieldsError (a KeyError) naming every missing field,
    FontUnavailable when the CJK font is missing. `templates` replaces the built-in five (see
    `load_templates`).
    """
    available = templates if templates is not None else load_templates()
    template = available.get(kind)
    if template is None:
        raise TemplateError(f"no case-document template {kind!r}; known: {', '.join(sorted(available))}")
    return render_filled(fill(template, fields), font_path=font_path)
