"""Self-submission receipt (自助申报回执) layout: a `ReceiptData` value and a paper width in, ESC/POS bytes out (pure).

    威海市政务服务中心                   hall name (bold, centred)
    Weihai Service Centre               80 mm only
        自助申报回执                     title (bold)
    Self-submission receipt             80 mm only
    ------------------------------
    1012611270001                       the case number, bold, as large as fits (3× on 80 mm, 2× on 58 mm)
    ------------------------------
    事项：个体工商户设立登记
    Item: Registration of …             80 mm only
    查询码 Query code: 3FA9C2D1
    提交材料 3 页 · 稍后补交 1 项
    Pages: 3 · to follow: 1             80 mm only
    2026-11-27 09:42                    submission time, in the hall's timezone
           ▓▓▓▓▓▓                       QR code of the public query page
    扫码或凭办件编号和查询码查询办理进度
    Scan, or use the number and code, …  80 mm only
    本回执不代表已受理，受理结果将另行通知
    Not yet accepted: you will be told …  80 mm only

Nothing personal is printed: `ReceiptData` has no field for a name, phone number or ID number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .encoder import PAPER_80, EscposEncoder, Paper
from .layout import _lines, local_time, number_size

TITLE = ("自助申报回执", "Self-submission receipt")
SCAN = ("扫码或凭办件编号和查询码查询办理进度", "Scan, or use the case number and query code, to follow your case")
NOTICE = ("本回执不代表已受理，受理结果将另行通知", "Not yet accepted: you will be told the outcome")


@dataclass(frozen=True, slots=True)
class ReceiptData:
    """What a printed self-submission receipt shows."""

    hall_name: str
    case_number: str
    item_name: str
    query_code: str
    submitted_at: datetime
    query_url: str
    pages: int = 0
    to_follow: int = 0
    hall_name_en: str = ""
    item_name_en: str = ""


def render_receipt(data: ReceiptData, paper: Paper = PAPER_80) -> bytes:
    """The complete ESC/POS job for one receipt: initialise, Chinese mode, the lines, the QR code, a partial cut."""
    cols = paper.columns - 1
    english = paper.english
    enc = EscposEncoder(paper).initialise().chinese_mode(True)
    enc.align("center").bold(True)
    _lines(enc, data.hall_name, cols)
    enc.bold(False)
    if english and data.hall_name_en:
        _lines(enc, data.hall_name_en, cols)
    enc.bold(True)
    _lines(enc, TITLE[0], cols)
    enc.bold(False)
    if english:
        _lines(enc, TITLE[1], cols)
    enc.line("-" * cols)
    big = number_size(data.case_number, cols)
    enc.bold(True).size(big, big)
    _lines(enc, data.case_number, cols // big)
    enc.size(1, 1).bold(False)
    enc.line("-" * cols)
    enc.align("left")
    _lines(enc, f"事项：{data.item_name}", cols)
    if english and data.item_name_en:
        _lines(enc, f"Item: {data.item_name_en}", cols)
    _lines(enc, f"查询码 Query code: {data.query_code}" if english else f"查询码：{data.query_code}", cols)
    _lines(enc, f"提交材料 {data.pages} 页" + (f" · 稍后补交 {data.to_follow} 项" if data.to_follow else ""), cols)
    if english:
        _lines(enc, f"Pages: {data.pages}" + (f" · to follow: {data.to_follow}" if data.to_follow else ""), cols)
    _lines(enc, local_time(data.submitted_at), cols)
    enc.align("center")
    enc.qr(data.query_url)
    for zh, en in (SCAN, NOTICE):
        _lines(enc, zh, cols)
        if english:
            _lines(enc, en, cols)
    enc.align("left")
    return enc.cut(partial=True).output
