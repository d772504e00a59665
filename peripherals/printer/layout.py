"""Ticket layout: a `TicketData` value and a paper width in, the ESC/POS bytes of one queue ticket out (pure).

The layout follows the "Printed ticket" sketch in docs/ux.md::

          威海市政务服务中心            hall name (bold, centred)
        Weihai Service Centre           80 mm only
     ------------------------------
                A023                    the number, bold, 4× width and height: the largest thing on the slip
     ------------------------------
     市场准入  [绿色通道]                domain and lane mark
     Market access  [Green lane]        80 mm only
     前面还有 7 人 · 约 15 分钟          nobody ahead: 无需等候
     7 people ahead · about 15 min      80 mm only; nobody ahead: No wait
     2026-11-27 09:42                   issue time, in the hall's timezone (as the server gave it)
            ▓▓▓▓▓▓                      QR code of the tracking URL
         扫码查看排队进度
      Scan to follow your turn           80 mm only
     过号请到总服务台 · 请妥善保管本票
     Missed your turn? Ask at the …     80 mm only

The second line of each pair is English, or the citizen's language when the number was taken in 한국어, 日本語 or
Русский (`lang`; the documents' catalogue, peripherals/documents/text.py `ticket_text`): Japanese and Russian
print as GBK text in Chinese mode, a Korean line as a raster image of itself (encoder.py says why).

Nothing personal is printed: `TicketData` has no field for a name, phone number or ID number. Every line
is wrapped to one column less than the paper's (see `LINE_MARGIN`), counting a Chinese character as two
columns (see `display_width`); a long line breaks at " · " first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ..documents.text import OTHER_LANGS, wait_line
from ..documents.text import ticket_text as text
from .encoder import PAPER_80, EscposEncoder, Paper, display_width, printable_as_text

Lane = Literal["normal", "military", "special", "vip", "appointment"]

PRIORITY_LANES: frozenset[str] = frozenset({"military", "special", "vip"})

LANE_MARK_PRIORITY = ("绿色通道", "Green lane")
LANE_MARK_APPOINTMENT = ("预约", "Appointment")
SCAN_HINT = ("扫码查看排队进度", "Scan to follow your turn")
PRIVACY_LINE = ("过号请到总服务台 · 请妥善保管本票", "Missed your turn? Ask at the general desk · Keep this ticket")

NUMBER_SIZE = 4  # width and height multiplier of the ticket number (quad: the largest thing on the slip)
NUMBER_SIZE_MIN = 2  # a long number (a case number) is never smaller than double width and height
SEPARATOR = " · "
# Lines stay one column short of the paper: a line that fills the print area exactly makes many printers wrap
# by themselves, and the LF that follows then feeds an extra blank line.
LINE_MARGIN = 1


@dataclass(frozen=True, slots=True)
class TicketData:
    """What a printed ticket shows; deliberately nothing that identifies the citizen.

    `issued_at` is printed as the wall-clock time it carries: pass it in the hall's timezone (the server's
    answer is), never converted to the printing computer's zone. `estimated_wait_min` None leaves the
    estimate out.
    """

    hall_name: str
    number: str
    domain_name: str
    people_ahead: int
    issued_at: datetime
    tracking_url: str
    hall_name_en: str = ""
    domain_name_en: str = ""
    lane: Lane = "normal"
    estimated_wait_min: int | None = None
    lang: str | None = None  # the citizen's language: ko, ja or ru print their own second lines (else English)


def lane_mark(lane: str) -> tuple[str, str] | None:
    """The (Chinese, English) mark printed for a lane: 绿色通道 for military/special/vip, 预约 for appointments."""
    if lane in PRIORITY_LANES:
        return LANE_MARK_PRIORITY
    if lane == "appointment":
        return LANE_MARK_APPOINTMENT
    return None


NO_WAIT = ("无需等候", "No wait")


def wait_line_zh(people_ahead: int, wait_min: int | None) -> str:
    """The Chinese wait line, "前面还有 7 人 · 约 15 分钟" (the estimate left out when unknown), or 无需等候."""
    if people_ahead <= 0:
        return NO_WAIT[0]
    text = f"前面还有 {people_ahead} 人"
    return text if wait_min is None else f"{text} · 约 {wait_min} 分钟"


def wait_line_en(people_ahead: int, wait_min: int | None) -> str:
    """The English wait line, "7 people ahead · about 15 min" (the estimate left out when unknown); or "No wait"."""
    if people_ahead <= 0:
        return NO_WAIT[1]
    text = f"{people_ahead} {'person' if people_ahead == 1 else 'people'} ahead"
    return text if wait_min is None else f"{text} · about {wait_min} min"


def local_time(moment: datetime) -> str:
    """`YYYY-MM-DD HH:MM` as the datetime's own wall clock (its own zone: the hall's, not this computer's)."""
    return moment.strftime("%Y-%m-%d %H:%M")


def number_size(text: str, columns: int) -> int:
    """The largest size (NUMBER_SIZE down to NUMBER_SIZE_MIN) at which `text` fits on one line of `columns`."""
    for size in range(NUMBER_SIZE, NUMBER_SIZE_MIN, -1):
        if display_width(text) * size <= columns:
            return size
    return NUMBER_SIZE_MIN


def wrap(text: str, columns: int) -> list[str]:
    """Split `text` into lines of at most `columns` display columns, at spaces where possible.

    A word wider than the line (a long Chinese phrase has no spaces) is cut between characters.
    """
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if display_width(candidate) <= columns:
            current = candidate
            continue
        if current:
            lines.append(current)
        while display_width(word) > columns:
            cut = 0
            while display_width(word[: cut + 1]) <= columns:
                cut += 1
            cut = max(cut, 1)  # a line narrower than one character still makes progress
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current or not lines:
        lines.append(current)
    return lines


def _lines(enc: EscposEncoder, text: str, columns: int) -> None:
    """Append `text` in lines of at most `columns` columns; a long line breaks at " · " first, then at spaces."""
    parts = [text] if display_width(text) <= columns else text.split(SEPARATOR)
    for i, part in enumerate(parts):
        tail = SEPARATOR.rstrip() if i < len(parts) - 1 and display_width(part + SEPARATOR) <= columns else ""
        for piece in wrap(part + tail, columns):
            enc.line(piece)


def _with_mark(text: str, mark: str | None) -> str:
    """`text` followed by `[mark]`, if there is a mark."""
    return f"{text}  [{mark}]" if mark else text


def _second_lines(enc: EscposEncoder, line: str, columns: int, lang: str, align: Literal["left", "center"]) -> None:
    """A second-language line: as text where the printer's Chinese font has it, else as a raster image."""
    parts = [line] if display_width(line) <= columns else line.split(SEPARATOR)
    for i, part in enumerate(parts):
        tail = SEPARATOR.rstrip() if i < len(parts) - 1 and display_width(part + SEPARATOR) <= columns else ""
        for piece in wrap(part + tail, columns):
            if printable_as_text(piece):
                enc.line(piece)
            else:
                enc.raster_line(piece, align, lang)


def second_texts(data: TicketData) -> dict[str, str]:
    """The ticket's second lines: English, or the citizen's language (`lang` ko, ja, ru)."""
    mark = lane_mark(data.lane)
    if data.lang not in OTHER_LANGS:
        return {
            "domain": _with_mark(data.domain_name_en, mark[1] if mark else None) if data.domain_name_en else "",
            "wait": wait_line_en(data.people_ahead, data.estimated_wait_min),
            "scan": SCAN_HINT[1],
            "privacy": PRIVACY_LINE[1],
        }
    lang = data.lang
    mark_text = None if mark is None else text("appointment" if data.lane == "appointment" else "priority", lang)
    return {
        "domain": _with_mark(data.domain_name_en, mark_text) if data.domain_name_en else "",
        "wait": wait_line(lang, data.people_ahead, data.estimated_wait_min),
        "scan": text("scan", lang),
        "privacy": text("missed", lang),
    }


def render_ticket(data: TicketData, paper: Paper = PAPER_80) -> bytes:
    """The complete ESC/POS job for one ticket: initialise, Chinese mode, the lines, the QR code, a partial cut."""
    cols = paper.columns - LINE_MARGIN
    english = paper.english
    mark = lane_mark(data.lane)
    second, lang = second_texts(data), data.lang or "en"
    enc = EscposEncoder(paper).initialise().chinese_mode(True)

    enc.align("center").bold(True)
    _lines(enc, data.hall_name, cols)
    enc.bold(False)
    if english and data.hall_name_en:
        _lines(enc, data.hall_name_en, cols)
    enc.line("-" * cols)
    big = number_size(data.number, cols)
    enc.bold(True).size(big, big)
    _lines(enc, data.number, cols // big)
    enc.size(1, 1).bold(False)
    enc.line("-" * cols)

    enc.align("left")
    _lines(enc, _with_mark(data.domain_name, mark[0] if mark else None), cols)
    if english and second["domain"]:
        _second_lines(enc, second["domain"], cols, lang, "left")
    _lines(enc, wait_line_zh(data.people_ahead, data.estimated_wait_min), cols)
    if english:
        _second_lines(enc, second["wait"], cols, lang, "left")
    _lines(enc, local_time(data.issued_at), cols)

    enc.align("center")
    enc.qr(data.tracking_url)
    _lines(enc, SCAN_HINT[0], cols)
    if english:
        _second_lines(enc, second["scan"], cols, lang, "center")
    _lines(enc, PRIVACY_LINE[0], cols)
    if english:
        _second_lines(enc, second["privacy"], cols, lang, "center")
    enc.align("left")
    return enc.cut(partial=True).output
