"""Helpers of the case tests: real image and PDF files, a submission through the HTTP API, a live server with
a configuration of its own."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image
from pypdf import PdfWriter

from queue_server.cases.prereview import make_proof
from queue_server.ids import make_id_number
from queue_server.timeutil import utcnow

from ..conftest import require_backend
from ..harness import KIOSK, Api, LiveServer, fresh_database, runtime, serving

ITEM = "SCZT-GTH-001"  # 个体工商户设立登记: situation "self", materials application, id_card, premises
ID_NUMBER = make_id_number("371002", serial=417)
NAME = "张小三"
PHONE = "13812345678"


def jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    """A real JPEG image."""
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 180, 40)).save(buf, "JPEG")
    return buf.getvalue()


def png() -> bytes:
    """A real PNG image."""
    buf = io.BytesIO()
    Image.new("L", (32, 32), 128).save(buf, "PNG")
    return buf.getvalue()


def pdf() -> bytes:
    """A real one-page PDF."""
    w = PdfWriter()
    w.add_blank_page(width=200, height=200)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def raw_pdf(objects: list[bytes], *, pad: int = 0) -> bytes:
    """A PDF from object bodies (object 1 is the catalog), with a correct xref; `pad` bytes of comment before it."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    if pad:
        out += (b"%" + b"x" * 78 + b"\n") * (pad // 80)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def many_pages(pages: int, size: int = 0) -> bytes:
    """A flat page tree of `pages` empty pages, padded to about `size` bytes."""
    kids = b" ".join(b"%d 0 R" % (i + 3) for i in range(pages))
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count %d /Kids [%s] >>" % (pages, kids)]
    objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    plain = raw_pdf(objs)
    return raw_pdf(objs, pad=max(0, size - len(plain)))


def submission(**over: Any) -> dict[str, Any]:
    """The JSON part of a submission."""
    body: dict[str, Any] = {
        "submission_id": str(uuid.uuid4()),
        "item": ITEM,
        "situation": "self",
        "applicant": {"name": NAME, "id_number": ID_NUMBER, "phone": PHONE},
        "form": {"business_name": "小三日用百货店", "scope": "日用百货零售"},
    }
    body.update(over)
    return body


def post_case(
    api: Api,
    data: dict[str, Any] | None = None,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    *,
    who: str | None = KIOSK,
    hall: str = "t1",
) -> httpx.Response:
    """POST a submission (multipart) as `who` (None: from the web, with a proof of PHONE made by the server's key;
    the one-time code that earns it is tested in test_prereview.py)."""
    if files is None:
        files = [
            ("file.application", ("form.pdf", pdf(), "application/pdf")),
            ("file.id_card", ("id.jpg", jpeg(), "image/jpeg")),
        ]
    headers = api.auth(who) if who else {"X-Phone-Proof": web_proof(api, hall)}
    return api.http.post(
        f"/api/v1/halls/{hall}/cases",
        data={"data": json.dumps(data or submission())},
        files=files,
        headers=headers,
    )


def web_proof(api: Api, hall: str = "t1", phone: str = PHONE) -> str:
    """The proof a web applicant gets for spending PHONE's one-time code (…/web-cases/proof)."""
    return make_proof(api.server.ctx.cipher, hall=hall, phone=phone, now=utcnow())


def new_case(api: Api, **over: Any) -> dict[str, Any]:
    """A submitted case; asserts 201 (another item than ITEM gets only an ID-card scan)."""
    files = None if over.get("item", ITEM) == ITEM else [("file.id_card", ("id.png", png(), "image/png"))]
    r = post_case(api, submission(**over), files)
    assert r.status_code == 201, r.text
    return dict(r.json())


def act(api: Api, number: str, action: str, who: str = "clerk1", **body: Any) -> httpx.Response:
    """POST an action on a case."""
    return api.http.post(f"/api/v1/cases/{number}/actions/{action}", json=body, headers=api.auth(who))


def served(
    backend: str, tmp_path_factory: pytest.TempPathFactory, name: str, config_text: str | None = None, **kw: Any
) -> Iterator[LiveServer]:
    """A live server on `backend` with a fresh database `name` and `config_text` as its configuration (None: the
    test configuration); `kw` goes to `serving` (e.g. heartbeat_s). For a module-scoped fixture to yield from."""
    require_backend(backend)
    tmp = tmp_path_factory.mktemp(f"{name}-{backend}")
    config = None
    if config_text is not None:
        config = tmp / "hall.toml"
        config.write_text(config_text, encoding="utf-8")
    rt = runtime(fresh_database(backend, tmp, name=name), tmp / "var", **({"config": config} if config else {}))
    with serving(rt, **kw) as srv:
        yield srv
