"""Case query (ID card) and self-service pickup (pickup code) on the real Kivy kiosk under Xvfb, live server."""

from __future__ import annotations

from pathlib import Path

import pytest

from peripherals.idcard import demo_card
from tests.cases.helpers import act, new_case
from tests.conftest import sqlite_only
from tests.harness import Api, LiveServer
from tests.kiosk.test_kivy_booking import TOKEN, live_cl  # noqa: F401 - live_cl is a fixture
from tests.kiosk.test_kivy_kiosk import check_png, kiosk_tools, publish  # noqa: F401 - kiosk_tools is a fixture
from tests.kiosk.test_kivy_submission import Kiosk


def _ready_case(api: Api) -> tuple[str, str]:
    card = demo_card()
    c = new_case(api, applicant={"name": card.name, "id_number": card.id_number, "phone": None})
    n = c["number"]
    for action, who in (("accept", "clerk1"), ("review", "approver1"), ("approve", "approver1")):
        assert act(api, n, action, who).status_code == 200
    r = act(api, n, "ready", "approver1")
    assert r.status_code == 200, r.text
    return n, str(r.json()["pickup_code"])


@sqlite_only
@pytest.mark.usefixtures("kiosk_tools")
def test_query_by_id_card_then_collect_with_the_pickup_code(api: Api, tmp_path: Path) -> None:
    number, code = _ready_case(api)
    script = [
        "wait:home",
        "sub:query_tile",
        "wait:q_entry",
        "card",
        "wait:q_list",
        f"tile:{number}",  # 领取结果: a ticket of the output queue
        "sleep:1.5",
        "shot:query-list",
        "home",
        "wait:home",
        "sub:pickup_tile",
        "wait:pk_entry",
        "phone:1234567",
        "sub:pickup_go",  # seven digits: a plain sentence, nothing sent
        "wait:pk_entry",
        "backspace",
        f"phone:{'9' if code[0] != '9' else '8'}{code[1:]}",
        "sub:pickup_go",  # a wrong code
        "wait:pk_entry",
        f"phone:{code}",
        "sub:pickup_go",
        "wait:pk_done",
        "shot:pickup-done",
    ]
    shots = tmp_path / "shots"
    log = Kiosk(api.server.url, tmp_path / "state", shots, script).wait()
    assert "kiosk cases API: Final" in log  # the wrong code was refused by the server
    r = api.http.get(f"/api/v1/cases/{number}", headers=api.auth("clerk1"))
    assert r.status_code == 200 and r.json()["status"] == "delivered", r.text
    tickets = api.http.get("/api/v1/halls/t1/tickets", headers=api.auth("clerk1")).json()
    assert [t["queue"] for t in tickets] == ["C"]
    assert f"kiosk script step: tile:{number}" in log
    assert code not in "".join(line for line in log.splitlines() if "script step" not in line)
    for name in ("query-list", "pickup-done"):
        check_png(shots / f"kiosk-{name}.png", (1920, 1080))
        publish(shots / f"kiosk-{name}.png")


@sqlite_only
@pytest.mark.usefixtures("kiosk_tools")
def test_query_by_case_number_and_query_code_on_the_keypad(api: Api, tmp_path: Path) -> None:
    c = new_case(api)
    number, code = str(c["number"]), str(c["query_token"])
    assert number.isdigit()  # case numbers are digits only: the keypad's digits key them
    script = ["wait:home", "sub:query_tile", "wait:q_entry", f"phone:{number}", "field:proof", "sleep:0.3"]
    script += ["shot:query-keypad", f"key:{code}", "sub:query_go", "wait:q_list", "sleep:0.5", "shot:query-by-number"]
    shots = tmp_path / "shots"
    log = Kiosk(api.server.url, tmp_path / "state", shots, script).wait()
    assert "kiosk script step: wait:q_list" in log and "kiosk cases API" not in log  # found, no refusal
    assert code not in "".join(line for line in log.splitlines() if "script step" not in line)
    for name in ("query-keypad", "query-by-number"):
        check_png(shots / f"kiosk-{name}.png", (1920, 1080))
        publish(shots / f"kiosk-{name}.png")


@pytest.mark.usefixtures("kiosk_tools")
def test_the_closed_hall_keeps_self_submission_query_and_pickup(live_cl: LiveServer, tmp_path: Path) -> None:  # noqa: F811
    script = [
        "wait:closed",
        "shot:closed-24h",
        "sub:submit_tile",
        "wait:sub_domains",
        "home",
        "wait:closed",
        "sub:pickup_tile",
        "wait:pk_entry",
        "phone:12345678",
        "sub:pickup_go",  # no such code: one plain sentence, still on the pickup screen
        "wait:pk_entry",
    ]
    shots = tmp_path / "shots"
    log = Kiosk(live_cl.url, tmp_path / "state", shots, script, hall="cl", token=TOKEN).wait()
    assert "kiosk cases API: Final" in log
    check_png(shots / "kiosk-closed-24h.png", (1920, 1080))
    publish(shots / "kiosk-closed-24h.png")
