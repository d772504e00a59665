"""Kiosk performance (issue 5): tap to ticket bytes at the printer, cold start to home screen, memory over tickets.

    .venv/bin/python bench/kiosk.py [--tickets 1000] [--cold 3] [--out results.json]

Runs everything for real on this machine: its own Xvfb (the time X takes to start is not the kiosk's), a
throwaway `hall serve` (SQLite), the TCP ESC/POS printer simulator in this process, and `python -m kiosk` driven
by touch events (`--script`). Targets: tap → ticket bytes ≤ 1 s at p95, cold start ≤ 5 s, memory flat over
1,000 tickets.

* tap → bytes: from the log line of the touch on "get my number" (and, for comparison, on the domain tile) to
  the moment the printer simulator has the whole ticket (cut received);
* cold start: from starting the process to the kiosk's "home drawn" log line (two frames after start);
* memory: the kiosk's VmRSS after every 100 tickets; "growth" compares the last sample with the one at 100.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.tour import throwaway_server  # noqa: E402
from peripherals.printer.simulator import TcpSimulator  # noqa: E402

TOKEN = "bench-kiosk-token-0123456789"
CONFIG = f"""
[server]
demo = true

[[halls]]
code = "bench"
name = "性能测试大厅"
name_en = "Bench Hall"

  [[halls.queues]]
  code = "A"
  name = "市场准入"
  name_en = "Market access"

  [[halls.queues]]
  code = "B"
  name = "投资建设"
  name_en = "Investment"

  [[halls.queues]]
  code = "C"
  name = "社会事务"
  name_en = "Social affairs"

  [[halls.windows]]
  number = 1
  queues = ["A", "B", "C"]

[[devices]]
name = "bench-kiosk"
role = "kiosk"
hall = "bench"
token = "{TOKEN}"
"""
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) kiosk (.*)$")


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """An Xvfb on a free display (it tells the number on a pipe)."""
    r, w = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
        pass_fds=(w,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(w)
    with os.fdopen(r) as f:
        display = f.readline().strip()
    return xvfb, f":{display}"


def kiosk_cmd(url: str, script: str, printer: str) -> list[str]:
    """The kiosk's command line."""
    cmd = [sys.executable, "-m", "kiosk", "--server", url, "--hall", "bench", "--token", TOKEN]
    return [*cmd, "--printer", printer, "--script", script]


def rss_kb(pid: int) -> int:
    """VmRSS of a process in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def stamp(text: str) -> float:
    """A log line's wall-clock time."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def cold_starts(url: str, env: dict[str, str], runs: int) -> list[float]:
    """Seconds from process start to the home screen drawn, `runs` times."""
    out = []
    for _ in range(runs):
        t0 = time.monotonic()
        proc = subprocess.Popen(
            kiosk_cmd(url, "wait:home,quit", "sim://"), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert proc.stdout is not None
        took = None
        for raw in proc.stdout:
            if b"kiosk ready: home drawn" in raw and took is None:
                took = time.monotonic() - t0
        proc.wait(timeout=60)
        if took is None:
            raise RuntimeError("the kiosk never drew its home screen")
        out.append(round(took, 3))
    return out


def ticket_run(url: str, env: dict[str, str], tickets: int) -> dict[str, object]:
    """Take `tickets` numbers by touch; tap → printer latencies and the kiosk's memory every 100 tickets."""
    steps = ["wait:home"]
    for i in range(tickets):
        steps += ["take", "wait:domain", f"domain:{'ABC'[i % 3]}", "confirm", "wait:ticket", "home"]
    with TcpSimulator() as printer:
        arrivals: list[float] = []

        def watch() -> None:
            while len(arrivals) < tickets:
                try:
                    printer.printer.wait_for_documents(len(arrivals) + 1, timeout=60)
                except TimeoutError:
                    return
                arrivals.append(time.time())

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        proc = subprocess.Popen(
            kiosk_cmd(url, ",".join(steps), printer.url), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert proc.stdout is not None
        confirms: list[float] = []
        domains: list[float] = []
        rss: list[tuple[int, int]] = []
        issued = 0
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            m = STAMP.match(line)
            if m is None:
                continue
            what = m[2]
            if what.startswith("kiosk script step: confirm"):
                confirms.append(stamp(m[1]))
            elif what.startswith("kiosk script step: domain:"):
                domains.append(stamp(m[1]))
            elif what.startswith("kiosk print:"):
                issued += 1
                if issued % 100 == 0 or issued == 10:
                    rss.append((issued, rss_kb(proc.pid)))
            elif what.startswith("kiosk script:"):
                raise RuntimeError(line)
        proc.wait(timeout=60)
        watcher.join(timeout=5)
        docs = len(printer.printer.documents)
    n = min(len(confirms), len(arrivals), len(domains))
    tap = sorted(arrivals[i] - confirms[i] for i in range(n))
    dom = sorted(arrivals[i] - domains[i] for i in range(n))
    at100 = next((kb for k, kb in rss if k == 100), rss[0][1] if rss else 0)
    return {
        "tickets": issued,
        "printed": docs,
        "confirm_to_bytes_s": _pcts(tap),
        "domain_to_bytes_s": _pcts(dom),
        "rss_kb": rss,
        "rss_growth_after_100_kb": (rss[-1][1] - at100) if rss else None,
    }


def _pcts(xs: list[float]) -> dict[str, float]:
    if not xs:
        return {}
    q = statistics.quantiles(xs, n=100, method="inclusive")
    return {"p50": round(q[49], 3), "p95": round(q[94], 3), "p99": round(q[98], 3), "max": round(max(xs), 3)}


def main(argv: list[str] | None = None) -> int:
    """Run the kiosk benchmarks and print the results as JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--tickets", type=int, default=1000, help="tickets to take by touch (memory and latency)")
    p.add_argument("--cold", type=int, default=3, help="cold starts to time")
    p.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = p.parse_args(argv)
    xvfb, display = start_xvfb()
    try:
        with throwaway_server(CONFIG) as (url, env):
            env = env | {"DISPLAY": display}
            result: dict[str, object] = {
                "date": datetime.now().astimezone().isoformat(timespec="seconds"),
                "cpus": os.cpu_count(),
                "cold_start_s": cold_starts(url, env, args.cold),
            }
            result |= ticket_run(url, env, args.tickets)
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
