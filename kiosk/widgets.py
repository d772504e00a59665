"""The kiosk's own widgets: a QR code, a service tile, the keypad, a label that fits its box, and the fit check."""

from __future__ import annotations

import itertools
from typing import Any

from kivy.clock import Clock  # type: ignore[import-untyped]
from kivy.graphics import Color, Rectangle  # type: ignore[import-untyped]
from kivy.properties import BooleanProperty, NumericProperty, StringProperty  # type: ignore[import-untyped]
from kivy.uix.boxlayout import BoxLayout  # type: ignore[import-untyped]
from kivy.uix.button import Button  # type: ignore[import-untyped]
from kivy.uix.label import Label  # type: ignore[import-untyped]
from kivy.uix.widget import Widget  # type: ignore[import-untyped]

KEY_BLUE = (0.09, 0.40, 0.75, 1)
KEY_GREY = (0.35, 0.40, 0.48, 1)
KEY_GREEN = (0.05, 0.50, 0.40, 1)


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


class PartTile(Button):
    """A part's home tile (`kiosk.parts.Tile`): its title and a hint line, in the part's colour."""

    key = StringProperty("")
    title = StringProperty("")
    hint = StringProperty("")


class FitLabel(Label):
    """A label that fits its box: the largest font size up to `max_font_size` at which the text fits the box
    with no word broken (Latin, Cyrillic; Chinese, Japanese and Korean may wrap between characters) and no single
    character left alone on its last line (down to `min_font_size`).

    Words wrap at spaces; a Chinese phrase wraps between characters only when it cannot fit on one line even
    at the smallest size. `one_line` keeps the text on a single line (a hall name), shrinking it to fit.
    """

    max_font_size = NumericProperty(32)
    min_font_size = NumericProperty(14)
    one_line = BooleanProperty(False)

    def __init__(self, **kw: Any) -> None:
        """Refit whenever the text, the box or the largest size changes."""
        kw.setdefault("halign", "center")
        kw.setdefault("valign", "middle")
        super().__init__(**kw)
        self._refit = Clock.create_trigger(self._fit, -1)
        self.bind(text=self._refit, size=self._refit, max_font_size=self._refit, bold=self._refit, one_line=self._refit)
        self._refit()

    def _fit(self, *_a: Any) -> None:
        if self.width < 4 or self.height < 4:
            return
        size = float(self.max_font_size)
        pad = self.padding
        box = (max(1.0, self.width - pad[0] - pad[2]), max(1.0, self.height - pad[1] - pad[3]))
        while True:
            self.font_size = size
            if size <= self.min_font_size or not misfit(self, box):
                break
            size = max(float(self.min_font_size), size * 0.92)
        self.text_size = (box[0] + 1 if self.one_line else box[0], None)  # the width, for halign


def measure(label: Any, width: float | None) -> tuple[tuple[int, int], list[str]]:
    """Lay `label`'s text out as it is drawn, `width` wide (None: one line): the texture size and the lines."""
    from kivy.core.text import Label as CoreLabel  # type: ignore[import-untyped]

    options = dict(label._label.options)
    options.update(font_size=label.font_size, text_size=(width, None), shorten=False)
    core = CoreLabel(**{k: v for k, v in options.items() if k != "text"})
    core.text = label.text
    core.refresh()
    lines = ["".join(w.text for w in line.words) for line in (getattr(core, "_cached_lines", None) or [])]
    return (core.texture.size if core.texture else (0, 0)), lines


def _cjk(ch: str) -> bool:
    return "\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef"


def _in_word(ch: str) -> bool:
    """A letter or digit of a word that must not be broken (Latin, Cyrillic …; not Chinese, Japanese, Hangul)."""
    return ch.isalnum() and not _cjk(ch) and not "\uac00" <= ch <= "\ud7af"


def misfit(label: Any, box: tuple[float, float] | None = None) -> str:
    """Why `label`'s text does not fit its box ('' when it does): cut off, shortened, a word broken, an orphan."""
    text = label.text
    if not text.strip():
        return ""
    pad = label.padding
    w, h = box or (label.width - pad[0] - pad[2], label.height - pad[1] - pad[3])
    wraps = (not label.one_line) if isinstance(label, FitLabel) else label.text_size[0] is not None
    (tw, th), lines = measure(label, w if wraps else None)
    if tw > w + 2 or th > h + 2:
        return f"cut: {tw}×{th} of text in a {w:.0f}×{h:.0f} box"
    flat = " ".join(text.split())
    lines = [ln.strip() for ln in lines if ln.strip()]
    for a, b in itertools.pairwise(lines):
        if _in_word(a[-1]) and _in_word(b[0]) and f"{a}{b}" in flat and f"{a} {b}" not in flat:
            return f"word broken: {a!r} / {b!r}"
    if len(lines) > 1 and len(lines[-1]) == 1 and _cjk(lines[-1]):
        return f"orphan: {lines[-2]!r} / {lines[-1]!r}"
    return ""


class Keypad(BoxLayout):
    """The kiosk's one keypad, everywhere a number is typed: 1–9, then 删除 · 0 · 确定, like a phone's.

    `letters` adds letter keys above the digits (a query code's A–F, an ID number's X), in one row or, with
    `letter_cols`, in rows of that many (an appointment code's 24 letters); with `orientation` "horizontal" the
    letters stand left of the digits (a landscape screen's height is short). `off` lists digits the code cannot
    contain: their keys are greyed out and fire nothing. Taps fire `on_key(ch)`, `on_delete()` and `on_ok()`;
    `delete_text` and `ok_text` are the two words, in the kiosk's language (确定, never OK, in Chinese).
    `ok_text` "" leaves the 确定 key out (the screen has its own button).
    """

    letters = StringProperty("")
    letter_cols = NumericProperty(0)  # 0: every letter in one row
    off = StringProperty("")
    delete_text = StringProperty("删除")
    ok_text = StringProperty("确定")
    key_font = NumericProperty(56)

    __events__ = ("on_key", "on_delete", "on_ok")

    def __init__(self, **kw: Any) -> None:
        """Build the keys; rebuild when the letters change."""
        kw.setdefault("orientation", "vertical")
        kw.setdefault("spacing", 10)
        super().__init__(**kw)
        self._build()
        rebuild = lambda *_a: self._build()  # noqa: E731
        self.bind(letters=rebuild, letter_cols=rebuild, off=rebuild, orientation=rebuild)

    def _key(self, text: str, colour: tuple[float, ...], on: Any, font: float | None = None) -> Button:
        size = font or self.key_font
        b = Button(text=text, font_size=size, bold=True, background_normal="", background_color=colour)
        b.bind(on_release=on)

        def fit(w: Button, *_a: Any) -> None:  # a short key: smaller type; a narrow key: its word still fits
            if w.texture_size[0] > w.width - 12 and w.font_size > 14:
                w.font_size = max(14, w.font_size * 0.9)

        b.bind(size=lambda w, wh: setattr(w, "font_size", min(size, wh[1] * 0.7)), texture_size=fit)
        return b

    def _digit(self, ch: str) -> Button:
        b = self._key(ch, KEY_BLUE, lambda w: self.dispatch("on_key", w.text))
        b.disabled = ch in self.off  # greyed out: the code never has it
        return b

    def _build(self) -> None:
        from kivy.uix.gridlayout import GridLayout  # type: ignore[import-untyped]

        self.clear_widgets()
        across = self.orientation == "horizontal"
        if self.letters:
            cols = int(self.letter_cols) or len(self.letters)
            rows = -(-len(self.letters) // cols)
            grid = GridLayout(cols=cols, spacing=self.spacing)
            grid.size_hint = (cols / 3, 1) if across else (1, 0.8 * rows if rows == 1 else rows)
            for ch in self.letters:
                grid.add_widget(self._key(ch, KEY_BLUE, lambda w: self.dispatch("on_key", w.text)))
            self.add_widget(grid)
        pad = GridLayout(cols=3, spacing=self.spacing, size_hint=(1, 1) if across else (1, 4))
        for ch in "123456789":
            pad.add_widget(self._digit(ch))
        delete = self._key(self.delete_text, KEY_GREY, lambda _w: self.dispatch("on_delete"), font=self.key_font * 0.7)
        self.bind(delete_text=lambda _s, v: setattr(delete, "text", v))
        pad.add_widget(delete)
        pad.add_widget(self._digit("0"))
        ok = self._key(self.ok_text, KEY_GREEN, lambda _w: self.dispatch("on_ok"), font=self.key_font * 0.8)
        ok.role = "ok"

        def ok_shown(_self: Any, text: str) -> None:
            ok.text, ok.opacity, ok.disabled = text, (1 if text else 0), not text

        self.bind(ok_text=ok_shown)
        ok_shown(self, self.ok_text)
        pad.add_widget(ok)
        self.add_widget(pad)

    def on_key(self, ch: str) -> None:
        """A digit or letter key (handled by whoever binds it)."""

    def on_delete(self) -> None:
        """删除 (handled by whoever binds it)."""

    def on_ok(self) -> None:
        """确定 (handled by whoever binds it)."""


def misfits(root: Any) -> list[str]:
    """Every label on screen whose text does not fit (see `misfit`) or reaches past the window's edge."""
    from kivy.core.window import Window  # type: ignore[import-untyped]
    from kivy.uix.scrollview import ScrollView  # type: ignore[import-untyped]

    out: list[str] = []

    def walk(w: Any, scrolled: bool) -> None:
        if w.opacity <= 0 or w.width <= 2 or w.height <= 2:
            return
        scrolled = scrolled or isinstance(w, ScrollView)
        if isinstance(w, Label) and w.text.strip():
            why = misfit(w)
            x0, y0 = w.to_window(w.x, w.y)
            if not why and not scrolled and (y0 < -2 or y0 + w.height > Window.height + 2 or x0 < -2):
                why = f"off the screen at {x0:.0f},{y0:.0f}"
            if why:
                out.append(f"{w.text[:40]!r}: {why}")
        for child in w.children:
            walk(child, scrolled)

    walk(root, False)
    return out
