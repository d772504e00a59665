"""Real-time status (`DLE EOT n`) answers decoded into `DeviceHealth` (pure).

Each answer is one byte; bits 0 and 7 are always 0 and bits 1 and 4 always 1 (so a healthy printer
answers 0x12 to every request). The bits used here, as Epson's ESC/POS reference and the Chinese clones
define them:

* `DLE EOT 1` printer: bit 3 offline, bit 5 waiting for online recovery, bit 6 feed button pressed.
* `DLE EOT 2` offline cause: bit 2 cover open, bit 3 paper fed by the button, bit 5 printing stopped
  because the paper ran out, bit 6 an error occurred (cutter jam, head overheated).
* `DLE EOT 4` roll paper sensor: bits 2-3 near-end sensor, bits 5-6 paper-end sensor. Epson sets both
  bits of a pair; some clones set only one, so either bit counts.

A printer with its cover open or out of paper is also offline (bit 3 of `DLE EOT 1`); the cause decides the
status. A printer that does not answer at all (powered off, cable out, a network printer that ignores status
requests on port 9100) is `offline`.
"""

from __future__ import annotations

from ..errors import ProtocolError
from ..health import DeviceHealth

FIXED_MASK = 0x93  # bits 0, 1, 4, 7
FIXED_VALUE = 0x12  # bits 1 and 4 set, 0 and 7 clear

PRINTER_OFFLINE = 0x08
CAUSE_COVER_OPEN = 0x04
CAUSE_PAPER_END_STOP = 0x20
CAUSE_ERROR = 0x40
PAPER_NEAR_END = 0x0C
PAPER_END = 0x60


def check_status_byte(n: int, value: int) -> int:
    """Return `value` if it is a well-formed answer to `DLE EOT n`, else raise `ProtocolError`."""
    if not 0 <= value <= 0xFF or value & FIXED_MASK != FIXED_VALUE:
        raise ProtocolError(f"answer 0x{value:02x} to DLE EOT {n} is not a status byte (fixed bits wrong)")
    return value


def decode_health(printer: int, offline_cause: int, paper: int) -> DeviceHealth:
    """The health the three answers (to `DLE EOT 1`, `2` and `4`) describe; raises `ProtocolError` if malformed."""
    check_status_byte(1, printer)
    check_status_byte(2, offline_cause)
    check_status_byte(4, paper)
    if offline_cause & CAUSE_COVER_OPEN:
        return DeviceHealth("cover_open", "printer cover is open")
    if paper & PAPER_END or offline_cause & CAUSE_PAPER_END_STOP:
        return DeviceHealth("paper_out", "paper roll is empty")
    if offline_cause & CAUSE_ERROR:
        return DeviceHealth("error", "printer reports an error (cutter jam or overheated head)")
    if printer & PRINTER_OFFLINE:
        return DeviceHealth("offline", "printer reports itself offline (feed button held or waiting to recover)")
    if paper & PAPER_NEAR_END:
        return DeviceHealth("paper_low", "paper roll is nearly empty")
    return DeviceHealth("ok")


def no_answer(n: int, timeout: float) -> DeviceHealth:
    """The health of a printer that did not answer `DLE EOT n` within `timeout` seconds."""
    return DeviceHealth("offline", f"no answer to DLE EOT {n} within {timeout:g} s")
