"""PDF documents with the CJK font embedded: queue ticket, appointment confirmation, and the case documents of R9.

    from peripherals.documents import render_case_document, ticket_pdf
    pdf = render_case_document("acceptance_receipt", fields)     # bytes, A4

Modules: `fonts` (the embedded CJK font), `qr` (vector QR codes), `ticket` (80 mm ticket), `appointment`
(预约确认单), `templates` (the declarative case-template model, loaded from ``case_templates.toml``),
`fill` (checking and filling, pure), `engine` (the one renderer of case documents).
"""

from __future__ import annotations

from .appointment import DEFAULT_CHECKIN_RULES, AppointmentData, appointment_pdf
from .engine import CASE_DOCUMENT_KINDS, render_case_document, render_filled
from .errors import DocumentError, FontUnavailable, MissingFieldsError, TemplateError
from .fill import FilledDocument, fill, missing_fields, required_fields
from .fonts import DEFAULT_CJK_FONT, FONT_PACKAGE, cjk_font
from .templates import CaseTemplate, load_templates, parse_templates
from .ticket import TicketData, ticket_pdf

__all__ = [
    "CASE_DOCUMENT_KINDS",
    "DEFAULT_CHECKIN_RULES",
    "DEFAULT_CJK_FONT",
    "FONT_PACKAGE",
    "AppointmentData",
    "CaseTemplate",
    "DocumentError",
    "FilledDocument",
    "FontUnavailable",
    "MissingFieldsError",
    "TemplateError",
    "TicketData",
    "appointment_pdf",
    "cjk_font",
    "fill",
    "load_templates",
    "missing_fields",
    "parse_templates",
    "render_case_document",
    "render_filled",
    "required_fields",
    "ticket_pdf",
]
