"""Pure figures of a group of tickets: counts, exact or histogram percentiles, merged across days."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# Histogram buckets of durations: 10 s wide up to 10 min, 1 min up to 2 h, 10 min up to 8 h, then one
# overflow bucket. A percentile from buckets is the middle of its bucket (± 5 s below 10 minutes).
_EDGES: tuple[tuple[int, int], ...] = ((600, 10), (7200, 60), (28800, 600))  # (upper bound, width)
NBUCKETS = 60 + 110 + 36 + 1
_FIELD = 4  # bytes per count in a packed histogram


def bucket(seconds: float) -> int:
    """The histogram bucket of a duration."""
    s = max(0.0, seconds)
    base, lo = 0, 0
    for hi, width in _EDGES:
        if s < hi:
            return base + int((s - lo) // width)
        base += (hi - lo) // width
        lo = hi
    return NBUCKETS - 1


def bucket_middle(b: int) -> float:
    """The middle of bucket `b` in seconds (the overflow bucket: its lower bound)."""
    base, lo = 0, 0
    for hi, width in _EDGES:
        n = (hi - lo) // width
        if b < base + n:
            return lo + (b - base) * width + width / 2
        base += n
        lo = hi
    return float(lo)


def pack(hist: list[int]) -> bytes:
    """A histogram as little-endian 32-bit counts, trailing empty buckets left out.

    Packed this way a histogram is one (big) integer, and adding the integers of many rows adds every
    bucket at once: a year of daily rows merges in microseconds per row without numpy (counts stay far
    below 2**32, so no bucket ever carries into the next).
    """
    return b"".join(n.to_bytes(_FIELD, "little") for n in hist).rstrip(b"\0")


def unpack(total: int) -> list[int]:
    """Counts per bucket from the sum of packed histograms (as integers)."""
    raw = total.to_bytes(NBUCKETS * _FIELD, "little")
    return [int.from_bytes(raw[i : i + _FIELD], "little") for i in range(0, len(raw), _FIELD)]


def exact_percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of raw values (the median is p=50), None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def hist_percentile(h: list[int], p: float) -> float | None:
    """Nearest-rank percentile from a histogram: the middle of the bucket holding that rank."""
    total = sum(h)
    if total == 0:
        return None
    rank = max(1, math.ceil(p / 100 * total))
    seen = 0
    for b, n in enumerate(h):
        seen += n
        if seen >= rank:
            return bucket_middle(b)
    return None  # pragma: no cover - the loop always reaches the rank


def empty_hist() -> list[int]:
    """A histogram with every bucket at zero."""
    return [0] * NBUCKETS


_SUMMED = (
    "tickets",
    "served",
    "no_show",
    "cancelled",
    "expired",
    "waits",
    "wait_sum_s",
    "service_n",
    "service_sum_s",
    "evaluations",
    "satisfied",
    "appointments",
    "appt_checked_in",
    "appt_no_show",
    "appt_cancelled",
)


@dataclass
class Figures:
    """Everything a report row says about one group; raw durations kept only for exact figures."""

    tickets: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    expired: int = 0
    waits: int = 0
    wait_sum_s: float = 0.0
    service_n: int = 0
    service_sum_s: float = 0.0
    wait_hist: list[int] = field(default_factory=empty_hist)
    service_hist: list[int] = field(default_factory=empty_hist)
    wait_raw: list[float] | None = field(default_factory=list)  # None once merged with a rollup
    service_raw: list[float] | None = field(default_factory=list)
    evaluations: int = 0
    satisfied: int = 0
    levels: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0])
    appointments: int = 0
    appt_checked_in: int = 0
    appt_no_show: int = 0
    appt_cancelled: int = 0

    def add_wait(self, s: float) -> None:
        """Count one waiting time."""
        self.waits += 1
        self.wait_sum_s += s
        self.wait_hist[bucket(s)] += 1
        if self.wait_raw is not None:
            self.wait_raw.append(s)

    def add_service(self, s: float) -> None:
        """Count one service time."""
        self.service_n += 1
        self.service_sum_s += s
        self.service_hist[bucket(s)] += 1
        if self.service_raw is not None:
            self.service_raw.append(s)

    def add_level(self, level: int) -> None:
        """Count one evaluation."""
        self.evaluations += 1
        self.levels[level - 1] += 1
        if level >= 4:
            self.satisfied += 1

    def merge(self, o: Figures) -> None:
        """Add another group's figures (raw values survive only if both sides have them)."""
        for name in _SUMMED:
            setattr(self, name, getattr(self, name) + getattr(o, name))
        self.wait_hist = [a + b for a, b in zip(self.wait_hist, o.wait_hist, strict=True)]
        self.service_hist = [a + b for a, b in zip(self.service_hist, o.service_hist, strict=True)]
        self.wait_raw = self.wait_raw + o.wait_raw if self.wait_raw is not None and o.wait_raw is not None else None
        self.service_raw = (
            self.service_raw + o.service_raw if self.service_raw is not None and o.service_raw is not None else None
        )
        self.levels = [a + b for a, b in zip(self.levels, o.levels, strict=True)]

    def _pct(self, raw: list[float] | None, h: list[int], p: float) -> float | None:
        v = exact_percentile(raw, p) if raw is not None else hist_percentile(h, p)
        return None if v is None else round(v, 1)

    def row(self) -> dict[str, Any]:
        """The figures as a report row (seconds; rates 0–1; None where nothing was measured)."""
        exact = self.wait_raw is not None and self.service_raw is not None
        return {
            "tickets": self.tickets,
            "served": self.served,
            "no_show": self.no_show,
            "cancelled": self.cancelled,
            "expired": self.expired,
            "abandoned": self.no_show + self.cancelled + self.expired,
            "wait_mean_s": round(self.wait_sum_s / self.waits, 1) if self.waits else None,
            "wait_median_s": self._pct(self.wait_raw, self.wait_hist, 50),
            "wait_p90_s": self._pct(self.wait_raw, self.wait_hist, 90),
            "service_mean_s": round(self.service_sum_s / self.service_n, 1) if self.service_n else None,
            "service_median_s": self._pct(self.service_raw, self.service_hist, 50),
            "service_p90_s": self._pct(self.service_raw, self.service_hist, 90),
            "service_sum_s": round(self.service_sum_s, 1),
            "evaluations": self.evaluations,
            "satisfied": self.satisfied,
            "satisfaction": round(self.satisfied / self.evaluations, 4) if self.evaluations else None,
            # the national 好差评 scheme: 好评 = 非常满意, 满意, 基本满意 (5–3); 差评 = 不满意, 非常不满意 (2–1)
            "good": sum(self.levels[2:]),
            "good_rate": round(sum(self.levels[2:]) / self.evaluations, 4) if self.evaluations else None,
            "bad": sum(self.levels[:2]),
            "bad_rate": round(sum(self.levels[:2]) / self.evaluations, 4) if self.evaluations else None,
            "levels": {str(i + 1): n for i, n in enumerate(self.levels)},
            "appointments": self.appointments,
            "appt_checked_in": self.appt_checked_in,
            "appt_no_show": self.appt_no_show,
            "appt_cancelled": self.appt_cancelled,
            "exact": exact,
        }
