"""Partial task indexes, so that a run's claim and end write as few index entries as can be:
those of columns most tasks leave NULL (concurrency key, hold, model, schedule, workflow)
hold only the rows with a value, and the sweeps' (undispatched, overdue, delayed) only
pending tasks.

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

# name: (columns, the condition of the rows it holds)
_NOT_NULL = {
    "ix_tasks_concurrency_key_status": (["concurrency_key", "status"], "concurrency_key"),
    "ix_tasks_held_priority_user_id_created_at": (
        ["held", "priority", "user_id", "created_at"],
        "held",
    ),
    "ix_tasks_model_id": (["model_id"], "model_id"),
    "ix_tasks_schedule_id_created_at": (["schedule_id", "created_at"], "schedule_id"),
    "ix_tasks_workflow_id_status": (["workflow_id", "status"], "workflow_id"),
}
# The sweeps' indexes change name too: status is no longer among their columns.
_PENDING = {
    "ix_tasks_status_dispatched_created_at": (
        "ix_tasks_pending_dispatched_created_at",
        "created_at",
    ),
    "ix_tasks_status_dispatched_due_at": ("ix_tasks_pending_dispatched_due_at", "due_at"),
    "ix_tasks_status_dispatched_run_at": ("ix_tasks_pending_dispatched_run_at", "run_at"),
}


def upgrade() -> None:
    for name, (columns, present) in _NOT_NULL.items():
        op.drop_index(name, table_name="tasks")
        _create_partial(name, columns, f"{present} IS NOT NULL")
    for old, (new, column) in _PENDING.items():
        op.drop_index(old, table_name="tasks")
        _create_partial(new, ["dispatched", column], "status = 'pending'")


def downgrade() -> None:
    for old, (new, column) in _PENDING.items():
        op.drop_index(new, table_name="tasks")
        op.create_index(old, "tasks", ["status", "dispatched", column])
    for name, (columns, _) in _NOT_NULL.items():
        op.drop_index(name, table_name="tasks")
        op.create_index(name, "tasks", columns)


def _create_partial(name: str, columns: list[str], condition: str) -> None:
    where = sa.text(condition)
    op.create_index(name, "tasks", columns, sqlite_where=where, postgresql_where=where)
