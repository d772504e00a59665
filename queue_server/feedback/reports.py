"""Statistics (R15): waits, service times, abandonment, appointments and satisfaction by any grouping and range.

A single day is computed from its raw rows with exact percentiles; longer ranges merge the daily
rollups (percentiles from histogram buckets: ± 5 s below 10 minutes, ± 30 s below 2 hours) plus
today's raw rows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from ..calendar import Calendar
from ..db import Database
from ..models import Ticket
from ..timeutil import utcnow
from . import rollups
from .figures import Figures
from .models import Complaint, FollowUp
from .sqltime import epoch

GROUPS: Final = (*rollups.DIMS, "day")
EXACT_DAYS: Final = 1  # a single day is computed from its tickets; longer ranges from the rollups
MAX_DAYS: Final = 3 * 366


def ensure_rollups(
    db: Database, hall: str, start: date, end: date, today: date, tz: tzinfo, *, report: bool = False
) -> int:
    """Build the missing rollups of finished days in start..end (before today), and of its whole months;
    return how many days and months were missing.

    `report=True` looks for them where reports read (`Database.report`: the replica when there is one).
    The rollups are built on the primary, so a report that found some missing reads the primary: the
    replica may not have replayed them yet.
    """
    last = min(end, today - timedelta(days=1))
    if last < start:
        return 0

    def find(s: Session) -> tuple[list[date], list[date]]:
        return rollups.missing_days(s, hall, start, last), rollups.missing_months(
            s, hall, rollups.split(start, last)[0]
        )

    if report:
        missing, months = db.report(find)
    else:
        with db.read() as s:
            missing, months = find(s)
    if not missing and not months:
        return 0
    try:
        with db.write() as s:
            rollups.build(s, hall, missing, tz, utcnow())
            rollups.build_months(s, hall, months, utcnow())
            s.commit()
    except IntegrityError:
        # Two reports asked at once (two processes, or two requests on PostgreSQL, where the delete does not
        # wait for the other's uncommitted insert) both build the same finished days; the rows are a function
        # of those days' tickets, so the one that committed first has written exactly what this one would.
        pass
    return len(missing) + len(months)


def _sort_key(group: str, key: str) -> tuple[int, str]:
    return (int(key), "") if group in ("window", "hour") and key.isdigit() else (10**9, key)


def summary(
    session: Session, *, hall: str, start: date, end: date, group: str, tz: tzinfo, today: date
) -> dict[str, Any]:
    """Report rows for one grouping plus the total; `exact` says how percentiles were computed."""
    dim = "hall" if group == "day" else group
    merged: dict[str, Figures] = {}
    total = Figures()

    def add(day: date, key: str, f: Figures) -> None:
        k = day.isoformat() if group == "day" else key
        merged.setdefault(k, Figures()).merge(f)

    raw_from = start if (end - start).days < EXACT_DAYS else max(start, today)
    if raw_from > start:  # the finished part of a long range comes from the rollups
        last = min(end, raw_from - timedelta(days=1))
        if group == "day":
            merged = rollups.load(session, hall, dim, start, last, by_day=True)
        else:
            merged = rollups.load_range(session, hall, dim, start, last)
        for f in rollups.load_range(session, hall, "hall", start, last).values():
            total.merge(f)
    if raw_from <= end:
        dims = ("hall",) if dim == "hall" else ("hall", dim)
        for day, groups in rollups.day_figures(session, hall, raw_from, end, tz, dims).items():
            for (d, key), f in groups.items():
                if d == dim:
                    add(day, key, f)
                if d == "hall":
                    total.merge(f)
    if group == "day":  # every day of the range, even one without tickets (a chart's x axis)
        for i in range((end - start).days + 1):
            merged.setdefault((start + timedelta(days=i)).isoformat(), Figures())
    rows = [{"key": k} | merged[k].row() for k in sorted(merged, key=lambda k: _sort_key(group, k))]
    return {
        "hall": hall,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "group": group,
        "exact": raw_from == start,
        "rows": rows,
        "total": total.row(),
    }


def queue_length(session: Session, *, hall: str, day: date, tz: tzinfo, step_min: int = 15) -> list[dict[str, Any]]:
    """How many were waiting through one service day, every `step_min` minutes (from the raw tickets)."""
    dialect = session.get_bind().dialect.name
    rows = session.execute(
        select(
            epoch(col(Ticket.arrived_at), dialect),
            epoch(func.coalesce(col(Ticket.called_at), col(Ticket.finished_at)), dialect),
        ).where(col(Ticket.hall_code) == hall, col(Ticket.service_day) == day)
    ).all()
    if not rows:
        return []
    # A sweep over arrivals (+1) and ends of waiting (-1), in time order; a ticket still waiting never ends.
    changes = sorted([(round(a, 3), 1) for a, _ in rows] + [(round(e, 3), -1) for _, e in rows if e is not None])
    step = step_min * 60
    first = datetime.fromtimestamp(changes[0][0], tz)
    t = first.replace(minute=first.minute - first.minute % step_min, second=0, microsecond=0)
    last = changes[-1][0]
    out, waiting, i = [], 0, 0
    while t.timestamp() <= last + step:
        now_s = t.timestamp()
        while i < len(changes) and changes[i][0] <= now_s:
            waiting += changes[i][1]
            i += 1
        out.append({"at": t.strftime("%H:%M"), "waiting": waiting})
        t += timedelta(minutes=step_min)
    return out


def open_seconds(cal: Calendar, start: date, end: date, now: datetime) -> float:
    """Seconds the hall is open in start..end, up to now."""
    total = 0.0
    day = start
    while day <= end:
        for a, b in cal.intervals(day):
            if a < now:
                total += (min(b, now) - a).total_seconds()
        day += timedelta(days=1)
    return total


def utilisation(window_rows: list[dict[str, Any]], open_s: float) -> list[dict[str, Any]]:
    """Share of the open time each window spent serving (sum of service times / open time)."""
    return [
        {"window": r["key"], "busy_s": r["service_sum_s"], "utilisation": round(r["service_sum_s"] / open_s, 4)}
        for r in window_rows
        if r["key"] and open_s > 0
    ]


def open_work(session: Session, *, hall: str, now: datetime) -> dict[str, int]:
    """Open follow-ups and complaints, and how many of each are past their deadline."""
    fu_open = ("opened", "verified", "rectified", "replied")
    c_open = ("submitted", "assigned", "answered")

    def count(model: Any, states: tuple[str, ...], overdue: bool) -> int:
        stmt = select(func.count()).where(col(model.hall_code) == hall, col(model.status).in_(states))
        if overdue:
            stmt = stmt.where(col(model.deadline) < now)
        return int(session.execute(stmt).scalar_one())

    return {
        "followups_open": count(FollowUp, fu_open, False),
        "followups_overdue": count(FollowUp, fu_open, True),
        "complaints_open": count(Complaint, c_open, False),
        "complaints_overdue": count(Complaint, c_open, True),
    }
