"""Fair sharing and rate limits: each user's share weight, and an index of held tasks by
reason, priority and owner for their releases.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("share_weight", sa.Integer(), nullable=False, server_default="1")
        )
    op.create_index(
        "ix_tasks_held_priority_user_id_created_at",
        "tasks",
        ["held", "priority", "user_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_held_priority_user_id_created_at", table_name="tasks")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("share_weight")
