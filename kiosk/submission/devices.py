"""The devices of self-submission in the Kivy app: the ID card for the applicant and the query, the receipt print.

Mixed into `SubmissionUi`; the calls run on worker threads and come back through `app._later`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.client import KioskClient, KioskClientError

    from .flow import SubmissionFlow
    from .query import QueryFlow

log = logging.getLogger("kiosk")


class DeviceSteps:
    """The ID-card reader and the receipt printer (the kiosk's own, shared under its device lock)."""

    if TYPE_CHECKING:
        app: Any
        cases: KioskClient
        flow: SubmissionFlow
        query: QueryFlow

        @property
        def current(self) -> str | None: ...
        def _found(self, cases: list[dict[str, Any]]) -> None: ...
        def _query_failed(self, e: KioskClientError) -> None: ...
        def _fetch(
            self,
            call: Callable[[], Any],
            then: Callable[[Any], object],
            *,
            failed: Callable[[KioskClientError], object] | None = None,
        ) -> None: ...

    def _print_receipt(self, case: dict[str, Any], item_name: tuple[str, str], pages: int, to_follow: int) -> None:
        """The 自助申报回执 on the ticket printer: case number, item, query code, a QR code of the query page."""
        from peripherals import PrinterError
        from peripherals.printer.receipt import ReceiptData, render_receipt

        number, code = str(case["number"]), str(case.get("query_token") or "")
        ok = False
        with self.app.devices.lock:
            printer = self.app.devices.printer
            if printer is not None:
                data = ReceiptData(
                    hall_name=self.app._names[0],
                    hall_name_en=self.app._names[1],
                    case_number=number,
                    item_name=item_name[0],
                    item_name_en=item_name[1],
                    query_code=code,
                    submitted_at=self.app.now(),  # the hall's clock, not this computer's
                    query_url=f"{self.app.server.rstrip('/')}/cases/query?n={number}&p={code}",
                    pages=pages,
                    to_follow=to_follow,
                )
                try:
                    printer.print_job(render_receipt(data, printer.paper))
                    ok = True
                except PrinterError:
                    ok = False
        log.info("kiosk receipt %s: %s", number, "printed" if ok else "not printed")
        self.app._later(lambda: self.flow.printed(ok), render=True)

    def card(self, name: str, number: str) -> None:
        """A card read while one of this part's screens shows (Kivy thread)."""
        now = time.monotonic()
        if self.flow.screen == "sub_card":
            self.flow.card_read(name, number, now)
        elif self.query.screen == "q_entry":
            id_number = self.query.card_read(number, now)
            if id_number:
                self._fetch(lambda: self.cases.lookup(id_number), self._found, failed=self._query_failed)
