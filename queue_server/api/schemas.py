"""Request and response bodies of the HTTP API (the contract's JSON shapes)."""

from __future__ import annotations

from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo

import orjson
from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..schemas import IssuedTicket, PublicTicket
from ..services.ticketing import TicketOut

Lane = Literal["normal", "military", "special", "vip"]
MAX_ID = 2**31 - 1  # ids are 32-bit in the schema; larger numbers are a client error, not a 500
MAX_WINDOW = 9999
TicketId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _no_control(value: str) -> str:
    if any(ord(ch) < 32 and ch not in "\t\n" for ch in value):
        raise ValueError("control characters are not allowed")
    return value


Text = Annotated[str, AfterValidator(_no_control)]
WindowNo = Annotated[int, Path(ge=1, le=MAX_WINDOW)]


class CitizenLanguages(BaseModel):
    """The citizen's language and 需要语言服务, as a kiosk sends them with a number or a check-in (issue 22)."""

    lang: Literal["zh", "en", "ko", "ja", "ru"] | None = Field(
        default=None, description="the citizen's language (the kiosk's): tracking page, printed ticket, messages"
    )
    interpreter: Literal["en", "ko", "ja", "ru"] | None = Field(
        default=None, description="需要语言服务: the citizen needs an interpreter in this language (the clerk sees it)"
    )


class TicketCreate(CitizenLanguages):
    """What a kiosk or clerk sends to take a number."""

    queue: Text = Field(min_length=1, max_length=8, examples=["A"])
    lane: Lane = "normal"
    phone: Text | None = Field(default=None, max_length=32, description="for silent calling; stored encrypted")
    id_number: Text | None = Field(default=None, max_length=32, description="resident ID; stored encrypted")
    channel: Literal["kiosk", "counter", "mobile"] = "kiosk"


class TicketPublic(PublicTicket):
    """The shared public ticket (`queue_server.schemas.PublicTicket`), built from a service result."""

    @classmethod
    def of(cls, o: TicketOut, tz: ZoneInfo, **more: str) -> Self:
        """Build from a service result, times in the hall's timezone (`more`: a subclass's fields)."""
        t = o.ticket
        return cls(
            id=t.id,
            number=t.number,
            queue=t.queue,
            lane=t.lane,
            status=t.status,
            ahead=o.ahead,
            estimated_wait_s=o.estimated_wait_s,
            issued_at=t.issued_at.astimezone(tz),
            arrived_at=t.arrived_at.astimezone(tz),
            called_at=t.called_at.astimezone(tz) if t.called_at else None,
            hall=t.hall_code,
            channel=t.channel,
            window=t.window,
            target_window=t.target_window,
            recalls=t.recalls,
            phone_masked=t.phone_masked,
            id_number_masked=t.id_masked,
            lang=t.lang,
            interpreter=t.interpreter,
            **more,
        )


class TicketIssued(TicketPublic, IssuedTicket):
    """The shared issued ticket (`queue_server.schemas.IssuedTicket`): the public one with its tracking token
    and its tracking page's address."""

    @classmethod
    def issued(cls, o: TicketOut, tz: ZoneInfo, track_url: str) -> TicketIssued:
        """The answer to whoever took the number; `track_url` from the route (api/routes/track.py)."""
        return cls.of(o, tz, track_token=o.ticket.track_token, track_url=track_url)

    @classmethod
    def issued_json(cls, o: TicketOut, tz: ZoneInfo, track_url: str) -> bytes:
        """`issued(o, tz, track_url).model_dump_json()`, byte for byte, built without the model (take a number).

        Why not the model: building and serialising it was a twentieth of the server's CPU per ticket on
        PostgreSQL (bench/README.md, issue 23), four times orjson's dump of the same values: the values are the
        row's, already of the fields' types, so validating them again checks nothing. The same fields in the same
        order (tests/api/test_schemas_json.py compares both on varied tickets); a zero UTC offset is written `Z`
        as pydantic does."""
        t = o.ticket
        return orjson.dumps(
            {
                "id": t.id,
                "number": t.number,
                "queue": t.queue,
                "lane": t.lane,
                "status": t.status,
                "ahead": o.ahead,
                "estimated_wait_s": o.estimated_wait_s,
                "issued_at": t.issued_at.astimezone(tz),
                "arrived_at": t.arrived_at.astimezone(tz),
                "called_at": t.called_at.astimezone(tz) if t.called_at else None,
                "hall": t.hall_code,
                "channel": t.channel,
                "window": t.window,
                "target_window": t.target_window,
                "recalls": t.recalls,
                "phone_masked": t.phone_masked,
                "id_number_masked": t.id_masked,
                "lang": t.lang,
                "interpreter": t.interpreter,
                "track_token": t.track_token,
                "track_url": track_url,
            },
            option=orjson.OPT_UTC_Z,
        )


class TransferBody(BaseModel):
    """Where to send a ticket: exactly one of a queue or a window."""

    model_config = ConfigDict(extra="forbid")
    queue: Text | None = Field(default=None, min_length=1, max_length=8)
    window: int | None = Field(default=None, ge=1, le=MAX_WINDOW)


class CallBody(BaseModel):
    """Which waiting ticket to call out of order: by id or by number."""

    ticket_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    number: Text | None = Field(default=None, max_length=16)


class CompleteAndCallBody(BaseModel):
    """The ticket the window is serving now, to be completed before the next is called."""

    ticket_id: int = Field(ge=1, le=MAX_ID)


class WindowStatusBody(BaseModel):
    """A window's new status and, for a pause, the reason shown on the boards."""

    status: Literal["open", "paused", "closed"]
    reason: Text = Field(default="", max_length=200)
    take_over: bool = Field(default=False, description="open a window another clerk holds (the clerk confirmed)")


class NoticeBody(BaseModel):
    """The boards' scrolling notice."""

    text: Text = Field(max_length=500)


class HealthBody(BaseModel):
    """A device's health report."""

    status: Literal["ok", "paper_low", "paper_out", "cover_open", "offline", "error", "unplugged"]
    detail: Text = Field(default="", max_length=200)


class QueueInfo(BaseModel):
    """A queue with its live load."""

    code: str
    name: str
    name_en: str
    names: dict[str, str] = Field(default_factory=dict, description="in each of the hall's languages")
    waiting: int
    estimated_wait_s: int


class TokenOut(BaseModel):
    """A bearer token."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    role: str
    hall: str | None


class Revealed(BaseModel):
    """Unmasked personal data of a ticket, for a role that needs it (audited)."""

    id: int
    phone: str | None
    id_number: str | None


class WindowInfo(BaseModel):
    """A window with its status and current ticket."""

    number: int
    name: str
    name_en: str
    queues: list[str]
    status: str
    reason: str
    current: dict[str, object] | None = None
