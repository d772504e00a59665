"""通办取号: a number taken from a phone, once the phone is proven by a one-time code, within the remote share."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import col

from ..citizen_text import both
from ..config import HallConfig
from ..errors import Conflict, NotFound
from ..languages import pick
from ..models import Ticket
from ..notify import verify
from ..timeutil import service_day
from .issuing import issue as issue_walk_in
from .ticketing import TicketOut
from .tx import HallTx

WRONG_CODE_ZH = "验证码不正确或已失效，请重新获取"
WRONG_CODE_EN = "The code is wrong or has expired; ask for a new one"
WRONG_CODE = f"{WRONG_CODE_ZH} / {WRONG_CODE_EN}"


def wrong_code(lang: str | None = None) -> str:
    """WRONG_CODE, its second half in `lang` (ko, ja, ru) where given."""
    return both(WRONG_CODE_ZH, WRONG_CODE_EN, lang, "remote_wrong_code")


def send_code(tx: HallTx, *, queue: str, phone: str, lang: str | None = None) -> None:
    """Send the phone a one-time code, unless the hall is closed, the queue's remote share taken (409) or the
    queue unknown (404). The hall's configuration, calendar and cipher come with the transaction. `lang`: the
    citizen's language (ko, ja, ru) for the second half of the code's message and of a refusal."""
    calendar = tx.calendar
    if calendar is not None and not calendar.is_open(tx.now):
        raise Conflict(calendar.closed_sentence(tx.now, lang))
    _check_share(tx, queue, lang)
    verify.send_code(tx, cipher=tx.pii, phone=phone, lang=lang)


def issue(tx: HallTx, *, queue: str, phone: str, code: str, lang: str | None = None) -> TicketOut | None:
    """The remote ticket, if `code` is the phone's live code (spent by it); None for a wrong code (the try
    is counted, so commit). 409 when the queue's remote share of today's cap is taken (the rest is kept
    for people in the hall), or as taking a number answers (a closed hall too)."""
    _queue(tx.hall_config, queue)
    if not verify.use_code(tx, cipher=tx.pii, phone=phone, code=code):
        return None
    _check_share(tx, queue, lang)
    return issue_walk_in(tx, queue=queue, channel="remote", phone=phone, lang=lang)


def _check_share(tx: HallTx, queue: str, lang: str | None = None) -> None:
    """409 when the queue's remote tickets today reached its remote share of the daily cap."""
    hall = tx.hall_config
    cap = _queue(hall, queue)
    if cap is None:
        return
    taken = tx.session.execute(
        select(func.count()).where(
            col(Ticket.hall_code) == tx.hall,
            col(Ticket.service_day) == service_day(tx.now, tx.tz),
            col(Ticket.issue_queue) == queue,
            col(Ticket.channel) == "remote",
        )
    ).scalar_one()
    if taken >= cap:
        q = hall.queue(queue)
        raise Conflict(
            both(
                f"今日{q.name}远程取号名额（{cap}个）已满，请到大厅现场取号",
                f"Today's {cap} remote tickets for {q.name_en} are all taken; please take a number in the hall",
                lang,
                "remote_cap",
                queue=pick(hall.names_of(queue), lang),
                cap=cap,
            )
        )


def _queue(hall: HallConfig, queue: str) -> int | None:
    """The queue's remote cap (None: none); 404 for a queue the hall does not have."""
    try:
        return hall.remote_cap(queue)
    except KeyError:
        raise NotFound(f"没有这个业务队列 / No queue '{queue}' in this hall") from None
