"""Uploaded case materials: checked (type by magic bytes, then opened), stored outside any web root.

Files live in ``<var_dir>/data/cases/`` under random names with mode 0600; the database keeps the name,
type, size and SHA-256. Only JPEG, PNG and PDF are accepted, and only when they open as what they claim.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from ..errors import HallError, Invalid

MAX_PIXELS = 60_000_000  # a 60-megapixel scan is plenty; more is a decompression bomb


class TooLarge(HallError):
    """An upload is over the hall's size limit."""

    status_code = 413


@dataclass(frozen=True, slots=True)
class Checked:
    """An upload that passed the checks."""

    content_type: str
    data: bytes
    sha256: str


def sniff(data: bytes) -> str | None:
    """The content type from the first bytes: image/jpeg, image/png, application/pdf, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _opens(kind: str, data: bytes) -> bool:
    if kind == "application/pdf":
        if b"%%EOF" not in data[-2048:]:
            return False
        try:
            return len(PdfReader(io.BytesIO(data), strict=False).pages) > 0
        except (PdfReadError, ValueError, KeyError, TypeError, OSError):
            return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.width * img.height > MAX_PIXELS:
                    return False
                img.verify()
        return True
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning):
        return False


def check_upload(filename: str, data: bytes, *, max_bytes: int) -> Checked:
    """Check one upload; TooLarge (413) or Invalid (422) with a detail naming the file."""
    name = filename or "file"
    if len(data) > max_bytes:
        raise TooLarge(
            f"文件 {name} 超过 {max_bytes // 1024} KB 上限 / File '{name}' is larger than {max_bytes // 1024} KB"
        )
    kind = sniff(data)
    if kind is None:
        raise Invalid(f"文件 {name} 不是 JPEG、PNG 图片或 PDF 文件 / File '{name}' is not a JPEG or PNG image or a PDF")
    if not _opens(kind, data):
        raise Invalid(f"文件 {name} 已损坏，无法打开 / File '{name}' is damaged and cannot be opened ({kind})")
    return Checked(kind, data, hashlib.sha256(data).hexdigest())


class MaterialStore:
    """The directory of stored materials."""

    def __init__(self, var_dir: Path) -> None:
        self.root = var_dir / "data" / "cases"

    def save(self, data: bytes) -> str:
        """Write the bytes under a new random name; returns the name."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = secrets.token_hex(16)
        fd = os.open(self.root / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return name

    def path(self, name: str) -> Path:
        """The path of a stored file (names are ours: 32 hex digits)."""
        if len(name) != 32 or any(c not in "0123456789abcdef" for c in name):
            raise ValueError("not a stored material name")
        return self.root / name

    def discard(self, names: list[str]) -> None:
        """Remove stored files whose database rows were not written."""
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                self.path(name).unlink()
