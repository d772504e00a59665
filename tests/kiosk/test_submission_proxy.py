"""The kiosk behind the shipped nginx: a 413 from the proxy is a clear sentence for the citizen, never 'HTTP 413'."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from kiosk.client import KioskClient
from kiosk.strings import both
from kiosk.submission.flow import Page, Submission
from kiosk.submission.outbox import Outbox, load_key
from peripherals.capture.simulator import demo_page
from queue_server.cases.uploads import MAX_REQUEST_BYTES
from queue_server.ids import make_id_number
from tests.conftest import sqlite_only
from tests.harness import KIOSK, Api
from tests.test_deploy import nginx_in_front  # noqa: F401  (the fixture: nginx with deploy/nginx/hall.conf)


def _submission(pages: tuple[Page, ...]) -> Submission:
    return Submission(
        str(uuid.uuid4()), "SCZT-GTH-001", None, "self", "王小明", make_id_number("371002", serial=533),
        None, {"bring_later": "premises"}, pages,
    )  # fmt: skip


def _too_big() -> Submission:
    """Pages adding up to more than the body limit nginx and the server share."""
    page = demo_page(1)
    padded = page + b"\0" * (9 * (1 << 20) - len(page))
    n = MAX_REQUEST_BYTES // len(padded) + 1
    return _submission(tuple(Page("application", "image/jpeg", padded) for _ in range(n)))


@sqlite_only
def test_a_proxys_413_is_a_bilingual_final_sentence(
    api: Api,
    nginx_in_front: int,  # noqa: F811
    tmp_path: Path,
) -> None:
    client = KioskClient(
        f"https://127.0.0.1:{nginx_in_front}", "t1", KIOSK, transport=httpx.HTTPTransport(verify=False)
    )
    expected = both("too_large")
    assert expected.index("太大") < expected.index("too large")  # Chinese first, then English
    # at the kiosk, the citizen present: told why, and the entry is dropped (they may remove pages)
    root = tmp_path / "outbox"
    box = Outbox(root, client.submit, key=load_key(tmp_path / "outbox.key"))
    shown = box.send_now(_too_big())
    assert shown.kind == "refused" and shown.sentence == expected
    assert box.pending() == [] and box.failed() == []
    # queued earlier and sent in the background: kept aside with the same sentence, and staff are told
    told: list[str] = []
    box = Outbox(root, client.submit, key=load_key(tmp_path / "outbox.key"), report=told.append)
    late = _too_big()
    box.put(late)
    assert box.flush() == 1 and box.pending() == []
    [failure] = box.failed()
    assert failure["status"] == 413 and failure["detail"] == expected
    assert len(told) == 1 and late.reference in told[0] and expected in told[0]
    # the server's own 413 (one file over its limit, under nginx's) keeps the server's sentence, naming the file
    limit = api.server.ctx.hall("t1").case_upload_max_kb * 1024
    one = _submission((Page("application", "image/jpeg", demo_page(2) + b"\0" * limit),))
    own = box.send_now(one)
    assert own.kind == "refused" and own.sentence != expected and "application-1.jpg" in own.sentence
    client.close()
