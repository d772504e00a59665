"""The board state: what `GET /api/v1/halls/{hall}/board` and the stream's `snapshot` carry."""

from __future__ import annotations

from pydantic import Field

from .common import IsoTime, Shape, TicketBrief, WindowPublic

RECENT_CALLS = 10  # calls the board state lists, newest first


class BoardHall(Shape):
    """The hall as a board shows it."""

    code: str
    name: str
    name_en: str
    timezone: str
    silent: bool
    # the hall's languages: the boards' second line goes round all but zh
    languages: list[str] = Field(default_factory=lambda: ["zh", "en"])
    # window number -> language -> the window's name, for the windows named in the hall's languages (`names`)
    window_names: dict[str, dict[str, str]] = Field(default_factory=dict)


class BoardQueue(Shape):
    """A queue (domain) with its load."""

    code: str
    name: str
    name_en: str
    names: dict[str, str] = Field(default_factory=dict)  # in each of the hall's languages (English where none)
    waiting: int
    estimated_wait_s: int


class BoardWindow(WindowPublic):
    """A window with its status and the ticket called or served there now."""

    current: TicketBrief | None


class RecentCall(TicketBrief):
    """A call on the board's list: the ticket as it is now and its called time (UTC)."""

    at: IsoTime


class BoardState(Shape):
    """Everything a lobby board or a window display shows."""

    hall: BoardHall
    queues: list[BoardQueue]
    windows: list[BoardWindow]
    recent_calls: list[RecentCall]
    notice: str


class BoardSnapshot(Shape):
    """`GET …/board`: the board state and the `seq` of the last event it reflects."""

    seq: int
    data: BoardState
