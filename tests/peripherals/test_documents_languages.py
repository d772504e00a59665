"""The ticket PDF (排队凭条, the slip a PDF printer or a phone shows) in 한국어, 日本語, Русский (issue 22): Chinese
first, the second lines in the citizen's language, every glyph in the embedded WenQuanYi Micro Hei (no tofu), read back
with pdftotext and drawn with pdftoppm; the Korean page is kept for a look (tests/harness.py shots_dir())."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]

from peripherals.documents import fonts, ticket_pdf
from peripherals.ticket_text import TEXT

from ..harness import shots_dir
from .test_documents import TICKET, assert_cjk_font_embedded, pdf_text, render_png, squeeze

SECOND = {
    "ko": ("시장 진입(사업자 등록)", "앞에 7명 대기 · 약 15분", "우선창구", "QR 코드로 대기 현황 확인"),
    "ja": ("市場参入（事業登録）", "あと 7 人 · 約 15 分", "優先窓口", "QRコードで順番を確認"),
    "ru": ("Регистрация бизнеса", "Перед вами: 7 · около 15 мин", "Приоритет", "Сканируйте, чтобы следить"),
}


def test_every_character_of_the_other_languages_is_in_the_embedded_font() -> None:
    """WenQuanYi Micro Hei has a glyph for every character the ticket texts use: nothing is drawn as a box."""
    face = TTFont("check", str(fonts.DEFAULT_CJK_FONT), subfontIndex=0).face
    used = {ch for texts in TEXT.values() for t in texts.values() for ch in t if not ch.isspace()}
    used |= {ch for texts in SECOND.values() for t in texts for ch in t if not ch.isspace()}
    missing = sorted(ch for ch in used if ord(ch) not in face.charToGlyph)
    assert missing == []
    assert sum(1 for c in range(0xAC00, 0xD7A4) if c in face.charToGlyph) == 11172  # every Hangul syllable


@pytest.mark.parametrize("lang", ["ko", "ja", "ru"])
def test_ticket_pdf_in_the_citizen_language(lang: str, tmp_path: Path) -> None:
    domain, wait, mark, scan = SECOND[lang]
    pdf = ticket_pdf(dataclasses.replace(TICKET, domain_en=domain, lang=lang))
    text = pdf_text(pdf, tmp_path)
    for expected in ("威海市政务服务中心", "A023", "市场准入", "前面还有7人·约15分钟", "扫码查看叫号进度"):
        assert expected in text  # Chinese first, as on every ticket
    for expected in (domain, wait, mark, scan):
        assert squeeze(expected) in text, expected
    assert "people ahead" not in text and "Scan to follow" not in text
    assert_cjk_font_embedded(pdf)
    (page,) = render_png(pdf, tmp_path)
    if lang == "ko":
        page.save(shots_dir() / "ticket-pdf-ko.png")
