"""Real-time status: decoding `DLE EOT` answers, the simulator's answers, health over every transport."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from peripherals.errors import ProtocolError
from peripherals.health import DeviceHealth
from peripherals.printer import EscposPrinter, decode_health, open_printer
from peripherals.printer.simulator import PtySimulator, SimulatedPrinter, TcpSimulator
from peripherals.printer.status import check_status_byte

# (DLE EOT 1, DLE EOT 2, DLE EOT 4) → status, as an Epson-compatible printer answers them.
ANSWERS = [
    ((0x12, 0x12, 0x12), "ok"),
    ((0x12, 0x12, 0x1E), "paper_low"),  # near-end sensor, both bits
    ((0x12, 0x12, 0x16), "paper_low"),  # near-end sensor, one bit (clones)
    ((0x1A, 0x32, 0x7E), "paper_out"),  # offline, stopped by paper end, both sensors
    ((0x1A, 0x12, 0x72), "paper_out"),  # paper-end sensor only
    ((0x1A, 0x32, 0x12), "paper_out"),  # offline cause only
    ((0x1A, 0x16, 0x12), "cover_open"),
    ((0x1A, 0x36, 0x7E), "cover_open"),  # cover open wins over paper out: close it first
    ((0x1A, 0x12, 0x12), "offline"),  # offline without a cause (feed button held)
    ((0x1A, 0x52, 0x12), "error"),  # error occurred
]


@pytest.mark.parametrize(("answers", "status"), ANSWERS)
def test_decode(answers: tuple[int, int, int], status: str) -> None:
    health = decode_health(*answers)
    assert health.status == status
    assert health.ok is (status in ("ok", "paper_low"))


@pytest.mark.parametrize("value", [0x00, 0x10, 0x13, 0x92, 0xFF, 0x02])
def test_malformed_status_byte(value: int) -> None:
    with pytest.raises(ProtocolError, match="not a status byte"):
        check_status_byte(1, value)
    with pytest.raises(ProtocolError):
        decode_health(0x12, value, 0x12)


@pytest.mark.parametrize(
    ("state", "answers"),
    [
        ("ok", (0x12, 0x12, 0x12)),
        ("paper_low", (0x12, 0x12, 0x1E)),
        ("paper_out", (0x1A, 0x32, 0x7E)),
        ("cover_open", (0x1A, 0x16, 0x12)),
    ],
)
def test_simulator_answers(state: str, answers: tuple[int, int, int]) -> None:
    sim = SimulatedPrinter(state=state)
    assert sim.feed(b"\x10\x04\x01\x10\x04\x02\x10\x04\x04") == bytes(answers)
    assert sim.status_requests == [1, 2, 4]
    assert sim.job_bytes == b""


def test_offline_simulator_never_answers() -> None:
    sim = SimulatedPrinter(state="offline")
    assert sim.feed(b"\x10\x04\x01") == b""
    assert sim.received == b"\x10\x04\x01"


def test_status_request_split_across_reads() -> None:
    sim = SimulatedPrinter(state="paper_low")
    assert sim.feed(b"\x10") == b""
    assert sim.feed(b"\x04") == b""
    assert sim.feed(b"\x04") == b"\x1e"


STATES = ["ok", "paper_low", "paper_out", "cover_open", "offline"]


@pytest.mark.parametrize("state", STATES)
def test_health_in_process(state: str) -> None:
    with open_printer(f"sim://?state={state}") as printer:
        assert printer.health().status == state


@pytest.fixture(params=["pty", "tcp"])
def server(request: pytest.FixtureRequest) -> Iterator[PtySimulator | TcpSimulator]:
    """The simulator on a pseudo-terminal or on TCP loopback."""
    cls = PtySimulator if request.param == "pty" else TcpSimulator
    with cls(SimulatedPrinter()) as srv:
        yield srv


@pytest.mark.parametrize("state", STATES[:-1])
def test_health_over_the_wire(server: PtySimulator | TcpSimulator, state: str) -> None:
    server.printer.set_state(state)
    with open_printer(server.url) as printer:
        assert printer.health().status == state
        assert server.printer.status_requests[:3] == [1, 2, 4]


def test_no_answer_within_the_timeout_is_offline(server: PtySimulator | TcpSimulator) -> None:
    server.printer.set_state("offline")
    with open_printer(f"{server.url}?timeout=0.2") as printer:
        started = time.monotonic()
        health = printer.health()
        elapsed = time.monotonic() - started
    assert health == DeviceHealth("offline", "no answer to DLE EOT 1 within 0.2 s")
    assert 0.2 <= elapsed < 1.0  # one timeout, not one per request
    assert server.printer.received == b"\x10\x04\x01"


def test_late_answer_is_not_taken_for_the_next_one() -> None:
    with open_printer("sim://?state=paper_low") as printer:
        assert isinstance(printer, EscposPrinter)
        printer.transport.write(b"\x10\x04\x01")  # an answer (0x12) nobody reads ...
        assert printer.health().status == "paper_low"  # ... is discarded before each request


def test_garbled_answer_is_error() -> None:
    with open_printer("escpos+serial:loop://") as printer:  # loop:// echoes the request: 0x10
        health = printer.health()
    assert health.status == "error"
    assert "0x10" in health.detail


def test_printer_gone_is_offline() -> None:
    srv = TcpSimulator().start()
    printer = open_printer(f"{srv.url}?timeout=0.2")
    srv.stop()
    try:
        assert printer.health().status == "offline"
    finally:
        printer.close()
