"""End to end: `open_printer(url)` → transport → simulator, read back as the same text lines and QR payload."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from peripherals.errors import PrinterError
from peripherals.printer import PAPER_58, PAPER_80, EscposPrinter, Paper, TicketData, open_printer
from peripherals.printer.simulator import Document, PtySimulator, SimulatedPrinter, TcpSimulator

URL = "https://hall.example.cn/t/Zx8vQm2LkP0aRt7Y"
TICKET = TicketData(
    hall_name="威海市政务服务中心",
    hall_name_en="Weihai Service Centre",
    number="B007",
    domain_name="社保医保",
    domain_name_en="Social and medical insurance",
    lane="appointment",
    people_ahead=4,
    estimated_wait_min=10,
    issued_at=datetime(2026, 11, 27, 10, 5),
    tracking_url=URL,
)
EXPECTED_80 = [
    "威海市政务服务中心",
    "Weihai Service Centre",
    "-" * 47,
    "B007",
    "-" * 47,
    "社保医保  [预约]",
    "Social and medical insurance  [Appointment]",
    "前面还有 4 人 · 约 10 分钟",
    "4 people ahead · about 10 min",
    "2026-11-27 10:05",
    "扫码查看排队进度",
    "Scan to follow your turn",
    "过号请到总服务台 · 请妥善保管本票",
    "Missed your turn? Ask at the general desk ·",
    "Keep this ticket",
]
EXPECTED_58 = [
    "威海市政务服务中心",
    "-" * 31,
    "B007",
    "-" * 31,
    "社保医保  [预约]",
    "前面还有 4 人 · 约 10 分钟",
    "2026-11-27 10:05",
    "扫码查看排队进度",
    "过号请到总服务台 ·",
    "请妥善保管本票",
]


def check(doc: Document, paper: Paper) -> None:
    """The document is the ticket, line for line, with its QR code and a partial cut."""
    assert doc.text_lines == (EXPECTED_80 if paper is PAPER_80 else EXPECTED_58)
    (number,) = [line for line in doc.lines if line.text == "B007"]
    assert (number.width, number.height) == (4, 4)  # quad size, read back from the wire's GS ! bytes
    assert max(line.height for line in doc.lines if line is not number) < 4
    assert doc.qr_payloads == [URL]
    assert doc.cut == "partial"


@pytest.fixture(params=["pty", "tcp", "pyserial-socket"])
def wire(request: pytest.FixtureRequest) -> Iterator[tuple[str, SimulatedPrinter]]:
    """A printer URL and the simulated printer behind it: pseudo-terminal, TCP, or pyserial's socket://."""
    printer = SimulatedPrinter()
    if request.param == "pty":
        with PtySimulator(printer) as pty:
            yield pty.url, printer
        return
    with TcpSimulator(printer) as tcp:
        host, port = tcp.address
        yield (tcp.url if request.param == "tcp" else f"escpos+serial:socket://{host}:{port}"), printer


@pytest.mark.parametrize("paper", [PAPER_80, PAPER_58], ids=["80mm", "58mm"])
def test_over_the_wire(wire: tuple[str, SimulatedPrinter], paper: Paper) -> None:
    url, sim = wire
    separator = "&" if "?" in url else "?"
    with open_printer(f"{url}{separator}paper={paper.name[:2]}") as printer:
        printer.print_ticket(TICKET)
        printer.print_ticket(dataclasses.replace(TICKET, number="B008"))
        docs = sim.wait_for_documents(2)
    check(docs[0], paper)
    assert "B008" in docs[1].text_lines
    assert sim.unknown == []
    assert sim.status_requests == [1, 2, 4, 1, 2, 4]  # status asked before each ticket


@pytest.mark.parametrize("paper", [PAPER_80, PAPER_58], ids=["80mm", "58mm"])
def test_in_process(paper: Paper) -> None:
    with open_printer(f"sim://?paper={paper.name[:2]}") as printer:
        assert isinstance(printer, EscposPrinter)
        printer.print_ticket(TICKET)
        sim = printer.transport.simulator  # type: ignore[attr-defined]
    (doc,) = sim.documents
    check(doc, paper)


def test_paper_low_still_prints() -> None:
    with open_printer("sim://?state=paper_low") as printer:
        printer.print_ticket(TICKET)
        assert len(printer.transport.simulator.documents) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("state", ["paper_out", "cover_open"])
def test_not_ready_raises_before_any_job_byte(state: str) -> None:
    with open_printer(f"sim://?state={state}") as printer:
        sim = printer.transport.simulator  # type: ignore[attr-defined]
        with pytest.raises(PrinterError, match=state):
            printer.print_ticket(TICKET)
    assert sim.job_bytes == b""  # only status requests reached the printer
    assert bytes(sim.received) == b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"
    assert sim.documents == []


def test_paper_out_over_a_pseudo_terminal() -> None:
    with PtySimulator(SimulatedPrinter(state="paper_out")) as pty, open_printer(pty.url) as printer:
        with pytest.raises(PrinterError, match="paper_out"):
            printer.print_ticket(TICKET)
        assert pty.printer.job_bytes == b""
        pty.printer.set_state("ok")  # staff change the roll: the next ticket prints
        printer.print_ticket(TICKET)
        (doc,) = pty.printer.wait_for_documents(1)
    check(doc, PAPER_80)


def test_offline_raises_within_the_timeout() -> None:
    with TcpSimulator(SimulatedPrinter(state="offline")) as tcp, open_printer(f"{tcp.url}?timeout=0.1") as printer:
        with pytest.raises(PrinterError, match="offline"):
            printer.print_ticket(TICKET)
        assert tcp.printer.received == b"\x10\x04\x01"


def test_tcp_reconnects_after_the_printer_closed_an_idle_connection() -> None:
    with TcpSimulator() as tcp, open_printer(tcp.url) as printer:
        printer.print_ticket(TICKET)
        tcp.drop_clients()
        printer.print_ticket(TICKET)
        docs = tcp.printer.wait_for_documents(2)
    assert docs[0].text_lines == docs[1].text_lines == EXPECTED_80


def test_spy_url_logs_the_traffic(tmp_path: Path) -> None:
    log = tmp_path / "spy.txt"
    with PtySimulator() as pty, open_printer(f"escpos+serial:spy://{pty.path}?file={log}") as printer:
        printer.print_ticket(TICKET)
        (doc,) = pty.printer.wait_for_documents(1)
    check(doc, PAPER_80)
    assert "1d 56 01" in log.read_text().lower().replace("\n", " ")  # the cut went through the spy


def test_loop_url_moves_exact_bytes() -> None:
    with open_printer("escpos+serial:loop://") as printer:
        assert isinstance(printer, EscposPrinter)
        printer.transport.write(b"\x1b@\x1c&\xca\xd0\n")
        assert printer.transport.read(64, 1.0) == b"\x1b@\x1c&\xca\xd0\n"
        with pytest.raises(PrinterError, match="error"):  # loop:// echoes requests: not a printer
            printer.print_ticket(TICKET)
