"""Parts of the kiosk: a service beyond taking a number (self-submission, case query, pickup, complaints …) is one
`Part` and its strings in the message catalogue.

A part says which tiles it puts on the home screen (and on the closed hall's 24-hour screen when it works
unattended), which .kv files and screens it brings, and answers the app's calls while one of its screens shows:
drawing, Back, Home, the idle timer, touches, an ID card. `KioskApp` holds the parts it was built with and routes
to them; the .kv files reach a part as `app.<name>` (`app.sub`, `app.fb`). Parts register themselves with
`register` (a factory taking the app and the command line: the part's class itself, unless it needs more);
`python -m kiosk` builds the kiosk with every part registered (`kiosk.services`).

A new service: a module with a `Part` subclass (its flow, its screens in a .kv file, its tiles), its strings in
`kiosk/locale/*/LC_MESSAGES/kiosk.po`, and one `register(...)` line in `kiosk/services.py` (see docs/kiosk.md).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kivy.event import EventDispatcher  # type: ignore[import-untyped]
from kivy.properties import StringProperty  # type: ignore[import-untyped]


@dataclass(frozen=True)
class Tile:
    """A home tile of a part: `key` is the catalogue id of its title (its hint is `key + "_hint"`)."""

    key: str
    colour: tuple[float, float, float, float]
    tap: Callable[[], None]
    needs_server: bool = True  # greyed out while the server does not answer
    when_closed: bool = True  # also on the closed hall's 24-hour screen (it needs no staff)
    big: bool = False  # one of home's big tiles (take a number, check-in, booking), not the row under them
    offered: Callable[[], bool] | None = None  # whether it is offered now (None: always); else it takes no room
    at_press: bool = False  # taps on touch-down (the next screen at once), not on release


class Part(EventDispatcher):  # Kivy properties: the .kv files bind to what a part shows
    """What the kiosk asks of a part; the defaults suit a part that shows nothing."""

    name = ""  # how the app and the .kv files know it: app.<name>
    kv_files: tuple[Path, ...] = ()
    script_steps: Any = None  # the class of its `--script` steps (a `kiosk.script.PartSteps`), None: it has none
    countdown = StringProperty("")  # the idle countdown while one of its screens shows (its own timeouts)

    def __init__(self, app: Any = None, args: argparse.Namespace | None = None, **kw: Any) -> None:
        """A part of the kiosk `app`, made from the command line `args` (a part class is its own factory)."""
        super().__init__(**kw)
        self.app = app
        self.script = self.script_steps(self) if self.script_steps is not None else None

    def tiles(self) -> list[Tile]:
        """Its home tiles (built once, after `install`)."""
        return []

    def install(self, sm: Any) -> None:
        """Add its screens to the kiosk's ScreenManager."""

    def start(self) -> None:
        """Start its workers (the app has been built)."""

    def stop(self) -> None:
        """End its workers (the app is stopping)."""

    @property
    def current(self) -> str | None:
        """Its screen shown now, None when none of its screens is."""
        return None

    def render(self, lang: str, elder: bool) -> None:
        """Copy its state into what its screens draw (Kivy thread), in the kiosk's language and mode."""

    def shown(self, sm: Any, name: str) -> None:
        """Its screen `name` has just been drawn: fill its lists (only what changed: a finger may be down)."""

    def tick(self, now: float) -> bool:
        """The idle timer; True when it struck (back home, everything forgotten)."""
        return False

    def back(self, now: float) -> None:
        """Back, within its screens."""

    def home(self) -> None:
        """Home: forget the citizen."""

    def touch(self, now: float) -> None:
        """Any touch: restart its idle timer."""

    @property
    def wants_card(self) -> bool:
        """Whether its screen shown takes an ID card now."""
        return False

    def card(self, name: str, number: str, id_type: str = "resident") -> None:
        """An ID card read while it wanted one: the holder's name, the number, the document (`kiosk.documents`:
        resident, foreign_permanent, hk_mo_tw_permit)."""

    def scanned(self, payload: str) -> bool:
        """The scanner read a code (not a passport's zone): True when it was this part's to take."""
        return False

    def passport(self, number: str, nationality: str, name: str = "") -> bool:
        """The scanner read a passport's zone (its number, the ISO 3166 code of its nationality, the holder's
        name): True when it was this part's to take."""
        return False

    def problems(self) -> list[str]:
        """What its devices or queues need staff for (the heartbeat reports them; nothing personal)."""
        return []


PartFactory = Callable[[Any, argparse.Namespace | None], Part]
REGISTERED: list[PartFactory] = []


def register(factory: PartFactory) -> PartFactory:
    """Add a part to every kiosk `python -m kiosk` builds, after those registered before it (tiles in that order)."""
    REGISTERED.append(factory)
    return factory
