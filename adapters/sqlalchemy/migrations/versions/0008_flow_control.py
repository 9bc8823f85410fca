"""Flow control: a task's concurrency key and limit, and why a pending task is held back.

Revision ID: 0008
Revises: 0009
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("concurrency_key", sa.String(300), nullable=True))
        batch.add_column(sa.Column("concurrency_limit", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("held", sa.String(20), nullable=True))
    op.create_index(
        "ix_tasks_concurrency_key_status", "tasks", ["concurrency_key", "status"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_concurrency_key_status", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("held")
        batch.drop_column("concurrency_limit")
        batch.drop_column("concurrency_key")
