"""Logging set-up that keeps secrets and personal data out of log lines."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"((?:token|access_token|password)=)[^&\s\"']+", re.IGNORECASE)


class RedactFilter(logging.Filter):
    """Masks `token=…` and `password=…` in messages (uvicorn logs websocket URLs with their query)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with secrets replaced."""
        msg = record.getMessage()
        if _TOKEN.search(msg):
            record.msg = _TOKEN.sub(r"\1***", msg)
            record.args = None
        return True


def log_config(level: str = "info") -> dict[str, object]:
    """A logging dict config for uvicorn and the app, with redaction on every handler."""
    lvl = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactFilter}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
        "loggers": {
            "": {"handlers": ["default"], "level": lvl},
            "uvicorn": {"handlers": [], "level": lvl, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": lvl, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": lvl, "propagate": True},
        },
    }
