"""Times as seconds computed by the database (SQLite or PostgreSQL), so reports never build datetime objects.

A report over a day of a city's tickets would otherwise spend most of its time turning columns into
aware datetimes only to subtract them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Float, cast, extract, func
from sqlalchemy.sql.elements import ColumnElement

_UNIX_JULIAN = 2440587.5  # the Julian day of 1970-01-01 00:00 UTC
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch(column: Any, dialect: str) -> ColumnElement[float]:
    """Seconds since 1970 of a UTCDateTime column (stored as naive UTC on both databases)."""
    if dialect == "sqlite":
        return (func.julianday(column) - _UNIX_JULIAN) * 86400.0
    return cast(extract("epoch", column), Float)


class LocalHours:
    """Local hour of day of epoch seconds in a time zone, cached per quarter hour (every real UTC offset is
    a multiple of 15 minutes, so the cache is exact)."""

    def __init__(self, tz: tzinfo) -> None:
        """Cache for one time zone."""
        self.tz = tz
        self._cache: dict[int, int] = {}

    def hour(self, epoch_s: float) -> int:
        """The local hour (0-23)."""
        q = int(epoch_s // 900)
        h = self._cache.get(q)
        if h is None:
            h = self._cache[q] = (_EPOCH + timedelta(seconds=q * 900)).astimezone(self.tz).hour
        return h
