"""Exact bytes of every encoder command and of one small ticket, against hand-written expectations."""

from __future__ import annotations

from datetime import datetime

import pytest

from peripherals.printer import PAPER_58, PAPER_80, EscposEncoder, TicketData, display_width, render_ticket
from peripherals.printer.encoder import status_request


def enc() -> EscposEncoder:
    """A fresh encoder."""
    return EscposEncoder(PAPER_80)


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda e: e.initialise(), b"\x1b\x40"),
        (lambda e: e.chinese_mode(True), b"\x1c\x26"),
        (lambda e: e.chinese_mode(False), b"\x1c\x2e"),
        (lambda e: e.text("A023"), b"A023"),
        (lambda e: e.line("ok"), b"ok\n"),
        (lambda e: e.line(), b"\n"),
        (lambda e: e.text("市场"), b"\x1c\x26\xca\xd0\xb3\xa1"),
        (lambda e: e.text("市 A"), b"\x1c\x26\xca\xd0 A"),
        (lambda e: e.text("市").text("场"), b"\x1c\x26\xca\xd0\xb3\xa1"),  # FS & once
        (lambda e: e.text("市").initialise().text("场"), b"\x1c\x26\xca\xd0\x1b\x40\x1c\x26\xb3\xa1"),
        (lambda e: e.chinese_mode(True).text("·"), b"\x1c\x26\xa1\xa4"),
        (lambda e: e.text("a\x1b@b\tc"), b"a @b c"),  # control bytes never reach the wire
        (lambda e: e.bold(True), b"\x1b\x45\x01"),
        (lambda e: e.bold(False), b"\x1b\x45\x00"),
        (lambda e: e.align("left"), b"\x1b\x61\x00"),
        (lambda e: e.align("center"), b"\x1b\x61\x01"),
        (lambda e: e.align("right"), b"\x1b\x61\x02"),
        (lambda e: e.size(2, 2), b"\x1d\x21\x11"),
        (lambda e: e.size(1, 1), b"\x1d\x21\x00"),
        (lambda e: e.size(3, 1), b"\x1d\x21\x20"),
        (lambda e: e.size(1, 2), b"\x1d\x21\x01"),
        (lambda e: e.feed(3), b"\x1b\x64\x03"),
        (lambda e: e.cut(partial=True), b"\x1b\x64\x06\x1d\x56\x01"),
        (lambda e: e.cut(partial=False), b"\x1b\x64\x06\x1d\x56\x00"),
        (lambda e: e.raw(b"\x07"), b"\x07"),
    ],
)
def test_command_bytes(build, expected: bytes) -> None:
    assert build(enc()).output == expected


def test_qr_model_size_ec_store_print() -> None:
    payload = "https://h.cn/t/x"  # 16 bytes: store block length 16 + 3 = 0x13
    expected = (
        b"\x1d\x28\x6b\x04\x00\x31\x41\x32\x00"  # model 2
        b"\x1d\x28\x6b\x03\x00\x31\x43\x06"  # module size 6
        b"\x1d\x28\x6b\x03\x00\x31\x45\x31"  # error correction M
        b"\x1d\x28\x6b\x13\x00\x31\x50\x30https://h.cn/t/x"  # store
        b"\x1d\x28\x6b\x03\x00\x31\x51\x30"  # print
    )
    assert enc().qr(payload, size=6, ec="M").output == expected


@pytest.mark.parametrize(("ec", "byte"), [("L", b"\x30"), ("M", b"\x31"), ("Q", b"\x32"), ("H", b"\x33")])
def test_qr_error_correction_levels(ec, byte: bytes) -> None:
    assert b"\x1d\x28\x6b\x03\x00\x31\x45" + byte in enc().qr("x", ec=ec).output


def test_qr_size_defaults_to_the_paper() -> None:
    assert b"\x31\x43\x05" in EscposEncoder(PAPER_58).qr("x").output
    assert b"\x31\x43\x06" in EscposEncoder(PAPER_80).qr("x").output


def test_qr_needs_a_payload() -> None:
    with pytest.raises(ValueError, match="payload"):
        enc().qr("")


def test_code128() -> None:
    expected = (
        b"\x1d\x68\x40"  # height 64
        b"\x1d\x77\x02"  # module width 2
        b"\x1d\x48\x02"  # HRI below
        b"\x1d\x6b\x49\x06{BA023"  # CODE128, 6 bytes, code set B
    )
    assert enc().barcode_code128("A023").output == expected


def test_code128_escapes_brace_and_options() -> None:
    out = enc().barcode_code128("a{b", height=80, module_width=3, hri="off").output
    assert out == b"\x1d\x68\x50\x1d\x77\x03\x1d\x48\x00\x1d\x6b\x49\x06{Ba{{b"


@pytest.mark.parametrize("data", ["", "市场", "a\nb", "x" * 254])
def test_code128_rejects(data: str) -> None:
    with pytest.raises(ValueError, match="CODE128"):
        enc().barcode_code128(data)


@pytest.mark.parametrize(("width", "height"), [(0, 1), (1, 9), (9, 9)])
def test_size_range(width: int, height: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.8"):
        enc().size(width, height)


@pytest.mark.parametrize(("n", "expected"), [(1, b"\x10\x04\x01"), (2, b"\x10\x04\x02"), (4, b"\x10\x04\x04")])
def test_status_request(n: int, expected: bytes) -> None:
    assert status_request(n) == expected


def test_status_request_range() -> None:
    with pytest.raises(ValueError, match=r"1\.\.4"):
        status_request(5)


def test_paper_widths() -> None:
    assert (PAPER_58.columns, PAPER_58.dots, PAPER_58.english) == (32, 384, False)
    assert (PAPER_80.columns, PAPER_80.dots, PAPER_80.english) == (48, 576, True)


@pytest.mark.parametrize(("text", "width"), [("A023", 4), ("市场准入", 8), ("前面还有 7 人 · 约 15 分钟", 27), ("", 0)])
def test_display_width(text: str, width: int) -> None:
    assert display_width(text) == width


def test_small_ticket_exact_bytes() -> None:
    data = TicketData(
        hall_name="政务中心",
        number="A1",
        domain_name="社保",
        lane="military",
        people_ahead=3,
        estimated_wait_min=5,
        issued_at=datetime(2026, 1, 2, 8, 5),
        tracking_url="https://h.cn/t/x",
        hall_name_en="Service Centre",  # dropped on 58 mm
        domain_name_en="Social security",
    )
    rule = b"-" * 31 + b"\n"  # 32 columns less the one-column margin
    expected = (
        b"\x1b\x40"  # ESC @
        b"\x1c\x26"  # FS & Chinese mode
        b"\x1b\x61\x01\x1b\x45\x01"  # centre, bold
        b"\xd5\xfe\xce\xf1\xd6\xd0\xd0\xc4\n"  # 政务中心
        b"\x1b\x45\x00" + rule + b"\x1b\x45\x01\x1d\x21\x33"  # bold, quad width and height (the largest thing)
        b"A1\n"
        b"\x1d\x21\x00\x1b\x45\x00" + rule + b"\x1b\x61\x00"  # left
        b"\xc9\xe7\xb1\xa3  [\xc2\xcc\xc9\xab\xcd\xa8\xb5\xc0]\n"  # 社保  [绿色通道]
        # 前面还有 3 人 · 约 5 分钟
        b"\xc7\xb0\xc3\xe6\xbb\xb9\xd3\xd0 3 \xc8\xcb \xa1\xa4 \xd4\xbc 5 \xb7\xd6\xd6\xd3\n"
        b"2026-01-02 08:05\n"
        b"\x1b\x61\x01"  # centre
        b"\x1d\x28\x6b\x04\x00\x31\x41\x32\x00"
        b"\x1d\x28\x6b\x03\x00\x31\x43\x05"
        b"\x1d\x28\x6b\x03\x00\x31\x45\x31"
        b"\x1d\x28\x6b\x13\x00\x31\x50\x30https://h.cn/t/x"
        b"\x1d\x28\x6b\x03\x00\x31\x51\x30"
        b"\xc9\xa8\xc2\xeb\xb2\xe9\xbf\xb4\xc5\xc5\xb6\xd3\xbd\xf8\xb6\xc8\n"  # 扫码查看排队进度
        b"\xb9\xfd\xba\xc5\xc7\xeb\xb5\xbd\xd7\xdc\xb7\xfe\xce\xf1\xcc\xa8 \xa1\xa4\n"  # 过号请到总服务台 ·
        b"\xc7\xeb\xcd\xd7\xc9\xc6\xb1\xa3\xb9\xdc\xb1\xbe\xc6\xb1\n"  # 请妥善保管本票
        b"\x1b\x61\x00"
        b"\x1b\x64\x06\x1d\x56\x01"  # feed 6, partial cut
    )
    assert render_ticket(data, PAPER_58) == expected
