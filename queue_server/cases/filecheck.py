"""What an uploaded case material must be: a JPEG or PNG scan, or a plain PDF — checked from its bytes.

Pure and CPU-bound: the server runs `check_path` in a worker process with a time and memory budget
(`checker.Checker`), never on the event loop. A file is refused (never repaired) when it is not what its
first bytes claim, does not open, is larger than a scan needs, or is a PDF with active content.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import resource
import sys
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

# A scan needs far fewer pixels than a camera can make: A4 at 300 dpi is 2480 × 3508 ≈ 8.7 MP, A3 at 300 dpi
# ≈ 17.4 MP, a phone photo of a paper 12 MP. 20 MP takes all of these and refuses what only serves to make
# the server decode (and staff download) a huge picture: a 56 MP PNG, or a small file claiming 144 MP.
MAX_PIXELS = 20_000_000
# A case's material is a form, a certificate, a contract: tens of pages. A 78,000-page PDF is an attack on
# whoever parses it; 300 pages is more than any material in the catalogue asks for.
MAX_PDF_PAGES = 300
MAX_PDF_OBJECTS = 20_000  # indirect objects in one PDF (a 300-page scan has a few thousand)
CHECK_MEMORY_BYTES = 1 << 30  # address space of a worker process (a PDF object-stream bomb ends there)
MAX_PDF_NODES = 2_000_000  # dictionary and array entries looked at in one PDF
# Active content: what a viewer would run or open by itself when staff open the file.
ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/AA", "/EmbeddedFiles", "/EF", "/XFA", "/RichMedia"})
ACTIVE_ACTIONS = frozenset(
    {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/Rendition", "/RichMediaExecute"}
)
ACTIVE_TYPES = frozenset({"/EmbeddedFile", "/RichMedia", "/Movie", "/Sound", "/Screen", "/FileAttachment"})


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the check found: the content type, SHA-256 and size, or a problem (with its HTTP status)."""

    content_type: str = ""
    sha256: str = ""
    size: int = 0
    problem: str = ""
    status: int = 422


def sniff(data: bytes) -> str | None:
    """The content type from the first bytes: image/jpeg, image/png, application/pdf, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


class _Refused(Exception):
    """A file that is not acceptable; the message is the sentence for the citizen."""


class _TooComplex(Exception):
    """More structure than a scan has: refused as too complex to check."""


def too_complex(name: str) -> str:
    """The sentence for a file whose check would take too long."""
    return f"文件 {name} 过于复杂，无法在时限内检查 / File '{name}' is too complex to be checked in time"


def damaged(name: str, kind: str) -> str:
    """The sentence for a file that does not open as what it claims."""
    return f"文件 {name} 已损坏，无法打开 / File '{name}' is damaged and cannot be opened ({kind})"


def _pages(reader: PdfReader, cap: int) -> int:
    """Leaves of the page tree, counted up to `cap + 1` without loading the whole tree."""
    root: Any = reader.trailer["/Root"].get_object()
    stack: list[Any] = [root["/Pages"]]
    seen: set[int] = set()
    n = 0
    while stack and n <= cap:
        ref = stack.pop()
        if isinstance(ref, IndirectObject):
            if ref.idnum in seen:
                raise ValueError("the page tree loops")  # damaged
            seen.add(ref.idnum)
        node = ref.get_object()
        if not isinstance(node, DictionaryObject):
            continue
        kids = node.get("/Kids")
        if kids is None:
            n += 1
        else:
            stack.extend(reversed(list(kids.get_object())))
    return n


def _acts_on_open(value: Any) -> bool:
    """An /OpenAction other than showing a page (a destination, or a /GoTo action) does something by itself."""
    action = value.get_object() if isinstance(value, IndirectObject) else value
    return isinstance(action, DictionaryObject) and action.get("/S") != "/GoTo"


def _active(reader: PdfReader) -> bool:
    """Whether any object of the file (in object streams too) is a script, an automatic action or an attachment."""
    ids = [(num, gen) for gen, table in reader.xref.items() for num in table]
    ids += [(num, 0) for num in reader.xref_objStm]
    if len(ids) > MAX_PDF_OBJECTS:
        raise _TooComplex
    budget = MAX_PDF_NODES
    for num, gen in ids:
        stack: list[Any] = [IndirectObject(num, gen, reader).get_object()]
        while stack:  # direct children only: each indirect object is visited on its own
            obj = stack.pop()
            budget -= 1
            if budget < 0:
                raise _TooComplex
            if isinstance(obj, DictionaryObject):
                if not ACTIVE_KEYS.isdisjoint(obj.keys()):
                    return True
                if obj.get("/S") in ACTIVE_ACTIONS or obj.get("/Type") in ACTIVE_TYPES:
                    return True
                if obj.get("/Subtype") in ACTIVE_TYPES or _acts_on_open(obj.get("/OpenAction")):
                    return True
                stack.extend(v for v in obj.values() if isinstance(v, DictionaryObject | ArrayObject))
            elif isinstance(obj, ArrayObject):
                stack.extend(v for v in obj if isinstance(v, DictionaryObject | ArrayObject))
    return False


# Cheap upper bounds read from the raw bytes before any parsing: page objects, indirect objects, xref rows.
# (Objects inside compressed object streams are not seen here; the parser's own walk bounds those.)
_RAW_PAGES = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
_RAW_OBJECTS = re.compile(rb"\d+\s+\d+\s+obj\b")
_RAW_XREF_ROWS = re.compile(rb"\d{10} \d{5} [nf]")
RAW_PAGE_SLACK = 4  # a page rewritten by incremental updates appears once per revision


def _raw_bounds(data: bytes, name: str) -> None:
    if len(_RAW_PAGES.findall(data)) > MAX_PDF_PAGES * RAW_PAGE_SLACK:
        raise _Refused(_too_many_pages(name))
    if max(len(_RAW_OBJECTS.findall(data)), len(_RAW_XREF_ROWS.findall(data))) > MAX_PDF_OBJECTS:
        raise _Refused(f"PDF 文件 {name} 对象过多（超过 {MAX_PDF_OBJECTS} 个）/ PDF '{name}' has more than "
                       f"{MAX_PDF_OBJECTS} objects")  # fmt: skip


def _too_many_pages(name: str) -> str:
    return f"PDF 文件 {name} 超过 {MAX_PDF_PAGES} 页 / PDF '{name}' has more than {MAX_PDF_PAGES} pages"


def _check_pdf(stream: IO[bytes], name: str) -> None:
    _raw_bounds(stream.read(), name)
    stream.seek(0)
    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise _Refused(
                f"PDF 文件 {name} 已加密，请去掉密码后再上传 / PDF '{name}' is encrypted: remove the password"
            )
        pages = _pages(reader, MAX_PDF_PAGES)
        if pages > MAX_PDF_PAGES:
            raise _Refused(_too_many_pages(name))
        if pages == 0:
            raise _Refused(damaged(name, "PDF, no pages"))
        if _active(reader):
            raise _Refused(
                f"PDF 文件 {name} 含有脚本、自动动作或附件，不能接收，请重新扫描或另存为普通 PDF / PDF '{name}' "
                "contains scripts, automatic actions or attached files and is refused: scan it again or print it "
                "to a plain PDF"
            )
    except _Refused:
        raise
    except _TooComplex:
        raise _Refused(too_complex(name)) from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
        raise _Refused(damaged(name, "PDF")) from exc


def _check_image(stream: IO[bytes], name: str, kind: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream, formats=["JPEG" if kind == "image/jpeg" else "PNG"]) as img:
                pixels = img.width * img.height
                if pixels > MAX_PIXELS:
                    raise _Refused(
                        f"图片 {name} 像素过多（{pixels / 1e6:.0f} 百万像素，上限 {MAX_PIXELS // 1_000_000} 百万），"
                        f"请用 300 dpi 扫描或缩小后再上传 / Image '{name}' has too many pixels ({pixels / 1e6:.0f} MP, "
                        f"at most {MAX_PIXELS // 1_000_000} MP): scan at 300 dpi or make it smaller"
                    )
                img.verify()
    except _Refused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning) as exc:
        raise _Refused(
            f"文件 {name} 已损坏，无法打开 / File '{name}' is damaged and cannot be opened ({kind})"
        ) from exc


def check_stream(stream: IO[bytes], name: str, max_bytes: int) -> Verdict:
    """Check one upload read from a seekable binary stream; a Verdict with a problem when it is refused."""
    digest, size = hashlib.sha256(), 0
    head = stream.read(8)
    stream.seek(0)
    while block := stream.read(1 << 20):
        digest.update(block)
        size += len(block)
    if size > max_bytes:
        return Verdict(problem=f"文件 {name} 超过 {max_bytes // 1024} KB 上限 / File '{name}' is larger than "
                       f"{max_bytes // 1024} KB", status=413)  # fmt: skip
    kind = sniff(head)
    if kind is None:
        return Verdict(
            problem=f"文件 {name} 不是 JPEG、PNG 图片或 PDF 文件 / File '{name}' is not a JPEG or PNG image or a PDF"
        )
    stream.seek(0)
    try:
        if kind == "application/pdf":
            _check_pdf(stream, name)
        else:
            _check_image(stream, name, kind)
    except _Refused as exc:
        return Verdict(problem=str(exc))
    return Verdict(kind, digest.hexdigest(), size)


def check_path(path: str, name: str, max_bytes: int) -> Verdict:
    """Check the staged file at `path` (what the worker process runs)."""
    with Path(path).open("rb") as stream:
        return check_stream(stream, name, max_bytes)


def check_bytes(data: bytes, name: str, max_bytes: int) -> Verdict:
    """Check an upload held in memory (the same rules as `check_path`)."""
    return check_stream(io.BytesIO(data), name, max_bytes)


def serve() -> None:
    """The worker process: one JSON request per line on stdin, one verdict per line on stdout."""
    resource.setrlimit(resource.RLIMIT_AS, (CHECK_MEMORY_BYTES, CHECK_MEMORY_BYTES))
    logging.disable(logging.CRITICAL)  # pypdf's warnings about broken files are not the server's log
    warnings.simplefilter("ignore")
    answers, sys.stdout = sys.stdout, sys.stderr  # whatever a library prints cannot garble an answer
    for line in sys.stdin.buffer:
        req = json.loads(line)
        try:
            verdict = check_path(req["path"], req["name"], req["max_bytes"])
        except Exception:  # a parser bug on a hostile file: refuse the file, keep the worker
            verdict = Verdict(problem=damaged(req["name"], "?"))
        answers.write(json.dumps(asdict(verdict), ensure_ascii=False) + "\n")
        answers.flush()
