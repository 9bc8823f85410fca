"""The `taskhub` command: database migrations, user administration, and the server processes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from pydantic import ValidationError as SettingsError

from domain.errors import DomainError
from entrypoints.client.commands import tasks_app
from entrypoints.client.schedule_commands import schedules_app
from entrypoints.client.session import login, logout
from entrypoints.client.workflows import workflows_app
from entrypoints.unused_integrations import import_without_unused_integrations

app = typer.Typer(help="taskhub: long-running background work over REST.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
users_app = typer.Typer(help="User administration.", no_args_is_help=True)
keys_app = typer.Typer(
    help="The encryption keys of secret task arguments and results.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
backup_app = typer.Typer(help="Backups of the database, and their restore.", no_args_is_help=True)
app.add_typer(backup_app, name="backup")
# The REST client, in a help panel of its own: it talks to a running API from any machine.
app.add_typer(tasks_app, name="tasks", rich_help_panel="Client")
app.add_typer(schedules_app, name="schedules", rich_help_panel="Client")
app.add_typer(workflows_app, name="workflows", rich_help_panel="Client")
app.command("login", rich_help_panel="Client")(login)
app.command("logout", rich_help_panel="Client")(logout)


if TYPE_CHECKING:
    from dependency_injector.containers import DeclarativeContainer

    from entrypoints.cli_container import CliContainer

ProcessContainer = TypeVar("ProcessContainer", bound="DeclarativeContainer")


def _built(kind: type[ProcessContainer], *, with_secrets: bool = False) -> ProcessContainer:
    """The container of this process (each is imported late, by its command, so `taskhub
    --help` stays fast); settings errors read as messages. `with_secrets`: a process that
    seals or opens secrets (API, worker, Beat) builds its cipher now, so that production
    without the encryption key its task types need does not start."""
    from entrypoints.container import InsecureSettingsError

    container = kind()
    try:
        container.core().settings()
        if with_secrets:
            container.core().secret_cipher()
    except SettingsError as exc:
        typer.secho(f"invalid settings: {exc.errors()[0]['msg']}", fg="red", err=True)
        raise typer.Exit(2) from None
    except InsecureSettingsError as exc:
        typer.secho(f"invalid settings: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    return container


def _cli_container() -> CliContainer:
    from entrypoints.cli_container import CliContainer

    return _built(CliContainer)


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the configured database up to REVISION (default: the latest)."""
    container = _cli_container()
    _ensure_sqlite_dir(container.core.settings().database_url)
    container.upgrade_database(revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target, e.g. base")]) -> None:
    """Migrate the configured database down to REVISION."""
    _cli_container().downgrade_database(revision)
    typer.echo(f"database at {revision}")


@users_app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The administrator's email.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="TASKHUB_ADMIN_PASSWORD",
            help="Prompted for when not given.",
        ),
    ],
) -> None:
    """Create an administrator, or promote and re-activate an existing account."""
    try:
        create = _cli_container().core.create_administrator()
        user = create.execute(email=email, password=password)
    except DomainError as exc:
        typer.secho(f"error: {exc.detail}", fg="red", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"administrator {user.email} ({user.id}) is ready")


@backup_app.command("create")
def backup_create(
    path: Annotated[Path, typer.Argument(help="The backup file to write (replaced if there).")],
) -> None:
    """Copy the configured database to PATH while the system runs: SQLite's online backup
    (one consistent snapshot), or pg_dump's custom format on PostgreSQL. The encryption keys
    are not in it: back them up apart (docs/operations.md)."""
    from entrypoints.cli_container import BackupError

    try:
        report = _cli_container().create_backup(path)
    except BackupError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"backup written to {report.path} ({report.size_bytes} bytes, {report.seconds:.1f}s)"
    )


@backup_app.command("restore")
def backup_restore(
    path: Annotated[Path, typer.Argument(help="A file `taskhub backup create` wrote.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the configured database with the backup in PATH, then hand the tasks that were
    in flight back to the relay and the reaper. Stop the API, the workers and Beat first;
    whatever happened after the backup is lost."""
    from entrypoints.cli_container import BackupError

    if not yes:
        typer.confirm("Replace the configured database with this backup?", abort=True)
    container = _cli_container()
    try:
        seconds = container.restore_backup(path)
    except BackupError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from None
    marked = container.core.reconcile_restored_tasks().execute()
    typer.echo(
        f"restored from {path} in {seconds:.1f}s; {marked} pending task(s) handed to the relay, "
        "running ones are re-queued by the reaper once stale"
    )


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new random encryption key. Put it first in TASKHUB_ENCRYPTION_KEYS (keep the
    old ones after it), restart every process, then run `taskhub keys rotate`."""
    from entrypoints.container import new_encryption_key

    typer.echo(new_encryption_key())


@keys_app.command("rotate")
def keys_rotate(
    batch_size: Annotated[int, typer.Option(min=1, help="Tasks per transaction.")] = 500,
) -> None:
    """Re-encrypt every stored secret under the first key of TASKHUB_ENCRYPTION_KEYS; the
    other keys can be removed afterwards. Safe to run while the system runs, and again."""
    from entrypoints.container import SecretUnreadableError

    container = _built(_cli_container_class(), with_secrets=True)
    rotate = container.core.rotate_encryption_keys(batch_size=batch_size)
    try:
        count = rotate.execute()
    except SecretUnreadableError as exc:
        typer.secho(f"error: {exc.detail}", fg="red", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"re-encrypted the secrets of {count} tasks under the newest key")


def _cli_container_class() -> type[CliContainer]:
    from entrypoints.cli_container import CliContainer

    return CliContainer


@app.command("api")
def api(
    host: Annotated[str | None, typer.Option(help="Bind address [TASKHUB_API_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [TASKHUB_API_PORT]")] = None,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
    ssl_certfile: Annotated[
        Path | None,
        typer.Option(help="Serve HTTPS with this certificate (PEM, its chain after it)."),
    ] = None,
    ssl_keyfile: Annotated[
        Path | None, typer.Option(help="The certificate's private key (PEM).")
    ] = None,
) -> None:
    """Serve the REST API with uvicorn: plain HTTP behind a TLS proxy (docker/compose), or
    HTTPS itself given a certificate and its key."""
    if (ssl_certfile is None) != (ssl_keyfile is None):
        typer.secho("--ssl-certfile and --ssl-keyfile go together", fg="red", err=True)
        raise typer.Exit(2)
    import_without_unused_integrations()  # first: before anything imports them
    import uvicorn

    from entrypoints.api_container import ApiContainer
    from entrypoints.logs import configure_logging
    from entrypoints.malloc_arenas import cap_malloc_arenas

    cap_malloc_arenas()
    settings = _built(ApiContainer, with_secrets=True).core.settings()
    configure_logging(level=settings.log_level, json_lines=settings.json_logs)
    uvicorn.run(
        "entrypoints.http.app:create_served_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
        server_header=False,  # which server, and which version, is nobody's business
        # The API serves no WebSocket (its event streams are SSE, plain HTTP): without this,
        # uvicorn imports the websockets package into the process for nothing.
        ws="none",
        log_config=None,
        # RequestIdMiddleware writes the access log, with the request id in it.
        access_log=False,
    )


@app.command("check")
def check() -> None:
    """Exit 0 when the database and the broker answer, 1 (saying which is down) otherwise."""
    readiness = _cli_container().core.check_readiness().execute()
    for dependency, state in readiness.checks.items():
        typer.echo(f"{dependency}: {state}")
    raise typer.Exit(0 if readiness.ready else 1)


@app.command("worker")
def worker(
    queues: Annotated[
        str | None,
        typer.Option(help="Queues to consume, highest priority first [TASKHUB_WORKER_QUEUES]"),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Worker processes [TASKHUB_WORKER_CONCURRENCY]")
    ] = None,
    loglevel: str = "INFO",
) -> None:
    """Run a Celery worker on the task queues (prefork pool)."""
    import_without_unused_integrations()  # first: before anything imports them
    from entrypoints.worker.app import LOG_LEVEL_NAMES, WorkerOptions, create_worker_app, run_worker
    from entrypoints.worker_container import WorkerContainer

    if loglevel.upper() not in LOG_LEVEL_NAMES:
        raise typer.BadParameter(f"one of {', '.join(LOG_LEVEL_NAMES)}", param_hint="--loglevel")
    container = _built(WorkerContainer, with_secrets=True)
    settings = container.core.settings()
    options = WorkerOptions(
        queues=(queues or settings.worker_queues).split(","),  # as Celery's --queues
        concurrency=concurrency or settings.worker_concurrency,
        # A node name of its own (Celery's default is celery@host for all): on RabbitMQ a
        # worker's mailbox queue is exclusive to its name, so a second worker on the host
        # would not start; on Redis the two would share it and a revoke reach only one.
        hostname=f"taskhub-{os.getpid()}@%h",
        loglevel=loglevel,
        # A pool process is replaced after so many runs, or after a run that left it
        # bigger than this: a task that leaks cannot grow the worker without bound.
        max_tasks_per_child=_recycling(settings.worker_max_tasks_per_child),
        max_memory_per_child_kb=_recycling(settings.worker_max_memory_per_child_mb * 1024),
        # Task events feed Flower's task pages; they cost the main process about a
        # third of its CPU per task, so they are opt-in (taskhub dev turns them on).
        task_events=settings.worker_task_events,
    )
    exit_code = run_worker(create_worker_app(container), options)
    if exit_code:
        raise typer.Exit(exit_code)  # a worker that could not start says so to its supervisor


def _recycling(limit: int) -> int | None:
    return limit if limit > 0 else None


@app.command("beat")
def beat(loglevel: str = "INFO") -> None:
    """Run Celery Beat: the relay, the reaper and the purge, on their schedules."""
    import_without_unused_integrations()  # first: before anything imports them
    from entrypoints.beat_container import BeatContainer
    from entrypoints.worker.app import create_beat_app

    container = _built(BeatContainer, with_secrets=True)
    data_dir = container.core.settings().data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    create_beat_app(container).start(
        [
            "beat",
            f"--schedule={data_dir / 'celerybeat-schedule'}",
            f"--loglevel={loglevel}",
        ]
    )


@app.command("scheduler")
def scheduler() -> None:
    """Run the scheduler loop alone (Beat runs one too): delayed tasks and schedules. Run
    several for high availability: one works at a time, another takes over within
    TASKHUB_SCHEDULER_LEASE_SECONDS of its death."""
    import_without_unused_integrations()  # first: before anything imports them
    import signal

    from entrypoints.beat_container import BeatContainer
    from entrypoints.logs import configure_logging

    container = _built(BeatContainer)
    settings = container.core.settings()
    configure_logging(level=settings.log_level, json_lines=settings.json_logs)
    loop = container.scheduler_loop()
    signal.signal(signal.SIGTERM, lambda *_: loop.stop())
    try:
        loop.run()
    except KeyboardInterrupt:
        loop.stop()


@app.command("flower")
def flower(
    address: Annotated[str | None, typer.Option(help="[TASKHUB_FLOWER_ADDRESS]")] = None,
    port: Annotated[int | None, typer.Option(help="[TASKHUB_FLOWER_PORT]")] = None,
) -> None:
    """Run Flower, the Celery monitor, on the same broker."""
    import_without_unused_integrations()  # first: before anything imports them
    from entrypoints.container import Environment
    from entrypoints.flower_access import flower_credentials_problem, guard_flower_metrics
    from entrypoints.worker.app import create_worker_app
    from entrypoints.worker_container import WorkerContainer

    container = _built(WorkerContainer)
    settings = container.core.settings()
    argv = [
        "flower",
        f"--address={address or settings.flower_address}",
        f"--port={port or settings.flower_port}",
    ]
    if settings.flower_basic_auth is not None:
        credentials = settings.flower_basic_auth.get_secret_value()
        problem = flower_credentials_problem(credentials)
        if problem is not None:
            typer.secho(f"TASKHUB_FLOWER_BASIC_AUTH refused: {problem}", fg="red", err=True)
            raise typer.Exit(2)
        argv.append(f"--basic-auth={credentials}")
        guard_flower_metrics()
    elif settings.environment is Environment.PRODUCTION:
        # Flower shows every task's arguments and results and has no login of its own.
        typer.secho(
            "refusing to run Flower in production without TASKHUB_FLOWER_BASIC_AUTH",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    create_worker_app(container).start(argv)


@app.command("dev")
def dev() -> None:
    """Run the whole system on this machine: embedded Redis, API, worker, Beat and Flower."""
    from entrypoints.dev.supervisor import run_development_stack

    raise typer.Exit(run_development_stack(_cli_container().core.settings()))


@app.command("docs")
def docs(
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 with a diff if out of date.")
    ] = False,
    path: Annotated[Path | None, typer.Option(help="Default: docs/architecture.md.")] = None,
) -> None:
    """Regenerate the generated blocks of docs/architecture.md: state diagrams, settings."""
    from entrypoints.docs import ARCHITECTURE, sync

    code, message = sync(path or ARCHITECTURE, check=check)
    typer.echo(message)
    raise typer.Exit(code)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
