"""A TCP relay between a board and the server that can go silent: the network dies without closing anything.

`hold()` stops relaying in both directions while every connection stays open (no FIN, no RST: what a pulled
cable or a dead switch looks like to both ends); `release()` resets the held connections, as the network coming
back does, and relays again. Only a heartbeat timeout can notice a hold.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from ..harness import free_port


class Blackhole:
    """Relays 127.0.0.1:`port` to 127.0.0.1:`upstream` until `close()`."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._held = threading.Event()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def hold(self) -> None:
        """The network goes silent: nothing passes, nothing is closed."""
        self._held.set()

    def release(self) -> None:
        """The network comes back: the connections that were cut are reset, new ones are relayed."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)  # wakes the relay threads blocked on it
                s.close()
        self._held.clear()

    def close(self) -> None:
        """Stop listening and drop every connection."""
        self._closed = True
        self._listener.close()
        self.release()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._pairs.append((client, server))
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                while self._held.is_set():  # silent: leave the bytes unread (the sender's buffers fill up)
                    time.sleep(0.02)
                    if src.fileno() < 0:
                        return
                data = src.recv(65536)
                if not data:
                    break
                while self._held.is_set():  # went silent between reading and writing: deliver nothing now
                    time.sleep(0.02)
                    if dst.fileno() < 0:
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
