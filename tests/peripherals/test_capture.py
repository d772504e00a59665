"""The capture driver against its simulator: in process (`sim://`), on a pseudo-terminal, and its failures."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image

from peripherals.capture import (
    CaptureError,
    CaptureSimulator,
    NothingToCapture,
    PtyCaptureSimulator,
    SerialCamera,
    SimulatedCapturePort,
    open_camera,
)
from peripherals.capture.protocol import FrameType, encode_frame, image_payload
from peripherals.capture.simulator import demo_page
from peripherals.errors import DeviceTimeout, DeviceUnavailable, PeripheralError, ProtocolError


def _pages(tmp_path: Path) -> Path:
    """A directory with a PNG and a larger JPEG (a photo of a page)."""
    d = tmp_path / "pages"
    d.mkdir()
    Image.new("L", (40, 30), 200).save(d / "a-first.png")
    Image.effect_noise((900, 1200), 60).convert("RGB").save(d / "b-second.jpg", quality=95)
    (d / "notes.txt").write_text("not an image")
    return d


def test_sim_url_feeds_the_directory_in_order_and_round(tmp_path: Path) -> None:
    d = _pages(tmp_path)
    with open_camera(f"sim://?dir={d}") as cam:
        first, second, third = cam.capture(), cam.capture(), cam.capture()
    assert first.content_type == "image/png" and first.data == (d / "a-first.png").read_bytes()
    assert second.content_type == "image/jpeg" and second.data == (d / "b-second.jpg").read_bytes()
    assert third.data == first.data


def test_demo_pages_are_real_jpegs_that_differ() -> None:
    cam = open_camera("sim://")
    a, b = cam.capture(), cam.capture()
    assert a.data != b.data
    with Image.open(io.BytesIO(a.data)) as img:
        assert img.format == "JPEG" and img.size == (620, 877)
    assert cam.health().status == "ok"
    cam.close()
    assert cam.health().status == "offline"
    with pytest.raises(DeviceUnavailable):
        cam.capture()


def test_pty_simulator_serves_a_real_serial_port(tmp_path: Path) -> None:
    d = _pages(tmp_path)
    with PtyCaptureSimulator(CaptureSimulator(d)) as sim:
        assert sim.url.startswith("capture+serial:///dev/")
        with open_camera(sim.url) as cam:
            pages = [cam.capture(timeout=5) for _ in range(2)]
            assert cam.health().status == "ok"
        assert pages[1].data == (d / "b-second.jpg").read_bytes()  # ~200 KB through the tty intact
        assert sim.simulator.captured == 2


def test_nothing_on_the_platen_and_a_fault_are_told_apart() -> None:
    sim = CaptureSimulator()
    cam = SerialCamera(SimulatedCapturePort(sim))
    sim.empty = True
    with pytest.raises(NothingToCapture) as caught:
        cam.capture()
    assert caught.value.code == 0x01
    sim.empty, sim.fault = False, True
    with pytest.raises(CaptureError) as fault:
        cam.capture()
    assert not isinstance(fault.value, NothingToCapture) and "lamp" in fault.value.detail
    assert cam.health().status == "error"
    sim.fault = False
    assert cam.capture().content_type == "image/jpeg"


def test_a_mute_device_times_out_and_a_late_answer_is_not_taken_for_the_next() -> None:
    sim = CaptureSimulator()
    port = SimulatedCapturePort(sim)
    cam = SerialCamera(port)
    sim.mute = True
    started = time.monotonic()
    with pytest.raises(DeviceTimeout):
        cam.capture(timeout=0.3)
    assert time.monotonic() - started < 2
    sim.mute = False
    stale = encode_frame(FrameType.IMAGE, 1, image_payload(b"\x89PNG\r\n\x1a\nlate"))  # seq of the timed-out one
    real_feed = sim.feed
    sim.feed = lambda data: stale + real_feed(data)  # type: ignore[method-assign]
    page = cam.capture()
    assert page.content_type == "image/jpeg" and page.data == demo_page(2)  # the answer to this request


def test_a_damaged_transfer_is_a_protocol_error() -> None:
    sim = CaptureSimulator()
    cam = SerialCamera(SimulatedCapturePort(sim))
    sim.corrupt_next = True
    with pytest.raises(ProtocolError, match="checksum"):
        cam.capture()
    assert cam.capture().content_type == "image/jpeg"


def test_unplugging_the_port_is_reported() -> None:
    sim = PtyCaptureSimulator().start()
    cam = open_camera(sim.url)
    assert cam.capture(timeout=5).data
    sim.stop()
    with pytest.raises(PeripheralError):
        cam.capture(timeout=0.5)
    assert cam.health().status in ("unplugged", "error")
    cam.close()


@pytest.mark.parametrize(
    "url",
    [
        "capture+serial:///dev/no-such-camera",
        "capture+serial://",
        "sim://?state=burning",
        "sim://?x=1",
        "sim://host",
        "camera://",
        "nonsense",
        "capture+serial:///dev/x?baudrate=fast",
    ],
)
def test_bad_urls_fail_at_once(url: str, tmp_path: Path) -> None:
    with pytest.raises(DeviceUnavailable):
        open_camera(url)


def test_a_directory_without_images_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(DeviceUnavailable, match=r"no \.jpg"):
        open_camera(f"sim://?dir={tmp_path}")
    with pytest.raises(DeviceUnavailable):
        open_camera(f"sim://?dir={tmp_path / 'missing'}")
