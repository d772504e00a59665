"""Ticket lifecycle after issue: call (next or chosen), the window actions, transfer, day-end expiry.

Every row is read and written through queue_server/store as a plain immutable row; a change returns the
new row and passes it on, so nothing here can see a stale copy or outlive its transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import col

from .. import policy
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..estimate import updated_average
from ..models import (
    AT_WINDOW,
    CALLED,
    CANCELLED,
    DONE,
    EXPIRED,
    HELD,
    NO_SHOW,
    SERVING,
    WAITING,
    Ticket,
)
from ..rejoin import RejoinRule
from ..store import halls as hall_store
from ..store import tickets as store
from ..store.rows import TicketRow, WindowRow
from ..timeutil import service_day
from . import notices
from .auth import Principal
from .stats import HallLoad
from .ticketing import (
    TicketOut,
    brief,
    check_clerk_window,
    check_holder,
    emit_ticket,
    load,
    none_waiting,
    of_hall,
    out,
    stats,
    ticket_row,
    window_and_heads,
    window_row,
    window_ticket_and_heads,
)
from .tx import HallTx


def _ready(tx: HallTx, w: WindowRow) -> None:
    if w.status != "open":
        raise Conflict(
            f"{w.number} 号窗口{'已暂停服务' if w.status == 'paused' else '未开放'} / Window {w.number} is {w.status}"
        )
    if w.current_ticket_id is not None:
        cur = store.ticket(tx.conn, w.current_ticket_id)
        num = cur.number if cur else "?"
        raise Conflict(f"请先办结 {num} / Window {w.number} still has {num}: finish it first")


def _call(tx: HallTx, w: WindowRow, t: TicketRow, now_streak: int) -> TicketOut:
    t = store.update_ticket(tx.conn, t, status=CALLED, window=w.number, target_window=None, called_at=tx.now)
    hall_store.update_window(tx.conn, w, current_ticket_id=t.id, priority_streak=now_streak)
    emit_ticket(tx, "ticket.called", t, moved={t.queue: -1})
    notices.called(tx, t)
    notices.ahead_after_call(tx, t.queue)
    return TicketOut(t, 0, 0)


def call_next(
    tx: HallTx,
    *,
    number: int,
    actor: Principal,
    window: WindowRow | None = None,
    heads: list[policy.Candidate] | None = None,
) -> TicketOut | None:
    """Call the ticket the queue policy picks for this window, or None when nobody waits for it.

    `window` is the window's row when the caller has it, up to date, from this transaction; `heads` its heads
    (`window_ticket_and_heads`) when the caller read them in it, with no waiting ticket changed since."""
    check_clerk_window(actor, number)
    quiet = none_waiting(tx)  # the idle windows' calls (a third of the city's morning requests): no heads to read
    if window is not None and window.number == number:
        w = window
    else:
        w, heads = window_and_heads(tx, number)
    check_holder(tx.conn, actor, w)
    _ready(tx, w)
    if quiet:
        return None
    view = policy.WindowView(number, tuple(w.queues.split(",")), w.strict_order, w.priority_streak)
    candidates = heads if heads is not None else store.heads(tx.conn, tx.hall, view)
    rules = tx.rules
    tried: set[int] = set()
    while candidates:
        chosen = policy.choose(view, candidates, tx.now, rules)
        if chosen is None:
            return None
        t = store.waiting_ticket(tx.conn, chosen.id)  # another process may hold it: skip, never wait or double-call
        if t is not None:
            return _call(tx, w, t, policy.next_streak(w.priority_streak, chosen, tx.now))
        tried.add(chosen.id)  # rare (PostgreSQL, a row locked elsewhere): look at every waiting ticket
        candidates = [c for c in store.all_waiting(tx.conn, tx.hall, view) if c.id not in tried]
    return None


def complete_and_call_next(tx: HallTx, *, number: int, ticket_id: int, actor: Principal) -> TicketOut | None:
    """办结并叫下一位: complete the window's current ticket and call the next one, as one change.

    The ticket must be the one the window is serving (called or serving there), so a clerk never ends
    a ticket they do not see; the window is never idle between the two, and a failure undoes both.
    """
    check_clerk_window(actor, number)
    w, found, heads = window_ticket_and_heads(tx, number, ticket_id)  # one round trip, checked in their order
    check_holder(tx.conn, actor, w)
    t = of_hall(tx, found)
    if t.window != number or t.status not in (CALLED, SERVING):
        raise Conflict(
            f"{t.number} 不是 {number} 号窗口正在办理的号 / {t.number} is not the ticket window {number} is serving"
        )
    after = _act(tx, t, "complete", actor, w)[1]
    return call_next(tx, number=number, actor=actor, window=after, heads=heads)  # w as the completion left it


def call_ticket(
    tx: HallTx, *, number: int, ticket_id: int | None, ticket_number: str | None, actor: Principal
) -> TicketOut:
    """Call one chosen waiting ticket out of order (the clerk picked it from the list)."""
    check_clerk_window(actor, number)
    w = window_row(tx, number)
    check_holder(tx.conn, actor, w)
    _ready(tx, w)
    if ticket_id is not None:
        t = store.ticket(tx.conn, ticket_id)
    elif ticket_number:
        t = store.open_ticket_by_number(tx.conn, tx.hall, ticket_number.upper())
    else:
        raise Invalid("请指定票号 / Give ticket_id or number")
    if t is None and ticket_number:
        _missed_today(tx, ticket_number.upper())
    if t is None or t.hall_code != tx.hall:
        raise NotFound("没有这张票 / No such ticket in this hall")
    if t.status != WAITING:
        raise Conflict(f"{t.number} 当前状态为 {t.status}，不能叫号 / {t.number} is {t.status}, not waiting")
    c = policy.Candidate(t.id, t.queue, t.lane, t.arrived_at, t.target_window, t.slot_start)
    return _call(tx, w, t, policy.next_streak(w.priority_streak, c, tx.now))


def _missed_today(tx: HallTx, number: str) -> None:
    """409 naming the way back when `number` is a ticket of today that missed its call (过号): the clerk sends
    the citizen to the general desk, where 重新排队 puts it back in its queue."""
    missed = store.select_tickets(
        tx.conn,
        col(Ticket.hall_code) == tx.hall,
        col(Ticket.service_day) == service_day(tx.now, tx.tz),
        col(Ticket.number) == number,
        col(Ticket.status) == NO_SHOW,
        limit=1,
    )
    if missed:
        raise Conflict(
            f"{number} 已过号，请到总服务台重新排队后再叫 / {number} missed its call: it can rejoin at the general desk"
        )


# action -> (statuses it applies to, status after, event type)
ACTIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "recall": (frozenset({CALLED}), CALLED, "ticket.recalled"),
    "no-show": (frozenset({CALLED}), NO_SHOW, "ticket.no_show"),
    "start": (frozenset({CALLED}), SERVING, "ticket.serving"),
    "complete": (frozenset({CALLED, SERVING}), DONE, "ticket.completed"),
    "hold": (frozenset({CALLED, SERVING}), HELD, "ticket.held"),
    "resume": (frozenset({HELD}), CALLED, "ticket.called"),
    "cancel": (frozenset({WAITING, CALLED, HELD}), CANCELLED, "ticket.cancelled"),
    "rejoin": (frozenset({NO_SHOW}), WAITING, "ticket.rejoined"),
}


def _release_window(tx: HallTx, t: TicketRow, w: WindowRow | None = None) -> WindowRow | None:
    """Free the ticket's window if it is serving this ticket (`w`: that window's row, when the caller has it);
    the window's row as it is now."""
    if t.window is None:
        return w
    if w is None or w.number != t.window:
        w = window_row(tx, t.window)
    if w.current_ticket_id == t.id:
        w = hall_store.update_window(tx.conn, w, current_ticket_id=None)
    return w


def act(tx: HallTx, *, ticket_id: int, action: str, actor: Principal, rejoin: RejoinRule | None = None) -> TicketOut:
    """Apply one window action; 409 (Conflict) when it does not fit the ticket's status (`rejoin`: the hall's
    rejoin rule, default the rule without keys)."""
    if action not in ACTIONS:
        raise NotFound(f"没有这个操作 / No action '{action}'")
    t = _act(tx, ticket_row(tx, ticket_id), action, actor, rejoin=rejoin)[0]
    return out(tx.conn, t, tx.now)


def _act(
    tx: HallTx,
    t: TicketRow,
    action: str,
    actor: Principal,
    window: WindowRow | None = None,
    rejoin: RejoinRule | None = None,
) -> tuple[TicketRow, WindowRow | None]:
    """The action on `t` (`window`: its window's row when the caller has it); the ticket and window after."""
    allowed, after, event = ACTIONS[action]
    if actor.role == "kiosk" and not (action == "cancel" and t.status == WAITING):
        raise Forbidden("自助终端只能取消等候中的票 / A kiosk may only cancel a waiting ticket")
    if actor.role != "kiosk" and action != "rejoin":  # a missed ticket rejoins at the general desk, any clerk
        check_clerk_window(actor, t.window)
        if t.window is not None and (t.status in AT_WINDOW or action == "resume"):  # at the window now
            window = window if window is not None and window.number == t.window else window_row(tx, t.window)
            check_holder(tx.conn, actor, window)
    if t.status not in allowed:
        raise Conflict(f"{t.number} 当前为 {t.status}，不能{action} / Cannot {action} a ticket that is {t.status}")
    now = tx.now
    changes: dict[str, Any] = {"status": after}
    if action == "resume":
        assert t.window is not None
        window = window_row(tx, t.window)
        _ready(tx, window)
        window = hall_store.update_window(tx.conn, window, current_ticket_id=t.id)
        changes["called_at"] = now
    elif action == "recall":
        changes["recalls"], changes["called_at"] = t.recalls + 1, now
    elif action == "start":
        changes["serving_at"] = now
    elif action == "rejoin":
        if t.service_day != service_day(now, tx.tz):
            raise Conflict("过号票只能当天重新排队 / A missed ticket can only rejoin on the same day")
        rule = rejoin or RejoinRule()
        refusal = rule.refusal(lane=t.lane, rejoins=t.rejoins, missed_at=t.finished_at, now=now, lang=t.lang)
        if refusal is not None:
            raise Conflict(refusal)
        window = _release_window(tx, t, window)
        arrival = rule.arrival(now, _waiting_arrivals(tx, t.queue, rule.place + 1) if rule.place else [])
        changes |= {"arrived_at": arrival, "window": None, "called_at": None, "rejoins": t.rejoins + 1}
    if after in (DONE, NO_SHOW, CANCELLED, HELD):
        if t.status in AT_WINDOW:
            window = _release_window(tx, t, window)
        if after != HELD:
            changes["finished_at"] = now
    if action == "complete":
        if actor.kind == "user":
            changes["clerk"] = actor.name
        began = t.serving_at or t.called_at
        if began is not None:
            _record_service_time(tx, t.queue, (now - began).total_seconds())
    moved = {t.queue: (after == WAITING) - (t.status == WAITING)}  # cancel of a waiting ticket, rejoin
    t = store.update_ticket(tx.conn, t, **changes)
    emit_ticket(tx, event, t, moved=moved)
    if action == "recall":
        notices.called(tx, t, recall=True)
    elif action == "no-show":
        notices.no_show(tx, t)
    return t, window


def _waiting_arrivals(tx: HallTx, queue: str, limit: int) -> list:
    """Arrival times of the first `limit` tickets waiting in `queue` (not sent to a window), oldest first."""
    rows = store.select_tickets(
        tx.conn,
        col(Ticket.hall_code) == tx.hall,
        col(Ticket.status) == WAITING,
        col(Ticket.queue) == queue,
        col(Ticket.target_window).is_(None),
        order=[col(Ticket.arrived_at), col(Ticket.id)],
        limit=limit,
    )
    return [r.arrived_at for r in rows]


def _record_service_time(tx: HallTx, queue: str, seconds: float) -> None:
    """Fold a service time into the queue's moving average (and the hall's load memo)."""
    memo = tx.cache.get("load")
    known = memo.avg.get(queue) if isinstance(memo, HallLoad) else None
    # The memo holds the row's value (this change keeps it so); another process's update of the last memo
    # lifetime may be overwritten, which an exponential average hardly notices.
    avg = known if known is not None else hall_store.queue_avg(tx.conn, tx.hall, queue)
    new = updated_average(avg, seconds)
    hall_store.set_queue_avg(tx.conn, tx.hall, queue, new)
    if isinstance(memo, HallLoad):  # estimates from here on use the new average
        memo.avg[queue] = new


def transfer(tx: HallTx, *, ticket_id: int, queue: str | None, window: int | None, actor: Principal) -> TicketOut:
    """Send a ticket to another queue or window; it keeps its original arrival time (its place)."""
    if (queue is None) == (window is None):
        raise Invalid("请指定转往的队列或窗口之一 / Give exactly one of queue or window")
    t = ticket_row(tx, ticket_id)
    check_clerk_window(actor, t.window)
    if t.window is not None and t.status in AT_WINDOW:
        check_holder(tx.conn, actor, window_row(tx, t.window))
    if t.status not in (WAITING, CALLED, SERVING, HELD):
        raise Conflict(f"{t.number} 已结束，不能转移 / Cannot transfer a ticket that is {t.status}")
    from_queue, from_window, was_waiting = t.queue, t.window, t.status == WAITING
    changes: dict[str, Any] = {"status": WAITING, "window": window, "called_at": None, "serving_at": None}
    if queue is not None:
        if queue not in load(tx).avg:  # the memo knows every queue of the hall
            raise NotFound(f"没有这个业务队列 / No queue '{queue}' in this hall")
        changes |= {"queue": queue, "target_window": None}
    else:
        assert window is not None
        window_row(tx, window)  # it exists (row-locked on PostgreSQL)
        changes["target_window"] = window
    if t.status in AT_WINDOW or t.status == HELD:
        _release_window(tx, t)
    t = store.update_ticket(tx.conn, t, **changes)
    moved = {t.queue: 1}
    if was_waiting:
        moved[from_queue] = moved.get(from_queue, 0) - 1
    emit_ticket(
        tx, "ticket.transferred", t, [from_queue, t.queue], moved=moved, from_queue=from_queue, from_window=from_window
    )
    return out(tx.conn, t, tx.now)


def expire_before(tx: HallTx, day: date) -> int:
    """Close every ticket left open from service days before `day` as expired; returns how many."""
    rows = store.open_before(tx.conn, tx.hall, day)
    if not rows:
        return 0
    hall_store.release_windows(tx.conn, tx.hall)
    expired = [store.update_ticket(tx.conn, t, status=EXPIRED, finished_at=tx.now) for t in rows]
    for t in expired:
        tx.emit("ticket.expired", brief(t))
    tx.emit("queue.stats", {"queues": stats(tx, sorted({t.queue for t in expired}))})
    return len(expired)
