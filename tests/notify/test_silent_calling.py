"""Silent calling end to end: a live server sends every message of a small day to a local gateway, once."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import Counter
from pathlib import Path

import httpx

from ..harness import TEST_CONFIG, fresh_database, runtime, serving
from .conftest import HOOK_SECRET, Receiver

KIOSK = {"Authorization": "Bearer kiosk-t1-token-0123456789"}


def wait_for(receiver: Receiver, n: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(receiver.hits) < n:
        time.sleep(0.05)
    time.sleep(0.3)  # and nothing more arrives


def test_a_small_day_reaches_the_gateway_exactly_once(backend: str, tmp_path: Path, receiver: Receiver) -> None:
    text = TEST_CONFIG.read_text(encoding="utf-8")
    text = text.replace(
        "[server]\ndemo = true",
        f'[server]\ndemo = true\n\n[notify]\nprovider = "webhook"\nurl = "{receiver.url}"\nsecret = "{HOOK_SECRET}"',
    )
    text = text.replace("max_priority_streak = 3", "max_priority_streak = 3\nnotify_ahead = 2", 1)
    cfg = tmp_path / "hall.toml"
    cfg.write_text(text, encoding="utf-8")
    url = fresh_database(backend, tmp_path, name="silent")
    phones = [f"1391234560{i}" for i in range(5)]
    with serving(runtime(url, tmp_path / "var", config=cfg)) as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
        tickets = [
            http.post("/api/v1/halls/t1/tickets", json={"queue": "A", "phone": p}, headers=KIOSK).json() for p in phones
        ]
        tickets.append(http.post("/api/v1/halls/t1/tickets", json={"queue": "A"}, headers=KIOSK).json())  # no phone
        token = http.post("/api/v1/auth/token", data={"username": "clerk1", "password": "clerk1-pass"}).json()
        clerk = {"Authorization": f"Bearer {token['access_token']}"}
        first = http.post("/api/v1/halls/t1/windows/5/call-next", headers=clerk).json()  # A001; A004 now has 2 ahead
        http.post(f"/api/v1/tickets/{first['id']}/recall", headers=clerk)
        http.post(f"/api/v1/tickets/{first['id']}/no-show", headers=clerk)
        second = http.post("/api/v1/halls/t1/windows/5/call-next", headers=clerk).json()  # A002; A005 has 2 ahead
        http.post(f"/api/v1/tickets/{second['id']}/complete", headers=clerk)
        wait_for(receiver, 5 + 1 + 1 + 1 + 1 + 2)
        staff = http.get("/api/v1/halls/t1/notifications", params={"status": "sent"}, headers=clerk)
    bodies = [h.json for h in receiver.hits]
    kinds = Counter((b["kind"], b["ticket"]) for b in bodies)
    assert kinds == Counter(
        {
            **{("issued", t["number"]): 1 for t in tickets[:5]},
            ("called", "A001"): 1,
            ("recalled", "A001"): 1,
            ("no_show", "A001"): 1,
            ("called", "A002"): 1,
            ("ahead", "A004"): 1,
            ("ahead", "A005"): 1,
        }
    )
    assert len({b["id"] for b in bodies}) == len(bodies)
    for hit in receiver.hits:
        mac = hmac.new(HOOK_SECRET.encode(), hit.body, hashlib.sha256).hexdigest()
        assert hit.headers["X-Hall-Signature"] == f"sha256={mac}"
    by_ticket = {b["ticket"]: b["phone"] for b in bodies if b["kind"] == "issued"}
    assert by_ticket == {t["number"]: p for t, p in zip(tickets, phones, strict=False)}
    called = next(b for b in bodies if b["kind"] == "called" and b["ticket"] == "A001")
    assert "5号窗口" in called["text"] and "window 5" in called["text"]
    assert staff.status_code == 200
    assert len(staff.json()) == len(bodies)
    assert all(p not in staff.text for p in phones)
