"""Passports read by the scanner: the TD3 machine-readable zone (ICAO Doc 9303, Part 4) into an `IdCard`.

A document reader in MRZ mode sends the zone's two lines as two codes, each 44 characters of `A–Z`, `0–9`
and the filler `<`::

    P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<
    L898902C36UTO7408122F1204159ZE184226B<<<<<10

Line 1: document code (P + type), issuing state, then surname `<<` given names. Line 2: document number
0–9 and its check digit 9, nationality 10–13, birth date YYMMDD 13–19 and check 19, sex 20, expiry YYMMDD
21–27 and check 27, optional data 28–42 and check 42, the composite check 43 over 0–10, 13–20 and 21–43.
Every check digit is verified (weights 7, 3, 1; `queue_server.ids.icao_check_digit`).

Hand-written rather than the `mrz` package: that package has had no release since 2020, and TD3 parsing
with the check digits is some sixty lines tested here against Doc 9303's own specimen above.

`MrzAssembler` pairs the lines as they arrive from any `CodeScanner`; `mrz_lines` makes the zone of a card
for the simulators (`SimScanner.scan_mrz`, `PtyScannerSimulator.scan_mrz`).
"""

from __future__ import annotations

import re
from datetime import date

from queue_server.ids import icao_check_digit

from ..errors import ProtocolError
from ..idcard.card import IdCard, Sex

LINE_LENGTH = 44
_LINE = re.compile(r"[A-Z0-9<]{44}")
_SEX: dict[str, Sex | None] = {"M": "男", "F": "女", "<": None, "X": None}


class MrzError(ProtocolError):
    """The two lines are not a valid TD3 zone: wrong shape, a check digit that does not match, a bad date."""


def is_mrz_line(code: str) -> bool:
    """True when a scanned code looks like one line of a passport's zone (44 characters of A–Z, 0–9, <)."""
    return bool(_LINE.fullmatch(code.strip()))


def _checked(line: str, start: int, end: int, what: str) -> str:
    value = line[start:end]
    if icao_check_digit(value) != line[end]:
        raise MrzError(f"the {what}'s check digit does not match")
    return value


def _yymmdd(text: str, what: str, *, pivot: date | None) -> date:
    """A YYMMDD date; with `pivot`, the century that puts it on or before the pivot (birth dates)."""
    if not text.isdigit():
        raise MrzError(f"the {what} is not a YYMMDD date")
    yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:])
    try:
        if pivot is None:
            return date(2000 + yy, mm, dd)  # expiry: passports run ten years at most
        born = date(2000 + yy, mm, dd)
        return born if born <= pivot else date(1900 + yy, mm, dd)
    except ValueError as exc:
        raise MrzError(f"the {what} is not a valid date") from exc


def _names(field: str) -> str:
    """Line 1's name field as "SURNAME GIVEN NAMES" (`<<` between them, `<` between words)."""
    surname, _, given = field.rstrip("<").partition("<<")
    words = [*surname.split("<"), *given.split("<")]
    return " ".join(word for word in words if word)


def parse_td3(line1: str, line2: str, *, today: date | None = None) -> IdCard:
    """Decode a passport's two MRZ lines into an `IdCard` (document "passport"); MrzError when invalid.

    `today` decides the century of the birth date (default: the date now).
    """
    line1, line2 = line1.strip(), line2.strip()
    if not (_LINE.fullmatch(line1) and _LINE.fullmatch(line2)):
        raise MrzError("a TD3 zone is two lines of 44 characters of A-Z, 0-9 and <")
    if line1[0] != "P":
        raise MrzError(f"document code {line1[:2]!r} is not a passport's (P)")
    number = _checked(line2, 0, 9, "document number").rstrip("<")
    born = _yymmdd(_checked(line2, 13, 19, "birth date"), "birth date", pivot=today or date.today())
    expires = _yymmdd(_checked(line2, 21, 27, "expiry date"), "expiry date", pivot=None)
    optional = line2[28:42]
    if line2[42] != "<" or optional.strip("<"):
        _checked(line2, 28, 42, "personal number")
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    if icao_check_digit(composite) != line2[43]:
        raise MrzError("the composite check digit does not match")
    if line2[20] not in _SEX:
        raise MrzError(f"unknown sex {line2[20]!r}")
    name = _names(line1[5:])
    if not number or not name:
        raise MrzError("the zone has no document number or no name")
    return IdCard(
        name=name,
        sex=_SEX[line2[20]],
        nation="",
        birth_date=born,
        address="",
        id_number=number,
        authority=line1[2:5].rstrip("<"),
        valid_from=None,
        valid_to=expires,
        photo=b"",
        document="passport",
        name_en=name,
        nationality=line2[10:13].rstrip("<"),
    )


def mrz_lines(card: IdCard, *, surname: str | None = None) -> tuple[str, str]:
    """The TD3 zone of a passport card (for the simulators and tests); `surname` is the name's first word.

    ValueError for a value the zone cannot hold (a name or number too long, characters outside A–Z 0–9).
    """
    words = card.name_en.upper().split()
    if not words:
        raise ValueError("a passport needs a Latin-script name")
    family = (surname or words[0]).upper()
    given = " ".join(words[1:]) if surname is None else card.name_en.upper().removeprefix(family).strip()
    name = family.replace(" ", "<") + "<<" + given.replace(" ", "<")
    issuer = (card.authority or card.nationality).ljust(3, "<")
    line1 = ("P<" + issuer + name).ljust(LINE_LENGTH, "<")
    if len(line1) > LINE_LENGTH:
        raise ValueError("the name is longer than the zone's 39 characters")
    number = card.id_number.ljust(9, "<")
    birth = card.birth_date.strftime("%y%m%d")
    if card.valid_to is None:
        raise ValueError("a passport has an expiry date")
    expiry = card.valid_to.strftime("%y%m%d")
    sex = {"男": "M", "女": "F", None: "<"}[card.sex]
    optional = "<" * 14
    head = number + icao_check_digit(number) + card.nationality.ljust(3, "<") + birth + icao_check_digit(birth)
    tail = expiry + icao_check_digit(expiry) + optional + "<"
    composite = head[0:10] + head[13:20] + tail
    line2 = head + sex + tail + icao_check_digit(composite)
    if not (_LINE.fullmatch(line1) and _LINE.fullmatch(line2)):
        raise ValueError("the zone holds only A-Z, 0-9 and <")
    return line1, line2


def demo_passport() -> IdCard:
    """A fictitious Korean passport (the kind Weihai's foreign residents carry most)."""
    return IdCard(
        name="KIM MINSU",
        sex="男",
        nation="",
        birth_date=date(1985, 3, 15),
        address="",
        id_number="M12345678",
        authority="KOR",
        valid_from=None,
        valid_to=date(2033, 5, 20),
        photo=b"",
        document="passport",
        name_en="KIM MINSU",
        nationality="KOR",
    )


class MrzAssembler:
    """Pairs MRZ lines from a scanner's codes: `feed(code)` returns the passport once both lines came.

    A line 1 (starting with "P") starts a zone; the next MRZ line completes it. Any other code, or a second
    line 1, starts over, so a stray barcode between the lines never pairs the wrong halves. An invalid zone
    raises MrzError from `feed` (and is dropped).
    """

    def __init__(self, *, today: date | None = None) -> None:
        """Start with no line pending."""
        self._first: str | None = None
        self._today = today

    def feed(self, code: str) -> IdCard | None:
        """Take one scanned code; the passport when it completes a zone, else None."""
        line = code.strip()
        if not is_mrz_line(line):
            self._first = None
            return None
        if self._first is None or line.startswith("P"):
            self._first = line if line.startswith("P") else None
            return None
        first, self._first = self._first, None
        return parse_td3(first, line, today=self._today)
