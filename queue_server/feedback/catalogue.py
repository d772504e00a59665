"""Fixed catalogues of the feedback package: evaluation levels, reason codes, complaint categories (zh / en)."""

from __future__ import annotations

from typing import Final

# 好差评 levels as the national evaluation system names them; 1 and 2 are bad reviews (差评).
LEVELS: Final[dict[int, tuple[str, str]]] = {
    5: ("非常满意", "Very satisfied"),
    4: ("满意", "Satisfied"),
    3: ("基本满意", "Fairly satisfied"),
    2: ("不满意", "Dissatisfied"),
    1: ("非常不满意", "Very dissatisfied"),
}
BAD_LEVELS: Final = frozenset({1, 2})
SATISFIED_LEVELS: Final = frozenset({4, 5})

# Optional reasons a citizen may tick; a bad review's reasons are what the follow-up verifies.
REASONS: Final[dict[str, tuple[str, str]]] = {
    "fast": ("办事快捷", "Quick service"),
    "friendly": ("态度热情", "Friendly staff"),
    "clear": ("解释清楚", "Clear explanations"),
    "once": ("一次办成", "Done in one visit"),
    "slow": ("等候时间长", "Long wait"),
    "attitude": ("服务态度差", "Poor attitude"),
    "unclear": ("告知不清楚", "Unclear information"),
    "repeat": ("多次跑腿", "Had to come back"),
    "materials": ("材料要求多", "Too many documents required"),
    "system": ("系统故障", "System failure"),
}

CHANNELS: Final = ("pad", "evaluator", "web")

COMPLAINT_CATEGORIES: Final[dict[str, tuple[str, str]]] = {
    "service": ("服务态度", "Service attitude"),
    "efficiency": ("办事效率", "Efficiency"),
    "process": ("流程材料", "Procedures and documents"),
    "facility": ("设施环境", "Facilities"),
    "integrity": ("廉政作风", "Integrity"),
    "suggestion": ("意见建议", "Suggestion"),
    "other": ("其他", "Other"),
}

FOLLOWUP_STEPS: Final[dict[str, tuple[str, str]]] = {
    "opened": ("待核实", "Opened"),
    "verified": ("已核实", "Verified"),
    "rectified": ("已整改", "Rectified"),
    "replied": ("已反馈", "Replied"),
    "closed": ("已办结", "Closed"),
}

COMPLAINT_STATES: Final[dict[str, tuple[str, str]]] = {
    "submitted": ("已提交", "Submitted"),
    "assigned": ("处理中", "Assigned"),
    "answered": ("已答复", "Answered"),
    "closed": ("已办结", "Closed"),
}


def catalogue() -> dict[str, object]:
    """Every catalogue as JSON for the pages (levels high to low)."""

    def pairs(d: dict[str, tuple[str, str]] | dict[int, tuple[str, str]]) -> list[dict[str, object]]:
        return [{"code": k, "zh": zh, "en": en} for k, (zh, en) in d.items()]

    return {
        "levels": pairs(LEVELS),
        "reasons": pairs(REASONS),
        "complaint_categories": pairs(COMPLAINT_CATEGORIES),
        "followup_states": pairs(FOLLOWUP_STEPS),
        "complaint_states": pairs(COMPLAINT_STATES),
    }
