"""Logging set-up that keeps secrets and personal data out of log lines, and floods of one error out of the log.

Every line (uvicorn's access log, its errors, the app's own loggers) passes two filters on the handler:

- `RedactFilter`: the values of every query string (`?id_number=…`, `?proof=…`, `?token=…`), the token or
  code in a path that is the holder's proof (`/api/v1/track/…`, the tracking page `/track/…` and its stream
  `/ws/track/…`, `/appointments/…`, `/home-visits/…`, `/complaints/…`), and anything shaped like a resident
  ID or mainland mobile number become `***`, in the message and in a traceback's text.
- `AccessFilter` (uvicorn's access log only): the path is written without its query string at all.
- `ThrottleFilter`: an error (WARNING and above) that repeats — the same logger, message and exception —
  is written once per interval; the next one after the interval says how many were left out. A database
  that is down otherwise writes a traceback per request (megabytes a minute).

`HALL_LOG_FORMAT=json` writes each record as one JSON object on one line (`JsonFormatter`): `ts`, `level`,
`logger`, `msg`, for an access line also `client`, `method`, `path`, `status`, and a traceback as `exc`
(redacted like the message) — the same filters run first, so the same things are masked.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import UTC, datetime
from typing import Literal

import orjson

_QUERY_VALUE = re.compile(r"([?&][^=&\s\"'#?]+=)[^&\s\"'#]*")
_PASSWORD = re.compile(r"((?:token|access_token|password)=)[^&\s\"']+", re.IGNORECASE)  # also in form bodies
_PATH_PROOF = re.compile(
    r"(/api/v1/(?:track|appointments|home-visits|complaints)/|(?<!/static)(?:/ws)?/track/)[^/?\s\"']+"
)
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
MASK = "***"
THROTTLE_S = 60.0


def redact(text: str) -> str:
    """The text with query values, proofs in paths, ID and phone numbers replaced by `***`."""
    text = _PATH_PROOF.sub(rf"\1{MASK}", text)
    text = _QUERY_VALUE.sub(rf"\1{MASK}", text)
    text = _PASSWORD.sub(rf"\1{MASK}", text)
    text = _ID_NUMBER.sub(MASK, text)
    return _PHONE.sub(MASK, text)


class RedactFilter(logging.Filter):
    """Rewrites each record's message (and traceback text) with secrets and personal data masked."""

    _plain = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        if isinstance(record.args, tuple) and record.args:  # each argument first: structured (JSON) fields stay
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        msg = record.getMessage()
        clean = redact(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self._plain.formatException(record.exc_info))
        return True


class ThrottleFilter(logging.Filter):
    """Lets one record of each distinct error through per `interval_s`; counts the others."""

    def __init__(self, interval_s: float = THROTTLE_S) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str, str], tuple[float, int]] = {}  # key -> (written at, left out since)

    @staticmethod
    def key(record: logging.LogRecord) -> tuple[str, str, str]:
        """What makes two records the same error: logger, message template, exception type and first line."""
        exc = record.exc_info[1] if record.exc_info else None
        what = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}" if exc else ""
        return record.name, str(record.msg), what

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a repeat within the interval; the first one after it carries the count left out."""
        if record.levelno < logging.WARNING:
            return True
        key, now = self.key(record), time.monotonic()
        with self._lock:
            written, left_out = self._seen.get(key, (float("-inf"), 0))
            if now - written < self.interval_s:
                self._seen[key] = (written, left_out + 1)
                return False
            if len(self._seen) >= 1000:
                self._seen.clear()
            self._seen[key] = (now, 0)
        if left_out:
            record.msg = f"{record.getMessage()} ({left_out} more like this in the last {self.interval_s:g} s)"
            record.args = None
        return True


ACCESS_LOGGER = "uvicorn.access"


_WS_LINE = '"WebSocket %s"'  # uvicorn's websocket lines: '%s - "WebSocket %s" [accepted]' (or a status)


class AccessFilter(logging.Filter):
    """uvicorn's access lines without the path's query string: `client - "METHOD path HTTP/v" status`, and
    its websocket lines `client - "WebSocket path" [accepted]`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Cut `?…` off the path argument; never drops the record."""
        args = record.args
        if not isinstance(args, tuple):
            return True
        if record.name == ACCESS_LOGGER and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], args[2].split("?", 1)[0], *args[3:])
        elif len(args) >= 2 and isinstance(args[1], str) and _WS_LINE in str(record.msg):
            record.args = (args[0], args[1].split("?", 1)[0], *args[2:])
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (a traceback is a field, its newlines escaped).

    Hand-written rather than python-json-logger: a dict and `orjson.dumps` are all it takes, and it must
    read the traceback text the redaction filter left (`exc_text`), never format the exception afresh.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        out: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        args = record.args
        if record.name == ACCESS_LOGGER and isinstance(args, tuple) and len(args) == 5:
            out.update(client=args[0], method=args[1], path=args[2], status=args[4])
        if record.exc_info and not record.exc_text:  # no redaction filter ran (not our handler): redact here
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            out["exc"] = record.exc_text
        return orjson.dumps(out, default=str).decode()


def log_config(level: str = "info", fmt: Literal["text", "json"] = "text") -> dict[str, object]:
    """A logging dict config for uvicorn and the app, with redaction and throttling on every handler."""
    lvl = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "throttle": {"()": ThrottleFilter},
            "access": {"()": AccessFilter},
            "redact": {"()": RedactFilter},
        },
        "formatters": {
            "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "json": {"()": JsonFormatter},
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": fmt,
                "filters": ["throttle", "access", "redact"],
            }
        },
        "loggers": {
            "": {"handlers": ["default"], "level": lvl},
            "uvicorn": {"handlers": [], "level": lvl, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": lvl, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": lvl, "propagate": True},
        },
    }
