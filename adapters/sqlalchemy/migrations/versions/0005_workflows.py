"""Workflows: tasks joined by dependencies; a task may wait for others of its workflow.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("on_failure", sa.String(30), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("completed_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_workflows"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_workflows_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index(
        "ix_workflows_user_id_status_created_at_id",
        "workflows",
        ["user_id", "status", "created_at", "id"],
    )
    op.create_index(
        "ix_workflows_user_id_created_at_id", "workflows", ["user_id", "created_at", "id"]
    )
    op.create_index("ix_workflows_created_at_id", "workflows", ["created_at", "id"])
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("workflow_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("workflow_key", sa.String(100), nullable=True))
        batch.add_column(sa.Column("depends_on", sa.JSON(), nullable=True))
        batch.create_foreign_key(
            "fk_tasks_workflow_id_workflows",
            "workflows",
            ["workflow_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_tasks_workflow_id", ["workflow_id"])


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_index("ix_tasks_workflow_id")
        batch.drop_constraint("fk_tasks_workflow_id_workflows", type_="foreignkey")
        batch.drop_column("depends_on")
        batch.drop_column("workflow_key")
        batch.drop_column("workflow_id")
    op.drop_table("workflows")
