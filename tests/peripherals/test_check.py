"""Device health check: open, ask health, close; every failure reported, none raised."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import pytest

import peripherals
from peripherals.check import DeviceCheck, check_device, check_devices, format_report
from peripherals.health import DeviceHealth
from peripherals.scanner import PtyScannerSimulator


def test_sim_scanner_and_unopenable_url() -> None:
    checks = check_devices(
        [
            ("一号取号机扫码枪", "scanner", "sim://"),
            ("window-3 scanner", "scanner", "serial:///dev/ttyNOSUCHSCANNER"),
            ("lobby scanner", "scanner", "ftp://nowhere"),
        ]
    )
    assert [c.name for c in checks] == ["一号取号机扫码枪", "window-3 scanner", "lobby scanner"]
    assert checks[0] == DeviceCheck("一号取号机扫码枪", "scanner", "sim://", DeviceHealth("ok", "simulated scanner"))
    assert checks[1].health.status == "unplugged"
    assert "/dev/ttyNOSUCHSCANNER" in checks[1].health.detail
    assert checks[2].health.status == "offline"
    assert "unknown scheme" in checks[2].health.detail


def test_serial_scanner_on_a_pseudo_terminal_is_ok_and_closed_after() -> None:
    with PtyScannerSimulator() as sim:
        (check,) = check_devices([("kiosk-1", "scanner", sim.url)])
        assert check.health.status == "ok"
        assert not [t for t in threading.enumerate() if t.name == f"scanner-reader:{sim.url}"]


def test_driver_that_cannot_be_imported_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "peripherals.printer", None)  # as if not written or not installed
    (check,) = check_devices([("ticket printer", "printer", "escpos+serial:///dev/ttyUSB0")])
    assert check.health.status == "error"
    assert "driver not available" in check.health.detail


def test_unknown_kind_is_an_error() -> None:
    assert check_device("fax", "sim://").status == "error"


class _Broken:
    """A device whose health() raises and whose close() raises too."""

    def health(self) -> DeviceHealth:
        raise RuntimeError("status query garbled")

    def close(self) -> None:
        raise OSError("already gone")


class _Hangs:
    """A device whose health() never returns in time."""

    def health(self) -> DeviceHealth:
        time.sleep(5)
        return DeviceHealth("ok")

    def close(self) -> None:
        pass


def test_health_failure_and_slow_device(monkeypatch: pytest.MonkeyPatch) -> None:
    devices: dict[str, Any] = {"broken": _Broken(), "hangs": _Hangs()}
    monkeypatch.setattr(peripherals, "open_id_reader", lambda url: devices[url], raising=False)
    checks = check_devices([("a", "id_reader", "broken"), ("b", "id_reader", "hangs")], timeout_s=0.3)
    assert checks[0].health.status == "error" and "status query garbled" in checks[0].health.detail
    assert checks[1].health == DeviceHealth("offline", "no answer within 0.3 s")


def test_format_report_aligns_chinese_names() -> None:
    checks = [
        DeviceCheck("一号扫码枪", "scanner", "sim://", DeviceHealth("ok", "simulated scanner")),
        DeviceCheck("printer-2", "printer", "escpos+tcp://10.0.0.9:9100", DeviceHealth("paper_out", "纸尽")),
    ]
    report = format_report(checks)
    lines = report.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "STATUS", "URL", "DETAIL"]
    # "一号扫码枪" is five characters but ten terminal columns: the KIND column still lines up
    assert lines[1].index("scanner") + 5 == lines[2].index(" printer ") + 1
    assert "paper_out" in lines[2] and "纸尽" in lines[2]
    assert lines[-1] == "2 device(s): 1 ok, 1 need attention"
