"""The general desk's devices: 读卡 and 打印 requests relayed between the desk page and its desk agent.

The page and the agent never talk directly: both talk to the server, and the hall event stream carries the
requests and answers (`desk.read`, `desk.card_read`, `desk.print`, `desk.printed`), so any server process
serves either side. The stream is public, so a card's data never goes into it: the agent's read is held
encrypted in `desk_card` until the page fetches it once (an authorized, audited fetch), and read rows older
than `CARD_TTL` are deleted whenever another card comes.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session, col

from ..errors import NotFound
from ..models import AuditLog, DeskCard, DeviceStatus
from .tx import HallTx

CARD_TTL = timedelta(minutes=2)  # a card read waits this long for the page's fetch
AGENT_SILENCE = timedelta(minutes=3)  # an agent reports every minute: silent longer, it is offline
_CONTEXT = "desk_card"


def _token() -> str:
    return secrets.token_urlsafe(12)


def ask_read(tx: HallTx, *, device: str) -> str:
    """Ask the desk agent `device` to read the card on its reader; the request's id."""
    request = _token()
    tx.emit("desk.read", {"device": device, "request": request})
    return request


def card_read(
    tx: HallTx, *, device: str, request: str, card: dict[str, Any] | None, kind: str | None, error: str | None
) -> int | None:
    """The agent's answer to `request`: the card (kept encrypted for the page's fetch) or why there is none."""
    tx.session.execute(delete(DeskCard).where(col(DeskCard.hall_code) == tx.hall, col(DeskCard.at) < tx.now - CARD_TTL))
    read: int | None = None
    if card is not None:
        sealed = tx.pii.encrypt(json.dumps({"kind": kind, **card}, ensure_ascii=False), context=_CONTEXT)
        row = DeskCard(hall_code=tx.hall, device=device, request=request, at=tx.now, data_enc=sealed)
        tx.session.add(row)
        tx.session.flush()
        read = row.id
    tx.emit(
        "desk.card_read",
        {"device": device, "request": request, "read": read, "kind": kind if read else None, "error": error},
    )
    return read


def take_card(tx: HallTx, *, card_id: int, actor: str) -> dict[str, Any]:
    """The card of a read, once (the row is deleted and the look written to the audit log); NotFound after that
    or after `CARD_TTL`."""
    row = tx.session.get(DeskCard, card_id)
    if row is None or row.hall_code != tx.hall or row.at < tx.now - CARD_TTL:
        raise NotFound("读卡结果已取走或已过期，请重新读卡 / This card read is gone or expired: read the card again")
    data = dict(json.loads(tx.pii.decrypt(row.data_enc, context=_CONTEXT)))
    device = row.device
    tx.session.delete(row)
    tx.session.add(AuditLog(at=tx.now, actor=actor, action="desk_card", hall_code=tx.hall, subject=f"desk:{device}"))
    return {"device": device, **data}


def ask_print(tx: HallTx, *, device: str, ticket_id: int) -> str:
    """Ask the desk agent `device` to print ticket `ticket_id`; the job's id."""
    job = _token()
    tx.emit("desk.print", {"device": device, "job": job, "ticket": ticket_id})
    return job


def printed(tx: HallTx, *, device: str, job: str, number: str, ok: bool, detail: str) -> None:
    """The agent's answer to a print job."""
    status = "printed" if ok else "failed"
    tx.emit("desk.printed", {"device": device, "job": job, "number": number, "status": status, "detail": detail})


@dataclass(frozen=True, slots=True)
class AgentState:
    """A desk agent as the desk page sees it: its last health report and whether it is connected now."""

    name: str
    online: bool
    status: str
    detail: str
    at: datetime | None


def agent_states(s: Session, names: list[str], now: datetime) -> list[AgentState]:
    """The state of each named desk agent (configured order): online when its last report is recent and not
    `offline` (an agent says so when it stops)."""
    rows = {d.name: d for d in s.execute(select(DeviceStatus).where(col(DeviceStatus.name).in_(names))).scalars()}
    out = []
    for name in names:
        d = rows.get(name)
        seen = d is not None and d.at is not None and now - d.at <= AGENT_SILENCE
        status = d.status if d is not None else "unknown"
        out.append(
            AgentState(
                name=name,
                online=bool(seen) and status != "offline",
                status=status,
                detail=d.detail if d is not None else "",
                at=d.at if d is not None else None,
            )
        )
    return out
