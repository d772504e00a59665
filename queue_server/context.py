"""What a running server shares: config, database, hub, tokens, cipher. Built per app, never global."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import anyio.to_thread
from sqlmodel import Session

from .calendar import Calendar, national_days
from .cases.checker import Checker
from .cases.signing import HallSigner, SignerFiles, demo_pki, load_signer
from .cases.sources import DataSource, load_sources
from .cases.storage import MaterialStore
from .config import AppConfig, HallConfig
from .crypto import PiiCipher
from .db import Database
from .errors import NotFound
from .events import HallEvent, Hub
from .policy import Rules
from .ratelimit import RateLimiter, make_storage
from .services.auth import USER_FRESH_S, Principal, TokenService, token_digest
from .services.logins import LoginGuard
from .services.ticketing import TicketOut
from .services.tx import HallRead, HallTx, hall_tx, read_events
from .services.users import load_user
from .timeutil import utcnow
from .writer import BatchWriter

T = TypeVar("T")
# The writer refuses a change's result that holds an ORM instance (writer.py, `BatchWriter.submit`), except
# of the classes named here. None is left: the ticket services return plain rows (queue_server/store), and
# the cold paths (appointments, home visits, notifications, evaluations, follow-ups, complaints, cases)
# return plain values built inside the transaction (tests/queue_server/test_writer.py). Keep it empty.
ORM_RESULTS_STILL_ALLOWED: frozenset[str] = frozenset()
DEFAULT_LANES = 4  # PostgreSQL writer threads per process (bench/README.md, "PostgreSQL batch writer")


@dataclass
class HallContext:
    """The server's shared parts; one per application instance."""

    config: AppConfig
    db: Database
    secret_key: str
    var_dir: Path = Path("var")  # the server's own files (uploaded case materials under data/)
    items_dir: Path | None = None  # the case items catalog (None: the repository's config/items)
    shared_data_dir: Path | None = None  # 秒批秒办's simulated data sources (None: config/shared-data)
    writer_lanes: int = 0  # writer threads on PostgreSQL (0: DEFAULT_LANES); SQLite has one
    rate_limit_url: str | None = None  # where rate-limit counts live (ratelimit.make_storage)
    user_fresh_s: float = USER_FRESH_S  # how long a staff user's row read is trusted unheard-of (services/auth.py)
    hub: Hub = field(init=False)
    tokens: TokenService = field(init=False)
    logins: LoginGuard = field(init=False)
    cipher: PiiCipher = field(init=False)
    zones: dict[str, ZoneInfo] = field(init=False)
    calendars: dict[str, Calendar] = field(init=False)
    limiter: RateLimiter = field(init=False)
    alerts: set[tuple[str, str, str]] = field(init=False)  # queue alerts raised and not yet cleared
    fingerprint_key: bytes = field(init=False)
    writer: BatchWriter = field(init=False)
    ticket_halls: dict[int, str] = field(init=False)  # ticket id -> hall, a guess checked in the change
    appointment_halls: dict[str, str] = field(init=False)  # booking code -> hall, likewise (`remember_appointment`)
    materials: MaterialStore = field(init=False)  # uploaded case materials under var_dir/data
    checker: Checker = field(init=False)  # the worker processes that check uploads (started on first use)

    def __post_init__(self) -> None:
        self._halls = {h.code: h for h in self.config.halls}
        self.ticket_halls, self.appointment_halls = {}, {}
        self.materials, self.checker = MaterialStore(self.var_dir), Checker()
        self.hub = Hub(self._fetch_range)
        devices = {
            token_digest(d.token.get_secret_value()): Principal("device", d.name, d.role, d.hall, window=d.window)
            for d in self.config.devices
        }
        lookup = functools.partial(load_user, self.db)
        self.tokens = TokenService(self.secret_key, devices, lookup, fresh_s=self.user_fresh_s)
        # A login reads the row afresh (never the tokens' copy): the password hash it checks is the current one,
        # and the argon2 check that follows costs a hundred times the read.
        self.logins = LoginGuard(lookup)
        self.cipher = PiiCipher(self.secret_key)
        self.fingerprint_key = hashlib.sha256(b"hall/config-password/v1\0" + self.secret_key.encode()).digest()
        self.zones = {h.code: ZoneInfo(h.timezone) for h in self.config.halls}
        self.limiter = RateLimiter(make_storage(self.rate_limit_url, self.db))
        self.alerts = set()
        national = national_days() if any(h.national_holidays for h in self.config.halls) else None
        self.calendars = {
            h.code: Calendar.build(
                self.zones[h.code], h.open, h.holidays, h.workdays, national=national if h.national_holidays else None
            )
            for h in self.config.halls
        }
        # Every change goes through the writer, which commits them in batches (group commit, writer.py): on
        # SQLite one thread instead of request threads queueing on the one write lock, an fsync each; on
        # PostgreSQL lanes of threads instead of a transaction, a commit and a NOTIFY per change.
        lanes = 1 if self.db.is_sqlite else self.writer_lanes or DEFAULT_LANES
        self.writer = BatchWriter(self.db, self.hub, lanes=lanes, orm_allowed=ORM_RESULTS_STILL_ALLOWED)

    @functools.cached_property
    def signer(self) -> HallSigner | None:
        """The signer of electronic certificates: `[certificates]` of the config, the demo CA in demo mode,
        else None (no certificate is issued). Loaded on first use; `prepare` loads it at start-up."""
        conf = self.config.certificates
        if conf is not None:
            password = conf.key_password.get_secret_value() if conf.key_password else None
            chain = tuple(Path(p) for p in conf.chain_files)
            return load_signer(SignerFiles(Path(conf.key_file), Path(conf.cert_file), chain, password))
        if self.config.server.demo:
            return load_signer(demo_pki(self.var_dir, self.config.halls[0].name))
        return None

    @functools.cached_property
    def sources(self) -> dict[str, DataSource]:
        """The shared data sources 秒批秒办 rules check (the simulator's fixture files); `prepare` loads them."""
        return load_sources(self.shared_data_dir)

    async def change(self, hall: str, fn: Callable[[HallTx], T]) -> T:
        """Run `fn` in one write transaction of the hall, off the event loop; events go out after commit.

        The transaction carries the hall's configuration, timezone, calendar and the cipher (`attach`).
        """

        def in_hall(tx: HallTx) -> T:
            self.attach(tx)
            return _settled(tx, fn(tx))

        return await self._submitted(hall, in_hall, staged=False)

    async def change_staged(self, hall: str, fn: Callable[[HallTx], Callable[[], T]]) -> T:
        """`change` for a change in two steps (writer.py `BatchWriter.submit(staged=True)`; e.g. issuing's
        `issue_staged`): pipelined on PostgreSQL with the batch's other staged changes."""

        def first(tx: HallTx) -> Callable[[], T]:
            self.attach(tx)
            second = fn(tx)
            return lambda: _settled(tx, second())

        return await self._submitted(hall, first, staged=True)

    async def _submitted(self, hall: str, fn: Callable[[HallTx], Any], *, staged: bool) -> Any:
        result = await self.writer.submit(hall, fn, tz=self.zones.get(hall), staged=staged)
        if isinstance(result, TicketOut):
            self.remember_ticket(result.ticket.id, hall)
        return result

    def attach(self, tx: HallRead) -> None:
        """Give a transaction (or read) of a configured hall what its functions need: configuration,
        timezone, calendar, cipher."""
        if tx.hall in self.zones:
            tx.config, tx.tz, tx.calendar = self.hall(tx.hall), self.zones[tx.hall], self.calendars[tx.hall]
        tx.cipher = self.cipher
        tx.wechat_bindings = self.config.notify.wechat_bindings

    @contextmanager
    def transaction(self, hall: str, *, now: datetime | None = None) -> Iterator[HallTx]:
        """A write transaction of the hall outside the writer (start-up, housekeeping, tests), attached."""
        with hall_tx(self.db, None, hall, now=now, tz=self.zones.get(hall)) as tx:
            self.attach(tx)
            yield tx

    @contextmanager
    def reading(self, hall: str) -> Iterator[HallRead]:
        """A read snapshot of a configured hall (NotFound otherwise), attached like a change's transaction;
        blocking: for code already off the event loop (`read_hall` for the rest)."""
        self.hall(hall)
        with self.db.read() as s:
            yield self._hall_read(s, hall)

    def _hall_read(self, s: Session, hall: str) -> HallRead:
        r = HallRead(s, hall, utcnow().astimezone(self.zones[hall]))
        self.attach(r)
        return r

    async def read_hall(self, hall: str, fn: Callable[[HallRead], T], *, report: bool = False) -> T:
        """Run `fn` on a read snapshot of a configured hall (NotFound otherwise), off the event loop;
        `report=True`: where reports read (the replica when configured, `Database.report`)."""
        self.hall(hall)

        def run() -> T:
            if report:
                return self.db.report(lambda s: fn(self._hall_read(s, hall)))
            with self.reading(hall) as r:
                return fn(r)

        return await anyio.to_thread.run_sync(run)

    async def read(self, fn: Callable[[Session], T], *, report: bool = False) -> T:
        """Run `fn` on a read snapshot, off the event loop; `report=True`: where statistics, reports and
        exports read (the replica when configured, else the primary: `Database.report`)."""

        def run() -> T:
            if report:
                return self.db.report(fn)
            with self.db.read() as s:
                return fn(s)

        return await anyio.to_thread.run_sync(run)

    def close(self) -> None:
        """Stop the writer thread and the upload checkers, and close the database."""
        self.writer.close()
        self.checker.close()
        self.db.dispose()

    def hall(self, code: str) -> HallConfig:
        """The hall's configuration, or NotFound."""
        h = self._halls.get(code)
        if h is None:
            raise NotFound(f"大厅不存在 / No hall '{code}'")
        return h

    def remember_ticket(self, ticket_id: int | None, hall: str) -> None:
        """Note which hall a ticket belongs to (it never changes), so its next action skips a read.

        Only a guess: the action's own transaction loads the ticket of that hall and answers NotFound
        otherwise, and the caller then asks the database (a test database emptied under a running server
        reuses ticket ids). Bounded: cleared when it reaches 100,000 entries (a busy city's day).
        """
        if ticket_id is None:
            return
        if len(self.ticket_halls) >= 100_000:
            self.ticket_halls.clear()
        self.ticket_halls[ticket_id] = hall

    def remember_appointment(self, code: str, hall: str) -> None:
        """Note which hall a booking code belongs to (it never changes), so its check-in skips a read first; a
        guess as `remember_ticket`'s (the change loads the appointment of that hall, else NotFound), as bounded."""
        if len(self.appointment_halls) >= 100_000:
            self.appointment_halls.clear()
        self.appointment_halls[code.upper()] = hall

    def forget_caches(self) -> None:
        """Drop what was remembered about rows (after the database was emptied or restored)."""
        self.ticket_halls.clear()
        self.appointment_halls.clear()
        self.tokens.forget()
        self.writer.forget()

    def rules(self, code: str) -> Rules:
        """The hall's queue-policy rules."""
        return Rules(max_priority_streak=self.hall(code).max_priority_streak)

    def _fetch_range(self, hall: str, after: int, before: int) -> list[HallEvent]:
        with self.db.read() as s:
            return read_events(s, hall, after, before, tz=self.zones.get(hall))


def _settled(tx: HallTx, result: T) -> T:
    """After a change: the writer runs many changes in one session. A cold path's ORM objects (cases, feedback)
    go out of the session after its change, so the next change loads them afresh and never sees a copy that the
    store's Core statements (queue_server/store) have since made stale."""
    if tx.session.new or tx.session.dirty or tx.session.deleted:
        tx.session.flush()
    if tx.session.identity_map:
        tx.session.expunge_all()
    return result
