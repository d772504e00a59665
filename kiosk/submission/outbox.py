"""The kiosk's on-disk outbox: a submission and its scans survive a server outage and a restart, sent exactly once.

Layout under `root` (mode 0700; every file 0600 and encrypted):

    pending/<submission_id>/submission     the JSON part (and the time it was queued)
    pending/<submission_id>/page-001 …     the captured files, in order
    done/<submission_id>                   what the server answered (case number, query code): receipt reprints
    failed/<submission_id>/…               a submission the server refused for good, with `failure` (its detail)
    tmp/                                   where entries are assembled before one atomic rename

Writing: every file is written in `tmp/` (write, fsync), the finished directory is renamed into `pending/` and
the parent directory fsynced, so after a power cut an entry is either whole or absent. Sending: one sender
thread walks `pending/` oldest first; a 200/201 writes `done/<id>` and then removes the entry (a crash in
between only resends it, and the server answers the same `submission_id` with the same case: still one case);
no answer, 5xx, 408 or 429 keeps it for later with a growing pause (1 s doubling to 60 s); any other 4xx is
final: the entry moves to `failed/` with the server's sentence and staff are told through the device health.

Encryption at rest: Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`, already a dependency) with a key
kept in its own file (`<state dir>/outbox.key`, created 0600 on first use, or given by the kiosk's config).
Why a key file and not a key derived from the device token: a token is rotated by the administrator, and a
rotation must not make queued applications unreadable; why encrypt at all: names, ID numbers and scanned
documents must not be readable from a copied or backed-up state directory. It does not protect against
someone with root on the running kiosk (that would need a TPM or a hardware key store).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography.fernet import Fernet, InvalidToken

from kiosk.client import Final, Transient

from .model import Page, Submission

log = logging.getLogger("kiosk.outbox")

FIRST_PAUSE_S = 1.0
MAX_PAUSE_S = 60.0


class OutboxError(Exception):
    """The outbox cannot store or read an entry (disk full, wrong key, damaged file)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one submission handed to `Outbox.send_now`."""

    kind: Literal["sent", "queued", "refused"]
    case: Mapping[str, Any] | None = None
    sentence: str = ""


def load_key(path: Path) -> bytes:
    """The Fernet key in `path`, created (0600, never overwritten) when missing."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    return key


def _fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Outbox:
    """Durable, encrypted queue of submissions with one sender thread (see the module doc)."""

    def __init__(
        self,
        root: Path,
        send: Callable[[Submission], Mapping[str, Any]],
        *,
        key: bytes,
        report: Callable[[str], None] | None = None,
        on_sent: Callable[[str, Mapping[str, Any]], None] | None = None,
        first_pause_s: float = FIRST_PAUSE_S,
        max_pause_s: float = MAX_PAUSE_S,
    ) -> None:
        """An outbox in `root` sending with `send` (raises `Transient`/`Final`); `report` tells staff of a refusal."""
        self.root = root
        self._send, self._report, self._on_sent = send, report, on_sent
        self._fernet = Fernet(key)
        self._first, self._max = first_pause_s, max_pause_s
        for sub in ("pending", "done", "failed", "tmp"):
            (root / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(root, 0o700)
        for leftover in (root / "tmp").iterdir():  # half-written entries of a crash: never renamed, so never queued
            shutil.rmtree(leftover, ignore_errors=True)
        self._lock = threading.Lock()
        self._inflight: set[str] = set()
        self._due: dict[str, tuple[float, float]] = {}  # id → (next attempt, pause)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- files ------------------------------------------------------------------------------------------

    def _write(self, path: Path, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self._fernet.encrypt(data))
            f.flush()
            os.fsync(f.fileno())

    def _read(self, path: Path) -> bytes:
        try:
            return self._fernet.decrypt(path.read_bytes())
        except (OSError, InvalidToken) as e:
            raise OutboxError(f"cannot read {path.name}: {type(e).__name__}") from e

    def put(self, sub: Submission) -> None:
        """Store `sub` durably in `pending/` (atomic: whole or absent); OutboxError when the disk refuses."""
        entry = self.root / "pending" / sub.submission_id
        if entry.exists():
            return
        tmp = self.root / "tmp" / sub.submission_id
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(mode=0o700)
            meta: dict[str, Any] = {"data": sub.data(), "queued_at": time.time(), "pages": []}
            for i, page in enumerate(sub.pages, 1):
                self._write(tmp / f"page-{i:03d}", page.data)
                meta["pages"].append({"material": page.material, "content_type": page.content_type})
            self._write(tmp / "submission", json.dumps(meta, ensure_ascii=False).encode())
            _fsync_dir(tmp)
            os.rename(tmp, entry)
            _fsync_dir(entry.parent)
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            raise OutboxError(f"cannot store the submission: {e.strerror or type(e).__name__}") from e

    def load(self, submission_id: str, folder: str = "pending") -> Submission:
        """Read an entry back."""
        entry = self.root / folder / submission_id
        meta = json.loads(self._read(entry / "submission"))
        d = meta["data"]
        pages = tuple(
            Page(p["material"], p["content_type"], self._read(entry / f"page-{i:03d}"))
            for i, p in enumerate(meta["pages"], 1)
        )
        a = d["applicant"]
        return Submission(
            d["submission_id"],
            d["item"],
            d.get("item_version"),
            d["situation"],
            a["name"],
            a["id_number"],
            a.get("phone"),
            dict(d.get("form") or {}),
            pages,
            chain=bool(d.get("chain")),
            id_type=a.get("id_type"),  # entries of older kiosks have none: the number's shape tells the server
            nationality=a.get("nationality"),
            lang=d.get("lang"),  # entries of older kiosks have none: Chinese and English
        )

    def pending(self) -> list[str]:
        """Ids waiting to be sent, oldest first."""
        entries = [p for p in (self.root / "pending").iterdir() if p.is_dir()]
        return [p.name for p in sorted(entries, key=lambda p: (p.stat().st_mtime, p.name))]

    def failed(self) -> list[dict[str, Any]]:
        """The refused entries: id, reference, status, detail, at."""
        out = []
        for p in sorted((self.root / "failed").iterdir()):
            with contextlib.suppress(OutboxError, ValueError):
                out.append(json.loads(self._read(p / "failure")))
        return out

    def done(self, submission_id: str) -> dict[str, Any] | None:
        """What the server answered for a sent submission (None if not sent)."""
        path = self.root / "done" / submission_id
        return dict(json.loads(self._read(path))) if path.exists() else None

    # --- sending ----------------------------------------------------------------------------------------

    def send_now(self, sub: Submission) -> Outcome:
        """The kiosk's submit: store, try once; 'sent', 'queued' (the sender goes on later) or 'refused'.

        The entry is claimed before it is stored, so the sender thread cannot take it away from the citizen
        waiting at the screen. A refusal here is shown to the citizen, who is standing there and may change
        the application, so the entry is dropped instead of kept in `failed/`. OutboxError when it cannot
        even be stored.
        """
        sid = sub.submission_id
        with self._lock:
            self._inflight.add(sid)
        try:
            self.put(sub)
            result = self._send_claimed(sub, interactive=True)
        finally:
            with self._lock:
                self._inflight.discard(sid)
        if result is None:
            self.wake()
        return result or Outcome("queued")

    def _attempt(self, sid: str) -> Outcome | None:
        """Send one pending entry once; None when it stays pending (no answer, or another send is under way)."""
        with self._lock:
            if sid in self._inflight or not (self.root / "pending" / sid).exists():
                return None
            self._inflight.add(sid)
        try:
            return self._send_claimed(self.load(sid), interactive=False)
        finally:
            with self._lock:
                self._inflight.discard(sid)

    def _send_claimed(self, sub: Submission, *, interactive: bool) -> Outcome | None:
        """Send an entry this thread has claimed; None when there was no answer (kept for later)."""
        try:
            case = self._send(sub)
        except Transient as e:
            log.info("outbox %s: not sent (%s), kept", sub.reference, e)
            self._backoff(sub.submission_id)
            return None
        except Final as e:
            log.warning("outbox %s: refused %s", sub.reference, e.status)
            self._refused(sub, e, keep=not interactive)
            return Outcome("refused", sentence=e.sentence)
        self._sent(sub, case)
        return Outcome("sent", case=case)

    def _backoff(self, sid: str) -> None:
        with self._lock:
            _, pause = self._due.get(sid, (0.0, self._first / 2))
            pause = min(self._max, pause * 2)
            self._due[sid] = (time.monotonic() + pause, pause)

    def _sent(self, sub: Submission, case: Mapping[str, Any]) -> None:
        """Record the case (for reprints), then remove the entry."""
        record = {
            "submission_id": sub.submission_id,
            "reference": sub.reference,
            "number": case.get("number"),
            "query_token": case.get("query_token"),
            "receipt_url": case.get("receipt_url"),
            "sent_at": time.time(),
        }
        path = self.root / "done" / sub.submission_id
        tmp = self.root / "tmp" / f"{sub.submission_id}.done"
        self._write(tmp, json.dumps(record).encode())
        os.replace(tmp, path)
        shutil.rmtree(self.root / "pending" / sub.submission_id, ignore_errors=True)
        _fsync_dir(self.root / "pending")
        with self._lock:
            self._due.pop(sub.submission_id, None)
        log.info("outbox %s: sent, case %s", sub.reference, case.get("number"))
        if self._on_sent is not None:
            self._on_sent(sub.submission_id, case)

    def _refused(self, sub: Submission, e: Final, *, keep: bool) -> None:
        """A final no: drop it (the citizen saw the sentence) or keep it in `failed/` and tell staff."""
        entry = self.root / "pending" / sub.submission_id
        with self._lock:
            self._due.pop(sub.submission_id, None)
        if not keep:
            shutil.rmtree(entry, ignore_errors=True)
            return
        failure = {"submission_id": sub.submission_id, "reference": sub.reference, "status": e.status,
                   "detail": e.sentence, "at": time.time()}  # fmt: skip
        self._write(entry / "failure", json.dumps(failure, ensure_ascii=False).encode())
        os.rename(entry, self.root / "failed" / sub.submission_id)
        _fsync_dir(self.root / "failed")
        if self._report is not None:
            try:
                self._report(f"自助申报 {sub.reference} 被拒 / refused ({e.status}): {e.sentence}")
            except Exception as exc:  # telling staff must not stop the sender
                log.warning("outbox: staff report failed: %s", type(exc).__name__)

    def flush(self) -> int:
        """One pass: send every entry that is due; returns how many were sent or refused."""
        handled = 0
        now = time.monotonic()
        for sid in self.pending():
            if self._stop.is_set():
                break
            with self._lock:
                due = self._due.get(sid, (0.0, 0.0))[0]
            if due <= now and self._attempt(sid) is not None:
                handled += 1
        return handled

    def wake(self) -> None:
        """Look at the queue now (after a new entry, or when the network is known to be back)."""
        self._wake.set()

    def start(self) -> Outbox:
        """Start the sender thread (pending entries of a previous run are sent first)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kiosk-outbox", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the sender thread (entries stay on disk)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.flush()
            except (OSError, OutboxError) as e:
                log.error("outbox: %s", e)
            with self._lock:
                dues = [d for d, _ in self._due.values()]
            wait = min([max(0.05, d - time.monotonic()) for d in dues] + [self._max])
            self._wake.wait(wait)
            self._wake.clear()
