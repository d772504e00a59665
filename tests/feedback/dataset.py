"""A fixed data set with hand-computed figures: six tickets of one past day, written straight to the database."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from queue_server.feedback.models import Evaluation
from queue_server.models import Appointment, Ticket
from queue_server.timeutil import service_day, utcnow

from ..harness import Api

SH = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """The test hall's service day now."""
    return service_day(utcnow(), SH)


def _at(day: date, hm: str) -> datetime:
    h, m, *s = (int(x) for x in hm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, s[0] if s else 0, tzinfo=SH)


# number, queue, lane, status, window, clerk, arrived, called, serving, finished
TICKETS = [
    ("A001", "A", "normal", "done", 1, "clerk1", "09:00", "09:05", "09:05:30", "09:15:30"),  # wait 300, service 600
    ("A002", "A", "normal", "done", 1, "clerk1", "09:10", "09:20", "09:20", "09:25"),  # wait 600, service 300
    ("B001", "B", "vip", "done", 2, "clerk2", "10:00", "10:02", None, "10:12"),  # wait 120, service 600
    ("A003", "A", "normal", "no_show", 1, None, "10:30", "10:50", None, "10:55"),  # wait 1200
    ("B002", "B", "normal", "cancelled", None, None, "11:00", None, None, "11:10"),
    ("C001", "C", "normal", "expired", None, None, "11:30", None, None, None),
]


def load(api: Api, day: date) -> dict[str, dict[str, int | str]]:
    """Write the data set for `day`; evaluations of A001 (5) and A002 (2) only. Returns tickets by number."""
    out: dict[str, dict[str, int | str]] = {}
    with api.server.ctx.db.write() as s:
        rows = []
        for seq, (number, queue, lane, status, window, clerk, arrived, called, serving, finished) in enumerate(TICKETS):
            t = Ticket(
                hall_code="t1",
                service_day=day,
                issue_queue=queue,
                seq=100 + seq,
                number=number,
                queue=queue,
                lane=lane,
                status=status,
                channel="kiosk",
                arrived_at=_at(day, arrived),
                issued_at=_at(day, arrived),
                called_at=_at(day, called) if called else None,
                serving_at=_at(day, serving) if serving else None,
                finished_at=_at(day, finished) if finished else None,
                window=window,
                clerk=clerk,
                track_token=secrets.token_urlsafe(16),
            )
            s.add(t)
            rows.append(t)
        s.flush()
        for t, level in ((rows[0], 5), (rows[1], 2)):
            s.add(
                Evaluation(
                    hall_code="t1", ticket_id=t.id, ticket_number=t.number, queue=t.queue, window=t.window,
                    clerk=t.clerk, level=level, channel="pad", service_day=day, created_at=utcnow(),
                )
            )  # fmt: skip
        for i, status in enumerate(("checked_in", "no_show", "booked")):
            start = _at(day, "09:00") + timedelta(minutes=30 * i)
            s.add(
                Appointment(
                    code=f"AP{day:%m%d}{i}", hall_code="t1", queue="A", service_day=day, slot_start=start,
                    slot_end=start + timedelta(minutes=30), status=status, name_enc="x", name_masked="x",
                    id_enc="x", id_hash="x", id_masked="x", created_at=utcnow(), updated_at=utcnow(),
                )
            )  # fmt: skip
        s.commit()
        for t in rows:
            out[t.number] = {"id": int(t.id or 0), "track_token": t.track_token}
    return out


def load_demo(api: Api, *, days: int = 30, per_day: int = 80, seed: int = 7) -> int:
    """A month of plausible traffic (for the charts and screenshots): a morning and an afternoon peak."""
    import random

    rnd = random.Random(seed)
    first = today() - timedelta(days=days)
    n = 0
    with api.server.ctx.db.write() as s:
        for d in range(days + 1):
            day = first + timedelta(days=d)
            for i in range(per_day + rnd.randint(-15, 15)):
                minute = int(rnd.choice([rnd.gauss(10 * 60, 50), rnd.gauss(14.5 * 60, 60)]))
                minute = max(8 * 60 + 30, min(17 * 60, minute))
                arrived = _at(day, f"{minute // 60}:{minute % 60}:{rnd.randint(0, 59)}")
                peak = 1.0 + (1.5 if 9 * 60 + 30 <= minute <= 11 * 60 else 0.0)
                called = arrived + timedelta(seconds=rnd.expovariate(1 / (300 * peak)))
                queue, window = rnd.choice([("A", 1), ("A", 5), ("B", 2), ("C", 3), ("A", 4)])
                roll = rnd.random()
                status = "done" if roll < 0.9 else "no_show" if roll < 0.95 else "cancelled"
                finished = called + timedelta(seconds=rnd.gauss(420, 120) if status == "done" else 60)
                t = Ticket(
                    hall_code="t1", service_day=day, issue_queue=queue, seq=1000 + i, number=f"{queue}{i:03d}",
                    queue=queue, lane="normal" if rnd.random() < 0.85 else "special", status=status,
                    channel="kiosk", arrived_at=arrived, issued_at=arrived, called_at=called,
                    serving_at=called if status == "done" else None, finished_at=finished, window=window,
                    clerk=f"clerk{window}" if status == "done" else None, track_token=secrets.token_urlsafe(16),
                )  # fmt: skip
                s.add(t)
                n += 1
                if status == "done" and rnd.random() < 0.6:
                    s.flush()
                    level = rnd.choices([5, 4, 3, 2, 1], [60, 25, 8, 5, 2])[0]
                    s.add(
                        Evaluation(
                            hall_code="t1", ticket_id=t.id, ticket_number=t.number, queue=queue, window=window,
                            clerk=t.clerk, level=level, channel="pad", service_day=day, created_at=finished,
                        )
                    )  # fmt: skip
        s.commit()
    return n
