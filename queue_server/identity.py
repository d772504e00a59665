"""Identity documents of the appointment and case APIs: the document type, its validation, look-up key and mask.

A citizen books, checks in and self-submits with one of four documents (`id_type`):

- ``resident``: 居民身份证, a GB 11643 number (`ids.validate_id_number`);
- ``hk_mo_tw_permit``: 港澳台居民居住证, a GB 11643 number whose region is 81, 82 or 83;
- ``foreign_permanent``: 外国人永久居留身份证, 2017 or 2023 edition (`ids.validate_permanent_residence_number`);
- ``passport``: a passport number as its machine-readable zone holds it (5–9 letters and digits, ICAO 9303
  Part 4's document number field) with the holder's nationality, an ISO 3166-1 alpha-3 code (from
  `pycountry`, the maintained copy of the ISO tables) or one of ICAO 9303 Part 3's few extra codes.

A request without `id_type` is read as before: the number's shape says which of the first three it is
(`ids.validate_identity_number`), so old clients keep working. The look-up key (what `PiiCipher.keyed_hash`
hashes) of the first three is the number itself, as before; a passport's is ``passport:<nationality>:<number>``,
so two countries' passports with the same number never meet, and no passport meets an ID number.

Pure: no I/O. Errors are `InvalidIdNumber` with a Chinese and an English sentence that never repeat the number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal, get_args

from .ids import (
    InvalidIdNumber,
    mask_id_number,
    validate_id_number,
    validate_identity_number,
    validate_permanent_residence_number,
)

__all__ = ["ID_TYPES", "ID_TYPE_DOC", "NATIONALITY_DOC", "IdType", "Identity", "document", "nationality_code"]

IdType = Literal["resident", "foreign_permanent", "hk_mo_tw_permit", "passport"]
ID_TYPES: Final = get_args(IdType)
ID_TYPE_DOC: Final = (
    "the document: resident (居民身份证), foreign_permanent (外国人永久居留身份证), "
    "hk_mo_tw_permit (港澳台居民居住证) or passport; left out: told by the number's shape, as before"
)
NATIONALITY_DOC: Final = "the holder's nationality, ISO 3166-1 alpha-3 (KOR); needed for a passport"

_PERMIT_REGIONS: Final = ("81", "82", "83")
_PASSPORT = re.compile(r"[A-Z0-9]{5,9}")
_NATIONALITY = re.compile(r"[A-Z]{1,3}")
# ICAO 9303 Part 3's codes that are not ISO 3166-1 (British nationals' variants, UN documents, Kosovo,
# stateless persons and refugees). Germany writes "D" in its zones: it is read as DEU.
_ICAO_EXTRA: Final = frozenset(
    {"GBD", "GBN", "GBO", "GBP", "GBS", "UNO", "UNA", "UNK", "RKS", "EUE", "XXA", "XXB", "XXC", "XXX"}
)
_ICAO_ALIASES: Final = {"D": "DEU"}

_MESSAGES: Final = {
    "passport_empty": ("请输入护照号码", "Please enter the passport number"),
    "passport_format": (
        "护照号码应为5至9位字母或数字，请核对",
        "A passport number has 5 to 9 letters and digits; please check it",
    ),
    "nationality_empty": (
        "护照需注明国籍（三位字母代码，如 KOR）",
        "A passport needs the holder's nationality (a three-letter code such as KOR)",
    ),
    "nationality": (
        "国籍代码不正确，应为三位字母代码（ISO 3166，如 KOR、JPN、RUS）",
        "Unknown nationality: use the three-letter ISO 3166 code (such as KOR, JPN, RUS)",
    ),
    "is_permit": (
        "这是港澳台居民居住证号码，请选择证件类型“港澳台居民居住证”",
        "This is a Hong Kong, Macao or Taiwan residence permit number: choose that document type",
    ),
    "not_permit": (
        "港澳台居民居住证号码应以81、82或83开头，请核对",
        "A Hong Kong, Macao or Taiwan residence permit number starts with 81, 82 or 83; please check it",
    ),
}


def _error(code: str) -> InvalidIdNumber:
    zh, en = _MESSAGES[code]
    return InvalidIdNumber(zh, en, code)


@dataclass(frozen=True, slots=True)
class Identity:
    """A validated identity document: its type, the number in canonical form, the nationality (or None)."""

    id_type: IdType
    number: str
    nationality: str | None = None

    @property
    def key(self) -> str:
        """What the keyed hash is taken of: the number, or for a passport its nationality and number."""
        if self.id_type == "passport":
            return f"passport:{self.nationality}:{self.number}"
        return self.number

    @property
    def masked(self) -> str:
        """The number as screens and answers show it (first and last four of an ID number; a passport's last two)."""
        return mask_id_number(self.number)


def nationality_code(value: str) -> str:
    """An ISO 3166-1 alpha-3 code (or ICAO 9303's extra codes) in capitals; InvalidIdNumber otherwise."""
    import pycountry  # here: only a passport's nationality needs the ISO tables

    code = "".join(value.split()).upper().strip("<")
    code = _ICAO_ALIASES.get(code, code)
    if not code:
        raise _error("nationality_empty")
    if not _NATIONALITY.fullmatch(code) or (code not in _ICAO_EXTRA and pycountry.countries.get(alpha_3=code) is None):
        raise _error("nationality")
    return code


def _type_of(number: str) -> IdType:
    """The type an already validated number of `validate_identity_number` has, by its shape."""
    if len(number) == 15 or number.startswith("9"):
        return "foreign_permanent"
    return "hk_mo_tw_permit" if number.startswith(_PERMIT_REGIONS) else "resident"


def document(
    id_type: IdType | None, number: str, nationality: str | None = None, *, today: date | None = None
) -> Identity:
    """Validate a document's number by its type (None: by the number's shape, as before types existed).

    A nationality is required for a passport and checked whenever given. InvalidIdNumber says what is wrong.
    """
    nat = nationality_code(nationality) if nationality else None
    if id_type is None:
        canonical = validate_identity_number(number, today=today)
        return Identity(_type_of(canonical), canonical, nat)
    if id_type == "passport":
        text = "".join(number.split()).upper()
        if not text:
            raise _error("passport_empty")
        if not _PASSPORT.fullmatch(text):
            raise _error("passport_format")
        if nat is None:
            raise _error("nationality_empty")
        return Identity("passport", text, nat)
    if id_type == "foreign_permanent":
        return Identity(id_type, validate_permanent_residence_number(number, today=today), nat)
    canonical = validate_id_number(number, today=today)
    if id_type == "resident" and canonical.startswith(_PERMIT_REGIONS):
        raise _error("is_permit")
    if id_type == "hk_mo_tw_permit" and not canonical.startswith(_PERMIT_REGIONS):
        raise _error("not_permit")
    return Identity(id_type, canonical, nat)
