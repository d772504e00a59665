"""The kiosk's one message catalogue (kiosk/strings.py): gettext .po files read with Babel, one per language.

A configured language that misses a string, or a {placeholder}, fails here; so does a key the code uses that the
template lacks (Babel's extraction over the kiosk's .py and .kv files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.strings import LANGS, both, extracted, known, messages, next_lang, po_path, problems, t, template


@pytest.mark.parametrize("lang", LANGS)
def test_every_configured_language_has_every_string(lang: str) -> None:
    assert po_path(lang).is_file()
    assert problems(lang) == []
    assert set(messages(lang)) == set(template())


def test_a_language_missing_a_string_or_a_placeholder_is_caught(tmp_path: Path) -> None:
    text = po_path("en").read_text(encoding="utf-8")
    broken = tmp_path / "kiosk.po"
    broken.write_text(
        text.replace('msgstr "Take a number"', 'msgstr ""').replace('msgstr "{n} waiting"', 'msgstr "{count} waiting"'),
        encoding="utf-8",
    )
    assert problems("xx", broken) == ["xx: take_number missing", "xx: waiting has ['count'], not ['n']"]


def test_every_key_the_code_names_is_in_the_template() -> None:
    found = extracted()
    assert {"take_number", "checkin_submit", "fb_next", "query_go", "choose_area"} <= set(found)  # every part
    # known: a template id, or several run together (Babel joins the literals of t("a" if x else "b"))
    unknown = {k: w for k, w in found.items() if not known(k)}
    assert unknown == {}


def test_lookups_and_the_two_language_form() -> None:
    assert t("take_number", "zh") == "取号" and t("take_number", "en") == "Take a number"
    assert t("waiting", "en", n=3) == "3 waiting"
    assert both("no_wait") == "无需等候 / No wait"
    assert t("phone_ok", "zh") == "确定"  # never "OK" in Chinese
    assert [next_lang(x) for x in LANGS] == [*LANGS[1:], LANGS[0]]
    assert t("fb_phrase_service_1", "zh") == "工作人员态度生硬"


def test_the_language_button_names_the_next_language_in_its_own_words() -> None:
    assert LANGS == ("zh", "en", "ko", "ja", "ru")  # 한국어: Weihai's foreign residents are largely Korean
    assert [t("language", x) for x in LANGS] == ["English", "한국어", "日本語", "Русский", "中文"]
    assert all(t("language", x) == t("language_name", next_lang(x)) for x in LANGS)
    assert t("take_number", "ko") == "번호표 뽑기" and t("waiting", "ko", n=3) == "대기 3명"
    assert both("no_wait") == "无需等候 / No wait"  # staff-facing pairs stay 中文 / English


def test_korean_screens_get_a_font_with_their_glyphs() -> None:
    from PIL import ImageFont

    from hall_client.screen import CJK_FONT, font_for

    def drawn(path: str) -> set[str]:  # the characters of the Korean catalogue the font has (not its missing box)
        font = ImageFont.truetype(path, 24, index=0)  # SDL_ttf opens a collection's first face
        box = bytes(font.getmask("\U0010fffd"))
        return {c for c in chars if bytes(font.getmask(c)) != box}

    chars = {c for lang in ("ko", "ja") for text in messages(lang).values() for c in text if not c.isspace()}
    assert font_for("zh") == font_for("en") == CJK_FONT  # Chinese glyph forms for Chinese
    assert font_for("ko") == font_for("ja") and drawn(font_for("ko")) == chars
