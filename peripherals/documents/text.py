"""The documents' second lines in 한국어, 日本語, Русский (issue 22) — the printed ticket, the appointment confirmation,
the self-submission receipt: Chinese first on every document, then English —
or the citizen's language, from the gettext catalogues ``peripherals/documents/locale/<lang>/LC_MESSAGES/
documents.po`` (msgid: a key such as ``appt_title``, msgstr: the text with the English's {placeholders}), read as
they are with Babel's `read_po` like the server's citizen.po. A key or language without a text falls back to the
English given; tests/peripherals/test_documents_languages.py fails on a missing one.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from hall_client.catalogue import Domain

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
    # the printed ticket's second lines (`ticket_text` below: the thermal slip and the ticket PDF; their
    # English stays in each layout)
    "ticket_ahead": frozenset({"n"}),
    "ticket_about": frozenset({"m"}),
    "ticket_no_wait": frozenset(),
    "ticket_next": frozenset(),
    "ticket_priority": frozenset(),
    "ticket_appointment": frozenset(),
    "ticket_scan": frozenset(),
    "ticket_missed": frozenset(),
    "ticket_privacy": frozenset(),
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
        self.domain = Domain(locale_dir, domain, langs)  # the files and their reading: hall_client's
        self.langs = langs
        self.po_path = self.domain.po_path  # the catalogue file of a language
        self.texts = cache(self._read)

    def _read(self, lang: str) -> Mapping[str, str]:
        """Every text of `lang` by key (empty for a language without a catalogue)."""
        return {key: text for (_context, key), text in self.domain.texts(lang).items()}

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


def ticket_text(key: str, lang: str, **fields: object) -> str:
    """The printed ticket's line `key` (`ahead`, `scan`, …: the catalogue's `ticket_<key>`) in `lang` (one of
    OTHER_LANGS), formatted: the thermal ticket (printer/layout.py) and the ticket PDF (documents/ticket.py) print
    Chinese first, then English — or, when the number was taken in 한국어, 日本語 or Русский, that language's line
    from here (English stays in each layout)."""
    return catalogue(lang)[f"ticket_{key}"].format(**fields)


def wait_line(lang: str, people_ahead: int, wait_min: int | None, *, nobody: str = "no_wait") -> str:
    """ "앞에 7명 대기 · 약 15분" (the estimate left out when unknown), or `nobody`'s text when no one is ahead."""
    if people_ahead <= 0:
        return ticket_text(nobody, lang)
    line = ticket_text("ahead", lang, n=people_ahead)
    return line if wait_min is None else f"{line} · {ticket_text('about', lang, m=wait_min)}"
