"""The citizen's tracking page: one ticket's public state, found by the tracking token on its QR code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from ..config import HallConfig
from ..errors import NotFound
from ..feedback.models import Evaluation
from ..models import DONE, NO_SHOW, Hall
from ..notify.bindings import bound
from ..rejoin import RejoinRule
from ..schemas.track import TrackState
from ..store import tickets as store
from ..store.rows import TicketRow
from .ticketing import out

NO_TICKET = "没有这张票 / No ticket for this link"


@dataclass(frozen=True, slots=True)
class Tracked:
    """A ticket's public state, the row it came from and the hall's event `seq` it reflects."""

    seq: int
    ticket: TicketRow
    state: TrackState


def rejoin_text(rule: RejoinRule, t: TicketRow, now: datetime, lang: str | None = None) -> str:
    """The hall's rejoin rule for a missed ticket; when this ticket can no longer rejoin, why (and what to do):
    Chinese first, then `lang` (English, 한국어, 日本語, Русский)."""
    refusal = rule.refusal(lane=t.lane, rejoins=t.rejoins, missed_at=t.finished_at, now=now, lang=lang)
    if refusal is None or rule.nobody:
        return rule.sentence(lang)
    return refusal


def rejoin_texts(rule: RejoinRule, t: TicketRow, now: datetime, languages: list[str]) -> dict[str, str]:
    """The second half of `rejoin_text` in each of the hall's languages but Chinese (the page's switcher)."""
    return {x: rejoin_text(rule, t, now, x).split(" / ", 1)[-1] for x in languages if x != "zh"}


def tracked(
    session: Session, token: str, now: datetime, hall_of: Callable[[str], HallConfig], *, wechat: bool = False
) -> Tracked:
    """What the holder of the tracking token sees (NotFound for an unknown token); `wechat`: the hall's notices
    go to openids bound on tracking pages (whether this ticket's do is part of the state)."""
    conn = session.connection()
    t = store.ticket_by_track(conn, token)
    if t is None:
        raise NotFound(NO_TICKET)
    o = out(conn, t, now)  # people ahead and the estimate, computed once
    notice, seq = session.execute(
        select(col(Hall.notice), col(Hall.last_seq)).where(col(Hall.code) == t.hall_code)
    ).one()
    evaluated = t.status == DONE and (
        session.execute(select(col(Evaluation.id)).where(col(Evaluation.ticket_id) == t.id)).first() is not None
    )
    h = hall_of(t.hall_code)
    tz = ZoneInfo(h.timezone)
    q = next((x for x in h.queues if x.code == t.queue), None)
    state = TrackState(
        number=t.number,
        status=t.status,
        ahead=o.ahead,
        window=t.window,
        queue=t.queue,
        hall=t.hall_code,
        estimated_wait_s=o.estimated_wait_s,
        issued_at=t.issued_at.astimezone(tz),
        queue_name=q.name if q else t.queue,
        queue_name_en=q.name_en if q else "",
        hall_name=h.name,
        hall_name_en=h.name_en,
        called_at=t.called_at.astimezone(tz) if t.called_at else None,
        recalls=t.recalls,
        transferred=t.queue != t.issue_queue or t.target_window is not None,
        target_window=t.target_window,
        notice=notice or "",
        rejoin_rule=rejoin_text(RejoinRule.of(h), t, now, t.lang) if t.status == NO_SHOW else "",
        rejoin_rules=rejoin_texts(RejoinRule.of(h), t, now, list(h.languages)) if t.status == NO_SHOW else {},
        evaluated=evaluated,
        lang=t.lang,
        languages=list(h.languages),
        queue_names=h.names_of(t.queue) if q else {},
        window_names=h.window_names(w) if (w := t.window or t.target_window) else {},
        wechat_bound=wechat and bound(session, t.hall_code, t.id, t.phone_hash, now),
    )
    return Tracked(int(seq), t, state)
