"""The benchmarks `issue`, `call-next`, `subscribers` and `profile` (the city's day is city.py): each runs the
server under a driver per level and checks what the database holds afterwards."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from drivers import (
    WindowStats,
    _timed_calls,
    asyncio_issue,
    issue_many,
    login,
    run_async,
    run_windows,
    wrk_level,
    wrk_run,
)
from harness import (
    BENCH,
    CONFIG,
    HALL,
    PROFILES,
    RESULTS,
    ROOT,
    WINDOWS,
    FreshDb,
    RssSampler,
    _cpu_seconds,
    _fair,
    latency_summary,
    machine_busy_s,
    postgres_cpu_s,
    raise_fd_limit,
    server_on_fresh_db,
    wait_quiet,
)
from results_tables import _print_level, _verdict, summarise_profile


def check_issuance(db: FreshDb) -> dict[str, Any]:
    """Numbers per (day, queue) are 1..n without gaps or repeats, match `number`, and the counter."""
    with db.cursor() as cur:
        cur.execute(f"SELECT service_day, issue_queue, seq, number FROM ticket WHERE hall_code = {_ph(db)}", (HALL,))
        rows = cur.fetchall()
        cur.execute(f"SELECT service_day, queue_code, last FROM ticket_counter WHERE hall_code = {_ph(db)}", (HALL,))
        counters = {(str(d), q): int(last) for d, q, last in cur.fetchall()}
    groups: dict[tuple[str, str], list[int]] = {}
    bad_numbers = 0
    for day, q, seq, number in rows:
        groups.setdefault((str(day), q), []).append(int(seq))
        if number != f"{q}{int(seq):03d}":
            bad_numbers += 1
    problems: list[str] = []
    per_queue = {}
    for (day, q), seqs in sorted(groups.items()):
        n, distinct = len(seqs), len(set(seqs))
        per_queue[f"{day}/{q}"] = n
        if distinct != n:
            problems.append(f"{day}/{q}: {n - distinct} duplicate numbers")
        if distinct and (min(seqs) != 1 or max(seqs) != distinct):
            problems.append(f"{day}/{q}: gaps (have {distinct}, max {max(seqs)})")
        if counters.get((day, q)) != max(seqs):
            problems.append(f"{day}/{q}: counter {counters.get((day, q))} != max number {max(seqs)}")
    if bad_numbers:
        problems.append(f"{bad_numbers} tickets whose number does not match their seq")
    return {"tickets": len(rows), "per_queue": per_queue, "problems": problems}


def _ph(db: FreshDb) -> str:
    return "?" if db.kind == "sqlite" else "%s"


def bench_issue(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """Issuance at each concurrency level, each on its own fresh server and database."""
    queues = args.queues.split(",")
    levels = []
    for clients in args.clients:
        print(f"[issue/{kind}] {clients} clients: fresh database, server starting", file=sys.stderr)
        tag = f"issue{clients}w{args.workers}"
        res, check = _issue_level(args, kind, clients, queues, tag, None)
        level = {"clients": clients, **res, "check": check}
        if args.reference:  # the same level against reference.py (same database kind), in the same run
            print(f"[issue/{kind}] {clients} clients: the reference endpoint", file=sys.stderr)
            ref, ref_check = _issue_level(args, kind, clients, queues, tag + "ref", REFERENCE_CMD)
            level["reference"] = {
                "throughput": ref["throughput"],
                "latency_ms": ref["latency_ms"],
                "server_cpu_pct": ref["server_cpu_pct"],
                "server_cpu_ms_per_ticket": ref["server_cpu_ms_per_ticket"],
                "other_cpu_pct": ref["other_cpu_pct"],
                "check": ref_check,
            }
            level["ratio"] = res["throughput"] / ref["throughput"] if ref["throughput"] else None
            if not ref_check["ok"]:
                check["problems"].append("reference: " + "; ".join(ref_check["problems"]))
                check["ok"] = False
        levels.append(level)
        _print_level("issue", kind, level)
    params = {
        "queues": queues,
        "driver": args.driver,
        "warmup_s": args.warmup,
        "backlog": args.backlog,
        "workers": args.workers,
        "reference": bool(args.reference),
    }
    return {"levels": levels, "params": params}


REFERENCE_CMD = [sys.executable, str(BENCH / "reference.py")]


def _issue_level(
    args: argparse.Namespace, kind: str, clients: int, queues: list[str], tag: str, command: list[str] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One measured issuance level on a fresh server (`hall serve`, or `command`) and database."""
    idle_before = wait_quiet(args.wait_quiet)
    workers = args.workers if command is None else 1
    with server_on_fresh_db(kind, tag, args.server_env, args.keep, workers=workers, command=command) as srv:
        ok_total = 0
        time.sleep(0.5)
        rss_idle = srv.rss_kib()
        if args.backlog:  # a busy day already under way: tickets waiting before the measured run
            ok_total += run_async(issue_many(srv.port, args.backlog, _mix(queues, args.backlog))).total()
        if args.warmup > 0:
            w = _issue_run(args, srv.port, clients, args.warmup, queues)
            ok_total += w["ok"]
        batches0 = writer_batches(srv.port) if command is None else None
        cpu0, m0, pg0, t0 = srv.cpu(), machine_busy_s(), postgres_cpu_s(), time.perf_counter()
        with RssSampler(srv) as rss:
            res = _issue_run(args, srv.port, clients, args.seconds, queues)
        wall = time.perf_counter() - t0
        if batches0 is not None:
            res["writer"] = batch_delta(batches0, writer_batches(srv.port))
        res["rss_kib"] = {"idle": rss_idle, "load_max": rss.peak, "after": srv.rss_kib()}
        res["workers"] = workers
        res["server_cpu_pct"] = 100.0 * (srv.cpu() - cpu0) / wall
        res["loadgen_cpu_pct"] = 100.0 * res.pop("loadgen_cpu_s") / wall
        res["postgres_cpu_pct"] = 100.0 * _fair(postgres_cpu_s() - pg0) / wall if kind == "postgresql" else 0.0
        res["machine_cpu_pct"] = 100.0 * (machine_busy_s() - m0) / wall
        res["other_cpu_pct"] = (
            res["machine_cpu_pct"] - res["server_cpu_pct"] - res["loadgen_cpu_pct"] - res["postgres_cpu_pct"]
        )
        res["busy_before_pct"] = idle_before
        # CPU per ticket barely moves when something else shares the machine: compare changes with it.
        res["server_cpu_ms_per_ticket"] = 10.0 * res["server_cpu_pct"] * wall / res["ok"] if res["ok"] else None
        ok_total += res["ok"]
        srv.stop()  # settle everything in flight before reading the database
        check = check_issuance(srv.db)
    # wrk abandons the requests in flight when its time is up; the server still completes them.
    slack = check["tickets"] - ok_total
    limit = 2 * clients if args.driver == "wrk" else 0
    if not 0 <= slack <= limit:
        check["problems"].append(f"{ok_total} answered 201 but {check['tickets']} tickets in the database")
    errors = sum(v for k, v in res["statuses"].items() if k != "201") + res["socket_errors"]
    if errors:
        check["problems"].append(f"{errors} failed requests: {res['statuses']}")
    check["answered_201"] = ok_total
    check["unanswered_in_flight"] = slack
    check["ok"] = not check["problems"]
    return res, check


def writer_batches(port: int) -> dict[str, float]:
    """The server's writer batches so far, from its /metrics (the bench hall is a demo: open): how many, the
    changes they held and the seconds they took (sums over every process of the server)."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    sums: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in (
                "hall_writer_batch_size_count",
                "hall_writer_batch_size_sum",
                "hall_writer_batch_seconds_sum",
            ):
                sums[sample.name] = sums.get(sample.name, 0.0) + sample.value
    return sums


def batch_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float | None]:
    """The measured run's writer batches: how many, mean changes a batch, mean milliseconds a batch."""
    n = after.get("hall_writer_batch_size_count", 0.0) - before.get("hall_writer_batch_size_count", 0.0)
    changes = after.get("hall_writer_batch_size_sum", 0.0) - before.get("hall_writer_batch_size_sum", 0.0)
    seconds = after.get("hall_writer_batch_seconds_sum", 0.0) - before.get("hall_writer_batch_seconds_sum", 0.0)
    return {
        "batches": n,
        "mean_changes": changes / n if n else None,
        "mean_ms": 1000.0 * seconds / n if n else None,
    }


def _issue_run(args: argparse.Namespace, port: int, clients: int, seconds: float, queues: list[str]) -> dict[str, Any]:
    if args.driver == "wrk":
        return wrk_level(wrk_run(port, clients, seconds, queues))
    return dict(run_async(asyncio_issue(port, clients, seconds, queues)))


def check_calls(db: FreshDb, stats: list[WindowStats]) -> dict[str, Any]:
    """No ticket called twice (by the clients' view and by the event log); each call landed at its window."""
    problems: list[str] = []
    seen: Counter[int] = Counter(t for s in stats for t in s.called)
    dup_client = [t for t, n in seen.items() if n > 1]
    if dup_client:
        problems.append(f"{len(dup_client)} tickets returned by call-next more than once: {dup_client[:10]}")
    with db.cursor() as cur:
        cur.execute(f"SELECT data FROM hall_event WHERE hall_code = {_ph(db)} AND type = 'ticket.called'", (HALL,))
        called_events: Counter[int] = Counter(int(json.loads(r[0])["id"]) for r in cur.fetchall())
        cur.execute(
            f'SELECT id, "window", status FROM ticket WHERE hall_code = {_ph(db)} AND called_at IS NOT NULL', (HALL,)
        )
        tickets = {int(i): (w, s) for i, w, s in cur.fetchall()}
        cur.execute(f"SELECT COUNT(*) FROM ticket WHERE hall_code = {_ph(db)} AND status = 'waiting'", (HALL,))
        waiting_left = int(cur.fetchone()[0])
    dup_events = [t for t, n in called_events.items() if n > 1]
    if dup_events:
        problems.append(f"{len(dup_events)} tickets with more than one ticket.called event: {dup_events[:10]}")
    if set(called_events) != set(seen):
        problems.append(f"called per event log {len(called_events)} != called per clients {len(seen)}")
    where = {t: s.number for s in stats for t in s.called}
    wrong = [t for t, n in where.items() if tickets.get(t, (None, None))[0] != n]
    if wrong:
        problems.append(f"{len(wrong)} tickets recorded at another window than the one that called them")
    not_done = [t for t in where if tickets.get(t, (None, None))[1] != "done"]
    if not_done:
        problems.append(f"{len(not_done)} called tickets not done")
    return {
        "called": len(seen),
        "called_events": sum(called_events.values()),
        "duplicates": len(dup_client) + len(dup_events),
        "waiting_left": waiting_left,
        "problems": problems,
        "ok": not problems,
    }


def _mix(queues: list[str], n: int) -> list[str]:
    return [queues[i % len(queues)] for i in range(n)]


def bench_call_next(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """call-next → complete loops at 1 and several windows, each level on a fresh server and database."""
    mix = args.mix.split(",")
    levels = []
    for n_windows in args.windows:
        windows = list(range(1, n_windows + 1))
        config = CONFIG
        if n_windows > len(WINDOWS):  # hall t1 with more windows (1-5 as in the test hall, then the same pattern)
            from halls import windows_config, write

            config = write(windows_config(n_windows), Path(tempfile.mkdtemp(prefix="hall-bench-cfg-")) / "hall.toml")
        print(f"[call-next/{kind}] {n_windows} windows: fresh database, server starting", file=sys.stderr)
        idle_before = wait_quiet(args.wait_quiet)
        with server_on_fresh_db(kind, f"call{n_windows}", args.server_env, args.keep, config=config) as srv:
            port = srv.port
            token = run_async(login(port))
            backlog = args.backlog or 100 + 60 * n_windows
            t0 = time.perf_counter()
            run_async(issue_many(port, backlog, _mix(mix, backlog)))
            issued = backlog
            warm = run_async(run_windows(port, token, windows, args.warmup)) if args.warmup > 0 else []
            warm_calls = sum(len(s.called) for s in warm)
            if not args.backlog:  # top up to what the measured run will use, judged from the warm-up
                rate = warm_calls / max(args.warmup, 1e-9) if warm else 100.0
                need = math.ceil(rate * args.seconds * 1.5) + 50 * n_windows
                extra = max(0, need - (issued - warm_calls))
                if extra:
                    run_async(issue_many(port, extra, _mix(mix, extra)))
                    issued += extra
            prep_s = time.perf_counter() - t0
            waiting_at_start = issued - warm_calls
            cpu0, m0, p0, pg0 = srv.cpu(), machine_busy_s(), time.process_time(), postgres_cpu_s()
            t1 = time.perf_counter()
            stats = run_async(run_windows(port, token, windows, args.seconds))
            wall = max(s.finished_at for s in stats) - t1
            elapsed = time.perf_counter() - t1
            server_cpu = 100.0 * (srv.cpu() - cpu0) / elapsed
            loadgen_cpu = 100.0 * (time.process_time() - p0) / elapsed
            pg_cpu = 100.0 * _fair(postgres_cpu_s() - pg0) / elapsed if kind == "postgresql" else 0.0
            machine_cpu = 100.0 * (machine_busy_s() - m0) / elapsed
            srv.stop()
            check = check_calls(srv.db, warm + stats)
        calls = sum(len(s.called) for s in stats)
        completes = sum(len(s.complete_lat) for s in stats)
        empty = [s.number for s in stats if s.empty]
        if empty:
            check["problems"].append(f"windows {empty} ran out of tickets (204) before the end: raise --backlog")
        level = {
            "windows": n_windows,
            "clients": n_windows,
            "duration_s": wall,
            "calls": calls,
            "throughput": calls / wall,
            "requests_per_s": (sum(len(s.call_lat) for s in stats) + completes) / wall,
            "latency_ms": latency_summary([x for s in stats for x in s.call_lat]),
            "complete_latency_ms": latency_summary([x for s in stats for x in s.complete_lat]),
            "statuses": dict(sum((s.statuses for s in stats), Counter())),
            "per_window_calls": {str(s.number): len(s.called) for s in stats},
            "waiting_at_start": waiting_at_start,
            "prep_s": prep_s,
            "server_cpu_pct": server_cpu,
            "loadgen_cpu_pct": loadgen_cpu,
            "machine_cpu_pct": machine_cpu,
            "postgres_cpu_pct": pg_cpu,
            "other_cpu_pct": machine_cpu - server_cpu - loadgen_cpu - pg_cpu,
            "busy_before_pct": idle_before,
            "server_cpu_ms_per_call": 10.0 * server_cpu * elapsed / calls if calls else None,
            "check": check,
        }
        levels.append(level)
        _print_level("call-next", kind, level)
    return {"levels": levels, "params": {"mix": mix, "warmup_s": args.warmup, "backlog": args.backlog or "auto"}}


def check_subscribers(subs: list[dict[str, Any]], calls: list[dict[str, Any]]) -> dict[str, Any]:
    """Every subscriber got every call exactly once, in call (= seq) order, with no gap in seq."""
    want = [c["id"] for c in calls]
    problems: list[str] = []
    errors = Counter(str(s["error"])[:120] for s in subs if s["error"])
    if errors:
        problems.append(f"{sum(errors.values())} subscribers failed: {dict(errors.most_common(3))}")
    wrong = sum(1 for s in subs if [i for i, _ in s["called"]] != want)
    if wrong:
        problems.append(f"{wrong} subscribers did not get exactly the {len(want)} calls once each in order")
    gaps = 0
    for s in subs:
        if s["snapshot_seq"] is None:
            continue
        expected = list(range(s["snapshot_seq"] + 1, s["snapshot_seq"] + 1 + len(s["seqs"])))
        gaps += s["seqs"] != expected
    if gaps:
        problems.append(f"{gaps} subscribers saw seqs out of order or with gaps")
    return {"subscribers": len(subs), "calls": len(want), "problems": problems, "ok": not problems}


def _sockets(pid: int) -> int:
    """Open sockets of a process (its boards' websockets, plus a few of its own: database, listener)."""
    fd_dir = Path(f"/proc/{pid}/fd")
    n = 0
    for fd in fd_dir.iterdir():
        with contextlib.suppress(OSError):
            n += os.readlink(fd).startswith("socket:")
    return n


def bench_subscribers(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """For each N: one server (`--workers N`: N processes, boards spread over them by the kernel and events
    crossing processes through pg_notify), N boards in client processes, spaced calls timed to every board."""
    fd_limit = raise_fd_limit(max(args.subscribers) * 2 + 1024)  # the server subprocess inherits it
    workers = args.workers
    levels = []
    for n in args.subscribers:
        print(f"[subscribers/{kind}] {n} subscribers, {workers} process(es): fresh database", file=sys.stderr)
        idle_before = wait_quiet(args.wait_quiet)
        procs: list[subprocess.Popen[str]] = []
        with server_on_fresh_db(kind, f"subs{n}w{workers}", args.server_env, args.keep, workers=workers) as srv:
            assert srv.proc is not None
            token = run_async(login(srv.port))
            run_async(issue_many(srv.port, args.calls + 10, _mix(["A", "B"], args.calls + 10)))
            time.sleep(1.0)
            rss_before = srv.rss_kib()
            serving = [p for p in srv.pids() if p != srv.proc.pid] if workers > 1 else [srv.proc.pid]
            sockets_before = {p: _sockets(p) for p in serving}
            n_procs = max(1, min(args.client_procs, n))
            shares = [n // n_procs + (i < n % n_procs) for i in range(n_procs)]
            outs = [srv.db.workdir / f"subscribers-{i}.json" for i in range(n_procs)]
            t_conn = time.monotonic()
            for share, out in zip(shares, outs, strict=True):
                cmd = [sys.executable, str(BENCH / "run.py"), "subscribers-client", "--port", str(srv.port)]
                cmd += ["--n", str(share), "--expect", str(args.calls), "--out", str(out)]
                cmd += ["--timeout", str(args.timeout)] + (["--deflate"] if args.deflate else [])
                procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
            try:
                connected = failed = 0
                for p in procs:
                    line = (p.stdout.readline() if p.stdout else "").split()
                    if not line or line[0] != "READY":
                        raise RuntimeError(f"subscriber client said {line!r}")
                    connected, failed = connected + int(line[1]), failed + int(line[2])
                connect_s = time.monotonic() - t_conn
                print(f"  {connected} connected ({failed} failed) in {connect_s:.1f}s", file=sys.stderr)
                time.sleep(args.settle)
                rss_connected = srv.rss_kib()
                boards_per_process = [_sockets(p) - sockets_before[p] for p in serving]
                cpu_s0, cpu_c0, m0, t0 = (
                    srv.cpu(),
                    sum(_cpu_seconds(p.pid) for p in procs),
                    machine_busy_s(),
                    time.monotonic(),
                )
                calls = run_async(_timed_calls(srv.port, token, args.window, args.calls, args.interval))
                for p in procs:
                    p.wait(timeout=args.timeout)
                wall = time.monotonic() - t0
                server_cpu_s = srv.cpu() - cpu_s0
                server_cpu = 100.0 * server_cpu_s / wall
                machine_cpu = 100.0 * (machine_busy_s() - m0) / wall
                rss_after = srv.rss_kib()
            finally:
                for p in procs:
                    if p.poll() is None:
                        p.kill()
                        p.wait()
            results = [json.loads(out.read_text()) for out in outs]
            client_cpu = 100.0 * (sum(r["cpu_s"] for r in results) - cpu_c0) / wall
        subs = [s for r in results for s in r["subscribers"]]
        resp = {c["id"]: c["resp"] for c in calls}
        sent = {c["id"]: c["sent"] for c in calls}
        after_resp = [t - resp[i] for s in subs for i, t in s["called"] if i in resp]
        after_sent = [t - sent[i] for s in subs for i, t in s["called"] if i in sent]
        last: dict[int, float] = {}
        for s in subs:
            for i, t in s["called"]:
                last[i] = max(last.get(i, t), t)
        all_delivered = [last[i] - resp[i] for i in last if i in resp]
        frames = sum(len(x["seqs"]) for x in subs)
        lags = [lag for r in results for lag in r.get("loop_lag_s", [])]
        check = check_subscribers(subs, calls)
        if connected != n:
            check["problems"].append(f"{n - connected} of {n} subscribers could not connect")
            check["ok"] = False
        level = {
            "subscribers": n,
            "clients": n,
            "workers": workers,
            "boards_per_process": boards_per_process,
            "client_procs": n_procs,
            "calls": len(calls),
            "interval_s": args.interval,
            "samples": len(after_resp),
            "frames_per_call": sum(len(x["seqs"]) for x in subs) / max(1, len(subs) * len(calls)),
            "latency_ms": latency_summary(after_resp),
            "negative_share": sum(1 for x in after_resp if x < 0) / len(after_resp) if after_resp else None,
            "since_sent_latency_ms": latency_summary(after_sent),
            "all_delivered_ms": latency_summary(all_delivered),
            "call_next_ms": latency_summary([c["resp"] - c["sent"] for c in calls]),
            "rss_kib": {"before": rss_before, "connected": rss_connected, "after_calls": rss_after},
            "rss_kib_per_subscriber": (rss_connected - rss_before) / n,
            "connect_s": connect_s,
            "server_cpu_pct": server_cpu,
            # the server's CPU per frame it sent (every board, every event): the fan-out's cost, which
            # compares across runs even on a busy machine
            "server_cpu_us_per_frame": 1e6 * server_cpu_s / max(1, frames),
            # the boards' side of the same: their processes' CPU per frame received
            "client_cpu_us_per_frame": 1e6 * (sum(r["cpu_s"] for r in results) - cpu_c0) / max(1, frames),
            # how late the boards' event loops ran a 5 ms timer during the calls: the driver's own backlog,
            # which is inside every latency above (a frame is stamped when its loop reads it)
            "client_loop_lag_ms": latency_summary(lags),
            "wall_s": wall,
            "client_cpu_pct": client_cpu,
            "machine_cpu_pct": machine_cpu,
            "other_cpu_pct": machine_cpu - server_cpu - client_cpu,
            "busy_before_pct": idle_before,
            "fd_limit": fd_limit,
            "check": check,
        }
        levels.append(level)
        lat = level["latency_ms"]
        print(
            f"[subscribers/{kind}] n={n} w={workers} boards/process={boards_per_process}\n"
            f"  p50={lat.get('p50', 0):.1f}ms p99={lat.get('p99', 0):.1f}ms "
            f"server {level['server_cpu_us_per_frame']:.1f} µs/frame "
            f"boards {level['client_cpu_us_per_frame']:.1f} µs/frame, "
            f"loop lag p99 {level['client_loop_lag_ms'].get('p99', 0):.1f}ms "
            f"since-sent p99 {level['since_sent_latency_ms'].get('p99', 0):.1f}ms\n  "
            f"max={lat.get('max', 0):.1f}ms rss +{level['rss_kib_per_subscriber']:.1f} KiB/sub "
            f"server-cpu={server_cpu:.0f}% client-cpu={client_cpu:.0f}% check: {_verdict(level)}",
            file=sys.stderr,
        )
    params = {
        "calls": args.calls,
        "interval_s": args.interval,
        "window": args.window,
        "deflate": args.deflate,
        "workers": workers,
    }
    return {"levels": levels, "params": params}


def bench_profile(args: argparse.Namespace, kind: str) -> None:
    """Issuance under wrk with py-spy recording the server: one run per mode (cpu, gil, wall). With `--workers N`
    each worker process is recorded by its own py-spy (files `…-w0`, `…-w1`, …), and each one's CPU a ticket is
    printed: with forwarding (forward.py) the hall's owner and the forwarding processes do different work."""
    spy = shutil.which("py-spy") or str(ROOT / ".venv" / "bin" / "py-spy")
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    queues = args.queues.split(",")
    flags = {"cpu": [], "gil": ["--gil"], "wall": ["--idle"]}
    with server_on_fresh_db(kind, f"profile{args.clients}", args.server_env, args.keep, workers=args.workers) as srv:
        assert srv.proc is not None
        procs = srv.pids()[1:] if args.workers > 1 else [srv.proc.pid]  # not uvicorn's supervising parent
        wrk_level(wrk_run(srv.port, args.clients, args.warmup or 1, queues))
        cpu = [_cpu_seconds(p) for p in procs]
        plain = wrk_level(wrk_run(srv.port, args.clients, args.seconds, queues))
        tickets = plain["throughput"] * args.seconds
        per_ticket = " ".join(f"{(_cpu_seconds(p) - c) / tickets * 1000:.3f}" for p, c in zip(procs, cpu, strict=True))
        print(
            f"[profile/{kind}] unprofiled: {plain['throughput']:.0f}/s, CPU ms a ticket by process: {per_ticket}",
            file=sys.stderr,
        )
        for mode in args.modes.split(","):
            name = f"profile-{kind}-c{args.clients}-{mode}{'-' + args.tag if args.tag else ''}"
            outs = [PROFILES / f"{name}{f'-w{i}' if len(procs) > 1 else ''}.txt" for i in range(len(procs))]
            recs = []
            for pid, out in zip(procs, outs, strict=True):
                cmd = [spy, "record", "--pid", str(pid), "--rate", str(args.rate), "--format", "raw"]
                cmd += ["--duration", str(round(args.seconds)), "-o", str(out), *flags[mode]]
                if not args.blocking:  # sampling without pausing the server: far less overhead, rare torn stacks
                    cmd.append("--nonblocking")
                recs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            time.sleep(0.5)  # py-spy attaching
            res = wrk_level(wrk_run(srv.port, args.clients, args.seconds, queues))
            for rec in recs:
                _, err = rec.communicate(timeout=60)
                if rec.returncode != 0:
                    raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')}")
            for out in outs:
                print(
                    f"[profile/{kind}] {mode}: {res['throughput']:.0f}/s while sampled; wrote {out.name}",
                    file=sys.stderr,
                )
                summary = summarise_profile(out)
                (RESULTS / f"{out.stem}.summary.txt").write_text(summary + "\n")
                print(summary + "\n")
