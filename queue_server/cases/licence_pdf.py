"""The electronic certificate's page (电子证照), drawn as an unsigned PDF: pure, from plain fields.

One A4 landscape page: the issuing organ, the licence's name (Chinese and English), its number, holder, the
item's own lines (e.g. the business name), the dates, and a QR code to the public verification page with its
address printed beside it. Every glyph is drawn in the embedded CJK font (PDF/A wants no font left out), and
no transparency is used. `signing.sign_pdf` then adds the PDF/A parts and the signature.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from reportlab.graphics import renderPDF  # type: ignore[import-untyped]
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from peripherals.documents.fonts import cjk_font
from peripherals.documents.qr import qr_drawing

RED = colors.Color(0.70, 0.08, 0.08)
GREY = colors.Color(0.35, 0.35, 0.35)


@dataclass(frozen=True)
class LicenceFields:
    """What the certificate prints."""

    organ: str  # 发证机关
    name: str  # 个体工商户营业执照
    name_en: str
    certificate_no: str
    holder: str  # the applicant's name (the PDF is the holder's own document)
    holder_id_masked: str
    matter: str  # the item
    case_no: str
    issued_on: str  # 2026年12月06日
    valid_until: str  # a date, or 长期
    verify_url: str
    lines: list[tuple[str, str]] = field(default_factory=list)  # the item's own (label, value)


def _fit(c: Canvas, font: str, text: str, size: float, width: float) -> float:
    """The largest size up to `size` at which `text` fits `width`."""
    w = stringWidth(text, font, size)
    return size if w <= width else max(6.0, size * width / w)


def licence_pdf(f: LicenceFields) -> bytes:
    """The certificate as an (unsigned) one-page PDF."""
    font = cjk_font()
    buf = io.BytesIO()
    page_w, page_h = landscape(A4)
    # initialFontName: else reportlab names Helvetica (not embedded) in every page's resources, which PDF/A forbids
    c = Canvas(buf, pagesize=(page_w, page_h), pageCompression=1, initialFontName=font)
    c.setTitle(f"{f.name} {f.certificate_no}")
    c.setAuthor(f.organ)
    c.setSubject(f"{f.name_en} — electronic certificate")
    c.setCreator("one-window-hall")
    # frame
    c.setStrokeColor(RED)
    c.setLineWidth(3)
    c.rect(12 * mm, 12 * mm, page_w - 24 * mm, page_h - 24 * mm)
    c.setLineWidth(0.8)
    c.rect(15 * mm, 15 * mm, page_w - 30 * mm, page_h - 30 * mm)
    # title
    c.setFillColor(RED)
    size = _fit(c, font, f.name, 30, page_w - 80 * mm)
    c.setFont(font, size)
    c.drawCentredString(page_w / 2, page_h - 40 * mm, f.name)
    c.setFont(font, 12)
    c.drawCentredString(page_w / 2, page_h - 48 * mm, f"{f.name_en} · 电子证照 Electronic certificate")
    c.setFillColor(colors.black)
    c.setFont(font, 11)
    c.drawRightString(page_w - 25 * mm, page_h - 25 * mm, f"证照编号 No. {f.certificate_no}")
    # body
    rows = [
        ("持证人 Holder", f.holder),
        ("证件号码 ID number", f.holder_id_masked),
        *f.lines,
        ("办理事项 Item", f.matter),
        ("办件编号 Case number", f.case_no),
        ("发证日期 Issued on", f.issued_on),
        ("有效期至 Valid until", f.valid_until),
    ]
    x_label, x_value, y = 35 * mm, 95 * mm, page_h - 70 * mm
    value_width = page_w - 95 * mm - 95 * mm
    for label, value in rows:
        c.setFillColor(GREY)
        c.setFont(font, 11)
        c.drawString(x_label, y, label)
        c.setFillColor(colors.black)
        c.setFont(font, _fit(c, font, value, 14, value_width))
        c.drawString(x_value, y, value)
        y -= 11 * mm
    # QR to the verification page
    qr_size = 48 * mm
    qx, qy = page_w - 25 * mm - qr_size, 45 * mm
    qr = qr_drawing(f.verify_url, qr_size)
    qr.initialFontName = font  # the drawing's default state names Helvetica otherwise (no text is drawn)
    renderPDF.draw(qr, c, qx, qy)
    c.setFont(font, 8.5)
    c.setFillColor(GREY)
    c.drawCentredString(qx + qr_size / 2, qy - 4 * mm, "扫码核验 Scan to verify")
    c.setFont(font, _fit(c, font, f.verify_url, 8, qr_size + 30 * mm))
    c.drawRightString(page_w - 25 * mm, qy - 9 * mm, f.verify_url)
    # issuer and the note on the signature
    c.setFillColor(colors.black)
    c.setFont(font, 14)
    c.drawRightString(page_w - 80 * mm, 40 * mm, f"发证机关：{f.organ}")
    c.setFont(font, 8.5)
    c.setFillColor(GREY)
    c.drawString(
        25 * mm,
        22 * mm,
        "本证照经发证机关电子签名（PAdES），与纸质证照具有同等效力；内容被改动后签名失效。可扫码或访问上方地址核验。",
    )
    c.drawString(
        25 * mm,
        18 * mm,
        "Signed electronically by the issuing organ (PAdES); any change voids the signature. "
        "Verify by the QR code or the address above.",
    )
    c.showPage()
    c.save()
    return buf.getvalue()
