"""The task indexes of columns most tasks leave NULL (concurrency key, hold, model, schedule,
workflow) hold only the rows with a value: a run's claim and end no longer write them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name: (columns, the column that must not be NULL)
_INDEXES = {
    "ix_tasks_concurrency_key_status": (["concurrency_key", "status"], "concurrency_key"),
    "ix_tasks_held_priority_user_id_created_at": (
        ["held", "priority", "user_id", "created_at"],
        "held",
    ),
    "ix_tasks_model_id": (["model_id"], "model_id"),
    "ix_tasks_schedule_id_created_at": (["schedule_id", "created_at"], "schedule_id"),
    "ix_tasks_workflow_id_status": (["workflow_id", "status"], "workflow_id"),
}


def upgrade() -> None:
    for name, (columns, present) in _INDEXES.items():
        op.drop_index(name, table_name="tasks")
        where = sa.text(f"{present} IS NOT NULL")
        op.create_index(name, "tasks", columns, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, (columns, _) in _INDEXES.items():
        op.drop_index(name, table_name="tasks")
        op.create_index(name, "tasks", columns)
