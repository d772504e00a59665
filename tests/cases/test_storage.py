"""Upload checks (pure, what the worker process runs): real files pass, anything else is refused — never a crash."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_server.cases.filecheck import Verdict, check_bytes, sniff

from .helpers import jpeg, many_pages, pdf, png, raw_pdf

LIMIT = 1 << 20


class Invalid(Exception):
    """A refused upload (422)."""


class TooLarge(Exception):
    """An upload over the limit (413)."""


def check_upload(name: str, data: bytes, *, max_bytes: int) -> Verdict:
    """The worker's check of in-memory bytes; a refusal raised as Invalid or TooLarge (never another error)."""
    v = check_bytes(data, name, max_bytes)
    if v.problem:
        raise (TooLarge if v.status == 413 else Invalid)(v.problem)
    return v


@pytest.mark.parametrize(("data", "kind"), [(jpeg(), "image/jpeg"), (png(), "image/png"), (pdf(), "application/pdf")])
def test_real_files_pass(data: bytes, kind: str) -> None:
    checked = check_upload("f", data, max_bytes=LIMIT)
    assert checked.content_type == kind == sniff(data) and checked.size == len(data) and len(checked.sha256) == 64


def test_limits_and_types() -> None:
    with pytest.raises(TooLarge):
        check_upload("big.png", png() + b"\0" * LIMIT, max_bytes=LIMIT)
    for data in (b"", b"GIF89a....", b"MZ\x90\x00", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"PK\x03\x04"):
        with pytest.raises(Invalid):
            check_upload("x", data, max_bytes=LIMIT)


def test_decompression_bomb_is_refused() -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buf, "PNG")  # 144 megapixels in a small file
    with pytest.raises(Invalid):
        check_upload("bomb.png", buf.getvalue(), max_bytes=LIMIT)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"%PDF-1.7\n", b""]),
    st.binary(max_size=600),
    st.sampled_from([b"", b"\n%%EOF\n"]),
)
def test_garbage_with_a_good_header_is_invalid_not_a_crash(magic: bytes, body: bytes, tail: bytes) -> None:
    with contextlib.suppress(Invalid):
        check_upload("fuzz", magic + body + tail, max_bytes=LIMIT)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=400))
def test_truncated_real_files_are_invalid_or_fine(cut: int) -> None:
    for data in (jpeg(), png(), pdf()):
        with contextlib.suppress(Invalid):
            check_upload("t", data[: max(1, len(data) - cut)], max_bytes=LIMIT)


def test_pdf_bounds_are_read_before_parsing() -> None:
    """Too many pages or objects: refused from the raw bytes, before pypdf walks anything (milliseconds)."""
    import time

    from queue_server.cases.filecheck import MAX_PDF_OBJECTS, MAX_PDF_PAGES

    t0 = time.perf_counter()
    with pytest.raises(Invalid, match=f"more than {MAX_PDF_PAGES} pages"):
        check_upload("bomb.pdf", many_pages(78_000), max_bytes=LIMIT * 16)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>"]
    objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 9 9] >>"] + [b"<< >>"] * MAX_PDF_OBJECTS
    with pytest.raises(Invalid, match=f"more than {MAX_PDF_OBJECTS} objects"):
        check_upload("objects.pdf", raw_pdf(objs), max_bytes=LIMIT * 16)
    assert time.perf_counter() - t0 < 5
