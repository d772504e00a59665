"""The `hall` command: serve, check the configuration, migrate, back up and restore, revoke staff sessions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from .config import ConfigError
from .settings import Runtime, Settings, resolve

if TYPE_CHECKING:
    from .context import HallContext

app = typer.Typer(help="One-window hall: queue server and tools.", no_args_is_help=True, add_completion=False)


def _runtime(config: Path | None, **overrides: object) -> Runtime:
    values = {k: v for k, v in overrides.items() if v is not None}
    if config is not None:
        values["config"] = config
    try:
        return resolve(Settings(**values))  # type: ignore[arg-type]
    except ConfigError as exc:
        typer.echo(f"配置错误 / configuration error:\n{exc}", err=True)
        raise typer.Exit(2) from None
    except ValidationError as exc:  # a HALL_* environment variable
        lines = [f"HALL_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()]
        typer.echo("环境变量错误 / environment setting error:\n" + "\n".join(lines), err=True)
        raise typer.Exit(2) from None


def _check_catalog(rt: Runtime) -> int:
    """The number of items in the catalogue the server will load; a missing or broken one stops with its
    problems (file and line), never a traceback."""
    from .cases.catalog import CatalogError, default_items_dir, load_catalog
    from .settings import items_dir

    where = items_dir(rt.config_path)
    try:
        return len(load_catalog(where))
    except CatalogError as exc:
        beside = rt.config_path.parent / "items"
        hint = (
            f"put the item files (*.toml) into {beside}, or remove that directory to use the catalogue shipped "
            f"with the server ({default_items_dir()})"
            if where is not None
            else "the catalogue shipped with the server is missing: reinstall the package"
        )
        typer.echo(f"事项目录错误 / item catalogue error: {exc}; {hint}", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    config: Annotated[Path | None, typer.Option(help="hall configuration TOML (default: the demo hall)")] = None,
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    migrate: Annotated[bool, typer.Option(help="apply database migrations at start")] = True,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="server processes behind one port (PostgreSQL; SQLite has one)")
    ] = 1,
) -> None:
    """Run the queue server (HTTP API, websockets, boards)."""
    import logging
    import logging.config
    import os

    from .logs import log_config

    rt = _runtime(config, host=host, port=port)
    logs = log_config(rt.settings.log_level, rt.settings.log_format)
    # Logging first, so that what importing the server says (a library's warning, a calendar notice) is a
    # log line like any other: one JSON object with HALL_LOG_FORMAT=json.
    logging.config.dictConfig(logs)
    logging.captureWarnings(True)
    _check_catalog(rt)

    import uvicorn

    from .app import build_context, create_app, prepare
    from .db import SQLITE_ONE_PROCESS
    from .metrics import MULTIPROC_ENV, multiprocess_dir, remove_multiprocess_dir
    from .workers import serve_workers

    typer.echo(f"hall: {len(rt.config.halls)} hall(s) from {rt.config_path}; database {_safe(rt.database_url)}")
    common = {
        "host": rt.settings.host,
        "port": rt.settings.port,
        "log_config": logs,
        "ws": "websockets-sansio",
        "timeout_graceful_shutdown": 5,
    }
    if workers == 1:
        server = create_app(rt, migrate=migrate, tune_gc=True)
        _claim(server.state.ctx)  # held until this process exits
        uvicorn.run(server, **common)  # type: ignore[arg-type]
        return
    if rt.database_url.startswith("sqlite"):
        typer.echo(f"--workers {workers}: {SQLITE_ONE_PROCESS}", err=True)
        raise typer.Exit(2)
    # Several processes (PostgreSQL): migrate and sync the configuration once here, then start workers that
    # only serve. They hear of each other's commits by LISTEN/NOTIFY (pgnotify.py); each has a socket of its
    # own on the port (workers.py: the kernel spreads the connections).
    ctx = build_context(rt)
    prepare(ctx, migrate=migrate)
    ctx.close()
    os.environ.update(
        HALL_CONFIG=str(rt.config_path),
        HALL_DATABASE_URL=rt.database_url,
        HALL_SECRET_KEY=rt.secret_key,
    )
    # Prometheus multiprocess mode: each worker writes its metrics to files here, /metrics adds them up
    # (metrics.py); set before the workers start, since prometheus-client reads it once at import.
    metrics_dir, made = multiprocess_dir()
    os.environ[MULTIPROC_ENV] = str(metrics_dir)
    try:
        status = serve_workers(workers, common)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        typer.echo(f"无法监听 / cannot listen on {common['host']}:{common['port']}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    finally:
        if made:
            remove_multiprocess_dir(metrics_dir)
    if status:
        raise typer.Exit(status)


def _claim(ctx: HallContext) -> None:
    """Stop with a clear message if another server serves the same SQLite file."""
    from .db import AnotherServer

    try:
        ctx.db.claim_serving()
    except AnotherServer as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@app.command("check-config")
def check_config(config: Annotated[Path | None, typer.Argument(help="TOML file to check")] = None) -> None:
    """Validate a configuration file and report every problem with its line."""
    rt = _runtime(config)
    n_items = _check_catalog(rt)
    n_windows = sum(len(h.windows) for h in rt.config.halls)
    typer.echo(
        f"ok: {len(rt.config.halls)} halls, {n_windows} windows, "
        f"{len(rt.config.users)} users, {len(rt.config.devices)} devices, {n_items} items"
    )


@app.command("example-config")
def example_config(
    items: Annotated[
        Path | None,
        typer.Option(help="also copy the shipped item catalogue into this directory (e.g. /etc/hall/items)"),
    ] = None,
) -> None:
    """Print the demo hall's configuration (shipped with the server) to start your own from."""
    import shutil

    from .cases.catalog import default_items_dir
    from .settings import demo_config_path

    if items is not None:
        items.mkdir(parents=True, exist_ok=True)
        for path in sorted(default_items_dir().glob("*.toml")):
            shutil.copyfile(path, items / path.name)
        typer.echo(f"# item catalogue copied to {items}", err=True)
    typer.echo(demo_config_path().read_text(encoding="utf-8"), nl=False)


@app.command()
def migrate(config: Annotated[Path | None, typer.Option(help="hall configuration TOML")] = None) -> None:
    """Apply database migrations and exit."""
    from .migrations import upgrade

    rt = _runtime(config)
    upgrade(rt.database_url)
    typer.echo(f"migrated {_safe(rt.database_url)}")


@app.command()
def backup(
    out_dir: Annotated[Path, typer.Argument(help="directory to write the backup into")],
    config: Annotated[Path | None, typer.Option(help="hall configuration TOML (default: the demo hall)")] = None,
) -> None:
    """Back up the database while the server runs (SQLite: online backup; PostgreSQL: pg_dump) and the
    uploaded case materials."""
    from .backup import BackupError
    from .backup import backup as do_backup

    rt = _runtime(config)
    try:
        done = do_backup(rt.database_url, rt.settings.var_dir.expanduser().resolve(), out_dir)
    except BackupError as exc:
        typer.echo(f"备份失败 / backup failed: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"backup of {_safe(rt.database_url)}: {done.database}")
    if done.materials is not None:
        typer.echo(f"case materials: {done.materials}")
    typer.echo("the secret key (HALL_SECRET_KEY) is not in it: keep it apart, the backup cannot be read without it")


@app.command()
def restore(
    backup_file: Annotated[Path, typer.Argument(help="a .db or .dump file written by `hall backup`")],
    config: Annotated[Path | None, typer.Option(help="hall configuration TOML (default: the demo hall)")] = None,
    replace: Annotated[bool, typer.Option(help="overwrite a database that already holds a hall")] = False,
) -> None:
    """Restore a backup into the configured database (empty, unless --replace); no server may be running."""
    from .backup import BackupError
    from .backup import restore as do_restore

    rt = _runtime(config)
    try:
        done = do_restore(backup_file, rt.database_url, rt.settings.var_dir.expanduser().resolve(), replace=replace)
    except BackupError as exc:
        typer.echo(f"恢复失败 / restore failed: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"restored {done.database} into {_safe(rt.database_url)}")
    if done.materials is not None:
        typer.echo(f"case materials from {done.materials}")
    typer.echo("start the server with the same secret key (it applies any newer migrations)")


devices_app = typer.Typer(help="Peripherals of the configured kiosks.", no_args_is_help=True)
app.add_typer(devices_app, name="devices")


@devices_app.command("check")
def devices_check(
    config: Annotated[Path | None, typer.Option(help="hall configuration TOML (default: the demo hall)")] = None,
) -> None:
    """Open every configured printer, ID-card reader and scanner and report its health."""
    from peripherals.check import check_devices, format_report

    rt = _runtime(config)
    wanted = [
        (d.name, kind, url)
        for d in rt.config.devices
        for kind, url in (("printer", d.printer), ("id_reader", d.id_reader), ("scanner", d.scanner))
        if url
    ]
    if not wanted:
        typer.echo("no peripherals configured (devices have no printer, id_reader or scanner URL)")
        return
    checks = check_devices(wanted)
    typer.echo(format_report(checks))
    if any(not c.health.ok for c in checks):
        raise typer.Exit(1)


users_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("revoke")
def users_revoke(
    username: Annotated[str, typer.Argument(help="the staff user whose sessions end")],
    config: Annotated[Path | None, typer.Option(help="hall configuration TOML (default: the demo hall)")] = None,
) -> None:
    """End every session of a staff user now, in every running server process (on SQLite within 2 s)."""
    from sqlalchemy.exc import DBAPIError

    from .db import Database
    from .services.users import revoke_user

    rt = _runtime(config)
    db = Database(rt.database_url)
    try:
        found = revoke_user(db, username, actor="cli")
    except DBAPIError as exc:  # unreachable, or not migrated yet
        where = f"{_safe(rt.database_url)}: {type(exc.orig).__name__} (migrated? `hall migrate`)"
        typer.echo(f"数据库错误 / database error on {where}", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    if not found:
        typer.echo(f"没有该用户 / no user '{username}' in {_safe(rt.database_url)}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked: every token of '{username}' is refused from now on (they may log in again)")


def _safe(url: str) -> str:
    """A database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":  # pragma: no cover
    app()
