"""The documents' second lines in 한국어, 日本語, Русский (issue 22): Chinese first on every document, then English —
or the citizen's language, from the gettext catalogues ``peripherals/documents/locale/<lang>/LC_MESSAGES/
documents.po`` (msgid: a key such as ``appt_title``, msgstr: the text with the English's {placeholders}), read as
they are with Babel's `read_po` like the server's citizen.po. A key or language without a text falls back to the
English given; tests/peripherals/test_documents_languages.py fails on a missing one.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from hall_client.catalogue import by_id

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "documents"
OTHER_LANGS = ("ko", "ja", "ru")
# Every key with the {placeholders} its text takes.
KEYS: dict[str, frozenset[str]] = {
    "appt_title": frozenset(),
    "appt_code": frozenset(),
    "appt_service": frozenset(),
    "appt_time": frozenset(),
    "appt_name": frozenset(),
    "appt_id": frozenset(),
    "appt_address": frozenset(),
    "appt_show": frozenset(),
    "appt_rules": frozenset(),
    "appt_rules_text": frozenset(),
    # the self-submission receipt (queue_server/cases/documents.py `receipt_pdf`): its English second lines
    "receipt_title": frozenset(),
    "receipt_case_no": frozenset(),
    "receipt_query_code": frozenset(),
    "receipt_applicant": frozenset(),
    "receipt_matter": frozenset(),
    "receipt_situation": frozenset(),
    "receipt_submitted": frozenset(),
    "receipt_materials": frozenset(),
    "receipt_note": frozenset(),
}


class Catalogues:
    """The gettext catalogues `<locale_dir>/<lang>/LC_MESSAGES/<domain>.po` of `langs`, each read once
    (hall_client/catalogue.py; msgid: a key, msgstr: its text with {placeholders}); shared with
    queue_server/citizen_text.py."""

    def __init__(self, locale_dir: Path, domain: str, langs: tuple[str, ...]) -> None:
        self.locale_dir, self.domain, self.langs = locale_dir, domain, langs
        self.texts = cache(self._read)

    def po_path(self, lang: str) -> Path:
        """The catalogue file of `lang`."""
        return self.locale_dir / lang / "LC_MESSAGES" / f"{self.domain}.po"

    def _read(self, lang: str) -> Mapping[str, str]:
        """Every text of `lang` by key (empty for a language without a catalogue)."""
        path = self.po_path(lang)
        if lang not in self.langs or not path.is_file():
            return {}
        return {key: text for key, text in by_id(path).items() if text}

    def second(self, lang: str | None, key: str, en: str, **fields: object) -> str:
        """`key` in `lang` filled with `fields`, else `en` (a language or key without a text)."""
        text = self.texts(lang).get(key) if lang in self.langs else None
        return text.format(**fields) if text else en


DOCUMENTS = Catalogues(LOCALE_DIR, DOMAIN, OTHER_LANGS)
po_path = DOCUMENTS.po_path
catalogue = DOCUMENTS.texts


def second(lang: str | None, key: str, en: str, **fields: object) -> str:
    """A document's second line: `key` in `lang` (ko, ja, ru) filled with `fields`, else `en`."""
    return DOCUMENTS.second(lang, key, en, **fields)
