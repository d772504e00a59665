"""GET /api/v1/halls tells a kiosk whether each hall is open now, when it opens next and which queues take
bookings (the kiosk's 24-hour mode), and taking a number while closed is refused with that same opening."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from tests.harness import runtime, serving

SH = ZoneInfo("Asia/Shanghai")


def config(today: str, tomorrow: str) -> str:
    """Three halls: closed today and tomorrow (holidays), open around the clock, and without any rules."""
    return f"""
[server]
demo = true

[[halls]]
code = "cl"
name = "闭馆测试中心"
name_en = "Closed Centre"
open = ["daily 08:30-12:00", "daily 13:30-17:00"]
holidays = ["{today}", "{tomorrow}"]
national_holidays = false  # its own two days only, whatever day the test runs

  [[halls.queues]]
  code = "A"
  name = "市场准入"
  name_en = "Market access"
  slot_capacity = 2

  [[halls.queues]]
  code = "B"
  name = "社会事务"
  name_en = "Social affairs"

  [[halls.windows]]
  number = 1
  queues = ["A", "B"]

[[devices]]
name = "kiosk-cl"
role = "kiosk"
hall = "cl"
token = "kiosk-cl-token-0123456789"

[[halls]]
code = "op"
name = "全天中心"
name_en = "All-day Centre"
open = ["daily 00:00-24:00"]
national_holidays = false  # a 24-hour zone: open on national holidays too

  [[halls.queues]]
  code = "A"
  name = "综合"
  name_en = "General"

  [[halls.windows]]
  number = 1
  queues = ["A"]

[[halls]]
code = "al"
name = "无规则中心"
name_en = "Rule-less Centre"

  [[halls.queues]]
  code = "A"
  name = "综合"
  name_en = "General"
  slot_capacity = 1

  [[halls.windows]]
  number = 1
  queues = ["A"]
"""


def test_halls_say_open_now_next_opening_and_booking_queues(tmp_db: str, tmp_path: Path) -> None:
    now = datetime.now(SH)
    today, tomorrow = now.date(), now.date() + timedelta(days=1)
    cfg = tmp_path / "hours.toml"
    cfg.write_text(config(today.isoformat(), tomorrow.isoformat()), encoding="utf-8")
    with serving(runtime(tmp_db, tmp_path / "var", config=cfg)) as srv, httpx.Client(base_url=srv.url) as http:
        halls = {h["code"]: h for h in http.get("/api/v1/halls").json()}
        closed, open_, always = halls["cl"], halls["op"], halls["al"]
        assert closed["open_now"] is False
        nxt = datetime.fromisoformat(closed["next_open"])
        assert nxt == datetime.combine(today + timedelta(days=2), datetime.min.time(), SH) + timedelta(hours=8.5)
        assert nxt.utcoffset() == timedelta(hours=8)  # local time: the kiosk shows it as it is
        assert closed["booking_queues"] == ["A"]
        assert open_["open_now"] is True and open_["next_open"] is None and open_["booking_queues"] == []
        assert always["open_now"] is True and always["next_open"] is None and always["booking_queues"] == ["A"]
        assert {"code", "name", "name_en", "timezone"} <= set(closed)  # the old fields stay
        r = http.post(
            "/api/v1/halls/cl/tickets",
            json={"queue": "A", "lane": "normal", "channel": "kiosk"},
            headers={"Idempotency-Key": "closed-1", "Authorization": "Bearer kiosk-cl-token-0123456789"},
        )
        assert r.status_code == 409, r.text
        assert f"{nxt:%Y-%m-%d} {nxt:%H:%M}" in r.json()["detail"]  # the same opening as the halls answer
