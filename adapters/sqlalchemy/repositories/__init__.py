"""The SQL repositories, one per file: entities in and out through the mapping functions,
through SQLAlchemy Core on the tables of `tables.py`; they never commit.

Each repository remembers the columns of every entity it read or wrote, so `update` writes
only the changed columns, guarded by the state it saw (compare_and_set.py).
"""

from adapters.sqlalchemy.repositories.attempts import SqlAlchemyAttemptRepository
from adapters.sqlalchemy.repositories.events import SqlAlchemyEventRepository
from adapters.sqlalchemy.repositories.idempotency_keys import SqlAlchemyIdempotencyKeyRepository
from adapters.sqlalchemy.repositories.models import SqlAlchemyModelRepository
from adapters.sqlalchemy.repositories.schedule_fires import SqlAlchemyScheduleFireRepository
from adapters.sqlalchemy.repositories.schedules import SqlAlchemyScheduleRepository
from adapters.sqlalchemy.repositories.task_logs import SqlAlchemyTaskLogRepository
from adapters.sqlalchemy.repositories.tasks import SqlAlchemyTaskRepository
from adapters.sqlalchemy.repositories.users import SqlAlchemyUserRepository
from adapters.sqlalchemy.repositories.webhooks import SqlAlchemyWebhookRepository
from adapters.sqlalchemy.repositories.workflows import SqlAlchemyWorkflowRepository

__all__ = [
    "SqlAlchemyAttemptRepository",
    "SqlAlchemyEventRepository",
    "SqlAlchemyIdempotencyKeyRepository",
    "SqlAlchemyModelRepository",
    "SqlAlchemyScheduleFireRepository",
    "SqlAlchemyScheduleRepository",
    "SqlAlchemyTaskLogRepository",
    "SqlAlchemyTaskRepository",
    "SqlAlchemyUserRepository",
    "SqlAlchemyWebhookRepository",
    "SqlAlchemyWorkflowRepository",
]
