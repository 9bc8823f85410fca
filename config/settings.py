"""taskhub's settings: every knob an operator can turn, with the default it has."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.secret_key import (
    ENCRYPTION_KEY_FILE_NAME,
    MIN_SECRET_KEY_BYTES,
    development_key,
    encryption_key_problem,
    new_encryption_key,
    production_key_problem,
)


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class InsecureSettingsError(ValueError):
    """The settings would run production with a known or weak secret."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TASKHUB_", extra="ignore")

    environment: Environment = Field(
        Environment.DEVELOPMENT, description="development, test or production."
    )
    database_url: str = Field(
        "sqlite:///./.taskhub/taskhub.db",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db.",
    )
    broker_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Celery broker: redis://, sentinel:// or amqp://."
    )
    broker_sentinel_master: str = Field(
        "mymaster",
        description="With a sentinel:// broker URL (sentinel://host:26379;sentinel://host2:26379): "
        "the name of the Redis master the sentinels monitor.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs access tokens (HS256). Required in production: at least 32 bytes, "
        "no whitespace, not of low entropy. Unset elsewhere: a random key made once and kept "
        "in TASKHUB_DATA_DIR/secret_key (mode 0600).",
    )
    encryption_keys: SecretStr | None = Field(
        None,
        description="Encrypt the secret arguments and results of tasks: comma-separated keys, "
        "newest first (the first encrypts, all decrypt; `taskhub keys rotate` re-encrypts "
        "stored values under the first). Each is 32 url-safe base64 bytes (`taskhub keys "
        "generate`). Required in production when a task type has secret fields. Unset "
        "elsewhere: a random key made once and kept in TASKHUB_DATA_DIR/encryption_key (mode "
        "0600). Back it up apart from the database: without it, stored secrets are lost.",
    )
    access_token_lifetime_seconds: int = Field(
        3600, ge=60, le=7 * 24 * 3600, description="How long an access token is valid."
    )
    bcrypt_rounds: int = Field(12, ge=4, le=16, description="bcrypt cost factor.")
    allow_signup: bool | None = Field(
        None,
        description="Whether anyone may register; when false only admins create users. "
        "Unset: yes, except with TASKHUB_ENVIRONMENT=production, where it must be enabled.",
    )
    cors_allow_origins: str = Field(
        "",
        description="Comma-separated origins (https://app.example.com) whose browser "
        "front-ends may call the API; none by default, so only same-origin pages can.",
    )
    default_page_size: int = Field(50, ge=1, description="Page size when a client names none.")
    max_page_size: int = Field(200, ge=1, description="The largest page a client may ask for.")
    max_active_tasks_per_user: int = Field(
        1000, ge=1, description="Pending plus running tasks one user may have at once."
    )
    max_batch_size: int = Field(
        500, ge=1, description="The most tasks one POST /api/v1/tasks/batch may submit."
    )
    max_body_bytes: int = Field(
        1024 * 1024, ge=1, description="The largest request body the API reads; 413 beyond."
    )
    max_workflow_tasks: int = Field(
        1000, ge=1, description="The most tasks one workflow (POST /api/v1/workflows) may hold."
    )
    max_upstream_bytes: int = Field(
        1024 * 1024,
        ge=1,
        description="The most the results of the tasks a workflow task depends on may take as "
        "JSON (its ctx.upstream); a task whose upstream is larger fails with UpstreamTooLarge.",
    )
    max_arguments_bytes: int = Field(
        64 * 1024, ge=1, description="The largest a task's args or kwargs may be, as JSON."
    )
    max_arguments_depth: int = Field(
        10, ge=1, description="How deeply a task's args or kwargs may nest lists and objects."
    )
    login_free_attempts: int = Field(
        5,
        ge=1,
        description="Failed logins per account from one address, and per address, before "
        "each must wait.",
    )
    signup_free_attempts: int = Field(
        10,
        ge=1,
        description="Sign-ups from one address before each further one must wait (the wait "
        "doubles up to TASKHUB_LOGIN_MAX_DELAY_SECONDS).",
    )
    login_max_delay_seconds: float = Field(
        900.0, gt=0, description="The longest wait after failed logins (it doubles up to this)."
    )
    relay_grace_seconds: float = Field(
        10.0, gt=0, description="Age before an unpublished task is handed to the relay."
    )
    relay_batch_size: int = Field(500, ge=1, description="Tasks the relay publishes per run.")
    dispatch_record_interval_seconds: float = Field(
        0.05,
        ge=0,
        le=1,
        description="How long the API gathers the dispatched flags of published tasks before"
        " writing them in one statement (0: each at once, in a transaction of its own).",
    )
    task_modules: str = Field(
        "",
        description="Comma-separated modules whose TASK_TYPES join the built-in task types "
        "(the API and every worker must list the same); installed packages join through the "
        "taskhub.task_types entry point without it.",
    )
    worker_task_events: bool = Field(
        False, description="Send Celery task events, for Flower's task pages (costs CPU)."
    )
    worker_concurrency: int = Field(2, ge=1, description="Processes per worker.")
    worker_queues: str = Field(
        "high_priority,default,low_priority,webhooks",
        description="Queues a worker consumes, highest priority first (strict order on Redis); "
        "`webhooks` carries webhook deliveries.",
    )
    worker_max_tasks_per_child: int = Field(
        1000,
        ge=0,
        description="Runs after which a worker's pool process is replaced by a fresh one; 0 never.",
    )
    worker_max_memory_per_child_mb: int = Field(
        512,
        ge=0,
        description="Resident memory (MiB) past which a worker's pool process is replaced "
        "after its current run; 0 never.",
    )
    worker_metrics_port: int = Field(
        9808,
        ge=0,
        le=65535,
        description="Port a worker's main process serves Prometheus metrics on; 0 disables. "
        "Needs PROMETHEUS_MULTIPROC_DIR, one directory per worker (ADR 10).",
    )
    worker_metrics_address: str = Field(
        "127.0.0.1",
        description="Interface a worker's metrics server binds to; 0.0.0.0 when Prometheus "
        "scrapes from another host (the metrics carry no ids, arguments or results).",
    )
    traceback_max_chars: int = Field(
        16 * 1024,
        ge=100,
        description="The most of a failed run's traceback kept with the task and its attempt "
        "(its end: the raising frame and the error).",
    )
    task_log_max_lines: int = Field(
        1000,
        ge=1,
        description="Log lines kept per task (ctx.log and its module's logging), the oldest "
        "dropped first.",
    )
    progress_interval_seconds: float = Field(
        0.5, gt=0, description="Least time between two progress writes of one run."
    )
    heartbeat_interval_seconds: float = Field(
        2.0, gt=0, description="How often a running task's worker writes a heartbeat."
    )
    stale_after_seconds: float = Field(
        15.0, gt=0, description="Silence after which the reaper takes a running task back."
    )
    cancel_poll_interval_seconds: float = Field(
        0.5, gt=0, description="How often a running task's worker checks for cancellation."
    )
    cancel_grace_seconds: float = Field(
        1.0,
        ge=0,
        description="Time a cancelled task gets to stop by itself before it is "
        "interrupted; as long again before its process is killed.",
    )
    overdue_after_seconds: float = Field(
        60.0,
        gt=0,
        description="How long a dispatched task may stay unclaimed after it became due before "
        "its message counts as lost and is published again (if its queue lacks it).",
    )
    claim_attempts: int = Field(
        7,
        ge=1,
        description="Tries of a worker's claim through a database outage (waits from 0.25 s, "
        "doubling, at most TASKHUB_STALE_AFTER_SECONDS / 3: 12.75 s in all for 7 with the "
        "defaults) before the message goes back to the broker.",
    )
    reap_interval_seconds: float = Field(5.0, gt=0, description="How often Beat runs the reaper.")
    relay_interval_seconds: float = Field(5.0, gt=0, description="How often Beat runs the relay.")
    fair_share: bool = Field(
        False,
        description="Share a crowded queue fairly between owners: past the fair-share "
        "backlog, new tasks are held in the database and released round-robin by owner, "
        "by Beat. Off by default: it makes Beat part of every crowded queue's dispatch, and "
        "with a single user it costs throughput (ADR 28).",
    )
    fair_share_backlog: int | None = Field(
        None,
        ge=1,
        description="Messages waiting on a queue's broker list above which new tasks are held "
        "back for fair sharing. Default: twice the worker concurrency; with several workers, "
        "set twice their total.",
    )
    fair_share_reading_seconds: float = Field(
        0.5,
        gt=0,
        description="How old the API's reading of the queue backlogs may grow before it is "
        "read again, in the background (never on a submission's path).",
    )
    release_interval_seconds: float = Field(
        0.25,
        gt=0,
        description="How often Beat releases tasks held back for fair sharing and rate limits.",
    )
    purge_interval_seconds: float = Field(
        3600.0, gt=0, description="How often Beat purges expired tasks."
    )
    retention_days: float = Field(
        30.0, gt=0, description="How long finished tasks are kept before they are purged."
    )
    idempotency_key_retention_hours: float = Field(
        24.0,
        gt=0,
        description="How long a submission's Idempotency-Key is remembered (at least; purged "
        "by the maintenance job).",
    )
    event_retention_hours: float = Field(
        72.0,
        gt=0,
        description="How long task events are kept for clients resuming a stream by "
        "Last-Event-ID (purged by the maintenance job).",
    )
    webhook_retry_schedule: str = Field(
        "0,5,300,1800,7200,18000,36000,36000",
        description="Seconds before each attempt of a webhook delivery, comma-separated (the "
        "Standard Webhooks schedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).",
    )
    webhook_allowed_hosts: str = Field(
        "",
        description="Comma-separated host names (or IP literals) webhooks may reach even though "
        "they resolve to loopback, private or link-local addresses, which are otherwise refused.",
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, le=60, description="How long one webhook attempt may take."
    )
    webhook_disable_after_hours: float = Field(
        120.0,
        gt=0,
        description="An endpoint whose deliveries failed for this long, without a success, is "
        "disabled.",
    )
    webhook_sweep_interval_seconds: float = Field(
        1.0, gt=0, description="How often Beat hands due webhook deliveries to the workers."
    )
    stream_heartbeat_seconds: float = Field(
        15.0, gt=0, description="Silence after which an event stream sends a heartbeat comment."
    )
    stream_token_lifetime_seconds: int = Field(
        60,
        gt=0,
        le=3600,
        description="How long a stream token (POST /api/v1/auth/stream-token) is valid.",
    )
    scheduler_tick_seconds: float = Field(
        0.25,
        gt=0,
        le=1,
        description="How often the scheduler loop publishes due delayed tasks and fires due "
        "schedules (it runs in Beat, or in `taskhub scheduler`).",
    )
    scheduler_lease_seconds: float = Field(
        5.0,
        gt=0,
        description="How long the scheduler's lease (and the relay's and reaper's) outlives its "
        "holder's last renewal: a second Beat or scheduler takes over within this after the "
        "first dies.",
    )
    schedule_misfire_grace_seconds: float = Field(
        60.0,
        gt=0,
        description="A fire time older than this when the scheduler reaches it (the system "
        "was down) is recorded as missed, or fired with catch_up=latest; a younger one fires "
        "late.",
    )
    max_schedules_per_user: int = Field(
        100, ge=0, description="Schedules one user may have at once."
    )
    min_schedule_interval_seconds: int = Field(
        60,
        ge=1,
        description="The shortest interval_seconds a non-admin's schedule may use.",
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="Bearer token the API's /metrics requires (Prometheus: `authorization`). "
        "Unset: /metrics is open, except in production, where it is then not served at all.",
    )
    api_docs: bool | None = Field(
        None,
        description="Serve /docs, /redoc and the OpenAPI document; unset: everywhere but in "
        "production.",
    )
    flower_address: str = Field("127.0.0.1", description="Interface Flower binds to.")
    flower_port: int = Field(5555, ge=1, le=65535, description="Port Flower listens on.")
    flower_basic_auth: SecretStr | None = Field(
        None,
        description="user:password for Flower (comma-separated for several), each password of "
        "at least 16 characters; required in production. Guards Flower's /metrics too.",
    )
    dev_redis_port: int = Field(
        6390, ge=1, le=65535, description="Port of the Redis that `taskhub dev` embeds."
    )
    log_level: str = Field("INFO", description="Root log level of every process.")
    log_format: str | None = Field(
        None, description="json or text; json in production, text elsewhere when unset."
    )
    otel_exporter: Literal["otlp", "console", "none"] | None = Field(
        None,
        description="Where OpenTelemetry traces go: otlp (OTEL_EXPORTER_OTLP_ENDPOINT and the "
        "other standard OTEL_* variables apply), console (one JSON line per span on stdout) or "
        "none. Unset or none: no tracing at all, nothing instrumented (ADR 22).",
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="The reverse proxies whose X-Forwarded-* headers the API trusts: their "
        "own addresses or networks, comma-separated. Never * in production (refused): any "
        "client could then choose the address its logins are throttled by.",
    )
    api_host: str = Field("127.0.0.1", description="Interface the API binds to.")
    api_port: int = Field(8000, ge=1, le=65535, description="Port the API listens on.")
    data_dir: Path = Field(Path(".taskhub"), description="Where the embedded default keeps data.")
    files_root: Path = Field(
        Path(".taskhub/files"),
        description="The only directory file-reading tasks (checksums, model artifacts) may "
        "read: a user's tasks only its folder <user id>/, an administrator's all of it.",
    )
    deployment_dir: Path = Field(
        Path(".taskhub/deployments"), description="Where deploy_model puts deployed artifacts."
    )

    @classmethod
    def variable(cls, field: str) -> str:
        """The environment variable that sets `field`: TASKHUB_MAX_ARGUMENTS_BYTES."""
        if field not in cls.model_fields:
            raise KeyError(field)
        return (str(cls.model_config.get("env_prefix", "")) + field).upper()

    @property
    def signup_open(self) -> bool:
        """Whether anyone may register: as set, else everywhere but production."""
        if self.allow_signup is not None:
            return self.allow_signup
        return self.environment is not Environment.PRODUCTION

    @property
    def cors_origins(self) -> list[str]:
        return [origin.strip() for origin in self.cors_allow_origins.split(",") if origin.strip()]

    @field_validator("cors_allow_origins")
    @classmethod
    def _origins_only(cls, value: str) -> str:
        """A browser sends an origin as scheme://host[:port]; anything else would never match,
        and a silently useless setting is worse than a refused one."""
        for origin in (o.strip() for o in value.split(",") if o.strip()):
            parts = urlsplit(origin)
            if (
                origin == "*"
                or parts.scheme not in ("http", "https")
                or not parts.hostname
                or parts.path
                or parts.query
                or parts.fragment
                or parts.username
            ):
                raise ValueError(
                    f"TASKHUB_CORS_ALLOW_ORIGINS: {origin!r} is not an origin such as "
                    "https://app.example.com (a scheme and host, an optional port, no path)"
                )
        return value

    @property
    def webhook_retry_delays(self) -> tuple[float, ...]:
        return tuple(float(delay) for delay in self.webhook_retry_schedule.split(","))

    @property
    def webhook_allowed_host_names(self) -> list[str]:
        return [host.strip() for host in self.webhook_allowed_hosts.split(",") if host.strip()]

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _delays(cls, value: str) -> str:
        try:
            delays = [float(delay) for delay in value.split(",")]
        except ValueError:
            delays = []
        if not delays or any(delay < 0 for delay in delays):
            raise ValueError(
                "TASKHUB_WEBHOOK_RETRY_SCHEDULE: a comma-separated list of seconds, at least one,"
                " none negative"
            )
        return value

    @property
    def serves_api_docs(self) -> bool:
        if self.api_docs is not None:
            return self.api_docs
        return self.environment is not Environment.PRODUCTION

    @property
    def json_logs(self) -> bool:
        if self.log_format is not None:
            return self.log_format.lower() == "json"
        return self.environment is Environment.PRODUCTION

    def signing_key(self) -> str:
        """TASKHUB_SECRET_KEY, or (never in production) the data directory's own random key,
        made on first use."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return development_key(Path(self.data_dir))

    def encryption_key_list(self) -> list[str]:
        """TASKHUB_ENCRYPTION_KEYS, newest first; unset: none in production, elsewhere the
        data directory's own random key, made on first use."""
        if self.encryption_keys is not None:
            return _keys_of(self.encryption_keys.get_secret_value())
        if self.environment is Environment.PRODUCTION:
            return []
        return [development_key(Path(self.data_dir), ENCRYPTION_KEY_FILE_NAME, new_encryption_key)]

    @field_validator("encryption_keys")
    @classmethod
    def _encryption_keys_are_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        keys = _keys_of(value.get_secret_value())
        if not keys:
            raise ValueError("TASKHUB_ENCRYPTION_KEYS names no key")
        for position, key in enumerate(keys, start=1):
            problem = encryption_key_problem(key)
            if problem is not None:
                raise ValueError(f"TASKHUB_ENCRYPTION_KEYS: key {position} {problem}")
        return value

    @property
    def fair_share_threshold(self) -> int:
        """The fair-share backlog, or its default from the worker concurrency."""
        return self.fair_share_backlog or 2 * self.worker_concurrency

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Self:
        secret = self.secret_key.get_secret_value() if self.secret_key is not None else None
        if secret is not None and len(secret.encode()) < MIN_SECRET_KEY_BYTES:
            raise InsecureSettingsError(
                f"TASKHUB_SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes long"
            )
        if self.environment is Environment.PRODUCTION:
            how = (
                "set a random key of your own (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`) before running with "
                "TASKHUB_ENVIRONMENT=production"
            )
            if secret is None:
                raise InsecureSettingsError(f"TASKHUB_SECRET_KEY is required in production; {how}")
            problem = production_key_problem(secret)
            if problem is not None:
                raise InsecureSettingsError(f"TASKHUB_SECRET_KEY {problem}; {how}")
        if self.environment is Environment.PRODUCTION and "*" in self.forwarded_allow_ips:
            raise InsecureSettingsError(
                "TASKHUB_FORWARDED_ALLOW_IPS must name the reverse proxy's own addresses or "
                "networks in production, not *: with *, a client's X-Forwarded-For header "
                "chooses the address its logins are counted by"
            )
        if self.default_page_size > self.max_page_size:
            raise ValueError("TASKHUB_DEFAULT_PAGE_SIZE cannot exceed TASKHUB_MAX_PAGE_SIZE")
        return self


def _keys_of(text: str) -> list[str]:
    return [key.strip() for key in text.split(",") if key.strip()]
