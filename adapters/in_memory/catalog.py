"""A task-type catalog built from a list of specs, checking only the shape of arguments."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from application.errors import UnknownTaskTypeError
from application.ports import TaskTypeCatalog, TaskTypeSpec
from domain.errors import ValidationError


class StaticTaskTypeCatalog(TaskTypeCatalog):
    """Each spec's `arguments_schema` may list `required` kwargs; that is all it checks."""

    def __init__(self, specs: Iterable[TaskTypeSpec]) -> None:
        self._specs = {spec.name: spec for spec in specs}

    def all(self) -> list[TaskTypeSpec]:
        return list(self._specs.values())

    def get(self, name: str) -> TaskTypeSpec:
        if name not in self._specs:
            submittable = [spec.name for spec in self._specs.values() if not spec.internal]
            raise UnknownTaskTypeError(name, known=submittable)
        return self._specs[name]

    def validate_arguments(
        self, name: str, args: list[Any], kwargs: dict[str, Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        for required in self.get(name).arguments_schema.get("required", []):
            if required not in kwargs:
                raise ValidationError(f"{required} is required", field=f"kwargs.{required}")
        return list(args), dict(kwargs)
