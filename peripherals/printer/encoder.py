"""ESC/POS encoder: turns printing commands into bytes, with no I/O (pure; tests compare exact bytes).

Where python-escpos produces the right bytes, the encoder lets it: a `Dummy` printer (python-escpos'
in-memory transport) collects what its commands emit. The encoder writes bytes itself only where
python-escpos does not serve, each place saying why:

* served by python-escpos: initialise (`ESC @`), bold (`ESC E n`), alignment (`ESC a n`), character size
  (`GS ! n`, through ``set(custom_size=True)``), QR code (`GS ( k`, ``qr(native=True)``), feed (`ESC d n`)
  and cut (`ESC d 6` + `GS V m`).
* written here: text (both ASCII and Chinese), Chinese mode (`FS &` / `FS .`), the CODE128 barcode
  (`GS k 73`) and the real-time status request (`DLE EOT n`).
* a line the printer's Chinese font cannot print (Hangul: `raster_line`) is drawn with Pillow in Noto Sans CJK
  and sent as a raster image (`GS v 0`, python-escpos' ``image()``).

Hardware notes (thermal receipt printers sold in China: Xprinter, Gprinter, Hprt, Sunmi, Epson TM-T82):

* Paper: 80 mm rolls print 576 dots (48 columns of font A, 12×24 dots), 58 mm rolls 384 dots
  (32 columns). A Chinese character is 24×24 dots, so it takes two columns; in Chinese mode every
  multi-byte GB18030 character is printed full width, including punctuation such as `·` and `【`.
* Chinese mode: after `ESC @` some printers start in Chinese mode and some do not (a memory switch
  decides), so the encoder sends `FS &` itself before the first non-ASCII byte rather than trust the
  power-on default. In Chinese mode bytes below 0x80 are still ASCII, so one GB18030 stream carries mixed
  text. Four-byte GB18030 sequences (characters outside GBK, e.g. rare name characters) print only on
  printers with a full GB18030 font; the ticket never needs them.
* Size: `GS ! n` scales ASCII and Chinese alike; `ESC !` (which python-escpos' ``double_width`` uses)
  scales only the single-byte characters on many Chinese printers, so the encoder uses `GS !`.
* Cut: the knife sits a few lines above the print head; python-escpos' ``cut()`` feeds 6 lines
  (`ESC d 6`) first so the last printed line is not cut through.
* Other scripts (issue 22): a Chinese printer's font is GB2312/GBK (GB18030's two-byte part), which has kana,
  the Japanese kanji of the CJK block and Cyrillic (GB2312 rows 4, 5 and 7), so 日本語 and Русский lines print
  as text in Chinese mode — at full width, like every multi-byte character. Hangul is only in GB18030's
  four-byte part, which few printers have glyphs for, and the Korean code page (KS X 1001) is on Korean models
  only; so a line that is not GBK (`printable_as_text`) is printed as a raster image of itself: every ESC/POS
  printer prints `GS v 0`, at the cost of a slower line and a few hundred bytes.
* QR alignment: python-escpos cannot centre a native QR code; `ESC a 1` sent before `GS ( k … 1 Q 0`
  centres it on the printers above (a few older models ignore alignment for 2D codes).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Literal, Self

from escpos.printer import Dummy  # type: ignore[import-untyped]

Align = Literal["left", "center", "right"]
EcLevel = Literal["L", "M", "Q", "H"]
HriPosition = Literal["off", "above", "below", "both"]

ESC = b"\x1b"
GS = b"\x1d"
FS = b"\x1c"
DLE = b"\x10"
EOT = b"\x04"
LF = b"\n"

CHINESE_MODE_ON = FS + b"&"  # FS &: select Kanji/Chinese character mode (GB18030 on Chinese models)
CHINESE_MODE_OFF = FS + b"."  # FS .: cancel Chinese character mode

_EC_LEVELS: dict[str, int] = {"L": 0, "M": 1, "Q": 2, "H": 3}  # python-escpos' QR_ECLEVEL_* values
_HRI: dict[str, int] = {"off": 0, "above": 1, "below": 2, "both": 3}
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")

STATUS_PRINTER = 1  # DLE EOT 1: printer status (online/offline)
STATUS_OFFLINE_CAUSE = 2  # DLE EOT 2: offline cause (cover open, paper end stop, error)
STATUS_ERROR_CAUSE = 3  # DLE EOT 3: error cause (cutter, unrecoverable, auto-recoverable)
STATUS_PAPER = 4  # DLE EOT 4: roll paper sensor (near end, end)


@dataclass(frozen=True, slots=True)
class Paper:
    """A paper roll width: columns of font A (12×24 dots) and printable dots per line."""

    name: str
    columns: int
    dots: int
    qr_size: int  # QR module size in dots: a ~60-character URL stays well inside the line

    @property
    def english(self) -> bool:
        """Whether tickets on this paper carry the English lines (only 80 mm has room)."""
        return self.columns >= 48


PAPER_58 = Paper("58mm", columns=32, dots=384, qr_size=5)
PAPER_80 = Paper("80mm", columns=48, dots=576, qr_size=6)
PAPERS: dict[str, Paper] = {"58": PAPER_58, "58mm": PAPER_58, "80": PAPER_80, "80mm": PAPER_80}


def printable_as_text(text: str) -> bool:
    """Whether the printer's Chinese font (GB2312/GBK, GB18030's one- and two-byte part) has every character."""
    try:
        text.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


# The font a raster line is drawn in: Noto Sans CJK (Debian fonts-noto-cjk), its Korean face, at the height of
# the printer's own 24-dot characters.
RASTER_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
RASTER_FACE = {"ko": 1, "ja": 0, "zh": 2}  # the faces of the collection: JP, KR, SC, TC, HK
RASTER_PX = 24


def display_width(text: str) -> int:
    """Columns `text` takes in Chinese mode: one per ASCII character, two per multi-byte GB18030 character."""
    return sum(1 if ord(ch) < 0x80 else 2 for ch in text)


def status_request(n: int) -> bytes:
    """The real-time status request `DLE EOT n` (n: 1 printer, 2 offline cause, 3 error cause, 4 paper).

    Written here: python-escpos only has constants for n=1 and n=4 and couples the request with a read on
    its own transport. Real printers answer it at once, even while offline (cover open, paper out), with one
    byte whose bits 0 and 7 are 0 and bits 1 and 4 are 1.
    """
    if n not in (1, 2, 3, 4):
        raise ValueError(f"DLE EOT n takes n in 1..4, not {n}")
    return DLE + EOT + bytes((n,))


class EscposEncoder:
    """Builds one ESC/POS byte stream; every method appends a command and returns the encoder.

    The encoder is pure: it does no I/O, and the same calls always give the same bytes (`output`). It tracks
    whether Chinese mode is on, so `text()` sends `FS &` only once.
    """

    def __init__(self, paper: Paper = PAPER_80) -> None:
        """Start an empty stream for `paper` (used for wrapping decisions by callers, not by the bytes)."""
        self.paper = paper
        self._escpos = Dummy()
        self._chinese = False

    @property
    def output(self) -> bytes:
        """Every byte appended so far."""
        return bytes(self._escpos.output)

    def raw(self, data: bytes) -> Self:
        """Append bytes as they are (for commands this encoder does not name)."""
        self._escpos._raw(data)
        return self

    def initialise(self) -> Self:
        """`ESC @`: clear the print buffer and reset modes (bold, size, alignment; Chinese mode on some models)."""
        self._escpos.hw("INIT")
        self._chinese = False
        return self

    def chinese_mode(self, on: bool = True) -> Self:
        """`FS &` (on) or `FS .` (off): written here because python-escpos has no command for Chinese mode."""
        self.raw(CHINESE_MODE_ON if on else CHINESE_MODE_OFF)
        self._chinese = on
        return self

    def text(self, text: str) -> Self:
        """Append text: ASCII as is; anything else as GB18030 in Chinese mode (`FS &` first if it is off).

        Written here rather than with python-escpos' ``text()``: that one encodes Chinese as GBK without
        sending `FS &` (so Chinese printers whose default is not Chinese mode print mojibake), and it
        prefixes code-page selections (`ESC t n`) that depend on what it printed before. Control characters
        other than line feed are replaced by spaces, so data can never smuggle commands onto the wire.
        """
        clean = _CONTROL.sub(" ", text)
        if clean.isascii():
            return self.raw(clean.encode("ascii"))
        if not self._chinese:
            self.chinese_mode(True)
        return self.raw(clean.encode("gb18030"))

    def raster_line(self, text: str, align: Align = "left", lang: str = "ko") -> Self:
        """One line of `text` as a raster image (`GS v 0`, through python-escpos' ``image()``), as wide as the paper:
        for text the printer's font cannot print (see `printable_as_text`). Drawn with Pillow in Noto Sans CJK."""
        from PIL import Image, ImageDraw, ImageFont

        font = ImageFont.truetype(RASTER_FONT, RASTER_PX, index=RASTER_FACE.get(lang, 1))
        width = self.paper.dots
        left, top, right, bottom = font.getbbox(text)
        img = Image.new("1", (width, RASTER_PX + 8), 1)
        x = {"left": 0, "center": (width - (right - left)) // 2, "right": width - (right - left)}[align]
        y = 4 - top + (RASTER_PX - (bottom - top)) // 2
        ImageDraw.Draw(img).text((max(0, x) - left, y), text, font=font, fill=0)
        profile = self._escpos.profile
        if profile.profile_data.get("media", {}).get("width", {}).get("pixels") != width:
            # the printer's width in dots, on this printer's own copy of the profile (python-escpos checks the
            # image against it and, when it is unknown, says so on stdout)
            profile.profile_data = copy.deepcopy(profile.profile_data)
            profile.profile_data.setdefault("media", {}).setdefault("width", {})["pixels"] = width
        self._escpos.image(img, impl="bitImageRaster", center=False)
        return self

    def line(self, text: str = "") -> Self:
        """Append text and a line feed (`LF` prints the line buffer and moves to the next line)."""
        return self.text(text).raw(LF)

    def bold(self, on: bool = True) -> Self:
        """`ESC E n`: emphasised (bold) on or off; applies to ASCII and Chinese characters."""
        self._escpos.set(bold=on)
        return self

    def align(self, align: Align) -> Self:
        """`ESC a n`: justification of the lines that start after it (left, center, right)."""
        self._escpos.set(align=align)
        return self

    def size(self, width: int = 1, height: int = 1) -> Self:
        """`GS ! n`: character width and height multipliers 1..8 (both ASCII and Chinese)."""
        if not (1 <= width <= 8 and 1 <= height <= 8):
            raise ValueError(f"size multipliers must be 1..8, not {width}×{height}")
        self._escpos.set(custom_size=True, width=width, height=height)
        return self

    def qr(self, payload: str, size: int | None = None, ec: EcLevel = "M") -> Self:
        """`GS ( k`: QR model 2, module size, error correction, store the UTF-8 payload, print it.

        Served by python-escpos' ``qr(native=True)``: the printer renders the code (sharper and far fewer
        bytes than an image). Module size defaults to the paper's (`Paper.qr_size`).
        """
        if not payload:
            raise ValueError("a QR code needs a payload")
        self._escpos.qr(payload, ec=_EC_LEVELS[ec], size=size or self.paper.qr_size, native=True)
        return self

    def barcode_code128(self, data: str, height: int = 64, module_width: int = 2, hri: HriPosition = "below") -> Self:
        """`GS h`, `GS w`, `GS H`, then `GS k 73 n {B data`: a CODE128 barcode in code set B.

        Written here: python-escpos' ``barcode()`` prints a line to standard output on every call and picks
        the function from a printer profile; the bytes are four short commands. `{` in the data is sent as
        `{{` (in `GS k 73` a `{` introduces a code-set or function character).
        """
        if not data or not all(0x20 <= ord(ch) < 0x7F for ch in data):
            raise ValueError("CODE128 code set B takes printable ASCII only")
        body = b"{B" + data.replace("{", "{{").encode("ascii")
        if len(body) > 255:
            raise ValueError("CODE128 data too long (at most 253 bytes)")
        if not (1 <= height <= 255 and 2 <= module_width <= 6):
            raise ValueError("barcode height must be 1..255 dots and module width 2..6 dots")
        self.raw(GS + b"h" + bytes((height,)))
        self.raw(GS + b"w" + bytes((module_width,)))
        self.raw(GS + b"H" + bytes((_HRI[hri],)))
        return self.raw(GS + b"k" + bytes((73, len(body))) + body)

    def feed(self, lines: int = 1) -> Self:
        """`ESC d n`: print the buffer and feed `lines` lines (0..255)."""
        self._escpos.print_and_feed(lines)
        return self

    def cut(self, partial: bool = True) -> Self:
        """`ESC d 6` then `GS V 1` (partial, one tab left so the ticket does not drop) or `GS V 0` (full)."""
        self._escpos.cut(mode="PART" if partial else "FULL")
        return self
