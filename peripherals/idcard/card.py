"""Values a card reader returns: the resident ID card (`IdCard`) and a card's UID (`CardUid`), with privacy masks.

The ethnic-group table is GB 3304 (the two-digit code a resident ID card stores); the check character is
GB 11643's ISO 7064 MOD 11-2. Both are pure and have no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Literal

Sex = Literal["男", "女"]

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
    """The base information of a second-generation resident ID card (居民身份证), as its chip stores it.

    `nation` is the ethnic group's name ("汉"), decoded from the card's GB 3304 code. `valid_to` is None for
    a card valid without end (长期, issued to citizens over 46). `photo` is the card's 1024 raw photo bytes,
    never decoded. `repr()` masks the name, ID number, address and birth date: a card may be logged, the
    person never in full.
    """

    name: str
    sex: Sex
    nation: str
    birth_date: date
    address: str
    id_number: str
    authority: str
    valid_from: date
    valid_to: date | None
    photo: bytes

    def __post_init__(self) -> None:
        """Reject values no card can hold (a wrong sex word, a photo that is not 1024 bytes)."""
        if self.sex not in ("男", "女"):
            raise ValueError(f"sex must be '男' or '女', not {self.sex!r}")
        if len(self.photo) != PHOTO_SIZE:
            raise ValueError(f"photo must be {PHOTO_SIZE} bytes, not {len(self.photo)}")

    def __repr__(self) -> str:
        """A representation safe for logs: no full name, ID number, address or birth date."""
        return (
            f"IdCard(name={mask_name(self.name)!r}, sex={self.sex!r}, nation={self.nation!r}, "
            f"birth_date='{self.birth_date.year}-**-**', address=<{len(self.address)} chars>, "
            f"id_number={mask_id_number(self.id_number)!r}, authority={self.authority!r}, "
            f"valid_from={self.valid_from.isoformat()!r}, "
            f"valid_to={self.valid_to.isoformat() if self.valid_to else '长期'!r}, photo=<{len(self.photo)} bytes>)"
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
