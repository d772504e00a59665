"""Kivy screen set-up shared by the hall's Kivy programs (the lobby board and the kiosk)."""

from __future__ import annotations

from pathlib import Path

CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
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
        raise ScreenError(f"CJK font not found: {path} (apt-get install fonts-wqy-microhei)")
    LabelBase.register(DEFAULT_FONT, path)
