"""秒批秒办 (smart approval): a submission that meets every rule of its item is accepted, reviewed, approved and
made ready at once, in the submission's own transaction, by the actor 智能审批; otherwise the rules' outcome is
kept with the case for the clerk, who accepts it the ordinary way (a rule never refuses anything by itself).

The history shows each step with actor ``智能审批`` and a note naming the rules and the item version; the
decision documents (受理凭证, 准予行政许可决定书) and the certificate of a licence item are issued as a clerk's and
an approver's would be, and the citizen is told through the notification outbox (`output.ready`).
"""

from __future__ import annotations

from typing import Any

import orjson

from ..services.auth import Principal
from ..services.tx import HallTx
from . import states
from .models import Case
from .outcomes import Outcome, apply, plain_move
from .output import ready
from .rules import SmartCheck

SMART = Principal("system", "智能审批", "admin", None)
WINDOW = "智能审批（无人工干预） / Smart approval"


def settle(tx: HallTx, c: Case, check: SmartCheck) -> bool:
    """Keep the rules' outcome with the new case; when every rule passed, take it to `result_ready` now."""
    c.smart_result = orjson.dumps(check.as_json()).decode()
    tx.session.add(c)
    if not check.passed or c.status != states.SUBMITTED:  # a web case is pre-reviewed by a clerk first
        return False
    note = f"智能审批：{len(check.results)} 条规则全部通过（事项第 {check.version} 版） / all rules passed"
    to_output(tx, c, who=SMART, note=note, window=WINDOW)
    return True


def to_output(tx: HallTx, c: Case, *, who: Principal, note: str, window: str) -> None:
    """Accept, review, approve and make the case ready at once, as `who` (a server actor): the documents, the
    certificate of a licence item, the citizen's message with a pickup code (秒批秒办, a 网上预审 output item)."""
    cal, tz = tx.hall_calendar, tx.tz
    apply(tx, number=c.number, o=Outcome(action="accept", note=note, window=window), who=who, cal=cal, tz=tz)
    plain_move(tx, number=c.number, action="review", who=who, note=note)
    apply(tx, number=c.number, o=Outcome(action="approve", note=note, window=window), who=who, cal=cal, tz=tz)
    ready(tx, number=c.number, who=who, cipher=tx.pii)  # the citizen's message, with a pickup code


def shown(c: Case) -> dict[str, Any] | None:
    """The rules' outcome kept with the case (None: the item had no rules when it was submitted)."""
    return orjson.loads(c.smart_result) if c.smart_result else None


def failed_labels(c: Case) -> list[str]:
    """The labels of the rules that failed (for the clerk's list)."""
    got = shown(c)
    if got is None:
        return []
    return [r["label"] for r in got["results"] if not r["passed"]]
