"""The rejoin rule (queue_server/rejoin.py): pure, from the `rejoin_*` keys of `[[halls]]`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.config import HallConfig, QueueConfig
from queue_server.rejoin import RejoinRule
from queue_server.schemas.track import REJOIN_RULE

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def hall(**keys: object) -> HallConfig:
    queue = QueueConfig(code="A", name="市场准入", name_en="Market access")
    return HallConfig.model_validate({"code": "h", "name": "厅", "queues": [queue], **keys})


def test_without_keys_the_rule_is_the_old_one_today_at_the_back_anyone_any_number_of_times() -> None:
    rule = RejoinRule.of(hall())
    assert rule == RejoinRule() and rule.sentence() == REJOIN_RULE
    assert rule.refusal(lane="vip", rejoins=50, missed_at=NOW - timedelta(hours=8), now=NOW) is None
    assert rule.arrival(NOW, [NOW - timedelta(minutes=m) for m in (30, 20, 10)]) == NOW


def test_keys_decide_who_how_often_until_when_and_where() -> None:
    rule = RejoinRule.of(hall(rejoin_lanes=["normal", "special"], rejoin_times=1, rejoin_within_min=30, rejoin_place=2))
    ok = {"rejoins": 0, "missed_at": NOW - timedelta(minutes=10), "now": NOW}
    assert rule.refusal(lane="normal", **ok) is None
    assert "不能重新排队" in (rule.refusal(lane="vip", **ok) or "")
    assert "上限 1 次" in (rule.refusal(lane="normal", rejoins=1, missed_at=NOW, now=NOW) or "")
    late = rule.refusal(lane="special", rejoins=0, missed_at=NOW - timedelta(minutes=31), now=NOW)
    assert late is not None and "30 分钟" in late and " / " in late
    waiting = [NOW - timedelta(minutes=m) for m in (30, 20, 10)]
    assert rule.arrival(NOW, waiting) == waiting[1] + timedelta(microseconds=1)  # behind the first two
    assert rule.arrival(NOW, waiting[:2]) == NOW  # two or fewer waiting: the back
    text = rule.sentence()
    assert "30 分钟内" in text and "顺延 2 位" in text and "最多 1 次" in text and "限普通、老弱病残优先票" in text
    assert "within 30 min" in text and "2 places from the front" in text and "at most 1 time a ticket" in text


def test_an_empty_lane_list_lets_nobody_rejoin_and_says_so() -> None:
    rule = RejoinRule.of(hall(rejoin_lanes=[]))
    assert rule.nobody and "不能重新排队" in rule.sentence()
    assert rule.refusal(lane="normal", rejoins=0, missed_at=NOW, now=NOW) is not None


def test_an_unknown_lane_is_a_config_error_naming_the_lanes() -> None:
    with pytest.raises(ValueError, match=r"unknown lane 'elderly'.*military"):
        hall(rejoin_lanes=["normal", "elderly"])


@given(st.integers(0, 6), st.lists(st.integers(1, 600), max_size=8, unique=True))
def test_the_arrival_is_behind_min_place_waiting_and_never_later_than_now(place: int, ago: list[int]) -> None:
    waiting = sorted(NOW - timedelta(seconds=s) for s in ago)
    at = RejoinRule(place=place).arrival(NOW, waiting)
    assert at <= NOW
    ahead = sum(1 for w in waiting if w < at)
    assert ahead == (len(waiting) if place == 0 or len(waiting) <= place else place)
