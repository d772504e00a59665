"""`hall serve --workers N`: N server processes behind one port, each with a listening socket of its own.

Why not uvicorn's own process manager (`uvicorn.run(..., workers=N)`): it binds one socket and hands it
to every worker, and whichever worker wakes first accepts every connection waiting (libuv accepts in a
loop). Kiosks, windows and boards hold keep-alive connections, so a burst of them at opening time lands
on one worker and stays there: in the city benchmark one worker served 90 % of the requests while the
other idled. Here each worker listens on its own socket with `SO_REUSEPORT` and the kernel spreads new
connections over the sockets evenly (by a hash of the client's address and port), as nginx's `reuseport`
does. Where the option is missing (not Linux) all workers share one socket, as before.

The parent keeps every socket open for the whole run, so a connection the kernel queued on the socket of
a worker that died waits for its replacement instead of being refused. A worker that dies is started
again; one that dies within `STARTUP_GRACE_S` of starting (a configuration or database error) stops the
whole server with its exit status, rather than restarting for ever. SIGINT/SIGTERM stop the workers
gracefully (uvicorn's shutdown in each), then the parent exits.
"""

from __future__ import annotations

import logging
import logging.config
import multiprocessing
import signal
import socket
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from .metrics import worker_died

log = logging.getLogger("queue_server.workers")

STARTUP_GRACE_S = 5.0  # a worker dying sooner than this after its start is a start-up failure
STOP_TIMEOUT_S = 15.0  # after SIGTERM, a worker still running this much later is killed
_spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or engines inherited


def listening_sockets(host: str, port: int, n: int, backlog: int = 2048) -> list[socket.socket]:
    """`n` sockets listening on host:port, one per worker (`SO_REUSEPORT`), or one shared socket."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    reuse_port = hasattr(socket, "SO_REUSEPORT")
    socks: list[socket.socket] = []
    try:
        for _ in range(n if reuse_port else 1):
            sock = socket.socket(family, socket.SOCK_STREAM)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.listen(backlog)
            sock.set_inheritable(True)
    except OSError:
        for sock in socks:
            sock.close()
        raise
    return socks if reuse_port else socks * n


def _worker(sock: socket.socket, uvicorn_kwargs: dict[str, Any], index: int, n: int) -> None:
    """A worker process: the application from the environment (see `app.worker_app`) on its socket."""
    import os

    import uvicorn

    # which worker this is, of how many: each hall's take-a-number is written by its owner (forward.py)
    os.environ.update(HALL_WORKER=str(index), HALL_WORKERS=str(n))

    config = uvicorn.Config("queue_server.app:worker_app", factory=True, **uvicorn_kwargs)  # configures logging
    logging.captureWarnings(True)  # warnings while the app is imported are log lines too
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    """Starts, watches and stops the worker processes."""

    def __init__(self, socks: list[socket.socket], uvicorn_kwargs: dict[str, Any]) -> None:
        self.socks = socks
        self.kwargs = uvicorn_kwargs
        self.procs: list[BaseProcess | None] = [None] * len(socks)
        self.started: list[float] = [0.0] * len(socks)
        self.stopping = False

    def _start(self, i: int) -> None:
        proc = _spawn.Process(
            target=_worker, args=(self.socks[i], self.kwargs, i, len(self.socks)), name=f"hall-worker-{i + 1}"
        )
        proc.start()
        self.procs[i], self.started[i] = proc, time.monotonic()

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        """Run until SIGINT/SIGTERM (0) or a worker fails at start-up (its exit status)."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._stop)
        status = 0
        try:
            for i in range(len(self.socks)):
                self._start(i)
            while not self.stopping:
                alive = [p.sentinel for p in self.procs if p is not None]
                wait(alive, timeout=0.5)
                for i, proc in enumerate(self.procs):
                    if proc is None or proc.is_alive() or self.stopping:
                        continue
                    code = proc.exitcode if proc.exitcode is not None else 1
                    if time.monotonic() - self.started[i] < STARTUP_GRACE_S:
                        log.error("worker %d failed at start (exit status %s): stopping", i + 1, code)
                        self.stopping, status = True, (code if code > 0 else 1)
                        break
                    log.error("worker %d (pid %s) died with status %s: starting it again", i + 1, proc.pid, code)
                    if proc.pid is not None:
                        worker_died(proc.pid)  # its live gauges (websocket subscribers) leave /metrics
                    self._start(i)
        finally:
            self._shutdown()
            for sock in set(self.socks):
                sock.close()
        return status

    def _shutdown(self) -> None:
        procs = [p for p in self.procs if p is not None and p.is_alive()]
        for proc in procs:
            proc.terminate()  # SIGTERM: uvicorn finishes its requests and runs the app's shutdown
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                log.warning("worker pid %s did not stop in %.0f s: killing it", proc.pid, STOP_TIMEOUT_S)
                proc.kill()
                proc.join()


def serve_workers(n: int, uvicorn_kwargs: dict[str, Any]) -> int:
    """Serve the app with `n` worker processes on `uvicorn_kwargs`' host and port; the exit status."""
    kwargs = dict(uvicorn_kwargs)
    host, port = kwargs.pop("host"), kwargs.pop("port")
    if isinstance(kwargs.get("log_config"), dict):  # the parent logs as the workers do
        logging.config.dictConfig(kwargs["log_config"])
    socks = listening_sockets(host, port, n)
    log.info("serving on http://%s:%d with %d worker processes", host, port, n)
    return Supervisor(socks, kwargs).run()
