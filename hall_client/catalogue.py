"""A gettext domain read with Babel: the web pages' (queue_server/web_text.py) and the Kivy board's
(display_board/strings.py) citizen strings (issue 22), and the reader of every other catalogue.

- `<locale_dir>/<domain>.pot`, the template: every message a source names, Babel-extracted (`Domain.template_from`);
- `<locale_dir>/<lang>/LC_MESSAGES/<domain>.po`, one per language: the text of every message in that language.

A message is a key (`msgid`, such as `go_window`), optionally in a context (`msgctxt`: the web page it belongs to,
so that the tracking page's `wait` and the board's `wait` are two messages). Texts take `{placeholders}` (str.format
in Python, the same `{name}` filled by the pages' JavaScript). The .po files are read as they are (Babel's `read_po`,
once a file): no compile step, no .mo files. `read` is the one reader of every catalogue in the project: the kiosk's
(kiosk/strings.py), the documents' and the server's citizen sentences (peripherals/documents/text.py) read their
context-less domains through `by_id`.
"""

from __future__ import annotations

import io
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

Key = tuple[str | None, str]  # (context, message id)


@cache
def read(path: Path) -> Mapping[Key, str]:
    """Every message of the .po/.pot file at `path` by (context, id), with its text ("" when untranslated)."""
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        catalog = read_po(f)
    return {(m.context, str(m.id)): str(m.string or "") for m in catalog if m.id and isinstance(m.id, str)}


def by_id(path: Path) -> dict[str, str]:
    """The messages of a domain without contexts (`read`): text by message id ("" when untranslated)."""
    return {msgid: text for (_context, msgid), text in read(path).items()}


def fields(text: str) -> set[str]:
    """The {placeholders} of a text."""
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


@dataclass(frozen=True)
class Domain:
    """One gettext domain: its template and a .po file for each of `langs` (the first is the reference whose
    placeholders every other language's text must have)."""

    locale_dir: Path
    name: str
    langs: tuple[str, ...]

    @property
    def template(self) -> Path:
        return self.locale_dir / f"{self.name}.pot"

    def po_path(self, lang: str) -> Path:
        """The catalogue file of `lang`."""
        return self.locale_dir / lang / "LC_MESSAGES" / f"{self.name}.po"

    def texts(self, lang: str) -> Mapping[Key, str]:
        """Every translated message of `lang` (empty for a language without a catalogue)."""
        path = self.po_path(lang)
        if lang not in self.langs or not path.is_file():
            return {}
        return {k: v for k, v in read(path).items() if v}

    def problems(self, lang: str) -> list[str]:
        """What the catalogue of `lang` lacks: a text for every template message, with the first language's
        {placeholders}; a message the template does not have is one too. Empty when the language is complete."""
        own, base = self.texts(lang), self.texts(self.langs[0])
        template = set(read(self.template))
        out = []
        for key in sorted(template, key=_order):
            where = f"{lang}: {_show(key)}"
            if key not in own:
                out.append(f"{where} missing")
            elif fields(own[key]) != fields(base.get(key, "")):
                out.append(f"{where} has {sorted(fields(own[key]))}, not {sorted(fields(base.get(key, '')))}")
        out += [f"{lang}: {_show(k)} is not in the template" for k in sorted(set(own) - template, key=_order)]
        return out

    def template_from(self, found: Iterable[tuple[Key, str]], how: str) -> bytes:
        """The template (.pot) of the messages `found` — (context, id) and where ("file:line") — as Babel's
        `write_po` writes it, messages in order, without dates, under a comment saying `how` it is made."""
        from babel.messages.catalog import Catalog
        from babel.messages.pofile import write_po

        catalog = Catalog(project=f"hall {self.name}")
        for (context, msgid), where in found:
            path, _, line = where.rpartition(":")
            catalog.add(msgid, context=context, locations=[(path, int(line))])
        out = io.BytesIO()
        write_po(out, catalog, omit_header=True, sort_output=True, width=120)
        return f"# The {self.name} domain's template, {how}.\n\n".encode() + out.getvalue()


def _order(key: Key) -> tuple[str, str]:
    return (key[0] or "", key[1])


def _show(key: Key) -> str:
    return f"{key[0]}/{key[1]}" if key[0] else key[1]
