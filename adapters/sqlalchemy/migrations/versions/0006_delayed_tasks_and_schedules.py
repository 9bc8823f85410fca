"""Delayed tasks (run_at), scheduled runs (schedule_id, fire_time), schedules and their fire
ledger, unique per (schedule, fire time).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("run_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("schedule_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("fire_time", TIMESTAMP, nullable=True))
    op.create_index(
        "ix_tasks_status_dispatched_run_at", "tasks", ["status", "dispatched", "run_at"]
    )
    op.create_index("ix_tasks_schedule_id_created_at", "tasks", ["schedule_id", "created_at"])
    op.create_table(
        "schedules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("template", sa.JSON(), nullable=False),
        sa.Column("cron", sa.String(200), nullable=True),
        sa.Column("timezone", sa.String(100), nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=True),
        sa.Column("anchor", TIMESTAMP, nullable=False),
        sa.Column("start_at", TIMESTAMP, nullable=True),
        sa.Column("end_at", TIMESTAMP, nullable=True),
        sa.Column("max_runs", sa.Integer(), nullable=True),
        sa.Column("overlap", sa.String(20), nullable=False),
        sa.Column("catch_up", sa.String(20), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("next_fire_at", TIMESTAMP, nullable=True),
        sa.Column("fence", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_schedules_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
    )
    op.create_index("ix_schedules_paused_next_fire_at", "schedules", ["paused", "next_fire_at"])
    op.create_index(
        "ix_schedules_user_id_created_at_id",
        "schedules",
        ["user_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index("ix_schedules_created_at_id", "schedules", ["created_at", "id"])
    op.create_table(
        "schedule_fires",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("schedule_id", sa.Uuid(), nullable=False),
        sa.Column("fire_time", TIMESTAMP, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(100), nullable=True),
        sa.Column("fence", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_schedule_fires_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_fires")),
        sa.UniqueConstraint(
            "schedule_id", "fire_time", name=op.f("uq_schedule_fires_schedule_id_fire_time")
        ),
    )


def downgrade() -> None:
    op.drop_table("schedule_fires")
    op.drop_index("ix_schedules_created_at_id", table_name="schedules")
    op.drop_index("ix_schedules_user_id_created_at_id", table_name="schedules")
    op.drop_index("ix_schedules_paused_next_fire_at", table_name="schedules")
    op.drop_table("schedules")
    op.drop_index("ix_tasks_schedule_id_created_at", table_name="tasks")
    op.drop_index("ix_tasks_status_dispatched_run_at", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("fire_time")
        batch.drop_column("schedule_id")
        batch.drop_column("run_at")
