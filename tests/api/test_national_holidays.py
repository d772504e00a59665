"""A live server on 2026's dates follows the State Council's arrangement (国办发明电〔2025〕7号) with no dates
of the hall's own: the halls' opening answers, the 409 of a closed hall, slot lists, case and complaint
deadlines across the Spring Festival and 国庆. The server's clock is moved with time-machine (it patches
the clock of every thread, the server's too); the expected dates are typed from the notice."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from queue_server.calendar import national_days

from ..cases.helpers import act, new_case
from ..harness import KIOSK, TEST_CONFIG, Api, LiveServer, runtime, serving

SH = ZoneInfo("Asia/Shanghai")
HOURS = '\nopen = ["mon-fri 08:30-12:00", "mon-fri 13:30-17:00"]\n'


def hall_config(tmp_path: Path) -> Path:
    """The test hall t1 with weekday hours (and nothing else about dates); its queue A takes bookings."""
    text = TEST_CONFIG.read_text(encoding="utf-8")
    marker = 'output_queue = "C"'
    text = text.replace(marker, marker + HOURS, 1)
    text = text.replace("national_holidays = false", "national_holidays = true", 1)  # t1's, the default
    text = text.replace('code = "A"\n  name = "市场准入"', 'code = "A"\n  name = "市场准入"\n  slot_capacity = 2', 1)
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    return path


def t1(api: Api) -> dict[str, Any]:
    halls = {h["code"]: h for h in api.http.get("/api/v1/halls").json()}
    return dict(halls["t1"])


def slot_count(api: Api, day: str) -> int:
    r = api.http.get("/api/v1/halls/t1/slots", params={"queue": "A", "date": day})
    assert r.status_code == 200, r.text
    return len(r.json())


def complaint_deadline(api: Api) -> str:
    body = {"category": "service", "content": "窗口人员玩手机，等了很久"}
    r = api.http.post("/api/v1/halls/t1/complaints", json=body)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    listed = api.http.get("/api/v1/halls/t1/complaints", headers=api.auth("approver1")).json()
    return str(next(c for c in listed if c["code"] == code)["deadline_day"])


def case_deadline(api: Api) -> str:
    c = new_case(api, item="SBYB-SY-003", situation="standard")  # 失业保险金申领: 5 working days
    r = act(api, c["number"], "accept")
    assert r.status_code == 200, r.text
    return str(r.json()["deadline"])


def at(srv: LiveServer, traveller: Any, when: datetime) -> Api:
    """Move the server's clock; a new client (tokens are issued at the new time)."""
    traveller.move_to(when)
    srv.tokens.clear()
    return Api(srv)


def test_the_2026_arrangement_through_the_api(tmp_db: str, tmp_path: Path) -> None:
    rt = runtime(tmp_db, tmp_path / "var", config=hall_config(tmp_path))
    with time_machine.travel(datetime(2026, 2, 13, 10, 0, tzinfo=SH), tick=True) as traveller, serving(rt) as srv:
        # Friday 13 February, open; the Saturday after is a 调休 workday, 2-15..2-23 the Spring Festival.
        api = at(srv, traveller, datetime(2026, 2, 13, 10, 0, tzinfo=SH))
        assert t1(api)["open_now"] is True
        assert slot_count(api, "2026-02-14") == 14  # 调休 Saturday: Monday's hours, 7 + 7 half-hours
        for day in ("2026-02-15", "2026-02-16", "2026-02-21", "2026-02-23"):
            assert slot_count(api, day) == 0, day  # 除夕 Monday, the Saturday inside, 初七 Monday
        assert slot_count(api, "2026-02-24") == 14 and slot_count(api, "2026-02-28") == 14
        assert slot_count(api, "2026-03-07") == 0  # an ordinary Saturday
        # 5 working days from Fri 13 Feb: Sat 14 (1), Tue 24 (2) … Fri 27 (5).
        assert case_deadline(api).startswith("2026-02-27")
        assert complaint_deadline(api) == "2026-02-27"  # a complaint's 5 working days, the same calendar
        api.close()

        # Saturday 14 February after closing: the next opening is after the festival.
        api = at(srv, traveller, datetime(2026, 2, 14, 18, 0, tzinfo=SH))
        hall = t1(api)
        assert hall["open_now"] is False
        assert datetime.fromisoformat(hall["next_open"]) == datetime(2026, 2, 24, 8, 30, tzinfo=SH)
        api.close()

        # 除夕 (Monday 16 February): taking a number is refused, naming the same opening.
        api = at(srv, traveller, datetime(2026, 2, 16, 10, 0, tzinfo=SH))
        assert t1(api)["open_now"] is False
        r = api.http.post("/api/v1/halls/t1/tickets", json={"queue": "A", "channel": "kiosk"}, headers=api.auth(KIOSK))
        assert r.status_code == 409, r.text
        assert "2026-02-24 08:30" in r.json()["detail"]
        api.close()

        # Wednesday 30 September: 国庆 10-1..10-7, Saturday 10 October a 调休 workday.
        api = at(srv, traveller, datetime(2026, 9, 30, 10, 0, tzinfo=SH))
        assert t1(api)["open_now"] is True
        assert slot_count(api, "2026-09-20") == 14  # 调休 Sunday before
        assert slot_count(api, "2026-10-10") == 14
        assert all(slot_count(api, f"2026-10-0{d}") == 0 for d in range(1, 8))
        # 5 working days from Wed 30 Sep: Thu 8 (1), Fri 9 (2), Sat 10 (3), Mon 12 (4), Tue 13 (5).
        assert case_deadline(api).startswith("2026-10-13")
        assert complaint_deadline(api) == "2026-10-13"
        api.close()

        api = at(srv, traveller, datetime(2026, 9, 30, 18, 0, tzinfo=SH))
        assert datetime.fromisoformat(t1(api)["next_open"]) == datetime(2026, 10, 8, 8, 30, tzinfo=SH)
        api.close()


def test_a_year_without_the_arrangement_is_said_at_start_up_and_in_the_supervisor_view(
    tmp_db: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = max(national_days().years) + 1  # the first year the installed package has no notice for
    text = hall_config(tmp_path).read_text(encoding="utf-8")
    assert text.count("national_holidays = false") == 1  # hall t2 has it off (a 24-hour zone would): silent
    (tmp_path / "hall.toml").write_text(text, encoding="utf-8")
    rt = runtime(tmp_db, tmp_path / "var", config=tmp_path / "hall.toml")
    clock = time_machine.travel(datetime(missing, 3, 2, 10, 0, tzinfo=SH), tick=True)
    with clock, caplog.at_level(logging.WARNING), serving(rt) as srv:
        said = [r.getMessage() for r in caplog.records if "chinesecalendar" in r.getMessage()]
        assert len(said) == 1 and said[0].startswith("hall t1:") and str(missing) in said[0]
        api = Api(srv)
        ov = api.http.get("/api/v1/halls/t1/console/overview", headers=api.auth("clerk1")).json()
        assert str(missing) in ov["calendar_notice"] and "weekday rules" in ov["calendar_notice"]
        other = api.http.get("/api/v1/halls/t2/console/overview", headers=api.auth("clerk-t2"))
        assert other.status_code == 200 and other.json()["calendar_notice"] is None
        # Weekday rules keep working that year: the weekday of 2 March decides.
        assert t1(api)["open_now"] is (date(missing, 3, 2).weekday() < 5)
        api.close()
