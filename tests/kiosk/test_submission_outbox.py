"""The kiosk outbox against a real server: down → queued; restart → still queued; up → sent exactly once."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from kiosk.client import Final, KioskClient
from kiosk.submission.flow import Page, Submission
from kiosk.submission.outbox import Outbox, load_key
from peripherals.capture.simulator import demo_page
from queue_server.ids import make_id_number
from queue_server.models import DeviceStatus
from tests.harness import KIOSK, LiveServer, free_port, runtime, serving

ID_NUMBER = make_id_number("371002", serial=521)
NAME = "王小明"


def _submission(situation: str = "self") -> Submission:
    pages = (Page("application", "image/jpeg", demo_page(1)), Page("id_card", "image/jpeg", demo_page(2)))
    return Submission(
        str(uuid.uuid4()), "SCZT-GTH-001", None, situation, NAME, ID_NUMBER, "13912345678",
        {"bring_later": "premises"}, pages,
    )  # fmt: skip


def _outbox(root: Path, client: KioskClient, **kw: object) -> Outbox:
    return Outbox(root, client.submit, key=load_key(root.parent / "outbox.key"), first_pause_s=0.1,
                  max_pause_s=0.3, **kw)  # type: ignore[arg-type]  # fmt: skip


def _wait(cond: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _cases(srv: LiveServer) -> list[dict[str, object]]:
    http = httpx.Client(base_url=srv.url, timeout=10)
    tok = http.post("/api/v1/auth/token", data={"username": "clerk1", "password": "clerk1-pass"}).json()
    r = http.get("/api/v1/halls/t1/cases", headers={"Authorization": f"Bearer {tok['access_token']}"})
    http.close()
    assert r.status_code == 200, r.text
    return list(r.json())


def test_down_restart_up_sends_exactly_once(tmp_db: str, tmp_path: Path) -> None:
    port = free_port()
    client = KioskClient(f"http://127.0.0.1:{port}", "t1", KIOSK, timeout=2)
    root = tmp_path / "state" / "outbox"
    sub = _submission()

    box = _outbox(root, client)
    outcome = box.send_now(sub)  # the server is down
    assert outcome.kind == "queued"
    assert box.pending() == [sub.submission_id]
    box.flush()  # still down: stays
    assert box.pending() == [sub.submission_id]

    # at rest: nothing personal readable, owner-only permissions
    entry = root / "pending" / sub.submission_id
    for f in [*entry.iterdir(), root.parent / "outbox.key"]:
        assert f.stat().st_mode & 0o077 == 0, f
        raw = f.read_bytes()
        assert ID_NUMBER.encode() not in raw and NAME.encode() not in raw and b"\xff\xd8\xff" not in raw
    assert (root.stat().st_mode & 0o077) == 0

    # the kiosk restarts: a new outbox object over the same directory still holds it, byte for byte
    del box
    box = _outbox(root, client)
    assert box.pending() == [sub.submission_id]
    assert box.load(sub.submission_id) == sub

    srv = LiveServer(runtime(tmp_db, tmp_path / "var"), port=port).start()
    try:
        sent: list[str] = []
        box = _outbox(root, client, on_sent=lambda sid, case: sent.append(str(case["number"])))
        box.start()
        _wait(lambda: not box.pending())
        box.stop()
        cases = _cases(srv)
        assert len(cases) == 1 and sent == [cases[0]["number"]]
        done = box.done(sub.submission_id)
        assert done is not None and done["number"] == cases[0]["number"] and len(str(done["query_token"])) == 8
        assert done["reference"] == sub.reference
        # a replay of the same submission (a crash before the entry was removed) is the same case
        again = client.submit(sub)
        assert again["number"] == cases[0]["number"] and again.get("replayed") is True
        assert len(_cases(srv)) == 1
        # the receipt can be fetched again from what the outbox recorded
        pdf = client.receipt_pdf(str(done["number"]), str(done["query_token"]))
        assert pdf.startswith(b"%PDF")
        # the kiosk's case query: by number and query code, and by the ID card
        view = client.status(str(done["number"]), str(done["query_token"]))
        assert view["status"] == "submitted" and view["applicant_masked"] != NAME
        assert [c["number"] for c in client.lookup(ID_NUMBER)] == [done["number"]]
        with pytest.raises(Final) as wrong:
            client.pickup("00000000")
        assert wrong.value.status == 404 and wrong.value.sentence
    finally:
        srv.stop()
        client.close()


def test_a_final_refusal_goes_to_failed_and_staff_are_told(tmp_db: str, tmp_path: Path) -> None:
    with serving(runtime(tmp_db, tmp_path / "var")) as srv:
        client = KioskClient(srv.url, "t1", KIOSK, timeout=5)
        root = tmp_path / "state" / "outbox"
        bad = _submission(situation="no-such-situation")
        box = _outbox(root, client)
        box.put(bad)  # queued while offline, refused once sent
        box = _outbox(root, client, report=lambda detail: client.report_health("error", detail))
        assert box.flush() == 1
        assert box.pending() == []
        [failure] = box.failed()
        assert failure["status"] == 422 and failure["reference"] == bad.reference and failure["detail"]
        assert (root / "failed" / bad.submission_id / "page-001").exists()  # kept for staff
        assert _cases(srv) == []
        with srv.ctx.db.read() as session:
            status = session.get(DeviceStatus, "kiosk-t1")
            assert status is not None and status.status == "error" and bad.reference in status.detail
            assert ID_NUMBER not in status.detail
        # at the kiosk (the citizen present) a refusal is shown and dropped, not kept
        shown = box.send_now(_submission(situation="no-such-situation"))
        assert shown.kind == "refused" and shown.sentence and box.pending() == [] and len(box.failed()) == 1
        ok = box.send_now(_submission())
        assert ok.kind == "sent" and ok.case is not None and ok.case["number"]
        client.close()


def test_a_half_written_entry_is_never_sent(tmp_path: Path) -> None:
    root = tmp_path / "outbox"
    calls: list[str] = []

    def send(sub: Submission) -> dict[str, str]:
        calls.append(sub.submission_id)
        return {"number": "T1"}

    box = Outbox(root, send, key=load_key(tmp_path / "k"))
    (root / "tmp" / "crashed").mkdir()
    (root / "tmp" / "crashed" / "submission").write_bytes(b"partial")
    box = Outbox(root, send, key=load_key(tmp_path / "k"))
    assert not (root / "tmp" / "crashed").exists() and box.pending() == [] and calls == []
    assert oct(os.stat(tmp_path / "k").st_mode & 0o777) == "0o600"
    assert load_key(tmp_path / "k") == load_key(tmp_path / "k")  # never overwritten


def test_the_sender_thread_never_takes_a_submission_from_the_citizen(tmp_db: str, tmp_path: Path) -> None:
    with serving(runtime(tmp_db, tmp_path / "var")) as srv:
        client = KioskClient(srv.url, "t1", KIOSK, timeout=10)
        box = _outbox(tmp_path / "state" / "outbox", client).start()
        subs = [_submission() for _ in range(4)]
        outcomes: list[str] = []
        threads = [threading.Thread(target=lambda s=s: outcomes.append(box.send_now(s).kind)) for s in subs]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=60)
        box.stop()
        assert outcomes == ["sent"] * 4  # each citizen sees the case number, never "saved for later"
        assert len(_cases(srv)) == 4 and box.pending() == []
        assert all(box.done(s.submission_id) is not None for s in subs)
        client.close()


def test_a_passport_applicants_entry_keeps_its_document(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox", lambda sub: {"number": "T1"}, key=load_key(tmp_path / "k"))
    sub = _submission()
    passport = dataclasses.replace(sub, name="KIM MINSU", id_number="M12345678", phone=None, form={})
    passport = dataclasses.replace(passport, id_type="passport", nationality="KOR", submission_id=str(uuid.uuid4()))
    box.put(passport)
    assert box.load(passport.submission_id) == passport  # id_type and nationality survive a restart
    box.put(sub)  # an ID card's entry: its number says what it is (entries of older kiosks have no id_type)
    assert box.load(sub.submission_id).id_type is None


def test_an_entry_keeps_the_kiosks_language_for_the_server(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox", lambda sub: {"number": "T1"}, key=load_key(tmp_path / "k"))
    korean = dataclasses.replace(_submission(), lang="ko", submission_id=str(uuid.uuid4()))
    box.put(korean)
    assert box.load(korean.submission_id) == korean and korean.data()["lang"] == "ko"  # the case's messages, receipt
    plain = _submission()
    box.put(plain)  # no language (entries of older kiosks): the server speaks Chinese and English
    assert box.load(plain.submission_id).lang is None and "lang" not in plain.data()
