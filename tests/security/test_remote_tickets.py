"""通办取号 cannot be taken in bulk: a remote ticket needs a one-time code sent to the phone through the
silent-calling channel (never shown to staff or logged), codes expire and die after a few wrong tries, and a
share of each queue's daily cap stays for people in the hall. Real server over HTTP, a real webhook
gateway on loopback, both databases.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from queue_server.notify.models import PhoneCode
from queue_server.timeutil import utcnow

from ..harness import LiveServer, runtime, serving
from ..notify.conftest import HOOK_SECRET, Receiver

KIOSK = "kiosk-r1-token-0123456789"
CONFIG = """
[server]
demo = true

[notify]
provider = "{provider}"
url = "{url}"
secret = "{secret}"

[[halls]]
code = "r1"
name = "通办中心"
name_en = "Remote Centre"
public_url = "https://r1.example.gov.cn/hall/"   # where phones reach the server: the tracking page's address

  [[halls.queues]]
  code = "A"
  name = "综合"
  name_en = "General"
  daily_cap = 8            # remote tickets may take half (remote_share = 0.5, the default)

  [[halls.queues]]
  code = "B"
  name = "不动产"
  name_en = "Real estate"
  daily_cap = 4
  remote_share = 0.0       # all of it for people in the hall

[[users]]
username = "clerk-r1"
password = "clerk-r1-pass"
role = "clerk"
hall = "r1"

[[devices]]
name = "kiosk-r1"
role = "kiosk"
hall = "r1"
token = "kiosk-r1-token-0123456789"
"""


@pytest.fixture
def gateway() -> Iterator[Receiver]:
    """The city's SMS gateway, on loopback."""
    g = Receiver().start()
    yield g
    g.stop()


def _serve(tmp_db: str, tmp_path: Path, provider: str, url: str) -> AbstractContextManager[LiveServer]:
    cfg = tmp_path / "hall.toml"
    cfg.write_text(CONFIG.format(provider=provider, url=url, secret=HOOK_SECRET), encoding="utf-8")
    return serving(runtime(tmp_db, tmp_path / "var", config=cfg))


@pytest.fixture
def srv(tmp_db: str, tmp_path: Path, gateway: Receiver) -> Iterator[LiveServer]:
    """The server, sending citizens' messages to the gateway."""
    with _serve(tmp_db, tmp_path, "webhook", gateway.url) as s:
        yield s


def ask(http: httpx.Client, phone: str, queue: str = "A") -> httpx.Response:
    """Step 1: ask for a code."""
    return http.post("/api/v1/halls/r1/remote-tickets/verify", json={"queue": queue, "phone": phone})


def take(http: httpx.Client, phone: str, code: str, queue: str = "A") -> httpx.Response:
    """Step 2: take the number with the code."""
    return http.post("/api/v1/halls/r1/remote-tickets", json={"queue": queue, "phone": phone, "code": code})


def test_a_remote_ticket_needs_the_code_sent_to_the_phone(srv: LiveServer, gateway: Receiver) -> None:
    with httpx.Client(base_url=srv.url, timeout=30) as http:
        phone = "13900001111"
        assert take(http, phone, "123456").status_code == 422  # no code asked for: nothing to prove
        r = ask(http, phone)
        assert r.status_code == 202, r.text
        assert r.json() == {"phone_masked": "139****1111", "expires_in_s": 300}
        code = gateway.code_for(phone)
        wrong = take(http, phone, f"{(int(code) + 1) % 1_000_000:06d}")
        assert wrong.status_code == 422 and "code is wrong" in wrong.json()["detail"]
        taken = take(http, phone, code)
        assert taken.status_code == 201
        t = taken.json()
        assert t["track_url"] == f"https://r1.example.gov.cn/hall/track/{t['track_token']}"  # from public_url
        assert take(http, "13900002222", code).status_code == 422  # another phone's code proves nothing
        again = take(http, phone, code)
        assert again.status_code == 422  # spent
        # staff see that a code went out, never the code itself
        token = http.post("/api/v1/auth/token", data={"username": "clerk-r1", "password": "clerk-r1-pass"})
        staff = http.get(
            "/api/v1/halls/r1/notifications", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        ).json()
        sent = [m for m in staff if m["kind"] == "verify_code"]
        assert len(sent) == 1 and "******" in sent[0]["text"] and code not in str(staff)
        assert not re.search(r"\d{6}", sent[0]["text"])


def test_codes_die_after_five_wrong_tries_and_expire(srv: LiveServer, gateway: Receiver) -> None:
    with httpx.Client(base_url=srv.url, timeout=30) as http:
        phone = "13900003333"
        assert ask(http, phone).status_code == 202
        code = gateway.code_for(phone)
        wrong = f"{(int(code) + 7) % 1_000_000:06d}"
        assert [take(http, phone, wrong).status_code for _ in range(5)] == [422] * 5
        assert take(http, phone, code).status_code == 422  # dead after five wrong tries: a guesser gets 5 in 10^6
        assert take(http, phone, code).status_code == 429  # and the phone's tries for the hour are spent
        other = "13900004444"
        assert ask(http, other).status_code == 202
        fresh = gateway.code_for(other)
        with srv.ctx.db.write() as s:  # five minutes later
            s.execute(update(PhoneCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        assert take(http, other, fresh).status_code == 422


def test_half_the_cap_stays_for_people_in_the_hall(srv: LiveServer, gateway: Receiver) -> None:
    with httpx.Client(base_url=srv.url, timeout=30) as http:
        late = "13900000099"
        assert ask(http, late).status_code == 202  # asked before the share ran out, used after
        late_code = gateway.code_for(late)
        for i in range(4):
            phone = f"1390000{i:04d}"
            assert ask(http, phone).status_code == 202
            assert take(http, phone, gateway.code_for(phone)).status_code == 201
        full = take(http, late, late_code)
        assert full.status_code == 409
        assert "remote tickets" in full.json()["detail"] and "大厅现场" in full.json()["detail"]
        kiosk = {"Authorization": f"Bearer {KIOSK}"}
        walk_ins = [
            http.post("/api/v1/halls/r1/tickets", json={"queue": "A"}, headers=kiosk).status_code for _ in range(5)
        ]
        assert walk_ins == [201] * 4 + [409]  # the other half was there for the hall; then the cap
        assert ask(http, "13911112222").status_code == 409  # no code is sent once the share is taken
        none = ask(http, "13911112222", queue="B")
        assert none.status_code == 409  # this queue keeps all of its cap for the hall (remote_share = 0)


def test_a_flood_without_codes_takes_nothing(srv: LiveServer) -> None:
    """The attack of the issue (400 requests, 12 addresses, the whole cap in 3.7 s), replayed."""
    statuses: list[int] = []
    for a in range(12):
        transport = httpx.HTTPTransport(local_address=f"127.0.0.{a + 2}")
        with httpx.Client(base_url=srv.url, timeout=30, transport=transport) as http:
            statuses += [take(http, f"139{a:02d}{i:06d}", f"{i:06d}").status_code for i in range(34)]
    assert (len(statuses), statuses.count(422), statuses.count(429)) == (408, 12 * 30, 12 * 4)  # 30 an hour each
    board = httpx.get(f"{srv.url}/api/v1/halls/r1/queues").json()
    assert all(q["waiting"] == 0 for q in board)


def test_the_log_provider_never_writes_the_code(tmp_db: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="queue_server.notify")
    with _serve(tmp_db, tmp_path, "log", "http://127.0.0.1:9/unused") as s, httpx.Client(base_url=s.url) as http:
        assert ask(http, "13900005555").status_code == 202
        deadline = time.monotonic() + 10  # the dispatcher sends (here: logs) it off the request path
        while "[verify_code]" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
    line = next(r.getMessage() for r in caplog.records if "[verify_code]" in r.getMessage())
    assert "******" in line and "139****5555" in line
    assert not re.search(r"\d{6}", line.split(": ", 1)[1])  # the text: the code is nowhere in it
