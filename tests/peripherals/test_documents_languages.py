"""The ticket PDF (排队凭条, the slip a PDF printer or a phone shows) in 한국어, 日本語, Русский (issue 22): Chinese
first, the second lines in the citizen's language, every glyph in the embedded WenQuanYi Micro Hei (no tofu), read back
with pdftotext and drawn with pdftoppm; the Korean page is kept for a look (tests/harness.py shots_dir())."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]

from peripherals.documents import appointment_pdf, fonts, ticket_pdf
from peripherals.documents import text as doc_text

from ..harness import shots_dir
from .test_documents import APPOINTMENT, TICKET, assert_cjk_font_embedded, pdf_text, render_png, squeeze

SECOND = {
    "ko": ("시장 진입(사업자 등록)", "앞에 7명 대기 · 약 15분", "우선창구", "QR 코드로 대기 현황 확인"),
    "ja": ("市場参入（事業登録）", "あと 7 人 · 約 15 分", "優先窓口", "QRコードで順番を確認"),
    "ru": ("Регистрация бизнеса", "Перед вами: 7 · около 15 мин", "Приоритет", "Сканируйте, чтобы следить"),
}


def test_every_character_of_the_other_languages_is_in_the_embedded_font() -> None:
    """WenQuanYi Micro Hei has a glyph for every character the documents' texts (the ticket's too) use: nothing is
    drawn as a box."""
    face = TTFont("check", str(fonts.DEFAULT_CJK_FONT), subfontIndex=0).face
    used = {ch for texts in SECOND.values() for t in texts for ch in t if not ch.isspace()}
    used |= {ch for lang in doc_text.OTHER_LANGS for t in doc_text.catalogue(lang).values() for ch in t}
    used -= {" "}
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


# The appointment confirmation's second lines: (service name in the language, the title, a label, the rules' start)
APPOINTMENT_SECOND = {
    "ko": ("사회보험·의료보험", "예약 확인서", "예약번호", "예약 시간 시작 30분 전부터"),
    "ja": ("社会保険・医療保険", "予約確認書", "予約コード", "予約時間の30分前から"),
    "ru": ("Социальное и медицинское страхование", "Подтверждение записи", "Код записи", "Приходите не раньше"),
}


def test_every_document_text_in_every_language_with_its_placeholders() -> None:
    import string

    from babel.messages.pofile import read_po

    for lang in doc_text.OTHER_LANGS:
        with doc_text.po_path(lang).open("rb") as f:
            texts = {str(m.id): str(m.string) for m in read_po(f) if m.id}
        assert set(texts) == set(doc_text.KEYS), lang
        for key, t in texts.items():
            assert t.strip(), f"{lang}: {key} is empty"
            names = {n for _l, n, _s, _c in string.Formatter().parse(t) if n}
            assert names == set(doc_text.KEYS[key]), f"{lang}: {key}"
        assert "How the terms were checked" in doc_text.po_path(lang).read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", ["ko", "ja", "ru"])
def test_appointment_pdf_in_the_applicant_language(lang: str, tmp_path: Path) -> None:
    """Chinese first, the second lines in the applicant's language (no English), every glyph embedded; each
    language's page is kept for a look."""
    domain, title, label, rules = APPOINTMENT_SECOND[lang]
    pdf = appointment_pdf(dataclasses.replace(APPOINTMENT, domain_en=domain, lang=lang))
    text = pdf_text(pdf, tmp_path)
    for expected in ("预约确认单", "预约编号", "YY-7K3Q9", "社保医保", "签到须知", "张*三"):
        assert expected in text
    for expected in (domain, title, label, rules):
        assert squeeze(expected) in squeeze(text), expected
    assert squeeze("Appointment Confirmation") not in text and squeeze("Booking code") not in text
    assert_cjk_font_embedded(pdf)
    (page,) = render_png(pdf, tmp_path)
    page.save(shots_dir() / f"appointment-pdf-{lang}.png")
    english = pdf_text(appointment_pdf(APPOINTMENT), tmp_path)
    assert squeeze("Appointment Confirmation") in english and squeeze(title) not in english
