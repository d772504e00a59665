"""QR codes as vector drawings: sharp at any print resolution, and usable on a canvas and in a flowable layout.

The module matrix comes from the `qrcode` package (error correction M: 15 % of the code may be smudged or
folded and it still scans, the usual choice for paper). Dark modules are drawn as squares, merging runs
of a row into one rectangle so a version-10 code is a few hundred rectangles rather than thousands. The
quiet zone (four modules of white around the code, which phone cameras need to find it) is part of the
drawing's size: leave no other ink inside it.
"""

from __future__ import annotations

import qrcode  # type: ignore[import-untyped]
from qrcode.constants import ERROR_CORRECT_M  # type: ignore[import-untyped]
from reportlab.graphics.shapes import Drawing, Rect  # type: ignore[import-untyped]
from reportlab.lib import colors  # type: ignore[import-untyped]

QUIET_ZONE_MODULES = 4


def qr_matrix(payload: str) -> list[list[bool]]:
    """The QR code's modules for `payload`, rows top to bottom, True for dark, without the quiet zone."""
    if not payload:
        raise ValueError("a QR code needs a non-empty payload")
    code = qrcode.QRCode(border=0, error_correction=ERROR_CORRECT_M)
    code.add_data(payload)
    code.make(fit=True)
    return [[bool(cell) for cell in row] for row in code.get_matrix()]


def qr_drawing(payload: str, size: float) -> Drawing:
    """A square `size`×`size` (points) drawing of the QR code for `payload`, quiet zone included."""
    matrix = qr_matrix(payload)
    count = len(matrix)
    module = size / (count + 2 * QUIET_ZONE_MODULES)
    origin = QUIET_ZONE_MODULES * module
    drawing = Drawing(size, size)
    for row_index, row in enumerate(matrix):
        y = size - origin - (row_index + 1) * module
        col = 0
        while col < count:
            if not row[col]:
                col += 1
                continue
            start = col
            while col < count and row[col]:
                col += 1
            drawing.add(
                Rect(
                    origin + start * module,
                    y,
                    (col - start) * module,
                    module,
                    fillColor=colors.black,
                    strokeColor=None,
                    strokeWidth=0,
                )
            )
    return drawing
