"""Daily rollups: one day's figures per grouping (hall, queue, window, clerk, lane, hour), built from raw rows.

Reports read a finished day from `report_daily` (one small row per group) instead of its tickets, so a
year answers as fast as a week. A day is built on demand the first time a report needs it (and again
after a late evaluation of that day removed it); today is always computed from the raw rows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Final

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from ..models import CANCELLED, DONE, EXPIRED, NO_SHOW, Appointment, Ticket
from .figures import Figures, pack, unpack
from .models import DailyRollup, Evaluation, MonthlyRollup
from .sqltime import LocalHours, epoch

DIMS: Final = ("hall", "queue", "window", "clerk", "lane", "hour")
Groups = dict[tuple[str, str], Figures]


def _key_fns(dims: tuple[str, ...]) -> list[tuple[str, Any]]:
    """For each grouping, a function of (queue, window, clerk, lane, hour) giving the row's key."""
    every: dict[str, Any] = {
        "hall": lambda q, w, c, ln, h: "",
        "queue": lambda q, w, c, ln, h: q,
        "window": lambda q, w, c, ln, h: "" if w is None else str(w),
        "clerk": lambda q, w, c, ln, h: c or "",
        "lane": lambda q, w, c, ln, h: ln,
        "hour": lambda q, w, c, ln, h: f"{h:02d}",
    }
    return [(d, every[d]) for d in dims]


def day_figures(
    session: Session, hall: str, start: date, end: date, tz: tzinfo, dims: tuple[str, ...] = DIMS
) -> dict[date, Groups]:
    """Figures per day and group (of `dims`) for service days start..end (inclusive), from the raw rows."""
    out: dict[date, Groups] = {}

    def fig(day: date, key: tuple[str, str]) -> Figures:
        groups = out.setdefault(day, {})
        f = groups.get(key)
        if f is None:
            f = groups[key] = Figures()
        return f

    dialect = session.get_bind().dialect.name
    begun = func.coalesce(col(Ticket.serving_at), col(Ticket.called_at))
    rows = session.execute(
        select(
            col(Ticket.service_day),
            col(Ticket.id),
            col(Ticket.queue),
            col(Ticket.window),
            col(Ticket.clerk),
            col(Ticket.lane),
            col(Ticket.status),
            epoch(col(Ticket.issued_at), dialect),
            epoch(col(Ticket.called_at), dialect) - epoch(col(Ticket.arrived_at), dialect),
            case(
                (col(Ticket.status) == DONE, epoch(col(Ticket.finished_at), dialect) - epoch(begun, dialect)),
                else_=None,
            ),
        ).where(col(Ticket.hall_code) == hall, col(Ticket.service_day).between(start, end))
    ).all()
    key_fns = _key_fns(dims)
    hours = LocalHours(tz)
    ticket_keys: dict[int, list[tuple[str, str]]] = {}
    for day, tid, queue, window, clerk, lane, status, issued_s, wait, service in rows:
        hour = hours.hour(round(issued_s, 3))
        # to the millisecond: the database's floating-point day arithmetic is not exact
        wait = None if wait is None else max(0.0, round(wait, 3))
        service = None if service is None else max(0.0, round(service, 3))
        keys = [(d, fn(queue, window, clerk, lane, hour)) for d, fn in key_fns]
        ticket_keys[tid] = keys
        for k in keys:
            f = fig(day, k)
            f.tickets += 1
            if status == DONE:
                f.served += 1
            elif status == NO_SHOW:
                f.no_show += 1
            elif status == CANCELLED:
                f.cancelled += 1
            elif status == EXPIRED:
                f.expired += 1
            if wait is not None:
                f.add_wait(wait)
            if service is not None:
                f.add_service(service)
    evals = session.execute(
        select(col(Evaluation.service_day), col(Evaluation.ticket_id), col(Evaluation.level)).where(
            col(Evaluation.hall_code) == hall, col(Evaluation.service_day).between(start, end)
        )
    ).all()
    for day, tid, level in evals:
        known = ticket_keys.get(tid) if tid is not None else None
        for k in known if known is not None else [("hall", "")][: int("hall" in dims)]:  # cases: hall only
            fig(day, k).add_level(level)
    appts = session.execute(
        select(col(Appointment.service_day), col(Appointment.status), func.count())
        .where(col(Appointment.hall_code) == hall, col(Appointment.service_day).between(start, end))
        .group_by(col(Appointment.service_day), col(Appointment.status))
    ).all()
    for day, status, n in appts if "hall" in dims else []:
        f = fig(day, ("hall", ""))
        f.appointments += n
        f.appt_checked_in += n if status == "checked_in" else 0
        f.appt_no_show += n if status == "no_show" else 0
        f.appt_cancelled += n if status == "cancelled" else 0
    return out


def missing_days(session: Session, hall: str, start: date, end: date) -> list[date]:
    """Days of start..end that have no rollup yet."""
    have = set(
        session.execute(
            select(col(DailyRollup.service_day)).where(
                col(DailyRollup.hall_code) == hall,
                col(DailyRollup.dim) == "hall",
                col(DailyRollup.service_day).between(start, end),
            )
        ).scalars()
    )
    days = (end - start).days + 1
    return [d for d in (start + timedelta(days=i) for i in range(max(0, days))) if d not in have]


def _values(f: Figures, now: datetime) -> dict[str, Any]:
    return {
        "tickets": f.tickets,
        "served": f.served,
        "no_show": f.no_show,
        "cancelled": f.cancelled,
        "expired": f.expired,
        "waits": f.waits,
        "wait_sum_s": f.wait_sum_s,
        "service_n": f.service_n,
        "service_sum_s": f.service_sum_s,
        "wait_hist": pack(f.wait_hist),
        "service_hist": pack(f.service_hist),
        "evaluations": f.evaluations,
        "satisfied": f.satisfied,
        **{f"level_{i + 1}": n for i, n in enumerate(f.levels)},
        "appointments": f.appointments,
        "appt_checked_in": f.appt_checked_in,
        "appt_no_show": f.appt_no_show,
        "appt_cancelled": f.appt_cancelled,
        "built_at": now,
    }


def build(session: Session, hall: str, days: list[date], tz: tzinfo, now: datetime) -> int:
    """Write (or rewrite) the rollups of these finished days, in the caller's transaction; rows written."""
    if not days:
        return 0
    figures = day_figures(session, hall, min(days), max(days), tz)
    wanted = set(days)
    session.execute(
        delete(DailyRollup).where(col(DailyRollup.hall_code) == hall, col(DailyRollup.service_day).in_(wanted))
    )
    rows = []
    for day in sorted(wanted):
        groups = figures.get(day) or {("hall", ""): Figures()}  # an empty day still gets its row
        for (dim, key), f in groups.items():
            rows.append({"hall_code": hall, "service_day": day, "dim": dim, "key": key} | _values(f, now))
    if rows:
        session.execute(insert(DailyRollup), rows)
    return len(rows)


_SUMS = (
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
    "level_1",
    "level_2",
    "level_3",
    "level_4",
    "level_5",
    "appointments",
    "appt_checked_in",
    "appt_no_show",
    "appt_cancelled",
)


def load(
    session: Session, hall: str, dim: str, start: date, end: date, *, by_day: bool = False, monthly: bool = False
) -> dict[str, Figures]:
    """Rollups of one grouping over start..end merged per key (per day with `by_day`), without raw values;
    `monthly` reads the month rows whose first day lies in start..end.

    Sums are added up by the database; histograms are added as packed integers (see `figures.pack`).
    """
    table = (MonthlyRollup if monthly else DailyRollup).__table__  # type: ignore[union-attr]
    day_col = table.c.month if monthly else table.c.service_day
    key: ColumnElement[object] = day_col if by_day else table.c.key
    where = (table.c.hall_code == hall, table.c.dim == dim, day_col.between(start, end))
    sums = session.execute(select(key, *(func.sum(table.c[name]) for name in _SUMS)).where(*where).group_by(key)).all()
    out: dict[str, Figures] = {}
    for row in sums:
        k = row[0].isoformat() if by_day else str(row[0])
        values = dict(zip(_SUMS, row[1:], strict=True))
        f = Figures(wait_raw=None, service_raw=None)
        for name in _SUMS:
            if not name.startswith("level_"):
                setattr(f, name, values[name] or 0)
        f.levels = [int(values[f"level_{i}"] or 0) for i in range(1, 6)]
        out[k] = f
    waits: dict[str, int] = {}
    services: dict[str, int] = {}
    for k, wh, sh in session.execute(select(key, table.c.wait_hist, table.c.service_hist).where(*where)):
        k = k.isoformat() if by_day else str(k)
        waits[k] = waits.get(k, 0) + int.from_bytes(wh, "little")
        services[k] = services.get(k, 0) + int.from_bytes(sh, "little")
    for k, f in out.items():
        f.wait_hist, f.service_hist = unpack(waits.get(k, 0)), unpack(services.get(k, 0))
    return out


def month_end(first: date) -> date:
    """The last day of the month that starts on `first`."""
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def split(start: date, end: date) -> tuple[list[date], list[tuple[date, date]]]:
    """A range as its whole months (first days) and the day spans left at either end."""
    first = start if start.day == 1 else month_end(start) + timedelta(days=1)
    months = []
    m = first
    while month_end(m) <= end:
        months.append(m)
        m = month_end(m) + timedelta(days=1)
    if not months:
        return [], [(start, end)]
    spans = [(start, months[0] - timedelta(days=1))] if start < months[0] else []
    after = month_end(months[-1]) + timedelta(days=1)
    if after <= end:
        spans.append((after, end))
    return months, spans


def missing_months(session: Session, hall: str, months: list[date]) -> list[date]:
    """Months without their rollup yet."""
    if not months:
        return []
    have = set(
        session.execute(
            select(col(MonthlyRollup.month)).where(
                col(MonthlyRollup.hall_code) == hall,
                col(MonthlyRollup.dim) == "hall",
                col(MonthlyRollup.month).in_(months),
            )
        ).scalars()
    )
    return [m for m in months if m not in have]


def build_months(session: Session, hall: str, months: list[date], now: datetime) -> int:
    """Sum the day rollups of whole finished months into month rows (the days must be built); rows written."""
    if not months:
        return 0
    session.execute(
        delete(MonthlyRollup).where(col(MonthlyRollup.hall_code) == hall, col(MonthlyRollup.month).in_(months))
    )
    rows = []
    for m in months:
        for dim in DIMS:
            for key, f in load(session, hall, dim, m, month_end(m)).items():
                rows.append({"hall_code": hall, "month": m, "dim": dim, "key": key} | _values(f, now))
    if rows:
        session.execute(insert(MonthlyRollup), rows)
    return len(rows)


def load_range(session: Session, hall: str, dim: str, start: date, end: date) -> dict[str, Figures]:
    """Rollups of one grouping over start..end per key: whole months from month rows, the rest from days."""
    months, spans = split(start, end)
    out = load(session, hall, dim, months[0], months[-1], monthly=True) if months else {}
    for a, b in spans:
        for key, f in load(session, hall, dim, a, b).items():
            if key in out:
                out[key].merge(f)
            else:
                out[key] = f
    return out


def invalidate(session: Session, hall: str, day: date) -> None:
    """Drop the rollups holding this day (a late evaluation changed it); the next report rebuilds them."""
    session.execute(delete(DailyRollup).where(col(DailyRollup.hall_code) == hall, col(DailyRollup.service_day) == day))
    session.execute(
        delete(MonthlyRollup).where(
            col(MonthlyRollup.hall_code) == hall, col(MonthlyRollup.month) == day.replace(day=1)
        )
    )
