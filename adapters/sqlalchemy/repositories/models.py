"""The SQL model repository, through Core like the others; a model's name is unique per owner."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Connection, Row, Table, delete, insert, select

from adapters.sqlalchemy.compare_and_set import lost_race, write_changes
from adapters.sqlalchemy.errors import unique_violations_as_already_exists
from adapters.sqlalchemy.keyset import newest_first
from adapters.sqlalchemy.mapping import model_from_row, model_values
from adapters.sqlalchemy.tables import ModelRow
from application.ports import ModelQuery, ModelRepository
from domain.errors import AlreadyExistsError, NotFoundError
from domain.model import Model, ModelId

_MODELS = cast(Table, ModelRow.__table__)


class SqlAlchemyModelRepository(ModelRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._loaded: dict[ModelId, dict[str, Any]] = {}

    def add(self, model: Model) -> None:
        self._check_name_free(model)
        values = model_values(model)
        with unique_violations_as_already_exists("model"):
            self._connection.execute(insert(_MODELS), values)
        self._loaded[model.id] = values

    def get(self, model_id: ModelId) -> Model:
        row = self._connection.execute(select(_MODELS).where(_MODELS.c.id == model_id)).first()
        if row is None:
            raise NotFoundError(f"model {model_id} not found", model_id=str(model_id))
        return self._remember(row)

    def update(self, model: Model) -> None:
        loaded = self._loaded.get(model.id)
        if loaded is None:
            raise lost_race(self._connection, ModelRow, model.id, "model")
        current = model_values(model)
        if current["name"] != loaded["name"]:
            self._check_name_free(model)
        guard = ("status",)
        with unique_violations_as_already_exists("model"):
            written = write_changes(
                self._connection, ModelRow, loaded=loaded, current=current, guard=guard
            )
        if not written:
            raise lost_race(self._connection, ModelRow, model.id, "model")
        self._loaded[model.id] = current

    def delete(self, model: Model) -> None:
        # The foreign key's ON DELETE SET NULL unlinks the model's past tasks.
        self._connection.execute(delete(_MODELS).where(_MODELS.c.id == model.id))
        self._loaded.pop(model.id, None)

    def find(self, query: ModelQuery) -> list[Model]:
        filters = {
            _MODELS.c.user_id: query.owner_id,
            _MODELS.c.status: query.status and query.status.value,
        }
        statement = select(_MODELS).where(
            *(column == value for column, value in filters.items() if value is not None)
        )
        statement = newest_first(
            statement,
            created_at=_MODELS.c.created_at,
            id_=_MODELS.c.id,
            after=query.after,
            limit=query.limit,
        )
        return [self._remember(row) for row in self._connection.execute(statement)]

    def _remember(self, row: Row[Any]) -> Model:
        model = model_from_row(row)
        self._loaded[model.id] = model_values(model)
        return model

    def _check_name_free(self, model: Model) -> None:
        taken = select(_MODELS.c.id).where(
            _MODELS.c.user_id == model.user_id,
            _MODELS.c.name == model.name,
            _MODELS.c.id != model.id,
        )
        if self._connection.scalar(taken) is not None:
            raise AlreadyExistsError(f"you already have a model named {model.name!r}", field="name")
