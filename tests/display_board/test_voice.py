"""The announcer: queued, in order, never overlapping, repeated per hall setting; silent halls never speak."""

from __future__ import annotations

import os
import shutil
import threading
import time
import wave
from pathlib import Path

import pytest

from display_board.voice import Announcer, EspeakEngine, VoiceError, VoiceSettings, announcement, write_chime

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


class FakeEngine:
    """Records what it says and checks that no two sounds ever overlap."""

    def __init__(self, seconds: float = 0.01) -> None:
        self.seconds = seconds
        self.log: list[str] = []
        self.busy = threading.Lock()
        self.overlaps = 0
        self.threads: set[str] = set()

    def _sound(self, what: str) -> None:
        if not self.busy.acquire(blocking=False):
            self.overlaps += 1
            self.busy.acquire()
        try:
            self.threads.add(threading.current_thread().name)
            time.sleep(self.seconds)
            self.log.append(what)
        finally:
            self.busy.release()

    def say(self, text: str) -> None:
        self._sound(text)

    def chime(self) -> None:
        self._sound("<chime>")


def test_announcements_are_spoken_in_order_repeated_with_one_chime_first() -> None:
    engine = FakeEngine()
    a = Announcer(engine, VoiceSettings(silent=False, repeat=2, chime=True))
    a.start()
    try:
        assert a.announce("one") and a.announce("two")
        assert a.wait_idle(5)
    finally:
        a.stop()
    assert engine.log == ["<chime>", "one", "one", "<chime>", "two", "two"]
    assert engine.threads == {"announcer"}


def test_no_chime_and_single_repeat() -> None:
    engine = FakeEngine()
    a = Announcer(engine, VoiceSettings(silent=False, repeat=1, chime=False))
    a.start()
    try:
        a.announce_call("A023", 3)
        assert a.wait_idle(5)
    finally:
        a.stop()
    assert engine.log == [announcement("A023", 3)]


def test_announcements_from_many_threads_never_overlap() -> None:
    engine = FakeEngine(seconds=0.002)
    a = Announcer(engine, VoiceSettings(silent=False, repeat=2, chime=True))
    a.start()
    try:
        callers = [threading.Thread(target=lambda i=i: [a.announce(f"{i}-{k}") for k in range(5)]) for i in range(4)]
        for t in callers:
            t.start()
        for t in callers:
            t.join()
        assert a.wait_idle(10)
    finally:
        a.stop()
    assert engine.overlaps == 0
    assert len(engine.log) == 4 * 5 * 3
    # each announcement's chime and repeats stay together
    for i in range(0, len(engine.log), 3):
        chime, first, second = engine.log[i : i + 3]
        assert chime == "<chime>" and first == second
    # per caller, its announcements keep their order
    for i in range(4):
        said = [x for x in engine.log[1::3] if x.startswith(f"{i}-")]
        assert said == [f"{i}-{k}" for k in range(5)]


def test_silent_hall_never_speaks() -> None:
    engine = FakeEngine()
    a = Announcer(engine, VoiceSettings(silent=True, repeat=3, chime=True))
    a.start()
    assert a.silent
    assert not a.announce("A023")
    assert not a.announce_call("A023", 3)
    assert a.wait_idle(1)
    a.stop()
    assert engine.log == []
    assert not any(t.name == "announcer" for t in threading.enumerate())


def test_silent_hall_needs_no_engine_but_a_speaking_hall_does() -> None:
    Announcer(None, VoiceSettings(silent=True))
    with pytest.raises(VoiceError):
        Announcer(None, VoiceSettings(silent=False))


def test_engine_errors_are_kept_and_the_announcer_goes_on() -> None:
    class Broken(FakeEngine):
        def say(self, text: str) -> None:
            if text == "bad":
                raise VoiceError("boom")
            super().say(text)

    engine = Broken()
    a = Announcer(engine, VoiceSettings(silent=False, repeat=1, chime=False))
    a.start()
    try:
        a.announce("bad")
        a.announce("good")
        assert a.wait_idle(5)
    finally:
        a.stop()
    assert engine.log == ["good"]
    assert [str(e) for e in a.errors] == ["boom"]


def test_announcement_spells_the_ticket_number() -> None:
    assert announcement("A023", 3) == "请 A 0 2 3 号到 3 号窗口办理"


def test_chime_is_a_valid_wav(tmp_path: Path) -> None:
    path = write_chime(tmp_path / "chime.wav")
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 1 and w.getnframes() > 1000


def test_espeak_ng_writes_non_empty_wavs_in_order(tmp_path: Path) -> None:
    if shutil.which("espeak-ng") is None:
        if IN_CI:
            pytest.fail("espeak-ng is not installed (apt-get install espeak-ng)")
        pytest.skip("espeak-ng is not installed")
    engine = EspeakEngine(wav_dir=tmp_path)
    a = Announcer(engine, VoiceSettings(silent=False, repeat=2, chime=True))
    a.start()
    try:
        a.announce_call("A023", 3)
        assert a.wait_idle(30)
    finally:
        a.stop()
    assert a.errors == []
    assert [p.name for p in engine.files] == ["0001-chime.wav", "0002-say.wav", "0003-say.wav"]
    for p in engine.files:
        with wave.open(str(p)) as w:
            assert w.getnframes() > 1000, p
    with wave.open(str(engine.files[1])) as w:
        assert w.getnframes() / w.getframerate() > 1.0  # a real sentence, not a click
