"""The desk agent (peripherals/desk_agent): its pure parts, and the agent against a live server with a PC/SC
reader (a virtual card through a real pcscd) and an ESC/POS printer out of paper on a pseudo-terminal.

The browser side (读卡 and 打印 from the desk page, SAM reader, a printed ticket) is tests/web/test_desk.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest
from websockets.sync.client import connect

from peripherals import open_id_reader, open_printer
from peripherals.desk_agent import DeskAgent, card_body, combined_health, ticket_data
from peripherals.health import DeviceHealth
from peripherals.idcard import CardUid, demo_card
from peripherals.idcard.vpcd_card import VirtualCard
from peripherals.printer.simdevice import SimulatedPrinter
from peripherals.printer.simulator import PtySimulator

from ..harness import DESK, Api, events_url
from .test_idcard_pcsc import READER, UID, Pcscd, pcscd

__all__ = ["pcscd"]  # fixture used here


def test_what_the_agent_posts_for_a_card_a_uid_and_no_card() -> None:
    card = demo_card()
    assert card_body(card) == {
        "card": {"name": card.name, "id_number": card.id_number, "sex": "男", "birth_date": "1990-03-07"}
    }
    assert card_body(CardUid(UID, READER)) == {"uid": "04A1B2C3D4E5F6"}
    assert "No card" in card_body(None)["error"]
    assert card_body(None, "reader fault")["error"] == "reader fault"


def test_one_health_report_for_printer_and_reader() -> None:
    ok = DeviceHealth("ok")
    assert combined_health(ok, ok) == ("ok", "printer: ok; reader: ok")
    status, detail = combined_health(DeviceHealth("paper_out", "no paper"), ok)
    assert status == "paper_out" and "printer: paper_out (no paper)" in detail
    assert combined_health(ok, DeviceHealth("offline"))[0] == "error"  # "offline" means the agent stopped
    assert combined_health(None, ok) == ("ok", "printer: none; reader: ok")


def test_the_ticket_is_printed_as_the_server_gives_it() -> None:
    data = ticket_data(
        {
            "hall_name": "测试中心",
            "number": "C007",
            "queue_name": "社会事务",
            "queue_name_en": "Social affairs",
            "lane": "special",
            "ahead": 3,
            "estimated_wait_s": 610,
            "issued_at": "2026-12-06T17:05:00+08:00",
            "track_url": "https://hall.example/track/abc",
        }
    )
    assert (data.number, data.lane, data.people_ahead, data.estimated_wait_min) == ("C007", "special", 3, 10)
    assert data.issued_at == datetime.fromisoformat("2026-12-06T17:05:00+08:00")  # the hall's clock, kept
    assert data.tracking_url == "https://hall.example/track/abc" and data.issued_at.date() == date(2026, 12, 6)


class Running:
    """A DeskAgent on its own event loop in a thread (as `python -m peripherals.desk_agent` runs it)."""

    def __init__(self, agent: DeskAgent) -> None:
        self.agent = agent
        self.loop = asyncio.new_event_loop()
        self.task: asyncio.Task[None] | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.task = self.loop.create_task(self.agent.run())
        with contextlib.suppress(asyncio.CancelledError):
            self.loop.run_until_complete(self.task)

    def stop(self) -> None:
        if self.task is not None:
            self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(timeout=20)


def until(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)
    return value


def agent(api: Api) -> dict[str, Any]:
    setup = api.http.get("/api/v1/halls/t1/desk/setup", headers=api.auth("clerk1")).json()
    return dict(next(a for a in setup["agents"] if a["name"] == "desk-t1"))


def answer(api: Api, kind: str, key: str, value: str, send: Callable[[], Any]) -> dict[str, Any]:
    """Send a request (`send`) and return the `data` of the hall event `kind` whose `key` is the request's."""
    with connect(events_url(api.server, token=api.token("clerk1")), open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "snapshot"
        wanted = send()[value]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv(timeout=30))
            if msg["type"] == kind and msg["data"].get(key) == wanted:
                return dict(msg["data"])
    raise AssertionError(f"no {kind} answered")


@pytest.fixture
def printer_out_of_paper() -> Iterator[PtySimulator]:
    with PtySimulator(SimulatedPrinter(state="paper_out")) as served:
        yield served


def test_a_pcsc_card_and_a_printer_out_of_paper_reach_the_desk_page_as_they_are(
    api: Api, pcscd: Pcscd, printer_out_of_paper: PtySimulator
) -> None:
    inserted = VirtualCard(UID).insert()
    reader = open_id_reader(f"pcsc://?reader={READER}")
    printer = open_printer(printer_out_of_paper.url)
    run = Running(DeskAgent(server=api.server.url, token=DESK, reader=reader, printer=printer, read_timeout=5))
    run.thread.start()
    try:
        state = until(lambda: (a := agent(api))["online"] and a)
        assert state["status"] == "paper_out" and "printer: paper_out" in state["detail"]  # staff see the trouble

        # 读卡 with a PC/SC reader: the card's UID, fetched once by the clerk (it is not a resident ID card)
        def ask() -> dict[str, Any]:
            r = api.http.post("/api/v1/halls/t1/desk/read", json={"device": "desk-t1"}, headers=api.auth("clerk1"))
            assert r.status_code == 202, r.text
            return dict(r.json())

        read = answer(api, "desk.card_read", "request", "request", ask)
        assert read["kind"] == "uid" and read["read"] and read["error"] is None
        got = api.http.get(f"/api/v1/halls/t1/desk/cards/{read['read']}", headers=api.auth("clerk1"))
        assert got.status_code == 200 and got.json()["uid"] == UID.hex().upper() and got.json()["kind"] == "uid"
        again = api.http.get(f"/api/v1/halls/t1/desk/cards/{read['read']}", headers=api.auth("clerk1"))
        assert again.status_code == 404  # once only
        assert (
            api.http.get(f"/api/v1/halls/t1/desk/cards/{read['read']}", headers=api.auth("clerk-t2")).status_code == 403
        )

        # 打印 with no paper: the page hears "failed" with the printer's status (and prints through the browser)
        ticket = api.take("A")

        def send() -> dict[str, Any]:
            body = {"device": "desk-t1", "ticket_id": ticket["id"]}
            r = api.http.post("/api/v1/halls/t1/desk/print", json=body, headers=api.auth("clerk1"))
            assert r.status_code == 202, r.text
            return dict(r.json())

        done = answer(api, "desk.printed", "job", "job", send)
        assert done["status"] == "failed" and done["number"] == ticket["number"] and "paper_out" in done["detail"]
        assert printer_out_of_paper.printer.documents == []
    finally:
        run.stop()
        reader.close()
        printer.close()
        inserted.remove()
    # stopped: it said so, and the page's 读卡 / 打印 are refused (the page falls back)
    assert agent(api)["status"] == "offline" and not agent(api)["online"]
    r = api.http.post("/api/v1/halls/t1/desk/read", json={"device": "desk-t1"}, headers=api.auth("clerk1"))
    assert r.status_code == 409 and "not connected" in r.json()["detail"]
    r = api.http.post("/api/v1/halls/t1/desk/read", json={"device": "kiosk-t1"}, headers=api.auth("clerk1"))
    assert r.status_code == 404
