"""The CJK font every document embeds, registered with reportlab on first use.

reportlab embeds a *subset* of a TrueType font (only the glyphs used, as ``/FontFile2``), so any viewer
and any PDF printer shows the Chinese text without fonts of its own. What works and what does not:

* WenQuanYi Micro Hei (Debian package ``fonts-wqy-microhei``, 1 MB installed) is a TrueType collection;
  reportlab needs ``subfontIndex=0`` to pick its first face (1 is the monospaced variant).
* Noto Sans CJK (``fonts-noto-cjk``) is OpenType with CFF outlines: reportlab refuses it with
  "postscript outlines are not supported".
* reportlab's built-in CID font ``STSong-Light`` is *not* embedded; a viewer without Chinese fonts (or
  poppler without ``poppler-data``) shows nothing or boxes. We never use it.

WenQuanYi Micro Hei has one weight: emphasis in our documents is size, never bold.

Line breaking: reportlab's CJK wrapper keeps a character that "cannot start a line" on the previous line
(hanging it in the margin), but its table is Japanese and lacks the full-width Chinese comma, colon,
semicolon, question and exclamation marks and closing quotes, so a line could start with "，". Registering
the font therefore also adds those (`CHINESE_CANNOT_START`) to reportlab's table: a process-wide change to a
reportlab setting, like the font registry itself, done once, on first use, never at import.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from reportlab.lib import textsplit as rl_textsplit  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFError, TTFont  # type: ignore[import-untyped]
from reportlab.platypus import paragraph as rl_paragraph  # type: ignore[import-untyped]

from .errors import FontUnavailable

DEFAULT_CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_PACKAGE = "fonts-wqy-microhei"
"""The Debian package that provides `DEFAULT_CJK_FONT`."""

CHINESE_CANNOT_START = "，。、；：？！）》」』】〕〉”’…—·"
"""Full-width punctuation that must not begin a line of Chinese text."""

_register_lock = threading.Lock()


def _extend_line_break_rules() -> None:
    """Add `CHINESE_CANNOT_START` to reportlab's CJK line-breaking tables (idempotent).

    reportlab keeps two copies: `textsplit` wraps single-style paragraphs, `paragraph` mixed-style ones.
    """
    for module in (rl_textsplit, rl_paragraph):
        current: str = module.ALL_CANNOT_START
        missing = "".join(c for c in CHINESE_CANNOT_START if c not in current)
        if missing:
            module.ALL_CANNOT_START = current + missing


def cjk_font(path: str | Path | None = None) -> str:
    """Register the CJK TrueType font at `path` (default: WenQuanYi Micro Hei) once; return its reportlab name.

    Raises FontUnavailable naming the file and the Debian package to install when the file is missing,
    and reportlab's reason when the file is not a TrueType font it can embed.
    """
    font_path = Path(path) if path is not None else DEFAULT_CJK_FONT
    name = "CJK-" + hashlib.sha256(str(font_path).encode()).hexdigest()[:12]  # one registration per file
    with _register_lock:
        _extend_line_break_rules()
        if name in pdfmetrics.getRegisteredFontNames():
            return name
        if not font_path.is_file():
            hint = f" (install the Debian package {FONT_PACKAGE})" if font_path == DEFAULT_CJK_FONT else ""
            raise FontUnavailable(f"CJK font {font_path} not found{hint}; Chinese text cannot be rendered")
        try:
            font = TTFont(name, str(font_path), subfontIndex=0)
        except (TTFError, OSError) as exc:
            raise FontUnavailable(f"CJK font {font_path} cannot be embedded by reportlab: {exc}") from exc
        pdfmetrics.registerFont(font)
    return name
