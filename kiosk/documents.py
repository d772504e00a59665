"""Identity documents at the kiosk: which one a card or a passport is (the server's `id_type`), and how a screen
names it — Chinese first, the kiosk's language on a second line (issue 22: 身份证 / 外国人永久居留身份证 /
港澳台居民居住证 / 护照).

The server's `id_type` values (`queue_server.identity.IdType`): resident, foreign_permanent, hk_mo_tw_permit,
passport; a card reader's `document` (`peripherals.idcard.card.DocumentKind`) maps onto them.
"""

from __future__ import annotations

from typing import Any, Final

from .strings import Lang, t

ID_TYPES: Final = ("resident", "foreign_permanent", "hk_mo_tw_permit", "passport")
_FROM_CARD: Final = {
    "resident": "resident",
    "hmt_residence_permit": "hk_mo_tw_permit",
    "foreign_permanent_resident": "foreign_permanent",
    "passport": "passport",
}


def id_type_of(card: Any) -> str:
    """The server's `id_type` of a card the reader returned (its `document`; a resident card when it has none)."""
    return _FROM_CARD.get(str(getattr(card, "document", "resident") or "resident"), "resident")


def doc_name(id_type: str, lang: Lang) -> str:
    """The document's name in `lang` (身份证, Passport, 여권 …)."""
    return t(f"doc_{id_type if id_type in ID_TYPES else 'resident'}", lang)


def doc_lines(key: str, id_type: str, lang: Lang) -> str:
    """The catalogue line `key` (with `{doc}`) naming the document: in Chinese, and in another language a second
    line in it ('已读取证件：护照' + newline + 'Document read: Passport')."""
    zh = t(key, "zh", doc=doc_name(id_type, "zh"))
    return zh if lang == "zh" else f"{zh}\n{t(key, lang, doc=doc_name(id_type, lang))}"
