"""Tasks remember when their broker message became due; a one-row table readiness writes to.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("due_at", TIMESTAMP, nullable=True))
    # Tasks already waiting count as due since they were created: the sweep may then find
    # those whose message was lost before this release.
    op.execute("UPDATE tasks SET due_at = created_at WHERE status = 'pending' AND dispatched")
    op.create_index(
        "ix_tasks_status_dispatched_due_at", "tasks", ["status", "dispatched", "due_at"]
    )
    probe = op.create_table(
        "readiness_probe",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checked_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readiness_probe")),
    )
    op.bulk_insert(probe, [{"id": 1, "checked_at": None}])


def downgrade() -> None:
    op.drop_table("readiness_probe")
    op.drop_index("ix_tasks_status_dispatched_due_at", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("due_at")
