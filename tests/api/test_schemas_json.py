"""The take-a-number answer built without its model (api/schemas.py `TicketIssued.issued_json`) is byte for byte
the model's own JSON, for tickets of every shape: halls east and west of UTC and on it, whole seconds, a called
ticket, masked personal data, languages, non-ASCII text."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest

from queue_server.api.schemas import TicketIssued
from queue_server.services.ticketing import TicketOut
from queue_server.store.rows import TicketRow

AT = datetime(2026, 12, 6, 23, 17, 7, 479272, tzinfo=UTC)


def _ticket(**changes: object) -> TicketRow:
    base = {f.name: None for f in dataclasses.fields(TicketRow)} | {
        "id": 5,
        "hall_code": "t1",
        "service_day": AT.date(),
        "issue_queue": "A",
        "seq": 5,
        "number": "A005",
        "queue": "A",
        "lane": "normal",
        "status": "waiting",
        "channel": "kiosk",
        "arrived_at": AT,
        "issued_at": AT,
        "recalls": 0,
        "rejoins": 0,
        "track_token": "tok_-Abc123",
    }
    return TicketRow(**(base | changes))  # type: ignore[arg-type]


TICKETS = [
    _ticket(),
    _ticket(issued_at=AT.replace(microsecond=0), arrived_at=AT - timedelta(minutes=3)),
    _ticket(
        id=10**9,
        number="B1234",
        queue="B",
        seq=1234,
        lane="special",
        status="called",
        called_at=AT + timedelta(seconds=41),
        window=3,
        target_window=4,
        recalls=2,
        channel="remote",
        phone_masked="138****0000",
        id_masked="1101**********1234",
        lang="ko",
        interpreter="ru",
    ),
    _ticket(hall_code="城东大厅", phone_masked='"\\\n\u001f', lang="ja"),
]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "Europe/London", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("ticket", TICKETS, ids=range(len(TICKETS)))
def test_the_answer_without_the_model_is_the_models_json(zone: str, ticket: TicketRow) -> None:
    tz = ZoneInfo(zone)
    out = TicketOut(ticket, 7, 420)
    url = f"https://hall.example/track/{ticket.track_token}"
    assert TicketIssued.issued_json(out, tz, url) == TicketIssued.issued(out, tz, url).model_dump_json().encode()


def test_every_field_of_the_model_is_written_in_its_order() -> None:
    body = orjson.loads(TicketIssued.issued_json(TicketOut(TICKETS[0], 0, 0), ZoneInfo("UTC"), "u"))
    assert list(body) == list(TicketIssued.model_fields)
