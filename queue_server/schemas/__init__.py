"""The shapes every side of the hall shares — server, kiosk, boards, bridges: one schema per message.

Pydantic only: importing this package pulls in no web framework, database or UI (tests/schemas checks it).
"""

from .board import RECENT_CALLS, BoardHall, BoardQueue, BoardSnapshot, BoardState, BoardWindow, RecentCall
from .common import IsoTime, Lane, QueueLoad, Shape, TicketBrief, TicketStatus, WindowStatus
from .events import (
    EVENT_DATA,
    EVENT_TYPES,
    STREAM_TYPES,
    AppointmentChange,
    CaseStatus,
    ComplaintChanged,
    DeviceHealth,
    Envelope,
    EvaluationCreated,
    FollowupChanged,
    HomeVisitChange,
    Notice,
    QueueAlert,
    QueueStats,
    TicketChange,
    TicketExpired,
    WindowStatusData,
    data_model,
    envelope,
    event_data,
)
from .ticket import TRACK_PAGE, IssuedTicket, PublicTicket, track_url
from .track import REJOIN_RULE, TrackState

__all__ = [
    "EVENT_DATA",
    "EVENT_TYPES",
    "RECENT_CALLS",
    "REJOIN_RULE",
    "STREAM_TYPES",
    "TRACK_PAGE",
    "AppointmentChange",
    "BoardHall",
    "BoardQueue",
    "BoardSnapshot",
    "BoardState",
    "BoardWindow",
    "CaseStatus",
    "ComplaintChanged",
    "DeviceHealth",
    "Envelope",
    "EvaluationCreated",
    "FollowupChanged",
    "HomeVisitChange",
    "IsoTime",
    "IssuedTicket",
    "Lane",
    "Notice",
    "PublicTicket",
    "QueueAlert",
    "QueueLoad",
    "QueueStats",
    "RecentCall",
    "Shape",
    "TicketBrief",
    "TicketChange",
    "TicketExpired",
    "TicketStatus",
    "TrackState",
    "WindowStatus",
    "WindowStatusData",
    "data_model",
    "envelope",
    "event_data",
    "track_url",
]
