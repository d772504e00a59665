"""What every ticket change shares: the answer (`TicketOut`), the ticket's event with its queues' counts,
the hall's load memo, and reading a ticket or window of the hall (plain rows from queue_server/store)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import col

from .. import policy
from ..config import HallConfig
from ..errors import Conflict, Forbidden, NotFound
from ..models import WAITING, UserAccount
from ..store import halls as hall_store
from ..store import tickets as store
from ..store.rows import TicketRow, WindowRow
from .auth import Principal
from .stats import HallLoad
from .tx import HallTx


@dataclass(frozen=True, slots=True)
class TicketOut:
    """A ticket (a plain row) with what the citizen wants to know about it right now."""

    ticket: TicketRow
    ahead: int
    estimated_wait_s: int
    created: bool = True


def brief(t: TicketRow) -> dict[str, Any]:
    """The ticket as events carry it: never a name, phone or ID number."""
    d: dict[str, Any] = {"id": t.id, "number": t.number, "queue": t.queue, "lane": t.lane, "status": t.status}
    if t.window is not None:
        d["window"] = t.window
    return d


def out(conn: Connection, t: TicketRow, now: datetime, *, created: bool = True) -> TicketOut:
    """Wrap a ticket with its people-ahead count and estimated wait."""
    ahead = store.people_ahead(conn, t, now)
    wait = HallLoad.read(conn, t.hall_code).estimate(t.queue, ahead) if t.status == WAITING else 0
    return TicketOut(t, ahead, wait, created)


def queue_stats(conn: Connection, hall: str, queues: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """`[{"code", "waiting", "estimated_wait_s"}]` for the given queues (all of the hall by default)."""
    load = HallLoad.read(conn, hall)
    codes = list(queues) if queues is not None else list(load.avg)
    counts = store.waiting_counts(conn, hall, codes)
    return [{"code": c, "waiting": counts[c], "estimated_wait_s": load.estimate(c, counts[c])} for c in codes]


def check_clerk_window(actor: Principal, number: int | None) -> None:
    """403 unless a clerk bound to windows is acting at one of them."""
    if actor.windows and number is not None and number not in actor.windows:
        raise Forbidden(f"您不在 {number} 号窗口 / You are not assigned to window {number}")


def staff_name(conn: Connection, username: str) -> str:
    """A staff user's display name (王芳), or the username when none is configured."""
    stmt = select(col(UserAccount.display_name)).where(col(UserAccount.username) == username)
    return conn.execute(stmt).scalar() or username


def staff_names(conn: Connection) -> dict[str, str]:
    """Every staff user's display name by username (those without one: their username)."""
    rows = conn.execute(select(col(UserAccount.username), col(UserAccount.display_name))).all()
    return {u: d or u for u, d in rows}


def check_holder(conn: Connection, actor: Principal, w: WindowRow) -> None:
    """409 when another staff user holds the window (took it over): the console left behind stops acting."""
    if actor.kind == "user" and w.clerk and w.clerk != actor.name and w.status != "closed":
        by = staff_name(conn, w.clerk)
        raise Conflict(
            f"{w.number} 号窗口已由 {by} 接管，本页面不能再操作 / Window {w.number} was taken over by {by}: "
            "this console can no longer act on it"
        )


def check_reveal_window(actor: Principal, t: TicketRow, hall: HallConfig) -> None:
    """403 unless a clerk bound to windows holds the ticket: at one of them, sent to one, or waiting in a
    queue that one of them serves (the rule of every route that shows a ticket's personal data)."""
    if not actor.windows:
        return
    at = t.window if t.window is not None else t.target_window
    if at is not None:
        check_clerk_window(actor, at)
    elif not any(w.number in actor.windows and t.queue in w.queues for w in hall.windows):
        raise Forbidden("此票不在您的窗口 / This ticket is not at your window")


def ticket_row(tx: HallTx, ticket_id: int) -> TicketRow:
    """The ticket of this hall, or NotFound."""
    return of_hall(tx, store.ticket(tx.conn, ticket_id))


def window_row(tx: HallTx, number: int) -> WindowRow:
    """The window of this hall (row-locked on PostgreSQL), or NotFound."""
    w = hall_store.window(tx.conn, tx.hall, number)
    if w is None:
        raise NotFound(f"没有这个窗口 / No window {number} in this hall")
    return w


# A window's call reads its row and then the heads of its queues (store `heads`): on PostgreSQL both go out in one
# network wait (pipelined), the heads for the queues the configuration gives the window. The heads come back None
# when not read (SQLite, a window not in the configuration, a hall the memo knows empty: `none_waiting`) or read for
# other queues than the row's (the configuration changed since start-up): the caller then reads them for the row's.


def _heads_queues(tx: HallTx, number: int) -> list[str] | None:
    """The configured queues of the window, to read its heads with its row; None: not with the row."""
    if tx.config is None or tx.conn.dialect.name != "postgresql" or none_waiting(tx):
        return None
    return next((c.queues for c in tx.config.windows if c.number == number), None)


def _heads_of(
    w: WindowRow, queues: list[str], heads: Callable[[], list[policy.Candidate]]
) -> list[policy.Candidate] | None:
    return heads() if w.queues == ",".join(queues) else None


def window_and_heads(tx: HallTx, number: int) -> tuple[WindowRow, list[policy.Candidate] | None]:
    """`window_row` and the window's heads (None: not read), in one network wait on PostgreSQL."""
    queues = _heads_queues(tx, number)
    if queues is None:
        return window_row(tx, number), None
    with hall_store.pipelined(tx.conn):
        row = hall_store.window_pending(tx.conn, tx.hall, number)
        heads = store.heads_pending(tx.conn, tx.hall, number, queues)
    w = row()
    if w is None:
        raise NotFound(f"没有这个窗口 / No window {number} in this hall")
    return w, _heads_of(w, queues, heads)


def window_ticket_and_heads(
    tx: HallTx, number: int, ticket_id: int
) -> tuple[WindowRow, TicketRow | None, list[policy.Candidate] | None]:
    """`window_and_ticket` and the window's heads (None: not read), in one network wait on PostgreSQL (F9: the
    completion in between changes no waiting ticket, so they are the heads its call needs)."""
    queues = _heads_queues(tx, number)
    if queues is None:
        return *window_and_ticket(tx, number, ticket_id), None
    with hall_store.pipelined(tx.conn):
        both = store.window_and_ticket_pending(tx.conn, tx.hall, number, ticket_id)
        heads = store.heads_pending(tx.conn, tx.hall, number, queues)
    found = both()
    if found is None:
        raise NotFound(f"没有这个窗口 / No window {number} in this hall")
    return *found, _heads_of(found[0], queues, heads)


def window_and_ticket(tx: HallTx, number: int, ticket_id: int) -> tuple[WindowRow, TicketRow | None]:
    """`window_row` and the ticket with this id in one round trip (NotFound for the window only: the caller checks
    the ticket with `of_hall` when its own checks of the window are done, in the order of the two reads)."""
    both = store.window_and_ticket(tx.conn, tx.hall, number, ticket_id)
    if both is None:
        raise NotFound(f"没有这个窗口 / No window {number} in this hall")
    return both


def of_hall(tx: HallTx, t: TicketRow | None) -> TicketRow:
    """The ticket if it is this hall's, else NotFound (as `ticket_row`)."""
    if t is None or t.hall_code != tx.hall:
        raise NotFound("没有这张票 / No such ticket")
    return t


def load(tx: HallTx) -> HallLoad:
    """The hall's window capacity and service averages, read once per transaction (or writer batch).

    Changes to them keep the memo right: `complete` updates the average in it, a window's status
    change drops it (`drop_load`).
    """
    memo = tx.cache.get("load")
    if not isinstance(memo, HallLoad):
        memo = tx.cache["load"] = HallLoad.read(tx.conn, tx.hall)
    return memo


def drop_load(tx: HallTx) -> None:
    """Forget the memo of the hall's load: its windows changed."""
    tx.cache.pop("load", None)


# Every change's event carries the waiting counts of its queues. Counting them in the database for each
# event costs more the longer the queues, so the hall's memo keeps them, stamped with the hall's `seq`:
# they are exact while the hall's last event is one whose change they were updated for. A change that
# moves tickets in or out of waiting says so (`moved`) before its event; any other event (another kind
# of change, another process's commit read by `open_hall`) leaves the stamp behind, and the next use
# counts again.


def _waiting_memo(tx: HallTx) -> dict[str, int] | None:
    memo = tx.cache.get("waiting")
    if isinstance(memo, tuple) and memo[0] == tx.last_seq:
        return memo[1]
    return None


def waiting(tx: HallTx) -> dict[str, int]:
    """Waiting tickets per queue of the hall, as of now (this change included)."""
    counts = _waiting_memo(tx)
    if counts is None:
        counts = store.waiting_counts(tx.conn, tx.hall)
        tx.cache["waiting"] = (tx.last_seq, counts)
    return counts


def none_waiting(tx: HallTx) -> bool:
    """Whether the memo knows that no ticket of the hall waits (False when it does not know: read the queues)."""
    counts = _waiting_memo(tx)
    return counts is not None and not any(counts.values())


def stats(tx: HallTx, queues: list[str]) -> list[dict[str, Any]]:
    """The queues' waiting counts and estimated waits as of now, for an event."""
    memo, counts = load(tx), waiting(tx)
    return [
        {"code": q, "waiting": counts.get(q, 0), "estimated_wait_s": memo.estimate(q, counts.get(q, 0))} for q in queues
    ]


def move(tx: HallTx, moved: dict[str, int] | None) -> None:
    """This change moved `moved[queue]` tickets into (+) or out of (−) waiting: update an exact memo."""
    counts = _waiting_memo(tx)
    if counts is not None and moved:
        for q, n in moved.items():
            counts[q] = counts.get(q, 0) + n


def emit_counted(tx: HallTx, type: str, data: dict[str, Any]) -> None:
    """Emit an event whose change has been reported to the memo (`move`), keeping an exact memo exact."""
    tx.emit(type, data)
    memo = tx.cache.get("waiting")
    if isinstance(memo, tuple) and memo[0] == tx.last_seq - 1:  # exact before this event: still exact
        tx.cache["waiting"] = (tx.last_seq, memo[1])


def announcement(number: str, window: int) -> str:
    """What a hall that is not silent says when it calls a ticket."""
    return f"请{number}号到{window}号窗口办理 / Ticket {number}, please go to window {window}"


def emit_ticket(
    tx: HallTx,
    type: str,
    t: TicketRow,
    queues: list[str] | None = None,
    *,
    moved: dict[str, int] | None = None,
    **extra: Any,
) -> None:
    """The ticket's event; `moved`: how its change moved tickets into (+) or out of (−) waiting, per queue."""
    data = brief(t) | extra
    spoken = tx.config is not None and not tx.config.silent  # boards of this hall speak the call
    if spoken and type in ("ticket.called", "ticket.recalled") and t.window is not None:
        data["announce"] = announcement(t.number, t.window)
    move(tx, moved)
    data["queues"] = stats(tx, sorted(set(queues or [t.queue])))
    emit_counted(tx, type, data)
