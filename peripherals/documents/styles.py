"""Paragraph styles and small flowable helpers shared by the A4 documents (case documents, appointment confirmation).

Chinese lines break between any two characters, so every style uses reportlab's ``wordWrap="CJK"``;
otherwise a paragraph without spaces would run off the page. Body paragraphs are indented by two
characters, as Chinese official letters are. All text passes through `plain()`: documents carry plain
text, and a ``<`` or ``&`` in a citizen's data must print as itself, never as reportlab markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import Paragraph, Table, TableStyle  # type: ignore[import-untyped]

PAGE_SIZE = A4
MARGIN_X = 25 * mm
MARGIN_Y = 20 * mm
FRAME_WIDTH = PAGE_SIZE[0] - 2 * MARGIN_X
GREY = colors.Color(0.38, 0.38, 0.38)
RULE = colors.Color(0.45, 0.45, 0.45)
BODY_SIZE = 12.0


def plain(text: str) -> str:
    """Plain text as reportlab paragraph markup: escaped, line breaks kept."""
    return escape(text).replace("\n", "<br/>")


@dataclass(frozen=True, slots=True)
class Styles:
    """The paragraph styles of one document, all in the registered CJK font."""

    font: str
    header: ParagraphStyle
    title: ParagraphStyle
    title_en: ParagraphStyle
    reference: ParagraphStyle
    heading: ParagraphStyle
    body: ParagraphStyle
    plain: ParagraphStyle
    note: ParagraphStyle
    cell: ParagraphStyle
    cell_label: ParagraphStyle
    cell_en: ParagraphStyle
    right: ParagraphStyle


def make_styles(font: str) -> Styles:
    """Build the styles for the CJK font registered under `font`."""

    def style(name: str, size: float, **kw: object) -> ParagraphStyle:
        kw.setdefault("leading", size * 1.55)
        return ParagraphStyle(name, fontName=font, fontSize=size, wordWrap="CJK", **kw)

    return Styles(
        font=font,
        header=style("header", 15, alignment=TA_CENTER, leading=20),
        title=style("title", 24, alignment=TA_CENTER, leading=30, spaceBefore=2),
        title_en=style("title_en", 10.5, alignment=TA_CENTER, textColor=GREY, spaceAfter=6),
        reference=style("reference", 10.5, alignment=TA_RIGHT, spaceAfter=8),
        heading=style("heading", 13.5, spaceBefore=8, spaceAfter=3),
        body=style("body", BODY_SIZE, firstLineIndent=2 * BODY_SIZE, spaceAfter=3, alignment=TA_LEFT),
        plain=style("plain", BODY_SIZE, spaceAfter=3),
        note=style("note", 10, textColor=GREY, spaceBefore=4, spaceAfter=4, firstLineIndent=20),
        cell=style("cell", 10.5, leading=15),
        cell_label=style("cell_label", 10.5, leading=14),
        cell_en=style("cell_en", 7.5, leading=10, textColor=GREY),
        right=style("right", BODY_SIZE, alignment=TA_RIGHT),
    )


def bilingual(styles: Styles, zh: str, en: str, *, stacked: bool = False) -> Paragraph:
    """A label in Chinese with its English in small grey type, after it or (`stacked`) under it."""
    markup = plain(zh)
    if en:
        markup += "<br/>" if stacked else " "
        markup += f'<font size="{styles.cell_en.fontSize}" color="#606060">{plain(en)}</font>'
    return Paragraph(markup, styles.cell_label)


def grid(data: list[list[object]], widths: list[float], *, header: bool = False) -> Table:
    """A table with thin rules, top-aligned cells, and (optionally) a shaded header row repeated on each page."""
    table = Table(data, colWidths=widths, repeatRows=1 if header else 0)
    commands: list[tuple[object, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 5),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)))
    table.setStyle(TableStyle(commands))
    return table
