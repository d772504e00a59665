"""Appointment check-in (预约签到), as a part of the kiosk: its big home tile, its screens (checkin.kv), the code
keypad, the scanner's `HALLAPPT:` codes and the ID card on its screen, the check-in worker.

The steps are the shared `Flow`'s (`kiosk.checkin`); in a language other than Chinese take-a-number's question
(需要语言服务, its `interpreter` screen) comes first; the ticket is shown and printed as take-a-number's.
`app.checkin` in the .kv files.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, ClassVar

from kivy.factory import Factory  # type: ignore[import-untyped]
from kivy.properties import StringProperty  # type: ignore[import-untyped]

from .checkin import CODE_LEN, CheckIn, CheckInRequest
from .client import Refused, Unreachable
from .parts import Part, Tile
from .script import PartSteps
from .take_ui import print_ticket

log = logging.getLogger("kiosk")

KV_FILE = Path(__file__).with_name("checkin.kv")
TILE_COLOUR = (0.05, 0.50, 0.40, 1)


class CheckInSteps(PartSteps):
    """Its `--script` steps: `checkin`, `key:CHARS` and `backspace` (the frame's keypad steps), `submit`."""

    texts: ClassVar[dict[str, str]] = {"checkin": "check_in", "submit": "checkin_submit"}


class CheckInPart(Part):
    """Check-in in the kiosk app (see the module doc)."""

    name = "checkin"
    kv_files = (KV_FILE,)
    script_steps = CheckInSteps
    code_shown = StringProperty("")

    @property
    def steps(self) -> CheckIn:
        """Its pure steps, on the kiosk's state."""
        return CheckIn(self.app.flow)

    def tiles(self) -> list[Tile]:
        """签到: a big home tile; appointments are checked in while the hall is open."""
        return [Tile("check_in", TILE_COLOUR, self.tap_checkin, when_closed=False, big=True, at_press=True)]

    def install(self, sm: Any) -> None:
        """Its screens (checkin.kv)."""
        sm.add_widget(Factory.CheckinScreen())
        sm.add_widget(Factory.CheckingScreen())

    def render(self, lang: str, elder: bool) -> None:
        """The code typed so far."""
        self.code_shown = " ".join(self.app.flow.code.ljust(CODE_LEN, "_"))

    @property
    def wants_card(self) -> bool:
        """Its screen finds today's appointment by the ID card."""
        return self.app.flow.screen == "checkin" and self.app.shown_part() is None

    def card(self, name: str, number: str, id_type: str = "resident") -> None:
        """Today's appointment of the card's holder (a foreigner's or a permit holder's card says which it is)."""
        kind = None if id_type == "resident" else id_type
        self._start(self.steps.checkin_card(number, time.monotonic(), id_type=kind))

    def passport(self, number: str, nationality: str, name: str = "") -> bool:
        """A passport on its screen: the appointment booked with it."""
        if not self.wants_card:
            return False
        self._start(self.steps.checkin_card(number, time.monotonic(), id_type="passport", nationality=nationality))
        log.info("kiosk passport read for check-in")
        return True

    def scanned(self, payload: str) -> bool:
        """An appointment's QR code starts a check-in on its screen (anything else is explained there)."""
        self._start(self.steps.scanned(payload, time.monotonic()))
        return True

    # --- taps -------------------------------------------------------------------------------------------

    def tap_checkin(self) -> None:
        """Home: appointment check-in (the scanner and the ID card reader listen while it shows)."""
        self.app.do(self.steps.check_in)

    def tap_key(self, ch: str) -> None:
        """One key of the code keypad."""
        self.app.do(lambda now: self.steps.key(ch, now))

    def tap_backspace(self) -> None:
        """Delete the last character of the code."""
        self.app.do(self.steps.backspace)

    def tap_submit_code(self) -> None:
        """Check in with the typed code."""
        self._start(self.app.do(self.steps.submit_code))

    # --- the worker -------------------------------------------------------------------------------------

    def _start(self, req: CheckInRequest | None) -> None:
        if req is not None:
            self.app._background(lambda: self._check_in(req))

    def _check_in(self, req: CheckInRequest) -> None:
        app, flow = self.app, self.app.flow

        def retry(_attempt: int) -> None:
            app._later(lambda: flow.retrying(req.key), render=True)

        try:
            langs = {"lang": req.lang, "interpreter": req.interpreter}
            if req.code is not None:
                ticket = app.client.check_in(req.code, on_retry=retry, **langs)
            else:
                ticket = app.client.check_in_by_id(
                    req.id_number or "", id_type=req.id_type, nationality=req.nationality, on_retry=retry, **langs
                )
        except Refused as e:
            sentence = e.sentence
            app._later(lambda: self.steps.check_in_refused(req.key, sentence, time.monotonic()), render=True)
            return
        except Unreachable as e:
            log.warning("kiosk check-in: %s", e)
            app._later(lambda: self.steps.check_in_unreachable(req.key, time.monotonic()), render=True)
            return

        def done() -> None:
            if self.steps.checked_in(req.key, ticket, time.monotonic()):
                log.info(
                    "kiosk checked in: %s lane %s note %r", ticket.get("number"), ticket.get("lane"), ticket.get("note")
                )
                app.render()
                app._background(lambda: print_ticket(app, ticket))

        app._later(done)
