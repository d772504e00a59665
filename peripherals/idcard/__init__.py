"""ID-card readers: resident ID cards (and HK/Macao/Taiwan residence permits, foreigners' permanent residence
cards) through SAM serial readers, card UIDs through PC/SC, and simulators.

    from peripherals import open_id_reader
    reader = open_id_reader("sam+serial:///dev/ttyUSB1?baudrate=115200")
    card = reader.read(timeout=30)      # IdCard, or None when no card was presented in time

Backends by URL (grammar in `factory`): `sam+serial://` (`SamReader`), `pcsc://` (`PcscReader`, imported
only when used, so pyscard is needed only there), `sim://` (a `SamReader` on the in-process simulator).
"""

from __future__ import annotations

from .base import IdReader
from .card import (
    DEMO_CARDS,
    NATIONS,
    CardUid,
    DocumentKind,
    IdCard,
    demo_card,
    demo_foreign_card,
    demo_permit_card,
    gb11643_check_char,
    mask_id_number,
    mask_name,
)
from .errors import CardRemoved, SamCardStatusError, SamFrameRejected, SamStatusError
from .factory import open_id_reader, open_sam_serial
from .sam_reader import SamReader

__all__ = [
    "DEMO_CARDS",
    "NATIONS",
    "CardRemoved",
    "CardUid",
    "DocumentKind",
    "IdCard",
    "IdReader",
    "SamCardStatusError",
    "SamFrameRejected",
    "SamReader",
    "SamStatusError",
    "demo_card",
    "demo_foreign_card",
    "demo_permit_card",
    "gb11643_check_char",
    "mask_id_number",
    "mask_name",
    "open_id_reader",
    "open_sam_serial",
]
