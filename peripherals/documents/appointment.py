"""The appointment confirmation (预约确认单), A4: hall, domain, date and slot, booking code, QR code, check-in rules.
Chinese first; the second lines in English, or in the applicant's 한국어, 日本語, Русский (`lang`, text.py).

Personal data appears only masked (``张*三``, ``3710**********123X``) and is taken already masked:
`AppointmentData` refuses a name without ``*`` and anything that looks like a whole 18-character
resident ID number, so an unmasked value passed by mistake fails loudly instead of being printed.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle  # type: ignore[import-untyped]

from .fonts import cjk_font
from .qr import qr_drawing
from .styles import FRAME_WIDTH, MARGIN_X, MARGIN_Y, PAGE_SIZE, Styles, bilingual, grid, make_styles, plain
from .text import OTHER_LANGS, second

WEEKDAYS = "一二三四五六日"
QR_SIZE = 48 * mm

DEFAULT_CHECKIN_RULES: tuple[str, ...] = (
    "请于预约时段开始前30分钟至时段结束前到达大厅，在自助终端选择“预约签到”后扫描本页二维码或刷身份证签到；"
    "签到后按预约号优先叫号。",
    "超过预约时段未签到的，本次预约自动失效，可现场取号办理或重新预约。",
    "如需取消，请在预约时段开始前通过原预约渠道取消。30日内累计3次预约后未到且未取消的，将暂停网上预约资格30日。",
    "请携带本人有效身份证件及所办事项的全部申请材料原件；委托他人代办的，代办人须携带授权委托书及本人身份证件。",
)
DEFAULT_CHECKIN_RULES_EN = (
    "Arrive from 30 minutes before your slot until it ends, and check in at a kiosk (Check in) with this QR code "
    "or your ID card. Bring your ID card and the original documents for your matter."
)

_WHOLE_ID = re.compile(r"\d{17}[\dXx]")


@dataclass(frozen=True, slots=True)
class AppointmentData:
    """What the confirmation shows; `masked_name` and `masked_id` must already be masked."""

    hall_name: str
    hall_name_en: str
    domain: str
    domain_en: str
    date: dt.date
    slot_start: dt.time
    slot_end: dt.time
    booking_code: str
    qr_payload: str
    masked_name: str
    masked_id: str
    hall_address: str = ""
    rules: tuple[str, ...] = DEFAULT_CHECKIN_RULES
    rules_en: str = DEFAULT_CHECKIN_RULES_EN
    # the applicant's language: ko, ja or ru give the second lines (documents.po; else English). Pass the hall's
    # and the service's names in it as `hall_name_en` and `domain_en` (the server's `names` maps).
    lang: str | None = None

    def __post_init__(self) -> None:
        """Refuse unmasked personal data and an empty booking code or QR payload."""
        if "*" not in self.masked_name:
            raise ValueError("masked_name must be masked (e.g. 张*三)")
        if "*" not in self.masked_id or _WHOLE_ID.search(self.masked_id):
            raise ValueError("masked_id must be masked (e.g. 3710**********123X)")
        if not self.booking_code or not self.qr_payload:
            raise ValueError("booking_code and qr_payload are required")
        if self.slot_end <= self.slot_start:
            raise ValueError("slot_end must be after slot_start")


def slot_text(date: dt.date, start: dt.time, end: dt.time) -> str:
    """``2026年11月28日（星期六）09:00–09:30``."""
    return f"{date.year}年{date.month}月{date.day}日（星期{WEEKDAYS[date.weekday()]}）{start:%H:%M}–{end:%H:%M}"


def _story(data: AppointmentData, styles: Styles) -> list[Flowable]:
    """The confirmation's flowables, top to bottom: Chinese first, the second lines in English or `data.lang`."""
    lang = data.lang if data.lang in OTHER_LANGS else None

    def en(key: str, english: str) -> str:
        return second(lang, key, english)

    story: list[Flowable] = [
        Paragraph(plain(data.hall_name), styles.header),
        Paragraph(plain(data.hall_name_en), styles.title_en),
        Paragraph("预约确认单", styles.title),
        Paragraph(plain(en("appt_title", "Appointment Confirmation")), styles.title_en),
        Spacer(1, 4 * mm),
    ]
    rows = [
        ("预约编号", en("appt_code", "Booking code"), data.booking_code),
        ("办理事项", en("appt_service", "Service"), f"{data.domain}  {data.domain_en}"),
        ("预约时段", en("appt_time", "Date and time"), slot_text(data.date, data.slot_start, data.slot_end)),
        ("预约人", en("appt_name", "Name"), data.masked_name),
        ("证件号码", en("appt_id", "ID number"), data.masked_id),
    ]
    if data.hall_address:
        rows.append(("办理地点", en("appt_address", "Address"), data.hall_address))
    label_w = 40 * mm
    value_w = FRAME_WIDTH - QR_SIZE - 6 * mm - label_w
    stacked = lang is not None  # a longer second language goes under the Chinese label, not after it
    details = grid(
        [
            [bilingual(styles, zh, sub, stacked=stacked), Paragraph(plain(value), styles.cell)]
            for zh, sub, value in rows
        ],
        [label_w, value_w],
    )
    show = bilingual(styles, "签到时请出示此码", en("appt_show", "Show at check-in"), stacked=stacked)
    qr_block = [qr_drawing(data.qr_payload, QR_SIZE), show]
    layout = Table([[details, qr_block]], colWidths=[label_w + value_w + 6 * mm, QR_SIZE])
    layout.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    heading = plain(en("appt_rules", "Check-in rules"))
    story += [
        Paragraph(f'<font size="30">{plain(data.booking_code)}</font>', styles.title),
        Spacer(1, 6 * mm),
        layout,
        Spacer(1, 6 * mm),
        Paragraph(f'签到须知  <font size="9" color="#606060">{heading}</font>', styles.heading),
    ]
    story += [Paragraph(plain(f"{i}. {rule}"), styles.plain) for i, rule in enumerate(data.rules, 1)]
    rules = second(lang, "appt_rules_text", data.rules_en) if data.rules_en else ""
    if rules:
        # Korean and Russian break between words (their words are spaced); Chinese and Japanese anywhere
        note = styles.note if lang in (None, "ja") else ParagraphStyle("note_words", parent=styles.note, wordWrap=None)
        story.append(Paragraph(plain(rules), note))
    return story


def appointment_pdf(data: AppointmentData, *, font_path: str | Path | None = None) -> bytes:
    """Render `data` as a one-page A4 PDF (deterministic bytes); FontUnavailable if the CJK font is missing."""
    styles = make_styles(cjk_font(font_path))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_Y,
        bottomMargin=MARGIN_Y,
        title=f"预约确认单 {data.booking_code}",
        author=data.hall_name,
        creator="one-window-hall",
        invariant=1,
        pageCompression=1,
    )
    doc.build(_story(data, styles))
    return buffer.getvalue()
