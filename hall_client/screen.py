"""Kivy screen set-up shared by the hall's Kivy programs (the lobby board and the kiosk)."""

from __future__ import annotations

from pathlib import Path

CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
# 한국어 and 日本語 in Noto Sans CJK (Debian fonts-noto-cjk): WenQuanYi Micro Hei has Hangul and kana too (fontconfig
# lists ko, ja), but drawn as an afterthought; Noto's are designed with them, and the .ttc's first face (what SDL_ttf
# opens) is Noto Sans CJK JP, the Japanese forms of the Han characters, which a Japanese reader expects.
NOTO_CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
LANG_FONTS = {"ko": NOTO_CJK_FONT, "ja": NOTO_CJK_FONT}  # any other language: CJK_FONT (Chinese glyph forms)
LANDSCAPE = (1920, 1080)
PORTRAIT = (1080, 1920)


class ScreenError(Exception):
    """A Kivy program cannot start (missing font)."""


def configure_window(*, portrait: bool, fullscreen: bool) -> None:
    """Set Kivy's window config; call before anything imports `kivy.core.window`."""
    from kivy.config import Config  # type: ignore[import-untyped]

    w, h = PORTRAIT if portrait else LANDSCAPE
    Config.set("graphics", "width", str(w))
    Config.set("graphics", "height", str(h))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")


def register_font(path: str = CJK_FONT) -> None:
    """Make the CJK font Kivy's default, or fail loudly: without it Chinese shows as boxes."""
    from kivy.core.text import DEFAULT_FONT, LabelBase  # type: ignore[import-untyped]

    if not Path(path).is_file():
        raise ScreenError(f"CJK font not found: {path} (apt-get install fonts-wqy-microhei fonts-noto-cjk)")
    LabelBase.register(DEFAULT_FONT, path)


def font_for(lang: str) -> str:
    """The font file the screens of `lang` are drawn in."""
    return LANG_FONTS.get(lang, CJK_FONT)


def use_font(lang: str) -> None:
    """Draw what is rendered from now on in `lang`'s font (Kivy has no fallback font: one default for the text on
    screen; a label re-renders in it when its text changes, as every label does when the language does)."""
    register_font(font_for(lang))
