"""Driver errors turned into the application's errors, so no caller ever catches SQLAlchemy's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from application.errors import DependencyUnavailableError
from domain.errors import AlreadyExistsError, ConcurrencyConflictError

DATABASE = "database"

# PostgreSQL's serialization_failure and deadlock_detected: two writers collided.
_CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})

# Unique constraints -> the entity field a caller can name in its answer. PostgreSQL names
# the constraint; SQLite only lists the columns ("UNIQUE constraint failed: users.email").
_UNIQUE_FIELDS = {
    "uq_users_email": "email",
    "users.email": "email",
    "uq_models_user_id_name": "name",
    "models.user_id, models.name": "name",
    "uq_schedule_fires_schedule_id_fire_time": "fire_time",
    "schedule_fires.schedule_id, schedule_fires.fire_time": "fire_time",
    "pk_users": "id",
    "users.id": "id",
    "pk_models": "id",
    "models.id": "id",
    "pk_tasks": "id",
    "tasks.id": "id",
}
_SQLITE_UNIQUE_PREFIX = "UNIQUE constraint failed: "


# Driver messages -> the few words an operator acts on. The driver's own text may carry host
# names and paths, so only these phrases leave the adapter (in `cause`, never the detail).
_CAUSES = (
    ("disk or database is full", "disk full"),
    ("database or disk is full", "disk full"),
    ("no space left on device", "disk full"),
    ("could not extend file", "disk full"),
    ("database is locked", "database is locked by another writer"),
    ("read-only", "database is read-only"),
    ("readonly", "database is read-only"),
    ("connection refused", "connection refused"),
    ("timeout expired", "connection timed out"),
    ("timed out", "connection timed out"),
    ("terminating connection", "server closed the connection"),
    ("server closed the connection", "server closed the connection"),
    ("the database system is starting up", "server is starting up"),
    ("the database system is shutting down", "server is shutting down"),
    ("too many clients", "too many connections"),
    ("unable to open database file", "cannot open the database file"),
)


def database_unavailable(original: BaseException | None = None) -> DependencyUnavailableError:
    # No driver text in the detail: it may carry host names and reach an API client.
    return DependencyUnavailableError(
        "the database is unavailable", dependency=DATABASE, cause=unavailable_cause(original)
    )


def unavailable_cause(original: BaseException | None) -> str | None:
    """What is wrong, from the driver's message, in words of a fixed list."""
    if original is None:
        return None
    message = str(original).lower()
    for fragment, cause in _CAUSES:
        if fragment in message:
            return cause
    return f"{type(original).__name__} from the database driver"


def install_error_translation(engine: Engine) -> None:
    """Raise application errors from every statement, commit and connect of `engine`."""
    event.listen(engine, "handle_error", _translate)


def _translate(context: ExceptionContext) -> None:
    if context.is_pre_ping:
        return  # the pool handles a dead pooled connection by reconnecting
    sqlstate = getattr(context.original_exception, "sqlstate", None)
    if sqlstate in _CONFLICT_SQLSTATES:
        raise ConcurrencyConflictError("a concurrent transaction changed the same rows")
    # OperationalError covers SQLite's "database is locked" once busy_timeout has run out.
    if context.is_disconnect or isinstance(
        context.sqlalchemy_exception, OperationalError | InterfaceError
    ):
        raise database_unavailable(context.original_exception)


@contextmanager
def unique_violations_as_already_exists(resource: str) -> Iterator[None]:
    """Turn a unique constraint violation inside the block into AlreadyExistsError."""
    try:
        yield
    except IntegrityError as exc:
        field = _violated_field(exc)
        if field is None:
            raise
        raise AlreadyExistsError(
            f"a {resource} with this {field} already exists", field=field
        ) from exc


def _violated_field(error: IntegrityError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if constraint is None:
        message = str(error.orig)
        if not message.startswith(_SQLITE_UNIQUE_PREFIX):
            return None
        constraint = message.removeprefix(_SQLITE_UNIQUE_PREFIX)
    return _UNIQUE_FIELDS.get(constraint)
