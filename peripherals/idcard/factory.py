"""`open_id_reader(url)`: the ID-card reader named by a configuration URL, or `DeviceUnavailable` at once.

URL grammar:

    sam+serial://<port>[?baudrate=N][&<pyserial options>]
        <port> is a device path (`/dev/ttyUSB1`, `COM3`) or any pyserial URL (`socket://host:7000`,
        `loop://`, `spy:///dev/ttyUSB1`, `rfc2217://host:port`); `baudrate` defaults to 115200 (the SAM
        default); other query parameters are passed on to pyserial's URL handler.
        e.g. sam+serial:///dev/ttyUSB1?baudrate=115200
    pcsc://[?reader=NAME]
        NAME is the PC/SC reader name (percent-encoding allowed, `+` is kept), or a prefix matching exactly
        one reader; without it, the only reader present. e.g. pcsc://?reader=Virtual PCD 00 00
    sim://[?card=demo|permit|foreign2017|foreign2023|none]
        an in-process simulated SAM reader (real frames, no device) holding the demo card or no card.

The port is opened (or the reader looked up) here, so a misconfigured device fails at start-up.
"""

from __future__ import annotations

from urllib.parse import unquote

from ..errors import DeviceUnavailable
from .base import IdReader
from .card import DEMO_CARDS, CardUid, IdCard, demo_card
from .sam_reader import SamReader

DEFAULT_BAUDRATE = 115200


def open_id_reader(url: str) -> IdReader[IdCard | CardUid]:
    """Open the ID-card reader a URL names (see the module doc); `DeviceUnavailable` if it cannot be opened."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise DeviceUnavailable(f"not an ID-card reader URL: {url!r}")
    if scheme == "sam+serial":
        return open_sam_serial(rest)
    if scheme == "pcsc":
        return _open_pcsc(rest)
    if scheme == "sim":
        return _open_sim(rest)
    raise DeviceUnavailable(f"unknown ID-card reader URL scheme {scheme!r} (sam+serial, pcsc or sim)")


def open_sam_serial(target: str, *, answer_timeout: float = 2.0) -> SamReader:
    """Open a SAM reader on a serial port given as in `sam+serial://<target>` (path or pyserial URL)."""
    import serial  # type: ignore[import-untyped]

    port, _, query = target.partition("?")
    baudrate = DEFAULT_BAUDRATE
    passed: list[str] = []  # kept raw: pyserial's handlers parse their own options (some have no value)
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        if unquote(key) == "baudrate":
            if not value.isdigit() or int(value) <= 0:
                raise DeviceUnavailable(f"bad baudrate {value!r} in sam+serial URL")
            baudrate = int(value)
        else:
            passed.append(part)
    if not port:
        raise DeviceUnavailable("sam+serial URL names no port (e.g. sam+serial:///dev/ttyUSB1)")
    serial_url = f"{port}?{'&'.join(passed)}" if passed else port
    try:
        handle = serial.serial_for_url(serial_url, baudrate=baudrate, timeout=answer_timeout, exclusive=True)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise DeviceUnavailable(f"cannot open SAM reader port {serial_url!r}: {exc}") from exc
    return SamReader(handle, description=f"SAM reader on {port}", answer_timeout=answer_timeout)


def _query(rest: str, scheme: str) -> dict[str, str]:
    """The query parameters after `<scheme>://`, percent-decoded but with `+` kept (reader names)."""
    location, _, query = rest.partition("?")
    if location:
        raise DeviceUnavailable(f"{scheme}:// URLs take only query parameters, not {location!r}")
    params: dict[str, str] = {}
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        params[unquote(key)] = unquote(value)
    return params


def _open_pcsc(rest: str) -> IdReader[CardUid]:
    """Open a PC/SC reader by name (imports pyscard only now)."""
    params = _query(rest, "pcsc")
    unknown = set(params) - {"reader"}
    if unknown:
        raise DeviceUnavailable(f"unknown pcsc:// parameter(s) {sorted(unknown)}")
    from .pcsc import PcscReader

    return PcscReader(params.get("reader"))


def _open_sim(rest: str) -> SamReader:
    """An in-process simulated SAM reader."""
    # Imported here so that `python -m peripherals.idcard.sam_simulator` does not find itself pre-imported.
    from .sam_simulator import SamSimulator, SimulatedSamPort

    params = _query(rest, "sim")
    card = params.pop("card", "demo")
    if params:
        raise DeviceUnavailable(f"unknown sim:// parameter(s) {sorted(params)}")
    cards = {"demo": demo_card, **DEMO_CARDS}
    if card != "none" and card not in cards:
        raise DeviceUnavailable(f"sim:// card must be one of {sorted([*cards, 'none'])}, not {card!r}")
    simulator = SamSimulator(None if card == "none" else cards[card]())
    return SamReader(SimulatedSamPort(simulator), description="simulated SAM reader")
