"""一链办理 on the real Kivy kiosk under Xvfb against a live server: the citizen taps 一件事, chooses 开办餐饮店,
reads the one material list, reads the ID card, answers the chain's fields once (text on the on-screen keyboard — one
left for the window —, choices as tiles, a number on the keypad), scans each
material once (two marked 'bring later'), submits; the server has one chain with three cases sharing the scans,
and the receipt printed on the (TCP) printer simulator carries the chain's number."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from peripherals.printer.simulator import TcpSimulator
from queue_server.cases.models import CaseMaterial
from tests.harness import LiveServer, fresh_database, runtime
from tests.kiosk.test_kivy_kiosk import check_png, kiosk_tools, publish  # noqa: F401 - kiosk_tools is a fixture
from tests.kiosk.test_kivy_submission import Kiosk

CHAIN = [
    "wait:home",
    "sub:submit_tile",
    "wait:sub_domains",
    "shot:chain-domains",
    "tile:__chains__",
    "wait:sub_items",
    "tile:YL-CYD-001",
    "wait:sub_template",  # one situation: straight to the one material list
    "shot:chain-template",
    "sub:start",
    "wait:sub_card",
    "card",
    "wait:sub_phone",
    "phone:13912345678",
    "sub:ok",
    "wait:sub_fields",
    "fieldtext:Xiaosan Home Kitchen",  # 店名: typed on the on-screen keyboard
    "shot:chain-field-text",
    "sub:ok",
    "wait:sub_fields",
    "sub:field_at_window",  # 经营场所: Chinese, which the keyboard cannot type: the window fills it in
    "wait:sub_fields",
    "fieldtext:Catering",
    "sub:ok",
    "wait:sub_fields",
    "shot:chain-field-choice",
    "tile:热食类食品制售",
    "wait:sub_fields",
    "tile:歌舞厅",
    "wait:sub_fields",
    "sub:ok",  # the area is required: refused with a sentence, still here
    "wait:sub_fields",
    "key:120",
    "shot:chain-field-number",
    "sub:ok",
]
SCAN = ["wait:sub_capture", "sub:capture", "wait:sub_capture", "sub:next"]
LATER = ["wait:sub_capture", "sub:bring_later", "sub:next"]
# application, id_card, premises, layout scanned; rules and the hygiene report later; staff health scanned
CAPTURE = [*SCAN, *SCAN, *SCAN, *SCAN, *LATER, *LATER, *SCAN, "wait:sub_review", "shot:chain-review"]


def _staff(srv: LiveServer, path: str, method: str = "GET") -> object:
    with httpx.Client(base_url=srv.url, timeout=10) as http:
        tok = http.post("/api/v1/auth/token", data={"username": "clerk1", "password": "clerk1-pass"}).json()
        r = http.request(method, path, headers={"Authorization": f"Bearer {tok['access_token']}"})
        assert r.status_code == 200, r.text
        return r.json()


@pytest.mark.usefixtures("kiosk_tools")
def test_a_chain_is_applied_for_once_at_the_kiosk(tmp_path: Path) -> None:
    url = fresh_database("sqlite", tmp_path, name="chain")
    srv = LiveServer(runtime(url, tmp_path / "var")).start()
    shots = tmp_path / "shots"
    try:
        with TcpSimulator() as printer:
            script = [*CHAIN, *CAPTURE, "sub:submit", "wait:sub_result", "shot:chain-result"]
            log = Kiosk(srv.url, tmp_path / "state", shots, script, "--printer", printer.url).wait()
            assert "kiosk submission sent: case L" in log, log[-3000:]
            number = next(line for line in log.splitlines() if "kiosk submission sent: case" in line).split()[-1]
            docs = [d for d in printer.printer.documents if d.cut]
            assert docs and number in "\n".join(docs[-1].text_lines)  # the receipt names the chain
        chain = _staff(srv, f"/api/v1/chain-cases/{number}")
        assert isinstance(chain, dict) and chain["code"] == "YL-CYD-001" and chain["channel"] == "kiosk"
        members = [m["number"] for m in chain["members"]]
        assert [m["item"] for m in chain["members"]] == ["SCZT-GTH-001", "SCZT-SP-002", "WSJK-GGCS-001"]
        forms = [_staff(srv, f"/api/v1/cases/{n}/reveal", "POST")["form"] for n in members]  # type: ignore[index]
        assert forms[1]["category"] == "热食类食品制售" and forms[1]["area"] == "120"
        assert forms[2]["place_kind"] == "歌舞厅" and forms[2]["area"] == "120"
        assert forms[1]["bring_later"] == "safety_rules"  # the chain's "rules", by each item's own code
        assert forms[2]["bring_later"] == "health_rules,hygiene_report"
        assert forms[0]["business_name"] == "Xiaosan Home Kitchen" and forms[2]["unit_name"] == "Xiaosan Home Kitchen"
        assert forms[0]["scope"] == "Catering"
        assert forms[0]["to_complete_at_window"] == "address"  # left for the window at the kiosk
        with srv.ctx.db.read() as s:
            rows = list(s.execute(select(CaseMaterial)).scalars())
        names = {r.storage_name for r in rows}
        assert len(rows) > len(names)  # one scan named by several members: stored once
    finally:
        srv.stop()
    for name in ("chain-domains", "chain-template", "chain-field-text", "chain-field-choice", "chain-field-number",
                 "chain-review", "chain-result"):  # fmt: skip
        check_png(shots / f"kiosk-{name}.png", (1920, 1080))
        publish(shots / f"kiosk-{name}.png")
