"""Benchmark of the statistics (R15): a city's year — 1,000,000 tickets — and how long each report takes.

    .venv/bin/python bench/reports.py --db sqlite --tickets 1000000
    .venv/bin/python bench/reports.py --db postgresql --tickets 1000000

Generates one hall's year (365 finished days plus today, ~2,740 tickets a day over 10 queues, 20
windows, 30 clerks, 4 lanes; 35% of served tickets rated; 300 appointments a day) straight into a
migrated database, times the one-off rollup build of the finished days, then times every report the
supervisor page asks for (server functions on the real database, as the routes call them; the best
and the median of `--repeat` runs). The database is kept (`--keep`) for repeated runs. Results go to
bench/results/reports-<db>.json and are printed as a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from queue_server.calendar import Calendar  # noqa: E402
from queue_server.db import Database  # noqa: E402
from queue_server.feedback import reports  # noqa: E402
from queue_server.feedback.models import DailyRollup, Evaluation, MonthlyRollup  # noqa: E402
from queue_server.migrations import upgrade  # noqa: E402
from queue_server.models import Appointment, Hall, Ticket  # noqa: E402
from queue_server.timeutil import service_day, utcnow  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
HALL = "city"
QUEUES = "ABCDEFGHJK"
LANES = ("normal",) * 6 + ("special", "vip", "appointment")
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench_reports"


def _url(db: str) -> str:
    if db == "sqlite":
        return "sqlite:////tmp/bench-reports.db"
    return PG


def _prepare_pg() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as c:
        c.execute("CREATE SCHEMA IF NOT EXISTS bench_reports")


def generate(db: Database, total: int, seed: int = 1) -> float:
    """Write a year of tickets, evaluations and appointments; seconds taken."""
    t0 = time.perf_counter()
    rnd = random.Random(seed)
    today = service_day(utcnow(), TZ)
    days = [today - timedelta(days=d) for d in range(365, -1, -1)]
    per_day = total // len(days)
    with db.write() as s:
        s.execute(insert(Hall), [{"code": HALL, "name": "市民中心", "last_seq": 0}])
        s.commit()
    tid = 0
    for day in days:
        tickets, evals, appts = [], [], []
        seq = dict.fromkeys(QUEUES, 0)
        for _ in range(per_day):
            tid += 1
            q = rnd.choice(QUEUES)
            seq[q] += 1
            minute = max(540, min(1020, int(rnd.gauss(700, 120))))
            arrived = datetime(day.year, day.month, day.day, minute // 60, minute % 60, rnd.randint(0, 59), tzinfo=TZ)
            called = arrived + timedelta(seconds=rnd.expovariate(1 / 600))
            roll = rnd.random()
            status = "done" if roll < 0.88 else "no_show" if roll < 0.94 else "cancelled" if roll < 0.98 else "expired"
            window = rnd.randint(1, 20) if status != "expired" else None
            clerk = f"c{window + rnd.randint(0, 10)}" if window else None
            finished = called + timedelta(seconds=max(30, rnd.gauss(480, 180))) if status != "expired" else None
            tickets.append(
                {
                    "id": tid, "hall_code": HALL, "service_day": day, "issue_queue": q, "seq": seq[q],
                    "number": f"{q}{seq[q]:03d}", "queue": q, "lane": rnd.choice(LANES),
                    "status": status, "channel": "kiosk", "arrived_at": arrived, "issued_at": arrived,
                    "called_at": called if window else None, "serving_at": called if status == "done" else None,
                    "finished_at": finished, "window": window, "clerk": clerk,
                    "track_token": secrets.token_hex(8) + str(tid), "recalls": 0,
                }
            )  # fmt: skip
            if status == "done" and rnd.random() < 0.35:
                level = rnd.choices((5, 4, 3, 2, 1), (70, 20, 6, 3, 1))[0]
                evals.append(
                    {
                        "hall_code": HALL, "ticket_id": tid, "ticket_number": f"{q}{seq[q]:03d}", "queue": q,
                        "window": window, "clerk": None, "level": level, "reasons": "", "comment": "",
                        "channel": "pad", "service_day": day, "created_at": finished,
                    }
                )  # fmt: skip
        for i in range(300):
            start = datetime(day.year, day.month, day.day, 9, 0, tzinfo=TZ) + timedelta(minutes=30 * (i % 16))
            appts.append(
                {
                    "code": f"B{day:%y%m%d}{i:04d}", "hall_code": HALL, "queue": rnd.choice(QUEUES), "service_day": day,
                    "slot_start": start, "slot_end": start + timedelta(minutes=30),
                    "status": rnd.choices(("checked_in", "no_show", "cancelled"), (80, 12, 8))[0], "channel": "web",
                    "name_enc": "x", "name_masked": "x", "id_enc": "x", "id_hash": "x", "id_masked": "x",
                    "created_at": start, "updated_at": start,
                }
            )  # fmt: skip
        with db.write() as s:
            s.execute(insert(Ticket), tickets)
            if evals:
                s.execute(insert(Evaluation), evals)
            s.execute(insert(Appointment), appts)
            s.commit()
    if not db.is_sqlite:
        with db.write() as s:
            s.execute(text("SELECT setval(pg_get_serial_sequence('ticket', 'id'), (SELECT max(id) FROM ticket))"))
            s.execute(text("ANALYZE"))
            s.commit()
    return time.perf_counter() - t0


def timed(fn: object, repeat: int) -> dict[str, float]:
    """Best and median wall milliseconds of `repeat` calls, and the best CPU milliseconds of this process
    (the work itself, less disturbed when other programs share the machine)."""
    runs, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()  # type: ignore[operator]
        runs.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {
        "best_ms": round(min(runs), 1),
        "median_ms": round(statistics.median(runs), 1),
        "cpu_best_ms": round(min(cpu), 1),
    }


def main() -> None:
    """Generate (unless kept), build rollups, time the reports, write the results."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="reuse the database (and its rollups) of an earlier run")
    ap.add_argument("--rebuild", action="store_true", help="with --keep: time the rollup build again")
    args = ap.parse_args()
    url = _url(args.db)
    if args.db == "postgresql":
        _prepare_pg()
    db = Database(url)
    existing = 0
    if args.keep:
        upgrade(url)
        with db.read() as s:
            existing = int(s.execute(select(func.count()).select_from(Ticket)).scalar_one())
    if not existing:
        if args.db == "sqlite":
            Path("/tmp/bench-reports.db").unlink(missing_ok=True)
        else:
            with db.write() as s:
                s.execute(text("DROP SCHEMA IF EXISTS bench_reports CASCADE"))
                s.execute(text("CREATE SCHEMA bench_reports"))
                s.commit()
            db.dispose()
            db = Database(url)
        upgrade(url)
        gen_s = generate(db, args.tickets)
        print(f"generated in {gen_s:.1f} s", flush=True)
    with db.read() as s:
        n = int(s.execute(select(func.count()).select_from(Ticket)).scalar_one())
    today = service_day(utcnow(), TZ)
    year = (today - timedelta(days=365), today)
    month = (today - timedelta(days=30), today - timedelta(days=1))
    week = (today - timedelta(days=6), today)
    rebuilt = args.rebuild or not existing
    if rebuilt:
        with db.write() as s:
            s.execute(DailyRollup.__table__.delete())  # type: ignore[attr-defined]
            s.execute(MonthlyRollup.__table__.delete())  # type: ignore[attr-defined]
            s.commit()
    t0 = time.perf_counter()
    reports.ensure_rollups(db, HALL, year[0], year[1], today, TZ)
    build_s = time.perf_counter() - t0
    with db.read() as s:
        rollup_rows = int(s.execute(select(func.count()).select_from(DailyRollup)).scalar_one())
        month_rows = int(s.execute(select(func.count()).select_from(MonthlyRollup)).scalar_one())
    cal = Calendar.build(TZ, None)

    def summary(rng: tuple[date, date], group: str) -> object:
        def run() -> object:
            reports.ensure_rollups(db, HALL, rng[0], rng[1], today, TZ)
            with db.read() as s:
                return reports.summary(s, hall=HALL, start=rng[0], end=rng[1], group=group, tz=TZ, today=today)

        return run

    def queue_length() -> object:
        with db.read() as s:
            return reports.queue_length(s, hall=HALL, day=today - timedelta(days=1), tz=TZ)

    def utilisation() -> object:
        rows = summary(year, "window")()["rows"]  # type: ignore[index,operator]
        return reports.utilisation(rows, reports.open_seconds(cal, year[0], year[1], utcnow()))

    def open_work() -> object:
        with db.read() as s:
            return reports.open_work(s, hall=HALL, now=utcnow())

    cases: dict[str, object] = {}
    for group in ("hall", "queue", "window", "clerk", "lane", "hour", "day"):
        cases[f"year by {group}"] = summary(year, group)
    cases["last 30 days by window"] = summary(month, "window")
    cases["today by window (exact)"] = summary((today, today), "window")
    cases["last 7 days by hour (exact)"] = summary(week, "hour")
    cases["queue length, one day"] = queue_length
    cases["window utilisation, year"] = utilisation
    cases["open follow-ups and complaints"] = open_work
    results = {name: timed(fn, args.repeat) for name, fn in cases.items()}
    out = {
        "db": args.db,
        "tickets": n,
        "rollup_build_s": round(build_s, 2) if rebuilt else None,  # None: rollups of an earlier run reused
        "rollup_rows": rollup_rows,
        "monthly_rollup_rows": month_rows,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "at": utcnow().isoformat(timespec="seconds"),
        "reports": results,
    }
    dest = ROOT / "bench" / "results" / f"reports-{args.db}.json"
    dest.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"\n{args.db}: {n:,} tickets; rollups built in {build_s:.1f} s", end=" ")
    print(f"({rollup_rows:,} day rows, {month_rows} month rows)\n")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    print("| report | best ms | median ms | CPU ms (best) |\n|---|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['best_ms']} | {r['median_ms']} | {r['cpu_best_ms']} |")
    db.dispose()


if __name__ == "__main__":
    main()
