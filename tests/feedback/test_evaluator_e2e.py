"""End to end: live server, the evaluator bridge, the four-key evaluator simulated on a pty (real EV1 bytes)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator

import pytest

from peripherals.evaluator import PtyEvaluatorSimulator, SerialEvaluator
from peripherals.evaluator import protocol as p
from peripherals.evaluator.bridge import EvaluatorBridge
from queue_server.models import DeviceStatus

from ..harness import Api
from .helpers import PAD, evaluate


class Running:
    """A bridge running on its own event loop in a thread."""

    def __init__(self, bridge: EvaluatorBridge) -> None:
        self.bridge = bridge
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task[None] | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self.task = asyncio.current_task()  # type: ignore[assignment]
            await self.bridge.run()

        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(main())  # cleans up the websocket's tasks on the way out

    def wait_connected(self) -> None:
        deadline = time.monotonic() + 10
        while not self.bridge.connected.is_set():
            assert time.monotonic() < deadline, "bridge did not connect"
            time.sleep(0.05)

    def stop(self) -> None:
        assert self.task is not None and self.loop is not None
        self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(5)


@pytest.fixture
def rig(api: Api) -> Iterator[tuple[PtyEvaluatorSimulator, Running]]:
    sim = PtyEvaluatorSimulator()
    ev = SerialEvaluator(sim.url)
    bridge = EvaluatorBridge(server=api.server.url, hall="t1", window=1, token=PAD, evaluator=ev, ask_s=30)
    run = Running(bridge)
    run.wait_connected()
    time.sleep(0.2)  # the snapshot is through
    yield sim, run
    run.stop()
    ev.close()
    sim.close()


def complete(api: Api, queue: str = "A") -> dict[str, object]:
    t = api.take(queue)
    assert api.call_next(1).status_code == 200
    assert api.act(int(t["id"]), "complete").status_code == 200
    return t


def test_key_press_becomes_the_tickets_evaluation(api: Api, rig: tuple[PtyEvaluatorSimulator, Running]) -> None:
    sim, _run = rig
    t = complete(api)
    assert sim.wait_for(p.PROMPT).data.decode() == t["number"]
    sim.press(1, ("attitude",))  # long press on key 4: 非常不满意
    sim.wait_for(p.THANKS)
    stored = api.http.get("/api/v1/halls/t1/evaluations", headers=api.auth("approver1")).json()
    assert [(e["ticket_id"], e["level"], e["channel"], e["reasons"]) for e in stored] == [
        (t["id"], 1, "evaluator", ["attitude"])
    ]
    assert len(api.http.get("/api/v1/halls/t1/followups", headers=api.auth("approver1")).json()) == 1
    stats = api.http.get("/api/v1/halls/t1/reports/summary", headers=api.auth("approver1")).json()["total"]
    assert (stats["evaluations"], stats["satisfied"]) == (1, 0)


def test_question_ends_when_rated_elsewhere_or_next_called(
    api: Api, rig: tuple[PtyEvaluatorSimulator, Running]
) -> None:
    sim, run = rig
    t = complete(api)
    sim.wait_for(p.PROMPT)
    assert evaluate(api, ticket_id=t["id"], level=5).status_code == 201  # on the pad
    sim.wait_for(p.CANCEL)
    sim.press(2)  # too late: no question on display, nothing is posted
    time.sleep(0.5)
    assert run.bridge.posted == []
    complete(api)
    sim.wait_for(p.PROMPT)
    api.take("A")
    assert api.call_next(1).status_code == 200  # the next citizen is called
    sim.wait_for(p.CANCEL)


def device_status(api: Api) -> tuple[str, str] | None:
    with api.server.ctx.db.read() as s:
        row = s.get(DeviceStatus, "pad-t1-w1")
        return (row.status, row.detail) if row else None


def test_health_reaches_the_server_and_an_unplugged_evaluator_shows(
    api: Api, rig: tuple[PtyEvaluatorSimulator, Running]
) -> None:
    sim, _run = rig
    deadline = time.monotonic() + 5
    while device_status(api) is None or device_status(api)[0] != "ok":  # type: ignore[index]
        assert time.monotonic() < deadline, device_status(api)
        time.sleep(0.1)
    sim.close()  # the cable is pulled
    complete(api)
    deadline = time.monotonic() + 5
    while (status := device_status(api)) is None or status[0] == "ok":
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    assert status[0] in ("error", "unplugged") and status[1].startswith("evaluator:")
