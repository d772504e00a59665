"""Logging set-up that keeps secrets and personal data out of log lines, and floods of one error out of the log.

Every line (uvicorn's access log, its errors, the app's own loggers) passes two filters on the handler:

- `RedactFilter`: the values of every query string (`?id_number=…`, `?proof=…`, `?token=…`), the token or
  code in a path that is the holder's proof (`/api/v1/track/…`, the tracking page `/track/…` and its stream
  `/ws/track/…`, `/appointments/…`, `/home-visits/…`, `/complaints/…`), and anything shaped like a resident
  ID or mainland mobile number become `***`, in the message and in a traceback's text.
- `ThrottleFilter`: an error (WARNING and above) that repeats — the same logger, message and exception —
  is written once per interval; the next one after the interval says how many were left out. A database
  that is down otherwise writes a traceback per request (megabytes a minute).
"""

from __future__ import annotations

import logging
import re
import threading
import time

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


def log_config(level: str = "info") -> dict[str, object]:
    """A logging dict config for uvicorn and the app, with redaction and throttling on every handler."""
    lvl = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"throttle": {"()": ThrottleFilter}, "redact": {"()": RedactFilter}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["throttle", "redact"]}
        },
        "loggers": {
            "": {"handlers": ["default"], "level": lvl},
            "uvicorn": {"handlers": [], "level": lvl, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": lvl, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": lvl, "propagate": True},
        },
    }
