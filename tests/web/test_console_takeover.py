"""Two clerks racing for one window in headless Chromium: who holds it shows, taking over asks first, and the
console left behind is told, stops, and its calls are refused (409) — on both databases. Staff appear by
display name (王芳, 李强), not by username. And the console without keyboard traps: every action from a
number pad, F-keys right after 叫指定号, several matching numbers offered as keys, windows 10–12 reachable.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from ..conftest import require_backend
from ..harness import TEST_CONFIG, Api, LiveServer, fresh_database, runtime, serving
from .test_console import HALL, SHOTS, current, log_in

NAMES = {"clerk1": "王芳", "clerk2": "李强"}


def named_config(tmp: Path) -> Path:
    """The test halls with display names for the two clerks."""
    text = TEST_CONFIG.read_text(encoding="utf-8")
    for user, name in NAMES.items():
        marker = f'username = "{user}"\n'
        assert marker in text
        text = text.replace(marker, f'{marker}display_name = "{name}"\n', 1)
    marker = '  number = 5\n  queues = ["A"]\n'
    assert marker in text
    extra = "".join(f'\n  [[halls.windows]]\n  number = {n}\n  queues = ["A"]\n' for n in (10, 11, 12))
    text = text.replace(marker, marker + extra, 1)
    path = tmp / "named-hall.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server whose clerks have display names, on each database."""
    require_backend(request.param)
    tmp = tmp_path_factory.mktemp(f"takeover-{request.param}")
    cfg = named_config(tmp)
    with serving(runtime(fresh_database(request.param, tmp), tmp / "var", config=cfg), heartbeat_s=1.0) as srv:
        yield srv


@pytest.fixture
def api(server: LiveServer) -> Iterator[Api]:
    server.reset()
    client = Api(server)
    yield client
    client.close()


def test_two_consoles_race_for_one_window(api: Api, browser: Browser) -> None:
    t1, t2 = api.take("B"), api.take("B")
    first = log_in(browser, api, "clerk2", "/console")  # bound to window 2 only: sits down there at once
    first.wait_for_selector("body[data-seq]")
    expect(first.locator("#user")).to_have_text("李强")  # the display name, not clerk2
    first.keyboard.press("F1")
    expect(first.locator("#current .cur-number")).to_have_text(t1["number"])

    second = log_in(browser, api, "clerk1", "/console")
    hall = log_in(browser, api, "admin", "/console/hall", HALL)
    try:
        expect(hall.locator("#windows [data-window='2']")).to_contain_text("李强")
        choice = second.locator("#window-list button[data-window='2']")
        expect(choice).to_contain_text("李强 使用中")  # the picker shows who holds each window
        expect(second.locator("#window-list button[data-window='1']")).to_contain_text("无人")
        expect(second.locator("#picker-user")).to_have_text("王芳")
        second.screenshot(path=str(SHOTS / "console-picker-holders.png"))
        choice.click()
        dialog = second.locator("#takeover-dialog")
        expect(dialog).to_be_visible()  # taking over asks first
        expect(dialog).to_contain_text("李强")
        second.screenshot(path=str(SHOTS / "console-takeover-confirm.png"))
        second.keyboard.press("Escape")  # not now: still at the picker, nothing changed
        expect(dialog).to_be_hidden()
        expect(second.locator("#picker")).to_be_visible()
        assert (
            api.http.get("/api/v1/halls/t1/console/windows/2", headers=api.auth("clerk2")).json()["window"]["clerk"]
            == "clerk2"
        )
        choice.click()
        second.locator("#takeover-go").click()
        second.wait_for_selector("body[data-seq]")
        expect(second.locator("#flash")).to_contain_text("已从 李强 接管")
        expect(second.locator("#current .cur-number")).to_have_text(t1["number"])

        # the console left behind is told (window.taken_over) and stops, saying who has the window
        expect(first.locator("#lost")).to_be_visible()
        expect(first.locator("#lost-text")).to_contain_text("王芳")
        expect(first.locator("#actions button[data-action='no-show']")).to_be_disabled()
        first.keyboard.press("F3")  # its keys do nothing now
        first.screenshot(path=str(SHOTS / "console-taken-over.png"))
        expect(hall.locator("#windows [data-window='2']")).to_contain_text("王芳")

        second.keyboard.press("F9")  # the new holder completes t1 and calls t2
        expect(second.locator("#flash")).to_contain_text(t2["number"])
        expect(second.locator("#current .cur-number")).to_have_text(t2["number"])
        # the old console's late 过号 on the fresh call is refused with who took over; t2 stays called
        r = api.act(t2["id"], "no-show", who="clerk2")
        assert r.status_code == 409 and "王芳" in r.json()["detail"], r.text
        r = api.http.post("/api/v1/halls/t1/windows/2/status", json={"status": "paused"}, headers=api.auth("clerk2"))
        assert r.status_code == 409
        assert api.http.get(f"/api/v1/tickets/{t2['id']}", headers=api.auth("clerk1")).json()["status"] == "called"
        assert current(second) == t2["number"]
        # taking it back needs the confirmation too (the API refuses a silent takeover)
        r = api.http.post("/api/v1/halls/t1/windows/2/status", json={"status": "open"}, headers=api.auth("clerk2"))
        assert r.status_code == 409 and "王芳" in r.json()["detail"]
    finally:
        for p in (first, second, hall):
            p.close()


def status_of(api: Api, ticket: dict[str, Any]) -> tuple[str, int | None]:
    t = api.http.get(f"/api/v1/tickets/{ticket['id']}", headers=api.auth("clerk1")).json()
    return t["status"], t["target_window"]


def test_every_action_from_a_number_pad_without_traps(api: Api, browser: Browser) -> None:
    a1, b1, c1 = api.take("A"), api.take("B"), api.take("C")
    page = log_in(browser, api, "clerk1", "/console?window=4")
    try:
        page.keyboard.type("1")
        page.keyboard.press("Enter")  # A001, B001 and C001 all match: offered as F-keys, not "type the letter"
        choose = page.locator("#choose-dialog")
        expect(choose).to_be_visible()
        expect(choose.locator("button[data-key]")).to_have_count(3)
        page.screenshot(path=str(SHOTS / "console-choose-number.png"))
        page.keyboard.press("2")  # on a number pad: the digit of the choice
        expect(page.locator("#current .cur-number")).to_have_text(b1["number"])
        page.keyboard.press("*")  # complete
        expect(page.locator("#current .cur-idle")).to_be_visible()

        page.fill("#call-number", c1["number"])
        page.press("#call-number", "Enter")  # 叫指定号
        expect(page.locator("#current .cur-number")).to_have_text(c1["number"])
        page.keyboard.press("F3")  # right after: the F-keys work (过号), the browser does not search
        expect(page.locator("#current .cur-idle")).to_be_visible()
        assert status_of(api, c1)[0] == "no_show"
        expect(page.locator("#flash")).not_to_contain_text(c1["number"] + " ·")  # no stale message

        page.keyboard.press("Enter")  # call next: A001
        expect(page.locator("#current .cur-number")).to_have_text(a1["number"])
        page.keyboard.press(".")
        page.keyboard.press("6")  # "." then 6 = F6 transfer
        dialog = page.locator("#transfer-dialog")
        expect(dialog).to_be_visible()
        page.keyboard.press("1")  # could be 1, 10, 11 or 12: waits for the next digit
        expect(dialog).to_be_visible()
        page.keyboard.press("1")
        expect(dialog).to_be_hidden()
        expect(page.locator("#current .cur-idle")).to_be_visible()
        assert status_of(api, a1) == ("waiting", 11)

        page.keyboard.press(".")
        page.keyboard.press("8")  # F8 pause, the reason by its key
        expect(page.locator("#pause-dialog")).to_be_visible()
        page.keyboard.press(".")
        page.keyboard.press("2")
        expect(page.locator("#win-status")).to_contain_text("暂停")
        page.keyboard.press("F5")  # resume (F8) aside, F5 must not reload the page: the desk stays as it is
        page.keyboard.press("F8")
        expect(page.locator("#win-status")).to_contain_text("服务中")
    finally:
        page.close()
