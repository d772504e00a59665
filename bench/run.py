"""Benchmarks of the queue server over real HTTP: ticket issuance, call-next, and event fan-out.

Each concurrency level gets its own server process (`hall serve`, exactly as deployed: one process,
uvicorn with its default loop and HTTP parser) on a free loopback port, against a fresh database
(a new SQLite file, or a new PostgreSQL schema), so levels do not see each other's tickets.

    .venv/bin/python bench/run.py issue --db sqlite --clients 1,16,64 --seconds 10
    .venv/bin/python bench/run.py call-next --db postgresql --windows 1,5 --seconds 10
    .venv/bin/python bench/run.py subscribers --subscribers 100,1000 --calls 50
    .venv/bin/python bench/run.py report            # markdown tables of bench/results/*.json
    .venv/bin/python bench/run.py report --readme   # ... written into bench/README.md

Issuance is driven by `wrk` (C, one thread, closed loop: each connection is a kiosk that sends its
next request when the previous answer arrived) with bench/issue.lua; `--driver asyncio` uses the
lean raw-HTTP client of drivers.py instead. Call-next is driven by that asyncio client: each window is one
connection looping call-next → complete, timed per request. Subscribers: N websocket boards in
separate processes (`subscribers-client`) time each `ticket.called` frame against the moment the
call-next answer reached the driver (CLOCK_MONOTONIC, comparable across processes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:  # sibling modules when imported from elsewhere
    sys.path.insert(0, str(BENCH))

from drivers import subscribers_client_main  # noqa: E402
from harness import PROFILES, RESULTS  # noqa: E402
from results_tables import machine_info, report, table  # noqa: E402
from scenarios import bench_call_next, bench_issue, bench_profile, bench_subscribers  # noqa: E402


def _ints(s: str) -> list[int]:
    return [int(x) for x in s.split(",") if x.strip()]


def _env(s: str) -> tuple[str, str]:
    k, sep, v = s.partition("=")
    if not sep or not k:
        raise argparse.ArgumentTypeError("expected NAME=value")
    return k, v


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--db", default="sqlite", help="sqlite, postgresql, or both: sqlite,postgresql")
        sp.add_argument("--seconds", type=float, default=10.0, help="measured seconds per level")
        sp.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each level")
        sp.add_argument(
            "--server-env",
            type=_env,
            action="append",
            default=[],
            metavar="NAME=V",
            help="extra server environment (HALL_*, PYTHONPATH=/a/patched/copy, ...)",
        )
        sp.add_argument("--tag", default="", help="suffix of the result file name (e.g. an experiment)")
        sp.add_argument("--keep", action="store_true", help="keep the databases and server logs")
        sp.add_argument(
            "--wait-quiet", type=float, default=60.0, help="wait up to this long for an idle machine before a level"
        )
        sp.add_argument(
            "--nice", type=int, default=0, help="scheduling priority of the driver and server (negative: root only)"
        )
        sp.add_argument(
            "--realtime",
            action="store_true",
            help="run the driver, server and load generator under SCHED_RR (root only): on a busy machine, the "
            "closest to a quiet one (PostgreSQL's own processes keep their priority)",
        )

    si = sub.add_parser("issue", help="POST /halls/t1/tickets at each concurrency")
    common(si)
    si.add_argument("--clients", type=_ints, default=[1, 16, 64], help="concurrent kiosks, e.g. 1,16,64")
    si.add_argument("--driver", choices=("wrk", "asyncio"), default="wrk")
    si.add_argument("--queues", default="A,B,C", help="queues the kiosks issue into, round-robin")
    si.add_argument("--backlog", type=int, default=0, help="tickets to issue (unmeasured) before the warm-up")
    si.add_argument("--workers", type=int, default=1, help="server processes (`hall serve --workers`, PostgreSQL)")
    si.add_argument(
        "--reference",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run each level against bench/reference.py too (same database) and record the product's ratio to it",
    )

    sc = sub.add_parser("call-next", help="windows looping call-next → complete")
    common(sc)
    sc.add_argument(
        "--windows",
        "--clients",
        type=_ints,
        default=[1, 5, 20],
        help="concurrent windows (more than 5: generated hall)",
    )
    sc.add_argument("--mix", default="A,B,A,B,C", help="queues of the pre-issued tickets, round-robin")
    sc.add_argument("--backlog", type=int, default=0, help="tickets to pre-issue (default: sized from the warm-up)")

    ss = sub.add_parser("subscribers", help="call-next → ticket.called latency at N websocket subscribers")
    common(ss)
    ss.add_argument("--subscribers", "--clients", type=_ints, default=[100, 1000], help="boards, e.g. 100,1000")
    ss.add_argument("--calls", type=int, default=50, help="call-next → complete rounds (one window)")
    ss.add_argument("--interval", type=float, default=0.1, help="seconds between the starts of two call-nexts")
    ss.add_argument("--window", type=int, default=1, help="the calling window")
    ss.add_argument("--client-procs", type=int, default=2, help="processes the boards are spread over")
    ss.add_argument("--deflate", action="store_true", help="negotiate permessage-deflate (browsers do)")
    ss.add_argument("--settle", type=float, default=2.0, help="seconds after connecting before RSS is read")
    ss.add_argument("--timeout", type=float, default=180.0, help="give up on a board after this long")
    ss.add_argument("--workers", type=int, default=1, help="server processes (`hall serve --workers`, PostgreSQL)")

    sk = sub.add_parser("subscribers-client", help="(internal) the board side of `subscribers`")
    sk.add_argument("--port", type=int, required=True)
    sk.add_argument("--n", type=int, required=True)
    sk.add_argument("--expect", type=int, required=True)
    sk.add_argument("--out", required=True)
    sk.add_argument("--timeout", type=float, default=180.0)
    sk.add_argument("--deflate", action="store_true")
    sk.add_argument("--connect-concurrency", type=int, default=64)

    sp = sub.add_parser("profile", help="issuance under wrk with py-spy recording the server")
    common(sp)
    sp.add_argument("--clients", type=int, default=16)
    sp.add_argument("--queues", default="A,B,C")
    sp.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    sp.add_argument("--blocking", action="store_true", help="pause the server for each sample (exact, slower)")
    sp.add_argument("--modes", default="cpu,gil,wall", help="cpu (on-CPU), gil (holding the GIL), wall (--idle)")
    sp.add_argument("--workers", type=int, default=1, help="server processes, each one recorded (PostgreSQL)")

    from city import add_parser as city_parser

    city_parser(sub, common)

    sr = sub.add_parser("report", help="markdown tables of bench/results/*.json")
    sr.add_argument("--readme", action="store_true", help="write them into bench/README.md")

    args = p.parse_args(argv)
    if args.cmd == "report":
        print(report(args.readme))
        return 0
    if args.cmd == "subscribers-client":
        return subscribers_client_main(args)
    args.server_env = dict(args.server_env)
    if args.nice:  # on a shared machine: the server and the load generator inherit it (PostgreSQL does not)
        # (With the kernel's autogroup scheduling, nice only ranks processes within one session.)
        os.nice(args.nice)
    if args.realtime:  # inherited by the server and wrk; the kernel keeps 5 % of each second for the rest
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(1))
    return _bench_main(args, p)


def _bench_main(args: argparse.Namespace, p: argparse.ArgumentParser) -> int:
    """Run the benchmark the arguments name, write its results."""
    kinds = [k.strip() for k in args.db.split(",")]
    for k in kinds:
        if k not in ("sqlite", "postgresql"):
            p.error(f"unknown --db {k}")
    if "sqlite" in kinds and getattr(args, "workers", 1) > 1:
        p.error("--workers N: SQLite is served by one process per file; several processes are for PostgreSQL")
    if args.cmd == "issue" and args.driver == "wrk" and not shutil.which("wrk"):
        p.error("wrk is not installed; use --driver asyncio")
    RESULTS.mkdir(exist_ok=True)
    if args.cmd == "profile":
        PROFILES.mkdir(exist_ok=True)
        for kind in kinds:
            bench_profile(args, kind)
        return 0
    machine = machine_info(kinds)
    machine["nice"] = args.nice
    machine["realtime"] = bool(getattr(args, "realtime", False))
    if args.server_env.get("PYTHONPATH"):  # the server ran from a copy of queue_server/, not the working tree
        machine["server_code_dirty"] = False
        machine["server_from"] = args.server_env["PYTHONPATH"]
    failed = False
    for kind in kinds:
        from city import bench_city

        bench = {
            "issue": bench_issue,
            "call-next": bench_call_next,
            "subscribers": bench_subscribers,
            "city": bench_city,
        }[args.cmd]
        body = bench(args, kind)
        data = {
            "benchmark": args.cmd,
            "db": kind,
            "machine": machine,
            "seconds": args.seconds,
            "server_env": args.server_env,
            **body,
        }
        tag = args.tag or (f"w{args.workers}" if getattr(args, "workers", 1) > 1 else "")
        name = f"{args.cmd}-{kind}{'-' + tag if tag else ''}"
        out = RESULTS / f"{name}.json"
        out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        if args.cmd == "city":
            from city import city_table

            print(city_table(kind, data))
        else:
            print(table(args.cmd, kind, data))
        print(f"wrote {out}", file=sys.stderr)
        failed |= not all(lv["check"]["ok"] for lv in body["levels"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
