"""Each task's story: its attempts, its log lines, the last error's traceback, the worker
that runs it, the trace of its submission, and the task it re-runs.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("error_traceback", sa.Text(), nullable=True))
        batch.add_column(sa.Column("trace_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("retry_of", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("worker_host", sa.String(255), nullable=True))
        batch.add_column(sa.Column("worker_pid", sa.Integer(), nullable=True))
    op.create_table(
        "task_attempts",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("worker_host", sa.String(255), nullable=True),
        sa.Column("worker_pid", sa.Integer(), nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("ended_at", TIMESTAMP, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("error_type", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_traceback", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name="fk_task_attempts_task_id_tasks",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "number", name="pk_task_attempts"),
    )
    op.create_table(
        "task_logs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("logged_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name="fk_task_logs_task_id_tasks", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_task_logs"),
        sa.UniqueConstraint("task_id", "seq", name="uq_task_logs_task_id_seq"),
    )


def downgrade() -> None:
    op.drop_table("task_logs")
    op.drop_table("task_attempts")
    with op.batch_alter_table("tasks") as batch:
        for column in ("worker_pid", "worker_host", "retry_of", "trace_id", "error_traceback"):
            batch.drop_column(column)
