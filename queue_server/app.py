"""The application factory: routes, error mapping, start-up (migrate, sync config) and day rollover."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import DataError, OperationalError
from sqlmodel import col

from . import notify
from .cases.catalog import load_catalog, missing_names
from .cases.chains import chains_dir, load_chains
from .cases.chains import missing_names as missing_chain_names
from .cases.items import sync_catalog
from .cases.outcomes import expire_shortfalls
from .context import HallContext
from .db import Database
from .errors import HallError, TooManyRequests
from .feedback.reports import ensure_rollups
from .forward import Forwarding
from .metrics import Metrics
from .migrations import upgrade
from .models import Hall
from .notify import api as notify_api
from .notify import wechat_bind
from .readiness import Readiness
from .services.appointments import mark_no_shows
from .services.halls import sync_config
from .services.housekeeping import appointment_reminders, queue_alerts
from .services.tickets import expire_before
from .services.tx import hall_tx
from .settings import GIL_SWITCH_MS, Runtime, items_dir
from .timeutil import service_day, utcnow

log = logging.getLogger(__name__)
ROLLOVER_CHECK_S = 30.0


def build_context(runtime: Runtime) -> HallContext:
    """Open the database and build the shared parts from resolved settings."""
    db = Database(
        runtime.database_url,
        sqlite_synchronous=runtime.settings.sqlite_synchronous,
        read_url=runtime.database_read_url,
    )
    own_data = runtime.config_path.parent / "shared-data"
    return HallContext(
        config=runtime.config,
        db=db,
        secret_key=runtime.secret_key,
        var_dir=runtime.settings.var_dir.expanduser().resolve(),
        items_dir=items_dir(runtime.config_path),
        shared_data_dir=own_data if own_data.is_dir() else None,
        writer_lanes=runtime.settings.writer_lanes,
        rate_limit_url=runtime.settings.rate_limit_url or runtime.config.server.rate_limit_url,
        user_fresh_s=runtime.settings.user_fresh_s,
    )


def prepare(ctx: HallContext, *, migrate: bool = True) -> None:
    """Migrate the schema, sync the configuration, close yesterday's leftovers."""
    if migrate:
        upgrade(ctx.db.url)
    with ctx.db.write() as s:
        sync_config(s, ctx.config, fp_key=ctx.fingerprint_key)
        items = load_catalog(ctx.items_dir)
        sync_catalog(s, items)
    chains = load_chains(chains_dir(ctx.items_dir), items)  # 一链办理: a chain file its items contradict stops it
    close_past_days(ctx)
    wanted = [lang for hall in ctx.config.halls for lang in hall.languages]
    for line in missing_names(items, wanted) + missing_chain_names(chains, wanted):  # shown in English meanwhile
        log.warning("catalogue: %s", line)
    for hall in ctx.config.halls:  # said once, at start-up (and in the supervisor view)
        notice = ctx.calendars[hall.code].national_gap_notice(service_day(utcnow(), ctx.zones[hall.code]))
        if notice:
            log.warning("hall %s: %s", hall.code, notice)
    _ = ctx.signer  # a configured signing key that cannot be read stops the start (SigningError names the file)
    _ = ctx.sources  # so does a broken data-source fixture (ConfigError names the file)
    ctx.materials.sweep(ctx.db, full=True)  # what a crash left in staging, files a restored database lost


def close_past_days(ctx: HallContext) -> int:
    """Expire tickets still open from earlier service days and mark missed appointments, in every hall."""
    total = 0
    for h in ctx.config.halls:
        tz = ctx.zones[h.code]
        with hall_tx(ctx.db, ctx.hub, h.code, tz=tz) as tx:
            tx.config = h
            total += expire_before(tx, service_day(tx.now, tz))
            total += mark_no_shows(tx, late_min=h.checkin_late_min)
            appointment_reminders(tx, h)
            expire_shortfalls(tx, tz=tz)
            queue_alerts(tx, h, ctx.alerts)
            today = service_day(tx.now, tz)
        # yesterday's statistics rollup, so the morning's first report does not pay for it (a no-op once built)
        yesterday = today - timedelta(days=1)
        ensure_rollups(ctx.db, h.code, yesterday, yesterday, today, tz)
    return total


def heads(ctx: HallContext) -> dict[str, int]:
    """Each hall's last committed `seq`."""
    with ctx.db.read() as s:
        return {code: int(seq) for code, seq in s.execute(select(col(Hall.code), col(Hall.last_seq))).all()}


async def _rollover_loop(ctx: HallContext, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            n = await asyncio.to_thread(close_past_days, ctx)
            if n:
                log.info("service day ended: %d tickets expired", n)
            await asyncio.to_thread(ctx.materials.sweep, ctx.db)
        except Exception:  # keep the loop alive through a database blip; it retries next round
            log.exception("day rollover failed")


def _forwarding(ctx: HallContext, app: FastAPI, runtime: Runtime | None) -> Forwarding | None:
    """This worker's end of the take-a-number channel (forward.py): with `--workers` >= 2 on PostgreSQL, unless
    HALL_FORWARD=0 (or the var directory's path is too long for a unix socket)."""
    if runtime is None or ctx.db.is_sqlite:
        return None
    s = runtime.settings
    if not s.forward or s.worker is None or s.workers < 2 or s.worker >= s.workers:
        return None
    if not Forwarding.usable(ctx.var_dir, s.workers):
        log.warning("take-a-number is not forwarded between workers: the var directory's path is too long")
        return None
    return Forwarding(ctx, app, s.worker, s.workers)


def worker_app() -> FastAPI:
    """One of several server processes (`hall serve --workers N`, PostgreSQL): settings from the
    environment; the parent process already migrated the schema and synced the configuration."""
    from .settings import Settings, resolve

    return create_app(resolve(Settings()), prepare_db=False, tune_gc=True)


def create_app(
    runtime: Runtime | None = None,
    *,
    ctx: HallContext | None = None,
    migrate: bool = True,
    tune_gc: bool = False,
    prepare_db: bool = True,
    fast_routes: bool = True,
) -> FastAPI:
    """Build the FastAPI application for a resolved runtime (or a prepared context, in tests).

    `tune_gc` (for a server process of its own): after start-up, move everything alive into the
    permanent generation and collect the young generation less often. Python's cyclic collector
    otherwise stops the process every few hundred requests to scan start-up objects that never die,
    which is most of the p99 latency of issuance (measured in bench/). It also sets the thread switch
    interval (`HALL_GIL_SWITCH_MS`, settings.py): the writer's threads get the GIL back sooner after
    each database answer.

    `fast_routes=False` serves take-a-number through FastAPI alone (api/middleware.py), for comparisons.
    """
    if ctx is None:
        assert runtime is not None
        ctx = build_context(runtime)
    shared = ctx

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        shared.db.claim_serving()  # SQLite: one server process per file
        if prepare_db:
            await asyncio.to_thread(prepare, shared, migrate=migrate)
        shared.hub.attach(asyncio.get_running_loop(), await asyncio.to_thread(heads, shared))
        dispatcher = notify.start(shared)
        listener = None
        if not shared.db.is_sqlite:  # other processes may commit to the same PostgreSQL database
            from .pgnotify import Listener

            listener = app.state.listener = Listener(shared)
            listener.start()
        forwarding = app.state.forward = _forwarding(shared, app, runtime)
        if forwarding is not None:
            await forwarding.start()
        if tune_gc:
            gc.collect()
            gc.freeze()
            gc.set_threshold(50_000, 50, 1000)
            switch_ms = runtime.settings.gil_switch_ms if runtime else None
            if switch_ms is None and not shared.db.is_sqlite:
                switch_ms = GIL_SWITCH_MS
            if switch_ms is not None:
                sys.setswitchinterval(switch_ms / 1000)
        task = asyncio.create_task(_rollover_loop(shared, getattr(app.state, "rollover_s", ROLLOVER_CHECK_S)))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if forwarding is not None:  # before the writer closes: what the owner took is answered first
                await forwarding.stop()
            if listener is not None:
                await listener.stop()
            await dispatcher.stop()
            shared.hub.detach()
            await asyncio.to_thread(shared.writer.close)  # waits for the queued changes: not on the loop
            await shared.checker.aclose()
            shared.db.release_serving()

    server = ctx.config.server
    api_docs = server.demo if server.api_docs is None else server.api_docs  # [server] api_docs; demo: on
    app = FastAPI(
        title="One-window hall queue server",
        summary="政务服务大厅 取号叫号 · tickets, windows, calling and the hall event stream",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # our own /docs (api/routes/docs.py): local files, no inline script
        redoc_url=None,
        openapi_url="/openapi.json" if api_docs else None,
        # FastAPI's OpenTelemetry bridge asks the global providers on every request; the server exports none.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.ctx = ctx
    app.state.forward = None  # the take-a-number channel between worker processes, while serving (forward.py)
    from .api.middleware import HallMiddleware
    from .api.routes.ws import RawSocket

    # Prometheus metrics (metrics.py): the one middleware below times every HTTP request into
    # `metrics.observe_request(scope, status, seconds)`.
    metrics = app.state.metrics = Metrics(ctx)
    # CSP and framing rules on every HTML page, request latency, take-a-number without FastAPI's machinery
    app.add_middleware(HallMiddleware, metrics=metrics, fast=fast_routes)
    app.add_middleware(RawSocket)  # live hall events written straight to the boards' sockets (api/routes/ws.py)
    ctx.writer.observe(metrics.on_batch)
    ctx.hub.on_count = metrics.on_subscribers
    if metrics.enabled():  # demo mode, or [server] metrics_token set
        app.add_api_route("/metrics", metrics.endpoint, methods=["GET"], tags=["public"], include_in_schema=False)
    ready = Readiness(ctx.db, ctx.var_dir)

    @app.get("/readyz", tags=["public"])
    async def readyz() -> JSONResponse:
        """200 when a write would succeed now (database and var directory), else 503 naming what fails."""
        report = await ready.check()
        return JSONResponse(report, status_code=200 if report["ready"] else 503)

    @app.exception_handler(HallError)
    async def _hall_error(_req: Request, exc: HallError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        if exc.status_code == 503:
            headers = {"Retry-After": "1"}
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after_s)}
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI echoes the offending input back; that could be an ID or phone number: leave it out.
        errors: list[dict[str, Any]] = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(DataError)
    async def _bad_data(_req: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot store (a NUL byte, an out-of-range number) that validation let by.
        log.warning("rejected data: %s", type(exc.orig).__name__)
        return JSONResponse(
            {"detail": "请求中含有无法处理的字符或数值 / The request holds a value that cannot be stored"}, 422
        )

    @app.exception_handler(OperationalError)
    async def _db_down(_req: Request, exc: OperationalError) -> JSONResponse:
        log.error("database error: %s", type(exc.orig).__name__)
        return JSONResponse(
            {"detail": "数据库暂时不可用，请稍后再试 / Database unavailable; try again"}, status_code=503
        )

    from .api.routes import (
        appointments,
        cases,
        console,
        desk,
        desk_agent,
        docs,
        feedback,
        halls,
        home_visits,
        tickets,
        track,
        users,
        web,
        web_i18n,
        windows,
        ws,
    )

    # Routes are matched in order: the busiest (take a number, window actions) first.
    app.include_router(tickets.router)
    app.include_router(track.router)
    app.include_router(windows.router)
    app.include_router(halls.router)
    app.include_router(users.router)
    app.include_router(appointments.router)
    app.include_router(home_visits.router)
    app.include_router(notify_api.router)
    app.include_router(wechat_bind.router)
    app.include_router(ws.router)
    app.include_router(web.router)
    app.include_router(web_i18n.router)
    app.include_router(console.router)
    app.include_router(desk.router)
    app.include_router(desk_agent.router)
    app.include_router(cases.router)
    app.include_router(feedback.router)
    if api_docs:
        app.include_router(docs.router)
    return app
