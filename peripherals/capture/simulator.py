"""A DCP/1 capture-device simulator that feeds image files: in process (`sim://`) or on a pseudo-terminal.

`CaptureSimulator` is the device's logic: request bytes in, response bytes out. Each CAPTURE answers with the
next image of its directory (``*.jpg``, ``*.jpeg``, ``*.png``, in name order, round and round); without a
directory it draws demo pages (a white sheet with grey text lines and a page number as blocks) with Pillow.
It can be told that nothing is on the platen (`empty`), that it is faulty (`fault`), to stay mute, or to
damage the next answer's checksum (`corrupt_next`). `SimulatedCapturePort` plugs it into `SerialCamera`
without any OS device; `PtyCaptureSimulator` serves it on a pseudo-terminal, opened like a real port.

Demo: `python -m peripherals.capture.simulator --pty --dir photos/` prints the slave path; configure
`capture+serial://<that path>` as the kiosk's camera (or just `sim://?dir=photos/`).
"""

from __future__ import annotations

import argparse
import io
import signal
import threading
from pathlib import Path
from types import FrameType as StackFrame

from ..ptyserve import InProcessPort, PtyServer
from .errors import FrameError
from .protocol import (
    ERR_BAD_FRAME,
    ERR_FAULT,
    ERR_NOTHING,
    ERR_UNKNOWN,
    FrameAssembler,
    FrameType,
    encode_frame,
    image_payload,
)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def demo_page(number: int, size: tuple[int, int] = (620, 877)) -> bytes:
    """A JPEG of a plain document page (A4 proportions) whose block pattern differs by `number`."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (250, 250, 246))
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.rectangle((40, 40, w - 40, 90), fill=(60, 60, 60))  # a title bar
    for row in range(14):
        y = 130 + row * 48
        length = (w - 120) * (0.55 + 0.45 * (((row * 7 + number * 3) % 10) / 10))
        draw.rectangle((60, y, 60 + length, y + 14), fill=(150, 150, 150))
    for i in range(number % 9 + 1):  # the page number as blocks, bottom right
        draw.rectangle((w - 60 - i * 22, h - 80, w - 44 - i * 22, h - 60), fill=(200, 30, 30))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


class CaptureSimulator:
    """The behaviour of a DCP/1 device; thread-safe, so tests can change its state live."""

    def __init__(self, directory: Path | None = None, *, empty: bool = False, fault: bool = False) -> None:
        """Feed the images of `directory` (demo pages when None); ValueError if it has no JPEG or PNG file."""
        self._lock = threading.Lock()
        self._frames = FrameAssembler()
        self._files: list[Path] = []
        if directory is not None:
            self._files = sorted(p for p in Path(directory).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self._files:
                raise ValueError(f"no .jpg/.jpeg/.png file in {directory}")
        self.empty, self.fault, self.mute, self.corrupt_next = empty, fault, False, False
        self.captured = 0  # pages sent so far

    def next_image(self) -> bytes:
        """The bytes the next CAPTURE sends (lock held by the caller or not needed)."""
        if self._files:
            return self._files[self.captured % len(self._files)].read_bytes()
        return demo_page(self.captured + 1)

    def feed(self, data: bytes) -> bytes:
        """Take bytes from the line and return the bytes to send back (answers to every complete request)."""
        out = bytearray()
        with self._lock:
            for item in self._frames.feed(data):
                if isinstance(item, FrameError):
                    answer = encode_frame(FrameType.ERROR, 0, bytes((ERR_BAD_FRAME,)) + str(item).encode())
                else:
                    answer = self._answer(item.type, item.seq)
                if self.mute:
                    continue
                if self.corrupt_next:
                    self.corrupt_next = False
                    answer = answer[:-1] + bytes(((answer[-1] + 1) & 0xFF,))
                out += answer
        return bytes(out)

    def _answer(self, kind: int, seq: int) -> bytes:
        """The response frame to one request (lock held)."""
        if kind == FrameType.STATUS:
            state, detail = (2, "lamp failure") if self.fault else ((1, "no page") if self.empty else (0, "ready"))
            return encode_frame(FrameType.STATUS_REPLY, seq, bytes((state,)) + detail.encode())
        if kind != FrameType.CAPTURE:
            return encode_frame(FrameType.ERROR, seq, bytes((ERR_UNKNOWN,)) + b"unknown request")
        if self.fault:
            return encode_frame(FrameType.ERROR, seq, bytes((ERR_FAULT,)) + b"lamp failure")
        if self.empty:
            return encode_frame(FrameType.ERROR, seq, bytes((ERR_NOTHING,)) + b"nothing on the platen")
        image = self.next_image()
        self.captured += 1
        return encode_frame(FrameType.IMAGE, seq, image_payload(image))


class SimulatedCapturePort(InProcessPort):
    """A pyserial-like port whose other end is a `CaptureSimulator` in this process (the `sim://` backend)."""


class PtyCaptureSimulator(PtyServer):
    """Serves a `CaptureSimulator` on a pseudo-terminal: open `url` with `open_camera`.

    Both ends are in raw mode (the line discipline would otherwise mangle binary frames), and the simulator
    keeps its own slave descriptor open for its whole life (else reads on the master fail with EIO).
    """

    thread_name = "capture-simulator"

    def __init__(self, simulator: CaptureSimulator | None = None) -> None:
        """Serve `simulator` (default: demo pages) once `start()` is called."""
        self.simulator = simulator if simulator is not None else CaptureSimulator()
        super().__init__(self.simulator)

    @property
    def url(self) -> str:
        """The camera URL for `open_camera`, e.g. ``capture+serial:///dev/pts/7``."""
        return f"capture+serial://{self.slave_path}"


def main(argv: list[str] | None = None) -> int:
    """CLI: serve a simulated capture device on a pseudo-terminal until interrupted; print the slave path."""
    parser = argparse.ArgumentParser(prog="python -m peripherals.capture.simulator", description=__doc__)
    parser.add_argument("--pty", action="store_true", required=True, help="serve on a pseudo-terminal")
    parser.add_argument("--dir", type=Path, default=None, help="directory of .jpg/.png pages to feed")
    args = parser.parse_args(argv)
    done = threading.Event()

    def _quit(signum: int, frame: StackFrame | None) -> None:
        """Stop on SIGINT or SIGTERM."""
        done.set()

    signal.signal(signal.SIGTERM, _quit)
    signal.signal(signal.SIGINT, _quit)
    with PtyCaptureSimulator(CaptureSimulator(args.dir)) as pty:
        print(pty.slave_path, flush=True)
        while not done.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
