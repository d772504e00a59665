"""What is where on the board, for tests (`--layout-report FILE` with `--screenshot`): every label with its box,
font size and the natural size of its text, every list row with the box of the list it is in, the waiting list's
pages and every row code shown since start."""

from __future__ import annotations

from typing import Any

from kivy.core.text import Label as CoreLabel  # type: ignore[import-untyped]
from kivy.core.window import Window  # type: ignore[import-untyped]
from kivy.uix.label import Label  # type: ignore[import-untyped]

from .app import CallRow, ListRow, LobbyBoard, NoticeTicker


def _box(w: Any) -> list[float]:
    x, y = w.to_window(w.x, w.y)
    return [float(x), float(y), float(w.width), float(w.height)]


def _natural(label: Any) -> list[float]:
    core = CoreLabel(text=label.text, font_size=label.font_size, bold=label.bold, font_name=label.font_name)
    core.refresh()
    return [float(v) for v in core.texture.size]


def layout_report(app: Any) -> dict[str, Any]:
    """The report of the running app's board."""
    root = app.root
    board = root if isinstance(root, LobbyBoard) else None
    tickers = [w for w in root.walk() if isinstance(w, NoticeTicker)]
    scrolling = {id(c) for t in tickers for c in t.walk()}
    labels = []
    for w in root.walk():
        if isinstance(w, Label) and w.text and id(w) not in scrolling and w.height > 0:
            row = next((p for p in _parents(w) if isinstance(p, ListRow | CallRow)), None)
            labels.append(
                {
                    "text": w.text,
                    "font_size": float(w.font_size),
                    "font": str(w.font_name),
                    "box": _box(w),
                    "natural": _natural(w),
                    "row": getattr(row, "code", None) or getattr(row, "number", None),
                    "role": _role(w, row, board),
                }
            )
    rows = [
        {"kind": type(w).__name__, "code": getattr(w, "code", None) or w.number, "box": _box(w), "list": _box(w.parent)}
        for w in root.walk()
        if isinstance(w, ListRow | CallRow)
    ]
    return {
        "window": list(Window.size),
        "u": float(app.u),
        "labels": labels,
        "rows": rows,
        "pages": [[r.code for r in page] for page in board.pages] if board else [],
        "seen": sorted(board.seen) if board else [],
    }


def _parents(w: Any) -> list[Any]:
    out = []
    while w.parent is not None and w.parent is not w:
        w = w.parent
        out.append(w)
    return out


def _role(label: Any, row: Any, board: Any) -> str:
    """What the label is, for the size rules: call (a called number), waiting (the waiting list), other."""
    if isinstance(row, CallRow):
        return "call" if label.text in (row.number, str(row.window)) else "other"
    if isinstance(row, ListRow):
        return "waiting" if label.text in (row.name, row.mid, row.right) and not row.paused else "other"
    newest = board.ids.get("newest_number") if board is not None else None
    if newest is not None and label is newest.__self__:  # ids hold weak proxies
        return "call"
    return "other"
