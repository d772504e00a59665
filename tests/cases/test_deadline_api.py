"""The promised deadline of an accepted case counts working days of the hall's calendar (holidays, 调休)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ..harness import TEST_CONFIG, Api, runtime, serving
from .helpers import act, new_case


def _calendar_around(today: date) -> tuple[list[date], list[date]]:
    """Holidays: the next three weekdays after today; 调休: the first weekend day after them."""
    holidays, day = [], today
    while len(holidays) < 3:
        day += timedelta(days=1)
        if day.weekday() < 5:
            holidays.append(day)
    while day.weekday() < 5:
        day += timedelta(days=1)
    return holidays, [day]


def test_deadline_skips_holidays_and_counts_adjusted_workdays(tmp_db: str, tmp_path: Path) -> None:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    holidays, workdays = _calendar_around(today)
    text = TEST_CONFIG.read_text(encoding="utf-8")
    marker = 'output_queue = "C"'
    extra = f"\nholidays = {[d.isoformat() for d in holidays]}\nworkdays = {[d.isoformat() for d in workdays]}\n"
    config = tmp_path / "hall.toml"
    config.write_text(text.replace(marker, marker + extra.replace("'", '"'), 1), encoding="utf-8")
    with serving(runtime(tmp_db, tmp_path / "var", config=config)) as srv:
        api = Api(srv)
        c = new_case(api, item="SBYB-SY-003", situation="standard")  # 失业保险金申领: 5 working days
        r = act(api, c["number"], "accept")
        assert r.status_code == 200, r.text
        deadline = date.fromisoformat(r.json()["deadline"])
        api.close()
    counted = [
        d
        for d in (today + timedelta(days=i) for i in range(1, (deadline - today).days + 1))
        if (d.weekday() < 5 or d in workdays) and d not in holidays
    ]
    assert len(counted) == 5 and counted[-1] == deadline
    assert deadline not in holidays
    assert workdays[0] <= deadline  # the 调休 Saturday or Sunday is among the five
    assert deadline > today + timedelta(days=7)  # three holidays pushed it past a plain week
