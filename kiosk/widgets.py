"""The kiosk's own widgets: a QR code and a service tile."""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, Rectangle  # type: ignore[import-untyped]
from kivy.properties import StringProperty  # type: ignore[import-untyped]
from kivy.uix.button import Button  # type: ignore[import-untyped]
from kivy.uix.widget import Widget  # type: ignore[import-untyped]


class QrCode(Widget):
    """A QR code drawn from `data` as dark squares on white."""

    data = StringProperty("")

    def __init__(self, **kw: Any) -> None:
        """Redraw whenever the data, position or size changes."""
        super().__init__(**kw)
        self.bind(data=self._draw, pos=self._draw, size=self._draw)

    def _draw(self, *_a: Any) -> None:
        import qrcode  # type: ignore[import-untyped]

        self.canvas.clear()
        if not self.data:
            return
        q = qrcode.QRCode(border=2)
        q.add_data(self.data)
        q.make(fit=True)
        m = q.get_matrix()
        n = len(m)
        side = min(self.width, self.height)
        cell = side / n
        x0, y0 = self.x + (self.width - side) / 2, self.y + (self.height - side) / 2
        with self.canvas:
            Color(1, 1, 1, 1)
            Rectangle(pos=(x0, y0), size=(side, side))
            Color(0, 0, 0, 1)
            for r, row in enumerate(m):
                for c, dark in enumerate(row):
                    if dark:
                        Rectangle(pos=(x0 + c * cell, y0 + (n - 1 - r) * cell), size=(cell + 0.5, cell + 0.5))


class DomainTile(Button):
    """One service tile: its name and its load."""

    code = StringProperty("")
    title = StringProperty("")
    load = StringProperty("")
