"""Offline voice calling: one announcer thread speaks queued announcements, one at a time, via espeak-ng."""

from __future__ import annotations

import math
import os
import queue
import shutil
import struct
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from . import strings as s

ESPEAK = "espeak-ng"
CHIME_RATE = 22050


class VoiceError(Exception):
    """Voice could not be set up or an engine failed."""


class Engine(Protocol):
    """Something that speaks: each call blocks until the sound is done."""

    def say(self, text: str) -> None:
        """Speak `text` and return when it has been spoken."""

    def chime(self) -> None:
        """Play the short chime that precedes an announcement."""


@dataclass(frozen=True)
class VoiceSettings:
    """A hall's voice settings: silent halls never speak."""

    silent: bool = True
    repeat: int = 2
    chime: bool = True


def announcement(number: str, window: int) -> str:
    """The spoken sentence for a call (Chinese; espeak-ng's `cmn` voice reads the ticket letters)."""
    return s.zh("announce", number=" ".join(number), window=window)


def write_chime(path: Path, seconds: float = 0.6) -> Path:
    """Write a two-tone chime (ding-dong) as a 16-bit mono WAV file."""
    frames = bytearray()
    half = int(CHIME_RATE * seconds / 2)
    for freq in (880.0, 660.0):
        for i in range(half):
            envelope = 1.0 - i / half
            frames += struct.pack("<h", int(12000 * envelope * math.sin(2 * math.pi * freq * i / CHIME_RATE)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(CHIME_RATE)
        w.writeframes(bytes(frames))
    return path


class EspeakEngine:
    """espeak-ng's Mandarin voice. With `wav_dir`, each utterance is written to a numbered WAV file
    instead of the speakers (tests, or a player elsewhere); otherwise espeak-ng plays it and the chime
    goes through `player` (e.g. `aplay -q`)."""

    def __init__(
        self,
        *,
        voice: str = "cmn",
        speed: int = 150,
        wav_dir: Path | None = None,
        player: list[str] | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        """Check that espeak-ng is installed; fail loudly at start-up if not."""
        exe = shutil.which(ESPEAK)
        if exe is None:
            raise VoiceError(f"{ESPEAK} is not installed (apt-get install espeak-ng)")
        self._exe = exe
        self._voice, self._speed, self._timeout = voice, speed, timeout_s
        self._wav_dir = wav_dir
        self._player = player if player is not None else ["aplay", "-q"]
        self._count = 0
        self._chime_path: Path | None = None  # written once, reused (speaker mode)
        self.files: list[Path] = []  # WAV files written, in order (wav_dir mode)

    def _next_wav(self, kind: str) -> Path:
        """The next numbered WAV path in `wav_dir`."""
        assert self._wav_dir is not None
        self._count += 1
        path = self._wav_dir / f"{self._count:04d}-{kind}.wav"
        self.files.append(path)
        return path

    def _run(self, args: list[str]) -> None:
        """Run a command to completion; errors become VoiceError."""
        try:
            subprocess.run(args, check=True, capture_output=True, timeout=self._timeout)  # noqa: S603 (our own argv)
        except (OSError, subprocess.SubprocessError) as e:
            raise VoiceError(f"{args[0]} failed: {e}") from e

    def say(self, text: str) -> None:
        """Speak `text` (or write it to the next WAV file)."""
        args = [self._exe, "-v", self._voice, "-s", str(self._speed)]
        if self._wav_dir is not None:
            args += ["-w", str(self._next_wav("say"))]
        self._run([*args, text])

    def chime(self) -> None:
        """Play the chime (or write it to the next WAV file)."""
        if self._wav_dir is not None:
            write_chime(self._next_wav("chime"))
            return
        if shutil.which(self._player[0]) is None:
            raise VoiceError(f"chime player {self._player[0]} is not installed")
        if self._chime_path is None:
            fd, name = tempfile.mkstemp(suffix=".wav", prefix="chime-")
            os.close(fd)
            self._chime_path = write_chime(Path(name))
        self._run([*self._player, str(self._chime_path)])


_STOP = object()


class Announcer:
    """Speaks announcements from a queue on its own thread: in order, never overlapping, each repeated
    `settings.repeat` times (with a chime first when `settings.chime`). A silent hall never speaks."""

    def __init__(self, engine: Engine | None, settings: VoiceSettings) -> None:
        """`engine` may be None only for a silent hall."""
        if engine is None and not settings.silent:
            raise VoiceError("a hall that is not silent needs a voice engine")
        self._engine = engine
        self._settings = settings
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.errors: list[VoiceError] = []

    @property
    def silent(self) -> bool:
        """True when this announcer never speaks."""
        return self._settings.silent

    def start(self) -> None:
        """Start the announcer thread (a silent hall starts nothing)."""
        if self.silent or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="announcer", daemon=True)
        self._thread.start()

    def announce(self, text: str) -> bool:
        """Queue `text`; returns False (and does nothing) in a silent hall."""
        if self.silent:
            return False
        self._queue.put(text)
        return True

    def announce_call(self, number: str, window: int) -> bool:
        """Queue the announcement of a call."""
        return self.announce(announcement(number, window))

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until everything queued has been spoken (tests, shutdown); False on timeout."""
        done = threading.Event()

        def _join() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=_join, daemon=True).start()
        return done.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the announcement in progress; what is still queued is dropped."""
        if self._thread is None:
            return
        while True:
            try:
                self._queue.get_nowait()
                self._queue.task_done()
            except queue.Empty:
                break
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    def _loop(self) -> None:
        """The announcer thread: one announcement at a time."""
        assert self._engine is not None
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                for i in range(max(1, self._settings.repeat)):
                    if self._settings.chime and i == 0:
                        self._engine.chime()
                    self._engine.say(str(item))
            except VoiceError as e:
                self.errors.append(e)
            finally:
                self._queue.task_done()
