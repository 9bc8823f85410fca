"""Each waiting workflow task's count of dependencies not yet met, so that a task's end
looks only at its own dependents; whether a workflow has unfinished tasks as one probe.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TERMINAL = ("completed", "failed", "cancelled")


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(
            sa.Column("unmet_dependencies", sa.Integer(), nullable=False, server_default="0")
        )
    _count_unmet_dependencies()
    op.create_index("ix_tasks_workflow_id_status", "tasks", ["workflow_id", "status"])
    op.drop_index("ix_tasks_workflow_id", table_name="tasks")


def downgrade() -> None:
    op.create_index("ix_tasks_workflow_id", "tasks", ["workflow_id"])
    op.drop_index("ix_tasks_workflow_id_status", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("unmet_dependencies")


def _count_unmet_dependencies() -> None:
    """Waiting tasks stored before the count existed: the dependencies not yet ended as their
    workflow asks (completed; under `continue`, ended however)."""
    tasks = sa.table(
        "tasks",
        sa.column("id", sa.Uuid()),
        sa.column("workflow_id", sa.Uuid()),
        sa.column("workflow_key", sa.String()),
        sa.column("status", sa.String()),
        sa.column("depends_on", sa.JSON()),
        sa.column("unmet_dependencies", sa.Integer()),
    )
    workflows = sa.table(
        "workflows", sa.column("id", sa.Uuid()), sa.column("on_failure", sa.String())
    )
    connection = op.get_bind()
    waiting = connection.execute(
        sa.select(tasks.c.id, tasks.c.workflow_id, tasks.c.depends_on, workflows.c.on_failure)
        .join(workflows, workflows.c.id == tasks.c.workflow_id)
        .where(tasks.c.status == "waiting")
    ).all()
    statuses: dict[object, dict[str, str]] = {}
    for task_id, workflow_id, parents, on_failure in waiting:
        if workflow_id not in statuses:
            statuses[workflow_id] = dict(
                connection.execute(
                    sa.select(tasks.c.workflow_key, tasks.c.status).where(
                        tasks.c.workflow_id == workflow_id
                    )
                ).all()
            )
        met = ("completed",) if on_failure == "cancel_dependents" else _TERMINAL
        unmet = sum(1 for key in parents or () if statuses[workflow_id].get(key) not in met)
        connection.execute(
            tasks.update().where(tasks.c.id == task_id).values(unmet_dependencies=unmet)
        )
