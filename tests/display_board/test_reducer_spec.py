"""One board-reducer specification for both boards: tests/fixtures/board/*.json against the Kivy board's reducer
(display_board/state.py) and the web board's (queue_server/web/board/reducer.js, run by node).

A fixture is a snapshot, then steps — an event to apply (`"resync": true` when the board must resync instead:
a gap, or a call leaving the list that the reducer cannot replace) or the fresh snapshot a resync brought —
each with an optional partial `expect` of the board state after it, and the `expect`ed state at the end.
Every snapshot and event of the fixtures is also checked against the shared schemas, so they stay realistic.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from display_board.state import Gap, apply, from_snapshot, snapshot_view
from queue_server.schemas import BoardState, Envelope, event_data

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "board").glob("*.json"))
RUNNER = ROOT / "tests" / "web" / "reducer_runner.mjs"
NODE = shutil.which("node")

Trace = list[dict[str, Any]]


def load(path: Path) -> dict[str, Any]:
    """A fixture."""
    fx: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return fx


def python_trace(fx: dict[str, Any]) -> Trace:
    """What each step leaves in the Kivy board's reducer."""
    state = from_snapshot(fx["snapshot"]["seq"], fx["snapshot"]["data"])
    trace = []
    for step in fx["steps"]:
        resync = False
        if "snapshot" in step:
            state = from_snapshot(step["snapshot"]["seq"], step["snapshot"]["data"])
        else:
            try:
                state = apply(state, step["event"])
            except Gap:
                resync = True
        trace.append({"resync": resync, "view": snapshot_view(state)})
    return trace


def js_traces() -> dict[str, Trace]:
    """What each step leaves in the web board's reducer, per fixture path (one node process for all)."""
    assert NODE is not None, "node is required (Debian package nodejs)"
    proc = subprocess.run(
        [NODE, str(RUNNER), *map(str, FIXTURES)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    traces: dict[str, Trace] = json.loads(proc.stdout)
    return traces


def check(fx: dict[str, Any], trace: Trace) -> None:
    """The trace meets every expectation of the fixture."""
    assert len(trace) == len(fx["steps"])
    for i, (step, got) in enumerate(zip(fx["steps"], trace, strict=True)):
        assert got["resync"] == step.get("resync", False), f"step {i}: resync"
        for key, want in step.get("expect", {}).items():
            assert got["view"][key] == want, f"step {i}: {key}"
    assert trace[-1]["view"] == fx["expect"], "the final board state"


def test_there_is_a_specification() -> None:
    assert len(FIXTURES) >= 5
    events = {s["event"]["type"] for path in FIXTURES for s in load(path)["steps"] if "event" in s}
    for kind in ("ticket.transferred", "ticket.rejoined", "ticket.recalled", "ticket.no_show", "ticket.expired"):
        assert kind in events
    assert any(s.get("resync") for path in FIXTURES for s in load(path)["steps"])


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_is_realistic(path: Path) -> None:
    fx = load(path)
    snapshots = [fx["snapshot"]] + [s["snapshot"] for s in fx["steps"] if "snapshot" in s]
    for snap in snapshots:
        assert BoardState.model_validate(snap["data"]).wire() == snap["data"]
    assert BoardState.model_validate(fx["expect"]).wire() == fx["expect"]
    for step in fx["steps"]:
        if "event" in step:
            data = event_data(Envelope.model_validate(step["event"]))
            assert data is not None and data.wire() == step["event"]["data"]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_kivy_board_reducer(path: Path) -> None:
    fx = load(path)
    check(fx, python_trace(fx))


@pytest.fixture(scope="module")
def web_traces() -> dict[str, Trace]:
    """The web reducer's traces of every fixture."""
    return js_traces()


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_web_board_reducer(path: Path, web_traces: dict[str, Trace]) -> None:
    check(load(path), web_traces[str(path)])
