"""The queue ticket as a PDF, 80 mm wide: for PDF "printers" (``pdf:///dir``) and for showing on screen.

Same content as the thermal ticket (see ux.md): hall name in Chinese and English, the big number, the
domain, the lane mark, people ahead and the estimated wait, the time, a QR code of the tracking link and
the notice and privacy lines. The second line of each pair is English, or the citizen's language (`lang` ko, ja, ru:
the documents' catalogue, text.py `ticket_text`; the caller gives the domain's name in it as `domain_en`). The
embedded font stays WenQuanYi Micro Hei: it has every Hangul syllable (11 172), the kana and Cyrillic, while Noto Sans
CJK cannot be embedded by reportlab (CFF outlines, fonts.py). Nothing personal: `TicketData` has no field that could
hold a name or an ID number, so none can be printed by mistake. The page is exactly as tall as its content, like a
cut ticket.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from reportlab.graphics import renderPDF  # type: ignore[import-untyped]
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from .fonts import cjk_font
from .qr import qr_drawing
from .text import OTHER_LANGS, wait_line
from .text import ticket_text as other_text

TICKET_WIDTH = 80 * mm
MARGIN = 5 * mm
QR_SIZE = 32 * mm
GREY = colors.Color(0.35, 0.35, 0.35)

Lane = Literal["normal", "green", "appointment"]
LANE_MARKS: dict[Lane, tuple[str, str]] = {
    "green": ("绿色通道", "Priority lane"),
    "appointment": ("预约", "Appointment"),
}


@dataclass(frozen=True, slots=True)
class TicketData:
    """What a ticket shows; deliberately no personal data (no name, no ID number, no phone)."""

    hall_name: str
    hall_name_en: str
    number: str
    domain: str
    domain_en: str
    people_ahead: int
    wait_minutes: int | None
    issued_at: datetime
    tracking_url: str
    lane: Lane = "normal"
    notice: str = "过号请到总服务台 · 请妥善保管本票"
    notice_en: str = "Missed your turn? Ask at the general desk. Keep this ticket."
    privacy: str = "本票不含个人信息，二维码仅用于查看排队进度"
    privacy_en: str = "No personal data; the QR code only shows your place in the queue."
    lang: str | None = None  # the citizen's language: ko, ja or ru give the second lines (else English)


def waiting_lines(people_ahead: int, wait_minutes: int | None) -> tuple[str, str]:
    """The "前面还有 7 人 · 约 15 分钟" line and its English, for a ticket or a screen."""
    if people_ahead <= 0:
        return "前面没有人，请留意叫号", "You are next: watch the board"
    zh = f"前面还有 {people_ahead} 人"
    en = f"{people_ahead} ahead"
    if wait_minutes is not None:
        zh += f" · 约 {wait_minutes} 分钟"
        en += f" · about {wait_minutes} min"
    return zh, en


def _fit(text: str, font: str, size: float, width: float) -> float:
    """The largest font size not above `size` at which `text` fits in `width`."""
    measured = stringWidth(text, font, size)
    return size if measured <= width else size * width / measured


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break `text` into lines no wider than `width`, between words where there are spaces, else between characters."""
    lines: list[str] = []
    current = ""
    for token in _tokens(text):
        candidate = current + token
        if current and stringWidth(candidate, font, size) > width:
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current = candidate
    if current.strip():
        lines.append(current.rstrip())
    return lines


def _tokens(text: str) -> list[str]:
    """Words (with their trailing space) for Latin text, single characters for CJK text."""
    tokens: list[str] = []
    word = ""
    for char in text:
        if char.isascii() and not char.isspace():
            word += char
            continue
        if word:
            tokens.append(word)
            word = ""
        if char.isspace() and tokens:
            tokens[-1] += char
        else:
            tokens.append(char)
    if word:
        tokens.append(word)
    return tokens


@dataclass(frozen=True, slots=True)
class _Item:
    """One horizontal band of the ticket: `kind` says what to draw, `height` how much paper it takes."""

    kind: Literal["text", "rule", "mark", "qr", "space"]
    height: float
    text: str = ""
    size: float = 0.0
    grey: bool = False


def _layout(data: TicketData, font: str) -> list[_Item]:
    """The ticket's bands, top to bottom (pure: measuring text needs only the registered font)."""
    inner = TICKET_WIDTH - 2 * MARGIN
    items: list[_Item] = []

    def text(line: str, size: float, grey: bool = False, gap: float = 0.35) -> None:
        for part in _wrap(line, font, size, inner):
            items.append(_Item("text", size * (1 + gap), part, size, grey))

    text(data.hall_name, _fit(data.hall_name, font, 15, inner))
    text(data.hall_name_en, 8, grey=True)
    items.append(_Item("rule", 4 * mm))
    text(data.number, _fit(data.number, font, 46, inner), gap=0.05)
    items.append(_Item("rule", 4 * mm))
    text(data.domain, _fit(data.domain, font, 13, inner))
    text(data.domain_en, 8, grey=True)
    other = data.lang if data.lang in OTHER_LANGS else None
    if data.lane in LANE_MARKS:
        zh, en = LANE_MARKS[data.lane]
        if other:
            en = other_text("appointment" if data.lane == "appointment" else "priority", other)
        items.append(_Item("mark", 8 * mm, f"{zh}  {en}", 10))
    zh, en = waiting_lines(data.people_ahead, data.wait_minutes)
    text(zh, 11)
    text(wait_line(other, data.people_ahead, data.wait_minutes, nobody="next") if other else en, 8, grey=True)
    text(data.issued_at.strftime("%Y-%m-%d %H:%M"), 10)
    items.append(_Item("qr", QR_SIZE, data.tracking_url))
    text("扫码查看叫号进度", 9)
    text(other_text("scan", other) if other else "Scan to follow your turn on your phone", 7, grey=True)
    items.append(_Item("space", 2 * mm))
    text(data.notice, 8.5)
    text(other_text("missed", other) if other else data.notice_en, 6.5, grey=True)
    text(data.privacy, 7, grey=True)
    text(other_text("privacy", other) if other else data.privacy_en, 6, grey=True)
    return items


def ticket_pdf(data: TicketData, *, font_path: str | Path | None = None) -> bytes:
    """Render `data` as a one-page PDF 80 mm wide; FontUnavailable if the CJK font is missing."""
    font = cjk_font(font_path)
    items = _layout(data, font)
    height = 2 * MARGIN + sum(item.height for item in items)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(TICKET_WIDTH, height), invariant=True, pageCompression=1)
    canvas.setTitle(f"{data.hall_name} {data.number}")
    canvas.setSubject("排队凭条 Queue ticket")
    centre = TICKET_WIDTH / 2
    y = height - MARGIN
    for item in items:
        bottom = y - item.height
        if item.kind == "text":
            canvas.setFillColor(GREY if item.grey else colors.black)
            canvas.setFont(font, item.size)
            canvas.drawCentredString(centre, bottom + (item.height - item.size) / 2 + item.size * 0.18, item.text)
        elif item.kind == "rule":
            canvas.setStrokeColor(colors.black)
            canvas.setLineWidth(0.6)
            canvas.setDash(2, 2)
            canvas.line(MARGIN, bottom + item.height / 2, TICKET_WIDTH - MARGIN, bottom + item.height / 2)
            canvas.setDash()
        elif item.kind == "mark":  # white on black: the words carry the meaning, not a colour
            width = stringWidth(item.text, font, item.size) + 4 * mm
            box = item.height - 2 * mm
            canvas.setFillColor(colors.black)
            canvas.roundRect(centre - width / 2, bottom + 1 * mm, width, box, 1.5 * mm, stroke=0, fill=1)
            canvas.setFillColor(colors.white)
            canvas.setFont(font, item.size)
            canvas.drawCentredString(centre, bottom + 1 * mm + (box - item.size) / 2 + item.size * 0.18, item.text)
        elif item.kind == "qr":
            renderPDF.draw(qr_drawing(item.text, QR_SIZE), canvas, centre - QR_SIZE / 2, bottom)
        y = bottom
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
