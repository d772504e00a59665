"""`PtyEvaluatorSimulator`: a four-key evaluator on a pseudo-terminal, speaking EV1 bytes.

The code under test opens ``serial:///dev/pts/N`` exactly as it would a real port. The simulator
reads the host's frames from the master side, answers each with ACK, keeps what the display shows,
and `press()` writes KEY frames as a citizen's finger would. Linux and macOS only.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import tty

from . import protocol as p


class PtyEvaluatorSimulator:
    """The evaluator's side of the wire."""

    def __init__(self, *, answer: bool = True) -> None:
        """Create the pseudo-terminal and start answering; `answer=False` plays a dead device (no ACKs)."""
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self.answer = answer
        self.shown: str | None = None
        self.received: list[p.Frame] = []
        self._decoder = p.Decoder()
        self._changed = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="evaluator-sim", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The driver URL of the slave side."""
        return f"serial://{self.path}"

    def _run(self) -> None:
        while not self._closed:
            try:
                ready, _, _ = select.select([self._master], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(self._master, 256)
            except OSError:
                return
            for frame in self._decoder.feed(data):
                with self._changed:
                    self.received.append(frame)
                    if frame.cmd == p.PROMPT:
                        self.shown = frame.data.decode("ascii")
                    elif frame.cmd in (p.CANCEL, p.THANKS):
                        self.shown = None
                    self._changed.notify_all()
                if self.answer:
                    self.write(p.encode(p.ACK, bytes([frame.cmd])))

    def wait_for(self, cmd: int, timeout: float = 5.0) -> p.Frame:
        """The first received frame of `cmd` not yet waited for; TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for i, f in enumerate(self.received):
                    if f.cmd == cmd:
                        return self.received.pop(i)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no frame 0x{cmd:02x} within {timeout} s")
                self._changed.wait(left)

    def press(self, level: int, reasons: tuple[str, ...] = ()) -> None:
        """Press the key (short or long) that means `level`."""
        k, press = p.level_key(level)
        self.write(p.key(k, press, reasons))

    def write(self, data: bytes) -> None:
        """Send raw bytes to the host (frames, halves of frames, noise)."""
        view = memoryview(data)
        while view:
            view = view[os.write(self._master, view) :]

    def close(self) -> None:
        """Close both sides (idempotent): the host's next read fails, as with a pulled cable."""
        if self._closed:
            return
        self._closed = True
        self._thread.join(timeout=1.0)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> PtyEvaluatorSimulator:
        """Use in a ``with`` block."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the simulator."""
        self.close()
