"""Ticket layout on 58 and 80 mm paper, read back through the simulator's parser."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from peripherals.printer import PAPER_58, PAPER_80, Paper, TicketData, lane_mark, render_ticket
from peripherals.printer.layout import local_time, wait_line_en, wait_line_zh, wrap
from peripherals.printer.simdevice import Document, SimulatedPrinter

URL = "https://hall.example.cn/t/3f9a1c2e7b5d4a60"


def ticket(**changes: object) -> TicketData:
    """The ticket of the ux.md sketch, with `changes`."""
    base = TicketData(
        hall_name="威海市政务服务中心",
        hall_name_en="Weihai Service Centre",
        number="A023",
        domain_name="市场准入",
        domain_name_en="Market access",
        lane="normal",
        people_ahead=7,
        estimated_wait_min=15,
        issued_at=datetime(2026, 11, 27, 9, 42),
        tracking_url=URL,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def printed(data: TicketData, paper: Paper) -> Document:
    """The one document the simulator reads from the ticket's bytes."""
    sim = SimulatedPrinter(paper.columns)
    assert sim.feed(render_ticket(data, paper)) == b""
    assert sim.unknown == []
    assert len(sim.documents) == 1
    return sim.documents[0]


def test_80mm_lines() -> None:
    doc = printed(ticket(), PAPER_80)
    texts = [t for t in doc.text_lines if not set(t) <= {"-"}]
    assert texts == [
        "威海市政务服务中心",
        "Weihai Service Centre",
        "A023",
        "市场准入",
        "Market access",
        "前面还有 7 人 · 约 15 分钟",
        "7 people ahead · about 15 min",
        "2026-11-27 09:42",
        "扫码查看排队进度",
        "Scan to follow your turn",
        "过号请到总服务台 · 请妥善保管本票",
        "Missed your turn? Ask at the general desk ·",
        "Keep this ticket",
    ]
    assert doc.qr_payloads == [URL]
    assert doc.cut == "partial"


def test_58mm_drops_english() -> None:
    doc = printed(ticket(), PAPER_58)
    assert [t for t in doc.text_lines if not set(t) <= {"-"}] == [
        "威海市政务服务中心",
        "A023",
        "市场准入",
        "前面还有 7 人 · 约 15 分钟",
        "2026-11-27 09:42",
        "扫码查看排队进度",
        "过号请到总服务台 ·",  # 34 columns do not fit 32: broken at the separator
        "请妥善保管本票",
    ]
    assert not any(ch.isascii() and ch.isalpha() for t in doc.text_lines if t != "A023" for ch in t)
    assert doc.qr_payloads == [URL]


@pytest.mark.parametrize("paper", [PAPER_80, PAPER_58], ids=["80mm", "58mm"])
def test_the_number_is_the_largest_thing_on_the_slip(paper: Paper) -> None:
    lines = printed(ticket(), paper).lines
    (number,) = [line for line in lines if line.text == "A023"]
    assert (number.bold, number.width, number.height, number.align) == (True, 4, 4, "center")  # quad size
    assert all(line.width < 4 and line.height < 4 for line in lines if line is not number)
    assert b"\x1d!\x33A023" in render_ticket(ticket(), paper)  # GS ! n: width 4, height 4
    hall = lines[0]
    assert (hall.bold, hall.width, hall.align) == (True, 1, "center")


def test_nobody_ahead_reads_no_wait() -> None:
    texts = printed(ticket(people_ahead=0, estimated_wait_min=0), PAPER_80).text_lines
    assert "无需等候" in texts and "No wait" in texts
    assert not any("0 人" in t or "0 people" in t or "0 min" in t for t in texts)


@pytest.mark.parametrize(
    ("lane", "zh", "en"),
    [
        ("military", "市场准入  [绿色通道]", "Market access  [Green lane]"),
        ("special", "市场准入  [绿色通道]", "Market access  [Green lane]"),
        ("vip", "市场准入  [绿色通道]", "Market access  [Green lane]"),
        ("appointment", "市场准入  [预约]", "Market access  [Appointment]"),
        ("normal", "市场准入", "Market access"),
    ],
)
def test_lane_marks(lane: str, zh: str, en: str) -> None:
    lines80 = printed(ticket(lane=lane), PAPER_80).text_lines
    assert zh in lines80
    assert en in lines80
    lines58 = printed(ticket(lane=lane), PAPER_58).text_lines
    assert zh in lines58
    assert en not in lines58


def test_lane_mark_function() -> None:
    assert lane_mark("vip") == ("绿色通道", "Green lane")
    assert lane_mark("appointment") == ("预约", "Appointment")
    assert lane_mark("normal") is None


LONG = ticket(
    hall_name="威海市环翠区政务服务中心暨不动产登记交易综合服务大厅",
    hall_name_en="Weihai Huancui District Government Service Centre and Real Estate Registration Hall",
    domain_name="工程建设项目审批与不动产登记一件事联办",
    domain_name_en="Construction project approval and real estate registration, all in one",
    number="VIP0123456789ABCDEFGHIJKLMN",
    lane="military",
    people_ahead=123,
    estimated_wait_min=240,
)


@pytest.mark.parametrize("paper", [PAPER_58, PAPER_80], ids=["58mm", "80mm"])
@pytest.mark.parametrize("data", [ticket(), LONG], ids=["sketch", "long"])
def test_no_line_wider_than_the_paper(paper: Paper, data: TicketData) -> None:
    doc = printed(data, paper)
    assert doc.lines
    for line in doc.lines:
        assert line.columns < paper.columns, line  # one column kept free: a full line makes printers wrap
    joined = "".join(doc.text_lines)
    for text in (data.hall_name, data.domain_name, data.number):
        assert text in joined  # wrapped, nothing lost


def test_wrap_counts_chinese_as_two_columns() -> None:
    assert wrap("市场准入 Market access", 8) == ["市场准入", "Market", "access"]
    assert wrap("一二三四五", 4) == ["一二", "三四", "五"]
    assert wrap("一二", 1) == ["一", "二"]  # narrower than a character: still terminates
    assert wrap("", 10) == [""]


def test_wait_lines() -> None:
    assert wait_line_zh(7, 15) == "前面还有 7 人 · 约 15 分钟"
    assert wait_line_zh(0, None) == wait_line_zh(0, 0) == "无需等候"
    assert wait_line_en(0, 0) == "No wait"
    assert wait_line_zh(1, None) == "前面还有 1 人"
    assert wait_line_en(7, 15) == "7 people ahead · about 15 min"
    assert wait_line_en(1, None) == "1 person ahead"


def test_issue_time_is_the_halls_wall_clock_not_this_computers() -> None:
    beijing = datetime(2026, 11, 27, 9, 42, tzinfo=timezone(timedelta(hours=8)))
    assert local_time(beijing) == "2026-11-27 09:42"  # whatever TZ the printing computer has
    assert local_time(beijing.astimezone(UTC)) == "2026-11-27 01:42"  # the zone it is given is the one printed
    assert local_time(datetime(2026, 11, 27, 9, 42)) == "2026-11-27 09:42"
    texts = printed(ticket(issued_at=beijing), PAPER_80).text_lines
    assert "2026-11-27 09:42" in texts


def test_nothing_personal_can_be_printed() -> None:
    fields = {f.name for f in dataclasses.fields(TicketData)}
    assert fields == {
        "hall_name",
        "hall_name_en",
        "number",
        "domain_name",
        "domain_name_en",
        "lane",
        "people_ahead",
        "estimated_wait_min",
        "issued_at",
        "tracking_url",
        "lang",  # the language the citizen chose: which second lines print, nothing about the person
    }
    with pytest.raises(TypeError):
        TicketData(id_number="370602199001011234", **dataclasses.asdict(ticket()))  # type: ignore[call-arg]


def test_tracking_url_only_in_the_qr_code() -> None:
    doc = printed(ticket(), PAPER_80)
    assert not any(URL in t for t in doc.text_lines)
