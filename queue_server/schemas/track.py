"""The tracking page's view of one ticket: what `GET /api/v1/track/{token}` answers and what the ticket's own
stream (`/ws/track/{token}`) sends — public state only: never a name, phone or ID number."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from .common import TicketStatus

# The rule a missed ticket follows in a hall without `rejoin_*` keys (queue_server/rejoin.py): the same service
# day, at the back of the queue, by staff at the information desk.
REJOIN_RULE = "过号后当天可到总服务台重新排队，排在队尾。 / Ask at the information desk today to rejoin, at the back."


class TrackState(BaseModel):
    """One ticket as its holder follows it; the first eight fields are the contract's `TrackInfo`."""

    number: str
    status: TicketStatus
    ahead: int = Field(description="people ahead in the queue (0 once called)")
    window: int | None = Field(default=None, description="the window the ticket is called to or served at")
    queue: str
    hall: str
    estimated_wait_s: int
    issued_at: datetime
    queue_name: str = ""
    queue_name_en: str = ""
    hall_name: str = ""
    hall_name_en: str = ""
    called_at: datetime | None = None
    recalls: int = Field(default=0, description="how often the call was repeated (重呼)")
    transferred: bool = Field(default=False, description="moved to another queue or sent to a window (转办)")
    target_window: int | None = Field(default=None, description="the window a transfer sent the ticket to")
    notice: str = Field(default="", description="the hall's notice, as the boards show it")
    rejoin_rule: str = Field(
        default="", description="for a missed ticket (no_show): how to rejoin (中文 / the ticket's language)"
    )
    rejoin_rules: dict[str, str] = Field(
        default_factory=dict, description="the rule's second half in each of the hall's languages but Chinese"
    )
    evaluated: bool = Field(default=False, description="the finished service has been rated (one rating a ticket)")
    lang: str | None = Field(default=None, description="the language the ticket was taken in (the kiosk's)")
    languages: list[str] = Field(default_factory=lambda: ["zh", "en"], description="the hall's languages")
    queue_names: dict[str, str] = Field(default_factory=dict, description="the queue's name in each of them")
    wechat_bound: bool = Field(
        default=False, description="its notices go to a WeChat openid (bound on this page or on an earlier ticket's)"
    )
    window_names: dict[str, str] = Field(
        default_factory=dict, description="the name of the window it is called to (or sent to) in each language"
    )
