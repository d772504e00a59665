"""The Kivy board's citizen-facing texts (issue 22), in the gettext domain `board`:

- `display_board/locale/board.pot`, the template: every message id (a key such as `call_line`) the board's code
  names, Babel-extracted;
- `display_board/locale/<lang>/LC_MESSAGES/board.po`, one per language (中文, English, 한국어, 日本語, Русский): the
  text of every id, with the Chinese one's {placeholders} (str.format fields).

The first line is Chinese (`zh`), the second goes round the hall's languages (`second`). The words are the web
board's (queue_server/locale/*/LC_MESSAGES/web.po, context board) and the kiosk's: 번호 / 창구 (ko), 番号 / 窓口
(ja), номер / окно (ru); each .po's header says how they were checked. The .po files are read as they are (Babel's
`read_po`, once each): no compile step.

`python -m display_board.strings extract` runs Babel's Python extractor over the board's sources (`zh("key")`,
`en(…)`, `second(…)`, `both(…)`) and rewrites the template; tests/display_board/test_board_languages.py fails when
the template is not what the sources name, or when a language lacks a text or a placeholder.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hall_client.catalogue import Domain, Key, read

LANGS: tuple[str, ...] = ("zh", "en", "ko", "ja", "ru")
BOARD = Domain(Path(__file__).with_name("locale"), "board", LANGS)
KEYWORDS = {"zh": None, "en": None, "second": None, "both": None}
# ids the code builds at run time (view.py: a stopped window's status), listed here for the template
RUNTIME = ("paused", "closed")


def _text(lang: str, key: str) -> str:
    # a language or key without a text shows in English (the tests keep every language complete)
    return BOARD.texts(lang).get((None, key)) or BOARD.texts("en")[(None, key)]


def zh(key: str, **fields: object) -> str:
    """The Chinese text of `key`, formatted."""
    return _text("zh", key).format(**fields)


def en(key: str, **fields: object) -> str:
    """The English text of `key`, formatted."""
    return _text("en", key).format(**fields)


def second(key: str, lang: str, **fields: object) -> str:
    """The second line of `key` in `lang` (English for a language without a catalogue), formatted."""
    return _text(lang, key).format(**fields)


def both(key: str, sep: str = "  ", **fields: object) -> str:
    """Chinese then English, separated by `sep`."""
    return zh(key, **fields) + sep + en(key, **fields)


KV_KEY = re.compile(r"""\bs\.(?:zh|en|second|both)\(\s*["']([a-z0-9_]+)["']""")


def _extract_kv(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[Any]:
    """Babel extraction method for the .kv file: every `s.zh("key")`, `s.second("key", …)`, `s.both("key")`."""
    for n, text in enumerate(fileobj.read().decode("utf-8").splitlines(), 1):
        for m in KV_KEY.finditer(text):
            yield n, "zh", m.group(1), []


def extracted() -> list[tuple[Key, str]]:
    """Every message id the board's sources name, with where ("display_board/<file>:<line>"), and RUNTIME's."""
    from babel.messages.extract import extract_from_dir

    root = Path(__file__).parent
    found: list[tuple[Key, str]] = [((None, key), "display_board/strings.py:0") for key in RUNTIME]
    with contextlib.redirect_stderr(io.StringIO()):  # Babel's note on each call with a variable id
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(root),
            method_map=[("**.py", "python"), ("**.kv", "display_board.strings:_extract_kv")],
            keywords=KEYWORDS,
        ):
            key = message if isinstance(message, str) else message[0]
            if re.fullmatch(r"[a-z][a-z0-9_]*", key or ""):
                found.append(((None, key), f"display_board/{filename}:{lineno}"))
    return found


def template_problems() -> list[str]:
    """How the template differs from what the sources name (empty when it is up to date)."""
    named, kept = {k for k, _ in extracted()}, set(read(BOARD.template))
    return [f"{k[1]}: named by the board, not in board.pot" for k in sorted(named - kept, key=str)] + [
        f"{k[1]}: in board.pot, named by nothing" for k in sorted(kept - named, key=str)
    ]


def main(argv: list[str]) -> int:
    """`python -m display_board.strings extract`: rewrite board.pot from the sources."""
    if argv[:1] != ["extract"]:
        print(__doc__)
        return 2
    how = "written by `python -m display_board.strings extract` (Babel) from the board's sources; do not edit"
    BOARD.template.write_bytes(BOARD.template_from(extracted(), how))
    print(f"wrote {BOARD.template}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
