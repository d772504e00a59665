"""The kiosk's one message catalogue: every citizen-facing string of every part (take a number, check-in, booking,
self-submission, case query, pickup, complaints), in gettext catalogues read with Babel.

- `kiosk/locale/kiosk.pot`, the template: every message id (a key such as `take_number`), with the Chinese and
  English text as comments for translators;
- `kiosk/locale/<lang>/LC_MESSAGES/kiosk.po`, one per language: the text of every id in that language.

Adding a language is one `.po` file: copy the template to
`kiosk/locale/<lang>/LC_MESSAGES/kiosk.po`, fill in every `msgstr` (`language_name`: the
language's own name, which the language button of the language before it shows), add the language to `LANGS`.
`tests/kiosk/test_strings.py` fails while a configured language misses a string or a `{placeholder}`.
The `.po` files are read as they are (Babel's `read_po`, once per language): no compile step, no `.mo` files.

`python -m kiosk.strings extract` runs Babel's extraction over the kiosk's sources (`t("key", …)`, `both(…)`,
`text(…)`, `Tile("key", …)` in Python, `tx["key"]` in the .kv files) and lists the ids the code uses that the
template lacks.
The .kv files hold no text of their own: they show `app.tx[...]`, the catalogue in the kiosk's language.
"""

from __future__ import annotations

import contextlib
import io
import re
import string
import sys
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import IO, Any

from hall_client.catalogue import by_id

Lang = str  # a language code of LANGS
# the languages the kiosk offers (each .po complete), the hall's own first
LANGS: tuple[str, ...] = ("zh", "en", "ko", "ja", "ru")
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "kiosk"
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
DERIVED = ("language",)  # template ids no .po holds: made from other entries (see `messages`)


def po_path(lang: str) -> Path:
    """The catalogue file of `lang`."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _read(path: Path) -> dict[str, str]:
    return by_id(path)  # the project's one catalogue reader


@cache
def messages(lang: Lang) -> Mapping[str, str]:
    """Every message of `lang`, unformatted (what the .kv files show as `app.tx[key]`); a string the language
    lacks falls back to the first language's (the tests make sure none is missing)."""
    own = _read(po_path(lang))
    # the language button shows the next language in that language's own words (中文 → English → 한국어 → 中文)
    derived = {k: _read(po_path(next_lang(lang)))["language_name"] for k in DERIVED}
    if lang == LANGS[0]:
        return own | derived
    return {k: (own.get(k) or v) for k, v in messages(LANGS[0]).items()} | derived


@cache
def template() -> frozenset[str]:
    """The message ids of the template."""
    return frozenset(_read(TEMPLATE))


def t(key: str, lang: Lang, **kw: object) -> str:
    """The string `key` in `lang`, formatted with `kw`."""
    return messages(lang)[key].format(**kw)


def both(key: str, sep: str = " / ", **kw: object) -> str:
    """The string in the first two languages (Chinese first, then English): banners, staff-facing reports."""
    return t(key, LANGS[0], **kw) + sep + t(key, LANGS[1], **kw)


def name_in(lang: Lang, name: str, name_en: str, names: Iterable[tuple[str, str]] = ()) -> str:
    """A service's or an item's name in `lang`: English for English, its own name in ko/ja/ru (`names`, pairs of
    language and name), else the Chinese name (issue 22)."""
    if lang == "en":
        return name_en or name
    return dict(names).get(lang) or name


def next_lang(lang: Lang) -> Lang:
    """The language after `lang` (the top bar's language button goes round them)."""
    i = LANGS.index(lang) if lang in LANGS else -1
    return LANGS[(i + 1) % len(LANGS)]


# --- extraction (Babel) ---------------------------------------------------------------------------------------

KEYWORDS = {"t": None, "both": None, "text": None, "tx": None, "Tile": None}  # Tile(key, …): a part's home tile
KV_KEY = re.compile(r"""\btx\[\s*["']([a-z0-9_]+)["']\s*\]""")


def extract_kv(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extraction method for Kivy .kv files: every `tx["key"]`."""
    for n, line in enumerate(fileobj.read().decode("utf-8").splitlines(), 1):
        for m in KV_KEY.finditer(line):
            yield n, "tx", m.group(1), []


def extracted() -> dict[str, list[str]]:
    """Every message id the kiosk's sources name literally, with where (Babel's extract_from_dir)."""
    from babel.messages.extract import extract_from_dir

    root = Path(__file__).parent
    method_map = [("**.py", "python"), ("**.kv", "kiosk.strings:extract_kv")]
    found: dict[str, list[str]] = {}
    # text(f"light_{…}"): keys built at run time are listed in the template; Babel's note on each goes nowhere
    with contextlib.redirect_stderr(io.StringIO()):
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(root), method_map=method_map, keywords=KEYWORDS
        ):
            key = message if isinstance(message, str) else message[0]
            if re.fullmatch(r"[a-z][a-z0-9_]*", key or ""):
                found.setdefault(key, []).append(f"{filename}:{lineno}")
    return found


def problems(lang: Lang, path: Path | None = None) -> list[str]:
    """What the catalogue of `lang` (or the .po file at `path`) lacks: every template id with a text, the same
    {placeholders} as the first language's. Empty when the language is complete."""
    own = _read(path or po_path(lang))
    base = _read(po_path(LANGS[0]))
    out = []
    for key in sorted(template() - set(DERIVED)):
        text = own.get(key, "")
        if not text.strip():
            out.append(f"{lang}: {key} missing")
        elif _fields(text) != _fields(base.get(key, "")):
            out.append(f"{lang}: {key} has {sorted(_fields(text))}, not {sorted(_fields(base.get(key, '')))}")
    out += [f"{lang}: {key} is not in the template" for key in sorted(set(own) - template())]
    return out


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def known(key: str) -> bool:
    """Whether `key` is a template id, or several run together: Babel joins the literals of
    `t("a" if x else "b")` into one message "ab"."""
    ids = template()
    ok = [True] + [False] * len(key)  # ok[i]: key[:i] is made of ids
    for i in range(1, len(key) + 1):
        ok[i] = any(ok[j] and key[j:i] in ids for j in range(i))
    return ok[-1]


def main(argv: list[str]) -> int:
    """`python -m kiosk.strings extract`: the ids the code uses that the template lacks (exit 1 when any)."""
    if argv[:1] != ["extract"]:
        print(__doc__)
        return 2
    missing = {k: w for k, w in extracted().items() if not known(k)}
    for key, where in sorted(missing.items()):
        print(f"{key}: {', '.join(where)}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
