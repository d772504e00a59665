"""What the benchmarks print and record: the machine description, the markdown tables, the README's results
section, and the digest of a py-spy profile."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from harness import PG_BASE, README, RESULTS, ROOT, _psycopg_url

MARK_START = "<!-- results:start -->"
MARK_END = "<!-- results:end -->"


# Where a sample's innermost Python frame lives decides its bucket (first match wins). A frame that
# calls into C (sqlite3, psycopg, orjson, httptools) holds the samples of that C code too.
BUCKETS: list[tuple[str, str]] = [
    ("DefaultDialect.do_", "DB driver calls (execute/commit in C)"),
    ("Connection._commit_impl", "DB driver calls (execute/commit in C)"),
    ("Cursor.", "DB driver calls (execute/commit in C)"),
    ("psycopg/", "psycopg (Python side)"),
    ("sqlmodel/", "SQLModel"),
    ("sqlalchemy/", "SQLAlchemy (ORM/Core/pool, Python side)"),
    ("pydantic", "pydantic (validation/serialisation)"),
    ("fastapi/", "FastAPI/Starlette"),
    ("starlette/", "FastAPI/Starlette"),
    ("uvicorn/", "uvicorn/httptools"),
    ("anyio/", "thread hand-off (anyio, futures, locks)"),
    ("concurrent/futures", "thread hand-off (anyio, futures, locks)"),
    ("threading.py", "thread hand-off (anyio, futures, locks)"),
    ("queue.py", "thread hand-off (anyio, futures, locks)"),
    ("asyncio/", "event loop (asyncio/uvloop)"),
    ("uvloop", "event loop (asyncio/uvloop)"),
    ("queue_server/", "queue_server (app code itself)"),
    ("json", "JSON"),
]


def _bucket(frame: str) -> str:
    for needle, name in BUCKETS:
        if needle in frame:
            return name
    return "other (stdlib, typing, ...)"


def _thread_kind(frames: list[str]) -> str:
    if not frames[0].startswith("Thread._bootstrap"):
        return "event-loop thread (HTTP, routing, dependencies, responses)"
    if any("BatchWriter." in f for f in frames[:5]):
        return "SQLite writer thread (the database work)"
    if any("WorkerThread.run" in f or "concurrent/futures" in f for f in frames[:5]):
        return "thread-pool workers (sync dependencies and reads, PostgreSQL writes)"
    return "other threads"


def summarise_profile(raw: Path, top: int = 25) -> str:
    """Text summary of a py-spy raw (collapsed) profile: buckets, self time, app functions inclusive."""
    total = 0
    buckets: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    app: Counter[str] = Counter()
    app_line: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, n_s = line.rpartition(" ")
        if not stack or not n_s.isdigit():  # a torn sample (--nonblocking) can split a line
            continue
        n = int(n_s)
        total += n
        frames = stack.split(";")
        leaf[frames[-1]] += n
        buckets[_bucket(frames[-1])] += n
        threads[_thread_kind(frames)] += n
        inner = next(
            (f for f in reversed(frames) if "queue_server/" in f and "queue_server/cli.py" not in f),
            "(no app frame: HTTP server, framework, thread hand-off)",
        )
        app_line[inner] += n
        seen = set()
        for f in frames:
            if "queue_server/" in f or "fastapi/routing.py" in f:
                key = re.sub(r":\d+\)$", ")", f)
                if key not in seen:
                    seen.add(key)
                    app[key] += n
    if not total:
        return f"{raw.name}: no samples"

    def pct(n: int) -> str:
        return f"{100 * n / total:5.1f}%"

    out = [f"{raw.name}: {total} samples"]
    out += ["", "by thread:"] + [f"  {pct(n)}  {k}" for k, n in threads.most_common()]
    out += ["", "self time by layer:"] + [f"  {pct(n)}  {k}" for k, n in buckets.most_common()]
    out += ["", f"self time, top {top} lines:"] + [f"  {pct(n)}  {k}" for k, n in leaf.most_common(top)]
    out += ["", f"by innermost app line (with the library work it calls), top {top}:"]
    out += [f"  {pct(n)}  {k}" for k, n in app_line.most_common(top)]
    out += ["", f"inclusive time of app and routing functions, top {top}:"]
    out += [f"  {pct(n)}  {k}" for k, n in app.most_common(top)]
    return "\n".join(out)


def _print_level(name: str, kind: str, lv: dict[str, Any]) -> None:
    lat = lv["latency_ms"]
    ok = "ok" if lv["check"]["ok"] else "FAIL " + "; ".join(lv["check"]["problems"])
    print(
        f"[{name}/{kind}] clients={lv['clients']} {lv['throughput']:.0f}/s p50={lat.get('p50', 0):.1f}ms "
        f"p99={lat.get('p99', 0):.1f}ms server-cpu={lv['server_cpu_pct']:.0f}% check: {ok}",
        file=sys.stderr,
    )
    writer = lv.get("writer")
    if writer and writer.get("batches"):
        print(
            f"[{name}/{kind}] writer: {writer['batches']:.0f} batches of {writer['mean_changes']:.1f} changes, "
            f"{writer['mean_ms']:.2f} ms each (begin to commit)",
            file=sys.stderr,
        )
    if lv.get("reference"):
        ref = lv["reference"]
        print(
            f"[{name}/{kind}] reference {ref['throughput']:.0f}/s p99={ref['latency_ms']['p99']:.1f}ms "
            f"server-cpu={ref['server_cpu_pct']:.0f}%: the product does {lv['ratio']:.2f} of it",
            file=sys.stderr,
        )


def _run_cmd(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT).stdout.strip()
    except OSError:
        return ""


def python_speed_ms() -> float:
    """Milliseconds this machine's CPython needs for a fixed loop of ten million additions (best of three).

    Machines of the same description differ: the city's day ran at 335 tickets/s on one and 122/s on the
    next at nearly the same commit. Results from different machines compare only with this figure
    beside them (lower is a faster core)."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - t0)
    return round(best * 1000)


def machine_info(kinds: list[str]) -> dict[str, Any]:
    """Where and on what the numbers were taken."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")), "?")
    mem_kb = int(
        next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
    )
    dirty = _run_cmd(["git", "status", "--porcelain", "--", "queue_server", "pyproject.toml"])
    info: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "commit": _run_cmd(["git", "rev-parse", "--short", "HEAD"]),
        "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "server_code_dirty": bool(dirty),
        "wrk": _run_cmd(["wrk", "--version"]).splitlines()[0] if shutil.which("wrk") else None,
        "python_loop_ms": python_speed_ms(),
    }
    if "postgresql" in kinds:
        import psycopg

        with psycopg.connect(_psycopg_url(PG_BASE)) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            info["postgresql"] = row[0] if row else "?"
    return info


def table(name: str, kind: str, data: dict[str, Any]) -> str:
    """One markdown table of a result file."""
    levels = data["levels"]
    if name == "issue":
        head = (
            "| clients | tickets/s | p50 ms | p90 ms | p99 ms | max ms | server CPU | server CPU ms/ticket "
            "| load-gen CPU | PostgreSQL CPU | other CPU | RSS idle MiB | RSS load MiB | tickets "
            "| reference tickets/s | reference p99 ms | ratio | check |"
        )
        sep = "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        rows = [
            f"| {lv['clients']} | {lv['throughput']:,.0f} | {lv['latency_ms']['p50']:.1f} | "
            f"{lv['latency_ms']['p90']:.1f} | {lv['latency_ms']['p99']:.1f} | {lv['latency_ms']['max']:.0f} | "
            f"{lv['server_cpu_pct']:.0f}% | {_num(_per(lv, 'server_cpu_ms_per_ticket'))} | "
            f"{lv['loadgen_cpu_pct']:.0f}% | {_pg(kind, lv)} | {_other(lv)} | {_rss(lv, 'idle')} | "
            f"{_rss(lv, 'load_max')} | {lv['check']['tickets']:,} | {_reference(lv)} | "
            f"{_verdict(lv)} |"
            for lv in levels
        ]
    elif name == "subscribers":
        head = (
            "| subscribers | samples | p50 ms | p99 ms | max ms | min ms | negative | all delivered p50 ms | max ms "
            "| call-next p50 ms | RSS before MiB | RSS connected MiB | KiB/subscriber | server CPU | client CPU "
            "| other CPU | check |"
        )
        sep = "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        rows = [
            f"| {lv['subscribers']:,} | {lv['samples']:,} | {lv['latency_ms']['p50']:.1f} | "
            f"{lv['latency_ms']['p99']:.1f} | {lv['latency_ms']['max']:.1f} | {lv['latency_ms']['min']:.1f} | "
            f"{100 * lv['negative_share']:.0f}% | {lv['all_delivered_ms']['p50']:.1f} | "
            f"{lv['all_delivered_ms']['max']:.1f} | {lv['call_next_ms']['p50']:.1f} | "
            f"{lv['rss_kib']['before'] / 1024:.1f} | {lv['rss_kib']['connected'] / 1024:.1f} | "
            f"{lv['rss_kib_per_subscriber']:.1f} | {lv['server_cpu_pct']:.0f}% | {lv['client_cpu_pct']:.0f}% | "
            f"{_other(lv)} | {_verdict(lv)} |"
            for lv in levels
        ]
    else:
        head = (
            "| windows | calls/s | call-next p50 ms | p99 ms | max ms | complete p50 ms | p99 ms | "
            "requests/s | waiting at start | server CPU | server CPU ms/call | load-gen CPU | PostgreSQL CPU "
            "| other CPU | called twice | check |"
        )
        sep = "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        rows = [
            f"| {lv['windows']} | {lv['throughput']:,.0f} | {lv['latency_ms']['p50']:.1f} | "
            f"{lv['latency_ms']['p99']:.1f} | {lv['latency_ms']['max']:.0f} | "
            f"{lv['complete_latency_ms']['p50']:.1f} | {lv['complete_latency_ms']['p99']:.1f} | "
            f"{lv['requests_per_s']:,.0f} | {lv['waiting_at_start']:,} | {lv['server_cpu_pct']:.0f}% | "
            f"{_num(_per(lv, 'server_cpu_ms_per_call'))} | "
            f"{lv.get('loadgen_cpu_pct', 0):.0f}% | {_pg(kind, lv)} | {_other(lv)} | "
            f"{lv['check']['duplicates']} | {_verdict(lv)} |"
            for lv in levels
        ]
    m = data["machine"]
    dirty = " (+ uncommitted server changes)" if m["server_code_dirty"] else ""
    workers = data.get("params", {}).get("workers", 1)
    procs = f" · {workers} server processes" if workers > 1 else ""
    load = f"; load average at start {m['loadavg']}" if m.get("loadavg") else ""
    load += f"; nice {m['nice']}" if m.get("nice") else ""
    load += "; driver, server and wrk under SCHED_RR (`--realtime`)" if m.get("realtime") else ""
    load += f"; Python loop {m['python_loop_ms']} ms" if m.get("python_loop_ms") else ""
    title = f"**{name} · {kind}{procs}** — commit `{m['commit']}`{dirty}, {m['date']}{load}"
    return "\n".join([title, "", head, sep, *rows, ""])


def _reference(lv: dict[str, Any]) -> str:
    """The reference endpoint's tickets/s and p99 and the product's ratio to it (three cells), or dashes."""
    ref = lv.get("reference")
    if not ref:
        return "— | — | —"
    return f"{ref['throughput']:,.0f} | {ref['latency_ms']['p99']:.1f} | {lv['ratio']:.2f}"


def _rss(lv: dict[str, Any], key: str) -> str:
    v = lv.get("rss_kib", {}).get(key)
    return "–" if v is None else f"{v / 1024:.0f}"


def _per(lv: dict[str, Any], key: str) -> float | None:
    """CPU ms per ticket or call; derived from the CPU share for results recorded before the field existed."""
    if key in lv:
        return float(lv[key]) if lv[key] is not None else None
    return 10.0 * lv["server_cpu_pct"] / lv["throughput"] if lv.get("throughput") else None


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def _pg(kind: str, lv: dict[str, Any]) -> str:
    return f"{lv['postgres_cpu_pct']:.0f}%" if kind == "postgresql" and "postgres_cpu_pct" in lv else "–"


def _other(lv: dict[str, Any]) -> str:
    other = lv.get("other_cpu_pct")
    return "?" if other is None else f"{max(other, 0):.0f}%"


def _verdict(lv: dict[str, Any]) -> str:
    return "ok" if lv["check"]["ok"] else "FAIL: " + "; ".join(lv["check"]["problems"])


# The result files shown in the README, in this order: (benchmark, database, tag).
RECORDED = [
    ("issue", "sqlite", ""),
    ("issue", "postgresql", ""),
    ("issue", "postgresql", "w2"),
    ("call-next", "sqlite", ""),
    ("call-next", "postgresql", ""),
    ("subscribers", "sqlite", ""),
    ("city", "sqlite", ""),
    ("city", "postgresql", ""),
    ("city", "postgresql", "w2"),
]


def report(readme: bool) -> str:
    """Markdown of every result file (issue before call-next, SQLite before PostgreSQL)."""
    parts = []
    machine = None
    from city import city_table

    for name, kind, tag in RECORDED:
        path = RESULTS / f"{name}-{kind}{'-' + tag if tag else ''}.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        machine = machine or dict(data["machine"])
        if data["machine"].get("postgresql"):  # the SQLite runs do not ask PostgreSQL's version
            machine["postgresql"] = data["machine"]["postgresql"]
        parts.append(city_table(kind, data) if name == "city" else table(name, kind, data))
    if machine is not None:
        m = machine
        pg = f", PostgreSQL {m['postgresql']}" if m.get("postgresql") else ""
        parts.insert(
            0,
            f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, Linux {m['kernel']}; "
            f"Python {m['python']}, SQLite {m['sqlite']}{pg}; {str(m['wrk']).split(' [')[0]}.\n",
        )
    text = "\n".join(parts)
    if readme:
        doc = README.read_text()
        start, end = doc.index(MARK_START) + len(MARK_START), doc.index(MARK_END)
        README.write_text(doc[:start] + "\n" + text + "\n" + doc[end:])
    return text
