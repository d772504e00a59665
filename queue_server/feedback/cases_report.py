"""Cases in the statistics: running cases by deadline colour (亮灯: green / yellow / red) and cases by status.

Reads the cases package's table and its traffic-light rule (queue_server/cases/workdays.py), so the
colours here are the ones the back office sees.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from ..calendar import Calendar


def cases_by_colour(
    session: Session, *, hall: str, cal: Calendar, today: date, start: date, end: date, tz: tzinfo
) -> dict[str, Any]:
    """Running cases of the hall by deadline colour today, and cases submitted in start..end by status."""
    from ..cases.models import Case
    from ..cases.states import RUNNING
    from ..cases.workdays import light

    running = session.execute(
        select(col(Case.deadline), col(Case.time_limit_days)).where(
            col(Case.hall_code) == hall, col(Case.status).in_(sorted(RUNNING))
        )
    ).all()
    colours: Counter[str] = Counter({"green": 0, "yellow": 0, "red": 0})
    no_deadline = 0
    for deadline, limit in running:
        if deadline is None:
            no_deadline += 1
            continue
        colours[light(cal, today, deadline, limit)[0]] += 1
    lo = datetime.combine(start, time(0), tzinfo=tz)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz)
    by_status = session.execute(
        select(col(Case.status), func.count())
        .where(col(Case.hall_code) == hall, col(Case.submitted_at) >= lo, col(Case.submitted_at) < hi)
        .group_by(col(Case.status))
    ).all()
    return {
        "today": today.isoformat(),
        "running": dict(colours) | {"without_deadline": no_deadline},
        "submitted": {str(s): int(n) for s, n in by_status},
    }
