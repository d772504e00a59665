"""The self-submission receipt: its ESC/POS bytes read back by the simulated printer, both paper widths."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from peripherals.errors import PrinterError
from peripherals.printer import PAPER_58, PAPER_80, open_printer
from peripherals.printer.receipt import ReceiptData, render_receipt
from peripherals.printer.simdevice import QrCode, SimulatedPrinter

DATA = ReceiptData(
    hall_name="威海市政务服务中心",
    hall_name_en="Weihai Service Centre",
    case_number="1012611270001",
    item_name="个体工商户设立登记",
    item_name_en="Registration of a sole proprietorship",
    query_code="3FA9C2D1",
    submitted_at=datetime(2026, 11, 27, 1, 42, tzinfo=UTC),
    query_url="http://hall.example/cases/query?n=1012611270001&p=3FA9C2D1",
    pages=3,
    to_follow=1,
)


def test_receipt_reads_back_on_80_mm() -> None:
    job = render_receipt(DATA, PAPER_80)
    assert job.startswith(b"\x1b@")  # ESC @ initialise
    sim = SimulatedPrinter(PAPER_80.columns)
    sim.feed(job)
    [doc] = sim.documents
    text = "\n".join(doc.text_lines)
    assert doc.cut == "partial"
    expected = ["威海市政务服务中心", "自助申报回执", "Self-submission receipt", "1012611270001", "个体工商户设立登记"]
    expected += ["查询码 Query code: 3FA9C2D1", "提交材料 3 页 · 稍后补交 1 项", "本回执不代表已受理"]
    for part in expected:
        assert part in text, part
    assert [e.payload for e in doc.elements if isinstance(e, QrCode)] == [DATA.query_url]
    assert all(len(line.encode("gbk")) <= PAPER_80.columns for line in doc.text_lines)


def test_58_mm_drops_the_english_lines() -> None:
    sim = SimulatedPrinter(PAPER_58.columns)
    sim.feed(render_receipt(DATA, PAPER_58))
    text = "\n".join(sim.documents[0].text_lines)
    assert "查询码：3FA9C2D1" in text and "Self-submission" not in text and "Item:" not in text
    assert all(len(line.encode("gbk")) <= PAPER_58.columns for line in sim.documents[0].text_lines)


@pytest.mark.parametrize(("paper", "size"), [(PAPER_80, 3), (PAPER_58, 2)], ids=["80mm", "58mm"])
def test_the_case_number_is_as_large_as_fits_on_one_line(paper: object, size: int) -> None:
    sim = SimulatedPrinter(paper.columns)  # type: ignore[attr-defined]
    sim.feed(render_receipt(DATA, paper))  # type: ignore[arg-type]
    (number,) = [line for line in sim.documents[0].lines if line.text == DATA.case_number]
    assert (number.width, number.height) == (size, size)
    assert max(line.height for line in sim.documents[0].lines if line is not number) < size


def test_a_printer_out_of_paper_gets_nothing() -> None:
    printer = open_printer("sim://?state=paper_out")
    with pytest.raises(PrinterError):
        printer.print_job(render_receipt(DATA))  # type: ignore[attr-defined]
    sim = printer.transport.simulator  # type: ignore[attr-defined]
    assert not sim.documents and b"1012611270001" not in bytes(sim.job_bytes)
