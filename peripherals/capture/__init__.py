"""Document scanners and cameras (高拍仪) for self-submission: one page per call, chosen by URL.

    from peripherals.capture import open_camera
    camera = open_camera("capture+serial:///dev/ttyACM1")
    page = camera.capture(timeout=10)        # Page(data=b"\\xff\\xd8…", content_type="image/jpeg")

URL grammar:

    capture+serial://<port>[?baudrate=N][&<pyserial options>]
        <port> is a device path (`/dev/ttyACM1`, `COM4`) or any pyserial URL (`socket://host:7001`,
        `loop://`, `spy:///dev/ttyACM1`); `baudrate` defaults to 115200 and only sizes the read timeout.
    sim://[?dir=PATH][&state=ready|empty|fault]
        the in-process simulator speaking DCP/1 frames: the images of PATH in turn, or demo pages.

Every device speaks the DCP/1 frame protocol (`protocol`); the port is opened here, so a misconfigured
device fails at start-up with `DeviceUnavailable`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from ..errors import DeviceUnavailable
from .driver import DocumentCamera, Page, SerialCamera
from .errors import CaptureError, FrameError, NothingToCapture
from .simulator import CaptureSimulator, PtyCaptureSimulator, SimulatedCapturePort

__all__ = [
    "CaptureError",
    "CaptureSimulator",
    "DocumentCamera",
    "FrameError",
    "NothingToCapture",
    "Page",
    "PtyCaptureSimulator",
    "SerialCamera",
    "SimulatedCapturePort",
    "open_camera",
]

DEFAULT_BAUDRATE = 115200


def open_camera(url: str) -> SerialCamera:
    """Open the capture device a URL names (see the module doc); DeviceUnavailable if it cannot be opened."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise DeviceUnavailable(f"not a capture device URL: {url!r}")
    if scheme == "capture+serial":
        return _open_serial(rest)
    if scheme == "sim":
        return _open_sim(rest)
    raise DeviceUnavailable(f"unknown capture device URL scheme {scheme!r} (capture+serial or sim)")


def _params(query: str) -> dict[str, str]:
    """Query parameters, percent-decoded."""
    out: dict[str, str] = {}
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        out[unquote(key)] = unquote(value)
    return out


def _open_serial(target: str) -> SerialCamera:
    """A DCP/1 device on a serial port (path or pyserial URL)."""
    import serial  # type: ignore[import-untyped]

    port, _, query = target.partition("?")
    if not port:
        raise DeviceUnavailable("capture+serial URL names no port (e.g. capture+serial:///dev/ttyACM1)")
    baudrate = DEFAULT_BAUDRATE
    passed: list[str] = []  # kept raw: pyserial's handlers parse their own options
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        if unquote(key) == "baudrate":
            if not value.isdigit() or int(value) <= 0:
                raise DeviceUnavailable(f"bad baudrate {value!r} in capture+serial URL")
            baudrate = int(value)
        else:
            passed.append(part)
    serial_url = f"{port}?{'&'.join(passed)}" if passed else port
    try:
        handle = serial.serial_for_url(serial_url, baudrate=baudrate, timeout=0.05)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise DeviceUnavailable(f"cannot open capture device port {serial_url!r}: {exc}") from exc
    return SerialCamera(handle, description=f"capture device on {port}", baudrate=baudrate)


def _open_sim(rest: str) -> SerialCamera:
    """The in-process simulator behind a simulated port."""
    location, _, query = rest.partition("?")
    if location:
        raise DeviceUnavailable(f"sim:// capture URLs take only query parameters, not {location!r}")
    params = _params(query)
    directory = params.pop("dir", None)
    state = params.pop("state", "ready")
    if params:
        raise DeviceUnavailable(f"unknown sim:// parameter(s) {sorted(params)}")
    if state not in ("ready", "empty", "fault"):
        raise DeviceUnavailable(f"sim:// state must be ready, empty or fault, not {state!r}")
    try:
        simulator = CaptureSimulator(Path(directory) if directory else None)
    except (OSError, ValueError) as exc:
        raise DeviceUnavailable(f"sim:// capture: {exc}") from exc
    simulator.empty, simulator.fault = state == "empty", state == "fault"
    return SerialCamera(SimulatedCapturePort(simulator), description="simulated capture device")
