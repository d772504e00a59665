"""The self-submission, case query and pickup screens: their widgets, installing them, and filling their lists.

The layouts are in `submission.kv`; `install()` adds the screens to the kiosk's ScreenManager and `fill()` puts
the current screen's tiles, template lines, thumbnails, keypads and case lines in (Kivy thread).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.core.image import Image as CoreImage  # type: ignore[import-untyped]
from kivy.factory import Factory  # type: ignore[import-untyped]
from kivy.properties import StringProperty  # type: ignore[import-untyped]
from kivy.uix.button import Button  # type: ignore[import-untyped]
from kivy.uix.image import Image  # type: ignore[import-untyped]
from kivy.uix.label import Label  # type: ignore[import-untyped]

from kiosk.strings import name_in

from .flow import CHAINS

if TYPE_CHECKING:
    from .ui import SubmissionUi

KV_FILE = Path(__file__).with_name("submission.kv")
SCREENS = [
    ("SubDomainsScreen", None),
    ("SubItemsScreen", None),
    ("SubSituationScreen", None),
    ("SubTemplateScreen", None),
    ("SubCardScreen", None),
    ("SubPhoneScreen", None),
    ("SubFieldsScreen", None),
    ("SubCaptureScreen", None),
    ("SubReviewScreen", None),
    ("SubBusyScreen", "sub_sending"),
    ("SubResultScreen", None),
    ("SubQueuedScreen", None),
    ("SubErrorScreen", None),
    ("QueryEntryScreen", None),
    ("SubBusyScreen", "q_loading"),
    ("QueryListScreen", None),
    ("PickupEntryScreen", None),
    ("SubBusyScreen", "pk_loading"),
    ("PickupDoneScreen", None),
]
INK = (0.10, 0.12, 0.16, 1)


class SubTile(Button):
    """A tile of the browser (domain, item, situation) or a case's action; `key` is what a tap chooses."""

    key = StringProperty("")
    title = StringProperty("")
    subtitle = StringProperty("")


Factory.register("SubTile", cls=SubTile)


def load_kv() -> None:
    """Load the screens' rules (before the kiosk's own .kv file)."""
    from kivy.lang import Builder  # type: ignore[import-untyped]

    Builder.load_file(str(KV_FILE))


def install(sm: Any, ui: SubmissionUi) -> None:
    """Add the screens to the kiosk's ScreenManager."""
    for cls, name in SCREENS:
        screen = getattr(Factory, cls)()
        if name:
            screen.name = name
        sm.add_widget(screen)


def _label(text: str, fs: float, *, bold: bool = False, color: tuple[float, ...] = INK) -> Label:
    lab = Label(text=text, font_size=fs, bold=bold, color=color, halign="left", size_hint_y=None)
    lab.bind(width=lambda w, v: setattr(w, "text_size", (v, None)))
    lab.bind(texture_size=lambda w, v: setattr(w, "height", v[1] + 8))
    return lab


def _changed(box: Any, shape: object) -> bool:
    """Whether `box` must be rebuilt: a render between a touch's down and up must not swap the button under the
    finger (the kiosk redraws every 10 s when the queue loads arrive), so lists are rebuilt only on change."""
    if getattr(box, "shape", None) == shape:
        return False
    box.shape = shape
    box.clear_widgets()
    return True


def fill(ui: SubmissionUi, sm: Any, fs: float) -> None:
    """Fill the lists of the current screen from the flows (Kivy thread)."""
    name = ui.current
    f, q, lang = ui.flow, ui.query, ui.flow.lang if ui.flow.screen else ui.query.lang
    if name == "sub_domains":
        grid = sm.get_screen(name).ids.grid
        changed = _changed(grid, (lang, tuple(f.domains)))
        if changed and f.domains:  # 一件事: several items in one application (一链办理), before the domains
            tile = SubTile(key=CHAINS, title=ui.text("chains_tile"), subtitle=ui.text("chains_tile_sub"))
            tile.background_color = (0.42, 0.25, 0.63, 1)
            tile.bind(on_release=lambda w: ui.tap_chains_tile())
            grid.add_widget(tile)
        for domain, domain_en, n, names in f.domains if changed else []:
            title = name_in(lang, domain, domain_en, names)  # 한국어, 日本語, Русский: the catalogue's own names
            tile = SubTile(key=domain, title=title, subtitle=ui.text("n_items", n=n))  # "12 项事项", not "12"
            tile.bind(on_release=lambda w: ui.tap_domain(w.key))
            grid.add_widget(tile)
    elif name == "sub_items":
        grid = sm.get_screen(name).ids.grid
        items = f.items or []
        for item in items if _changed(grid, (lang, tuple(items))) else []:
            tile = SubTile(key=item.code, title=item.label(lang), subtitle=ui.text("item_code", code=item.code))
            tile.bind(on_release=lambda w: ui.tap_item(w.key))
            grid.add_widget(tile)
    elif name == "sub_situation" and f.item is not None:
        grid = sm.get_screen(name).ids.grid
        for s in f.item.situations if _changed(grid, (lang, f.item.code, f.item.version)) else ():
            tile = SubTile(key=s.code, title=s.label(lang), subtitle=ui.text("n_materials", n=len(s.materials)))
            tile.bind(on_release=lambda w: ui.tap_situation(w.key))
            grid.add_widget(tile)
    elif name == "sub_template":
        box = sm.get_screen(name).ids.lines
        shape = (lang, fs, f.item.code if f.item else "", f.situation.code if f.situation else "")
        changed = _changed(box, shape)
        for i, m in enumerate(f.materials if changed else (), 1):
            tags = " ".join(f"[{t}]" for t in m.tags(lang))
            box.add_widget(_label(f"{i}. {m.label(lang)}  {tags}  {m.form}", fs, bold=True))
            for key, text in (("sample", m.sample), ("notes", m.notes)):
                if text:
                    box.add_widget(_label("    " + ui.text(key, text=text), fs * 0.8, color=(0.35, 0.40, 0.48, 1)))
        if changed:  # what the two tags mean, one line each (only those that occur)
            for flag, key in (("shortfall_allowed", "explain_shortfall"), ("commitment_allowed", "explain_commitment")):
                if any(getattr(m, flag) for m in f.materials):
                    box.add_widget(_label(ui.text(key), fs * 0.8, color=(0.05, 0.27, 0.55, 1)))
    elif name == "sub_fields" and f.form_field is not None:
        grid = sm.get_screen(name).ids.grid
        ff = f.form_field
        changed = _changed(grid, (lang, ff.code))
        if changed:  # another field: its text box shows what was typed for it (empty, or an answer gone back to)
            sm.get_screen(name).ids.text.text = f.typed if ff.kind == "text" else ""
        for value in ff.choices if changed else ():
            chosen = ui.text("chosen") if f.answers.get(ff.code) == value else ""
            tile = SubTile(key=value, title=value, subtitle=chosen)
            tile.bind(on_release=lambda w: ui.tap_choice(w.key))
            grid.add_widget(tile)
    elif name == "sub_capture" and f.material is not None:
        screen = sm.get_screen(name)
        m = f.material
        screen.ids.guide.text = "  ".join(
            ui.text(k, text=v) for k, v in (("sample", m.sample), ("notes", m.notes)) if v
        )
        thumbs = screen.ids.thumbs
        shown = f.pages.get(m.code, [])[-6:]
        for page in shown if _changed(thumbs, (m.code, tuple(id(p) for p in shown))) else []:
            thumbs.add_widget(Image(texture=_texture(ui, page.data, page.content_type), fit_mode="contain"))
    elif name == "q_list":
        box = sm.get_screen(name).ids.cases
        for c in q.cases if _changed(box, (lang, fs, tuple(q.cases))) else []:
            box.add_widget(_label(c.line(lang), fs))
            if c.status == "result_ready":
                tile = SubTile(key=c.number, title=ui.text("query_pickup_ticket"), subtitle=c.number)
                tile.bind(on_release=lambda w: ui.tap_pickup_ticket(w.key))
                box.add_widget(tile)


def _texture(ui: SubmissionUi, data: bytes, content_type: str) -> Any:
    """A thumbnail's texture, decoded once per page."""
    cache: dict[int, Any] = ui.__dict__.setdefault("_thumbs", {})
    key = hash(data)
    if key not in cache:
        ext = "png" if content_type == "image/png" else "jpg"
        cache[key] = CoreImage(io.BytesIO(data), ext=ext).texture
        if len(cache) > 60:
            cache.pop(next(iter(cache)))
    return cache[key]
