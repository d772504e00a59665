"""The benchmark suite with tiny parameters, so that it cannot rot: each benchmark runs and its checks pass."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import CI, require_backend

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "bench" / "run.py"


def bench(tmp: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run bench/run.py with results written to tmp; asserts it succeeded (every check ok)."""
    env = os.environ | {"HALL_BENCH_RESULTS": str(tmp)}
    out = subprocess.run(
        [sys.executable, str(RUN), *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
    )
    assert out.returncode == 0, f"{out.stdout}\n{out.stderr[-3000:]}"
    return out


def result(tmp: Path, name: str) -> dict[str, Any]:
    """A result file the run wrote."""
    return dict(json.loads((tmp / f"{name}.json").read_text()))


QUICK = ("--seconds", "1", "--warmup", "0", "--wait-quiet", "0")


@pytest.mark.parametrize(("db", "workers"), [("sqlite", 1), ("postgresql", 1), ("postgresql", 2)])
def test_issue(tmp_path: Path, db: str, workers: int) -> None:
    """Issuance at 4 kiosks: tickets numbered 1..n, RSS idle and under load recorded; two processes on PostgreSQL;
    the reference endpoint beside it on the same database, and the ratio."""
    require_backend(db)
    driver = "wrk" if (CI or _has("wrk")) else "asyncio"
    bench(tmp_path, "issue", "--db", db, "--clients", "4", "--workers", str(workers), "--driver", driver, *QUICK)
    lv = result(tmp_path, f"issue-{db}" + ("-w2" if workers == 2 else ""))["levels"][0]
    assert lv["check"]["ok"] and lv["ok"] > 0 and lv["workers"] == workers
    assert 20_000 < lv["rss_kib"]["idle"] <= lv["rss_kib"]["load_max"]
    # the reference endpoint ran beside it (bench/reference.py, one process on the same database), its tickets checked
    ref = lv["reference"]
    assert ref["check"]["ok"] and ref["check"]["tickets"] > 0 and lv["ratio"] > 0
    # the writer's batches of the measured second, from the server's /metrics (every process's)
    writer = lv["writer"]
    assert 0 < writer["batches"] <= lv["ok"] and 1 <= writer["mean_changes"] <= 4 and writer["mean_ms"] > 0


def test_call_next_twenty_windows(tmp_path: Path) -> None:
    """20 windows calling at once on a generated hall: nobody called twice, every call at its window."""
    bench(tmp_path, "call-next", "--db", "sqlite", "--windows", "20", "--backlog", "600", *QUICK)
    lv = result(tmp_path, "call-next-sqlite")["levels"][0]
    assert lv["windows"] == 20 and lv["check"]["ok"] and lv["check"]["duplicates"] == 0
    assert len(lv["per_window_calls"]) == 20 and all(n > 0 for n in lv["per_window_calls"].values())


@pytest.mark.parametrize(("db", "workers"), [("sqlite", 1), ("postgresql", 2)])
def test_subscribers(tmp_path: Path, db: str, workers: int) -> None:
    """A few boards get every call once, in order; latency and memory per subscriber recorded; with two
    processes on PostgreSQL the boards are spread over both, and the events cross through pg_notify."""
    require_backend(db)
    args = ("--subscribers", "20", "--calls", "3", "--interval", "0.05", "--client-procs", "1", "--settle", "0.2")
    bench(tmp_path, "subscribers", "--db", db, "--workers", str(workers), *args, "--wait-quiet", "0")
    lv = result(tmp_path, f"subscribers-{db}" + ("-w2" if workers == 2 else ""))["levels"][0]
    assert lv["check"]["ok"] and lv["samples"] == 60 and lv["workers"] == workers
    assert len(lv["boards_per_process"]) >= workers and lv["server_cpu_us_per_frame"] > 0
    assert lv["client_cpu_us_per_frame"] > 0 and lv["client_loop_lag_ms"]["max"] >= 0


def test_subscribers_with_compression(tmp_path: Path) -> None:
    """Boards that negotiate permessage-deflate (the `websockets` library's client, as browsers do) get every
    call once, in order, as the lean boards do."""
    args = ("--subscribers", "10", "--calls", "3", "--interval", "0.05", "--client-procs", "1", "--settle", "0.2")
    bench(tmp_path, "subscribers", "--db", "sqlite", "--deflate", *args, "--wait-quiet", "0")
    lv = result(tmp_path, "subscribers-sqlite")["levels"][0]
    assert lv["check"]["ok"] and lv["samples"] == 30


@pytest.mark.parametrize(("db", "workers", "f9"), [("sqlite", 1, True), ("postgresql", 2, False)])
def test_city(tmp_path: Path, db: str, workers: int, f9: bool) -> None:
    """A tiny city's day: every citizen served once, no error, boards gap-free, queue lag measured."""
    require_backend(db)
    args = ("--halls", "3", "--tickets", "120", "--windows-per-hall", "4", "--workers", str(workers))
    args += ("--f9",) if f9 else ("--no-f9",)  # windows end with complete-and-call-next, or complete then call
    bench(tmp_path, "city", "--db", db, *args, "--wait-quiet", "0")
    lv = result(tmp_path, f"city-{db}" + ("-w2" if workers == 2 else ""))["levels"][0]
    assert lv["check"]["ok"] and lv["errors"] == 0 and lv["check"]["tickets"] == 120
    assert lv["appointments"] > 0 and {"military", "special", "vip"} & set(lv["lanes"])
    assert lv["queue_lag_samples"] == 3 * 120 and lv["queue_lag_ms"]["max"] < 5_000


def test_report_renders_the_results(tmp_path: Path) -> None:
    """`report` turns result files into the README tables."""
    args = ("--halls", "2", "--tickets", "40", "--windows-per-hall", "4", "--no-boards", "--wait-quiet", "0")
    bench(tmp_path, "city", "--db", "sqlite", *args)
    out = bench(tmp_path, "report").stdout
    assert "**city · sqlite**" in out and "| 2 | 40 |" in out


def _has(tool: str) -> bool:
    import shutil

    return shutil.which(tool) is not None


def _roundtrips(tmp_path: Path, *, batch: int, procs: int = 2) -> Any:
    """bench/roundtrips.py's result for 6 rounds of `batch` issues at `procs` processes in turn (PostgreSQL)."""
    require_backend("postgresql")
    out = tmp_path / "rt.json"
    script = ROOT / "bench" / "roundtrips.py"
    run = subprocess.run(
        [
            sys.executable,
            str(script),
            "--rounds",
            "6",
            "--batch",
            str(batch),
            "--procs",
            str(procs),
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(out.read_text())


def test_roundtrips_counts_a_batchs_statements_and_waits(tmp_path: Path) -> None:
    """bench/roundtrips.py: two writers on one hall, in turn; libpq's trace gives each batch's statements and
    network waits, in all and while the hall's row is locked. Each batch is BEGIN with the lock, one statement
    per ticket, and the batch's end with its COMMIT: 5 statements (4 under the lock), with no read of the hall's
    load or waiting counts although the other writer committed last. The ticket's statement goes out with BEGIN
    and the lock, its memo taken from the hall row with the lock's answer (writer.py `_run_ahead`): 2 waits (3
    before; measured: 40 rounds, batches of 1 and 8, every batch 2 waits)."""
    r = _roundtrips(tmp_path, batch=1)
    assert r["issues"] == 6 and r["batches"] == 6
    assert {(b["statements"], b["locked_statements"]) for b in r["shapes"]} == {(5, 4)}
    # the most common: 2 waits, both with the hall locked (BEGIN rides with the lock); psycopg's one-off
    # preparation of a statement on the connection (after 5 runs) may add a wait to a batch
    assert (r["shapes"][0]["waits"], r["shapes"][0]["locked_waits"]) == (2, 2)
    assert all(b["waits"] <= 3 for b in r["shapes"])


def test_roundtrips_a_batchs_issues_share_one_network_wait(tmp_path: Path) -> None:
    """bench/roundtrips.py with 8 issues a batch: the batch's tickets are one statement (store.tickets
    `_issue_statement`, held back in the writer's pipeline, writer.py `_pipelined`), so a batch sends 5 statements
    (4 while the hall is locked; 12 and 11 when each ticket was its own) and waits for the network twice (BEGIN
    with the lock and the tickets' statement, writer.py `_run_ahead`; the batch's end with its COMMIT), not 3 as
    before nor n + 2 = 10."""
    r = _roundtrips(tmp_path, batch=8)
    assert r["issues"] == 48 and r["batches"] == 6
    assert {(b["statements"], b["locked_statements"]) for b in r["shapes"]} == {(5, 4)}
    assert (r["shapes"][0]["waits"], r["shapes"][0]["locked_waits"]) == (2, 2)
    assert all(b["waits"] <= 3 for b in r["shapes"])


@pytest.mark.parametrize("batch", [1, 8])
def test_roundtrips_one_process_runs_the_batch_ahead_of_the_locks_answer(tmp_path: Path, batch: int) -> None:
    """bench/roundtrips.py --procs 1: one process on the hall, whose writer committed it last at every batch, sends
    the batch's tickets with BEGIN and the lock (writer.py `_run_ahead`): the same 5 statements (4 under the lock)
    in 2 network waits, both with the hall locked, not 3 (measured: 40 rounds, batches of 1 and 8, every batch
    2 waits), with the lane's own memo."""
    r = _roundtrips(tmp_path, batch=batch, procs=1)
    assert r["issues"] == 6 * batch and r["batches"] == 6
    assert {(b["statements"], b["locked_statements"]) for b in r["shapes"]} == {(5, 4)}
    assert (r["shapes"][0]["waits"], r["shapes"][0]["locked_waits"]) == (2, 2)
    assert all(b["waits"] <= 3 for b in r["shapes"])
