"""The four-key evaluator: EV1 bytes exactly, decoding through noise, the serial driver against the pty simulator."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peripherals.errors import DeviceTimeout, DeviceUnavailable
from peripherals.evaluator import PtyEvaluatorSimulator, SerialEvaluator, open_evaluator
from peripherals.evaluator import protocol as p


def test_exact_frames() -> None:
    assert p.prompt("A001") == bytes(
        [0x02, 0x10, 0x04, 0x41, 0x30, 0x30, 0x31, 0x10 ^ 4 ^ 0x41 ^ 0x30 ^ 0x30 ^ 0x31, 0x03]
    )
    assert p.encode(p.CANCEL) == b"\x02\x11\x00\x11\x03"
    assert p.key(4, p.LONG) == b"\x02\x80\x02\x04\x01\x87\x03"
    assert p.key(4, p.SHORT, ("slow", "attitude")) == b"\x02\x80\x03\x04\x00\x03\x84\x03"
    with pytest.raises(ValueError):
        p.prompt("")
    with pytest.raises(ValueError):
        p.key(5)


@pytest.mark.parametrize(
    ("key", "press", "level"), [(1, 0, 5), (2, 0, 4), (3, 0, 3), (4, 0, 2), (4, 1, 1), (1, 1, 5), (3, 1, 3)]
)
def test_keys_mean_levels(key: int, press: int, level: int) -> None:
    (frame,) = p.Decoder().feed(p.key(key, press))
    assert p.key_press(frame) == p.KeyPress(level)


def test_reasons_and_invalid_keys() -> None:
    (frame,) = p.Decoder().feed(p.key(4, p.LONG, ("unclear", "repeat")))
    assert p.key_press(frame) == p.KeyPress(1, ("unclear", "repeat"))
    assert p.key_press(p.Frame(p.KEY, bytes([9, 0]))) is None
    assert p.key_press(p.Frame(p.ACK, bytes([p.PROMPT]))) is None


def test_decoder_resynchronises_after_noise_and_bad_frames() -> None:
    d = p.Decoder()
    good = p.key(2)
    corrupt = bytearray(p.key(1))
    corrupt[-2] ^= 0xFF  # wrong BCC
    frames = d.feed(b"\xff\x00" + bytes(corrupt) + good[:3])
    assert frames == []
    assert d.feed(good[3:]) == [p.Frame(p.KEY, bytes([2, 0]))]
    assert d.noise > 0


@given(st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=p.MAX_DATA)), max_size=8), st.integers(1, 7))
def test_any_frames_survive_any_chunking(frames: list[tuple[int, bytes]], chunk: int) -> None:
    stream = b"".join(p.encode(c, d) for c, d in frames)
    d = p.Decoder()
    out = []
    for i in range(0, len(stream), chunk):
        out += d.feed(stream[i : i + chunk])
    assert out == [p.Frame(c, d_) for c, d_ in frames]


def test_serial_driver_against_the_pty_simulator() -> None:
    with PtyEvaluatorSimulator() as sim:
        ev = open_evaluator(sim.url)
        assert isinstance(ev, SerialEvaluator)
        try:
            ev.prompt("B012")
            assert sim.shown == "B012"
            sim.press(1, ("attitude",))
            assert ev.read_key(2.0) == p.KeyPress(1, ("attitude",))
            sim.write(b"\x55" + p.key(3)[:4])  # noise, then half a frame …
            assert ev.read_key(0.3) is None
            sim.write(p.key(3)[4:])  # … completed
            assert ev.read_key(2.0) == p.KeyPress(3)
            ev.thanks()
            assert sim.shown is None
            assert ev.health().status == "ok"
        finally:
            ev.close()


def test_a_silent_evaluator_is_an_error_and_a_missing_port_fails_loudly() -> None:
    with PtyEvaluatorSimulator(answer=False) as sim:
        ev = SerialEvaluator(sim.url)
        try:
            with pytest.raises(DeviceTimeout):
                ev.prompt("A001")
        finally:
            ev.close()
    with pytest.raises(DeviceUnavailable):
        open_evaluator("serial:///dev/does-not-exist")
