"""The composition root's core: the adapters and use cases every process shares.

Each process composes it into a container of its own (`api_container.py`,
`worker_container.py`, `beat_container.py`, `cli_container.py`), which adds only what that
process alone runs. The rest of `entrypoints/` imports neither `adapters` nor `config`
(import-linter checks it): what a process needs of them is handed out here and there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from celery import Celery
from dependency_injector import containers, providers
from sqlalchemy import Engine

from adapters.celery import topology
from adapters.celery.dispatcher import CeleryBrokerProbe, CeleryTaskDispatcher
from adapters.celery.queue_depth import CeleryQueueDepths
from adapters.celery.topology import TASK_NAME_PREFIX, WEBHOOK_TASK, task_name
from adapters.celery.webhook_queue import CeleryWebhookQueue
from adapters.celery.worker_roster import CeleryWorkerRoster
from adapters.clock import SystemClock
from adapters.cron.calendar import CronsimCalendar
from adapters.http.webhook_sender import AddressGuard, HttpxWebhookSender
from adapters.in_memory.login_throttle import InMemoryLoginThrottle
from adapters.in_memory.rate_limiter import InMemoryRateLimiter
from adapters.queue_backlogs import CachedQueueBacklogs
from adapters.redis.event_channel import RedisEventChannel, SilentEventChannel
from adapters.redis.login_throttle import RedisLoginThrottle
from adapters.redis.rate_limiter import RedisRateLimiter
from adapters.security.bcrypt_hasher import BcryptPasswordHasher
from adapters.security.fernet_cipher import FernetSecretCipher
from adapters.security.jose_tokens import JoseTokenService
from adapters.sqlalchemy.clock import DatabaseClock, PostgresServerTime
from adapters.sqlalchemy.engine import (
    SqlAlchemyDatabaseProbe,
    create_connection_factory,
    create_database_engine,
)
from adapters.sqlalchemy.migrate import downgrade_database, upgrade_database
from adapters.sqlalchemy.sealed_values import SqlAlchemySealedValueStore
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from adapters.task_types.builtin import builtin_registry
from adapters.task_types.executor import TaskTypeExecutor
from adapters.task_types.registry import TaskTypeRegistry
from application.argument_limits import ArgumentLimits
from application.errors import SecretUnreadableError
from application.fair_share import FairShare, ReadQueueBacklogs
from application.login_backoff import LoginBackoff
from application.model_tasks import ModelTaskRequester
from application.ports import (
    Clock,
    EventChannel,
    LoginThrottle,
    QueueBacklogs,
    RateLimiter,
    SecretCipher,
)
from application.publishing import RecordDispatchedNow, TaskPublisher
from application.running.append_task_logs import AppendTaskLogs
from application.running.check_run import CheckRun
from application.running.read_owner_role import ReadOwnerRole
from application.running.record_heartbeat import RecordHeartbeat
from application.running.record_outcome import RecordOutcome
from application.running.report_progress import ReportProgress
from application.running.run_task import RunTuning
from application.running.start_task import StartTask
from application.scheduling import ScheduleRules
from application.secret_values import NO_ENCRYPTION_KEY
from application.use_cases.authenticate import Authenticate
from application.use_cases.cancel_task import CancelTask
from application.use_cases.cancel_workflow import CancelWorkflow
from application.use_cases.change_password import ChangePassword
from application.use_cases.check_readiness import CheckReadiness
from application.use_cases.claim_scheduler_fence import ClaimSchedulerFence
from application.use_cases.count_tasks_by_status import CountTasksByStatus
from application.use_cases.create_administrator import CreateAdministrator
from application.use_cases.create_schedule import CreateSchedule
from application.use_cases.delete_model import DeleteModel
from application.use_cases.delete_schedule import DeleteSchedule
from application.use_cases.delete_task import DeleteTask
from application.use_cases.delete_webhook_endpoint import DeleteWebhookEndpoint
from application.use_cases.delete_workflow import DeleteWorkflow
from application.use_cases.deliver_webhook import DeliverWebhook
from application.use_cases.describe_queues import DescribeQueues
from application.use_cases.describe_recent_runs import DescribeRecentRuns
from application.use_cases.dispatch_due_webhooks import DispatchDueWebhooks
from application.use_cases.end_sessions import EndSessions
from application.use_cases.explain_wait import ExplainWait
from application.use_cases.fail_overrun_task import FailOverrunTask
from application.use_cases.fire_due_schedules import FireDueSchedules
from application.use_cases.get_model import GetModel
from application.use_cases.get_quota import GetQuota
from application.use_cases.get_schedule import GetSchedule
from application.use_cases.get_task import GetTask
from application.use_cases.get_task_result import GetTaskResult
from application.use_cases.get_workflow import GetWorkflow
from application.use_cases.identify_user import IdentifyUser
from application.use_cases.issue_callback_secret import IssueCallbackSecret
from application.use_cases.issue_stream_token import IssueStreamToken
from application.use_cases.list_models import ListModels
from application.use_cases.list_schedule_fires import ListScheduleFires
from application.use_cases.list_schedules import ListSchedules
from application.use_cases.list_task_attempts import ListTaskAttempts
from application.use_cases.list_task_logs import ListTaskLogs
from application.use_cases.list_tasks import ListTasks
from application.use_cases.list_users import ListUsers
from application.use_cases.list_webhook_deliveries import ListWebhookDeliveries
from application.use_cases.list_webhook_endpoints import ListWebhookEndpoints
from application.use_cases.list_workflows import ListWorkflows
from application.use_cases.measure_waiting_tasks import MeasureWaitingTasks
from application.use_cases.pause_schedule import PauseSchedule, ResumeSchedule
from application.use_cases.purge_expired_events import PurgeExpiredEvents
from application.use_cases.purge_expired_tasks import PurgeExpiredTasks
from application.use_cases.read_task_events import ReadTaskEvents
from application.use_cases.reap_stale_tasks import DatabaseUptime, ReapStaleTasks
from application.use_cases.reconcile_restored_tasks import ReconcileRestoredTasks
from application.use_cases.redeliver_webhook import RedeliverWebhook
from application.use_cases.register_model import RegisterModel
from application.use_cases.register_user import RegisterUser
from application.use_cases.register_webhook_endpoint import RegisterWebhookEndpoint
from application.use_cases.relay_undispatched_tasks import RelayUndispatchedTasks
from application.use_cases.release_due_tasks import ReleaseDueTasks
from application.use_cases.release_held_tasks import ReleaseHeldTasks
from application.use_cases.republish_overdue_tasks import RepublishOverdueTasks
from application.use_cases.request_model_deployment import RequestModelDeployment
from application.use_cases.request_model_validation import RequestModelValidation
from application.use_cases.rerun_task import RerunTask
from application.use_cases.retry_workflow import RetryWorkflow
from application.use_cases.rotate_encryption_keys import RotateEncryptionKeys
from application.use_cases.rotate_webhook_secret import RotateWebhookSecret
from application.use_cases.sign_up import SignUp
from application.use_cases.submit_task import SubmitTask
from application.use_cases.submit_task_batch import SubmitTaskBatch
from application.use_cases.submit_workflow import SubmitWorkflow
from application.use_cases.trigger_schedule import TriggerSchedule
from application.use_cases.update_model import UpdateModel
from application.use_cases.update_schedule import UpdateSchedule
from application.use_cases.update_task import UpdateTask
from application.use_cases.update_user import UpdateUser
from config.secret_key import new_encryption_key
from config.settings import Environment, InsecureSettingsError, Settings
from domain.flow import FairShareTurns, ReleaseWindows

# Handed to the rest of entrypoints/, which imports neither adapters nor config itself.
__all__ = [
    "TASK_NAME_PREFIX",
    "WEBHOOK_TASK",
    "CoreContainer",
    "Environment",
    "InsecureSettingsError",
    "SecretUnreadableError",
    "Settings",
    "create_broker_client",
    "downgrade_database",
    "new_encryption_key",
    "provider_name",
    "task_name",
    "upgrade_database",
]

# Margin above the longest hard time limit: a late-acked message that outlives the broker's
# visibility timeout is delivered a second time while its first run is still going.
VISIBILITY_MARGIN_SECONDS = 600
DEFAULT_TIME_LIMIT_SECONDS = 3600


def visibility_timeout_for(registry: TaskTypeRegistry) -> float:
    limits = [spec.time_limit or DEFAULT_TIME_LIMIT_SECONDS for spec in registry.all()]
    return max([DEFAULT_TIME_LIMIT_SECONDS, *limits]) + VISIBILITY_MARGIN_SECONDS


def create_celery_app(settings: Settings, registry: TaskTypeRegistry) -> Celery:
    """The Celery application, shared by the API (to publish) and workers."""
    return topology.create_celery_app(
        broker_url=settings.broker_url,
        visibility_timeout=visibility_timeout_for(registry),
        sentinel_master=settings.broker_sentinel_master,
    )


def create_broker_client(broker_url: str) -> Celery:
    """A Celery client of `broker_url` with taskhub's queues, e.g. to ping workers."""
    return topology.create_celery_app(broker_url=broker_url, visibility_timeout=3600)


def clock_for(engine: Engine) -> Clock:
    """PostgreSQL's clock, shared by every host of a deployment (adapters/sqlalchemy/clock.py).
    An SQLite file lives on one host, whose processes all read the same clock already."""
    if engine.dialect.name == "sqlite":
        return SystemClock()
    return DatabaseClock(PostgresServerTime(engine), fallback=SystemClock())


def login_throttle_for(broker_url: str, backoff: LoginBackoff, clock: Clock) -> LoginThrottle:
    """In the broker's Redis when there is one, so every API process counts the same
    failures; otherwise in this process's memory, which suits a single API process only."""
    if broker_url.startswith(("redis://", "rediss://")):
        return RedisLoginThrottle.from_url(broker_url, backoff, clock)
    return InMemoryLoginThrottle(backoff, clock)


def rate_limiter_for(broker_url: str) -> RateLimiter:
    """Redis, when the broker is Redis: every Beat shares the buckets. Otherwise this
    process's memory: run one Beat, which is then the only one releasing."""
    if _redis_broker(broker_url):
        return RedisRateLimiter.from_url(broker_url)
    return InMemoryRateLimiter()


def fair_share_for(enabled: bool, backlogs: QueueBacklogs, threshold: int) -> FairShare | None:
    return FairShare(backlogs, threshold) if enabled else None


def _redis_broker(broker_url: str) -> bool:
    return broker_url.startswith(("redis://", "rediss://"))


def webhook_claim_hold(settings: Settings) -> timedelta:
    """Longer than an attempt can take: a claim lapses only when its sender is gone."""
    return timedelta(seconds=settings.webhook_timeout_seconds * 3 + 30)


def event_channel_for(broker_url: str) -> EventChannel:
    """Task events fan out through the broker's Redis; without one, streams poll the table."""
    if _redis_broker(broker_url):
        return RedisEventChannel.from_url(broker_url)
    return SilentEventChannel()


class EncryptionKeyMissingError(InsecureSettingsError):
    """Production without TASKHUB_ENCRYPTION_KEYS, while a task type has secret fields."""


def cipher_for(settings: Settings, registry: TaskTypeRegistry) -> SecretCipher:
    """Fernet over TASKHUB_ENCRYPTION_KEYS (elsewhere than production, the data directory's
    own key when unset). Production without keys: refused when a registered task type has
    secret arguments or a secret result, else a cipher that refuses every secret."""
    keys = settings.encryption_key_list()
    if keys:
        return FernetSecretCipher(keys)
    needing = [s.name for s in registry.all() if s.secret_fields or s.secret_result]
    if needing:
        raise EncryptionKeyMissingError(
            "TASKHUB_ENCRYPTION_KEYS is required in production: the task types "
            f"{', '.join(needing)} have secret values (make a key with `taskhub keys generate`)"
        )
    return NO_ENCRYPTION_KEY


class CoreContainer(containers.DeclarativeContainer):
    settings = providers.Singleton(Settings)

    # --- adapters: built once per process ----------------------------------------------
    engine = providers.Singleton(create_database_engine, settings.provided.database_url)
    connection_factory = providers.Singleton(create_connection_factory, engine)
    single_read_connection_factory = providers.Singleton(
        create_connection_factory, engine, single_reads=True
    )
    task_type_catalog = providers.Singleton(
        builtin_registry, settings.provided.task_modules, settings.provided.files_root
    )
    celery_app = providers.Singleton(create_celery_app, settings, task_type_catalog)
    secret_cipher = providers.Singleton(cipher_for, settings, task_type_catalog)
    clock = providers.Singleton(clock_for, engine)
    dispatcher = providers.Singleton(CeleryTaskDispatcher, celery_app)
    password_hasher = providers.Singleton(
        BcryptPasswordHasher, rounds=settings.provided.bcrypt_rounds
    )
    token_service = providers.Singleton(
        JoseTokenService,
        secret=settings.provided.signing_key.call(),
        lifetime_seconds=settings.provided.access_token_lifetime_seconds,
        clock=clock,
    )
    login_backoff = providers.Singleton(
        LoginBackoff,
        free_attempts=settings.provided.login_free_attempts,
        max_delay=settings.provided.login_max_delay_seconds,
    )
    login_throttle = providers.Singleton(
        login_throttle_for, settings.provided.broker_url, login_backoff, clock
    )
    signup_backoff = providers.Singleton(
        LoginBackoff,
        free_attempts=settings.provided.signup_free_attempts,
        max_delay=settings.provided.login_max_delay_seconds,
    )
    signup_throttle = providers.Singleton(
        login_throttle_for, settings.provided.broker_url, signup_backoff, clock
    )
    probes = providers.List(
        providers.Singleton(SqlAlchemyDatabaseProbe, engine),
        providers.Singleton(CeleryBrokerProbe, celery_app),
    )

    event_channel = providers.Singleton(event_channel_for, settings.provided.broker_url)

    # --- per call: a unit of work per use-case call ----------------------------------------
    unit_of_work = providers.Factory(SqlAlchemyUnitOfWork, connection_factory, event_channel)
    # For use cases that read one row and write nothing: authenticating every request, a
    # run checking it is still current (see create_connection_factory).
    single_read_unit_of_work = providers.Factory(
        SqlAlchemyUnitOfWork, single_read_connection_factory, event_channel
    )
    record_dispatched_now = providers.Factory(RecordDispatchedNow, uow=unit_of_work)
    # The API process puts its write-behind recorder here while it serves (`api_resources`);
    # workers and Beat record each publish at once.
    dispatch_recorder = providers.Factory(RecordDispatchedNow, uow=unit_of_work)
    publisher = providers.Factory(
        TaskPublisher, dispatcher=dispatcher, recorder=dispatch_recorder, clock=clock
    )
    max_page_size = settings.provided.max_page_size
    default_page_size = settings.provided.default_page_size

    register_user = providers.Factory(
        RegisterUser,
        uow=unit_of_work,
        hasher=password_hasher,
        clock=clock,
        allow_signup=settings.provided.signup_open,
    )
    sign_up = providers.Factory(SignUp, register=register_user, throttle=signup_throttle)
    create_administrator = providers.Factory(
        CreateAdministrator, uow=unit_of_work, hasher=password_hasher, clock=clock
    )
    authenticate = providers.Factory(
        Authenticate,
        uow=unit_of_work,
        hasher=password_hasher,
        tokens=token_service,
        throttle=login_throttle,
    )
    identify_user = providers.Factory(
        IdentifyUser, uow=single_read_unit_of_work, tokens=token_service
    )
    issue_stream_token = providers.Factory(
        IssueStreamToken,
        tokens=token_service,
        lifetime_seconds=settings.provided.stream_token_lifetime_seconds,
    )
    read_task_events = providers.Factory(ReadTaskEvents, uow=unit_of_work, clock=clock)
    end_sessions = providers.Factory(EndSessions, uow=unit_of_work)
    change_password = providers.Factory(ChangePassword, uow=unit_of_work, hasher=password_hasher)
    list_users = providers.Factory(
        ListUsers,
        uow=unit_of_work,
        max_page_size=max_page_size,
        default_page_size=default_page_size,
    )
    update_user = providers.Factory(UpdateUser, uow=unit_of_work)

    argument_limits = providers.Factory(
        ArgumentLimits,
        max_bytes=settings.provided.max_arguments_bytes,
        max_depth=settings.provided.max_arguments_depth,
        max_bytes_setting=Settings.variable("max_arguments_bytes"),
        max_depth_setting=Settings.variable("max_arguments_depth"),
    )
    # --- fair sharing: the submission's cheap look at each queue's backlog ----------------
    queue_depths = providers.Singleton(CeleryQueueDepths, celery_app)
    read_queue_backlogs = providers.Factory(
        ReadQueueBacklogs, uow=unit_of_work, queue_depths=queue_depths
    )
    queue_backlogs = providers.Singleton(
        CachedQueueBacklogs,
        read_queue_backlogs,
        max_age=settings.provided.fair_share_reading_seconds,
    )
    fair_share = providers.Singleton(
        fair_share_for,
        settings.provided.fair_share,
        queue_backlogs,
        settings.provided.fair_share_threshold,
    )
    submit_task = providers.Factory(
        SubmitTask,
        uow=unit_of_work,
        catalog=task_type_catalog,
        publisher=publisher,
        clock=clock,
        max_active_tasks=settings.provided.max_active_tasks_per_user,
        argument_limits=argument_limits,
        cipher=secret_cipher,
        fair_share=fair_share,
    )
    submit_task_batch = providers.Factory(
        SubmitTaskBatch,
        uow=unit_of_work,
        catalog=task_type_catalog,
        publisher=publisher,
        clock=clock,
        max_active_tasks=settings.provided.max_active_tasks_per_user,
        max_batch_size=settings.provided.max_batch_size,
        argument_limits=argument_limits,
        cipher=secret_cipher,
        fair_share=fair_share,
    )
    get_quota = providers.Factory(
        GetQuota, uow=unit_of_work, max_active_tasks=settings.provided.max_active_tasks_per_user
    )
    get_task = providers.Factory(GetTask, uow=unit_of_work)
    get_task_result = providers.Factory(GetTaskResult, uow=unit_of_work, cipher=secret_cipher)
    reconcile_restored_tasks = providers.Factory(ReconcileRestoredTasks, uow=unit_of_work)
    rotate_encryption_keys = providers.Factory(
        RotateEncryptionKeys,
        store=providers.Singleton(SqlAlchemySealedValueStore, engine),
        cipher=secret_cipher,
    )
    explain_wait = providers.Factory(
        ExplainWait, uow=unit_of_work, clock=clock, catalog=task_type_catalog
    )
    list_task_attempts = providers.Factory(ListTaskAttempts, uow=unit_of_work)
    list_task_logs = providers.Factory(ListTaskLogs, uow=unit_of_work)
    rerun_task = providers.Factory(
        RerunTask,
        uow=unit_of_work,
        catalog=task_type_catalog,
        publisher=publisher,
        clock=clock,
        max_active_tasks=settings.provided.max_active_tasks_per_user,
    )
    list_tasks = providers.Factory(
        ListTasks,
        uow=unit_of_work,
        max_page_size=max_page_size,
        default_page_size=default_page_size,
    )
    update_task = providers.Factory(UpdateTask, uow=unit_of_work, clock=clock)
    cancel_task = providers.Factory(
        CancelTask, uow=unit_of_work, dispatcher=dispatcher, clock=clock, publisher=publisher
    )
    delete_task = providers.Factory(
        DeleteTask, uow=unit_of_work, dispatcher=dispatcher, clock=clock, publisher=publisher
    )
    # Workflows: tasks with dependencies.
    submit_workflow = providers.Factory(
        SubmitWorkflow,
        uow=unit_of_work,
        catalog=task_type_catalog,
        publisher=publisher,
        clock=clock,
        max_active_tasks=settings.provided.max_active_tasks_per_user,
        max_tasks=settings.provided.max_workflow_tasks,
        argument_limits=argument_limits,
        cipher=secret_cipher,
    )
    get_workflow = providers.Factory(GetWorkflow, uow=unit_of_work)
    list_workflows = providers.Factory(
        ListWorkflows,
        uow=unit_of_work,
        max_page_size=max_page_size,
        default_page_size=default_page_size,
    )
    cancel_workflow = providers.Factory(
        CancelWorkflow, uow=unit_of_work, dispatcher=dispatcher, clock=clock
    )
    delete_workflow = providers.Factory(DeleteWorkflow, uow=unit_of_work)
    retry_workflow = providers.Factory(
        RetryWorkflow,
        uow=unit_of_work,
        publisher=publisher,
        clock=clock,
        max_active_tasks=settings.provided.max_active_tasks_per_user,
    )
    relay_undispatched_tasks = providers.Factory(
        RelayUndispatchedTasks,
        uow=unit_of_work,
        publisher=publisher,
        dispatcher=dispatcher,
        clock=clock,
        grace=providers.Factory(timedelta, seconds=settings.provided.relay_grace_seconds),
        batch_size=settings.provided.relay_batch_size,
    )

    register_model = providers.Factory(RegisterModel, uow=unit_of_work, clock=clock)
    get_model = providers.Factory(GetModel, uow=unit_of_work)
    list_models = providers.Factory(
        ListModels,
        uow=unit_of_work,
        max_page_size=max_page_size,
        default_page_size=default_page_size,
    )
    update_model = providers.Factory(UpdateModel, uow=unit_of_work, clock=clock)
    delete_model = providers.Factory(DeleteModel, uow=unit_of_work)
    model_task_requester = providers.Factory(
        ModelTaskRequester,
        uow=unit_of_work,
        catalog=task_type_catalog,
        publisher=publisher,
        clock=clock,
        max_active_tasks=settings.provided.max_active_tasks_per_user,
    )
    request_model_validation = providers.Factory(
        RequestModelValidation, requester=model_task_requester
    )
    request_model_deployment = providers.Factory(
        RequestModelDeployment,
        requester=model_task_requester,
        deployment_dir=providers.Callable(str, settings.provided.deployment_dir),
    )

    check_readiness = providers.Factory(CheckReadiness, probes=probes)

    # --- worker side ----------------------------------------------------------------------
    start_task = providers.Factory(StartTask, uow=unit_of_work, clock=clock)
    report_progress = providers.Factory(ReportProgress, uow=unit_of_work, clock=clock)
    check_run = providers.Factory(CheckRun, uow=single_read_unit_of_work)
    read_owner_role = providers.Factory(ReadOwnerRole, uow=single_read_unit_of_work)
    record_heartbeat = providers.Factory(RecordHeartbeat, uow=unit_of_work, clock=clock)
    fail_overrun_task = providers.Factory(
        FailOverrunTask, uow=unit_of_work, clock=clock, publisher=publisher
    )
    record_outcome = providers.Factory(
        RecordOutcome, uow=unit_of_work, publisher=publisher, clock=clock
    )
    task_executor = providers.Singleton(
        TaskTypeExecutor,
        registry=task_type_catalog,
        cipher=secret_cipher,
        traceback_limit=settings.provided.traceback_max_chars,
    )
    append_task_logs = providers.Factory(
        AppendTaskLogs, uow=unit_of_work, keep=settings.provided.task_log_max_lines
    )
    run_tuning = providers.Factory(
        RunTuning,
        progress_interval=settings.provided.progress_interval_seconds,
        claim_attempts=settings.provided.claim_attempts,
        # A third of the reaper's patience: the outcome lands before it may take the run back.
        write_backoff_cap=providers.Callable(
            lambda stale_after: min(8.0, stale_after / 3), settings.provided.stale_after_seconds
        ),
        max_upstream_bytes=settings.provided.max_upstream_bytes,
    )
    # What Beat's reaper saw of the database, from its first run: silence during an outage
    # is no sign of a dead worker.
    reaper_database_uptime = providers.Singleton(DatabaseUptime, since=None)
    reap_stale_tasks = providers.Factory(
        ReapStaleTasks,
        uow=unit_of_work,
        publisher=publisher,
        clock=clock,
        stale_after=providers.Factory(timedelta, seconds=settings.provided.stale_after_seconds),
        batch_size=settings.provided.relay_batch_size,
        uptime=reaper_database_uptime,
    )
    purge_expired_tasks = providers.Factory(
        PurgeExpiredTasks,
        uow=unit_of_work,
        clock=clock,
        retention=providers.Factory(timedelta, days=settings.provided.retention_days),
        batch_size=settings.provided.relay_batch_size,
    )

    purge_expired_events = providers.Factory(
        PurgeExpiredEvents,
        uow=unit_of_work,
        clock=clock,
        event_retention=providers.Factory(timedelta, hours=settings.provided.event_retention_hours),
        key_retention=providers.Factory(
            timedelta, hours=settings.provided.idempotency_key_retention_hours
        ),
        batch_size=settings.provided.relay_batch_size,
    )

    # --- webhooks ----------------------------------------------------------------------------
    webhook_queue = providers.Singleton(CeleryWebhookQueue, celery_app)
    webhook_sender = providers.Singleton(
        HttpxWebhookSender,
        providers.Singleton(AddressGuard, settings.provided.webhook_allowed_host_names),
        timeout_seconds=settings.provided.webhook_timeout_seconds,
    )
    register_webhook_endpoint = providers.Factory(
        RegisterWebhookEndpoint, uow=unit_of_work, clock=clock
    )
    list_webhook_endpoints = providers.Factory(ListWebhookEndpoints, uow=unit_of_work)
    delete_webhook_endpoint = providers.Factory(DeleteWebhookEndpoint, uow=unit_of_work)
    rotate_webhook_secret = providers.Factory(RotateWebhookSecret, uow=unit_of_work)
    issue_callback_secret = providers.Factory(IssueCallbackSecret, uow=unit_of_work)
    list_webhook_deliveries = providers.Factory(ListWebhookDeliveries, uow=unit_of_work)
    redeliver_webhook = providers.Factory(RedeliverWebhook, uow=unit_of_work, clock=clock)
    dispatch_due_webhooks = providers.Factory(
        DispatchDueWebhooks,
        uow=unit_of_work,
        clock=clock,
        queue=webhook_queue,
        hold=providers.Callable(webhook_claim_hold, settings),
        batch_size=settings.provided.relay_batch_size,
    )
    deliver_webhook = providers.Factory(
        DeliverWebhook,
        uow=unit_of_work,
        clock=clock,
        sender=webhook_sender,
        retry_schedule=settings.provided.webhook_retry_delays,
        disable_after=providers.Factory(
            timedelta, hours=settings.provided.webhook_disable_after_hours
        ),
    )

    # --- metrics (worker side; the API's are in entrypoints/http/metrics.py) -------------
    count_tasks_by_status = providers.Factory(CountTasksByStatus, uow=unit_of_work)
    worker_roster = providers.Singleton(CeleryWorkerRoster, celery_app)
    describe_queues = providers.Factory(
        DescribeQueues,
        uow=unit_of_work,
        queue_depths=queue_depths,
        clock=clock,
        workers=worker_roster,
    )
    describe_recent_runs = providers.Factory(DescribeRecentRuns, uow=unit_of_work, clock=clock)
    measure_waiting_tasks = providers.Factory(MeasureWaitingTasks, uow=unit_of_work, clock=clock)
    rate_limiter = providers.Singleton(rate_limiter_for, settings.provided.broker_url)
    fair_share_turns = providers.Singleton(FairShareTurns)
    release_windows = providers.Singleton(
        ReleaseWindows,
        floor=settings.provided.fair_share_threshold,
        ceiling=settings.provided.relay_batch_size,
    )
    release_held_tasks = providers.Factory(
        ReleaseHeldTasks,
        uow=unit_of_work,
        publisher=publisher,
        queue_depths=queue_depths,
        rate_limiter=rate_limiter,
        catalog=task_type_catalog,
        clock=clock,
        turns=fair_share_turns,
        windows=release_windows,
        # Permits up to two runs ahead, so the job's steps never leave a gap in the rate.
        horizon=providers.Callable(lambda s: 2 * s.release_interval_seconds, settings),
        batch_size=settings.provided.relay_batch_size,
    )
    republish_overdue_tasks = providers.Factory(
        RepublishOverdueTasks,
        uow=unit_of_work,
        publisher=publisher,
        queue_depths=queue_depths,
        clock=clock,
        overdue_after=providers.Factory(timedelta, seconds=settings.provided.overdue_after_seconds),
        batch_size=settings.provided.relay_batch_size,
    )
    # --- scheduling: delayed tasks and schedules -----------------------------------------
    cron_calendar = providers.Singleton(CronsimCalendar)
    schedule_rules = providers.Factory(
        ScheduleRules,
        catalog=task_type_catalog,
        calendar=cron_calendar,
        min_interval_seconds=settings.provided.min_schedule_interval_seconds,
        argument_limits=argument_limits,
    )
    create_schedule = providers.Factory(
        CreateSchedule,
        uow=unit_of_work,
        rules=schedule_rules,
        clock=clock,
        max_schedules=settings.provided.max_schedules_per_user,
    )
    get_schedule = providers.Factory(GetSchedule, uow=unit_of_work, rules=schedule_rules)
    list_schedules = providers.Factory(
        ListSchedules,
        uow=unit_of_work,
        max_page_size=max_page_size,
        default_page_size=default_page_size,
    )
    list_schedule_fires = providers.Factory(
        ListScheduleFires,
        uow=unit_of_work,
        max_page_size=max_page_size,
        default_page_size=default_page_size,
    )
    update_schedule = providers.Factory(
        UpdateSchedule, uow=unit_of_work, rules=schedule_rules, clock=clock
    )
    delete_schedule = providers.Factory(DeleteSchedule, uow=unit_of_work)
    pause_schedule = providers.Factory(PauseSchedule, uow=unit_of_work, clock=clock)
    resume_schedule = providers.Factory(
        ResumeSchedule, uow=unit_of_work, rules=schedule_rules, clock=clock
    )
    trigger_schedule = providers.Factory(
        TriggerSchedule,
        uow=unit_of_work,
        rules=schedule_rules,
        publisher=publisher,
        clock=clock,
        max_active_tasks=settings.provided.max_active_tasks_per_user,
    )
    release_due_tasks = providers.Factory(
        ReleaseDueTasks,
        uow=unit_of_work,
        publisher=publisher,
        clock=clock,
        batch_size=settings.provided.relay_batch_size,
    )
    claim_scheduler_fence = providers.Factory(ClaimSchedulerFence, uow=unit_of_work)
    fire_due_schedules = providers.Factory(
        FireDueSchedules,
        uow=unit_of_work,
        rules=schedule_rules,
        publisher=publisher,
        dispatcher=dispatcher,
        clock=clock,
        misfire_grace=providers.Factory(
            timedelta, seconds=settings.provided.schedule_misfire_grace_seconds
        ),
        max_active_tasks=settings.provided.max_active_tasks_per_user,
        batch_size=settings.provided.relay_batch_size,
    )


def provider_name(provider: Callable[[], object]) -> str:
    """The name of one of `CoreContainer`'s providers, given the provider itself: callers name
    `CoreContainer.submit_task`, which mypy checks, and look it up in their process's
    container by this name."""
    for name, candidate in CoreContainer.cls_providers.items():
        if candidate is provider:
            return name
    raise LookupError(f"{provider!r} is not a provider of CoreContainer")
