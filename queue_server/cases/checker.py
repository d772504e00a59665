"""Upload checks in worker processes: CPU-bound parsing never runs on the server's event loop or under its GIL.

Each worker is a plain Python process (`python -c …`, so it never re-imports the server's main module)
that lowers its priority before importing anything, caps its address space, and answers one JSON line
per request on stdin/stdout with a `filecheck.Verdict`. At most `workers` checks run at once (others
wait their turn); a check that takes longer than `budget_s` gets its worker killed and the file refused
as too complex; a worker is replaced after `max_tasks` checks. Workers start on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import resource
import sys
import warnings
from dataclasses import asdict

from ..errors import Invalid
from . import filecheck
from .storage import Checked, MaterialStore, TooLarge
from .uploads import Staged

log = logging.getLogger(__name__)

CHECK_BUDGET_S = 20.0  # one file's check, wall time; past it the worker process is killed
CHECK_WORKERS = 2
CHECK_MEMORY_BYTES = 1 << 30  # address space of a worker (a PDF object-stream bomb ends there)
NICE = 10  # below the server: on a busy machine the hall's requests come first
WORKER_MAIN = f"import os; os.nice({NICE}); from queue_server.cases.checker import serve; serve()"


def serve() -> None:
    """The worker process: one JSON request per line on stdin, one verdict per line on stdout."""
    resource.setrlimit(resource.RLIMIT_AS, (CHECK_MEMORY_BYTES, CHECK_MEMORY_BYTES))
    logging.disable(logging.CRITICAL)  # pypdf's warnings about broken files are not the server's log
    warnings.simplefilter("ignore")
    answers, sys.stdout = sys.stdout, sys.stderr  # whatever a library prints cannot garble an answer
    for line in sys.stdin.buffer:
        req = json.loads(line)
        try:
            verdict = filecheck.check_path(req["path"], req["name"], req["max_bytes"])
        except Exception:  # a parser bug on a hostile file: refuse the file, keep the worker
            verdict = filecheck.Verdict(problem=filecheck.damaged(req["name"], "?"))
        answers.write(json.dumps(asdict(verdict), ensure_ascii=False) + "\n")
        answers.flush()


class _Worker:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc, self.tasks = proc, 0

    @classmethod
    async def start(cls) -> _Worker:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WORKER_MAIN,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return cls(proc)

    async def ask(self, path: str, name: str, max_bytes: int) -> filecheck.Verdict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        req = {"path": path, "name": name, "max_bytes": max_bytes}
        self.proc.stdin.write(json.dumps(req, ensure_ascii=False).encode() + b"\n")
        await self.proc.stdin.drain()
        line = await self.proc.stdout.readline()
        if not line:
            raise ConnectionError("the check worker ended")
        self.tasks += 1
        return filecheck.Verdict(**json.loads(line))

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()


class Checker:
    """The worker processes that check staged uploads; `close` stops them."""

    def __init__(self, *, workers: int = CHECK_WORKERS, budget_s: float = CHECK_BUDGET_S, max_tasks: int = 200) -> None:
        self.workers, self.budget_s, self.max_tasks = workers, budget_s, max_tasks
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._slots: asyncio.Semaphore | None = None

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
            worker = self._idle.pop() if self._idle else await _Worker.start()
            self._busy.add(worker)
            try:
                verdict = await asyncio.wait_for(worker.ask(path, name, max_bytes), self.budget_s)
            except (TimeoutError, ConnectionError, ValueError, TypeError):
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
            with contextlib.suppress(ProcessLookupError, TimeoutError):
                await asyncio.wait_for(worker.proc.wait(), 5)
