"""Identity numbers (GB 11643-1999 resident ID numbers, foreigners' permanent residence numbers) and
mobile numbers: validation, derived facts and masking.

Permanent residence numbers (外国人永久居留身份证号码) come in two editions:

- 2017 edition, 15 characters: the nationality's ISO 3166-1 alpha-3 code, the 4-digit code of the city
  that took the application, the birth date as YYMMDD, one sequence digit (odd for men) and a check
  digit computed like ICAO 9303's (weights 7, 3, 1; A–Z count 10–35) over the first 14 characters.
- 2023 edition (issued since 2023-12-01), 18 characters shaped like a resident ID number: "9", the
  2-digit province code, the nationality's ISO 3166-1 numeric code, the birth date as YYYYMMDD, three
  sequence digits (odd for men) and GB 11643's MOD 11-2 check character (国家移民管理局《新版外国人永久
  居留身份证机读信息规则》, 2023). Its birth date and sex sit where a resident ID number has them, so
  `birth_date` and `sex` below work on it unchanged.

Everything here is pure: no I/O, no clock reads except ``date.today()`` when no ``today`` is given.
Error messages are bilingual, written for the citizen at the kiosk, and never contain the number itself.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from datetime import date
from typing import Final, Literal

__all__ = [
    "InvalidIdNumber",
    "InvalidPhone",
    "age_on",
    "birth_date",
    "check_character",
    "icao_check_digit",
    "make_id_number",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "sex",
    "validate_id_number",
    "validate_identity_number",
    "validate_permanent_residence_number",
    "validate_phone",
]

ID_LENGTH: Final = 18
EARLIEST_BIRTH_DATE: Final = date(1900, 1, 1)

# ISO 7064 MOD 11-2 as used by GB 11643-1999: weight i is 2**(17 - i) mod 11 for positions 1..17.
_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_MAP: Final = "10X98765432"

# First two digits: provinces, autonomous regions and municipalities, plus 71/81/82/83 for Taiwan,
# Hong Kong and Macau (residence permits for residents of those regions use 81, 82 and 83).
_PROVINCE_CODES: Final = frozenset(
    (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        *(71, 81, 82, 83),
    )
)

_DIGITS17 = re.compile(r"[0-9]{17}[0-9X]")
_PR2017 = re.compile(r"[A-Z]{3}[0-9]{12}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")

# Kiosk keyboards and IMEs often produce full-width forms; map them to ASCII before checking.
_FULL_WIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "Ｘ": "X", "ｘ": "x", "＋": "+", "－": "-"}
)


class _BilingualError(ValueError):
    """A ValueError with a Chinese and an English message for the citizen."""

    def __init__(self, message_zh: str, message_en: str, code: str = "invalid") -> None:
        super().__init__(message_zh, message_en, code)
        self.message_zh = message_zh
        self.message_en = message_en
        self.code = code

    def __str__(self) -> str:
        return f"{self.message_zh} / {self.message_en}"


class InvalidIdNumber(_BilingualError):
    """The resident ID number is not acceptable; ``code`` says why, the messages say it to the citizen.

    Codes: ``empty``, ``length``, ``not_digits``, ``region``, ``birth_date``, ``check_digit``.
    """


class InvalidPhone(_BilingualError):
    """The mobile number is not acceptable; ``code`` is ``empty`` or ``format``."""


_ID_MESSAGES: Final = {
    "empty": ("请输入身份证号码", "Please enter your ID number"),
    "length": (
        "身份证号码应为18位，您输入了{n}位，请核对",
        "An ID number has 18 characters but {n} were entered; please check it",
    ),
    "not_digits": (
        "身份证号码前17位应为数字，最后一位为数字或X，请核对",
        "The first 17 characters of an ID number must be digits and the last a digit or X; please check it",
    ),
    "region": (
        "身份证号码开头的地区代码不正确，请核对",
        "The ID number does not start with a valid region code; please check it",
    ),
    "birth_date": (
        "身份证号码中的出生日期（第7至14位）不正确，请核对",
        "The date of birth in the ID number (characters 7 to 14) is not possible; please check it",
    ),
    "check_digit": (
        "身份证号码校验位不正确，请核对",
        "The ID number's check digit is wrong; please check it",
    ),
}

_PR_MESSAGES: Final = {
    "empty": ("请输入永久居留身份证号码", "Please enter your permanent residence ID number"),
    "length": (
        "永久居留身份证号码应为15位或18位，您输入了{n}位，请核对",
        "A permanent residence ID number has 15 or 18 characters but {n} were entered; please check it",
    ),
    "not_digits": (
        "永久居留身份证号码格式不正确（3个字母加12位数字，或以9开头的18位），请核对",
        "A permanent residence ID number is 3 letters and 12 digits, or 18 characters starting with 9; please check it",
    ),
    "birth_date": (
        "永久居留身份证号码中的出生日期不正确，请核对",
        "The date of birth in the permanent residence ID number is not possible; please check it",
    ),
    "check_digit": (
        "永久居留身份证号码校验位不正确，请核对",
        "The permanent residence ID number's check digit is wrong; please check it",
    ),
}


def _id_error(code: str, length: int = 0) -> InvalidIdNumber:
    zh, en = _ID_MESSAGES[code]
    return InvalidIdNumber(zh.format(n=length), en.format(n=length), code)


def _compact(value: str) -> str:
    """Map full-width forms to ASCII and drop all whitespace."""
    return "".join(value.translate(_FULL_WIDTH).split())


def check_character(first17: str) -> str:
    """The GB 11643 check character (``0``-``9`` or ``X``) for the first 17 digits of an ID number."""
    if len(first17) != ID_LENGTH - 1 or not first17.isascii() or not first17.isdigit():
        raise ValueError("check_character needs exactly 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_MAP[total % 11]


def _parse_birth(digits8: str) -> date | None:
    """The date encoded as YYYYMMDD, or None when it is not a real calendar date."""
    try:
        return date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        return None


def validate_id_number(value: str, *, today: date | None = None) -> str:
    """Check a mainland resident ID number and return its 18-character form with an uppercase X."""
    number = _compact(value).upper()
    if not number:
        raise _id_error("empty")
    if len(number) != ID_LENGTH:
        raise _id_error("length", len(number))
    if not _DIGITS17.fullmatch(number):
        raise _id_error("not_digits")
    if int(number[:2]) not in _PROVINCE_CODES:
        raise _id_error("region")
    born = _parse_birth(number[6:14])
    limit = date.today() if today is None else today
    if born is None or born < EARLIEST_BIRTH_DATE or born > limit:
        raise _id_error("birth_date")
    if check_character(number[:17]) != number[17]:
        raise _id_error("check_digit")
    return number


def icao_check_digit(text: str) -> str:
    """ICAO 9303's check digit of `text` (digits, A–Z as 10–35, `<` as 0; weights 7, 3, 1 repeating).

    Used by passport machine-readable zones and by 2017-edition permanent residence numbers. ValueError for
    any other character.
    """
    total = 0
    for i, ch in enumerate(text):
        if "0" <= ch <= "9":
            value = ord(ch) - ord("0")
        elif "A" <= ch <= "Z":
            value = ord(ch) - ord("A") + 10
        elif ch == "<":
            value = 0
        else:
            raise ValueError(f"{ch!r} has no ICAO 9303 value")
        total += value * (7, 3, 1)[i % 3]
    return str(total % 10)


def _pr2017_birth(number: str, today: date) -> date | None:
    """A 2017 number's YYMMDD birth date in the latest century that is not after `today`; None if impossible."""
    yy, mm, dd = int(number[7:9]), int(number[9:11]), int(number[11:13])
    for century in (2000, 1900):
        with contextlib.suppress(ValueError):  # 29 Feb exists in one century only
            born = date(century + yy, mm, dd)
            if born <= today:
                return born
    return None


def _pr_error(code: str, length: int = 0) -> InvalidIdNumber:
    zh, en = _PR_MESSAGES[code]
    return InvalidIdNumber(zh.format(n=length), en.format(n=length), code)


def validate_permanent_residence_number(value: str, *, today: date | None = None) -> str:
    """Check a foreigner's permanent residence ID number (2017 or 2023 edition) and return it in capitals."""
    number = _compact(value).upper()
    limit = date.today() if today is None else today
    if not number:
        raise _pr_error("empty")
    if len(number) == 15:
        if not _PR2017.fullmatch(number):
            raise _pr_error("not_digits")
        born = _pr2017_birth(number, limit)
        if born is None or born < EARLIEST_BIRTH_DATE:
            raise _pr_error("birth_date")
        if icao_check_digit(number[:14]) != number[14]:
            raise _pr_error("check_digit")
        return number
    if len(number) != ID_LENGTH:
        raise _pr_error("length", len(number))
    if not number.startswith("9") or not _DIGITS17.fullmatch(number):
        raise _pr_error("not_digits")
    born = _parse_birth(number[6:14])
    if born is None or born < EARLIEST_BIRTH_DATE or born > limit:
        raise _pr_error("birth_date")
    if check_character(number[:17]) != number[17]:
        raise _pr_error("check_digit")
    return number


def validate_identity_number(value: str, *, today: date | None = None) -> str:
    """Check a resident ID number, a residence permit's number (81/82/83…) or a permanent residence number.

    The number's shape says which it is: 15 characters starting with letters or 18 starting with 9 are
    permanent residence numbers, anything else a GB 11643 number. Returns the number in its canonical form;
    InvalidIdNumber (with the messages of the kind it looked like) otherwise.
    """
    number = _compact(value).upper()
    if (len(number) == 15 and number[:1].isalpha()) or (len(number) == ID_LENGTH and number.startswith("9")):
        return validate_permanent_residence_number(number, today=today)
    return validate_id_number(number, today=today)


def _valid(id_number: str) -> str:
    # Derived facts need a well-formed number but not a particular "today". A 2023 permanent residence
    # number keeps its birth date and sex digit where GB 11643 has them.
    return validate_identity_number(id_number, today=date.max)


def birth_date(id_number: str) -> date:
    """The date of birth encoded in a valid ID number (resident, residence permit or permanent residence)."""
    number = _valid(id_number)
    born = _pr2017_birth(number, date.today()) if len(number) == 15 else _parse_birth(number[6:14])
    if born is None:  # unreachable: _valid checked the date
        raise _id_error("birth_date")
    return born


def sex(id_number: str) -> Literal["M", "F"]:
    """``"M"`` when the 17th digit of a valid ID number (14th of a 2017 permanent residence number) is odd."""
    number = _valid(id_number)
    return "M" if int(number[13 if len(number) == 15 else 16]) % 2 == 1 else "F"


def age_on(id_number: str, day: date) -> int:
    """Age in whole years on ``day``; someone born on 29 Feb turns a year older on 1 Mar in common years."""
    born = birth_date(id_number)
    if day < born:
        raise ValueError("day is before the date of birth")
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def make_id_number(region: str = "371002", birth: date = date(1990, 1, 1), serial: int = 123) -> str:
    """Build an ID number with a correct check character, for tests and demos (region is not checked)."""
    if len(region) != 6 or not region.isascii() or not region.isdigit():
        raise ValueError("region must be 6 ASCII digits")
    if not 0 <= serial <= 999:
        raise ValueError("serial must be between 0 and 999")
    first17 = f"{region}{birth.year:04d}{birth.month:02d}{birth.day:02d}{serial:03d}"
    return first17 + check_character(first17)


def _as_text(value: object) -> str:
    """Masking must never raise: treat None as empty and anything else by its str()."""
    return "" if value is None else str(value)


def _mask_tail(text: str, keep: int = 2) -> str:
    """Star every character except the last ``keep``; strings of ``keep`` or fewer are starred whole."""
    if len(text) <= keep:
        return "*" * len(text)
    return "*" * (len(text) - keep) + text[-keep:]


def mask_id_number(value: str) -> str:
    """Keep the first 4 and last 4 characters of an 18- or 15-character ID number; never raises."""
    number = _compact(_as_text(value)).upper()
    if len(number) == ID_LENGTH or _PR2017.fullmatch(number):  # or a 2017 permanent residence number
        return number[:4] + "*" * (len(number) - 8) + number[-4:]
    return _mask_tail(number)


_NAME_DOTS = frozenset("·•‧・．.")


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def mask_name(name: str) -> str:
    """Mask a person's name: "张小三" → "张*三", "John Smith" → "J*** S****"; empty stays empty."""
    text = " ".join(name.split())
    if not text:
        return ""
    if any(_is_wide(ch) for ch in text):
        # Chinese-style names, including "·"-separated transliterated names; spaces are typos here.
        chars = [ch for ch in text if not ch.isspace()]
        if len(chars) == 1:
            return "*"
        if len(chars) == 2:
            return chars[0] + "*"
        middle = ("·" if ch in _NAME_DOTS else "*" for ch in chars[1:-1])
        return chars[0] + "".join(middle) + chars[-1]
    if len(text) == 1:
        return "*"
    return " ".join(word[0] + "*" * (len(word) - 1) for word in text.split(" "))


def validate_phone(value: str) -> str:
    """Check a mainland mobile number (spaces, dashes and +86/86/0086 allowed) and return its 11 digits."""
    number = _compact(value).replace("-", "")
    if not number:
        raise InvalidPhone("请输入手机号码", "Please enter a mobile number", "empty")
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    elif number.startswith("86") and len(number) == 13:
        number = number[2:]
    if not _MOBILE.fullmatch(number):
        raise InvalidPhone(
            "手机号码应为以1开头的11位数字，请核对",
            "A mobile number has 11 digits and starts with 1; please check it",
            "format",
        )
    return number


def mask_phone(value: str) -> str:
    """Show a mobile number as "138****5678"; anything else keeps only its last 2 characters."""
    text = _as_text(value)
    try:
        number = validate_phone(text)
    except InvalidPhone:
        return _mask_tail(_compact(text))
    return number[:3] + "****" + number[-4:]
