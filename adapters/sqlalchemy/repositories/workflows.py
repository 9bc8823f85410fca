"""The SQL workflow repository, through Core on the workflows table; the lock on a
workflow's row serialises the releases of its tasks."""

from __future__ import annotations

from dataclasses import replace
from typing import cast

from sqlalchemy import Connection, Executable, Table, bindparam, delete, insert, select, update

from adapters.sqlalchemy.compare_and_set import rows_written
from adapters.sqlalchemy.errors import unique_violations_as_already_exists
from adapters.sqlalchemy.keyset import newest_first
from adapters.sqlalchemy.mapping import workflow_from_row, workflow_values
from adapters.sqlalchemy.tables import TaskRow, WorkflowRow
from application.ports import WorkflowQuery, WorkflowRepository
from domain.errors import NotFoundError
from domain.workflow import Workflow, WorkflowId

_WORKFLOWS = cast(Table, WorkflowRow.__table__)
_COLUMNS = _WORKFLOWS.c
_TASKS = cast(Table, TaskRow.__table__)
_HOLD_BY_WRITING = (
    update(_WORKFLOWS)
    .where(_COLUMNS.id == bindparam("workflow_id"))
    .values(name=_COLUMNS.name)
    .returning(*_COLUMNS)
)
_HOLD_FOR_UPDATE = (
    select(_WORKFLOWS).where(_COLUMNS.id == bindparam("workflow_id")).with_for_update()
)


class SqlAlchemyWorkflowRepository(WorkflowRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        # Held in this transaction (one repository each), as the holding statement read it.
        self._held: dict[WorkflowId, Workflow] = {}

    def add(self, workflow: Workflow) -> None:
        with unique_violations_as_already_exists("workflow"):
            self._connection.execute(insert(_WORKFLOWS), workflow_values(workflow))

    def get(self, workflow_id: WorkflowId) -> Workflow:
        row = self._connection.execute(select(_WORKFLOWS).where(_COLUMNS.id == workflow_id)).first()
        if row is None:
            raise NotFoundError(f"workflow {workflow_id} not found", workflow_id=str(workflow_id))
        return workflow_from_row(row)

    def lock(self, workflow_id: WorkflowId) -> Workflow:
        held = self._held.get(workflow_id)
        if held is None:
            # On SQLite as UserRepository.lock: a write takes its one write lock at once.
            sqlite = self._connection.dialect.name == "sqlite"
            holding: Executable = _HOLD_BY_WRITING if sqlite else _HOLD_FOR_UPDATE
            row = self._connection.execute(holding, {"workflow_id": workflow_id}).first()
            if row is None:
                raise NotFoundError(
                    f"workflow {workflow_id} not found", workflow_id=str(workflow_id)
                )
            held = self._held[workflow_id] = workflow_from_row(row)
        return replace(held)

    def update(self, workflow: Workflow) -> None:
        values = workflow_values(workflow)
        statement = (
            update(_WORKFLOWS)
            .where(_COLUMNS.id == workflow.id)
            .values(status=values["status"], completed_at=values["completed_at"])
        )
        if not rows_written(self._connection, statement):
            raise NotFoundError(f"workflow {workflow.id} not found", workflow_id=str(workflow.id))
        if workflow.id in self._held:
            self._held[workflow.id] = replace(workflow)

    def delete(self, workflow: Workflow) -> None:
        # The tasks' foreign key is ON DELETE CASCADE; deleted here as well, so SQLite
        # without foreign keys enforced behaves the same.
        self._connection.execute(delete(_TASKS).where(_TASKS.c.workflow_id == workflow.id))
        self._connection.execute(delete(_WORKFLOWS).where(_COLUMNS.id == workflow.id))
        self._held.pop(workflow.id, None)

    def find(self, query: WorkflowQuery) -> list[Workflow]:
        statement = select(_WORKFLOWS)
        if query.owner_id is not None:
            statement = statement.where(_COLUMNS.user_id == query.owner_id)
        if query.status is not None:
            statement = statement.where(_COLUMNS.status == query.status.value)
        statement = newest_first(
            statement,
            created_at=_COLUMNS.created_at,
            id_=_COLUMNS.id,
            after=query.after,
            limit=query.limit,
        )
        return [workflow_from_row(row) for row in self._connection.execute(statement)]
