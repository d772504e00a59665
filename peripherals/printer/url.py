"""Printer URLs from the configuration, parsed into a `PrinterUrl` (pure; bad URLs raise `DeviceUnavailable`).

Grammar (OPTIONS is `key=value` pairs joined by `&`)::

    escpos+serial:///PATH[?OPTIONS]          a serial device by path: /dev/ttyUSB0, /dev/pts/3,
                                             /dev/serial/by-id/usb-…  (three slashes: the host is empty)
    escpos+serial:PYSERIAL_URL[?OPTIONS]     any URL pyserial's serial_for_url accepts, given verbatim:
                                             loop://, socket://HOST:PORT, spy:///dev/ttyUSB0,
                                             rfc2217://HOST:PORT, hwgrep://REGEXP, alt:///dev/ttyS0?class=…
    escpos+tcp://HOST[:PORT][?OPTIONS]       a network printer, raw TCP; PORT defaults to 9100
    sim://[?OPTIONS]                         the in-process simulator

    OPTIONS, every scheme:  paper=58|80          paper width (default 80)
                            timeout=SECONDS      how long to wait for a status answer (default 1)
    serial only:            baudrate=N           default 9600 (Chinese printers ship at 9600, 19200 or 115200)
                            rtscts=0|1, dsrdtr=0|1, xonxoff=0|1   flow control (default off)
    sim only:               state=ok|paper_low|paper_out|cover_open|offline   (default ok)

In the pyserial form the keys above are taken out of the query and every other pair is left in the URL for
pyserial (`escpos+serial:spy:///dev/ttyUSB0?file=/tmp/spy.txt&baudrate=19200` opens
`spy:///dev/ttyUSB0?file=/tmp/spy.txt` at 19200 baud); the first `?` starts the query. In the other forms an
unknown key is an error, so a misspelt option is noticed at start-up rather than ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

from ..errors import DeviceUnavailable
from .encoder import PAPER_80, PAPERS, Paper

SERIAL_PREFIX = "escpos+serial:"
TCP_PREFIX = "escpos+tcp:"
SIM_PREFIX = "sim:"
DEFAULT_TCP_PORT = 9100
DEFAULT_TIMEOUT = 1.0
DEFAULT_BAUDRATE = 9600
SIM_STATES = ("ok", "paper_low", "paper_out", "cover_open", "offline")

_COMMON_KEYS = ("paper", "timeout")
_SERIAL_KEYS = ("baudrate", "rtscts", "dsrdtr", "xonxoff")
_PYSERIAL_URL = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PrinterUrl:
    """A parsed printer URL: which transport, where, and the options that apply to it.

    `target` is the serial port (a path or a pyserial URL) for `serial`, the host for `tcp`, empty for `sim`.
    """

    kind: Literal["serial", "tcp", "sim"]
    target: str
    paper: Paper = PAPER_80
    timeout: float = DEFAULT_TIMEOUT
    port: int = DEFAULT_TCP_PORT
    baudrate: int = DEFAULT_BAUDRATE
    flow: dict[str, bool] = field(default_factory=dict)  # rtscts / dsrdtr / xonxoff given in the URL
    sim_state: str = "ok"


def _fail(url: str, why: str) -> DeviceUnavailable:
    """The error for a printer URL that cannot be used."""
    return DeviceUnavailable(f"printer URL {url!r}: {why}")


def _split_query(url: str, query: str, ours: tuple[str, ...], strict: bool) -> tuple[dict[str, str], list[str]]:
    """Our options out of `query`, and the raw pairs left over (an error if `strict` and any are left)."""
    options: dict[str, str] = {}
    rest: list[str] = []
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        if key in ours:
            if key in options:
                raise _fail(url, f"option {key!r} given twice")
            options[key] = unquote(value)
        elif strict:
            raise _fail(url, f"unknown option {key!r} (known: {', '.join(ours)})")
        else:
            rest.append(pair)
    return options, rest


def _number(url: str, key: str, value: str, low: float, high: float) -> float:
    """`value` as a number in [low, high], else `DeviceUnavailable`."""
    try:
        number = float(value)
    except ValueError:
        raise _fail(url, f"{key}={value!r} is not a number") from None
    if not low <= number <= high:
        raise _fail(url, f"{key}={value!r} is out of range {low:g}..{high:g}")
    return number


def _flag(url: str, key: str, value: str) -> bool:
    """`value` as a boolean flag: 1/true/yes/on or 0/false/no/off."""
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise _fail(url, f"{key}={value!r} is not 0 or 1")


def _common(url: str, options: dict[str, str]) -> tuple[Paper, float]:
    """Paper width and status timeout from the options."""
    paper_name = options.get("paper", "80")
    if paper_name not in PAPERS:
        raise _fail(url, f"paper={paper_name!r} is not 58 or 80")
    timeout = _number(url, "timeout", options["timeout"], 0.01, 60) if "timeout" in options else DEFAULT_TIMEOUT
    return PAPERS[paper_name], timeout


def _parse_serial(url: str) -> PrinterUrl:
    """`escpos+serial:///PATH?…` or `escpos+serial:PYSERIAL_URL?…`."""
    rest = url[len(SERIAL_PREFIX) :]
    base, _, query = rest.partition("?")
    keys = _COMMON_KEYS + _SERIAL_KEYS
    if base.startswith("//"):
        if not base.startswith("///") or len(base) == 3:
            raise _fail(url, "a serial device path needs three slashes: escpos+serial:///dev/ttyUSB0")
        options, _ = _split_query(url, query, keys, strict=True)
        target = unquote(base[2:])
    elif _PYSERIAL_URL.match(base):
        options, leftover = _split_query(url, query, keys, strict=False)
        target = base + ("?" + "&".join(leftover) if leftover else "")
    else:
        raise _fail(url, "expected escpos+serial:///DEVICE or escpos+serial:PYSERIAL_URL (loop://, socket://…)")
    paper, timeout = _common(url, options)
    baudrate = int(_number(url, "baudrate", options.get("baudrate", str(DEFAULT_BAUDRATE)), 50, 4_000_000))
    flow: dict[str, bool] = {
        key: _flag(url, key, options[key]) for key in ("rtscts", "dsrdtr", "xonxoff") if key in options
    }
    return PrinterUrl("serial", target, paper=paper, timeout=timeout, baudrate=baudrate, flow=flow)


def _parse_tcp(url: str) -> PrinterUrl:
    """`escpos+tcp://HOST[:PORT]?…`."""
    parts = urlsplit(url)
    try:
        port = parts.port or DEFAULT_TCP_PORT
    except ValueError:
        raise _fail(url, "the port is not a number in 1..65535") from None
    if not parts.hostname:
        raise _fail(url, "expected escpos+tcp://HOST[:PORT]")
    if parts.path not in ("", "/") or parts.fragment:
        raise _fail(url, "a TCP printer URL has no path: escpos+tcp://HOST[:PORT]")
    options, _ = _split_query(url, parts.query, _COMMON_KEYS, strict=True)
    paper, timeout = _common(url, options)
    return PrinterUrl("tcp", parts.hostname, paper=paper, timeout=timeout, port=port)


def _parse_sim(url: str) -> PrinterUrl:
    """`sim://?…`."""
    parts = urlsplit(url)
    if not url.startswith("sim://") or parts.netloc or parts.path not in ("", "/"):
        raise _fail(url, "expected sim:// (options after ?)")
    options, _ = _split_query(url, parts.query, (*_COMMON_KEYS, "state"), strict=True)
    paper, timeout = _common(url, options)
    state = options.get("state", "ok")
    if state not in SIM_STATES:
        raise _fail(url, f"state={state!r} is not one of {', '.join(SIM_STATES)}")
    return PrinterUrl("sim", "", paper=paper, timeout=timeout, sim_state=state)


def parse_printer_url(url: str) -> PrinterUrl:
    """Parse a printer URL (grammar in the module docstring); anything else raises `DeviceUnavailable`."""
    if not isinstance(url, str) or not url.strip():
        raise DeviceUnavailable("no printer URL configured")
    url = url.strip()
    lowered = url.lower()
    if lowered.startswith(SERIAL_PREFIX):
        return _parse_serial(url)
    if lowered.startswith(TCP_PREFIX):
        return _parse_tcp(url)
    if lowered.startswith(SIM_PREFIX):
        return _parse_sim(url)
    raise _fail(url, "unknown scheme (use escpos+serial:, escpos+tcp: or sim:)")
