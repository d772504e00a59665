"""Upload checks in worker processes: CPU-bound parsing never runs on the server's event loop or under its GIL.

Each worker is a plain Python process (`python -c …`, so it never re-imports the server's main module)
that lowers its priority before importing anything, caps its address space, and answers one JSON line
per request on stdin/stdout with a `filecheck.Verdict`. At most `workers` checks run at once (others
wait their turn); a check that takes longer than `budget_s` gets its worker killed and the file refused
as too complex; a worker is replaced after `max_tasks` checks. Workers start when the first upload begins.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import subprocess
import sys

from ..errors import Invalid
from . import filecheck
from .storage import Checked, MaterialStore, TooLarge
from .uploads import Staged

log = logging.getLogger(__name__)

CHECK_BUDGET_S = 20.0  # one file's check, wall time; past it the worker process is killed
CHECK_WORKERS = 2
NICE = 10  # below the server: on a busy machine the hall's requests come first
# The worker imports filecheck alone (Pillow, pypdf: about 0.5 s), not the server.
WORKER_MAIN = f"import os; os.nice({NICE}); from queue_server.cases.filecheck import serve; serve()"


class _Worker:
    """One worker process. Started and spoken to from threads: `subprocess` starts it with vfork (no copy of
    the server's memory, nothing on the event loop), and a blocking read never holds up the loop."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603  (our own interpreter and code)
            [sys.executable, "-c", WORKER_MAIN],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.tasks = 0

    def _ask(self, line: bytes) -> bytes:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line)
        self.proc.stdin.flush()
        return self.proc.stdout.readline()

    async def ask(self, path: str, name: str, max_bytes: int) -> filecheck.Verdict:
        req = {"path": path, "name": name, "max_bytes": max_bytes}
        # asyncio.to_thread, not anyio's: a timeout stops the waiting at once; `kill` then ends the read
        line = await asyncio.to_thread(self._ask, json.dumps(req, ensure_ascii=False).encode() + b"\n")
        if not line:
            raise ConnectionError("the check worker ended")
        self.tasks += 1
        return filecheck.Verdict(**json.loads(line))

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        with contextlib.suppress(RuntimeError):  # reaped in a thread (no loop: at exit, the OS does it)
            asyncio.get_running_loop().run_in_executor(None, self.proc.wait)


class Checker:
    """The worker processes that check staged uploads; `close` stops them."""

    def __init__(self, *, workers: int = CHECK_WORKERS, budget_s: float = CHECK_BUDGET_S, max_tasks: int = 200) -> None:
        self.workers, self.budget_s, self.max_tasks = workers, budget_s, max_tasks
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._slots: asyncio.Semaphore | None = None
        self._warming = False

    async def warm(self) -> None:
        """Start the workers now (their imports overlap the upload) unless they run already."""
        if self._warming or self._idle or self._busy:
            return
        self._warming = True
        try:
            for _ in range(self.workers):
                self._idle.append(await asyncio.to_thread(_Worker))
        finally:
            self._warming = False

    async def check(self, store: MaterialStore, files: list[Staged], max_bytes: int) -> list[tuple[str, Checked]]:
        """Each staged file checked in a worker: (material, Checked); Invalid or TooLarge names the first bad file."""
        out = []
        for f in files:
            verdict = await self.one(str(store.staged(f.name)), f.filename, max_bytes)
            if verdict.problem:
                raise (TooLarge if verdict.status == 413 else Invalid)(verdict.problem)
            out.append((f.material, Checked(f.name, verdict.content_type, verdict.size, verdict.sha256)))
        return out

    async def one(self, path: str, name: str, max_bytes: int) -> filecheck.Verdict:
        """The verdict on one file, from a worker within the time budget."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        async with self._slots:
            worker = self._idle.pop() if self._idle else await asyncio.to_thread(_Worker)
            self._busy.add(worker)
            try:
                verdict = await asyncio.wait_for(worker.ask(path, name, max_bytes), self.budget_s)
            except (TimeoutError, OSError, ValueError, TypeError):
                worker.kill()
                log.warning("upload check stopped after %.0f s or failed; file refused", self.budget_s)
                return filecheck.Verdict(problem=filecheck.too_complex(name))
            except BaseException:  # cancelled (the client went away): the worker may be mid-check
                worker.kill()
                raise
            finally:
                self._busy.discard(worker)
            if worker.tasks >= self.max_tasks:
                worker.kill()
            else:
                self._idle.append(worker)
            return verdict

    def close(self) -> None:
        """Stop every worker."""
        for worker in [*self._idle, *self._busy]:
            worker.kill()
        self._idle.clear()

    async def aclose(self) -> None:
        """Stop every worker and wait for it to end (at the server's shutdown)."""
        workers = [*self._idle, *self._busy]
        self.close()
        for worker in workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(worker.proc.wait, 5)
