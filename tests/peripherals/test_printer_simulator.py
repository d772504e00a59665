"""The simulated printer's parser on hand-written byte streams, and its command-line demo."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest

from peripherals.printer import TicketData, open_printer, render_ticket
from peripherals.printer.simulator import Barcode, Feed, Line, QrCode, SimulatedPrinter

ROOT = Path(__file__).resolve().parents[2]


def parse(data: bytes, chunk: int | None = None) -> SimulatedPrinter:
    """A simulator fed `data` whole, or `chunk` bytes at a time."""
    sim = SimulatedPrinter()
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        sim.feed(data[i : i + step])
    return sim


def test_lines_modes_and_cut() -> None:
    data = (
        b"\x1b@\x1ba\x01\x1bE\x01Hall\n\x1bE\x00"
        b"\x1d!\x11A023\n\x1d!\x00\x1ba\x02right\n"
        b"\x1b!\x38big\n\x1b!\x00"  # ESC ! bold + double height + double width
        b"\x1bd\x03\x1dV\x00"
    )
    (doc,) = parse(data).documents
    assert doc.elements == [
        Line("Hall", bold=True, align="center"),
        Line("A023", width=2, height=2, align="center"),
        Line("right", align="right"),
        Line("big", bold=True, width=2, height=2, align="right"),
        Feed(3),
    ]
    assert doc.cut == "full"


def test_chinese_mode_decodes_gb18030() -> None:
    data = b"\x1c&\xca\xd0\xb3\xa1 A \x81\x30\x81\x30\n\x1c.\xca\xd0\n\x1dV\x01"
    (doc,) = parse(data).documents
    assert doc.text_lines[0] == "市场 A \x80"  # four-byte GB18030 too
    assert doc.text_lines[1] == "╩╨"  # no FS &: code page 437 bytes, mojibake as on paper
    assert doc.cut == "partial"


def test_init_cancels_chinese_mode() -> None:
    (doc,) = parse(b"\x1c&\x1b@\xca\xd0\n\x1dV\x01").documents
    assert doc.text_lines == ["╩╨"]


def test_qr_and_barcodes() -> None:
    data = (
        b"\x1d(k\x04\x001A2\x00\x1d(k\x03\x001C\x07\x1d(k\x03\x001E3"
        b"\x1d(k\x08\x001P0hello\x1d(k\x03\x001Q0"
        b"\x1dh\x40\x1dw\x02\x1dH\x02\x1dkI\x07{Ba{{b1"  # CODE128 code set B with an escaped brace
        b"\x1dkI\x04{C\x0c\x22"  # CODE128 code set C: digit pairs 12, 34
        b"\x1dk\x024006381333931\x00"  # EAN13, function A
        b"\x1dV\x42\x00"
    )
    sim = parse(data)
    (doc,) = sim.documents
    assert doc.elements == [
        QrCode("hello", size=7, ec="H", model=2),
        Barcode("CODE128", "a{b1"),
        Barcode("CODE128", "1234"),
        Barcode("EAN13", "4006381333931"),
    ]
    assert doc.qr_payloads == ["hello"]
    assert doc.cut == "partial"
    assert sim.unknown == []


def test_byte_at_a_time_gives_the_same_document() -> None:
    ticket = TicketData(
        hall_name="政务中心",
        number="A1",
        domain_name="社保",
        people_ahead=0,
        issued_at=datetime(2026, 1, 2, 8, 5),
        tracking_url="https://h.cn/t/x",
    )
    data = render_ticket(ticket)
    assert parse(data, chunk=1).documents == parse(data).documents
    assert parse(data, chunk=7).documents[0].qr_payloads == ["https://h.cn/t/x"]


def test_unknown_commands_are_listed_and_skipped() -> None:
    sim = parse(b"\x1b\x99ok\n\x1d\x98\x00x\n\x1dV\x01")
    assert sim.unknown == [b"\x1b\x99", b"\x1d\x98"]
    assert sim.documents[0].text_lines == ["ok", "x"]  # NUL: a control byte with nothing to record


def test_skipped_commands_change_nothing() -> None:
    sim = parse(b"\x1bt\x00\x1bM\x01\x1b-\x01\x1b2\x1b3\x20\x1c!\x00\x1cC\x00ok\n\x1dV\x01")
    assert sim.unknown == []
    assert sim.documents[0].text_lines == ["ok"]


def test_nothing_reaches_paper_while_out_and_states_switch() -> None:
    sim = SimulatedPrinter(state="paper_out")
    sim.feed(b"lost\n\x1dV\x01")
    assert sim.documents == []
    sim.set_state("ok")
    sim.feed(b"kept\n\x1dV\x01")
    assert sim.documents[0].text_lines == ["kept"]
    with pytest.raises(ValueError, match="jammed"):
        sim.set_state("jammed")


def test_job_bytes_exclude_status_requests() -> None:
    sim = parse(b"\x10\x04\x01ab\n\x10\x04\x04")
    assert sim.job_bytes == b"ab\n"
    assert sim.status_requests == [1, 4]


def test_wait_for_documents_times_out() -> None:
    with pytest.raises(TimeoutError, match="0 of 1"):
        SimulatedPrinter().wait_for_documents(1, timeout=0.01)


def test_render_for_the_console() -> None:
    sim = SimulatedPrinter(columns=10)
    sim.feed(b"\x1ba\x01ab\n\x1d!\x11AB\n\x1d(k\x04\x001P0q\x1d(k\x03\x001Q0\x1dV\x01")
    text = sim.documents[0].render(10)
    assert text.splitlines()[:3] == ["    ab", "   A B", "  [QR q]  "]
    assert "partial cut" in text


def test_cli_on_a_pseudo_terminal() -> None:
    env = dict(os.environ, PYTHONIOENCODING="utf-8", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "peripherals.printer.simulator", "--pty"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
    )
    assert proc.stdin is not None and proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore[union-attr]

    def until(text: str) -> list[str]:
        seen = []
        while True:
            line = lines.get(timeout=10)
            seen.append(line)
            if text in line:
                return seen

    try:
        url = until("escpos+serial://")[-1].split()[0]
        assert url.startswith("escpos+serial:///dev/")
        ticket = TicketData(
            hall_name="威海市政务服务中心",
            number="A023",
            domain_name="市场准入",
            people_ahead=7,
            estimated_wait_min=15,
            issued_at=datetime(2026, 11, 27, 9, 42),
            tracking_url="https://hall.example.cn/t/abc",
        )
        with open_printer(url) as printer:
            printer.print_ticket(ticket)
            dump = "".join(until("QR payload"))
            assert "威海市政务服务中心" in dump
            assert "A 0 2 3" in dump
            assert "前面还有 7 人 · 约 15 分钟" in dump
            assert "QR payload: https://hall.example.cn/t/abc" in dump
            proc.stdin.write("paper_out\n")
            proc.stdin.flush()
            until("printer state: paper_out")
            assert printer.health().status == "paper_out"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
