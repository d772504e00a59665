"""A simulated ESC/POS printer: consumes the byte stream, parses it back into documents, answers `DLE EOT`.

The simulator knows the commands our encoder sends and skips a list of other common fixed-length ones
(code page, font, underline, line spacing, …); any other command is listed in `unknown` with its first two
bytes skipped, so a test notices a command it does not model. Raster images (`GS v 0`: a Korean line of a
ticket, encoder.py) are kept as their bitmap (`Raster`); column images (`ESC *`) are not modelled. Text is decoded
as GB18030 while Chinese mode (`FS &`) is on and as code page 437 (the power-on default of Epson-compatible
printers) otherwise, so Chinese sent without `FS &` shows up as mojibake, as on paper.

States (settable at any time, also from another thread): `paper_low` (prints, reports near end),
`paper_out` and `cover_open` (parses but prints nothing, reports offline with the cause), `offline` (a
printer switched off or unplugged: ignores every byte and never answers).

Real-time requests (`DLE EOT n`) are answered as soon as they are parsed. A real printer answers them even
in the middle of another command's data; the simulator only at a command boundary, which is where our
driver sends them (between jobs).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .encoder import display_width

Align = str  # "left" | "center" | "right"
_ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}
_EC = "LMQH"
# Fixed-length commands that change nothing the model records: prefix + command byte -> total length.
_SKIP = {
    (0x1B, 0x32): 2, (0x1B, 0x3D): 3, (0x1B, 0x74): 3, (0x1B, 0x4D): 3, (0x1B, 0x2D): 3, (0x1B, 0x33): 3,
    (0x1B, 0x4A): 3, (0x1B, 0x47): 3, (0x1B, 0x56): 3, (0x1B, 0x7B): 3, (0x1B, 0x52): 3, (0x1B, 0x20): 3,
    (0x1B, 0x70): 5, (0x1B, 0x63): 4, (0x1D, 0x42): 3, (0x1D, 0x4C): 4, (0x1D, 0x57): 4, (0x1D, 0x66): 3,
    (0x1D, 0x7C): 3, (0x1C, 0x21): 3, (0x1C, 0x43): 3, (0x1C, 0x53): 4, (0x1C, 0x57): 3, (0x1C, 0x2D): 3,
    (0x10, 0x05): 3, (0x10, 0x14): 5,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Line:
    """One printed line of text with the modes it started with."""

    text: str
    bold: bool = False
    width: int = 1
    height: int = 1
    align: Align = "left"

    @property
    def columns(self) -> int:
        """Columns of font A the line takes (Chinese characters two each, times the width multiplier)."""
        return display_width(self.text) * self.width


@dataclass(frozen=True, slots=True)
class QrCode:
    """A printed QR code and its settings."""

    payload: str
    size: int = 3
    ec: str = "L"
    model: int = 2


@dataclass(frozen=True, slots=True)
class Barcode:
    """A printed one-dimensional barcode (`kind` CODE128, EAN13, …) and its human-readable data."""

    kind: str
    data: str


@dataclass(frozen=True, slots=True)
class Feed:
    """Paper fed by `ESC d n` (blank lines not made of `LF`)."""

    lines: int


@dataclass(frozen=True, slots=True)
class Raster:
    """A raster image printed by `GS v 0 m xL xH yL yH d…`: `width` dots (8 a byte), `height` rows, 1 = black."""

    width: int
    height: int
    data: bytes
    align: Align = "left"

    def dot(self, x: int, y: int) -> bool:
        """Whether the dot at column `x`, row `y` is black."""
        return bool(self.data[y * (self.width // 8) + x // 8] & (0x80 >> (x % 8)))

    def black(self) -> int:
        """How many dots are black."""
        return sum(bin(b).count("1") for b in self.data)


Element = Line | QrCode | Barcode | Feed | Raster


@dataclass
class Document:
    """What was printed between two cuts; `cut` is "partial" or "full" once the knife has run."""

    elements: list[Element] = field(default_factory=list)
    cut: str | None = None

    @property
    def lines(self) -> list[Line]:
        """The text lines, in order."""
        return [e for e in self.elements if isinstance(e, Line)]

    @property
    def text_lines(self) -> list[str]:
        """The text of every line, in order (empty lines included)."""
        return [line.text for line in self.lines]

    @property
    def qr_payloads(self) -> list[str]:
        """The payloads of the QR codes, in order."""
        return [e.payload for e in self.elements if isinstance(e, QrCode)]

    @property
    def rasters(self) -> list[Raster]:
        """The raster images, in order."""
        return [e for e in self.elements if isinstance(e, Raster)]

    @property
    def barcodes(self) -> list[Barcode]:
        """The barcodes, in order."""
        return [e for e in self.elements if isinstance(e, Barcode)]

    def render(self, columns: int = 48) -> str:
        """The document as plain text laid out on `columns` columns (for the demo's console)."""
        out: list[str] = []
        for e in self.elements:
            if isinstance(e, Line):
                pad = max(columns - e.columns, 0)
                shift = {"left": 0, "center": pad // 2, "right": pad}[e.align]
                text = " ".join(e.text) if e.width > 1 else e.text
                out.append(" " * shift + text)
            elif isinstance(e, QrCode):
                out.append(f"[QR {e.payload}]".center(columns))
            elif isinstance(e, Barcode):
                out.append(f"[{e.kind} {e.data}]".center(columns))
            elif isinstance(e, Raster):
                out.append(f"[image {e.width}×{e.height}]".center(columns))
        out.append(f"-------- {self.cut or 'no'} cut --------".center(columns))
        return "\n".join(out)


def _code128_text(body: bytes) -> str:
    """The human-readable data of a `GS k 73` body (`{A`/`{B` switch code sets, `{C` packs digit pairs)."""
    out: list[str] = []
    code_c = False
    i = 0
    while i < len(body):
        b = body[i]
        if b == 0x7B and i + 1 < len(body):  # "{"
            nxt = body[i + 1]
            if nxt == 0x7B:
                out.append("{")
            else:
                code_c = nxt == 0x43  # "{C"
            i += 2
            continue
        out.append(f"{b:02d}" if code_c else chr(b))
        i += 1
    return "".join(out)


class SimulatedPrinter:
    """The printer: `feed(bytes)` returns the answers; finished documents collect in `documents`."""

    def __init__(
        self,
        columns: int = 48,
        *,
        state: str = "ok",
        on_document: Callable[[Document], None] | None = None,
    ) -> None:
        """A printer with `columns` columns, in `state` (ok, paper_low, paper_out, cover_open, offline)."""
        self.columns = columns
        self._changed = threading.Condition()  # guards everything below; notified after each feed
        self.paper_low = self.paper_out = self.cover_open = self.offline = False
        self.set_state(state)
        self.on_document = on_document
        self.documents: list[Document] = []
        self.received = bytearray()  # every byte that reached the printer
        self.job_bytes = bytearray()  # the same without real-time requests (DLE EOT/ENQ/DC4)
        self.status_requests: list[int] = []
        self.unknown: list[bytes] = []
        self._pending = bytearray()
        self._current = Document()
        self._reset_modes()

    def set_state(self, state: str) -> None:
        """Switch to one state: ok, paper_low, paper_out, cover_open or offline (the others are cleared)."""
        if state not in ("ok", "paper_low", "paper_out", "cover_open", "offline"):
            raise ValueError(f"unknown printer state {state!r}")
        with self._changed:
            self.paper_low = state == "paper_low"
            self.paper_out = state == "paper_out"
            self.cover_open = state == "cover_open"
            self.offline = state == "offline"

    @property
    def can_print(self) -> bool:
        """Whether received text reaches the paper."""
        return not (self.paper_out or self.cover_open or self.offline)

    def status_byte(self, n: int) -> int:
        """The answer to `DLE EOT n` in the current state."""
        value = 0x12
        if n == 1 and (self.paper_out or self.cover_open):
            value |= 0x08
        elif n == 2:
            value |= (0x04 if self.cover_open else 0) | (0x20 if self.paper_out else 0)
        elif n == 4:
            value |= (0x0C if self.paper_low or self.paper_out else 0) | (0x60 if self.paper_out else 0)
        return value

    def wait_for_documents(self, count: int, timeout: float = 5.0) -> list[Document]:
        """Block until `count` documents were cut (for tests and servers in other threads); raise TimeoutError."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.documents) >= count, timeout):
                raise TimeoutError(f"{len(self.documents)} of {count} documents printed after {timeout:g} s")
            return list(self.documents)

    def feed(self, data: bytes) -> bytes:
        """Consume bytes from the wire; return what the printer sends back (status answers)."""
        finished: list[Document] = []
        with self._changed:
            self.received += data
            if self.offline:
                return b""
            self._pending += data
            answers = bytearray()
            while self._pending:
                used = self._step(self._pending, answers, finished)
                if used == 0:
                    break  # an incomplete command: wait for more bytes
                if self._pending[0] != 0x10:
                    self.job_bytes += self._pending[:used]
                del self._pending[:used]
            self.documents.extend(finished)
            self._changed.notify_all()
        for doc in finished:
            if self.on_document is not None:
                self.on_document(doc)
        return bytes(answers)

    # -- parser ---------------------------------------------------------------------------------------

    def _reset_modes(self) -> None:
        """Power-on modes (`ESC @`): clears the line buffer, bold, size, alignment, Chinese mode."""
        self._segments: list[tuple[bytes, bool]] = []
        self._line_modes: tuple[bool, int, int, Align] | None = None
        self.bold = False
        self.width = self.height = 1
        self.align: Align = "left"
        self.chinese = False
        self._qr_model, self._qr_size, self._qr_ec, self._qr_data = 2, 3, "L", b""

    def _emit(self, element: Element) -> None:
        """Put an element on the paper, if paper can be printed on."""
        if self.can_print:
            self._current.elements.append(element)

    def _flush_line(self) -> None:
        """`LF`: print the line buffer as one line."""
        text = "".join(seg.decode("gb18030" if zh else "cp437", "replace") for seg, zh in self._segments)
        bold, width, height, align = self._line_modes or (self.bold, self.width, self.height, self.align)
        self._emit(Line(text, bold, width, height, align))
        self._segments, self._line_modes = [], None

    def _cut(self, partial: bool, finished: list[Document]) -> None:
        """`GS V`: print what is buffered, cut, and start a new document."""
        if self._segments:
            self._flush_line()
        if self.can_print:
            self._current.cut = "partial" if partial else "full"
            finished.append(self._current)
        self._current = Document()

    def _step(self, buf: bytearray, answers: bytearray, finished: list[Document]) -> int:
        """Handle the command at the start of `buf`; return the bytes it took (0: incomplete, wait for more)."""
        b0 = buf[0]
        if b0 >= 0x20:
            end = next((i for i, b in enumerate(buf) if b < 0x20), len(buf))
            if self._line_modes is None:
                self._line_modes = (self.bold, self.width, self.height, self.align)
            if self._segments and self._segments[-1][1] == self.chinese:  # a character may span two reads
                self._segments[-1] = (self._segments[-1][0] + bytes(buf[:end]), self.chinese)
            else:
                self._segments.append((bytes(buf[:end]), self.chinese))
            return end
        if b0 == 0x0A:
            self._flush_line()
            return 1
        if b0 not in (0x1B, 0x1D, 0x1C, 0x10):
            return 1  # CR, HT, NUL and other single control bytes: nothing to record
        if len(buf) < 2:
            return 0
        key = (b0, buf[1])
        if key in _SKIP:
            return _SKIP[key] if len(buf) >= _SKIP[key] else 0
        if key == (0x1B, 0x40):  # ESC @
            self._reset_modes()
            return 2
        if key in ((0x1C, 0x26), (0x1C, 0x2E)):  # FS & / FS .
            self.chinese = key[1] == 0x26
            return 2
        if len(buf) < 3:
            return 0
        if key == (0x10, 0x04):  # DLE EOT n
            self.status_requests.append(buf[2])
            answers.append(self.status_byte(buf[2]))
            return 3
        if b0 == 0x1B:
            return self._esc(buf)
        if b0 == 0x1D:
            return self._gs(buf, finished)
        return self._unknown(buf, 2)

    def _esc(self, buf: bytearray) -> int:
        """`ESC E`, `ESC a`, `ESC !`, `ESC d` (three bytes each)."""
        cmd, arg = buf[1], buf[2]
        if cmd == 0x45:
            self.bold = bool(arg & 1)
        elif cmd == 0x61:
            self.align = _ALIGN.get(arg, self.align)
        elif cmd == 0x21:  # print mode: bit 3 bold, bit 4 double height, bit 5 double width
            self.bold, self.height, self.width = bool(arg & 0x08), 2 if arg & 0x10 else 1, 2 if arg & 0x20 else 1
        elif cmd == 0x64:
            if self._segments:
                self._flush_line()
            self._emit(Feed(arg))
        else:
            return self._unknown(buf, 2)
        return 3

    def _gs(self, buf: bytearray, finished: list[Document]) -> int:
        """`GS !`, barcode settings, `GS V` cut, `GS ( k` 2D codes, `GS k` barcodes."""
        cmd, arg = buf[1], buf[2]
        if cmd == 0x21:
            self.width, self.height = (arg >> 4 & 7) + 1, (arg & 7) + 1
            return 3
        if cmd in (0x68, 0x77, 0x48):  # GS h / GS w / GS H: barcode height, module width, HRI position
            return 3
        if cmd == 0x56:  # GS V m, or GS V m n for m 65/66 (feed n, then cut)
            size = 4 if arg >= 65 else 3
            if len(buf) < size:
                return 0
            self._cut(partial=arg in (1, 49, 66), finished=finished)
            return size
        if cmd == 0x28:  # GS ( fn pL pH data
            if len(buf) < 5:
                return 0
            size = 5 + buf[3] + 256 * buf[4]
            if len(buf) < size:
                return 0
            if arg == 0x6B:
                self._code_2d(bytes(buf[5:size]))
            return size
        if cmd == 0x6B:
            return self._barcode(buf)
        if cmd == 0x76 and arg in (0x30, 0):  # GS v 0 m xL xH yL yH d…
            if len(buf) < 8:
                return 0
            width_bytes, height = buf[4] + 256 * buf[5], buf[6] + 256 * buf[7]
            size = 8 + width_bytes * height
            if len(buf) < size:
                return 0
            if self._segments:
                self._flush_line()
            self._emit(Raster(width_bytes * 8, height, bytes(buf[8:size]), self.align))
            return size
        return self._unknown(buf, 2)

    def _unknown(self, buf: bytearray, size: int) -> int:
        """Record a command the model does not know and skip its first `size` bytes."""
        self.unknown.append(bytes(buf[:size]))
        return size

    def _code_2d(self, data: bytes) -> None:
        """`GS ( k`: QR code settings, storage and printing (other symbologies are ignored)."""
        if len(data) < 2 or data[0] != 0x31:
            return
        fn, params = data[1], data[2:]
        if fn == 0x41 and params:
            self._qr_model = params[0] - 48
        elif fn == 0x43 and params:
            self._qr_size = params[0]
        elif fn == 0x45 and params:
            self._qr_ec = _EC[(params[0] - 48) % 4]
        elif fn == 0x50 and params:
            self._qr_data = params[1:]
        elif fn == 0x51:
            if self._segments:
                self._flush_line()
            payload = self._qr_data.decode("utf-8", "replace")
            self._emit(QrCode(payload, self._qr_size, self._qr_ec, self._qr_model))

    def _barcode(self, buf: bytearray) -> int:
        """`GS k m`: function A (m 0..6, data ends with NUL) or B (m 65..78, length byte first)."""
        m = buf[2]
        kinds = ["UPC-A", "UPC-E", "EAN13", "EAN8", "CODE39", "ITF", "CODABAR", "CODE93", "CODE128"]
        if m <= 6:
            end = buf.find(b"\x00", 3)
            if end < 0:
                return 0
            body, size = bytes(buf[3:end]), end + 1
            kind = kinds[m]
        else:
            if len(buf) < 4 or len(buf) < 4 + buf[3]:
                return 0
            body, size = bytes(buf[4 : 4 + buf[3]]), 4 + buf[3]
            kind = kinds[m - 65] if 65 <= m < 65 + len(kinds) else f"GS k {m}"
        self._emit(Barcode(kind, _code128_text(body) if kind == "CODE128" else body.decode("ascii", "replace")))
        return size
