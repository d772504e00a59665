"""Errors of the document renderers, inside the `peripherals` exception hierarchy."""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import DeviceUnavailable, PeripheralError


class DocumentError(PeripheralError):
    """A document cannot be rendered."""


class FontUnavailable(DocumentError, DeviceUnavailable):
    """The CJK font file is missing or unusable; without it every Chinese character would print as a box."""


class TemplateError(DocumentError, ValueError):
    """A case-document template is malformed, or no template has the requested kind."""


class MissingFieldsError(DocumentError, KeyError):
    """Fields a template needs were not supplied (or were empty); nothing was rendered.

    `missing` names every one of them, table cells as ``materials[2].name`` (rows counted from 1).
    """

    def __init__(self, kind: str, missing: Iterable[str]) -> None:
        """Record the template kind and the missing field names."""
        self.kind = kind
        self.missing: tuple[str, ...] = tuple(missing)
        super().__init__(self.missing[0] if self.missing else kind)

    def __str__(self) -> str:
        """A sentence naming the fields (KeyError's default would print only a repr)."""
        return f"{self.kind}: missing field(s): {', '.join(self.missing)}"
