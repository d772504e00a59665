"""Values a card reader returns: an identity document (`IdCard`) and a card's UID (`CardUid`), with privacy masks.

`IdCard` holds every identity document the hall reads, told apart by `document`: the resident ID card
(居民身份证), the Hong Kong/Macao/Taiwan residents' residence permit (港澳台居民居住证), the foreigner's
permanent residence ID card (外国人永久居留身份证, 2017 and 2023 editions), all read by a SAM reader, and a
passport read from its machine-readable zone by the scanner.

The ethnic-group table is GB 3304 (the two-digit code a resident ID card stores); the check character is
GB 11643's ISO 7064 MOD 11-2. Both are pure and have no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Literal

Sex = Literal["男", "女"]

DocumentKind = Literal["resident", "hmt_residence_permit", "foreign_permanent_resident", "passport"]
"""Which identity document a card is: 居民身份证, 港澳台居民居住证, 外国人永久居留身份证 or a passport."""

PHOTO_SIZE = 1024
"""A resident ID card's photo is always 1024 bytes of the card's own compressed format (`.wlt`).

Decoding it needs the 公安部 licensed decoder library, so we never decode it: it is kept as raw bytes.
"""

NATIONS: MappingProxyType[str, str] = MappingProxyType(
    {
        "01": "汉",
        "02": "蒙古",
        "03": "回",
        "04": "藏",
        "05": "维吾尔",
        "06": "苗",
        "07": "彝",
        "08": "壮",
        "09": "布依",
        "10": "朝鲜",
        "11": "满",
        "12": "侗",
        "13": "瑶",
        "14": "白",
        "15": "土家",
        "16": "哈尼",
        "17": "哈萨克",
        "18": "傣",
        "19": "黎",
        "20": "傈僳",
        "21": "佤",
        "22": "畲",
        "23": "高山",
        "24": "拉祜",
        "25": "水",
        "26": "东乡",
        "27": "纳西",
        "28": "景颇",
        "29": "柯尔克孜",
        "30": "土",
        "31": "达斡尔",
        "32": "仫佬",
        "33": "羌",
        "34": "布朗",
        "35": "撒拉",
        "36": "毛南",
        "37": "仡佬",
        "38": "锡伯",
        "39": "阿昌",
        "40": "普米",
        "41": "塔吉克",
        "42": "怒",
        "43": "乌孜别克",
        "44": "俄罗斯",
        "45": "鄂温克",
        "46": "德昂",
        "47": "保安",
        "48": "裕固",
        "49": "京",
        "50": "塔塔尔",
        "51": "独龙",
        "52": "鄂伦春",
        "53": "赫哲",
        "54": "门巴",
        "55": "珞巴",
        "56": "基诺",
    }
)
"""The 56 ethnic groups by their GB 3304 code, as stored in a resident ID card's nation field."""

OTHER_NATIONS: MappingProxyType[str, str] = MappingProxyType({"97": "其他", "98": "外国血统中国籍人士"})
"""GB 3304's two extra codes; a few real cards carry them, so the decoder accepts them too."""

_CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


def nation_name(code: str) -> str:
    """The ethnic group's name for a two-digit GB 3304 code ("01" → "汉"); ValueError for an unknown code."""
    name = NATIONS.get(code) or OTHER_NATIONS.get(code)
    if name is None:
        raise ValueError(f"unknown ethnic-group code {code!r}")
    return name


def nation_code(name: str) -> str:
    """The two-digit GB 3304 code of an ethnic group's name ("汉" → "01"); ValueError for an unknown name."""
    for table in (NATIONS, OTHER_NATIONS):
        for code, known in table.items():
            if known == name:
                return code
    raise ValueError(f"unknown ethnic group {name!r}")


def gb11643_check_char(first17: str) -> str:
    """The 18th character of a resident ID number (GB 11643, ISO 7064 MOD 11-2) for its first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("the first 17 characters of an ID number must be 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _CHECK_WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def mask_name(name: str) -> str:
    """A name with every character but the first replaced by `*` ("张三丰" → "张**"), for logs."""
    if len(name) <= 1:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 1)


def mask_id_number(id_number: str) -> str:
    """An ID number showing only its first 3 and last 4 characters, for logs and staff screens."""
    if len(id_number) < 8:
        return "*" * len(id_number)
    return id_number[:3] + "*" * (len(id_number) - 7) + id_number[-4:]


@dataclass(frozen=True, slots=True, repr=False)
class IdCard:
    """An identity document as its chip (or a passport's machine-readable zone) stores it.

    For every kind (`document`):

    - `name` is the holder's name as the document prints it first: the Chinese name, or for a foreigner
      without one the English name (which is always in `name_en` for foreign documents and passports).
    - `id_number` is the number to identify the holder with: the 公民身份号码 of a resident ID card and of a
      residence permit (81/82/83…), the permanent residence number (15 characters in the 2017 edition, 18
      digits starting with 9 in the 2023 edition), the passport number.
    - `nationality` is the ISO 3166-1 code as the document stores it ("CHN" for residents and permit holders).
    - `nation` is the ethnic group's name ("汉"), decoded from the card's GB 3304 code; empty for documents
      that have none (permits, foreign cards, passports).
    - `sex` is None only for a passport whose MRZ leaves it unspecified (`<` or `X`).
    - `valid_from` is None for a passport (its MRZ has no issue date); `valid_to` is None for a card valid
      without end (长期, issued to citizens over 46).
    - `photo` is the card's 1024 raw photo bytes (`.wlt`), never decoded; empty for a passport.
    - `authority` is the issuing authority's name, or for a 2017 permanent residence card the code of the
      office that took the application (当次申请受理机关代码).
    - `pass_number` is a residence permit's 港澳台居民出入境证件号码 (回乡证/台胞证 number); `issue_count` its
      签发次数, or a 2023 permanent residence card's 换证次数; `edition` "2017"/"2023" for permanent residence
      cards, the card's version number otherwise empty.

    `repr()` masks the names, ID number, address and birth date: a card may be logged, the person never in full.
    """

    name: str
    sex: Sex | None
    nation: str
    birth_date: date
    address: str
    id_number: str
    authority: str
    valid_from: date | None
    valid_to: date | None
    photo: bytes
    document: DocumentKind = "resident"
    name_en: str = ""
    nationality: str = "CHN"
    pass_number: str = ""
    issue_count: int | None = None
    edition: str = ""

    def __post_init__(self) -> None:
        """Reject values no document can hold (a wrong sex word, a photo that is not 1024 bytes)."""
        if self.sex not in ("男", "女") and not (self.sex is None and self.document == "passport"):
            raise ValueError(f"sex must be '男' or '女', not {self.sex!r}")
        size = 0 if self.document == "passport" else PHOTO_SIZE
        if len(self.photo) != size:
            raise ValueError(f"photo must be {size} bytes, not {len(self.photo)}")

    @property
    def foreign(self) -> bool:
        """True for a document of someone who is not a Chinese citizen (permanent residence card, passport)."""
        return self.document == "foreign_permanent_resident" or (
            self.document == "passport" and self.nationality != "CHN"
        )

    def __repr__(self) -> str:
        """A representation safe for logs: no full name, ID number, address or birth date."""
        extra = ""
        if self.document != "resident":
            extra = (
                f", document={self.document!r}, name_en={mask_name(self.name_en)!r}, "
                f"nationality={self.nationality!r}, pass_number={mask_id_number(self.pass_number)!r}"
            )
        return (
            f"IdCard(name={mask_name(self.name)!r}, sex={self.sex!r}, nation={self.nation!r}, "
            f"birth_date='{self.birth_date.year}-**-**', address=<{len(self.address)} chars>, "
            f"id_number={mask_id_number(self.id_number)!r}, authority={self.authority!r}, "
            f"valid_from={self.valid_from.isoformat() if self.valid_from else None!r}, "
            f"valid_to={self.valid_to.isoformat() if self.valid_to else '长期'!r}, "
            f"photo=<{len(self.photo)} bytes>{extra})"
        )


@dataclass(frozen=True, slots=True)
class CardUid:
    """The UID of a contact or contactless card read through a PC/SC reader (staff badge, member card).

    `uid` is what the reader answered to GET DATA (`FF CA 00 00 00`): 4, 7 or 10 bytes for ISO 14443-A
    cards, the PUPI for type B. `reader` is the PC/SC name of the reader that saw the card.
    """

    uid: bytes
    reader: str

    @property
    def hex(self) -> str:
        """The UID as upper-case hex without separators, the way badge systems print it."""
        return self.uid.hex().upper()


def demo_card() -> IdCard:
    """A fictitious card for the simulators and the demo; its ID number has a valid GB 11643 check character."""
    first17 = "37100219900307123"
    return IdCard(
        name="李小明",
        sex="男",  # the 17th digit (3) is odd: male
        nation="汉",
        birth_date=date(1990, 3, 7),
        address="山东省威海市环翠区统一路100号",
        id_number=first17 + gb11643_check_char(first17),
        authority="威海市公安局环翠分局",
        valid_from=date(2015, 6, 1),
        valid_to=date(2035, 6, 1),
        photo=bytes(range(256)) * 4,
    )


def _icao_check(text: str) -> str:
    """ICAO 9303's check digit (weights 7, 3, 1; A–Z as 10–35, `<` as 0), for the fictitious cards below."""
    from queue_server.ids import icao_check_digit  # the project's one implementation; imported late (layering)

    return icao_check_digit(text)


def demo_permit_card() -> IdCard:
    """A fictitious Hong Kong resident's residence permit (港澳台居民居住证), number 810000… with a valid check."""
    first17 = "81000019850704123"
    return IdCard(
        name="陈嘉欣",
        sex="男",
        nation="",
        birth_date=date(1985, 7, 4),
        address="山东省威海市环翠区新威路18号",
        id_number=first17 + gb11643_check_char(first17),
        authority="威海市公安局",
        valid_from=date(2024, 3, 1),
        valid_to=date(2029, 3, 1),
        photo=bytes(range(256)) * 4,
        document="hmt_residence_permit",
        pass_number="H12345678",  # noqa: S106 - a 回乡证 number, not a password
        issue_count=1,
    )


def demo_foreign_card(edition: str = "2023") -> IdCard:
    """A fictitious Korean permanent resident's card (外国人永久居留身份证) of the 2017 or 2023 edition.

    Both numbers have valid check digits: the 2017 one ICAO-style over "KOR" + city 3710 + 850315 + "1",
    the 2023 one GB 11643's over "9" + province 37 + Korea's numeric code 410 + 19850315 + "121".
    """
    if edition == "2017":
        first14 = "KOR37108503151"
        number = first14 + _icao_check(first14)
        issue_count = None
        authority = "3710"
    elif edition == "2023":
        first17 = "93741019850315121"
        number = first17 + gb11643_check_char(first17)
        issue_count = 0
        authority = "中华人民共和国国家移民管理局"
    else:
        raise ValueError("edition must be '2017' or '2023'")
    return IdCard(
        name="金民秀",
        sex="男",
        nation="",
        birth_date=date(1985, 3, 15),
        address="",
        id_number=number,
        authority=authority,
        valid_from=date(2024, 1, 10),
        valid_to=date(2034, 1, 10),
        photo=bytes(range(256)) * 4,
        document="foreign_permanent_resident",
        name_en="KIM MINSU",
        nationality="KOR",
        issue_count=issue_count,
        edition=edition,
    )


DEMO_CARDS: MappingProxyType[str, Callable[[], IdCard]] = MappingProxyType(
    {
        "permit": demo_permit_card,
        "foreign2017": lambda: demo_foreign_card("2017"),
        "foreign2023": lambda: demo_foreign_card("2023"),
    }
)
"""The simulator's other demo cards by name (`sim://?card=foreign2023`, `--card foreign2023`)."""
