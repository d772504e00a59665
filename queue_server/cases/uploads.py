"""Receiving case materials: the multipart body streamed into staging files, never held in memory.

The body is read chunk by chunk (python-multipart's streaming parser) with a cap per file, per request and
on the time it may take; file parts go to `MaterialStore.stage()` files as they arrive (written to disk in
a thread, a block at a time). The files are then checked in worker processes (`checker.Checker`).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import BinaryIO

import anyio
import anyio.to_thread
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from ..errors import HallError, Invalid
from .storage import MaterialStore, TooLarge

# The largest request body the server reads: the kiosk sends a whole application (every scanned page) in
# one submission. deploy/nginx/hall.conf's client_max_body_size must be this many megabytes
# (tests/test_deploy.py checks it), so the proxy and the server refuse the same requests.
MAX_REQUEST_MB = 32
MAX_REQUEST_BYTES = MAX_REQUEST_MB << 20
MAX_FILES = 40
MAX_FIELDS = 20
MAX_FIELD_BYTES = 256 << 10  # the JSON part of a submission
READ_DEADLINE_S = 300.0  # a body that takes longer (a trickle that holds a staging file open) gets 408
DRAIN_MAX_BYTES = 64 << 20  # after a refusal, read on this much so the client hears the answer
FLUSH_BYTES = 1 << 20  # file data is written to disk (in a thread) in blocks of this size
FILE_FIELD = "file."  # multipart field of a material file: "file.<material code>"


class TooSlow(HallError):
    """The request body did not arrive in time."""

    status_code = 408


@dataclass(slots=True)
class Staged:
    """A file part received into staging: its material code, the citizen's file name, the staging name, size."""

    material: str
    filename: str
    name: str
    size: int = 0


@dataclass
class Received:
    """A multipart body: its plain fields and its staged files."""

    fields: dict[str, str] = field(default_factory=dict)
    files: list[Staged] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """The staging names of the files."""
        return [f.name for f in self.files]


class _Body:
    """The parser's callbacks, turned into a list of events handled between two chunks."""

    def __init__(self, boundary: bytes) -> None:
        self.events: list[tuple[str, bytes]] = []
        self.header = b""
        ev = self.events
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": lambda: ev.append(("begin", b"")),
                "on_header_field": lambda d, s, e: ev.append(("field", d[s:e])),
                "on_header_value": lambda d, s, e: ev.append(("value", d[s:e])),
                "on_header_end": lambda: ev.append(("header_end", b"")),
                "on_headers_finished": lambda: ev.append(("headers", b"")),
                "on_part_data": lambda d, s, e: ev.append(("data", d[s:e])),
                "on_part_end": lambda: ev.append(("end", b"")),
            },
        )


async def receive(request: Request, store: MaterialStore, *, max_file: int) -> Received:
    """Stream a multipart body: fields in memory (small), file parts into staging files; 413/422/408 on abuse.

    On any error the files staged so far are removed before the error goes up.
    """
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise Invalid("请以 multipart/form-data 提交 / Send the submission as multipart/form-data")
    declared = request.headers.get("content-length", "")
    out = Received()
    try:
        if declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
            raise TooLarge(_too_large_request())
        with anyio.fail_after(READ_DEADLINE_S):
            await _read(request, store, out, boundary, max_file)
    except TimeoutError:
        store.discard(out.names)
        raise TooSlow("上传超时，请重试 / The upload took too long; try again") from None
    except MultipartParseError:
        store.discard(out.names)
        raise Invalid("multipart 请求格式有误 / The multipart body is malformed") from None
    except (Invalid, TooLarge):
        store.discard(out.names)
        await _drain(request, declared)
        raise
    except BaseException:
        store.discard(out.names)
        raise
    return out


def _too_large_request() -> str:
    return (
        f"材料总大小超过 {MAX_REQUEST_MB} MB，请分次提交或降低扫描分辨率 / The files together are larger than "
        f"{MAX_REQUEST_MB} MB: send fewer pages at a time or scan at a lower resolution"
    )


async def _drain(request: Request, declared: str) -> None:
    """Read on (and throw away) a refused body, so the client gets to read the answer instead of a reset."""
    if declared.isdigit() and int(declared) > DRAIN_MAX_BYTES:
        return
    seen = 0
    with contextlib.suppress(ClientDisconnect, RuntimeError), anyio.move_on_after(10):
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > DRAIN_MAX_BYTES:
                return


async def _read(request: Request, store: MaterialStore, out: Received, boundary: bytes, max_file: int) -> None:
    body = _Body(boundary)
    headers: dict[bytes, bytes] = {}
    name = b""
    current: Staged | None = None
    handle: BinaryIO | None = None
    buf = bytearray()
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > MAX_REQUEST_BYTES:
                raise TooLarge(_too_large_request())
            body.parser.write(chunk)
            for ev, data in body.events:
                if ev == "begin":
                    headers, name, buf, current = {}, b"", bytearray(), None
                elif ev == "field":
                    name += data
                elif ev == "value":
                    body.header += data
                elif ev == "header_end":
                    headers[name.lower()] = body.header
                    name, body.header = b"", b""
                elif ev == "headers":
                    current = _start_part(headers, out)
                    if current is not None:
                        current.name, handle = store.stage()
                        out.files.append(current)
                elif ev == "data":
                    buf += data
                    if current is not None:
                        current.size += len(data)
                        if current.size > max_file:
                            raise TooLarge(
                                f"文件 {current.filename} 超过 {max_file // 1024} KB 上限 / File "
                                f"'{current.filename}' is larger than {max_file // 1024} KB"
                            )
                        if len(buf) >= FLUSH_BYTES and handle is not None:
                            await anyio.to_thread.run_sync(handle.write, bytes(buf))
                            buf.clear()
                    elif len(buf) > MAX_FIELD_BYTES:
                        raise TooLarge("表单字段过大 / A form field is too large")
                elif ev == "end":
                    if current is not None and handle is not None:
                        await anyio.to_thread.run_sync(_finish, handle, bytes(buf))
                        handle = None
                    else:
                        key = _part_name(headers)
                        out.fields[key] = buf.decode("utf-8", errors="replace")
                    buf = bytearray()
            body.events.clear()
        body.parser.finalize()
    finally:
        if handle is not None:
            handle.close()


def _finish(handle: BinaryIO, rest: bytes) -> None:
    with handle:
        handle.write(rest)


def _part_name(headers: dict[bytes, bytes]) -> str:
    _, params = parse_options_header(headers.get(b"content-disposition", b""))
    return params.get(b"name", b"").decode("utf-8", errors="replace")


def _start_part(headers: dict[bytes, bytes], out: Received) -> Staged | None:
    """A Staged for a file part (counted and named), None for a plain field."""
    _, params = parse_options_header(headers.get(b"content-disposition", b""))
    key = params.get(b"name", b"").decode("utf-8", errors="replace")
    if b"filename" not in params:
        if len(out.fields) >= MAX_FIELDS:
            raise Invalid(f"表单字段过多（上限 {MAX_FIELDS}）/ More than {MAX_FIELDS} form fields")
        return None
    if not key.startswith(FILE_FIELD) or len(key) <= len(FILE_FIELD):
        raise Invalid(f"文件字段应为 file.<材料编码> / A file field must be named file.<material>, not {key!r}")
    if len(out.files) >= MAX_FILES:
        raise Invalid(f"文件过多（上限 {MAX_FILES} 个）/ More than {MAX_FILES} files")
    filename = os.path.basename(params[b"filename"].decode("utf-8", errors="replace"))[:120] or key
    return Staged(key[len(FILE_FIELD) :], filename, "")
