"""A ticket taken in 한국어, 日本語 or Русский prints its second lines in that language (issue 22), over a pseudo-
terminal to the simulated printer: Japanese and Russian as GB18030 text in Chinese mode (GB2312 has kana and
Cyrillic), Korean as raster images (`GS v 0`) of the lines, drawn in Noto Sans CJK — the bitmaps read back from the
wire are the lines' own, and one is saved for a look (tests/harness.py shots_dir())."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from PIL import Image

from peripherals.printer import PAPER_58, TicketData, open_printer
from peripherals.printer.encoder import EscposEncoder, printable_as_text
from peripherals.printer.simulator import Document, Line, PtySimulator, Raster, SimulatedPrinter

from ..harness import shots_dir

TICKET = TicketData(
    hall_name="威海市政务服务中心",
    hall_name_en="Weihai Service Centre",
    number="A023",
    domain_name="市场准入",
    domain_name_en="시장 진입(사업자 등록)",
    lane="special",
    people_ahead=7,
    estimated_wait_min=15,
    issued_at=datetime(2026, 12, 7, 9, 42),
    tracking_url="https://hall.example.cn/track/Zx8vQm2LkP0aRt7Y",
    lang="ko",
)


def over_the_pty(ticket: TicketData, url_extra: str = "") -> Document:
    with PtySimulator(SimulatedPrinter()) as pty, open_printer(pty.url + url_extra) as printer:
        printer.print_ticket(ticket)
        (doc,) = pty.printer.wait_for_documents(1)
        assert pty.printer.unknown == []
    return doc


def raster_of(text: str, align: str) -> Raster:
    """The raster the encoder makes of one line, read back by a printer of its own."""
    sim = SimulatedPrinter()
    sim.feed(EscposEncoder().raster_line(text, align).cut().output)  # type: ignore[arg-type]
    (doc,) = sim.documents
    (raster,) = doc.rasters
    return raster


def picture(r: Raster) -> Image.Image:
    img = Image.new("1", (r.width, r.height), 1)
    for y in range(r.height):
        for x in range(r.width):
            if r.dot(x, y):
                img.putpixel((x, y), 0)
    return img


def test_a_korean_ticket_prints_its_second_lines_as_images() -> None:
    doc = over_the_pty(TICKET)
    assert doc.text_lines == [  # Chinese and English as text, as on every ticket
        "威海市政务服务中心",
        "Weihai Service Centre",
        "-" * 47,
        "A023",
        "-" * 47,
        "市场准入  [绿色通道]",
        "前面还有 7 人 · 约 15 分钟",
        "2026-12-07 09:42",
        "扫码查看排队进度",
        "过号请到总服务台 · 请妥善保管本票",
    ]
    expected = [
        ("시장 진입(사업자 등록)  [우선창구]", "left"),
        ("앞에 7명 대기 · 약 15분", "left"),
        ("QR 코드로 대기 현황 확인", "center"),
        ("호출을 놓치면 종합안내데스크로 ·", "center"),
        ("번호표를 보관하세요", "center"),
    ]
    assert [r.align for r in doc.rasters] == [a for _, a in expected]
    for raster, (text, align) in zip(doc.rasters, expected, strict=True):
        assert not printable_as_text(text)
        assert (raster.width, raster.height) == (576, 32)  # the paper's 576 dots, one 24-dot line and a margin
        assert raster.data == raster_of(text, align).data, text  # exactly that line's picture came over the wire
        assert raster.black() > 300, text
    # the images sit where the Korean lines belong: after the Chinese line they pair with
    kinds = [type(e).__name__ for e in doc.elements]
    before = doc.elements[kinds.index("Raster") - 1]
    assert isinstance(before, Line) and before.text == "市场准入  [绿色通道]"
    assert doc.qr_payloads == [TICKET.tracking_url] and doc.cut == "partial"
    img = Image.new("1", (576, 32 * len(doc.rasters)), 1)
    for i, r in enumerate(doc.rasters):
        img.paste(picture(r), (0, 32 * i))
    img.save(shots_dir() / "printer-ticket-ko-lines.png")


def test_japanese_and_russian_print_as_text_in_chinese_mode() -> None:
    ja = over_the_pty(dataclasses.replace(TICKET, lang="ja", domain_name_en="市場参入（事業登録）"))
    assert ja.rasters == []
    assert "市場参入（事業登録）  [優先窓口]" in ja.text_lines
    assert "あと 7 人 · 約 15 分" in ja.text_lines
    assert "QRコードで順番を確認" in ja.text_lines
    ru = over_the_pty(dataclasses.replace(TICKET, lang="ru", domain_name_en="Регистрация бизнеса", lane="normal"))
    assert ru.rasters == []
    assert "Регистрация бизнеса" in ru.text_lines
    assert "Перед вами: 7 · около 15 мин" in ru.text_lines
    assert any("Сканируйте" in line for line in ru.text_lines)


def test_english_stays_the_second_line_without_a_language_and_58_mm_has_none() -> None:
    en = over_the_pty(dataclasses.replace(TICKET, lang=None, domain_name_en="Market access"))
    assert en.rasters == [] and "7 people ahead · about 15 min" in en.text_lines
    narrow = over_the_pty(TICKET, f"?paper={PAPER_58.name[:2]}")
    assert narrow.rasters == [] and "前面还有 7 人 · 约 15 分钟" in narrow.text_lines
