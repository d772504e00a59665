"""The case state machine (pure): states, actions, and which roles may take each action from which state.

    submitted ──accept──────────────▶ accepted ──review──▶ in_review ──approve──▶ approved ─┐
        │ ├─accept_shortfall──▶ accepted_pending_supplement ──supplement──▶ accepted       │
        │ ├─accept_commitment─▶ accepted_on_commitment ──review──▶ in_review ──refuse──▶ refused
        │ ├─notify_missing────▶ needs_more ──resubmit──▶ submitted                         │
        │ └─reject────────────▶ rejected (不予受理, final)                                  ▼
    approved | refused ──ready──▶ result_ready ──deliver──▶ delivered (window or pickup code)
                                      └──mail──▶ mailed ──sign──▶ delivered (EMS signed receipt)
    withdraw: from submitted, needs_more, accepted*, in_review, prereview* → withdrawn (final)

网上预审 (a web case starts here; the window then accepts a passed one with the card):

    prereview ──prereview_pass───▶ prereview_passed ──accept / accept_* / notify_missing / reject──▶ …
        │  ▲                            (an item with `prereview_output`: accepted … result_ready at once)
        │  └──prereview_resubmit── prereview_returned (the one-time notice of everything to fix)
        └─prereview_return──────────────▲

Roles: ``kiosk`` (a kiosk device or the citizen), ``clerk`` (front desk), ``approver`` (back office);
``admin`` may do everything. Anything else is an illegal transition (HTTP 409) or a forbidden role (403).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

SUBMITTED: Final = "submitted"
ACCEPTED: Final = "accepted"
PENDING_SUPPLEMENT: Final = "accepted_pending_supplement"
ON_COMMITMENT: Final = "accepted_on_commitment"
NEEDS_MORE: Final = "needs_more"
REJECTED: Final = "rejected"
IN_REVIEW: Final = "in_review"
APPROVED: Final = "approved"
REFUSED: Final = "refused"
RESULT_READY: Final = "result_ready"
MAILED: Final = "mailed"
DELIVERED: Final = "delivered"
WITHDRAWN: Final = "withdrawn"
PREREVIEW: Final = "prereview"
PREREVIEW_PASSED: Final = "prereview_passed"
PREREVIEW_RETURNED: Final = "prereview_returned"

STATES: Final = (
    SUBMITTED,
    ACCEPTED,
    PENDING_SUPPLEMENT,
    ON_COMMITMENT,
    NEEDS_MORE,
    REJECTED,
    IN_REVIEW,
    APPROVED,
    REFUSED,
    RESULT_READY,
    MAILED,
    DELIVERED,
    WITHDRAWN,
    PREREVIEW,
    PREREVIEW_PASSED,
    PREREVIEW_RETURNED,
)
FINAL: Final = frozenset({REJECTED, DELIVERED, WITHDRAWN})
ACCEPTED_STATES: Final = frozenset({ACCEPTED, PENDING_SUPPLEMENT, ON_COMMITMENT})
# States in which the promised time limit runs (the back office's worklist and the traffic light).
RUNNING: Final = frozenset({ACCEPTED, PENDING_SUPPLEMENT, ON_COMMITMENT, IN_REVIEW})
# 网上预审: the states of a web submission before the applicant comes to the window.
PREREVIEW_STATES: Final = frozenset({PREREVIEW, PREREVIEW_PASSED, PREREVIEW_RETURNED})
# Where the window takes a case in: a submission at the hall, or a web case whose pre-review passed.
AT_WINDOW: Final = {SUBMITTED, PREREVIEW_PASSED}

ROLES: Final = ("kiosk", "clerk", "approver", "admin")

# Chinese and English labels of each state, for timelines and documents.
LABELS: Final = {
    SUBMITTED: ("已提交，待受理", "Submitted, awaiting acceptance"),
    ACCEPTED: ("已受理", "Accepted"),
    PENDING_SUPPLEMENT: ("容缺受理，待补齐材料", "Accepted, materials to follow"),
    ON_COMMITMENT: ("告知承诺受理", "Accepted on commitment"),
    NEEDS_MORE: ("需补正材料（已一次性告知）", "Materials to supplement (one-time notice)"),
    REJECTED: ("不予受理", "Not accepted"),
    IN_REVIEW: ("审查中", "Under review"),
    APPROVED: ("准予许可", "Approved"),
    REFUSED: ("不予许可", "Refused"),
    RESULT_READY: ("办理结果待领取", "Result ready for collection"),
    MAILED: ("已邮寄", "Mailed"),
    DELIVERED: ("已办结送达", "Delivered"),
    WITHDRAWN: ("已撤回", "Withdrawn"),
    PREREVIEW: ("网上预审中", "Online pre-review"),
    PREREVIEW_PASSED: ("网上预审通过", "Pre-review passed"),
    PREREVIEW_RETURNED: ("预审退回，请按告知修改后重新提交", "Returned: fix as the notice says and resubmit"),
}


@dataclass(frozen=True, slots=True)
class Transition:
    """An action allowed from some states, to one state, for some roles."""

    action: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]


def _t(action: str, sources: set[str], target: str, *roles: str) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset({*roles, "admin"}))


TRANSITIONS: Final = (
    _t("accept", AT_WINDOW, ACCEPTED, "clerk"),
    _t("accept_shortfall", AT_WINDOW, PENDING_SUPPLEMENT, "clerk"),
    _t("accept_commitment", AT_WINDOW, ON_COMMITMENT, "clerk"),
    _t("notify_missing", AT_WINDOW, NEEDS_MORE, "clerk"),
    _t("reject", AT_WINDOW, REJECTED, "clerk"),
    _t("resubmit", {NEEDS_MORE}, SUBMITTED, "clerk", "kiosk"),
    _t("supplement", {PENDING_SUPPLEMENT}, ACCEPTED, "clerk"),
    _t("review", {ACCEPTED, ON_COMMITMENT}, IN_REVIEW, "approver"),
    _t("approve", {IN_REVIEW}, APPROVED, "approver"),
    _t("refuse", {IN_REVIEW}, REFUSED, "approver"),
    _t("ready", {APPROVED, REFUSED}, RESULT_READY, "approver", "clerk"),
    _t("deliver", {RESULT_READY}, DELIVERED, "clerk", "kiosk"),
    _t("mail", {RESULT_READY}, MAILED, "clerk"),
    _t("sign", {MAILED}, DELIVERED, "clerk"),
    _t(
        "withdraw",
        {SUBMITTED, NEEDS_MORE, ACCEPTED, PENDING_SUPPLEMENT, ON_COMMITMENT, IN_REVIEW, *PREREVIEW_STATES},
        WITHDRAWN,
        "clerk",
    ),
    _t("prereview_pass", {PREREVIEW}, PREREVIEW_PASSED, "clerk"),
    _t("prereview_return", {PREREVIEW}, PREREVIEW_RETURNED, "clerk"),
    _t("prereview_resubmit", {PREREVIEW_RETURNED}, PREREVIEW, "kiosk", "clerk"),
)
ACTIONS: Final = tuple(t.action for t in TRANSITIONS)
_BY_ACTION: Final = {t.action: t for t in TRANSITIONS}


class IllegalTransition(Exception):
    """The action is not possible from the current state (HTTP 409)."""


class RoleNotAllowed(Exception):
    """The role may never take this action (HTTP 403)."""


def next_state(status: str, action: str, role: str) -> str:
    """The state after `action` from `status` by `role`; RoleNotAllowed or IllegalTransition otherwise."""
    t = _BY_ACTION.get(action)
    if t is None:
        raise IllegalTransition(f"unknown action '{action}'")
    if role not in t.roles:
        raise RoleNotAllowed(f"role '{role}' may not {action}")
    if status not in t.sources:
        raise IllegalTransition(f"cannot {action} a case that is {status}")
    return t.target


def allowed_actions(status: str, role: str) -> list[str]:
    """The actions `role` may take on a case in `status`, in the table's order (for the console's buttons)."""
    return [t.action for t in TRANSITIONS if status in t.sources and role in t.roles]


def label(status: str) -> str:
    """'中文 / English' label of a state."""
    zh, en = LABELS[status]
    return f"{zh} / {en}"
