"""Secrets where they do not belong: pickup and booking codes in staff lists and logs, tracking tokens in
staff lists, a window-bound clerk revealing another window's ticket — over real HTTP, both databases."""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from queue_server.ids import make_id_number, mask_id_number
from queue_server.notify import messages
from queue_server.notify.models import Notification
from queue_server.notify.outbox import split_secrets

from ..cases.test_output_query import ready_case
from ..harness import TEST_CONFIG, Api, runtime, serving
from ..notify.conftest import HOOK_SECRET, Receiver


def _wait(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)
    return result


@pytest.fixture
def hooked(tmp_db: str, tmp_path: Path) -> Iterator[tuple[Api, Receiver]]:
    """A server whose messages go to a webhook (the citizen's channel) on loopback."""
    receiver = Receiver().start()
    config = tmp_path / "hall.toml"
    notify = f'[notify]\nprovider = "webhook"\nurl = "{receiver.url}"\nsecret = "{HOOK_SECRET}"\n\n'
    config.write_text(TEST_CONFIG.read_text(encoding="utf-8").replace("[[halls]]", notify + "[[halls]]", 1))
    with serving(runtime(tmp_db, tmp_path / "var", config=config)) as srv:
        api = Api(srv)
        yield api, receiver
        api.close()
    receiver.stop()


def test_pickup_code_goes_to_the_citizen_only(hooked: tuple[Api, Receiver], caplog: pytest.LogCaptureFixture) -> None:
    """The webhook body carries the code; the staff list (clerk, auditor), the row and the log do not."""
    api, receiver = hooked
    caplog.set_level(logging.DEBUG)
    number, code, _ = ready_case(api)
    hit = _wait(lambda: next((h for h in list(receiver.hits) if h.json["kind"] == "case_ready"), None))
    assert code in hit.json["text"] and hit.json["ticket"] == number
    for who in ("clerk1", "auditor1"):
        r = api.http.get("/api/v1/halls/t1/notifications", headers=api.auth(who))
        assert r.status_code == 200, r.text
        [ready] = [n for n in r.json() if n["kind"] == "case_ready"]
        assert code not in ready["text"] and "*" * len(code) in ready["text"] and number in ready["text"]
    row = _wait(lambda: _sent_row(api))
    assert code not in row.text and row.secret is None  # the row forgets the code once it is sent
    assert code not in caplog.text


def _sent_row(api: Api) -> Notification | None:
    with api.server.ctx.db.read() as s:
        row = s.execute(select(Notification).where(col(Notification.kind) == "case_ready")).scalar_one()
        return row if row.status == "sent" else None


def test_log_provider_masks_the_code(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    """The demo's log provider is read by staff: it writes the text as staff see it."""
    caplog.set_level(logging.INFO, logger="queue_server.notify")
    number, code, _ = ready_case(api)
    _wait(lambda: any("case_ready" in r.getMessage() for r in caplog.records))
    line = next(r.getMessage() for r in caplog.records if "case_ready" in r.getMessage())
    assert number in line and "*" * len(code) in line and code not in caplog.text


def _sample(p: inspect.Parameter) -> Any:
    if "datetime" in str(p.annotation):
        return datetime(2026, 10, 8, 9, 30)
    if "int" in str(p.annotation):
        return 3
    return "SECRETVALUE9" if p.name == "code" else "测试"


BUILDERS = [n for n in messages.__all__ if callable(getattr(messages, n)) and n.upper() != n]  # not KINDS, PARAMS


@pytest.mark.parametrize("name", BUILDERS)
def test_every_code_in_a_message_is_marked_secret(name: str) -> None:
    """A builder with a `code` (pickup, booking, verification…) marks it: staff see it masked, the send has it."""
    build = getattr(messages, name)
    params = inspect.signature(build).parameters.values()
    text = build(*[_sample(p) for p in params if p.default is inspect.Parameter.empty])
    shown, sent, values = split_secrets(text)
    assert messages.SECRET_OPEN not in shown + sent and messages.SECRET_CLOSE not in shown + sent
    if any(p.name == "code" for p in params):
        assert "SECRETVALUE9" in sent and "SECRETVALUE9" not in shown and values == ["SECRETVALUE9"] * len(values)
    else:
        assert shown == sent and not values


def test_staff_ticket_answers_carry_no_tracking_token(api: Api) -> None:
    """Only the answer to whoever took the number has the token that cancels it; staff lists do not."""
    t = api.take("A", phone="13800001111")
    assert t["track_token"]
    listed = api.http.get("/api/v1/halls/t1/tickets", headers=api.auth("auditor1"))
    assert listed.status_code == 200 and listed.json() and all("track_token" not in x for x in listed.json())
    one = api.http.get(f"/api/v1/tickets/{t['id']}", headers=api.auth("auditor1")).json()
    called = api.call_next(1).json()
    acted = api.act(t["id"], "recall").json()
    for answer in (one, called, acted):
        assert answer["id"] == t["id"] and "track_token" not in answer and t["track_token"] not in str(answer)


def test_window_bound_clerk_reveals_only_tickets_of_its_windows(api: Api) -> None:
    """clerk2 (window 2) cannot reveal a ticket called to window 1, nor one waiting in a queue its window
    does not serve; the clerk of window 1 can. Both reveal routes follow the one rule."""
    idn = make_id_number(serial=21)
    at_one = api.take("A", id_number=idn)
    assert api.call_next(1).json()["id"] == at_one["id"]
    waiting_c = api.take("C", id_number=idn)  # queue C: window 3 and 4 only
    waiting_b = api.take("B", id_number=idn)  # queue B: window 2 serves it
    for path in ("/api/v1/tickets/{}/reveal", "/api/v1/console/tickets/{}/reveal"):
        assert api.http.post(path.format(at_one["id"]), headers=api.auth("clerk2")).status_code == 403
        assert api.http.post(path.format(waiting_c["id"]), headers=api.auth("clerk2")).status_code == 403
        mine = api.http.post(path.format(waiting_b["id"]), headers=api.auth("clerk2"))
        assert mine.status_code == 200 and mine.json()["id_number"] == idn
        ok = api.http.post(path.format(at_one["id"]), headers=api.auth("clerk1"))
        assert ok.status_code == 200 and ok.json()["id_number"] == idn


def test_documents_mask_id_numbers_per_role_and_every_download_is_audited(api: Api) -> None:
    """告知承诺书: the auditor reads the ID number masked, the clerk in full; each download is in the audit log."""
    from queue_server.models import AuditLog

    from ..cases.helpers import ID_NUMBER, act, new_case
    from ..cases.test_documents import text_of

    n = new_case(api)["number"]
    view = act(api, n, "accept_commitment", commitments=["premises"], signed=True).json()
    [letter] = [d for d in view["documents"] if d["kind"] == "commitment_letter"]
    url = f"/api/v1/cases/{n}/documents/{letter['id']}.pdf"
    texts = {}
    for who in ("auditor1", "clerk1", "approver1"):
        r = api.http.get(url, headers=api.auth(who))
        assert r.status_code == 200, r.text
        texts[who] = text_of(r.content)
    preview = api.http.get(f"/api/v1/cases/{n}/commitment-letter.pdf", params={"commitments": "premises"},
                           headers=api.auth("clerk1"))  # fmt: skip
    assert preview.status_code == 200 and ID_NUMBER in text_of(preview.content)
    assert ID_NUMBER not in texts["auditor1"] and mask_id_number(ID_NUMBER) in texts["auditor1"]
    assert ID_NUMBER in texts["clerk1"] and ID_NUMBER in texts["approver1"]
    handover = api.http.post("/api/v1/halls/t1/handovers", json={"cases": [n]}, headers=api.auth("clerk1"))
    assert api.http.get(handover.json()["url"], headers=api.auth("auditor1")).status_code == 200
    with api.server.ctx.db.read() as s:
        audits = s.execute(select(AuditLog).where(col(AuditLog.action).like("case.document%"))).scalars().all()
        got = sorted((a.actor, a.action, a.subject) for a in audits)
    assert got == sorted(
        [
            ("auditor1", "case.document", f"case:{n}:commitment_letter"),
            ("clerk1", "case.document.full", f"case:{n}:commitment_letter"),
            ("approver1", "case.document.full", f"case:{n}:commitment_letter"),
            ("clerk1", "case.document.full", f"case:{n}:commitment_letter"),  # the preview
            ("auditor1", "case.document", f"handover:{handover.json()['number']}:handover_list"),
        ]
    )
