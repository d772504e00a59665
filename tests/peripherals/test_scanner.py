"""Code scanners: line assembly, URL parsing, a serial scanner over a pseudo-terminal, keyboard wedge, sim."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peripherals import DeviceUnavailable, open_scanner
from peripherals.scanner import (
    KeyboardWedgeScanner,
    LineAssembler,
    PtyScannerSimulator,
    SerialScanner,
    SimScanner,
    WedgeAssembler,
    parse_serial_url,
)

WAIT = 3.0  # generous: CI machines are slow, and a passing read returns at once

codes = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"), min_size=1, max_size=40)


# --- line assembly (pure) ----------------------------------------------------------------------------


@pytest.mark.parametrize("ending", [b"\r", b"\n", b"\r\n"])
def test_each_line_ending_ends_a_code(ending: bytes) -> None:
    lines = LineAssembler()
    assert lines.feed(b"APT-2026-0042" + ending) == ["APT-2026-0042"]
    assert lines.pending == b""


def test_code_split_across_chunks_and_two_codes_in_one_chunk() -> None:
    lines = LineAssembler()
    assert lines.feed(b"AB") == []
    assert lines.feed(b"C\r\nDE") == ["ABC"]
    assert lines.feed(b"F\rGHI\n") == ["DEF", "GHI"]


def test_overlong_noise_is_discarded() -> None:
    lines = LineAssembler(max_length=8)
    assert lines.feed(b"x" * 20) == []
    assert lines.discarded == 2
    assert lines.feed(b"\rOK\r") == ["xxxx", "OK"]  # the tail after the last discard, then the next code


def test_chinese_payload_in_gb18030() -> None:
    assert LineAssembler("gb18030").feed("威海A023\r".encode("gb18030")) == ["威海A023"]


@given(
    st.lists(st.tuples(codes, st.sampled_from(["\r", "\n", "\r\n"])), min_size=1, max_size=8),
    st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=20),
)
def test_any_chunking_yields_the_codes_in_order(items: list[tuple[str, str]], cuts: list[int]) -> None:
    stream = b"".join((code + ending).encode() for code, ending in items)
    lines = LineAssembler()
    out: list[str] = []
    position, i = 0, 0
    while position < len(stream):
        size = cuts[i % len(cuts)]
        out += lines.feed(stream[position : position + size])
        position += size
        i += 1
    assert out == [code for code, _ in items]


# --- URLs ----------------------------------------------------------------------------------------------


def test_parse_device_path_with_settings() -> None:
    target = parse_serial_url("serial:///dev/ttyACM0?baudrate=115200&parity=e&stopbits=2")
    assert target.port == "/dev/ttyACM0"
    assert target.settings == {"baudrate": 115200, "parity": "E", "stopbits": 2}


def test_parse_pyserial_urls() -> None:
    assert parse_serial_url("loop://").port == "loop://"
    assert parse_serial_url("serial+loop://?logging=debug&baudrate=9600").port == "loop://?logging=debug"
    assert parse_serial_url("serial+socket://10.0.0.5:7000").port == "socket://10.0.0.5:7000"


@pytest.mark.parametrize(
    "url",
    ["serial:///dev/ttyACM0?speed=9600", "serial://", "serial:///dev/x?baudrate=fast", "serial+nope://x"],
)
def test_bad_serial_urls(url: str) -> None:
    with pytest.raises(ValueError):
        parse_serial_url(url)


@pytest.mark.parametrize("url", ["ftp://host/x", "serial:///dev/ttyACM0?speed=9600", "keyboard://?min_length=0"])
def test_open_refuses_bad_urls(url: str) -> None:
    with pytest.raises(DeviceUnavailable):
        open_scanner(url)


def test_unopenable_port_is_device_unavailable() -> None:
    with pytest.raises(DeviceUnavailable, match="/dev/ttyNOSUCHSCANNER"):
        open_scanner("serial:///dev/ttyNOSUCHSCANNER")


def test_loop_url_goes_through_serial_for_url() -> None:
    scanner = open_scanner("loop://")
    try:
        assert isinstance(scanner, SerialScanner)
        scanner.port.write(b"LOOP-1\r\n")
        assert scanner.read(WAIT) == "LOOP-1"
    finally:
        scanner.close()


# --- serial scanner over a pseudo-terminal ----------------------------------------------------------------


@pytest.fixture
def pty_scanner() -> Iterator[tuple[PtyScannerSimulator, SerialScanner]]:
    sim = PtyScannerSimulator()
    scanner = open_scanner(sim.url + "?baudrate=9600")
    assert isinstance(scanner, SerialScanner)
    yield sim, scanner
    scanner.close()
    sim.close()


@pytest.mark.parametrize("ending", ["\r", "\n", "\r\n"])
def test_pty_scan_with_each_ending(pty_scanner: tuple[PtyScannerSimulator, SerialScanner], ending: str) -> None:
    sim, scanner = pty_scanner
    sim.scan("YY-7K3Q9", ending)
    assert scanner.read(WAIT) == "YY-7K3Q9"
    assert scanner.read(0.2) is None  # the LF of CR LF is not a second, empty code


def test_pty_two_codes_back_to_back(pty_scanner: tuple[PtyScannerSimulator, SerialScanner]) -> None:
    sim, scanner = pty_scanner
    sim.write(b"https://hall.example.cn/a/1\rAPT-2\r\n")
    assert scanner.read(WAIT) == "https://hall.example.cn/a/1"
    assert scanner.read(WAIT) == "APT-2"


def test_pty_timeout_returns_none(pty_scanner: tuple[PtyScannerSimulator, SerialScanner]) -> None:
    _, scanner = pty_scanner
    started = time.monotonic()
    assert scanner.read(0.3) is None
    assert 0.25 <= time.monotonic() - started < 2.0


def test_pty_health_ok_then_unplugged(pty_scanner: tuple[PtyScannerSimulator, SerialScanner]) -> None:
    sim, scanner = pty_scanner
    assert scanner.health().status == "ok"
    sim.unplug()
    deadline = time.monotonic() + WAIT
    while scanner.health().status == "ok" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert scanner.health().status == "unplugged"
    scanner.close()
    assert scanner.health().status == "offline"


def test_pty_callback_runs_on_the_delivery_thread(pty_scanner: tuple[PtyScannerSimulator, SerialScanner]) -> None:
    sim, scanner = pty_scanner
    got: list[tuple[str, str]] = []
    done = threading.Event()

    def on_code(code: str) -> None:
        got.append((code, threading.current_thread().name))
        if len(got) == 2:
            done.set()

    scanner.on_code(on_code)
    sim.scan("A1")
    sim.scan("B2", "\n")
    assert done.wait(WAIT)
    assert [code for code, _ in got] == ["A1", "B2"]
    assert all(name.startswith("scanner-delivery:") for _, name in got)
    with pytest.raises(RuntimeError):
        scanner.read(0.1)
    scanner.on_code(None)
    sim.scan("C3")
    assert scanner.read(WAIT) == "C3"


def test_close_wakes_a_blocked_read(pty_scanner: tuple[PtyScannerSimulator, SerialScanner]) -> None:
    _, scanner = pty_scanner
    result: list[str | None] = ["unset"]
    reader = threading.Thread(target=lambda: result.__setitem__(0, scanner.read()))
    reader.start()
    time.sleep(0.1)
    scanner.close()
    reader.join(WAIT)
    assert not reader.is_alive()
    assert result == [None]


# --- keyboard wedge --------------------------------------------------------------------------------------


def burst(assembler: WedgeAssembler, text: str, start: float, gap: float, enter_gap: float | None = None) -> list[str]:
    """Type `text` with `gap` seconds between keys, then Enter; return the codes produced."""
    out = []
    at = start
    for char in text:
        if (code := assembler.push(char, at)) is not None:
            out.append(code)
        at += gap
    code = assembler.push("enter", at - gap + (gap if enter_gap is None else enter_gap))
    return out + ([code] if code is not None else [])


def test_wedge_fast_burst_is_a_code() -> None:
    assert burst(WedgeAssembler(), "YY-7K3Q9", 0.0, 0.004) == ["YY-7K3Q9"]


def test_wedge_slow_human_typing_is_ignored() -> None:
    assert burst(WedgeAssembler(), "12345678", 0.0, 0.15) == []


def test_wedge_human_key_before_a_scan_does_not_pollute_it() -> None:
    wedge = WedgeAssembler()
    assert wedge.push("x", 0.0) is None
    assert burst(wedge, "APT-0042", 1.0, 0.003) == ["APT-0042"]


def test_wedge_late_enter_short_burst_and_editing_keys() -> None:
    assert burst(WedgeAssembler(), "APT-0042", 0.0, 0.003, enter_gap=0.2) == []
    assert burst(WedgeAssembler(), "AB", 0.0, 0.003) == []  # shorter than min_length
    wedge = WedgeAssembler()
    for i, char in enumerate("APT-"):
        wedge.push(char, i * 0.003)
    wedge.push("backspace", 0.013)
    assert wedge.pending == ""


def test_wedge_modifiers_do_not_break_a_burst() -> None:
    wedge = WedgeAssembler()
    events = [("shift", 0.000), ("A", 0.002), ("shift", 0.004), ("B", 0.006), ("1", 0.008), ("2", 0.010)]
    for key, at in events:
        wedge.push(key, at)
    assert wedge.push("Return", 0.012) == "AB12"


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=4, max_size=60))
def test_wedge_any_fast_code_is_recognised(code: str) -> None:
    assert burst(WedgeAssembler(), code, 100.0, 0.01) == [code]


@given(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30),
    st.floats(min_value=0.051, max_value=2.0),
)
def test_wedge_typing_slower_than_the_gap_never_makes_a_code(text: str, gap: float) -> None:
    assert burst(WedgeAssembler(), text, 0.0, gap) == []


def test_keyboard_scanner_from_url() -> None:
    scanner = open_scanner("keyboard://?max_gap_ms=30&min_length=6")
    assert isinstance(scanner, KeyboardWedgeScanner)
    try:
        t = 50.0
        for char in "APT-0042":
            assert scanner.feed(char, at=t) is False
            t += 0.01
        assert scanner.feed("\r", at=t) is True
        assert scanner.read(WAIT) == "APT-0042"
        assert scanner.health().status == "ok"
    finally:
        scanner.close()
    assert scanner.health().status == "offline"


# --- sim:// ---------------------------------------------------------------------------------------------


def test_sim_scanner_read_callback_and_health() -> None:
    scanner = open_scanner("sim://")
    assert isinstance(scanner, SimScanner)
    scanner.scan("APT-1")
    assert scanner.read(WAIT) == "APT-1"
    scanner.scan("APT-2")  # waits for a reader; the callback registered next receives it
    seen: list[str] = []
    done = threading.Event()

    def on_code(code: str) -> None:
        seen.append(code)
        if len(seen) == 2:
            done.set()

    scanner.on_code(on_code)
    scanner.scan("APT-3")
    assert done.wait(WAIT)
    assert seen == ["APT-2", "APT-3"]
    with pytest.raises(ValueError):
        scanner.scan("bad\rcode")
    scanner.set_health("error", "lens dirty")
    assert scanner.health().status == "error"
    scanner.close()
    assert scanner.health().status == "offline"
    assert scanner.read(0.1) is None


def test_sim_scanner_codes_queue_in_order() -> None:
    with SimScanner() as scanner:
        for code in ("1111", "2222", "3333"):
            scanner.scan(code)
        assert [scanner.read(WAIT) for _ in range(3)] == ["1111", "2222", "3333"]
        assert scanner.read(0.05) is None


def test_callback_exception_does_not_stop_delivery() -> None:
    with SimScanner() as scanner:
        seen: list[str] = []
        done = threading.Event()

        def flaky(code: str) -> None:
            if code == "boom":
                raise RuntimeError("callback bug")
            seen.append(code)
            done.set()

        scanner.on_code(flaky)
        scanner.scan("boom")
        scanner.scan("fine")
        assert done.wait(WAIT)
        assert seen == ["fine"]
