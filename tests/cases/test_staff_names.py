"""Staff appear by display name (王芳), not username, on the case documents, the hand-over lists and a case's
history; a case number in the 移交清单's narrow column is never broken over two lines — on both databases."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from ..conftest import require_backend
from ..harness import Api, LiveServer, fresh_database, runtime, serving
from ..web.test_console_takeover import named_config
from .helpers import act, new_case, post_case, submission


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def named(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server whose clerks have display names (clerk1 王芳, clerk2 李强), on each database."""
    require_backend(request.param)
    tmp = tmp_path_factory.mktemp(f"names-{request.param}")
    with serving(runtime(fresh_database(request.param, tmp), tmp / "var", config=named_config(tmp))) as srv:
        yield srv


@pytest.fixture
def api(named: LiveServer) -> Iterator[Api]:
    named.reset()
    client = Api(named)
    yield client
    client.close()


def layout_text(pdf: bytes) -> list[str]:
    """The PDF's lines as pdftotext lays them out."""
    assert pdf.startswith(b"%PDF")
    cmd = ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"]
    out = subprocess.run(cmd, input=pdf, capture_output=True, check=True)
    return out.stdout.decode("utf-8").splitlines()


def test_documents_and_handover_lists_name_staff_by_display_name(api: Api) -> None:
    numbers = [new_case(api)["number"] for _ in range(3)]
    for n in numbers:
        r = act(api, n, "accept", window="综合受理1号窗口")
        assert r.status_code == 200, r.text
    [receipt] = [d for d in r.json()["documents"] if d["kind"] == "acceptance_receipt"]
    lines = layout_text(api.http.get(receipt["url"], headers=api.auth("clerk1")).content)
    assert any("受理人" in line and "王芳" in line for line in lines), lines
    assert not any("clerk1" in line for line in lines)

    h = api.http.post("/api/v1/halls/t1/handovers", json={"cases": numbers}, headers=api.auth("clerk1"))
    assert h.status_code == 201, h.text
    lines = layout_text(api.http.get(h.json()["url"], headers=api.auth("clerk1")).content)
    assert any("王芳" in line for line in lines) and not any("clerk1" in line for line in lines)
    for n in numbers:  # each number whole on one line, and its deadline (2026年12月7日) too
        [row] = [line for line in lines if n in line]
        assert "年" in row and "日" in row.split("年", 1)[1], row

    [listed] = api.http.get("/api/v1/halls/t1/handovers", headers=api.auth("clerk1")).json()
    assert listed["created_by"] == "clerk1" and listed["created_by_name"] == "王芳"
    assert listed["received_by_name"] is None
    got = api.http.post(f"/api/v1/halls/t1/handovers/{listed['number']}/receive", headers=api.auth("approver1"))
    assert got.status_code == 200 and got.json()["received_by_name"] == "approver1"  # no display name: username
    again = api.http.post(f"/api/v1/halls/t1/handovers/{listed['number']}/receive", headers=api.auth("approver1"))
    assert again.status_code == 409

    view = api.http.get(f"/api/v1/cases/{numbers[0]}", headers=api.auth("approver1")).json()
    accepted = [e for e in view["history"] if e["action"] == "accept"]
    assert [(e["actor"], e["actor_name"]) for e in accepted] == [("clerk1", "王芳")]


def test_history_names_the_channel_and_the_anonymous_citizen(api: Api) -> None:
    web = post_case(api, submission(), who=None).json()["number"]
    counter = post_case(api, submission(), who="clerk1").json()["number"]
    for number, who, role, channel in ((web, "citizen", "citizen", "web"), (counter, "王芳", "clerk", "counter")):
        view = api.http.get(f"/api/v1/cases/{number}", headers=api.auth("approver1")).json()
        [entry] = [e for e in view["history"] if e["action"] == "submit"]
        assert (entry["actor_name"], entry["role"], entry["channel"], entry["note"]) == (who, role, channel, "")
