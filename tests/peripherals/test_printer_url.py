"""The printer URL grammar, and URLs or ports that cannot be opened: `DeviceUnavailable` at open time."""

from __future__ import annotations

import socket

import pytest

from peripherals import open_printer as lazily_exported_open_printer
from peripherals.errors import DeviceUnavailable
from peripherals.printer import PAPER_58, PAPER_80, EscposPrinter, TicketPrinter, open_printer, parse_printer_url
from peripherals.printer.transports import SerialTransport, SimTransport


def test_serial_path() -> None:
    url = parse_printer_url("escpos+serial:///dev/ttyUSB0?baudrate=19200&paper=58&timeout=0.5&rtscts=1")
    assert (url.kind, url.target, url.baudrate, url.paper, url.timeout) == (
        "serial",
        "/dev/ttyUSB0",
        19200,
        PAPER_58,
        0.5,
    )
    assert url.flow == {"rtscts": True}


def test_serial_defaults() -> None:
    url = parse_printer_url("escpos+serial:///dev/serial/by-id/usb-Printer%20X-if00")
    assert (url.target, url.baudrate, url.paper, url.timeout, url.flow) == (
        "/dev/serial/by-id/usb-Printer X-if00",
        9600,
        PAPER_80,
        1.0,
        {},
    )


@pytest.mark.parametrize(
    ("url", "target", "baudrate"),
    [
        ("escpos+serial:loop://", "loop://", 9600),
        ("escpos+serial:loop://?logging=debug&paper=58", "loop://?logging=debug", 9600),
        ("escpos+serial:socket://127.0.0.1:9100", "socket://127.0.0.1:9100", 9600),
        (
            "escpos+serial:spy:///dev/ttyUSB0?file=/tmp/s.txt&baudrate=115200",
            "spy:///dev/ttyUSB0?file=/tmp/s.txt",
            115200,
        ),
        ("escpos+serial:rfc2217://10.0.0.5:4001?timeout=2", "rfc2217://10.0.0.5:4001", 9600),
    ],
)
def test_serial_pyserial_urls_pass_through(url: str, target: str, baudrate: int) -> None:
    parsed = parse_printer_url(url)
    assert (parsed.kind, parsed.target, parsed.baudrate) == ("serial", target, baudrate)


def test_tcp() -> None:
    url = parse_printer_url("escpos+tcp://192.168.1.50?paper=58")
    assert (url.kind, url.target, url.port, url.paper) == ("tcp", "192.168.1.50", 9100, PAPER_58)
    assert parse_printer_url("escpos+tcp://printer.local:9101/").port == 9101
    assert parse_printer_url("escpos+tcp://[::1]:9100").target == "::1"


def test_sim() -> None:
    url = parse_printer_url("sim://?state=paper_low&paper=58")
    assert (url.kind, url.sim_state, url.paper) == ("sim", "paper_low", PAPER_58)
    assert parse_printer_url("sim://").sim_state == "ok"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "no printer URL"),
        ("usb://0x0416:0x5011", "unknown scheme"),
        ("/dev/ttyUSB0", "unknown scheme"),
        ("escpos+serial://dev/ttyUSB0", "three slashes"),
        ("escpos+serial:///", "three slashes"),
        ("escpos+serial:/dev/ttyUSB0", r"expected escpos\+serial:///DEVICE"),
        ("escpos+serial:///dev/ttyUSB0?baud=9600", "unknown option 'baud'"),
        ("escpos+serial:///dev/ttyUSB0?baudrate=fast", "not a number"),
        ("escpos+serial:///dev/ttyUSB0?baudrate=9600&baudrate=19200", "given twice"),
        ("escpos+serial:///dev/ttyUSB0?rtscts=maybe", "not 0 or 1"),
        ("escpos+serial:///dev/ttyUSB0?paper=76", "paper='76'"),
        ("escpos+serial:///dev/ttyUSB0?timeout=0", "out of range"),
        ("escpos+tcp://", "HOST"),
        ("escpos+tcp://printer:ninety", "port"),
        ("escpos+tcp://printer:9100/queue", "no path"),
        ("escpos+tcp://printer?state=ok", "unknown option 'state'"),
        ("sim://somewhere", "expected sim://"),
        ("sim:", "expected sim://"),
        ("sim://?state=jammed", "state='jammed'"),
    ],
)
def test_malformed_urls(url: str, message: str) -> None:
    with pytest.raises(DeviceUnavailable, match=message):
        parse_printer_url(url)
    with pytest.raises(DeviceUnavailable):
        open_printer(url)


def test_missing_serial_device() -> None:
    with pytest.raises(DeviceUnavailable, match="cannot open printer port '/dev/no-such-printer'"):
        open_printer("escpos+serial:///dev/no-such-printer")


def test_unknown_pyserial_protocol() -> None:
    with pytest.raises(DeviceUnavailable, match="cannot open printer port"):
        open_printer("escpos+serial:nosuch://x")


def test_bad_pyserial_option() -> None:
    with pytest.raises(DeviceUnavailable, match="cannot open printer port"):
        open_printer("escpos+serial:loop://?colour=red")


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_refused_tcp() -> None:
    port = closed_port()
    with pytest.raises(DeviceUnavailable, match=f"cannot connect to the printer at 127.0.0.1:{port}"):
        open_printer(f"escpos+tcp://127.0.0.1:{port}")


def test_refused_pyserial_socket() -> None:
    with pytest.raises(DeviceUnavailable, match="cannot open printer port"):
        open_printer(f"escpos+serial:socket://127.0.0.1:{closed_port()}")


def test_open_returns_a_ticket_printer() -> None:
    with open_printer("sim://?paper=58") as printer:
        assert isinstance(printer, TicketPrinter)
        assert isinstance(printer, EscposPrinter)
        assert isinstance(printer.transport, SimTransport)
        assert printer.paper is PAPER_58
    with lazily_exported_open_printer("escpos+serial:loop://") as printer:
        assert isinstance(printer.transport, SerialTransport)
