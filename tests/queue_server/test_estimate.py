"""Estimated waiting time."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from queue_server.estimate import MAX_SERVICE_S, MIN_SERVICE_S, capacity, estimated_wait_s, updated_average


def test_capacity_shares_a_window_between_its_queues() -> None:
    windows = [(("A", "B"), True), (("A",), True), (("A", "B", "C"), False)]
    assert capacity("A", windows) == 1.5
    assert capacity("B", windows) == 0.5
    assert capacity("C", windows) == 0.0


def test_estimate_scales_with_people_and_windows() -> None:
    assert estimated_wait_s(0, 300, 2, 2) == 0
    assert estimated_wait_s(4, 300, 2, 2) == 600
    assert estimated_wait_s(3, 100, 1.5, 2) == 200
    # nobody open yet: as if one window will open
    assert estimated_wait_s(2, 300, 0, 3) == 600


def test_average_moves_toward_observations_and_ignores_outliers() -> None:
    avg = 300.0
    for _ in range(50):
        avg = updated_average(avg, 120)
    assert 119 < avg < 125
    assert updated_average(100, 1) == updated_average(100, MIN_SERVICE_S)
    assert updated_average(100, 10**6) == updated_average(100, MAX_SERVICE_S)


@given(st.integers(0, 500), st.floats(1, 3600), st.floats(0, 20), st.integers(0, 20))
def test_estimate_is_monotonic_in_people_ahead(ahead: int, avg: float, cap: float, configured: int) -> None:
    assert estimated_wait_s(ahead, avg, cap, configured) <= estimated_wait_s(ahead + 1, avg, cap, configured)
    assert estimated_wait_s(ahead, avg, cap, configured) >= 0
