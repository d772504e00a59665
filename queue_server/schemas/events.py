"""The hall event stream: the envelope every message has and the `data` of each event type.

`{"seq", "type", "at", "hall", "data"}`: `seq` gap-free per hall, `at` ISO 8601 in the hall's timezone.
Besides events the stream sends `snapshot` (data: the board state), `heartbeat` and `resync`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .common import IsoTime, QueueLoad, Shape, TicketBrief, WindowPublic


class Envelope(BaseModel):
    """One stream message; `data` is read with `event_data` (or `BoardState` for a snapshot)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int
    type: str
    at: IsoTime
    hall: str
    data: dict[str, Any] = {}


def envelope(seq: int, type: str, at: str, hall: str, data: Any) -> dict[str, Any]:
    """The message as a plain dict, keys in the contract's order (what the server serialises)."""
    return {"seq": seq, "type": type, "at": at, "hall": hall, "data": data}


class TicketChange(TicketBrief):
    """`ticket.*` (all but `ticket.expired`): the ticket after the change and the loads of the queues it moved.

    A transfer adds `from_queue` and `from_window` (`window` is then the target window, if any); in halls that
    are not silent, `ticket.called` and `ticket.recalled` carry `announce`, the sentence to speak.
    """

    queues: list[QueueLoad]
    announce: str | None = None
    from_queue: str | None = None
    from_window: int | None = None


class TicketExpired(TicketBrief):
    """`ticket.expired`: left open at the end of the service day (the loads follow in one `queue.stats`)."""


class WindowStatusData(WindowPublic):
    """`window.status`: the window's public fields."""


class WindowTakenOver(Shape):
    """`window.taken_over`: another clerk took the window over (its old console stops; no names)."""

    number: int


class QueueStats(Shape):
    """`queue.stats`: the loads of the queues that changed."""

    queues: list[QueueLoad]


class Notice(Shape):
    """`notice`: the boards' scrolling line ('' clears it)."""

    text: str


class DeviceHealth(Shape):
    """`device.health`: a device's report."""

    device: str
    role: str
    status: str
    detail: str


class QueueAlert(Shape):
    """`queue.alert`: a queue past (or back under) its length or wait threshold."""

    queue: str
    kind: Literal["length", "wait"]
    value: int
    threshold: int
    cleared: bool


class AppointmentChange(Shape):
    """`appointment.*`: never the booking code (it lets its holder act)."""

    id: int
    queue: str
    status: str
    start: IsoTime


class HomeVisitChange(Shape):
    """`home_visit.*`: no code, name or address."""

    id: int
    queue: str
    status: str


class EvaluationCreated(Shape):
    """`evaluation.created`: a citizen's rating of a ticket (`ticket`, `number`, `window`) or of a case."""

    id: int
    level: int
    channel: str
    ticket: int | None = None
    number: str | None = None
    window: int | None = None
    case: str | None = None


class FollowupChanged(Shape):
    """`followup.changed`: a bad rating's follow-up moved on."""

    id: int
    evaluation: int
    status: str


class ComplaintChanged(Shape):
    """`complaint.changed`: never the reference code (the stream is public; the code and its proof open it)."""

    id: int
    status: str
    category: str


class CaseStatus(Shape):
    """`case.status`: a case (办件) changed state."""

    number: str
    item: str
    status: str


class DeskRead(Shape):
    """`desk.read`: the desk page pressed 读卡; the agent `device` reads its card reader (answers `request`)."""

    device: str
    request: str


class DeskCardRead(Shape):
    """`desk.card_read`: the agent answered a 读卡 request: `read` is the card to fetch (GET …/desk/cards/{read},
    staff only), or None with `error`. Never the card's data: the stream is public."""

    device: str
    request: str
    read: int | None = None
    kind: Literal["id_card", "uid"] | None = None
    error: str | None = None


class DeskPrint(Shape):
    """`desk.print`: print ticket `ticket` on the desk agent `device`'s printer (job `job`)."""

    device: str
    job: str
    ticket: int


class DeskPrinted(Shape):
    """`desk.printed`: the agent's answer to a print job: printed, or failed with the printer's `detail`."""

    device: str
    job: str
    number: str
    status: Literal["printed", "failed"]
    detail: str = ""


TICKET_EVENTS = (
    "ticket.issued",
    "ticket.called",
    "ticket.recalled",
    "ticket.serving",
    "ticket.completed",
    "ticket.no_show",
    "ticket.held",
    "ticket.transferred",
    "ticket.cancelled",
    "ticket.rejoined",
)

# Every event type with the model of its `data`; a prefix ending in "." covers a family.
EVENT_DATA: dict[str, type[Shape]] = {
    **dict.fromkeys(TICKET_EVENTS, TicketChange),
    "ticket.expired": TicketExpired,
    "window.status": WindowStatusData,
    "window.taken_over": WindowTakenOver,
    "queue.stats": QueueStats,
    "queue.alert": QueueAlert,
    "notice": Notice,
    "device.health": DeviceHealth,
    "appointment.": AppointmentChange,
    "home_visit.": HomeVisitChange,
    "evaluation.created": EvaluationCreated,
    "followup.changed": FollowupChanged,
    "complaint.changed": ComplaintChanged,
    "case.status": CaseStatus,
    "desk.read": DeskRead,
    "desk.card_read": DeskCardRead,
    "desk.print": DeskPrint,
    "desk.printed": DeskPrinted,
}
EVENT_TYPES = frozenset(k for k in EVENT_DATA if not k.endswith("."))
STREAM_TYPES = frozenset({"snapshot", "heartbeat", "resync"})  # messages that are not events


def data_model(type: str) -> type[Shape] | None:
    """The model of an event type's `data`, or None for a type this version does not know."""
    model = EVENT_DATA.get(type)
    if model is None and "." in type:
        model = EVENT_DATA.get(type.split(".", 1)[0] + ".")
    return model


def event_data(msg: Envelope | dict[str, Any]) -> Shape | None:
    """An event's `data` as its model (pydantic.ValidationError if it does not fit); None for an unknown type."""
    env = msg if isinstance(msg, Envelope) else Envelope.model_validate(msg)
    model = data_model(env.type)
    return None if model is None else model.model_validate(env.data)
